"""Co-located roles: staging runs web and worker on one host, prod on separate hosts.

The differ compares each role with that role's hosts on the other side. Where one side shares a
host between roles and the other does not, the shared host also carries its partner role's facts,
and those would read as drift of the role. This module says the layout differs (one finding per
pair of roles), and drops a role's difference when the role's own hosts on the other side lack a
fact that the shared host holds exactly as the partner role's own hosts there do: the layout
explains it, and the partner role's comparison already reports anything real. Pure: snapshots in, findings out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from drift.analysis import differ
from drift.analysis.differ import Env, Group
from drift.model.report import Finding, Kind, Value
from drift.model.snapshot import Snapshot

_BETWEEN = (Kind.only_left, Kind.only_right, Kind.changed)


def _hosts(env: Env, role: str) -> tuple[Snapshot, ...]:
    return tuple(s for s in env.snapshots if role in s.all_roles)


def _shared(env: Env) -> set[frozenset[str]]:
    """Pairs of roles some host of env carries together."""
    out: set[frozenset[str]] = set()
    for s in env.snapshots:
        roles = s.all_roles
        out |= {frozenset((a, b)) for i, a in enumerate(roles) for b in roles[i + 1:]}
    return out


def _roles(env: Env) -> set[str]:
    return {r for s in env.snapshots for r in s.all_roles}


def differing_pairs(left: Env, right: Env) -> list[tuple[str, str, Env, Env]]:
    """(role, partner, side sharing a host, side keeping them apart) for every pair of roles both
    sides have but only one side runs on a shared host."""
    both = _roles(left) & _roles(right)
    lshared, rshared = _shared(left), _shared(right)
    out = []
    for pair in sorted(lshared ^ rshared, key=sorted):
        if pair <= both:
            a, b = sorted(pair)
            shared, apart = (left, right) if pair in lshared else (right, left)
            out.append((a, b, shared, apart))
    return out


def findings(left: Env, right: Env) -> list[Finding]:
    out = []
    for a, b, shared, apart in differing_pairs(left, right):
        together = sorted(s.host for s in shared.snapshots if {a, b} <= set(s.all_roles))
        separate = sorted({s.host for s in apart.snapshots if {a, b} & set(s.all_roles)})
        kind = Kind.only_left if shared is left else Kind.only_right
        values = tuple(Value(shared.name, h, f"{a}+{b}") for h in together) + tuple(
            Value(apart.name, s.host, "+".join(r for r in s.all_roles if r in (a, b)))
            for s in apart.snapshots if s.host in separate)
        message = (f"{shared.name} runs {a} and {b} on one host ({', '.join(together)}); "
                   f"{apart.name} on separate hosts ({', '.join(separate)}): {a} and {b} are each compared "
                   f"with their own role's hosts")
        out.append(Finding("topology", f"topology/layout/{a}+{b}", f"layout {a}+{b}", kind, a, message,
                           tuple(sorted(values, key=lambda v: (v.env != left.name, v.host)))))
    return out


def _keys(found: Iterable[Finding], kinds: tuple[Kind, ...] = _BETWEEN) -> set[tuple[str, str]]:
    return {(f.path, f.subject) for f in found if f.kind in kinds}


def explained(raw: Sequence[Finding], left: Env, right: Env) -> list[Finding]:
    """raw without the role differences the layout explains (see the module's docstring)."""
    drop: set[tuple[str, str, str]] = set()
    for a, b, shared, apart in differing_pairs(left, right):
        for role, partner in ((a, b), (b, a)):
            mine, theirs, partners = _hosts(shared, role), _hosts(apart, role), _hosts(apart, partner)
            if not (mine and theirs and partners):
                continue
            sides = (mine, theirs) if shared is left else (theirs, mine)
            # Only what the shared side holds and the role's own hosts lack can come from the partner
            # role; a changed value is drift of its own (the partner may simply not have the change).
            held = (Kind.only_left if shared is left else Kind.only_right,)
            normal = _keys(differ.compare([Group(role, *sides)], left.name, right.name), held)
            against = (mine, partners) if shared is left else (partners, mine)
            vs_partner = _keys(differ.compare([Group(role, *against)], left.name, right.name))
            # Hosts of the role on the shared side that do not carry the partner role cannot borrow
            # its facts: where they differ from the other side as well, the difference is the role's own.
            alone = tuple(s for s in mine if partner not in s.all_roles)
            own = _keys(differ.compare([Group(role, *((alone, theirs) if shared is left else (theirs, alone)))],
                                       left.name, right.name), held) if alone else set()
            drop |= {(role, path, subject) for path, subject in normal - vs_partner - own}
    return [f for f in raw if f.kind not in _BETWEEN or (f.role, f.path, f.subject) not in drop]
