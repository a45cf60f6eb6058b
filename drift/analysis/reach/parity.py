"""Reachability parity: the flows whose verdict differs between two environments, in plain words.

"worker → db:5432 admitted in staging, refused in prod by prd-db-1 filter INPUT policy DROP".
A port reachable in one environment that nothing listens on in the other is an exposure, said
once per destination role and port. A flow drift cannot judge is undecided, with the
reason: listed apart from collection errors, and it leaves parity unproven (exit 3) unless both
sides are undecided by the same rules, never a silent "same".
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from drift.analysis.reach.endpoint import listeners
from drift.analysis.reach.matrix import Cell, Pair, build
from drift.core import forked
from drift.model.report import Finding, Kind, Undecided, Value
from drift.model.snapshot import Snapshot

FIREWALLS = ("iptables", "nft")
PARALLEL_FROM = 100  # hosts on the right side from which its matrix is built beside the left's
_CELLS = msgspec.json.Decoder(list[Cell])


def relevant(*sides: Sequence[Snapshot]) -> bool:
    """Reachability is judged only where firewall rules were asked for on some host."""
    return any(name in s.collectors for snaps in sides for s in snaps for name in FIREWALLS)


def path(c: Cell) -> str:
    return f"topology/reach/{c.src_role}/{c.dst_role}/{c.proto}/{c.port}"


def _values(env: str, c: Cell) -> list[Value]:
    """One value per destination host (linear in hosts, not in host pairs): its refused pair if any."""
    by_dst: dict[str, list[Pair]] = {}
    for p in c.pairs:
        by_dst.setdefault(p.dst, []).append(p)
    out = []
    for dst, pairs in sorted(by_dst.items()):
        p = next((x for x in pairs if x.verdict == "refused"), pairs[0])
        text = f"{p.src} → {dst} ({p.via}): {p.verdict}" + (f" by {p.rule}" if p.verdict == "refused" else "")
        more = sum(x.count for x in pairs) - 1
        out.append(Value(env, dst, text + (f" (and {more} more source{'s' if more != 1 else ''})" if more else "")))
    return out


def _why_key(c: Cell) -> frozenset[str]:
    """The reasons a cell is undecided, without host names: two sides undecided by the same rules match."""
    out: set[str] = set()
    for p in c.pairs:
        if p.verdict == "unknown":
            out.update(r.replace(p.src, "").replace(p.dst, "") for r in p.reasons)
    return frozenset(out)


def undecided(env: str, c: Cell, unproven: bool) -> Undecided:
    p = next(x for x in c.pairs if x.verdict == "unknown")
    return Undecided(env, f"{c.src_role} → {c.dst_role}:{c.port}/{c.proto}", tuple(dict.fromkeys((p.src, p.dst))),
                     c.why(), unproven)


def compare(left_name: str, left: Sequence[Snapshot], right_name: str,
            right: Sequence[Snapshot]) -> tuple[list[Finding], list[Undecided]]:
    # The two sides' matrices are independent: on a fleet, the right one is built in a forked child.
    with forked.beside(lambda: msgspec.json.encode(build(right, alike=True)), len(right) >= PARALLEL_FROM) as built:
        lcells = {c.key: c for c in build(left, alike=True)}
        rcells = {c.key: c for c in _CELLS.decode(built())}
    findings: list[Finding] = []
    unsure: list[Undecided] = []
    for key in sorted(lcells.keys() ^ rcells.keys()):  # nothing listens there on the other side: decided
        env, c = (left_name, lcells[key]) if key in lcells else (right_name, rcells[key])
        if c.verdict == "unknown":
            unsure.append(undecided(env, c, True))
    for key in sorted(lcells.keys() & rcells.keys()):
        lc, rc = lcells[key], rcells[key]
        if "unknown" in (lc.verdict, rc.verdict):
            alike = lc.verdict == rc.verdict and _why_key(lc) == _why_key(rc)
            unsure += [undecided(env, c, not alike) for env, c in ((left_name, lc), (right_name, rc))
                       if c.verdict == "unknown"]
            continue
        if lc.verdict == rc.verdict:
            continue
        message = f"{lc.label()} {_phrase(lc, left_name)}, {_phrase(rc, right_name)}"
        findings.append(Finding("topology", path(lc), lc.label(), Kind.changed, lc.src_role, message,
                                tuple(_values(left_name, lc) + _values(right_name, rc))))
    findings += _exposures(left_name, lcells, right_name, rcells, Kind.only_left, _partners(left), right)
    findings += _exposures(right_name, rcells, left_name, lcells, Kind.only_right, _partners(right), left)
    return findings, sorted(unsure, key=lambda u: (u.flow, u.env))


def _phrase(c: Cell, env: str) -> str:
    v = c.verdict
    if v == "partial":
        refused = sum(p.count for p in c.pairs if p.verdict == "refused")
        return f"refused for {refused} of {sum(p.count for p in c.pairs)} host pairs in {env} {c.why()}"
    return f"{v} in {env} {c.why()}".rstrip()


def _listening(snaps: Sequence[Snapshot]) -> set[tuple[str, str, int]]:
    """(role, proto, port) some host listens on beyond loopback; where sockets were not collected, every
    port counts (unknown is not absent)."""
    out: set[tuple[str, str, int]] = set()
    for s in snaps:
        found = listeners(s)
        if found is None:
            out.update((r, "*", 0) for r in s.all_roles)
        for x in found or ():
            if x.bind != "loopback":
                out.update((r, x.proto, x.port) for r in s.all_roles)
    return out


def _partners(snaps: Sequence[Snapshot]) -> dict[str, set[str]]:
    """The roles each role shares a host with."""
    out: dict[str, set[str]] = {}
    for s in snaps:
        for r in s.all_roles:
            out.setdefault(r, set()).update(x for x in s.all_roles if x != r)
    return out


def _exposures(env: str, mine: dict[tuple[str, str, str, int], Cell], other: str,
               theirs: dict[tuple[str, str, str, int], Cell], kind: Kind,
               partners: dict[str, set[str]], other_snaps: Sequence[Snapshot]) -> list[Finding]:
    """Ports reachable in env that no host of the role listens on (for the same sources) in other.
    A port of a shared host that a partner role listens on in other is the partner's, not an exposure."""
    ports: dict[tuple[str, str, int], list[Cell]] = {}
    for key, c in mine.items():
        if key not in theirs and c.verdict in ("admitted", "partial"):
            ports.setdefault((c.dst_role, c.proto, c.port), []).append(c)
    # What the other side's hosts listen on, whether or not any source there connects to it (a role
    # compared with one of its own hosts has no peers to connect from).
    listened = {k[1:] for k in theirs} | _listening(other_snaps)
    out = []
    for (role, proto, port), cells in sorted(ports.items()):
        if any((r, proto, port) in listened or (r, "*", 0) in listened for r in {role} | partners.get(role, set())):
            continue  # the port is open there too, for other sources: those cells are compared above
        sources = ", ".join(sorted({c.src_role for c in cells}))
        label = f"{role}:{port}" + ("/udp" if proto == "udp" else "")
        message = (f"{label} is reachable in {env} (from {sources}); in {other} nothing of role {role} listens "
                   f"on it")
        values = [v for c in cells for v in _values(env, c)]
        values += [Value(other, s.host, None) for s in other_snaps if role in s.all_roles]  # nothing listens
        out.append(Finding("topology", f"topology/reach/*/{role}/{proto}/{port}", f"exposure {label}", kind, role,
                           message, tuple(values)))
    return out
