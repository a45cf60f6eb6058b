from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from drift.analysis import changes, history
from drift.analysis.policy import Policy, Rule
from drift.model.report import Level
from tests.drift.analysis import incident_fixtures as fx


def timeline(since: str = fx.at(2), until: str = fx.at(7), pol: Policy | None = None, **kw: object):
    found = {h: history.changes(fx.history(h)) for h in fx.HOSTS}
    observed = [h for h in fx.HOSTS if any(since <= s.collected_at <= until for s in fx.history(h))]
    return changes.build("prod", found, fx.HOSTS, observed, pol or Policy(), since, until, fx.at(7), **kw)


def by_subject(t):
    return {e.subject: e for e in t.events}


def test_each_change_is_one_event_ranked_severity_recency_then_partial_first():
    t = timeline()
    assert [(e.subject, e.kind) for e in t.events] == [
        ("/etc/app.conf", "reverted"),  # high, last seen 05:00
        ("iptables filter INPUT", "changed"),  # high, 04:00
        ("libssl3", "changed"),  # high, 03:00, reached 3 of 4: the half-deploy ranks first
        ("openssl", "changed"),  # high, 03:00, 4 of 4
        ("10 packages", "bulk"),  # medium
    ]


def test_a_partial_rollout_names_its_hosts_and_interval():
    e = by_subject(timeline())["libssl3"]
    assert e.host_names == ("web-1", "web-2", "web-3") and e.of == 4 and e.partial
    assert e.reach() == "3 of 4 web"
    assert (e.after, e.before, e.first_seen, e.last_seen) == (fx.at(2), fx.at(3), fx.at(3), fx.at(3))
    assert (e.old, e.new, e.severity) == ("1.0", "1.1", Level.high)
    assert not by_subject(timeline())["openssl"].partial


def test_a_bulk_upgrade_is_one_collapsible_event_with_a_count():
    e = by_subject(timeline())["10 packages"]
    assert e.count == 10 and len(e.members) == 10 and e.host_names == ("db-1",)
    assert {m.subject for m in e.members} == {f"lib{i}" for i in range(10)}
    assert e.summary.startswith("10 changed: ")
    assert (e.after, e.before) == (fx.at(3), fx.at(4))


def test_an_edit_and_its_revert_are_one_event_spanning_both():
    e = by_subject(timeline())["/etc/app.conf"]
    assert e.kind == "reverted" and e.host_names == ("web-1",)
    assert (e.after, e.before) == (fx.at(2), fx.at(5))
    assert e.old == e.new == "sha256 " + "a" * 12 and e.via == "sha256 " + "b" * 12  # files in words (plain.py)
    assert "-> sha256 bbbbbbbbbbbb ->" in e.summary


def test_a_firewall_rule_on_every_web_host_is_one_event_with_the_rule():
    e = by_subject(timeline())["iptables filter INPUT"]
    assert e.host_names == ("web-1", "web-2", "web-3", "web-4") and not e.partial
    assert e.summary == f"+ {fx.NEW_RULE}"


def test_a_host_with_no_snapshot_in_the_window_is_unobserved_never_unchanged():
    t = timeline()
    assert t.unobserved == ("db-2",)
    bulk = by_subject(t)["10 packages"]
    assert bulk.unobserved == ("db-2",) and bulk.reach() == "1 of 2 db (1 unobserved)" and not bulk.partial


def test_the_window_bounds_which_changes_count():
    t = timeline(since=fx.at(4), until=fx.at(4))
    assert sorted(e.subject for e in t.events) == ["10 packages", "iptables filter INPUT"]
    # before 05:00 the edit was not yet reverted: it shows as the edit it was
    t = timeline(since=fx.at(3), until=fx.at(3))
    assert {e.subject: e.kind for e in t.events}["/etc/app.conf"] == "changed"


