"""Ansible inventories, read as Ansible reads them: the INI format here, YAML in ansible_yaml.py.

Both parsers feed one builder, which resolves children, host ranges and variable precedence (group
vars by depth, host vars last) the way ansible-inventory does, keeping the line each host and each
variable came from so a mistake points at the right place. Everything is pure and linear: each line,
node and group is visited a bounded number of times, whatever the input.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from drift.core.errors import InventoryError

MAX_HOSTS = 100_000  # a range like web[0:99999999] is a typo, not a fleet
_LITERAL_MAX = 4096  # longer values stay strings: literal_eval is not worth its cost on them


@dataclass(frozen=True)
class Var:
    value: object
    line: int | None
    file: str | None = None  # None: the inventory file itself; else a group_vars/ or host_vars/ file


@dataclass(frozen=True)
class Adjacent:
    """Variables from the group_vars/ and host_vars/ directories beside the inventory file."""

    groups: Mapping[str, Mapping[str, Var]] = field(default_factory=dict)
    hosts: Mapping[str, Mapping[str, Var]] = field(default_factory=dict)


@dataclass(frozen=True)
class AnsibleHost:
    name: str
    line: int | None
    groups: tuple[str, ...]  # every group holding it, directly or through children; never `all`
    vars: Mapping[str, Var]  # effective: group vars by depth, then the host's own
    file: str | None = None  # the inventory file that first names it (an inventory may be a directory)


@dataclass(frozen=True)
class AnsibleInventory:
    path: Path
    hosts: tuple[AnsibleHost, ...]  # in order of first appearance
    groups: Mapping[str, tuple[str, ...]]  # group -> hosts listed in it directly
    children: Mapping[str, tuple[str, ...]]
    depth: Mapping[str, int]  # longest path from `all`: deeper is more specific


@dataclass
class _Group:
    line: int | None
    hosts: dict[str, None] = field(default_factory=dict)  # ordered set
    children: dict[str, None] = field(default_factory=dict)
    vars: dict[str, Var] = field(default_factory=dict)


class Builder:
    """Collects groups, hosts and variables as a parser meets them, then resolves them once."""

    def __init__(self, path: Path):
        self.root = path  # the inventory: a file, or a directory of files
        self.path = path  # the file being read now, for error messages and variable origins
        self.groups: dict[str, _Group] = {"all": _Group(None), "ungrouped": _Group(None)}
        self.host_line: dict[str, int | None] = {}
        self.host_file: dict[str, str] = {}
        self.host_vars: dict[str, dict[str, Var]] = {}

    def fail(self, message: str, line: int | None) -> InventoryError:
        return InventoryError(message, self.path, line)

    def var(self, value: object, line: int | None) -> Var:
        return Var(value, line, str(self.path))

    def group(self, name: str, line: int | None) -> _Group:
        if not name or any(c.isspace() for c in name):
            raise self.fail(f"invalid group name {name!r}", line)
        if name not in self.groups:
            self.groups[name] = _Group(line)
        elif self.groups[name].line is None:
            self.groups[name].line = line
        return self.groups[name]

    def host(self, name: str, group: str, line: int | None, variables: Mapping[str, Var]) -> None:
        if len(self.host_line) >= MAX_HOSTS and name not in self.host_line:
            raise self.fail(f"more than {MAX_HOSTS} hosts", line)
        self.host_line.setdefault(name, line)
        self.host_file.setdefault(name, str(self.path))
        self.host_vars.setdefault(name, {}).update(variables)
        self.group(group, line).hosts[name] = None

    def child(self, parent: str, child: str, line: int | None) -> None:
        if parent == child:
            raise self.fail(f"group {parent!r} cannot be its own child", line)
        self.group(child, line)
        self.group(parent, line).children[child] = None

    def build(self, extra: Adjacent | None = None) -> AnsibleInventory:
        """Resolve, with Ansible's precedence: inventory `all` < inventory groups (by depth) <
        group_vars/all < group_vars/<group> (by depth) < the host's inventory line < host_vars/<host>."""
        extra = extra or Adjacent()
        top = self.groups["all"]
        held = {child for g in self.groups.values() for child in g.children}
        for name in self.groups:  # every group hangs from `all`, as in Ansible
            if name != "all" and name not in held:
                top.children[name] = None
        depth = self._depths()
        parents: dict[str, list[str]] = {name: [] for name in self.groups}
        for name, g in self.groups.items():
            for child in g.children:
                parents[child].append(name)
        ancestors = _closure(parents)
        direct_of: dict[str, list[str]] = {name: [] for name in self.host_line}
        for gname, g in self.groups.items():
            for h in g.hosts:
                if gname != "all":
                    direct_of[h].append(gname)
        hosts = []
        for name, line in self.host_line.items():
            direct = direct_of[name]
            if len(direct) > 1:  # a host listed before any section and then in a group is not ungrouped
                direct = [g for g in direct if g != "ungrouped"]
            member = {a for g in direct for a in ancestors[g]} | set(direct)
            member.discard("all")
            if not member:
                member = {"ungrouped"}
            merged: dict[str, Var] = dict(self.groups["all"].vars)
            ordered = sorted(member, key=lambda n: (depth[n], n))
            for gname in ordered:
                merged.update(self.groups[gname].vars)
            for gname in ("all", *ordered):
                merged.update(extra.groups.get(gname, {}))
            merged.update(self.host_vars[name])
            merged.update(extra.hosts.get(name, {}))
            hosts.append(AnsibleHost(name, line, tuple(sorted(member)), merged, self.host_file[name]))
        return AnsibleInventory(
            self.root, tuple(hosts),
            {n: tuple(g.hosts) for n, g in self.groups.items()},
            {n: tuple(g.children) for n, g in self.groups.items()},
            depth,
        )

    def _depths(self) -> dict[str, int]:
        """Longest path from `all` (Kahn's order, so a loop is found, not followed forever)."""
        incoming = {name: 0 for name in self.groups}
        for g in self.groups.values():
            for child in g.children:
                incoming[child] += 1
        depth = dict.fromkeys(self.groups, 0)
        ready = [n for n, count in incoming.items() if count == 0]
        seen = 0
        while ready:
            name = ready.pop()
            seen += 1
            for child in self.groups[name].children:
                depth[child] = max(depth[child], depth[name] + 1)
                incoming[child] -= 1
                if incoming[child] == 0:
                    ready.append(child)
        if seen != len(self.groups):
            looped = sorted(n for n, count in incoming.items() if count > 0)
            raise self.fail(f"groups {', '.join(looped)} are children of each other (a loop)",
                            self.groups[looped[0]].line)
        return depth


