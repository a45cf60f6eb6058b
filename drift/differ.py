"""The differ: align hosts into groups, then compare each group's facts. Pure: snapshots in, findings out.

Stages: `align` groups hosts by role (or by host, for an audit against a baseline), `compare`
finds outliers inside each side and differences between the sides' consensus. Policy and
rendering come later, elsewhere.

Unknown is not absent: a host that failed, or whose collector for a fact failed, says nothing
about that fact. It joins neither the consensus nor the outliers, and it never makes a fact
look absent; the report lists its error instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from drift import messages
from drift.model import Finding, HostError, Kind
from drift.snapshot import Snapshot


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
    """Line hosts up by role; by host when both sides are the same hosts at two times."""
    def key(s: Snapshot) -> str:
        return s.host if by_host else s.role

    keys = sorted({key(s) for s in left.snapshots} | {key(s) for s in (right.snapshots if right else ())})
    return [Group(k if not by_host else _role_of(k, left, right),
                  tuple(s for s in left.snapshots if key(s) == k),
                  tuple(s for s in (right.snapshots if right else ()) if key(s) == k)) for k in keys]


def _role_of(host: str, *envs: Env | None) -> str:
    return next(s.role for e in envs if e for s in e.snapshots if s.host == host)


def errors(*envs: Env) -> list[HostError]:
    out = [HostError(s.host, collector, message) for e in envs for s in e.snapshots for collector, message in s.errors()]
    return sorted(set(out), key=lambda e: (e.host, e.collector or ""))


class _Known:
    """One host's facts, and which facts it cannot speak for because their collector failed."""

    def __init__(self, snap: Snapshot):
        self.snap = snap
        self.facts = snap.facts()
        self.ok = {name for name, r in snap.collectors.items() if r.status in ("ok", "unsupported")}

    def value(self, path: str, owner: str) -> tuple[bool, Any]:
        """(known, value); value None means known to be absent."""
        if self.snap.failed or owner not in self.ok:
            return False, None
        return True, self.facts.get(path)


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
    left, right = [_Known(s) for s in g.left], [_Known(s) for s in g.right]
    owners: dict[str, str] = {}
    identity: set[str] = set()
    for k in left + right:
        identity |= k.snap.identity_paths()
        for name, r in k.snap.collectors.items():
            if r.status == "ok":
                owners.update(dict.fromkeys(r.facts, name))
    for path in sorted(owners.keys() - identity):
        owner = owners[path]
        lv = [(k.snap, v) for k in left for known, v in [k.value(path, owner)] if known]
        rv = [(k.snap, v) for k in right for known, v in [k.value(path, owner)] if known]
        if not by_host:
            yield from _outliers(path, g.role, left_name, lv)
            yield from _outliers(path, g.role, right_name, rv)
        if lv and rv:
            lc, rc = _consensus(lv, prefer=None), None
            rc = _consensus(rv, prefer=lc)
            lc = _consensus(lv, prefer=rc)
            if lc != rc:
                where = g.left[0].host if by_host and g.left else None
                yield from messages.between(path, g.role, left_name, right_name, lc, rc, lv, rv, where)


def _distinct(values: list[tuple[Snapshot, Any]]) -> list[tuple[Any, list[Snapshot]]]:
    """Values with the hosts holding each. Equality, not hashing: values are small dicts and lists,
    and a role rarely holds more than two distinct values, so this stays linear."""
    reps: list[tuple[Any, list[Snapshot]]] = []
    for snap, v in values:
        for rep, hosts in reps:
            if rep == v:
                hosts.append(snap)
                break
        else:
            reps.append((v, [snap]))
    return sorted(reps, key=lambda r: -len(r[1]))


def _consensus(values: list[tuple[Snapshot, Any]], prefer: Any) -> Any:
    reps = _distinct(values)
    top = [v for v, hosts in reps if len(hosts) == len(reps[0][1])]
    if len(top) == 1 or prefer is None:
        return top[0] if len(top) == 1 else min(top, key=messages.canonical)
    # A tie: side with what the other side has, so a 1:1 split shows as an outlier, not twice.
    return prefer if prefer in top else min(top, key=messages.canonical)


def _outliers(path: str, role: str, env: str, values: list[tuple[Snapshot, Any]]) -> Iterable[Finding]:
    reps = _distinct(values)
    if len(reps) < 2:
        return
    majority = reps[0][0] if len(reps[0][1]) > len(reps[1][1]) else None
    yield messages.outlier(path, role, env, majority, reps)
