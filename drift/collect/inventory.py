"""drift.toml: environments, roles, hosts, SSH settings, what to collect, policy (spec/inventory.md).

Unknown keys are errors naming the key and its line, so a typo never silently disables a check.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from collectors import known_names
from collectors.files import glob_regex
from collectors.interface import CollectConfig
from drift.core.errors import InventoryError
from drift.core.sanitize import quote
from drift.core.tomlsource import TomlSource

HostKeyPolicy = Literal["strict", "accept-new"]
RESERVED_NAMES = frozenset({"local"})
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(name: str) -> str:
    """A table key as TOML writes it: bare when it can be, else quoted with escapes, so a name holding
    a line break can neither forge a line of the message nor a dot be misread as a path."""
    return name if _BARE_KEY.fullmatch(name) else json.dumps(name)


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

    @property
    def all_roles(self) -> tuple[str, ...]:
        return self.roles or (self.role,)


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
    # A shared PostgreSQL store instead of the SQLite file; it may hold a password: never print it.
    store_url: str | None = field(default=None, repr=False)

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
    "config": (str, "a path string"),
    "proxy_jump": (str, 'a jump host like "user@bastion:22" (comma-separated for several), or "none"'),
}
_HOST_KEYS = {"name", "address", "role", "roles"} | (set(_SSH_TYPES) - {"jobs"})
_TOP_KEYS = {"ssh", "collect", "store", "environments", "policy", "inventory"}
_ANSIBLE_KEYS = {"path", "environments", "environment", "roles", "ignore_groups"}
_COLLECT_KEYS = {"collectors", "files", "python", "sysctl", "content", "content_max_bytes", "secret_keys"}
_STORE_KEYS = {"path", "url", "keep_days"}
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
    """drift.toml, or an Ansible INI or YAML inventory read directly (docs/inputs.md)."""
    env = os.environ if env is None else env
    from drift.collect import ansible_map

    text = "" if path.is_dir() else read_text(path)
    if path.is_dir() or ansible_map.kind(path, text) is not None:
        from drift.collect.ansible_files import load_hosts

        base = SSHSettings()
        envs, digest = load_hosts(path, ansible_map.Convention(), base)
        return Inventory(path=path, sha256=digest, ssh=base,
                         collect=CollectConfig(), collectors=(), store_path=_store_path(path, {}, env),
                         keep_days=90, environments=envs, policy_table={},
                         store_url=env.get("DRIFT_STORE_URL") or None)
    return _Parser(TomlSource(path, text, InventoryError), env).inventory()


def read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InventoryError("file not found", path) from None
    except OSError as exc:
        raise InventoryError(f"cannot read: {exc.strerror}", path) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InventoryError("not valid UTF-8", path, raw[: exc.start].count(b"\n") + 1) from None


def _store_path(inventory: Path, store: Mapping[str, Any], env: Mapping[str, str]) -> Path:
    base = inventory.resolve().parent
    if "path" in store:
        raw = Path(store["path"]).expanduser()
    elif env.get("DRIFT_STORE"):
        raw = Path(env["DRIFT_STORE"]).expanduser()
    else:
        raw = Path(".drift/drift.db")
    return raw if raw.is_absolute() else base / raw


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
        store_url = self.store_url(store)
        keep_days = store.get("keep_days", 90)
        if not isinstance(keep_days, int) or isinstance(keep_days, bool) or keep_days < 1:
            raise self.fail("store.keep_days must be a whole number of days, at least 1", "store", "keep_days")
        policy = self.table(doc, "policy")
        return Inventory(
            path=self.src.path,
            sha256=hashlib.sha256(self.src.text.encode("utf-8")).hexdigest(),
            ssh=ssh,
            collect=self.collect(collect),
            collectors=names,
            store_path=store_path,
            keep_days=keep_days,
            environments=self.merge(self.environments(self.table(doc, "environments"), ssh),
                                    self.ansible(doc, ssh)),
            policy_table=policy,
            source=self.src,
            store_url=store_url,
        )

    def collect(self, collect: Mapping[str, Any]) -> CollectConfig:
        files = self.strings(collect, "files", "collect")
        for pattern in files:
            if "//" in pattern:
                raise self.fail(f"collect.files: {pattern!r} holds `//`; write the path with single slashes",
                                "collect", "files")
        content = self.strings(collect, "content", "collect")
        for pattern in content:
            # content is a subset of files: a file is hashed first, and only then maybe read.
            if not any(pattern == f or glob_regex(f).fullmatch(pattern) for f in files):
                raise self.fail(f"collect.content: {pattern!r} is not among collect.files (content is a subset "
                                "of files)", "collect", "content")
        cap = collect.get("content_max_bytes", CollectConfig.content_max_bytes)
        if not isinstance(cap, int) or isinstance(cap, bool) or not 0 < cap <= 16 * 1024 * 1024:
            raise self.fail("collect.content_max_bytes must be a number of bytes from 1 to 16777216",
                            "collect", "content_max_bytes")
        return CollectConfig(
            files=files,
            python=self.strings(collect, "python", "collect"),
            sysctl=self.strings(collect, "sysctl", "collect"),
            content=content,
            content_max_bytes=cap,
            secret_keys=self.strings(collect, "secret_keys", "collect"),
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

    def store_url(self, store: Mapping[str, Any]) -> str | None:
        """[store] url, else $DRIFT_STORE_URL (spec/cli.md, The store); None means the SQLite file."""
        if "url" in store:
            url = store["url"]
            if not isinstance(url, str) or not url.startswith(("postgresql://", "postgres://")):
                raise self.fail("store.url must be a postgresql:// URL", "store", "url")
            if "path" in store:
                raise self.fail("store.url and store.path both name a store: keep one", "store", "url")
            return url
        if "path" in store:
            return None
        return self.env.get("DRIFT_STORE_URL") or None

    def store_path(self, store: Mapping[str, Any]) -> Path:
        if "path" in store and (not isinstance(store["path"], str) or not store["path"]):
            raise self.fail("store.path must be a path string", "store", "path")
        return _store_path(self.src.path, store, self.env)

    def ansible(self, doc: Mapping[str, Any], ssh: SSHSettings) -> dict[str, tuple[Host, ...]]:
        """[inventory.ansible]: hosts from an Ansible inventory, mapped by a convention."""
        from drift.collect import ansible_map

        table = self.table(doc, "inventory")
        self.unknown(table, {"ansible"}, "inventory")
        if "ansible" not in table:
            return {}
        conf = self.table(table, "ansible", "inventory")
        where = "inventory.ansible"
        self.unknown(conf, _ANSIBLE_KEYS, where)
        raw = conf.get("path")
        if not isinstance(raw, str) or not raw:
            raise self.fail(f"{where}.path must name the Ansible inventory file", where, "path")
        for key in ("environment",):
            if key in conf and (not isinstance(conf[key], str) or not conf[key]):
                raise self.fail(f"{where}.{key} must be a non-empty string", where, key)
        lists = {key: self.strings(conf, key, where) if key in conf else None
                 for key in ("environments", "roles", "ignore_groups")}
        path = Path(raw).expanduser()
        path = path if path.is_absolute() else self.src.path.resolve().parent / path
        conv = ansible_map.Convention(lists["environments"], conf.get("environment"), lists["roles"],
                                      lists["ignore_groups"] or ())
        if not path.exists():
            raise self.fail(f"{where}.path: {path}: file not found", where, "path")
        from drift.collect.ansible_files import load_hosts

        return load_hosts(path, conv, ssh)[0]

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
            if ok and key == "proxy_jump":
                ok = bool(value.strip()) and all(h.strip() and not any(c.isspace() for c in h.strip())
                                                 for h in value.split(","))
            if ok and key == "config":
                value = str(self.src.path.resolve().parent / Path(value).expanduser())
                if not Path(value).is_file():
                    raise self.fail(f"{where}.config: no ssh config file at {value}", where, key, line)
            if not ok:
                raise self.fail(f"{where}.{key} must be {description}, not {quote(value)}", where, key, line)
            changes[key] = float(value) if key.endswith("_timeout") else value
        out = replace(base, **changes)
        for key in ("identity_file", "known_hosts"):
            if key in changes:
                out = out.with_origin(key, str(self.src.path), line if line is not None
                                      else self.src.line_of(where, key))
        return out

    def environments(self, envs: Mapping[str, Any], ssh: SSHSettings) -> dict[str, tuple[Host, ...]]:
        out: dict[str, tuple[Host, ...]] = {}
        seen: dict[str, str] = {}
        for env_name, env_table in envs.items():
            where = f"environments.{_key(env_name)}"
            if not isinstance(env_table, dict):
                raise self.fail(f"{where} must be a table", "environments", env_name)
            if env_name in RESERVED_NAMES or ":" in env_name or not env_name.isprintable():
                raise self.fail(f"{quote(env_name)} cannot be an environment name", "environments", env_name)
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

    def roles(self, raw: dict[str, Any], label: str, line: int | None) -> tuple[str, ...]:
        """`role = "web"` or `roles = ["web", "worker"]`: one spelling per host, so the two never disagree."""
        if "role" in raw and "roles" in raw:
            raise self.fail(f"{label}: give role or roles, not both", line=line)
        if "roles" not in raw:
            role = raw.get("role", "default")
            if "," in role:
                raise self.fail(f"{label}.role must not contain a comma: {role!r}", line=line)
            return (role,)
        value = raw["roles"]
        if (not isinstance(value, list) or not value or not all(isinstance(r, str) and r for r in value)
                or len(set(value)) != len(value) or any("," in r for r in value)):
            raise self.fail(f"{label}.roles must be a non-empty list of distinct role names without commas, "
                            f"like [\"web\", \"worker\"]", line=line)
        return tuple(value)

    def merge(self, own: dict[str, tuple[Host, ...]],
              ansible: dict[str, tuple[Host, ...]]) -> dict[str, tuple[Host, ...]]:
        names = {h.name for hosts in own.values() for h in hosts}
        for env, hosts in ansible.items():
            if env in own:
                raise self.fail(f"environment {env!r} is defined here and in the Ansible inventory",
                                "environments", env)
            for h in hosts:
                if h.name in names or h.name in own:
                    raise self.fail(f"host {h.name!r} of the Ansible inventory clashes with a name here",
                                    "inventory.ansible", "path")
        return {**own, **ansible}

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
        roles = self.roles(raw, label, line)
        return Host(
            name=name,
            env=env,
            role=roles[0],
            roles=roles if len(roles) > 1 else (),
            address=raw.get("address", name),
            ssh=self.ssh(raw, ssh, label, line=line),
        )
