"""Ansible's YAML inventory (`all: {hosts, vars, children}`), read with PyYAML's safe loader.

We walk the composed node graph rather than the constructed objects: nodes carry their line, and
an alias is the same node object, so each (group name, node) pair is visited once however many times
anchors repeat it (a "billion laughs" file stays linear).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import yaml

from drift.collect.ansible.model import Adjacent, AnsibleInventory, AnsibleOnly, Builder, Opaque, Var, fix_hint
from drift.collect.ansible.ranges import expand

_GROUP_KEYS = ("hosts", "vars", "children")


def parse_vars(text: str, path: Path) -> dict[str, Var]:
    """A group_vars/ or host_vars/ file: a mapping of variables (empty files are allowed)."""
    b = Builder(path)
    root = _compose(text, b)
    if root is None or _null(root):
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise b.fail("a variables file must be a mapping of names to values", _line(root))
    _flatten(root, b)
    return _vars(root, b)


def parse_yaml(text: str, path: Path, extra: Adjacent | None = None) -> AnsibleInventory:
    b = Builder(path)
    read_yaml(b, text)
    return b.build(extra)


def read_yaml(b: Builder, text: str) -> None:
    path = b.path
    root = _compose(text, b)
    if root is None or (isinstance(root, yaml.ScalarNode) and root.tag.endswith(":null")):
        return  # an empty file is an empty inventory, as for Ansible
    if not isinstance(root, yaml.MappingNode):
        raise b.fail("an Ansible YAML inventory is a mapping of groups (like `all:`)", _line(root))
    _flatten(root, b)
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "plugin" and not _null(value):
            raise AnsibleOnly(f"an inventory plugin's configuration (plugin: {str(getattr(value, 'value', ''))[:60]})",
                              fix_hint(path), path, _line(key))
    # Depth first in document order, as Ansible's recursion: a host's variables set in a child group
    # before a later `hosts:` of the parent are overridden by it. Iterative, so nesting depth is free.
    stack: list[tuple[str | None, Iterator[tuple[yaml.Node, yaml.Node]]]] = [(None, iter(root.value))]
    seen: set[tuple[str, int]] = set()
    while stack:
        parent, pending = stack[-1]
        pair = next(pending, None)
        if pair is None:
            stack.pop()
            continue
        name, node = _name(pair[0], b, "group"), pair[1]
        line = _line(node)
        b.group(name, line)
        if parent is not None:
            b.child(parent, name, line)  # refuses a group that is its own child, as Ansible does
        if (name, id(node)) in seen or _null(node):
            continue
        seen.add((name, id(node)))
        if not isinstance(node, yaml.MappingNode):
            raise b.fail(f"group {name!r} must be a mapping with hosts, vars or children", line)
        stack.append((name, _sections(b, name, node)))


def _sections(b: Builder, name: str, node: yaml.MappingNode) -> Iterator[tuple[yaml.Node, yaml.Node]]:
    """Read one group's vars and hosts, in order, yielding its children where they come."""
    line = _line(node)
    _flatten(node, b)
    for key_node, value in node.value:
        key = _name(key_node, b, "key")
        if key not in _GROUP_KEYS:
            raise b.fail(f"group {name!r}: unknown key {key!r} (allowed: {', '.join(_GROUP_KEYS)})",
                         _line(key_node))
        if _null(value):
            continue
        if isinstance(value, yaml.ScalarNode) and isinstance(_scalar(value, b), str):
            value = _one(value)  # `hosts: web1` is `hosts: {web1: }` to Ansible
        if not isinstance(value, yaml.MappingNode):
            raise b.fail(f"group {name!r}: {key} must be a mapping", _line(value))
        _flatten(value, b)
        if key == "vars":
            b.group(name, line).vars.update(_vars(value, b))
        elif key == "hosts":
            for host_key, host_vars in value.value:
                _host(b, name, host_key, host_vars)
        else:
            yield from value.value


def _host(b: Builder, group: str, key: yaml.Node, node: yaml.Node) -> None:
    if not isinstance(_scalar(key, b) if isinstance(key, yaml.ScalarNode) else None, str):
        raise b.fail(f"host {getattr(key, 'value', '')!r} must be a string: quote it (Ansible refuses it too)",
                     _line(key))
    names, port = expand(_name(key, b, "host"), _line(key), b.path)
    variables: dict[str, Var] = {}
    if not _null(node):
        if not isinstance(node, yaml.MappingNode):
            raise b.fail(f"host {names[0]!r}: its variables must be a mapping", _line(node))
        _flatten(node, b)
        variables.update(_vars(node, b))
    for host in names:
        b.host(host, group, _line(key), variables, port)


def _one(key: yaml.ScalarNode) -> yaml.MappingNode:
    null = yaml.ScalarNode("tag:yaml.org,2002:null", "", key.start_mark, key.end_mark)
    return yaml.MappingNode("tag:yaml.org,2002:map", [(key, null)], key.start_mark, key.end_mark)


def _compose(text: str, b: Builder) -> yaml.Node | None:
    try:
        loader = yaml.SafeLoader(text)  # refuses a NUL character here already
    except yaml.YAMLError as exc:
        raise b.fail(f"invalid YAML: {exc}".split("\n")[0], None) from None
    try:
        return loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise b.fail(f"invalid YAML: {exc.problem or exc.context}", mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise b.fail(f"invalid YAML: {exc}", None) from None
    except RecursionError:
        raise b.fail("invalid YAML: nested too deeply", None) from None
    finally:
        loader.dispose()


def _flatten(node: yaml.MappingNode, b: Builder) -> None:
    """Resolve `<<:` merge keys in place, as the safe constructor would."""
    if any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value):
        try:
            yaml.constructor.SafeConstructor().flatten_mapping(node)
        except (yaml.YAMLError, RecursionError) as exc:
            raise b.fail(f"invalid merge key: {getattr(exc, 'problem', exc)}", _line(node)) from None


def _vars(node: yaml.MappingNode, b: Builder) -> dict[str, Var]:
    out: dict[str, Var] = {}
    for key, value in node.value:
        # Only scalars matter to drift (ansible_host, ansible_port...); others are kept as a marker.
        out[_name(key, b, "variable")] = b.var(_scalar(value, b) if isinstance(value, yaml.ScalarNode)
                                               else _STRUCTURED, _line(key))
    return out


_STRUCTURED = Opaque("a list or mapping")


def _scalar(node: yaml.ScalarNode, b: Builder) -> object:
    if node.tag == "!vault":  # an inline secret: Ansible too reads the inventory without decrypting it
        return Opaque("vault-encrypted value (!vault)")
    if node.tag == "!unsafe":  # a string Ansible never templates
        return node.value
    try:
        return yaml.constructor.SafeConstructor().construct_object(node)
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        raise b.fail(f"invalid value: {exc}", _line(node)) from None


def _name(node: yaml.Node, b: Builder, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise b.fail(f"a {what} name must be a plain string", _line(node))
    value = _scalar(node, b)
    if value is None or isinstance(value, (bool, bytes)):
        raise b.fail(f"invalid {what} name {node.value!r}", _line(node))
    return str(value)


def _null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _line(node: yaml.Node) -> int | None:
    mark = getattr(node, "start_mark", None)
    return mark.line + 1 if mark is not None else None
