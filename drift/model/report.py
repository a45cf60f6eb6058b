"""The report model: what every output format renders (spec/report.md).

Findings are built by the differ without severity; policy then fills severity, blocking and
waived. Everything is frozen so a renderer can never change what another one prints.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from drift.core.errors import ExitStatus

REPORT_SCHEMA = "drift.report/1"
CATEGORIES = ("packages", "files", "firewall", "topology", "system", "services", "containers")


class Level(enum.IntEnum):
    info = 0
    low = 1
    medium = 2
    high = 3
    critical = 4

    @classmethod
    def named(cls, name: str) -> Level:
        return cls[name]


class Kind(str, enum.Enum):
    only_left = "only_left"
    only_right = "only_right"
    changed = "changed"
    outlier = "outlier"


@dataclass(frozen=True)
class Value:
    env: str
    host: str
    value: Any  # None: absent on that host
    text: str = ""  # the value in words, as the human formats show it ("" when absent or not known)


@dataclass(frozen=True)
class Waiver:
    reason: str
    expires: str | None  # ISO date
    expired: bool


@dataclass(frozen=True)
class Finding:
    category: str
    path: str
    subject: str
    kind: Kind
    role: str
    message: str
    values: tuple[Value, ...]
    severity: Level = Level.low
    blocking: bool = False
    waived: Waiver | None = None
    detail: str = ""  # extra lines a person may want (rules added/removed, keys changed)
    odd: tuple[str, ...] = ()  # an outlier's hosts that disagree with the majority of their peers
    roles: tuple[str, ...] = ()  # every role this same difference was found in, when more than one
    related: tuple[str, ...] = ()  # ids of findings about the same thing (one port: rule, nft rule, listener)
    topic: str = ""  # what the related findings share, for a person: "tcp port 9187"

    @property
    def all_roles(self) -> tuple[str, ...]:
        return self.roles or (self.role,)

    @property
    def id(self) -> str:
        """Stable across runs, so a CI system tracks the same finding from build to build."""
        key = "\0".join((self.kind.value, self.role, self.path, self.subject))
        return hashlib.sha256(key.encode()).hexdigest()[:8]

    def with_policy(self, severity: Level, blocking: bool, waived: Waiver | None) -> Finding:
        return replace(self, severity=severity, blocking=blocking, waived=waived)

    def sort_key(self) -> tuple[int, str, str, str, str]:
        # spec/report.md: by severity, then category, then subject
        return (-self.severity, self.category, self.subject, self.role, self.kind.value)


@dataclass(frozen=True)
class HostError:
    host: str
    collector: str | None
    message: str


@dataclass(frozen=True)
class Undecided:
    """A flow whose reachability drift cannot decide from the rules (not a collection failure).
    `unproven`: it leaves the flow's parity unproven (one side decided and the other not, or both
    undecided by different rules), which makes compare exit 3."""

    env: str
    flow: str  # "db → web:80/tcp"
    hosts: tuple[str, ...]
    reason: str
    unproven: bool = True


@dataclass(frozen=True)
class Side:
    name: str
    hosts: tuple[str, ...]
    collected_at: tuple[str, ...] = ()  # per host, in the order of `hosts`; empty when not known

    @property
    def collected_range(self) -> tuple[str, str] | None:
        """(earliest, latest) collection time of the side's hosts."""
        known = sorted(t for t in self.collected_at if t)
        return (known[0], known[-1]) if known else None


@dataclass(frozen=True)
class Report:
    command: str
    generated_at: str
    left: Side
    right: Side | None
    findings: tuple[Finding, ...]
    errors: tuple[HostError, ...]
    fail_on: Level
    warnings: tuple[str, ...] = field(default=())
    undecided: tuple[Undecided, ...] = field(default=())

    @property
    def hosts_failed(self) -> int:
        return len({e.host for e in self.errors if e.collector is None})

    @property
    def exit_code(self) -> ExitStatus:
        if any(f.blocking for f in self.findings):
            return ExitStatus.DRIFT  # a gate fails on drift it can see, even while a host is down
        if self.errors or any(u.unproven for u in self.undecided):
            return ExitStatus.INCOMPLETE
        return ExitStatus.OK

    def summary(self) -> dict[str, Any]:
        by_category: dict[str, int] = {}
        for f in self.findings:
            by_category[f.category] = by_category.get(f.category, 0) + 1
        return {
            "findings": len(self.findings),
            "blocking": sum(f.blocking for f in self.findings),
            "waived": sum(f.waived is not None and not f.waived.expired for f in self.findings),
            "by_severity": {lvl.name: sum(f.severity == lvl for f in self.findings) for lvl in reversed(Level)},
            "by_category": dict(sorted(by_category.items())),
            "hosts_failed": self.hosts_failed,
            "exit_code": int(self.exit_code),
        }
