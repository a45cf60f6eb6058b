"""Reachability on firewalls nobody here wrote (issue 20): ufw run for real, Docker, kube-proxy, a CIS
hardening script, Debian's nftables example, firewalld, nft meters and dynamic sets, each from the
public source its file names. Every host pair and listening port drift reports (or leaves out) is
checked against a real TCP connect or UDP echo between the namespaces."""

from __future__ import annotations

import json

import pytest

from tests.lab.conftest import SUMMARY
from tests.lab.corpus import CORPUS, NFT_DNAT, UFW, UFW_ALIKE, Corpus, Tally, table

pytestmark = pytest.mark.lab

@pytest.fixture(scope="module")
def measured(lab) -> list[tuple[str, Tally]]:  # type: ignore[no-untyped-def]
    rows = []
    corpus = Corpus(lab)
    with corpus.listening():
        for rs in CORPUS:
            corpus.load(rs)
            rows.append((rs.name, corpus.judge(corpus.snapshots())))
    SUMMARY.append("reach against the kernel, real-world firewall corpus (tests/lab/firewalls):\n" + table(rows)
                   + "".join(f"\n  {what}: {line}" for what in ("wrong", "unknown") for line in _lines(rows, what)[:12]))
    return rows


def _lines(rows: list[tuple[str, Tally]], what: str) -> list[str]:
    return [f"{name}: {line}" for name, t in rows for line in getattr(t, what)]


def _details(rows: list[tuple[str, Tally]], what: str) -> str:
    return "\n".join(_lines(rows, what)[:40])


def test_drift_is_never_wrong_on_real_world_firewalls(measured):
    assert sum(t.pairs for _, t in measured) >= 500
    wrong = sum(len(t.wrong) for _, t in measured)
    assert wrong == 0, f"{wrong} wrong verdicts\n{table(measured)}\n{_details(measured, 'wrong')}"


def test_drift_decides_all_but_2_percent_of_pairs(measured):
    pairs = sum(t.pairs for _, t in measured)
    unknown = sum(len(t.unknown) for _, t in measured)
    assert all(line.split(": ", 1)[1] for _, t in measured for line in t.unknown), "an unknown without a reason"
    assert unknown < 0.02 * pairs, f"{unknown} of {pairs} undecided\n{table(measured)}\n{_details(measured, 'unknown')}"


def test_compare_of_rule_sets_the_kernel_treats_alike_finds_no_reach_difference(lab, drift, tmp_path):
    corpus = Corpus(lab)
    seen = {}
    with corpus.listening():
        for env, rs in (("ufw", UFW), ("plain", UFW_ALIKE)):
            corpus.load(rs)
            out = tmp_path / env
            out.mkdir()
            for snap in corpus.snapshots(env):
                (out / f"{snap.host}.json").write_text(snap.to_json())
            seen[env] = corpus.probe(corpus.targets())
    assert seen["ufw"] == seen["plain"], "the two rule sets must admit exactly the same flows"
    assert any(seen["ufw"].values()) and not all(seen["ufw"].values())
    code, report, err = drift.json("compare", str(tmp_path / "ufw"), str(tmp_path / "plain"))
    assert code in (0, 1, 3), err
    reach = [f["message"] for f in report["findings"] if f["path"].startswith("topology/reach/")]
    undecided = [f"{u['flow']} in {u['env']}: {u['reason']}" for u in report["undecided"]]
    assert not [e for e in report["errors"] if e["collector"] == "reach"], "undecided is not a collection error"
    SUMMARY.append(f"drift compare ufw vs its kernel-alike hand-written set: {len(reach)} reach findings, "
                   f"{len(undecided)} undecided flows")
    assert (reach, undecided) == ([], []), json.dumps({"findings": reach, "undecided": undecided}, indent=1)


def test_dockers_published_port_is_followed_to_its_container(measured):
    """Issue 24: the connections Docker DNATs to 172.17.0.2:8080 are judged through FORWARD, none left undecided."""
    docker = dict(measured)["Docker: published port, DOCKER-USER, nat DNAT"]
    assert (docker.wrong, docker.unknown) == ([], []), f"{docker.wrong}\n{docker.unknown}"


def test_nftables_dnat_is_followed_to_the_host_its_container_and_a_peer(measured):
    """Issue 24: kube-proxy's nftables NodePorts, firewalld's forward ports (a redirect to a local port, a dnat
    to the container and to mir-db-1), netavark's nft driver (its nat OUTPUT too: over loopback it sends
    127.0.0.1:8080 to the container, which the kernel will not route with route_localnet off), and a
    hand-written set whose forward and input chains refuse some DNAT'd flows: every pair decided, and the
    kernel agrees."""
    rows = dict(measured)
    for rs in NFT_DNAT:
        t = rows[rs.name]
        assert (t.wrong, t.unknown) == ([], []), f"{rs.name}: {t.wrong}\n{t.unknown}"
        assert t.agree >= 100
