from __future__ import annotations

from dataclasses import replace

from drift.analysis import explain
from drift.analysis.policy import Policy
from drift.model.incident import Since
from drift.model.snapshot import CollectorResult
from tests.drift.analysis import incident_fixtures as fx

WEB = ("web-1", "web-2", "web-3", "web-4")


def runs(host: str, category: str):
    """Store.runs() and the blobs it names, built from the fixture's history."""
    rows, blobs = [], {}
    for s in fx.history(host):
        for name, r in s.collectors.items():
            if r.category == category:
                rows.append((s.collected_at, name, r.status, f"{host}@{s.collected_at}/{name}"))
                blobs[f"{host}@{s.collected_at}/{name}"] = r.facts
    return rows, blobs


def view(host: str = "web-4", intended=None, peers=None):
    now = {h: fx.history(h)[-1] for h in WEB}
    mine = now[host]
    others = peers if peers is not None else [now[h] for h in WEB if h != host]
    x = explain.explain(mine, others, intended, Policy(), "the store", "baselines/prod.json" if intended else None)
    since, moved = {}, {}
    for d in x.divergences:
        own, blobs = runs(host, d.category)
        since[d.path] = explain.held(d.path, own, blobs)
        peer = [runs(p, d.category) for p in d.peer_hosts]
        moved[d.path] = explain.moved(d.path, d.peers_value, [r for r, _ in peer],
                                      {k: v for _, b in peer for k, v in b.items()})
    return explain.with_history(x, since, moved)


def test_the_host_the_rollout_missed_shows_baseline_actual_peers_and_since_when():
    approved = replace(fx.history("web-1")[-1], host="web-4")  # the approved state has the new release
    x = view(intended=approved)
    (d,) = x.divergences
    assert (d.subject, d.actual, d.intended, d.peers, d.peers_agree, d.peers_known) == \
        ("libssl3", "1.0", "1.1", "1.1", 3, 3)
    assert d.alone
    assert d.since == Since(None, fx.at(2))  # held since before the store's oldest snapshot of it
    assert d.peers_moved == Since(fx.at(2), fx.at(3))  # the deploy that did not reach it


def test_a_host_that_changed_has_since_from_its_own_history():
    x = view("web-1", intended=fx.history("web-4")[0])
    by = {d.subject: d for d in x.divergences}
    d = by["libssl3"]
    assert (d.actual, d.intended, d.peers, d.peers_agree) == ("1.1", "1.0", "1.1", 2)
    assert not d.alone and d.since == Since(fx.at(2), fx.at(3))
    # the firewall and openssl differ from the (old) baseline only: still shown, two of three disagree
    assert {"iptables filter INPUT", "openssl"} <= set(by)


def test_without_a_baseline_only_peer_disagreements_show():
    x = view("web-2")
    assert x.divergences == () and x.baseline is None


def test_peers_that_disagree_among_themselves_have_no_consensus():
    peers = [fx.history(h)[-1] for h in ("web-1", "web-4")]
    x = view("web-2", peers=peers)
    (d,) = x.divergences
    assert d.peers is None and d.peers_split in ("1.1 on web-1; 1.0 on web-4", "1.0 on web-4; 1.1 on web-1")


def test_a_failed_collector_is_unknown_not_absent():
    mine = fx.history("web-4")[-1]
    broken = replace(mine, collectors={**mine.collectors,
                                       "packages": CollectorResult("packages", "packages", "failed", "dpkg: denied")})
    peers = [fx.history(h)[-1] for h in ("web-1", "web-2", "web-3")]
    x = explain.explain(broken, peers, None, Policy(), "live", None)
    assert x.divergences == ()
    assert x.unknown == ("web-4 packages: dpkg: denied",)
    # and a peer with a failed collector is left out of the count, not counted as "absent"
    x = explain.explain(fx.history("web-4")[-1], [*peers[:2], replace(peers[2], status="failed", error="down")],
                        None, Policy(), "live", None)
    assert [(d.subject, d.peers_agree, d.peers_known) for d in x.divergences] == [("libssl3", 2, 2)]


def test_latest_is_the_latest_change_among_the_hosts():
    found = [explain.last_change("packages/deb/libssl3", *runs(h, "packages")) for h in WEB]
    assert explain.latest(found) == Since(fx.at(2), fx.at(3))
    assert explain.last_change("system/os/id", *runs("web-1", "system")) is None


def test_a_failed_collector_between_is_no_evidence():
    rows = [("t1", "dpkg", "ok", "a"), ("t2", "dpkg", "failed", None), ("t3", "dpkg", "ok", "b")]
    blobs = {"a": {"p": 1}, "b": {"p": 2}}
    assert explain.last_change("p", rows, blobs) == (Since("t1", "t3"), 2)
    assert explain.held("p", rows[:1], blobs) == Since(None, "t1")
    assert explain.held("p", [], blobs) is None


def test_a_host_that_could_not_be_collected_is_unknown_not_in_agreement():
    from drift.reports.explain import render_text

    down = replace(fx.history("web-4")[-1], status="failed", error="connect timed out", collectors={})
    x = explain.explain(down, [fx.history("web-1")[-1]], None, Policy(), "live", None)
    assert not x.actual_known and x.unknown == ("web-4: connect timed out",)
    text = render_text(x)
    assert "web-4 could not be collected: its actual state is unknown" in text and "agrees" not in text
