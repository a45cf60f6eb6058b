"""What changed between consecutive snapshots of each host: the timeline `drift history` prints.

Unknown is not absent here either: a failed host or collector leaves the last known value
standing, so an outage never shows up as everything removed and then re-added.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from drift.analysis import messages
from drift.model.snapshot import Snapshot


@dataclass(frozen=True)
class Change:
    host: str
    env: str
    category: str
    path: str
    subject: str
    kind: str  # added | removed | changed
    old: Any
    new: Any
    after: str  # collected_at of the last snapshot that had the old value
    before: str  # collected_at of the first snapshot that had the new value
    summary: str = ""  # old -> new for a person; for a chain, the rules added and removed

    def sort_key(self) -> tuple[str, str, str, str]:
        return (self.before, self.host, self.category, self.path)


def changes(snaps: Iterable[Snapshot]) -> list[Change]:
    """Changes across one host's snapshots, given oldest first."""
    state: dict[str, dict[str, Any]] = {}  # collector -> its facts when last known (identity left out)
    seen: dict[str, tuple[str, Mapping[str, Any]]] = {}  # collector -> (status, facts) when last known
    known_at: dict[str, str] = {}  # collector -> the last snapshot in which it answered
    last: str | None = None
    out: list[Change] = []
    for s in snaps:
        if s.failed:
            continue
        # Only collectors that answered are compared: a failed one is unknown and keeps its last
        # known values. A watched host is mostly unchanged from round to round, so only collectors
        # whose facts differ from their last known ones are looked into: a day of 5-minute rounds
        # stays cheap.
        dirty = sorted(n for n, r in s.collectors.items() if r.status in ("ok", "unsupported") and (
            n not in seen or seen[n][0] != r.status or not _same(seen[n][1], r.facts)))
        identity = s.identity_paths()
        old: dict[str, Any] = {}
        now: dict[str, Any] = {}
        since: dict[str, str] = {}  # path -> when its collector last answered: where the evidence starts
        for name in dirty:
            r = s.collectors[name]
            before = state.get(name, {})
            old.update(before)
            since.update((p, known_at.get(name, last or "")) for p in before)
            state[name] = {p: v for p, v in r.facts.items() if p not in identity} if r.status == "ok" else {}
            now.update(state[name])
            since.update((p, known_at.get(name, last or "")) for p in state[name] if p not in before)
            seen[name] = (r.status, r.facts)
        if last is not None:
            for path in sorted(old.keys() | now.keys()):
                ov, nv = old.get(path), now.get(path)
                if ov != nv:
                    kind = "added" if ov is None else "removed" if nv is None else "changed"
                    out.append(Change(s.host, s.env, messages.category(path), path, messages.subject(path), kind,
                                      messages.display(path, ov), messages.display(path, nv), since[path],
                                      s.collected_at, _summary(path, ov, nv)))
        for name, r in s.collectors.items():
            if r.status in ("ok", "unsupported"):
                known_at[name] = s.collected_at
        last = s.collected_at
    return out


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return a is b or a == b


def _summary(path: str, old: Any, new: Any) -> str:
    if messages.category(path) == "firewall" and isinstance(old, dict) and isinstance(new, dict):
        return messages.chain_delta(old, new)
    return f"{messages.short(path, old)} → {messages.short(path, new)}"
