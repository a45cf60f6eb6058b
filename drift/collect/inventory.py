"""drift.toml: environments, roles, hosts, SSH settings, what to collect, policy (spec/inventory.md).

Unknown keys are errors naming the key and its line, so a typo never silently disables a check.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from collectors import known_names
from collectors.interface import CollectConfig
from drift.core.errors import InventoryError
from drift.core.sanitize import quote
from drift.core.tomlsource import TomlSource

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


@dataclass(frozen=True)
class Host:
    name: str
    env: str
    role: str
    address: str
    ssh: SSHSettings = field(default_factory=SSHSettings)


@dataclass(frozen=True)
class Inventory:
    path: Path
    sha256: str
    ssh: SSHSettings
    collect: CollectConfig
    collectors: tuple[str, ...]  # empty: all
    store_path: Path
    keep_days: int
    environments: Mapping[str, tuple[Host, ...]]
    policy_table: Mapping[str, Any]
    source: TomlSource | None = field(default=None, compare=False, repr=False)

    def hosts(self) -> tuple[Host, ...]:
        return tuple(h for hosts in self.environments.values() for h in hosts)

    def host(self, name: str) -> Host | None:
        return next((h for h in self.hosts() if h.name == name), None)


# key -> (type check, description) for [ssh], [environments.X.ssh] and per-host overrides.
_SSH_TYPES: dict[str, tuple[type | tuple[type, ...], str]] = {
    "user": (str, "a string"),
    "port": (int, "an integer"),
    "identity_file": (str, "a path string"),
    "known_hosts": (str, "a path string"),
    "host_key_policy": (str, '"strict" or "accept-new"'),
    "connect_timeout": ((int, float), "a number of seconds"),
    "command_timeout": ((int, float), "a number of seconds"),
    "sudo": (bool, "true or false"),
    "jobs": (int, "an integer"),
}
_HOST_KEYS = {"name", "address", "role"} | (set(_SSH_TYPES) - {"jobs"})
_TOP_KEYS = {"ssh", "collect", "store", "environments", "policy"}
_COLLECT_KEYS = {"collectors", "files", "python", "sysctl"}
_STORE_KEYS = {"path", "keep_days"}
_ENV_KEYS = {"hosts", "ssh"}
_QUOTED = re.compile(r'"([^"\\]*)"')


def default_path(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Path:
    """./drift.toml, then $DRIFT_INVENTORY (spec/cli.md)."""
    env = os.environ if env is None else env
    here = (cwd or Path.cwd()) / "drift.toml"
    if here.exists() or not env.get("DRIFT_INVENTORY"):
        return here
    return Path(env["DRIFT_INVENTORY"]).expanduser()


def load(path: Path, env: Mapping[str, str] | None = None) -> Inventory:
    env = os.environ if env is None else env
    src = TomlSource.read(path, InventoryError)
    return _Parser(src, env).inventory()


class _Parser:
    def __init__(self, src: TomlSource, env: Mapping[str, str]):
        self.src = src
        self.env = env
        self._quoted: dict[str, dict[str, int]] = {}

    def fail(self, message: str, table: str = "", key: str | None = None, line: int | None = None) -> InventoryError:
        where = line if line is not None else self.src.line_of(table, key)
        return InventoryError(message, self.src.path, where)

    def inventory(self) -> Inventory:
        doc = self.src.doc
        self.unknown(doc, _TOP_KEYS, "")
        ssh_table = self.table(doc, "ssh")
        self.unknown(ssh_table, set(_SSH_TYPES), "ssh")
        ssh = self.ssh(ssh_table, SSHSettings(), "ssh", allow_jobs=True)
        collect = self.table(doc, "collect")
        self.unknown(collect, _COLLECT_KEYS, "collect")
        names = self.strings(collect, "collectors", "collect")
        for _i, name in enumerate(names):
            if name not in known_names():
                raise self.fail(
                    f"unknown collector {quote(name)} in collect.collectors "
                    f"(known: {', '.join(sorted(known_names()))})",
                    "collect", "collectors",
                )
        store = self.table(doc, "store")
        self.unknown(store, _STORE_KEYS, "store")
        store_path = self.store_path(store)
        keep_days = store.get("keep_days", 90)
        if not isinstance(keep_days, int) or isinstance(keep_days, bool) or keep_days < 1:
            raise self.fail("store.keep_days must be a whole number of days, at least 1", "store", "keep_days")
        policy = self.table(doc, "policy")
        return Inventory(
            path=self.src.path,
            sha256=hashlib.sha256(self.src.text.encode("utf-8")).hexdigest(),
            ssh=ssh,
            collect=CollectConfig(
                files=self.strings(collect, "files", "collect"),
                python=self.strings(collect, "python", "collect"),
                sysctl=self.strings(collect, "sysctl", "collect"),
            ),
            collectors=names,
            store_path=store_path,
            keep_days=keep_days,
            environments=self.environments(self.table(doc, "environments"), ssh),
            policy_table=policy,
            source=self.src,
        )

    def table(self, parent: Mapping[str, Any], key: str, where: str = "") -> dict[str, Any]:
        value = parent.get(key, {})
        if not isinstance(value, dict):
            name = f"{where}.{key}" if where else key
            raise self.fail(f"{name} must be a table", where, key)
        return value

    def unknown(self, table: Mapping[str, Any], allowed: set[str], where: str, line: int | None = None) -> None:
        for key in table:
            if key not in allowed:
                name = f"{where}.{key}" if where else key
                raise self.fail(
                    f"unknown key {quote(name)} (allowed here: {', '.join(sorted(allowed))})", where, key, line
                )

    def strings(self, table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(f"{where}.{key} must be a list of non-empty strings", where, key)
        return tuple(value)

    def store_path(self, store: Mapping[str, Any]) -> Path:
        base = self.src.path.resolve().parent
        if "path" in store:
            if not isinstance(store["path"], str) or not store["path"]:
                raise self.fail("store.path must be a path string", "store", "path")
            raw = Path(store["path"]).expanduser()
        elif self.env.get("DRIFT_STORE"):
            raw = Path(self.env["DRIFT_STORE"]).expanduser()
        else:
            raw = Path(".drift/drift.db")
        return raw if raw.is_absolute() else base / raw

    def ssh(
        self, table: Mapping[str, Any], base: SSHSettings, where: str,
        allow_jobs: bool = False, line: int | None = None,
    ) -> SSHSettings:
        changes: dict[str, Any] = {}
        for key, value in table.items():
            if key not in _SSH_TYPES or (key == "jobs" and not allow_jobs):
                continue
            kind, description = _SSH_TYPES[key]
            ok = isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)
            if ok and key == "host_key_policy":
                ok = value in ("strict", "accept-new")
            if ok and key in ("port",):
                ok = 0 < value < 65536
            if ok and key in ("connect_timeout", "command_timeout", "jobs"):
                ok = value > 0
            if not ok:
                raise self.fail(f"{where}.{key} must be {description}, not {quote(value)}", where, key, line)
            changes[key] = float(value) if key.endswith("_timeout") else value
        return replace(base, **changes)

    def environments(self, envs: Mapping[str, Any], ssh: SSHSettings) -> dict[str, tuple[Host, ...]]:
        out: dict[str, tuple[Host, ...]] = {}
        seen: dict[str, str] = {}
        for env_name, env_table in envs.items():
            where = f"environments.{env_name}"
            if not isinstance(env_table, dict):
                raise self.fail(f"{where} must be a table", "environments", env_name)
            if env_name in RESERVED_NAMES or ":" in env_name:
                raise self.fail(f"{quote(env_name)} cannot be an environment name", where)
            self.unknown(env_table, _ENV_KEYS, where)
            env_ssh_table = self.table(env_table, "ssh", where)
            self.unknown(env_ssh_table, set(_SSH_TYPES) - {"jobs"}, f"{where}.ssh")
            env_ssh = self.ssh(env_ssh_table, ssh, f"{where}.ssh")
            hosts = env_table.get("hosts", [])
            if not isinstance(hosts, list):
                raise self.fail(f"{where}.hosts must be a list of host tables", where, "hosts")
            parsed = []
            for index, raw in enumerate(hosts):
                host = self.host(raw, index, env_name, env_ssh, where)
                if host.name in seen:
                    raise self.fail(
                        f"host {quote(host.name)} appears twice (also in environment {quote(seen[host.name])})",
                        line=self.host_line(where, raw, index),
                    )
                if host.name in envs or host.name in RESERVED_NAMES:
                    raise self.fail(f"host name {quote(host.name)} clashes with an environment or target name",
                                    line=self.host_line(where, raw, index))
                seen[host.name] = env_name
                parsed.append(host)
            out[env_name] = tuple(parsed)
        return out

    def host_line(self, where: str, raw: Any, index: int) -> int | None:
        if isinstance(raw, dict) and isinstance(raw.get("name"), str):
            found = self.quoted_lines(where).get(raw["name"])
            if found is not None:
                return found
        return self.src.line_of(where, "name", index) or self.src.line_of(where, "hosts")

    def quoted_lines(self, where: str) -> dict[str, int]:
        """Each quoted string of the environment's table -> its first line, indexed once per table:
        a search per host made an inventory of thousands of hosts quadratic to load."""
        if where not in self._quoted:
            start = self.src.line_of(where) or 1
            header = self.src.line_of(where) if where in self.src._headers else None
            end = self.src.table_end(header) if header is not None else len(self.src.lines) + 1
            index: dict[str, int] = {}
            for number in range(start, end):
                for m in _QUOTED.finditer(self.src.lines[number - 1]):
                    index.setdefault(m.group(1), number)
            self._quoted[where] = index
        return self._quoted[where]

    def host(self, raw: Any, index: int, env: str, ssh: SSHSettings, where: str) -> Host:
        line = self.host_line(where, raw, index)
        label = f"{where}.hosts[{index}]"
        if not isinstance(raw, dict):
            raise self.fail(f"{label} must be a table like {{ name = \"web-1\", role = \"web\" }}", line=line)
        self.unknown(raw, _HOST_KEYS, label, line)
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip() or name != name.strip() or "/" in name:
            raise self.fail(f"{label}.name must be a non-empty host name", line=line)
        for key in ("address", "role"):
            if key in raw and (not isinstance(raw[key], str) or not raw[key]):
                raise self.fail(f"{label}.{key} must be a non-empty string", line=line)
        return Host(
            name=name,
            env=env,
            role=raw.get("role", "default"),
            address=raw.get("address", name),
            ssh=self.ssh(raw, ssh, label, line=line),
        )
