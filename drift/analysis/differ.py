"""The differ: align hosts into groups, then compare each group's facts. Pure: snapshots in, findings out.

Stages: `align` groups hosts by role (or by host, for an audit against a baseline), `compare`
finds outliers inside each side and differences between the sides' consensus. Policy and
rendering come later, elsewhere.

Unknown is not absent: a host that failed, or whose collector for a fact failed, says nothing
about that fact. It joins neither the consensus nor the outliers, and it never makes a fact
look absent; the report lists its error instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from drift.analysis import content, messages
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
    return [Group(k if not by_host else _role_of(k, left, right), tuple(members[k][0]), tuple(members[k][1]))
            for k in sorted(members)]


def _role_of(host: str, *envs: Env | None) -> str:
    return next(s.role for e in envs if e for s in e.snapshots if s.host == host)


def errors(*envs: Env) -> list[HostError]:
    out = [HostError(s.host, collector, message)
           for e in envs for s in e.snapshots for collector, message in s.errors()]
    return sorted(set(out), key=lambda e: (e.host, e.collector or ""))


Class = tuple[Any, list[Snapshot]]  # (one collector's facts, the hosts that have exactly those facts)


def _classes(snaps: tuple[Snapshot, ...], owner: str) -> list[Class]:
    """Hosts grouped by identical facts of one collector. Fleets are mostly alike, so a role of
    100 hosts usually makes one or two classes, and per-fact work is per class, not per host.
    A host whose collector failed (or that failed as a whole) is unknown and joins no class."""
    classes: list[Class] = []
    for s in snaps:
        r = s.collectors.get(owner)
        if s.failed or r is None or r.status not in ("ok", "unsupported"):
            continue
        facts = r.facts if r.status == "ok" else {}
        for known, members in classes:
            if known is facts or known == facts:
                members.append(s)
                break
        else:
            classes.append((facts, [s]))
    return classes


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
    for snap in g.left + g.right:
        identity |= snap.identity_paths()
        owners |= {name for name, r in snap.collectors.items() if r.status == "ok"}
    for owner in sorted(owners):
        lcl, rcl = _classes(g.left, owner), _classes(g.right, owner)
        if len(lcl) == 1 and len(rcl) == 1 and lcl[0][0] == rcl[0][0]:
            continue  # the common case: every known host agrees on everything this collector saw
        paths = set().union(*(facts.keys() for facts, _ in lcl + rcl)) - identity
        for path in sorted(paths):
            lreps, rreps = _distinct(lcl, path), _distinct(rcl, path)
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


def _flat(reps: list[Class]) -> list[tuple[Snapshot, Any]]:
    return sorted(((s, v) for v, hosts in reps for s in hosts), key=lambda sv: sv[0].host)


def _distinct(classes: list[Class], path: str) -> list[Class]:
    """The values of `path` across classes, with the hosts holding each, most common first.
    None is a value here: known to be absent."""
    reps: list[Class] = []
    for facts, members in classes:
        v = facts.get(path)
        for rep, hosts in reps:
            if rep == v:
                hosts.extend(members)
                break
        else:
            reps.append((v, list(members)))
    return sorted(reps, key=lambda r: -len(r[1]))


def _consensus(reps: list[tuple[Any, list[Snapshot]]], prefer: Any) -> Any:
    top = [v for v, hosts in reps if len(hosts) == len(reps[0][1])]
    if len(top) == 1 or prefer is None:
        return top[0] if len(top) == 1 else min(top, key=messages.canonical)
    # A tie: side with what the other side has, so a 1:1 split shows as an outlier, not twice.
    return prefer if prefer in top else min(top, key=messages.canonical)


def _outliers(path: str, role: str, env: str, reps: list[tuple[Any, list[Snapshot]]]) -> Iterable[Finding]:
    if len(reps) < 2:
        return
    majority = reps[0][0] if len(reps[0][1]) > len(reps[1][1]) else None
    yield _speaker(path).outlier(path, role, env, majority, reps)


def _speaker(path: str) -> Any:
    """Who words a finding: file content (keys, lines) has its own module."""
    return content if content.owns(path) else messages
