"""The differ: align hosts into groups, then compare each group's facts. Pure: snapshots in, findings out.

Stages: `align` groups hosts by role (or by host, for an audit against a baseline), `compare`
finds outliers inside each side and differences between the sides' consensus. Policy and
rendering come later, elsewhere.

Unknown is not absent: a host that failed, or whose collector for a fact failed, says nothing
about that fact. It joins neither the consensus nor the outliers, and it never makes a fact
look absent; the report lists its error instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from drift.analysis import content, messages
from drift.model.facts import Base, FactTable, canonical
from drift.model.report import Finding, HostError, Kind
from drift.model.snapshot import Snapshot


@dataclass(frozen=True)
class Env:
    name: str
    snapshots: tuple[Snapshot, ...]


@dataclass(frozen=True)
class Group:
    role: str
    left: tuple[Snapshot, ...]
    right: tuple[Snapshot, ...]


def align(left: Env, right: Env | None, by_host: bool = False) -> list[Group]:
    """Line hosts up by role; by host when both sides are the same hosts at two times.

    A host with several roles (`roles = ["web", "worker"]`) joins each of its roles' groups, so
    each role is compared with that role's hosts on the other side however hosts are shared."""
    sides = (left.snapshots, right.snapshots if right else ())
    members: dict[str, tuple[list[Snapshot], list[Snapshot]]] = {}
    for i, snaps in enumerate(sides):
        for s in snaps:
            for k in ((s.host,) if by_host else s.all_roles):
                members.setdefault(k, ([], []))[i].append(s)
    # By host, a group takes the role its host has on the left (the baseline), else on the right.
    role = {s.host: s.role for snaps in reversed(sides) for s in snaps} if by_host else {}
    return [Group(role[k] if by_host else k, tuple(members[k][0]), tuple(members[k][1])) for k in sorted(members)]


def errors(*envs: Env) -> list[HostError]:
    out = [HostError(s.host, collector, message)
           for e in envs for s in e.snapshots for collector, message in s.errors()]
    return sorted(set(out), key=lambda e: (e.host, e.collector or ""))


Segment = tuple[list[list[Snapshot]], frozenset[int]]  # host lists laid end to end, minus these ids


class Members(Sequence[Snapshot]):
    """The hosts that share one value, as segments of class member lists. A fleet's majority is
    most of its hosts and the same lists for every path, so it is shared and counted, never copied
    per path (which would cost hosts x paths)."""

    __slots__ = ("_len", "segments")

    def __init__(self, segments: list[Segment], count: int):
        self.segments = segments
        self._len = count

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[Snapshot]:
        for parts, skip in self.segments:
            for part in parts:
                if skip:
                    yield from (s for s in part if id(s) not in skip)
                else:
                    yield from part

    def __getitem__(self, i: int) -> Snapshot:  # type: ignore[override]
        return next(itertools.islice(iter(self), i, None))


Class = tuple[FactTable, list[Snapshot]]  # (one collector's facts, the hosts that have exactly those facts)
Rep = tuple[Any, Members]  # (one value of a path, the hosts that have it)
_EMPTY = FactTable(Base({}))
_MISSING: Any = object()


def _classes(snaps: tuple[Snapshot, ...], owner: str) -> list[Class]:
    """Hosts grouped by identical facts of one collector, by the digest each table carries: linear
    in hosts. A host whose collector failed (or that failed as a whole) is unknown and joins no class."""
    classes: dict[str, Class] = {}
    for s in snaps:
        r = s.collectors.get(owner)
        if s.failed or r is None or r.status not in ("ok", "unsupported"):
            continue
        facts = FactTable.of(r.facts) if r.status == "ok" else _EMPTY
        known = classes.get(facts.digest)
        if known is None:
            classes[facts.digest] = (facts, [s])
        else:
            known[1].append(s)
    return list(classes.values())


