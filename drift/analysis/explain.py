"""One host three ways: intended (its approved baseline), actual (now), peers (its role's consensus in its
environment), and since when its current value has held. Pure: snapshots in, an Explanation out.

Unknown is not absent: a failed collector makes its facts unknown on that side, so they neither
count among the peers nor show as absent on the host.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from drift.analysis import messages
from drift.analysis import policy as policy_mod
from drift.model.incident import Divergence, Explanation, Since
from drift.model.report import Level
from drift.model.snapshot import Snapshot

_UNKNOWN = object()


def explain(host: Snapshot, peers: Sequence[Snapshot], intended: Snapshot | None, pol: policy_mod.Policy,
            source: str, baseline: str | None) -> Explanation:
    """The divergences; since when each has held comes from the store, after (with_history)."""
    everyone = [host, *peers, *([intended] if intended else [])]
    identity = frozenset().union(*(s.identity_paths() for s in everyone))
    owner: dict[str, str] = {}
    for s in everyone:
        for name, r in s.collectors.items():
            owner.update((p, name) for p in r.facts)
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
        split = "; ".join(f"{messages.short(path, v)} on {' '.join(sorted(hs))}" for v, hs in ranked) \
            if len(ranked) > 1 else ""
        if messages.category(path) == "packages" and consensus is not None and consensus[0] != actual:
            level = max(level, Level.high)  # one host on another build than its peers, as compare rates it
        out.append(Divergence(
            messages.category(path), path, messages.subject(path), level, messages.short(path, actual),
            messages.short(path, want) if want is not _UNKNOWN else None,
            messages.short(path, consensus[0]) if consensus else None,
            len(consensus[1]) if consensus else 0, len(known), split,
            peer_hosts=tuple(sorted(consensus[1])) if consensus else (),
            peers_value=consensus[0] if consensus else None))
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


Run = tuple[str, str, str, str | None]  # collected_at, collector, status, blob: Store.runs()


def last_change(path: str, runs: Sequence[Run], blobs: Mapping[str, Mapping[str, Any]]) -> tuple[Since, Any] | None:
    """The most recent change of `path` in one host's runs (oldest first), and the value it took.
    A failed collector is no evidence either way: the interval starts where it last answered."""
    best: tuple[Since, Any] | None = None
    last: dict[str, tuple[str, Any]] = {}  # collector -> (stamp, value) when it last answered
    for stamp, name, status, blob in runs:
        if status not in ("ok", "unsupported"):
            continue
        value = blobs.get(blob or "", {}).get(path) if status == "ok" else None
        before = last.get(name)
        if before is not None and before[1] != value and (best is None or stamp >= best[0].before):
            best = (Since(before[0], stamp), value)
        last[name] = (stamp, value)
    return best


def held(path: str, runs: Sequence[Run], blobs: Mapping[str, Mapping[str, Any]]) -> Since | None:
    """Since when one host has held its value of `path`: its last change, else since its oldest run."""
    change = last_change(path, runs, blobs)
    if change is not None:
        return change[0]
    return Since(None, runs[0][0]) if runs else None


def moved(path: str, value: Any, peer_runs: Iterable[Sequence[Run]],
          blobs: Mapping[str, Mapping[str, Any]]) -> Since | None:
    """When the peers took the value they now share, as far as the store saw it happen."""
    seen = [c[0] for runs in peer_runs if (c := last_change(path, runs, blobs)) is not None and c[1] == value]
    if not seen:
        return None
    return Since(min(s.after or s.before for s in seen), max(s.before for s in seen))


def latest(changes: Iterable[tuple[Since, Any] | None]) -> Since | None:
    """Since when a set of hosts has held its current values: the latest change among them."""
    found = [c[0] for c in changes if c is not None]
    return max(found, key=lambda s: s.before) if found else None


def with_history(x: Explanation, since: Mapping[str, Since | None], peers_moved: Mapping[str, Since | None]
                 ) -> Explanation:
    return replace(x, divergences=tuple(replace(d, since=since.get(d.path), peers_moved=peers_moved.get(d.path))
                                        for d in x.divergences))
