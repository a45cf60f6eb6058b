"""What changed between consecutive snapshots of each host: the timeline `drift history` prints.

Unknown is not absent here either: a failed host or collector leaves the last known value
standing, so an outage never shows up as everything removed and then re-added.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    state: dict[str, tuple[Any, str]] = {}  # path -> (value, owning collector)
    last: str | None = None
    out: list[Change] = []
    for s in snaps:
        if s.failed:
            continue
        known = {n for n, r in s.collectors.items() if r.status in ("ok", "unsupported")}
        identity = s.identity_paths()
        now: dict[str, tuple[Any, str]] = {}
        for name, r in s.collectors.items():
            if r.status == "ok":
                now.update((p, (v, name)) for p, v in r.facts.items() if p not in identity)
        if last is not None:
            for path in sorted(state.keys() | now.keys()):
                old, new = state.get(path), now.get(path)
                if new is None and old is not None and old[1] not in known:
                    continue  # its collector failed this time: unknown, keep the old value
                ov, nv = (old[0] if old else None), (new[0] if new else None)
                if ov != nv:
                    kind = "added" if ov is None else "removed" if nv is None else "changed"
                    out.append(Change(s.host, s.env, messages.category(path), path, messages.subject(path), kind,
                                      messages.display(path, ov), messages.display(path, nv), last, s.collected_at,
                                      _summary(path, ov, nv)))
        state = {p: v for p, v in state.items() if v[1] not in known} | now
        last = s.collected_at
    return out


def _summary(path: str, old: Any, new: Any) -> str:
    if messages.category(path) == "firewall" and isinstance(old, dict) and isinstance(new, dict):
        return messages.chain_delta(old, new)
    return f"{messages.short(path, old)} → {messages.short(path, new)}"
