"""Ansible's TOML inventory format (`[web.hosts]`, `[web.vars]`, `children = [...]`), told apart from
drift.toml by its content, not its suffix: drift.toml's top-level tables are drift's own."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drift.collect.ansible.model import Adjacent, AnsibleInventory, AnsibleOnly, Builder, Var, fix_hint
from drift.collect.ansible.ranges import expand
from drift.core.errors import InventoryError
from drift.core.tomlsource import TomlSource

DRIFT_KEYS = frozenset({"ssh", "collect", "store", "environments", "policy", "inventory"})
_GROUP_KEYS = ("hosts", "vars", "children")


def is_ansible_toml(doc: Mapping[str, Any]) -> bool:
    """Tables of groups (holding hosts, vars or children, or empty), beside no key of drift's own."""
    if set(doc) & DRIFT_KEYS or not doc:
        return False
    tables = [v for v in doc.values() if isinstance(v, dict)]
    return ("plugin" in doc or any(set(v) & set(_GROUP_KEYS) for v in tables)
            or (len(tables) == len(doc) and all(set(v) <= set(_GROUP_KEYS) for v in tables)))


def parse_toml(text: str, path: Path, extra: Adjacent | None = None) -> AnsibleInventory:
    b = Builder(path)
    read_toml(b, text)
    return b.build(extra)


def read_toml(b: Builder, text: str) -> None:
    src = TomlSource(b.path, text, InventoryError)
    doc = src.doc
    if doc.get("plugin"):
        raise AnsibleOnly(f"an inventory plugin's configuration (plugin = {str(doc['plugin'])[:60]!r})",
                          fix_hint(b.path), b.path, src.line_of("", "plugin"))
    for name, body in doc.items():
        _group(b, src, name, body)


def _group(b: Builder, src: TomlSource, name: str, body: Any) -> None:
    line = src.line_of(name) or src.line_of("", name)
    if body is not None and not isinstance(body, dict):
        raise b.fail(f"group {name!r} must be a table with hosts, vars or children", line)
    b.group(name, line)
    for key, data in (body or {}).items():
        where = src.line_of(name, key) or line
        if key not in _GROUP_KEYS:
            raise b.fail(f"group {name!r}: unknown key {key!r} (allowed: {', '.join(_GROUP_KEYS)})", where)
        if key == "vars":
            if not isinstance(data, dict):
                raise b.fail(f"group {name!r}: vars must be a table", where)
            group = b.group(name, line)
            for var, value in data.items():
                group.vars[var] = Var(value, src.line_of(f"{name}.vars", var) or where, str(b.path))
        elif key == "children":
            if not isinstance(data, list) or not all(isinstance(c, str) for c in data):
                raise b.fail(f"group {name!r}: children must be a list of group names", where)
            for child in data:
                b.child(name, child, where)
        else:
            if not isinstance(data, dict):
                raise b.fail(f"group {name!r}: hosts must be a table", where)
            for pattern, host_vars in data.items():
                host_line = src.line_of(f"{name}.hosts", pattern) or where
                names, port = expand(pattern, host_line, b.path)
                if host_vars is not None and not isinstance(host_vars, dict):
                    raise b.fail(f"host {pattern!r}: its variables must be a table", host_line)
                variables = {k: Var(v, host_line, str(b.path)) for k, v in (host_vars or {}).items()}
                for host in names:
                    b.host(host, name, host_line, variables, port)