class _Side:
    """One side's classes, indexed so that the value of a path across all hosts costs the classes
    whose delta holds that path, not all classes."""

    def __init__(self, classes: list[Class], snaps: tuple[Snapshot, ...]):
        self.classes = classes
        self.order = {id(s): i for i, s in enumerate(snaps)}
        by_base: dict[int, tuple[Base, list[list[Snapshot]]]] = {}
        self.touched: dict[str, list[Class]] = {}
        for cls in classes:
            table = cls[0]
            by_base.setdefault(id(table.base), (table.base, []))[1].append(cls[1])
            for path in table.changed_paths():
                self.touched.setdefault(path, []).append(cls)
        # Per base: its data, every host list of its classes (one list, shared by every path), their count.
        self.bases = {key: (base, parts, sum(map(len, parts))) for key, (base, parts) in by_base.items()}
        # A store keeps a base per batch of hosts, so bases grow with the fleet; on a path where they all
        # agree, their hosts are one group, and a value per base is worked out only where they differ.
        self.split = _disagreeing([base.data for base, _, _ in self.bases.values()])
        self.all_parts = [part for _, parts, _ in self.bases.values() for part in parts]
        self.all_count = sum(count for _, _, count in self.bases.values())

    def distinct(self, path: str) -> list[Rep]:
        """The values of `path` across classes, with the hosts holding each, most common first.
        None is a value here: known to be absent."""
        reps: dict[Any, tuple[Any, list[Segment], list[int]]] = {}

        def add(value: Any, segment: Segment, count: int) -> None:
            value, segments, counts = reps.setdefault(_key(value), (value, [], []))
            segments.append(segment)
            counts.append(count)

        none: frozenset[int] = frozenset()
        touched = self.touched.get(path, [])
        skip: dict[int, list[list[Snapshot]]] = {}
        for table, hosts in touched:
            add(table.get(path), ([hosts], none), len(hosts))
            skip.setdefault(id(table.base), []).append(hosts)
        if path not in self.split and self.bases:
            base = next(iter(self.bases.values()))[0]
            ids = frozenset(id(s) for gone in skip.values() for hosts in gone for s in hosts)
            if len(ids) < self.all_count:
                add(base.data.get(path), (self.all_parts, ids), self.all_count - len(ids))
            return self._sorted(reps)
        for key, (base, parts, count) in self.bases.items():
            gone = skip.get(key)
            if gone is None:
                add(base.data.get(path), (parts, none), count)
                continue
            ids = frozenset(id(s) for hosts in gone for s in hosts)
            if len(ids) < count:
                add(base.data.get(path), (parts, ids), count - len(ids))
        return self._sorted(reps)

    def _sorted(self, reps: dict[Any, tuple[Any, list[Segment], list[int]]]) -> list[Rep]:
        out = [(value, Members(segments, sum(counts))) for value, segments, counts in reps.values()]
        # Most common first; a tie in the hosts' own order, so messages read the same run after run.
        return sorted(out, key=lambda r: (-len(r[1]), min(self._first(seg) for seg in r[1].segments)))

    def _first(self, segment: Segment) -> int:
        parts, skip = segment
        return next((self.order[id(s)] for part in parts for s in part if id(s) not in skip), len(self.order))


def _key(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, float, bool)) else canonical(value)


def _disagreeing(datas: list[dict[str, Any]]) -> set[str]:
    """The paths on which these base tables do not all hold the same value (absent is a value)."""
    out: set[str] = set()
    if len(datas) < 2:
        return out
    first = datas[0]
    for data in datas[1:]:
        if data is first:
            continue
        out.update(k for k, v in data.items() if first.get(k, _MISSING) != v)
        out.update(first.keys() - data.keys())
    return out