def _closure(parents: Mapping[str, list[str]]) -> dict[str, frozenset[str]]:
    """Every ancestor of every group, each computed once (iteratively: nesting depth is unbounded)."""
    done: dict[str, frozenset[str]] = {}
    for start in parents:
        stack = [start]
        while stack:
            name = stack[-1]
            pending = [p for p in parents[name] if p not in done]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            if name not in done:
                done[name] = frozenset(parents[name]).union(*(done[p] for p in parents[name]))
    return done


def parse_value(text: str) -> object:
    """What Ansible makes of `key=value` in INI: a Python literal if it is one, else the string."""
    if len(text) > _LITERAL_MAX:
        return text
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


_RANGE = re.compile(r"\[([0-9a-zA-Z]+):([0-9a-zA-Z]+)(?::([0-9]+))?\]")
_PORT = re.compile(r"^(.*?):([0-9]+)$")


def expand(pattern: str, line: int | None, fail_path: Path) -> tuple[list[str], int | None]:
    """A host pattern: `name`, `name:port`, `[v6::addr]:port`, and ranges `web[01:03]`, `db-[a:c]`."""
    def fail(message: str) -> InventoryError:
        return InventoryError(f"host pattern {pattern!r}: {message}", fail_path, line)

    port: int | None = None
    name = pattern
    m = _PORT.match(pattern)
    if m and m.group(1).count("[") == m.group(1).count("]") and ":" not in _outside_brackets(m.group(1)):
        name, port = m.group(1), int(m.group(2))
        if not 0 < port < 65536:
            raise fail(f"port {port} is out of range")
    if name.startswith("[") and name.endswith("]") and ":" in name and not _RANGE.fullmatch(name):
        name = name[1:-1]  # [fe80::1]:22
    if not name:
        raise fail("empty host name")
    names = [name]
    while _RANGE.search(names[0]):
        out: list[str] = []
        for current in names:
            m2 = _RANGE.search(current)
            assert m2 is not None
            for part in _range_items(m2.group(1), m2.group(2), m2.group(3), fail):
                out.append(current[: m2.start()] + part + current[m2.end():])
                if len(out) > MAX_HOSTS:
                    raise fail(f"expands to more than {MAX_HOSTS} hosts")
        names = out
    if any(c in n for n in names for c in "[]"):
        raise fail("unbalanced or invalid range (expected like web[01:03] or db-[a:c])")
    return names, port


