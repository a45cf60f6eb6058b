"""The incident timeline: every host's changes in a window, grouped into events and ranked.

Pure: per-host changes (drift.analysis.history) in, a Timeline out. Grouping, in three steps:
1. per host, an edit followed by its exact undo is one `reverted` change, not two;
2. the same change (fact, old, new) on several hosts, each seen within `span` of the previous one,
   is one event with the hosts it reached;
3. many events of one category on the same hosts between the same snapshots are one bulk event
   (one apt upgrade of 300 packages), with its members kept for whoever expands it.
Ranked for an incident: severity, then recency, then partial rollouts first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from drift.analysis import messages
from drift.analysis import policy as policy_mod
from drift.analysis.history import Change
from drift.model.incident import Event, Occurrence, Timeline
from drift.model.report import Level

SPAN = dt.timedelta(hours=1)
BULK = 5  # this many changes of one category on the same hosts between the same snapshots are one event


@dataclass(frozen=True)
class _Step:
    """One host's change of one fact, reverts already paired."""

    host: str
    path: str
    kind: str
    old: object
    new: object
    via: object
    summary: str
    after: str
    before: str

    def key(self) -> tuple[str, str, str, str, str]:
        return (self.path, self.kind, messages.canonical(self.old), messages.canonical(self.new),
                messages.canonical(self.via))


def build(env: str, changes: Mapping[str, Sequence[Change]], roles: Mapping[str, str], observed: Iterable[str],
          pol: policy_mod.Policy, since: str, until: str, now: str, span: dt.timedelta = SPAN,
          bulk: int = BULK, notes: Sequence[str] = (), snapshots: Sequence[tuple[str, str]] = ()) -> Timeline:
    """`changes`: each host's changes (oldest first); `roles`: every host of the environment and its
    role; `observed`: the hosts with a usable snapshot in the window; `snapshots`: (host, collected_at)
    of those snapshots, which tell the collection rounds apart (recency is by round, see rounds())."""
    seen = set(observed)
    recency = _recency(rounds(snapshots))
    steps = [s for host, found in changes.items()
             for s in _pair_reverts(host, [c for c in found if since <= c.before <= until])]
    events: list[Event] = []
    for cluster in _clusters(steps, span):
        first = cluster[0]
        level = policy_mod.level_of(first.path, pol)
        if level is None:
            continue  # the policy ignores this path everywhere
        event_roles = tuple(sorted({roles.get(s.host, "?") for s in cluster}))
        members = sorted(h for h, r in roles.items() if r in event_roles)
        occurrences = tuple(sorted((Occurrence(s.host, s.after, s.before) for s in cluster), key=lambda o: o.host))
        event = Event(messages.category(first.path), first.path, messages.subject(first.path), first.kind,
                      messages.short(first.path, first.old), messages.short(first.path, first.new), first.summary,
                      level, event_roles, occurrences, max(len(members), len(occurrences)),
                      tuple(h for h in members if h not in seen),
                      messages.short(first.path, first.via) if first.kind == "reverted" else "")
        if event.partial and event.category == "packages" and event.kind != "reverted":
            # One host on another build is how a fleet half-deploys: as the differ rates outliers.
            event = replace(event, severity=max(level, Level.high))
        events.append(event)
    events = rank(_collapse(events, bulk, recency), recency)
    hosts = tuple(sorted(roles))
    return Timeline(env, since, until, now, tuple(events), hosts, tuple(h for h in hosts if h not in seen),
                    tuple(notes))


Recency = Callable[[Event], tuple[int, str]]


def rank(events: Iterable[Event], recency: Recency | None = None) -> list[Event]:
    """Most severe first, then the most recent, then partial rollouts before complete ones."""
    out = sorted(events, key=lambda e: (e.category, e.subject, e.host_names))
    out.sort(key=lambda e: not e.partial)
    out.sort(key=recency or (lambda e: (0, e.last_seen)), reverse=True)
    out.sort(key=lambda e: e.severity, reverse=True)
    return out


def rounds(snapshots: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Number the collection rounds: one `drift snapshot ENV` stamps its hosts a few seconds apart,
    and nothing seen in the same round is known to be more recent than anything else in it. A
    round ends where a host shows up again."""
    out: dict[tuple[str, str], int] = {}
    current: set[str] = set()
    n = 0
    for host, stamp in sorted(set(snapshots), key=lambda hs: (hs[1], hs[0])):
        if host in current:
            n, current = n + 1, set()
        current.add(host)
        out[(host, stamp)] = n
    return out


def _recency(numbered: Mapping[tuple[str, str], int]) -> Recency | None:
    if not numbered:
        return None
    return lambda e: (max(numbered.get((o.host, o.before), -1) for o in e.hosts), "")


def _pair_reverts(host: str, found: Sequence[Change]) -> list[_Step]:
    by_path: dict[str, list[Change]] = {}
    for c in found:
        by_path.setdefault(c.path, []).append(c)
    out: list[_Step] = []
    for path, seq in by_path.items():
        seq = sorted(seq, key=lambda c: c.before)
        i = 0
        while i < len(seq):
            c = seq[i]
            undo = seq[i + 1] if i + 1 < len(seq) else None
            if undo is not None and undo.old == c.new and undo.new == c.old:
                summary = f"{c.summary}, then reverted" if c.category == "firewall" else \
                    f"{messages.short(path, c.old)} -> {messages.short(path, c.new)} -> {messages.short(path, c.old)}"
                out.append(_Step(host, path, "reverted", c.old, undo.new, c.new, summary, c.after, undo.before))
                i += 2
                continue
            out.append(_Step(host, path, c.kind, c.old, c.new, None, c.summary, c.after, c.before))
            i += 1
    return out


def _clusters(steps: Sequence[_Step], span: dt.timedelta) -> list[list[_Step]]:
    """The same change on several hosts, each first seen within `span` of the one before."""
    by_key: dict[tuple[str, ...], list[_Step]] = {}
    for s in steps:
        by_key.setdefault(s.key(), []).append(s)
    out: list[list[_Step]] = []
    for group in by_key.values():
        group.sort(key=lambda s: (s.before, s.host))
        current: list[_Step] = []
        for s in group:
            if current and (_gap(current[-1].before, s.before) > span or any(x.host == s.host for x in current)):
                out.append(current)
                current = []
            current.append(s)
        out.append(current)
    return out


def _gap(a: str, b: str) -> dt.timedelta:
    return _parse(b) - _parse(a)


def _parse(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _collapse(events: list[Event], bulk: int, recency: Recency | None) -> list[Event]:
    groups: dict[tuple[object, ...], list[Event]] = {}
    for e in events:
        key = (e.category, e.hosts) if e.kind != "reverted" else (id(e),)
        groups.setdefault(key, []).append(e)
    out: list[Event] = []
    for members in groups.values():
        if len(members) < bulk:
            out.extend(members)
            continue
        members = rank(members, recency)
        top = members[0]
        kinds: dict[str, int] = {}
        for m in members:
            kinds[m.kind] = kinds.get(m.kind, 0) + 1
        noun = "packages" if top.category == "packages" else f"{top.category} facts"
        counts = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
        sample = "; ".join(f"{m.subject} {m.summary}" for m in members[:3])
        out.append(Event(top.category, top.path, f"{len(members)} {noun}", "bulk", "", "",
                         f"{counts}: {sample}{'; …' if len(members) > 3 else ''}", top.severity, top.roles,
                         top.hosts, top.of, top.unobserved, members=tuple(members)))
    return out
