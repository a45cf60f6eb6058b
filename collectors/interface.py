"""What a collector is: a frozen record of a read-only shell command and a pure parser.

A collector runs as one section of the per-host script (drift.script). Its parser gets that
section's stdout as text and returns facts keyed by a `/`-separated fact path whose first segment
is the category, e.g. ``packages/deb/libssl3``. Parsers do no I/O; anything they cannot read
raises CollectError, which fails that collector only. A failed command is never turned into an
empty result: the section's exit status is checked before `parse` is called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Union

Json = Union[None, bool, int, float, str, list["Json"], dict[str, "Json"]]  # noqa: UP007 (a runtime alias)
Facts = dict[str, Json]

class NotApplicable(Exception):
    """Raised by a parser when its output shows the facts do not exist here (no systemd running).

    The collector is recorded as `unsupported`, like a missing executable, not as failed.
    """


@dataclass(frozen=True)
class Parsed:
    """Facts plus the paths among them that differ by nature on this host (computed, not globbed)."""

    facts: Facts
    identity: frozenset[str] = frozenset()


Category = Literal["packages", "files", "firewall", "topology", "system", "services", "containers"]
CATEGORIES: tuple[Category, ...] = ("packages", "files", "firewall", "topology", "system", "services",
                                       "containers")


@dataclass(frozen=True)
class CollectConfig:
    """The `[collect]` settings a command or parser may depend on."""

    files: tuple[str, ...] = ()
    python: tuple[str, ...] = ()
    sysctl: tuple[str, ...] = ()
    # Opt-in content: a subset of `files` whose content is brought back, parsed and compared by
    # key or line. Over `content_max_bytes` a file is compared by its hash only.
    content: tuple[str, ...] = ()
    content_max_bytes: int = 256 * 1024
    secret_keys: tuple[str, ...] = ()  # more key words whose values are secret
    # Per host, not from [collect]: the inventory's name and address of the host being collected
    # (identity values to normalise), and the installation's key for hashing secrets.
    host_names: tuple[str, ...] = ()
    secret_key: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True)
class Collector:
    name: str
    category: Category
    # POSIX sh run on the host. Every path or value from the inventory must go through
    # shlex.quote. It must only read: no temp files, no state changes.
    command: Callable[[CollectConfig], str]
    parse: Callable[[str, CollectConfig], Facts | Parsed]
    # If none of these executables exists on the host, the collector is `unsupported`.
    requires: tuple[str, ...] = ()
    # Run through `sudo -n` when the inventory says sudo = true.
    privileged: bool = False
    # Fact-path globs (fnmatch) that differ by nature between hosts: hostnames, own addresses,
    # MACs. Recorded in the snapshot, marked, and never reported as drift by default.
    identity: tuple[str, ...] = ()
    description: str = field(default="", compare=False)
