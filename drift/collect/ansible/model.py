"""An Ansible inventory as Ansible builds it, whatever format it was read from.

The readers (ini.py, yml.py, tomlinv.py, external.py) feed one builder, which resolves children and
variable precedence (group vars by depth, then ansible_group_priority, then name; host vars last) the
way ansible-inventory does, keeping the line each host and each variable came from so a mistake points
at the right place. Everything is pure and linear: each line, node and group is visited a bounded
number of times, whatever the input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from drift.core.errors import InventoryError

MAX_HOSTS = 100_000  # a range like web[0:99999999] is a typo, not a fleet
PRINT_WARNING = ("warning: this writes every vault-encrypted value it can decrypt in plain text; keep the "
                 "file out of version control")


class AnsibleOnly(InventoryError):
    """Input only Ansible itself can read (a plugin, a script, vault): ansible-inventory may read it."""

    def __init__(self, feature: str, fix: str, path: str | Path | None, line: int | None = None):
        self.feature = feature
        super().__init__(f"{feature}: drift's built-in reader cannot read this. {fix}", path, line)


def fix_hint(source: str | Path) -> str:
    """What to do about input only Ansible can read, in the words the user can paste."""
    return ("Install ansible-core (pip install ansible-core) so drift runs `ansible-inventory --list` for it, "
            "or set [inventory.ansible] reader = \"ansible\"; or write it out once as a static inventory: "
            f"ansible-inventory -i {source} --list --yaml > hosts.yml ({PRINT_WARNING})")


class Opaque:
    """A value drift does not read: an inline `!vault` secret, or a list or mapping. Harmless unless
    drift needs that very variable (a connection setting), and then the host says which."""

    def __init__(self, what: str):
        self.what = what

    def __repr__(self) -> str:
        return f"<{self.what}>"


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

    def host(self, name: str, group: str, line: int | None, variables: Mapping[str, Var],
             port: int | None = None) -> None:
        """`port` (from `name:port`) counts only where the host is first named, as in Ansible; its
        variables, ansible_port too, apply wherever it is named."""
        if name not in self.host_line:
            if len(self.host_line) >= MAX_HOSTS:
                raise self.fail(f"more than {MAX_HOSTS} hosts", line)
            self.host_line[name] = line
            self.host_file[name] = str(self.path)
            self.host_vars[name] = {} if port is None else {"ansible_port": self.var(port, line)}
        self.host_vars[name].update(variables)
        self.group(group, line).hosts[name] = None

    def child(self, parent: str, child: str, line: int | None) -> None:
        if parent == child:
            raise self.fail(f"group {parent!r} cannot be its own child", line)
        self.group(child, line)
        self.group(parent, line).children[child] = None

    def build(self, extra: Adjacent | None = None) -> AnsibleInventory:
        """Resolve, with Ansible's precedence: inventory `all` < inventory groups (by depth, then
        ansible_group_priority, then name) < group_vars/all < group_vars/<group> (in the same order) <
        the host's own inventory variables < host_vars/<host>."""
        extra = extra or Adjacent()
        top = self.groups["all"]
        held = {child for g in self.groups.values() for child in g.children}
        for name in self.groups:  # every group hangs from `all`, as in Ansible
            if name != "all" and name not in held:
                top.children[name] = None
        depth = self._depths()
        priority = {name: self._priority(name) for name in self.groups}
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
            ordered = sorted(member, key=lambda n: (depth[n], priority[n], n))
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

    def _priority(self, name: str) -> int:
        """ansible_group_priority, which Ansible reads from the inventory's own group variables only."""
        var = self.groups[name].vars.get("ansible_group_priority")
        if var is None:
            return 1
        value = var.value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise InventoryError(f"group {name!r}: ansible_group_priority must be a whole number, not {value!r}",
                                 var.file, var.line)
        return value

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