def test_the_same_change_far_apart_in_time_is_two_events():
    t = timeline(span=dt.timedelta(minutes=30))
    assert len([e for e in t.events if e.subject == "libssl3"]) == 1  # all three seen at 03:00
    found = {h: history.changes(fx.history(h)) for h in ("web-1", "web-2")}
    late = [c for c in found["web-2"]]
    late = [history.Change(**{**c.__dict__, "after": fx.at(8), "before": fx.at(9)}) for c in late]
    t = changes.build("prod", {"web-1": found["web-1"], "web-2": late}, {"web-1": "web", "web-2": "web"},
                      ["web-1", "web-2"], Policy(), fx.at(0), fx.at(10), fx.at(10), dt.timedelta(hours=1))
    assert [e.host_names for e in t.events if e.subject == "libssl3"] == [("web-2",), ("web-1",)]


def test_policy_rules_set_severity_and_ignores_drop_events():
    pol = Policy(ignore=("files/*",), severity=(Rule("firewall/*", Level.critical),))
    t = timeline(pol=pol)
    assert t.events[0].subject == "iptables filter INPUT" and t.events[0].severity is Level.critical
    assert "/etc/app.conf" not in by_subject(t)


def test_below_the_bulk_threshold_changes_stay_separate():
    t = timeline(bulk=11)
    assert len([e for e in t.events if e.subject.startswith("lib") and e.subject != "libssl3"]) == 10


CHANGES = st.lists(st.tuples(st.sampled_from(["web-1", "web-2", "web-3", "db-1"]),
                             st.sampled_from(["packages/deb/a", "packages/deb/libssl3", "files/etc/x",
                                              "firewall/iptables/filter/INPUT"] + [f"packages/deb/p{i}" for i in range(6)]),
                             st.sampled_from(["1", "2"]), st.integers(0, 23)), max_size=40)


@settings(max_examples=60, deadline=None)
@given(CHANGES)
def test_every_change_lands_in_exactly_one_event_and_the_order_holds(raw):
    found: dict[str, list[history.Change]] = {}
    for host, path, new, hour in raw:
        old = "2" if new == "1" else "1"
        c = history.Change(host, "prod", path.split("/")[0], path, path.rsplit("/", 1)[1], "changed", old, new,
                           fx.at(hour), f"2026-11-20T{hour:02d}:30:00Z", f"{old} -> {new}")
        found.setdefault(host, []).append(c)
    roles = {"web-1": "web", "web-2": "web", "web-3": "web", "db-1": "db"}
    t = changes.build("prod", found, roles, list(roles), Policy(), fx.at(0), "2026-11-21T00:00:00Z", fx.at(23))
    counted = sum(2 if e.kind == "reverted" else 1 for ev in t.events for e in (ev.members or (ev,))
                  for _ in e.hosts)
    assert counted == len(raw)
    keys = [(-e.severity, e.last_seen) for e in t.events]
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)
    for e in t.events:
        assert len(e.hosts) <= e.of and len(set(e.host_names)) == len(e.hosts) and e.after <= e.before


def test_recency_is_by_collection_round_so_a_partial_rollout_leads_its_round():
    # one `drift snapshot` stamps its hosts seconds apart: web-3 last, at 03:00:09
    def c(host: str, path: str, sec: int) -> history.Change:
        return history.Change(host, "prod", "packages", path, path.rsplit("/", 1)[1], "changed", "1", "2",
                              fx.at(2), f"2026-11-20T03:00:0{sec}Z", "1 -> 2")
    found = {"web-1": [c("web-1", "packages/deb/libssl3", 1), c("web-1", "packages/deb/openssl", 1)],
             "web-2": [c("web-2", "packages/deb/libssl3", 5), c("web-2", "packages/deb/openssl", 5)],
             "web-3": [c("web-3", "packages/deb/openssl", 9)]}
    roles = {"web-1": "web", "web-2": "web", "web-3": "web"}
    stamps = [(h, f"2026-11-20T0{hh}:00:0{sec}Z") for hh in (2, 3) for h, sec in (("web-1", 1), ("web-2", 5),
                                                                                  ("web-3", 9))]
    assert changes.rounds(stamps)[("web-3", "2026-11-20T03:00:09Z")] == 1
    args = ("prod", found, roles, list(roles), Policy(), fx.at(0), fx.at(9), fx.at(9))
    assert [e.subject for e in changes.build(*args, snapshots=stamps).events] == ["libssl3", "openssl"]
    # without the rounds, the stamp alone would put the complete rollout first
    assert [e.subject for e in changes.build(*args).events] == ["openssl", "libssl3"]
