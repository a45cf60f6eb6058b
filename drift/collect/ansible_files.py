"""Reading an Ansible inventory from disk: the file itself, then the group_vars/ and host_vars/
directories beside it, which Ansible (and so drift) applies on top of the file's own variables.
The parsing is pure (ansible.py, ansible_yaml.py); this module is the I/O around it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drift.collect import ansible_map
from drift.collect.ansible import Adjacent, Var
from drift.collect.inventory import Host, SSHSettings, read_text
from drift.core.errors import InventoryError

MAX_VARS_FILES = 10_000
_SUFFIXES = ("", ".yml", ".yaml", ".json")


def ansible_hosts(path: Path, text: str, fmt: str, conv: Any, base: SSHSettings) -> dict[str, tuple[Host, ...]]:
    try:
        parsed = ansible_map.parse(path, text, fmt, adjacent(path.parent))
    except InventoryError as exc:
        if exc.path != str(path):  # a group_vars/ or host_vars/ file: its own name says what it is
            raise
        what = "YAML" if fmt == "yaml" else "INI"
        raise InventoryError(f"(read as an Ansible {what} inventory) {exc.detail}", exc.path, exc.line) from None
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
