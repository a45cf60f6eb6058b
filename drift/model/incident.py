"""What incident mode shows: change events on one timeline, and one host's three-way view.

Built by drift.analysis.changes and drift.analysis.explain, rendered by drift.reports.changes and
drift.reports.explain. Times are the store's ISO stamps (UTC, "2026-11-20T03:00:00Z"), which sort
as strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drift.model.report import Level

CHANGES_SCHEMA = "drift.changes/1"
EXPLAIN_SCHEMA = "drift.explain/1"


@dataclass(frozen=True)
class Occurrence:
    """One host's part of an event: the change lies between two of its snapshots."""

    host: str
    after: str  # the last snapshot with the old value
    before: str  # the first snapshot with the new value


@dataclass(frozen=True)
class Event:
    """The same change on one or more hosts within a short span, or (count > 1) a bulk change:
    many facts of one category changed on the same hosts between the same snapshots."""

    category: str
    path: str  # for a bulk event, the first member's path
    subject: str
    kind: str  # added | removed | changed | reverted | bulk
    old: str
    new: str
    summary: str  # old -> new for a person; for a chain the rules added and removed; for a bulk, the count
    severity: Level
    roles: tuple[str, ...]
    hosts: tuple[Occurrence, ...]
    of: int  # hosts in those roles of the environment
    unobserved: tuple[str, ...] = ()  # hosts of those roles with no snapshot in the window
    via: str = ""  # for a revert: the value the fact held in between
    members: tuple[Event, ...] = ()  # for a bulk event: the changes it collapses

    @property
    def count(self) -> int:
        return len(self.members) or 1

    @property
    def after(self) -> str:
        """Evidence starts: no host had the change before this."""
        return min(o.after for o in self.hosts)

    @property
    def before(self) -> str:
        """Evidence ends: every host had it by this."""
        return max(o.before for o in self.hosts)

    @property
    def first_seen(self) -> str:
        return min(o.before for o in self.hosts)

    @property
    def last_seen(self) -> str:
        return max(o.before for o in self.hosts)

    @property
    def partial(self) -> bool:
        """Reached some hosts of its roles and, as far as anyone saw, not the others: how a fleet
        half-deploys. Hosts nobody saw in the window leave it open, so they do not make it partial."""
        return self.kind != "reverted" and len(self.hosts) + len(self.unobserved) < self.of

    @property
    def host_names(self) -> tuple[str, ...]:
        return tuple(o.host for o in self.hosts)

    def reach(self) -> str:
        """'2 of 3 web' (plus the hosts nobody could see)."""
        text = f"{len(self.hosts)} of {self.of} {', '.join(self.roles)}"
        return text + (f" ({len(self.unobserved)} unobserved)" if self.unobserved else "")


@dataclass(frozen=True)
class Timeline:
    env: str
    since: str
    until: str
    generated_at: str
    events: tuple[Event, ...]
    hosts: tuple[str, ...]  # every host of the environment considered
    unobserved: tuple[str, ...]  # hosts with no usable snapshot in the window: unknown, never unchanged
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Since:
    """When a host's current value began: between two snapshots, or before the store's oldest."""

    after: str | None  # None: held since before the oldest snapshot the store has
    before: str


@dataclass(frozen=True)
class Divergence:
    """One fact where at least two of intended, actual and peers disagree. Values are as shown to a
    person ('absent' where known to be absent); None where that side is unknown or unavailable."""

    category: str
    path: str
    subject: str
    severity: Level
    actual: str | None
    intended: str | None
    peers: str | None  # the role's consensus; None when there is none
    peers_agree: int  # peers holding that consensus
    peers_known: int  # peers whose value is known
    peers_split: str = ""  # when the peers disagree among themselves: 'v1 on a b; v2 on c'
    since: Since | None = None
    peers_moved: Since | None = None  # when the peers took their value, if the store saw it
    peer_hosts: tuple[str, ...] = ()  # the peers holding the consensus
    peers_value: Any = None  # the consensus as collected (peers is how it reads)

    @property
    def alone(self) -> bool:
        """Differs from the baseline and from the peers alike: this host's own drift."""
        return (self.intended is not None and self.peers is not None
                and self.actual != self.intended and self.actual != self.peers)


@dataclass(frozen=True)
class Explanation:
    host: str
    env: str
    role: str
    actual_source: str  # 'live, collected 2026-…' or 'the store's newest snapshot, 2026-…'
    actual_at: str
    baseline: str | None  # the baseline file and when it was approved, or None
    peers: tuple[str, ...]
    divergences: tuple[Divergence, ...]
    unknown: tuple[str, ...] = ()  # what could not be established (failed collectors, hosts)
    notes: tuple[str, ...] = ()
    actual_known: bool = True  # False: the host itself could not be collected
