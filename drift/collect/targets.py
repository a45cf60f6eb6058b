"""Turning a TARGET argument into hosts to collect or snapshots to load (spec/cli.md, Targets).

Lookup order: environment, ENV:ROLE, host name, `local`, then a snapshot file or directory.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, replace
from pathlib import Path

from collectors.interface import CollectConfig
from drift.collect import snapfiles
from drift.collect.inventory import Host, Inventory
from drift.core.errors import InputError, SnapshotFileError
from drift.core.sanitize import quote
from drift.model import snapshot as snapshot_io
from drift.model.facts import Tables
from drift.model.snapshot import Snapshot

# What `local` and inventory-less runs record when there is no [collect] table to say.
DEFAULT_COLLECT = CollectConfig(
    files=("/etc/hosts", "/etc/resolv.conf"),
    sysctl=("net.core.somaxconn", "net.ipv4.ip_forward"),
)


@dataclass(frozen=True)
class Target:
    name: str
    hosts: tuple[Host, ...] = ()  # live hosts, to collect
    snapshots: tuple[Snapshot, ...] = ()  # offline snapshots, already collected
    local: bool = False

    @property
    def live(self) -> bool:
        return bool(self.hosts)


def local_host() -> Host:
    return Host(name=socket.gethostname(), env="local", role="default", address="localhost")


def resolve(spec: str, inventory: Inventory | None, cwd: Path, tables: Tables | None = None) -> Target:
    """`tables`: pass one to every target loaded together, so their hosts share fact tables."""
    if inventory is not None:
        envs = inventory.environments
        if spec in envs:
            if not envs[spec]:
                raise InputError(f"environment {quote(spec)} has no hosts", inventory.path)
            return Target(spec, hosts=envs[spec])
        env, sep, role = spec.partition(":")
        if sep and env in envs:
            # A shared host joins as this role only: `staging:web` compares web, not web's co-tenants.
            hosts = tuple(replace(h, role=role, roles=()) for h in envs[env] if role in h.all_roles)
            if not hosts:
                roles = sorted({r for h in envs[env] for r in h.all_roles})
                raise InputError(f"environment {quote(env)} has no role {quote(role)} (roles: {', '.join(roles)})",
                                 inventory.path)
            return Target(spec, hosts=hosts)
        host = inventory.host(spec)
        if host is not None:
            return Target(spec, hosts=(host,))
    if spec == "local":
        return Target("local", hosts=(local_host(),), local=True)
    path = Path(spec).expanduser()
    if not path.is_absolute():
        path = cwd / path
    if path.is_dir():
        return _directory(path, tables or Tables())
    if path.is_file():
        snap = snapshot_io.load(path, tables)
        return Target(snap.env, snapshots=(snap,))
    where, sep, role = spec.rpartition(":")
    if sep and where and role and (cwd / Path(where).expanduser()).is_dir():
        return one_role(resolve(where, None, cwd, tables), role, spec)
    known = ""
    if inventory is not None:
        known = f" (environments: {', '.join(sorted(inventory.environments))})"
    hint = "; no inventory was found" if inventory is None else ""
    raise InputError(f"unknown target {quote(spec)}: not an environment, ENV:ROLE, host, `local`, "
                     f"a snapshot file or directory, or DIR:ROLE{known}{hint}")


def one_role(whole: Target, role: str, spec: str) -> Target:
    """DIR:ROLE, as ENV:ROLE is for an inventory: a shared host joins as this role only."""
    snaps = tuple(replace(s, role=role, roles=()) for s in whole.snapshots if role in s.all_roles)
    if not snaps:
        roles = sorted({r for s in whole.snapshots for r in s.all_roles})
        raise InputError(f"{quote(spec)}: {whole.name} has no role {quote(role)} (roles: {', '.join(roles)})")
    return Target(whole.name, snapshots=snaps)


def _directory(path: Path, tables: Tables) -> Target:
    files = sorted(p for p in path.glob("*.json") if p.is_file())
    if not files:
        raise SnapshotFileError("no snapshot files (*.json) in this directory", path)
    # On every CPU, in file order: each document is decoded, reduced to its host's delta, and dropped.
    snaps = tuple(snapfiles.load_all(files, tables))
    hosts: dict[str, Path] = {}
    for snap, file in zip(snaps, files, strict=False):
        if snap.host in hosts:
            raise SnapshotFileError(f"host {quote(snap.host)} appears twice (also in {hosts[snap.host].name})", file)
        hosts[snap.host] = file
    envs = {s.env for s in snaps}
    name = envs.pop() if len(envs) == 1 else path.name
    return Target(name, snapshots=snaps)
