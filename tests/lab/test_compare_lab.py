"""compare, audit, baseline and history against real SSH hosts with injected drift."""

from __future__ import annotations

import json

import pytest

from tests.lab import fleet
from tests.lab.lab import in_ns

pytestmark = pytest.mark.lab


def test_compare_finds_every_injected_drift_with_kind_and_hosts(lab, drift):
    code, report, err = drift.json("compare", "staging", "prod", "-i", str(lab.inventory))
    assert code == 1, err
    found = {}
    for f in report["findings"]:
        for role in f["roles"]:  # one finding per difference, listing every role it was found in
            found.setdefault((f["path"], f["kind"], role), []).append(f)
    for want in fleet.EXPECTED:
        path = want.path.replace("{lab}", str(lab.root))
        kind = "only_right" if want.category == "firewall" else want.kind  # a chain's rules are reported one by one
        hits = found.get((path, kind, want.role))
        assert hits, f"missing {want}: found {sorted(found)}"
        if want.kind == "outlier":
            (hit,) = hits
            assert want.hosts[0] in hit["message"]
            assert {v["host"] for v in hit["values"]} >= set(want.hosts)
        else:
            hosts = {v["host"] for h in hits for v in h["values"]}
            assert any(h.startswith("prd-") for h in hosts) and any(h.startswith("stg-") for h in hosts)
    roles = sum(len(f["roles"]) for f in report["findings"])
    assert roles == len(fleet.EXPECTED), json.dumps(report["findings"], indent=1)[:3000]
    libssl = found[("packages/deb/libssl3", "changed", "web")][0]
    assert libssl["roles"] == ["db", "web", "worker"]  # reach: the worker role has prod's libssl3 too
    assert libssl is found[("packages/deb/libssl3", "changed", "db")][0]
    port = [f for f in report["findings"] if f["topic"] == "tcp port 9187"]
    paths = sorted(f["path"].split("/")[1] for f in port)  # iptables and nft rules, the listener, the reach
    assert paths == ["iptables", "listen", "nft", "reach"], paths
    route = found[("topology/routes/v4/10.99.0.0/16", "only_right", "web")][0]
    assert "via 10.213.2.1 dev" in route["message"]  # the real gateway, not `eth0 net+1`
    assert libssl["message"].startswith("libssl3 is newer in prod (3.0.19-1~deb12u2+lab1) than in staging")
    assert report["summary"]["exit_code"] == 1 and report["errors"] == []


def test_two_environments_built_alike_compare_clean(lab, drift):
    code, report, err = drift.json("compare", "staging", "mirror", "-i", str(lab.inventory))
    assert (code, report["findings"], report["errors"]) == (0, [], []), err
    code, out, _ = drift("compare", "staging", "mirror", "-i", str(lab.inventory))
    assert code == 0 and "no drift" in out


def test_audit_reports_the_in_env_outliers(lab, drift):
    code, report, _ = drift.json("audit", "prod", "-i", str(lab.inventory))
    assert code == 1
    outliers = {(f["path"], f["kind"]) for f in report["findings"]}
    assert outliers == {("packages/deb/tzdata", "outlier"), ("files/etc/acme/app.conf", "outlier"),
                        ("files/etc/acme/settings.ini//[cache] max_entries", "outlier")}


def test_a_dead_host_makes_compare_exit_3_when_nothing_blocks(lab, drift, tmp_path):
    code, report, _ = drift.json("compare", "staging:web", "broken", "-i", str(lab.inventory), "--timeout", "3",
                                 "--category", "system", "--fail-on", "critical")
    assert code == 3
    assert {e["host"] for e in report["errors"]} == {"broken-down", "broken-silent"}
    # Unknown is not absent: no "only in staging" findings for what the dead hosts could not say.
    assert not [f for f in report["findings"] if f["kind"] == "only_left"]


def test_audit_sees_a_hand_edit_and_a_new_rule_then_clean_after_revert(lab, drift, tmp_path):
    baseline = tmp_path / "prod.json"
    code, _, err = drift("baseline", "save", "prod", "-i", str(lab.inventory), "-o", str(baseline))
    assert code == 0, err
    host = lab.spec("prd-web-1")
    conf = lab.host_dir(host) / "etc" / "acme" / "app.conf"
    original = conf.read_text()
    try:
        with conf.open("a") as f:  # in place: the host sees it through its bind mount
            f.write("debug = true\n")
        in_ns(host, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "6379", "-j", "DROP")
        code, report, _ = drift.json("audit", "prod", "--baseline", str(baseline), "-i", str(lab.inventory))
        assert code == 1
        mine = [f for f in report["findings"] if f["kind"] != "outlier"]
        assert {(f["path"], f["kind"]) for f in mine} == {("files/etc/acme/app.conf", "changed"),
                                                           ("firewall/iptables/filter/INPUT", "only_right")}
        assert all(f["values"][-1]["host"] == "prd-web-1" for f in mine)
        code, history, _ = drift.json("history", "prod", "--since", "1h", "--host", "prd-web-1",
                                      "-i", str(lab.inventory))
        assert code == 0
        changed = {(c["category"], c["subject"]) for c in history["changes"]}
        assert {("files", "/etc/acme/app.conf"), ("firewall", "iptables filter INPUT")} <= changed
        assert "+ -p tcp -m tcp --dport 6379 -j DROP" in next(c["summary"] for c in history["changes"]
                                                              if c["category"] == "firewall")
    finally:
        conf.write_text(original)
        in_ns(host, "iptables", "-D", "INPUT", "-p", "tcp", "--dport", "6379", "-j", "DROP")
    code, report, _ = drift.json("audit", "prod", "--baseline", str(baseline), "-i", str(lab.inventory))
    assert [f for f in report["findings"] if f["kind"] != "outlier"] == []


def test_two_baselines_of_an_unchanged_environment_differ_only_in_timestamps(lab, drift, tmp_path):
    texts = []
    for name in ("a.json", "b.json"):
        code, _, err = drift("baseline", "save", "staging", "-i", str(lab.inventory), "-o", str(tmp_path / name))
        assert code == 0, err
        texts.append([line for line in (tmp_path / name).read_text().splitlines()
                      if '"collected_at"' not in line and '"saved_at"' not in line])
    assert texts[0] == texts[1]