def _outside_brackets(text: str) -> str:
    return re.sub(r"\[[^\]]*\]", "", text)


def _range_items(start: str, end: str, stride: str | None,
                 error: Callable[[str], InventoryError]) -> Iterator[str]:
    step = int(stride) if stride else 1
    if step < 1:
        raise error("range stride must be at least 1")
    if start.isdigit() and end.isdigit():
        first, last = int(start), int(end)
        if last < first:
            raise error(f"range [{start}:{end}] ends before it starts")
        if (last - first) // step >= MAX_HOSTS:
            raise error(f"expands to more than {MAX_HOSTS} hosts")
        width = len(start) if start.startswith("0") and len(start) > 1 else 0
        for n in range(first, last + 1, step):
            yield str(n).zfill(width)
    elif len(start) == 1 and len(end) == 1 and start.isalpha() and end.isalpha():
        if ord(end) < ord(start):
            raise error(f"range [{start}:{end}] ends before it starts")
        for n in range(ord(start), ord(end) + 1, step):
            yield chr(n)
    else:
        raise error(f"range [{start}:{end}]: both ends numbers, or both single letters")


_SECTION = re.compile(r"^\[([^\]:\s]+)(?::([A-Za-z0-9_]+))?\]\s*(?:[#;].*)?$")


def parse_ini(text: str, path: Path, extra: Adjacent | None = None) -> AnsibleInventory:
    b = Builder(path)
    read_ini(b, text)
    return b.build(extra)


def read_ini(b: Builder, text: str) -> None:
    """Ansible's INI inventory: host lines, `[group]`, `[group:vars]`, `[group:children]`."""
    group, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        m = _SECTION.match(line)
        if m or (line.startswith("[") and line.endswith("]")):  # else a host line like [fe80::1]:22
            if not m or (m.group(2) or "hosts") not in ("hosts", "vars", "children"):
                raise b.fail(f"invalid section header {line[:80]!r} (expected [group], [group:vars] "
                             "or [group:children])", number)
            group, kind = m.group(1), m.group(2) or "hosts"
            b.group(group, number)
            continue
        if kind == "vars":
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise b.fail(f"expected key=value in [{group}:vars], not {line[:80]!r}", number)
            b.group(group, number).vars[key.strip()] = b.var(parse_value(value.strip()), number)
        elif kind == "children":
            b.child(group, line.split()[0] if line.split() else line, number)
        else:
            _host_line(b, group, line, number)


def _host_line(b: Builder, group: str, line: str, number: int) -> None:
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError as exc:
        raise b.fail(f"cannot split host line: {exc}", number) from None
    if not tokens:
        return
    names, port = expand(tokens[0], number, b.path)
    variables: dict[str, Var] = {}
    if port is not None:
        variables["ansible_port"] = b.var(port, number)
    for token in tokens[1:]:
        key, sep, value = token.partition("=")
        if not sep or not key:
            raise b.fail(f"expected key=value after the host name, not {token[:80]!r}", number)
        variables[key] = b.var(parse_value(value), number)
    for name in names:
        b.host(name, group, number, variables)
