"""One host three ways: intended (its approved baseline), actual (now), peers (its role's consensus in its
environment), and since when its current value has held. Pure: snapshots in, an Explanation out.

Unknown is not absent: a failed collector makes its facts unknown on that side, so they neither
count among the peers nor show as absent on the host.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from drift.analysis import history, messages
from drift.analysis import policy as policy_mod
from drift.model.incident import Divergence, Explanation, Since
from drift.model.snapshot import Snapshot

_UNKNOWN = object()


def explain(host: Snapshot, peers: Sequence[Snapshot], intended: Snapshot | None, pol: policy_mod.Policy,
            histories: Mapping[str, Sequence[Snapshot]], source: str, baseline: str | None) -> Explanation:
    """`histories`: each host's stored snapshots, oldest first (the host's own and its peers')."""
    everyone = [host, *peers, *([intended] if intended else [])]
    identity = frozenset().union(*(s.identity_paths() for s in everyone))
    owner: dict[str, str] = {}
    for s in everyone:
        for name, r in s.collectors.items():
            owner.update((p, name) for p in r.facts)
    own_changes = _last_changes(histories.get(host.host, ()))
    peer_changes = {p.host: _last_changes(histories.get(p.host, ())) for p in peers}
    oldest = histories[host.host][0].collected_at if histories.get(host.host) else None
    out: list[Divergence] = []
    for path in sorted(owner.keys() - identity):
        level = policy_mod.level_of(path, pol)
        actual = _value(host, owner[path], path)
        if level is None or actual is _UNKNOWN:
            continue
        want = _value(intended, owner[path], path) if intended is not None else _UNKNOWN
        known = [(p, v) for p in peers if (v := _value(p, owner[path], path)) is not _UNKNOWN]
        counts: dict[str, tuple[Any, list[str]]] = {}
        for p, v in known:
            counts.setdefault(messages.canonical(v), (v, []))[1].append(p.host)
        ranked = sorted(counts.values(), key=lambda vh: -len(vh[1]))
        consensus = ranked[0] if ranked and (len(ranked) == 1 or len(ranked[0][1]) > len(ranked[1][1])) else None
        sides = [actual] + ([want] if want is not _UNKNOWN else []) + ([consensus[0]] if consensus else [])
        split_peers = consensus is None and len(ranked) > 1
        if len({messages.canonical(v) for v in sides}) < 2 and not split_peers:
            continue  # agrees with its baseline and with most peers; an odd peer is that peer's story
        last = own_changes.get(path)
        since = Since(last.after, last.before) if last else (Since(None, oldest) if oldest else None)
        moved = None
        if consensus is not None and messages.canonical(consensus[0]) != messages.canonical(actual):
            moved = _moved(path, messages.display(path, consensus[0]), consensus[1], peer_changes)
        split = "; ".join(f"{messages.short(path, v)} on {' '.join(sorted(hs))}" for v, hs in ranked) \
            if len(ranked) > 1 else ""
        out.append(Divergence(
            messages.category(path), path, messages.subject(path), level, messages.short(path, actual),
            messages.short(path, want) if want is not _UNKNOWN else None,
            messages.short(path, consensus[0]) if consensus else None,
            len(consensus[1]) if consensus else 0, len(known), split, since, moved))
    out.sort(key=lambda d: (not d.alone, -d.severity, d.category, d.subject))
    unknown = [f"{s.host}{' ' + n if n else ''}: {m}" for s in everyone for n, m in s.errors()]
    return Explanation(host.host, host.env, host.role, source, host.collected_at, baseline,
                       tuple(sorted(p.host for p in peers)), tuple(out), tuple(unknown), actual_known=not host.failed)


def _value(snap: Snapshot | None, collector: str, path: str) -> Any:
    if snap is None or snap.failed:
        return _UNKNOWN
    r = snap.collectors.get(collector)
    if r is None or r.status not in ("ok", "unsupported"):
        return _UNKNOWN
    return r.facts.get(path) if r.status == "ok" else None


def _last_changes(snaps: Sequence[Snapshot]) -> dict[str, history.Change]:
    """Each fact's most recent change in this host's history."""
    out: dict[str, history.Change] = {}
    for c in history.changes(snaps):
        out[c.path] = c  # oldest first, so the last one wins
    return out


def _moved(path: str, shown: Any, holders: Iterable[str], peer_changes: Mapping[str, Mapping[str, history.Change]],
           ) -> Since | None:
    """When the peers took the value they now share, as far as the store saw it happen."""
    seen = [c for h in holders if (c := peer_changes.get(h, {}).get(path)) is not None and c.new == shown]
    if not seen:
        return None
    return Since(min(c.after for c in seen), max(c.before for c in seen))


def held_since(path: str, histories: Iterable[Sequence[Snapshot]]) -> Since | None:
    """Since when a set of hosts has held its current values of `path`: its latest change on any of
    them. None when the store saw no change (or has no history of them)."""
    latest: history.Change | None = None
    for snaps in histories:
        c = _last_changes(snaps).get(path)
        if c is not None and (latest is None or c.before > latest.before):
            latest = c
    return Since(latest.after, latest.before) if latest else None
