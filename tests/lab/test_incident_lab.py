"""Incident mode on real SSH hosts: staged changes at different times on different hosts, snapshots
between, then `drift changes` and `drift explain` must tell the story with the right hosts and times."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.lab import fleet
from tests.lab.lab import in_ns

pytestmark = pytest.mark.lab

RULE = ("INPUT", "-p", "tcp", "--dport", "6379", "-j", "DROP")


def own_store(lab, drift) -> str:
    """The lab's inventory with a store of this test's own: other lab tests change hosts too, and
    `drift changes` must see only what this test did."""
    path = drift.workdir / "drift.toml"
    path.write_text(lab.toml().replace(str(lab.root / "drift.db"), str(drift.workdir / "drift.db")))
    return str(path)


def _libssl3(status: str) -> str:
    m = re.search(r"^Package: libssl3\n(?:(?!\n\n).)*?^Version: ([^\n]+)", status, re.M | re.S)
    assert m
    return m.group(1)


def test_changes_and_explain_after_a_partial_rollout_a_rule_and_a_reverted_edit(lab, drift):
    inv = own_store(lab, drift)
    web1, web2, web3, db1 = (lab.spec(n) for n in ("prd-web-1", "prd-web-2", "prd-web-3", "prd-db-1"))
    conf = lab.host_dir(web1) / "etc" / "acme" / "app.conf"
    statuses = {h.name: lab.host_dir(h) / "status" for h in (web1, web2)}
    originals = {name: p.read_text() for name, p in statuses.items()}
    original_conf = conf.read_text()
    old = _libssl3(originals["prd-web-1"])
    new = old + "+fix2"

    def snapshot() -> None:
        time.sleep(1.1)  # snapshots are stamped to the second: keep each round in its own
        code, doc, err = drift.json("snapshot", "prod", "-i", inv)
        assert code == 0 and len(doc["snapshots"]) == len([h for h in fleet.LIVE if h.env == "prod"]), err

    try:
        code, _, err = drift("baseline", "save", "prod", "-i", inv)  # the approved state, and round 0
        assert code == 0, err
        snapshot()
        in_ns(db1, "iptables", "-A", *RULE)  # t1: a firewall rule on one host
        with conf.open("a") as f:  # t1: a hand edit on prd-web-1 ...
            f.write("debug = true\n")
        snapshot()
        conf.write_text(original_conf)  # t2: ... reverted
        snapshot()
        for name, path in statuses.items():  # t3: the release reaches two of the three web hosts
            path.write_text(originals[name].replace(f"Version: {old}\n", f"Version: {new}\n", 1))
        snapshot()

        code, timeline, err = drift.json("changes", "prod", "--since", "1h", "-i", inv)
        assert code == 0, err
        assert timeline["unobserved"] == []
        events = [(e["subject"], e["kind"], [h["host"] for h in e["hosts"]]) for e in timeline["events"]]
        assert events == [
            ("libssl3", "changed", ["prd-web-1", "prd-web-2"]),  # the partial rollout first
            ("/etc/acme/app.conf", "reverted", ["prd-web-1"]),
            ("iptables filter INPUT", "changed", ["prd-db-1"]),
        ], json.dumps(timeline, indent=1)[:4000]
        rollout, edit, rule = timeline["events"]
        assert rollout["partial"] and rollout["of"] == 3 and (rollout["old"], rollout["new"]) == (old, new)
        assert rollout["severity"] == "high" and not rule["partial"] and rule["of"] == 1
        assert "+ -p tcp -m tcp --dport 6379 -j DROP" in rule["summary"]
        # Each is bounded by the snapshots either side of it (the first recorded by `baseline save`).
        code, hist, _ = drift.json("history", "prod", "--since", "1h", "-i", inv)
        seen = sorted({c["before"] for c in hist["changes"]})
        assert len(seen) == 3  # t1, t2, t3
        assert rule["between"]["before"] == seen[0] and edit["between"]["before"] == seen[1]
        assert rollout["between"]["before"] == seen[2] and rollout["between"]["after"] < seen[2]
        assert edit["between"]["after"] < seen[0] and edit["via"] != edit["old"] == edit["new"]
        code, table, _ = drift("changes", "prod", "--since", "1h", "-i", inv)
        assert "2 of 3 web: prd-web-1" in table and "high partial" in table

        # The audit's incident summary says where and since when the store saw it happen.
        code, out, _ = drift("audit", "prod", "--top", "5", "-i", inv)
        top = out.split("\n\n")[1].splitlines()  # after the header
        assert code == 1 and top[0].startswith("top 5 of ")
        (odd,) = [line for line in top if "prd-web-3 has libssl3" in line]
        assert "— on prd-web-3; since " in odd and seen[2][11:19] in odd  # when the peers moved on

        # The approved release is the new one: prd-web-3 is where the rollout did not land.
        baseline = drift.workdir / "baselines" / "prod.json"
        doc = json.loads(baseline.read_text())
        for name in ("prd-web-1", "prd-web-2", "prd-web-3"):
            doc["hosts"][name]["collectors"]["dpkg"]["facts"]["packages/deb/libssl3"]["version"] = new
        baseline.write_text(json.dumps(doc, indent=2, sort_keys=True))
        code, view, err = drift.json("explain", "prd-web-3", "-i", inv)
        assert code == 0, err
        (d,) = [d for d in view["divergences"] if d["subject"] == "libssl3"]
        assert (d["actual"], d["intended"], d["peers"], d["peers_agree"], d["peers_known"]) == (old, new, new, 2, 2)
        assert d["alone"] and view["alone"] == ["packages/deb/libssl3"]
        assert d["since"]["after"] is None  # unchanged through all this store's history
        assert d["peers_moved"]["before"] == seen[2]
        assert view["actual_source"].startswith("live, collected")
        code, text, _ = drift("why", "prd-web-3", "-i", inv, "--source", "store")
        flat = " ".join(text.split())
        assert f"libssl3 {old}; baseline {new}; peers {new} (2 of 2); {old} since at least" in flat
        assert "that change did not reach prd-web-3" in flat and "store's newest snapshot" in flat
    finally:
        conf.write_text(original_conf)
        for name, path in statuses.items():
            path.write_text(originals[name])
        in_ns(db1, "iptables", "-D", *RULE, check=False)


def test_watch_records_rounds_that_changes_reads(lab, drift):
    inv = own_store(lab, drift)
    code, _, err = drift("watch", "prod:db", "--every", "1s", "--rounds", "2", "-i", inv)
    assert code == 0 and "watch finished after 2 rounds" in err
    code, timeline, _ = drift.json("changes", "prod", "--since", "10m", "-i", inv)
    # Only the db host was watched: the web hosts have no snapshot, so they are unknown, not unchanged.
    assert code == 3 and timeline["unobserved"] == ["prd-web-1", "prd-web-2", "prd-web-3", "prd-worker-1"]
    assert timeline["events"] == []