def _paths(tables: list[FactTable]) -> set[str]:
    """Every path on which two of these tables may disagree: their deltas, and where their bases differ."""
    out: set[str] = set()
    for t in tables:
        out.update(t.changed_paths())
    bases = list({id(t.base): t.base.data for t in tables}.values())
    if len(bases) > 1:
        first, rest = bases[0], bases[1:]
        for path in set().union(*bases):
            v = first.get(path, _MISSING)
            if any(b.get(path, _MISSING) != v for b in rest):
                out.add(path)
    return out


def compare(groups: Sequence[Group], left_name: str, right_name: str, by_host: bool = False) -> list[Finding]:
    findings: list[Finding] = []
    for g in groups:
        if not by_host and g.left and not g.right and right_name:
            findings.append(messages.role_only(g.role, left_name, right_name, g.left, Kind.only_left))
        elif not by_host and g.right and not g.left:
            findings.append(messages.role_only(g.role, right_name, left_name, g.right, Kind.only_right))
        elif by_host and bool(g.left) != bool(g.right):
            only = g.left or g.right
            findings.append(messages.host_only(only[0], left_name if g.left else right_name,
                                               Kind.only_left if g.left else Kind.only_right))
            continue
        findings.extend(_compare_group(g, left_name, right_name, by_host))
    return findings


def _compare_group(g: Group, left_name: str, right_name: str, by_host: bool) -> Iterable[Finding]:
    identity: set[str] = set()
    owners: set[str] = set()
    seen: set[tuple[str, ...]] = set()
    for snap in g.left + g.right:
        for name, r in snap.collectors.items():
            if r.status == "ok":
                owners.add(name)
            if r.identity and r.identity not in seen:  # hosts mostly share theirs: a set lookup each
                seen.add(r.identity)
                identity.update(r.identity)
    for owner in sorted(owners):
        lcl, rcl = _classes(g.left, owner), _classes(g.right, owner)
        if len(lcl) == 1 and len(rcl) == 1 and lcl[0][0] == rcl[0][0]:
            continue  # the common case: every known host agrees on everything this collector saw
        paths = _paths([facts for facts, _ in lcl + rcl]) - identity
        lside, rside = _Side(lcl, g.left), _Side(rcl, g.right)
        for path in sorted(paths):
            lreps, rreps = lside.distinct(path), rside.distinct(path)
            if len(lreps) == 1 and len(rreps) == 1 and lreps[0][0] == rreps[0][0]:
                continue
            if not by_host:
                yield from _outliers(path, g.role, left_name, lreps)
                yield from _outliers(path, g.role, right_name, rreps)
            if lreps and rreps:
                lc = _consensus(lreps, prefer=None)
                rc = _consensus(rreps, prefer=lc)
                lc = _consensus(lreps, prefer=rc)
                if lc != rc:
                    where = g.left[0].host if by_host and g.left else None
                    yield from _speaker(path).between(path, g.role, left_name, right_name, lc, rc,
                                                _flat(lreps), _flat(rreps), where)


def _flat(reps: list[Rep]) -> list[tuple[Snapshot, Any]]:
    return sorted(((s, v) for v, hosts in reps for s in hosts), key=lambda sv: sv[0].host)


def _consensus(reps: list[Rep], prefer: Any) -> Any:
    top = [v for v, hosts in reps if len(hosts) == len(reps[0][1])]
    if len(top) == 1 or prefer is None:
        return top[0] if len(top) == 1 else min(top, key=messages.canonical)
    # A tie: side with what the other side has, so a 1:1 split shows as an outlier, not twice.
    return prefer if prefer in top else min(top, key=messages.canonical)


def _outliers(path: str, role: str, env: str, reps: list[Rep]) -> Iterable[Finding]:
    if len(reps) < 2:
        return
    majority = reps[0][0] if len(reps[0][1]) > len(reps[1][1]) else None
    yield _speaker(path).outlier(path, role, env, majority, reps)


def _speaker(path: str) -> Any:
    """Who words a finding: file content (keys, lines) has its own module."""
    return content if content.owns(path) else messages
