from __future__ import annotations

import itertools
import time
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from drift.analysis import history
from drift.model.snapshot import CollectorResult
from tests.drift.factory import snap


def at(i: int, s):
    return replace(s, collected_at=f"2026-11-20T{i:02d}:00:00Z")


def test_a_failed_collector_is_unknown_so_its_facts_are_neither_removed_nor_re_added():
    a = at(1, snap("w", "prod", "web", {"packages/deb/x": {"version": "1"}, "files/etc/a": {"sha256": "a" * 64}}))
    b = at(2, snap("w", "prod", "web", {"files/etc/a": {"sha256": "a" * 64}}, failed=("packages",)))
    c = at(3, snap("w", "prod", "web", {"packages/deb/x": {"version": "2"}, "files/etc/a": {"sha256": "a" * 64}}))
    down = at(4, snap("w", "prod", "web", {}, down=True))
    found = history.changes([a, b, c, down])
    assert [(x.path, x.old, x.new, x.after, x.before) for x in found] == [
        ("packages/deb/x", "1", "2", a.collected_at, c.collected_at)]


def test_unsupported_means_known_absent_and_identity_is_never_a_change():
    a = at(1, snap("w", "prod", "web", {"packages/deb/x": {"version": "1"}, "system/host/name": "w"},
                   identity=("system/host/name",)))
    b = replace(a, collected_at="2026-11-20T02:00:00Z", collectors={
        "packages": CollectorResult("packages", "packages", "unsupported"),
        "system": CollectorResult("system", "system", "ok", None, {"system/host/name": "w2"}, ("system/host/name",))})
    assert [(x.path, x.kind) for x in history.changes([a, b])] == [("packages/deb/x", "removed")]


def test_a_day_of_five_minute_rounds_of_3000_packages_is_cheap():
    facts = {f"packages/deb/p{i}": {"version": "1.0"} for i in range(3000)}
    changed = {**facts, "packages/deb/p7": {"version": "2.0"}}
    base = snap("w", "prod", "web", facts)
    rounds = [replace(base, collected_at=f"2026-11-20T{r // 12:02d}:{r % 12 * 5:02d}:00Z",
                      collectors={"packages": CollectorResult("packages", "packages", "ok", None,
                                                              dict(changed if r >= 200 else facts))})
              for r in range(288)]
    start = time.thread_time()  # CPU time: a busy neighbour on the machine cannot stretch it
    found = history.changes(rounds)
    assert time.thread_time() - start < 2.0
    assert [(x.subject, x.old, x.new) for x in found] == [("p7", "1.0", "2.0")]


VALUES = st.dictionaries(st.sampled_from([f"packages/deb/p{i}" for i in range(6)] + ["files/etc/a", "files/etc/b"]),
                         st.sampled_from(["1", "2", "3"]), max_size=8)


@given(st.lists(VALUES, min_size=1, max_size=8))
def test_changes_are_the_differences_between_consecutive_snapshots(states):
    snaps = [at(i, snap("w", "prod", "web", {p: {"version": v} if p.startswith("packages") else v
                                            for p, v in f.items()})) for i, f in enumerate(states)]
    # a category with no facts has no collector in the factory: give every snapshot both, so absent is known
    snaps = [replace(s, collectors={c: s.collectors.get(c, CollectorResult(c, c, "ok", None, {}))
                                    for c in ("packages", "files")}) for s in snaps]
    want = []
    for before, after in itertools.pairwise(states):
        for p in sorted(before.keys() | after.keys()):
            if before.get(p) != after.get(p):
                want.append((p, before.get(p), after.get(p)))
    assert [(x.path, x.old, x.new) for x in history.changes(snaps)] == want
