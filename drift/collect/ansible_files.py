"""Reading an Ansible inventory from disk: the file itself, then the group_vars/ and host_vars/
directories beside it, which Ansible (and so drift) applies on top of the file's own variables.
The parsing is pure (ansible.py, ansible_yaml.py); this module is the I/O around it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from drift.collect import ansible_map
from drift.collect.ansible import Adjacent, AnsibleInventory, Builder, Var, read_ini
from drift.collect.inventory import Host, SSHSettings, read_text
from drift.core.errors import InventoryError

MAX_VARS_FILES = 10_000
_SUFFIXES = ("", ".yml", ".yaml", ".json")
# What Ansible skips in an inventory directory (INVENTORY_IGNORE_EXTS), and drift.toml kept beside it.
_IGNORED = (".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry", ".toml")


def load_hosts(path: Path, conv: Any, base: SSHSettings) -> tuple[dict[str, tuple[Host, ...]], str]:
    """(environments, sha256 of what was read) for an Ansible inventory file or directory."""
    if not path.is_dir():
        text = read_text(path)
        envs = ansible_hosts(path, text, ansible_map.kind(path, text) or "ini", conv, base)
        return envs, hashlib.sha256(text.encode("utf-8")).hexdigest()
    parsed, digest = read_directory(path)
    return ansible_map.environments(parsed, conv, base), digest


def read_directory(path: Path) -> tuple[AnsibleInventory, str]:
    """Every inventory file of a directory, read into one inventory as Ansible does, in name order."""
    from drift.collect.ansible_yaml import read_yaml

    b = Builder(path)
    digest = hashlib.sha256()
    for file in sorted(path.iterdir()):
        if not file.is_file() or file.name.startswith(".") or file.name.endswith(_IGNORED):
            continue
        if os.access(file, os.X_OK):
            raise InventoryError("executable: Ansible would run it as a dynamic inventory script, and drift "
                                 "never runs one; write its output to a file instead (ansible-inventory -i "
                                 "SCRIPT --list --yaml > hosts.yml), or clear the executable bit", file)
        text = read_text(file)
        fmt = ansible_map.kind(file, text)
        if fmt is None:
            continue
        digest.update(file.name.encode() + b"\0" + text.encode("utf-8") + b"\0")
        b.path = file
        try:
            (read_yaml if fmt == "yaml" else read_ini)(b, text)
        except InventoryError as exc:
            raise _labelled(exc, fmt) from None
    b.path = path
    return b.build(adjacent(path)), digest.hexdigest()


def _labelled(exc: InventoryError, fmt: str) -> InventoryError:
    what = "YAML" if fmt == "yaml" else "INI"
    return InventoryError(f"(read as an Ansible {what} inventory) {exc.detail}", exc.path, exc.line)


def ansible_hosts(path: Path, text: str, fmt: str, conv: Any, base: SSHSettings) -> dict[str, tuple[Host, ...]]:
    try:
        parsed = ansible_map.parse(path, text, fmt, adjacent(path.parent))
    except InventoryError as exc:
        if exc.path != str(path):  # a group_vars/ or host_vars/ file: its own name says what it is
            raise
        raise _labelled(exc, fmt) from None
    return ansible_map.environments(parsed, conv, base)


def adjacent(directory: Path) -> Adjacent:
    return Adjacent(_read_dir(directory / "group_vars"), _read_dir(directory / "host_vars"))


def _read_dir(folder: Path) -> dict[str, dict[str, Var]]:
    """NAME, NAME.yml, NAME.yaml, NAME.json, or a directory NAME/ of such files (read in name order)."""
    from drift.collect.ansible_yaml import parse_vars

    out: dict[str, dict[str, Var]] = {}
    if not folder.is_dir():
        return out
    entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    if len(entries) > MAX_VARS_FILES:
        raise InventoryError(f"more than {MAX_VARS_FILES} entries", folder)
    for entry in entries:
        if entry.is_dir():
            files = sorted(f for f in entry.rglob("*") if f.is_file() and f.suffix in _SUFFIXES[1:]
                           and not any(part.startswith(".") for part in f.relative_to(entry).parts))
            name = entry.name
        elif entry.is_file() and entry.suffix in _SUFFIXES:
            files, name = [entry], entry.name[: len(entry.name) - len(entry.suffix)] if entry.suffix else entry.name
        else:
            continue
        for file in files[:MAX_VARS_FILES]:
            out.setdefault(name, {}).update(parse_vars(read_text(file), file))
    return out
