"""A host to collect and how to reach it: what drift.toml and an Ansible inventory both produce.

Below both readers (inventory.py, ansible/), so neither imports the other's internals in a circle.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from drift.core.errors import InventoryError
from drift.core.tomlsource import read_utf8

HostKeyPolicy = Literal["strict", "accept-new"]
RESERVED_NAMES = frozenset({"local"})


@dataclass(frozen=True)
class SSHSettings:
    user: str | None = None  # None: ~/.ssh/config, else the local user
    port: int | None = None  # None: ~/.ssh/config, else 22
    identity_file: str | None = None
    known_hosts: str = "~/.ssh/known_hosts"
    host_key_policy: HostKeyPolicy = "strict"
    connect_timeout: float = 10.0
    command_timeout: float = 60.0
    sudo: bool = False
    jobs: int = 32
    config: str | None = None  # an ssh config file read instead of ~/.ssh/config and /etc/ssh/ssh_config
    proxy_jump: str | None = None  # "[user@]host[:port][,...]" as OpenSSH's ProxyJump; "none" ignores ssh config's
    # (key, file, line) where identity_file and known_hosts were set, so a missing file is one input
    # error pointing there rather than a connection failure on every host.
    origins: tuple[tuple[str, str, int | None], ...] = field(default=(), compare=False, repr=False)

    def origin(self, key: str) -> tuple[str, int | None] | None:
        return next(((f, line) for k, f, line in self.origins if k == key), None)

    def with_origin(self, key: str, file: str, line: int | None) -> SSHSettings:
        kept = tuple(o for o in self.origins if o[0] != key)
        return replace(self, origins=(*kept, (key, file, line)))


@dataclass(frozen=True)
class Host:
    name: str
    env: str
    role: str  # the first of `roles`: the one-role spelling most code reads
    address: str
    ssh: SSHSettings = field(default_factory=SSHSettings)
    roles: tuple[str, ...] = ()  # every role the host carries; empty means (role,)
    # Why drift cannot reach this host as written, and where: (message, file, line). Such a host is listed
    # (Ansible lists it) but refused, exit 2, by any command that would contact it (preflight.py).
    problem: tuple[str, str, int | None] | None = None

    @property
    def all_roles(self) -> tuple[str, ...]:
        return self.roles or (self.role,)


def read_text(path: Path) -> str:
    return read_utf8(path, InventoryError)
