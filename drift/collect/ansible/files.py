"""Reading an Ansible inventory from disk: a file or a directory of them, then the group_vars/ and
host_vars/ directories beside it, which Ansible (and so drift) applies on top of the files' own
variables. What only Ansible can read goes to ansible-inventory when it is on PATH (external.py), or
is refused with the fix. The parsing is pure (ini.py, yml.py, tomlinv.py); this module is the I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from drift.collect.ansible import external, mapping
from drift.collect.ansible.formats import kind, read_file, refuse_unreadable
from drift.collect.ansible.model import Adjacent, AnsibleInventory, AnsibleOnly, Builder, Var
from drift.collect.ansible.yml import parse_vars
from drift.collect.hosts import Host, SSHSettings, read_text
from drift.core.errors import InventoryError

MAX_VARS_FILES = 10_000
MAX_FILES = 10_000
_SUFFIXES = ("", ".yml", ".yaml", ".json")
# What Ansible skips in an inventory directory (INVENTORY_IGNORE_EXTS and its fixed names).
_IGNORED = (".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry")
_SKIPPED_DIRS = ("group_vars", "host_vars", "vars_plugins")
READERS = ("builtin", "ansible")


def load_hosts(path: Path, conv: mapping.Convention, base: SSHSettings, reader: str = "builtin",
               env: Mapping[str, str] | None = None) -> tuple[dict[str, tuple[Host, ...]], str]:
    """(environments, sha256 of what was read) for an Ansible inventory file or directory.

    The built-in reader is the default; what it cannot read (AnsibleOnly) goes to ansible-inventory
    when that is on PATH, else the refusal stands, naming the file, the feature and the fix."""
    env = {} if env is None else env
    if reader == "ansible":
        inv, digest = external.run(path, env)
    else:
        try:
            inv, digest = read(path)
        except AnsibleOnly as exc:
            if external.find(env) is None:
                raise
            try:
                inv, digest = external.run(path, env)
            except InventoryError as failed:
                raise InventoryError(f"{exc.feature}; drift asked ansible-inventory instead, and {failed.detail}",
                                     exc.path, exc.line) from None
    return mapping.environments(inv, conv, base), digest


def read(path: Path) -> tuple[AnsibleInventory, str]:
    """The built-in reader: a file, or every inventory file of a directory in name order, as Ansible."""
    b = Builder(path)
    digest = hashlib.sha256()
    if path.is_dir():
        _read_tree(b, path, path, digest, [0])
        b.path = path
        return b.build(adjacent(path)), digest.hexdigest()
    text = read_text(path)
    refuse_unreadable(path, text, path)
    fmt = kind(path, text)
    if fmt is None:
        raise InventoryError("this is a drift.toml (its tables are drift's own), not an Ansible inventory", path)
    _read_one(b, path, text, fmt)
    digest.update(text.encode("utf-8"))
    return b.build(adjacent(path.parent)), digest.hexdigest()


def _read_tree(b: Builder, folder: Path, source: Path, digest: hashlib._Hash, count: list[int]) -> None:
    for entry in sorted(folder.iterdir()):
        name = entry.name
        if name.startswith(".") or name in _SKIPPED_DIRS or name.endswith(_IGNORED):
            continue
        count[0] += 1
        if count[0] > MAX_FILES:
            raise InventoryError(f"more than {MAX_FILES} files", source)
        if entry.is_dir() and not entry.is_symlink():
            _read_tree(b, entry, source, digest, count)  # Ansible reads subdirectories as inventories too
            continue
        if not entry.is_file():
            continue
        text = read_text(entry)
        refuse_unreadable(entry, text, source)
        fmt = kind(entry, text)
        if fmt is None:
            continue  # drift.toml beside the inventory
        digest.update(str(entry.relative_to(source)).encode() + b"\0" + text.encode("utf-8") + b"\0")
        b.path = entry
        _read_one(b, entry, text, fmt)


def _read_one(b: Builder, path: Path, text: str, fmt: str) -> None:
    b.path = path
    try:
        read_file(b, text, fmt)
    except AnsibleOnly:
        raise
    except InventoryError as exc:
        if exc.path != str(path):  # a group_vars/ or host_vars/ file: its own name says what it is
            raise
        what = {"yaml": "YAML", "toml": "TOML"}.get(fmt, "INI")
        raise InventoryError(f"(read as an Ansible {what} inventory) {exc.detail}", exc.path, exc.line) from None


def adjacent(directory: Path) -> Adjacent:
    return Adjacent(_read_dir(directory / "group_vars", directory), _read_dir(directory / "host_vars", directory))


def _read_dir(folder: Path, source: Path) -> dict[str, dict[str, Var]]:
    """NAME, NAME.yml, NAME.yaml, NAME.json, or a directory NAME/ of such files (read in name order)."""
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
            text = read_text(file)
            refuse_unreadable(file, text, source)
            out.setdefault(name, {}).update(parse_vars(text, file))
    return out
