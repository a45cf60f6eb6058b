"""Ansible's INI inventory: host lines, `[group]`, `[group:vars]`, `[group:children]`, read with the
same rules as Ansible's ini plugin, including its refusals (a child group or a `:vars` section for a
group the file never defines)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from drift.collect.ansible.model import Adjacent, AnsibleInventory, Builder, Var
from drift.collect.ansible.ranges import expand, parse_value

_SECTION = re.compile(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$")
_GROUP_NAME = re.compile(r"^([^:\]\s]+)\s*(?:#.*)?$")


@dataclass
class _Pending:
    """A group named before it is defined: by `[g:vars]`, or as a child in `[parent:children]`."""

    line: int
    state: str
    parents: list[str] = field(default_factory=list)


def parse_ini(text: str, path: Path, extra: Adjacent | None = None) -> AnsibleInventory:
    b = Builder(path)
    read_ini(b, text)
    return b.build(extra)


def read_ini(b: Builder, text: str) -> None:
    pending: dict[str, _Pending] = {}
    group, state = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        m = _SECTION.match(line)
        if m:
            group, state = m.group(1), m.group(2) or "hosts"
            if state not in ("hosts", "vars", "children"):
                raise b.fail(f"section [{group}:{state}]: unknown type {state!r} (expected [group], "
                             "[group:vars] or [group:children])", number)
            if group not in b.groups:
                if state == "vars":
                    pending.setdefault(group, _Pending(number, state))
                b.group(group, number)
            if group in pending and state != "vars":
                if pending[group].state == "children":
                    _resolve(b, group, pending)
                else:
                    del pending[group]
            continue
        if line.startswith("[") and line.endswith("]"):
            raise b.fail(f"invalid section header {line[:80]!r}: no spaces, and [group], [group:vars] "
                         "or [group:children]", number)
        if state == "vars":
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                # Not the line itself: a `password: …` typed for `password=…` would be echoed.
                raise b.fail(f"expected key=value in [{group}:vars], not {_shape(line)}", number)
            b.group(group, number).vars[key.strip()] = b.var(parse_value(value.strip()), number)
        elif state == "children":
            named = _GROUP_NAME.match(line)
            if not named:
                raise b.fail(f"expected a group name in [{group}:children], not {line[:80]!r}", number)
            child = named.group(1)
            if child in b.groups:
                b.child(group, child, number)
            else:
                pending.setdefault(child, _Pending(number, "children")).parents.append(group)
        else:
            _host_line(b, group, line, number)
    for name, decl in pending.items():
        if decl.state == "vars":
            raise b.fail(f"[{name}:vars] is for a group this file never defines (Ansible refuses it too): "
                         f"add a [{name}] section or fix the name", decl.line)
        raise b.fail(f"[{decl.parents[-1]}:children] names group {name!r}, which this file never defines "
                     f"(Ansible refuses it too): add a [{name}] section or fix the name", decl.line)


def _resolve(b: Builder, group: str, pending: dict[str, _Pending]) -> None:
    """A pending child group is now defined: link it to its parents, and them to theirs (iteratively)."""
    stack = [group]
    while stack:
        name = stack.pop()
        decl = pending.pop(name, None)
        if decl is None:
            continue
        b.group(name, decl.line)
        for parent in decl.parents:
            b.child(parent, name, decl.line)
            if parent in pending and pending[parent].state == "children":
                stack.append(parent)


def _host_line(b: Builder, group: str, line: str, number: int) -> None:
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError as exc:
        raise b.fail(f"cannot split host line: {exc}", number) from None
    if not tokens:
        return
    names, port = expand(tokens[0], number, b.path, ini=True)
    variables: dict[str, Var] = {}
    for token in tokens[1:]:
        key, sep, value = token.partition("=")
        if not sep or not key:
            raise b.fail(f"expected key=value after the host name, not {_shape(token)}", number)
        variables[key] = b.var(parse_value(value), number)
    for name in names:
        b.host(name, group, number, variables, port)


def _shape(text: str) -> str:
    """What a malformed variable looked like without its value: the name, then how many more characters."""
    name = re.split(r"[\s:=]", text.strip(), maxsplit=1)[0][:40]
    rest = len(text.strip()) - len(name)
    return f"{name!r}" + (f" followed by {rest} more characters" if rest > 0 else "")
