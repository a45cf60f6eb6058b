"""Outliers from value classes: odd_hosts is exactly the minority, and a finding's cost does not
grow with the size of the majority it is measured against."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from drift.analysis import content, messages
from drift.analysis.classes import PEERS_LISTED
from drift.analysis.differ import Env, align, compare
from drift.model.report import Kind
from drift.model.snapshot import Snapshot
from tests.drift.factory import snap

PATHS = ("packages/deb/libssl3", "files/etc/app.ini//[cache] ttl", "system/sysctl/net.core.somaxconn")


# Every host has every collector, so a missing fact is absent, not unknown.
FILLER = {"system/sysctl/x": "1", "packages/deb/base": {"version": "1"}, "files/etc/app.ini//[main] on": "yes"}


def _fact(path: str, v: str) -> object:
    return {"version": v} if path.startswith("packages/") else v


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(PATHS), st.lists(st.sampled_from([None, "1", "2", "3"]), min_size=2, max_size=12))
def test_odd_hosts_are_exactly_the_hosts_off_the_majority(path, held):
    snaps = tuple(snap(f"h{i:02d}", "prod", "web", {**FILLER, **({path: _fact(path, v)} if v else {})})
                  for i, v in enumerate(held))
    found = [f for f in compare(align(Env("prod", snaps), None), "prod", "") if f.path == path]
    counts = {v: held.count(v) for v in set(held)}
    top = sorted(counts.values(), reverse=True)
    if len(counts) == 1:
        assert not found
        return
    (f,) = found
    assert f.kind is Kind.outlier
    if top[0] > top[1]:
        majority = max(counts, key=lambda v: counts[v])
        assert f.odd == tuple(f"h{i:02d}" for i, v in enumerate(held) if v != majority)
        assert set(f.odd) <= {v.host for v in f.values}
    else:  # no majority: every host is as odd as any other
        assert f.odd == tuple(f"h{i:02d}" for i in range(len(held)))


def test_a_package_on_one_host_of_many_is_that_host_only():
    snaps = tuple(snap(f"h{i:03d}", "prod", "web", {"packages/deb/a": {"version": "1"},
                                                    **({"packages/deb/tool": {"version": "9"}} if i == 7 else {})})
                  for i in range(PEERS_LISTED + 30))
    (f,) = compare(align(Env("prod", snaps), None), "prod", "")
    assert f.odd == ("h007",)
    assert [(v.host, v.value) for v in f.values] == [("h007", "9")]  # past 50 peers: only the odd host
    assert f.message == f"h007 has tool 9; its {PEERS_LISTED + 29} web peers in prod do not"


class _Majority(Sequence[Snapshot]):
    """A million hosts that may be counted and sampled (the first), never walked."""

    def __init__(self, first: Snapshot):
        self.first = first

    def __len__(self) -> int:
        return 1_000_000

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        assert i == 0, "a finding walked the majority"
        return self.first

    def __iter__(self) -> Iterator[Snapshot]:
        raise AssertionError("a finding walked the majority")


def test_a_finding_costs_its_odd_hosts_not_its_peers():
    peer = snap("peer", "prod", "web", {})
    odd = [snap(f"odd-{i}", "prod", "web", {}) for i in range(12)]
    for speaker, path, a, b in ((messages, "packages/deb/libssl3", {"version": "1"}, {"version": "2"}),
                                (messages, "packages/deb/tool", None, {"version": "2"}),
                                (content, "files/etc/app.ini//[cache] ttl", "300", "30")):
        f = speaker.outlier(path, "web", "prod", a, [(a, _Majority(peer)), (b, odd[:10]), (None if b else a, odd[10:])])
        assert f.odd == tuple(sorted(s.host for s in odd))
        assert {v.host for v in f.values} == set(f.odd)
        assert "1,000,000 web peers" in f.message and "and 2 other hosts" in f.message


def test_a_message_names_ten_hosts_then_counts():
    from drift.analysis.classes import names
    assert names(["a"]) == "a" and names(["a", "b"]) == "a and b" and names(["a", "b", "c"]) == "a, b and c"
    many = [f"h{i:02d}" for i in range(25)]
    assert names(many) == ", ".join(many[:10]) + " and 15 other hosts"
