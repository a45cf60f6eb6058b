"""Our transport interface: what collection needs from a connection, and nothing else.

drift.transport implements it over SSH (Fabric/Paramiko) and drift.local over a subprocess;
tests implement it with fakes. Collection code depends only on this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from drift.collect.inventory import Host

# A host's whole output is data we hold in memory; a runaway command must not exhaust it.
OUTPUT_CAP = 256 * 1024 * 1024


@dataclass(frozen=True)
class ExecResult:
    stdout: bytes
    stderr: bytes
    exit_status: int


@dataclass(frozen=True)
class HostKey:
    type: str
    sha256: str  # "SHA256:<base64>", as ssh-keygen -l prints it

    def to_dict(self) -> dict[str, str]:
        return {"type": self.type, "sha256": self.sha256}


class Session(Protocol):
    host_key: HostKey | None

    def exec(self, script: bytes, deadline: float) -> ExecResult:
        """Run `script` with /bin/sh, fed on stdin; raise HostTimeout past `deadline` (monotonic)."""
        ...

    def close(self) -> None: ...


class Connector(Protocol):
    def open(self, host: Host, deadline: float) -> Session:
        """Connect and authenticate, or raise a TransportError subclass that says why."""
        ...
