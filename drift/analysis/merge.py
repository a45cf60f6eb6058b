"""One finding per real difference: a pure step between the differ and policy.

The differ works role by role, so one package upgraded across the fleet comes out once per role, and
one exporter shows up as an iptables rule, an nft rule and a listening socket. A person wants one
row for the first and to see the second as one story. `merge` folds findings that say the same
thing about the same fact in several roles into one that lists its roles; `link` ties findings
about one port together without merging them (each keeps its own path, so its own severity and
waivers).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from drift.analysis.messages import canonical
from drift.model.report import Finding, Kind

_MERGEABLE = (Kind.only_left, Kind.only_right, Kind.changed)


def merge(findings: Sequence[Finding]) -> list[Finding]:
    return link(merge_roles(findings))


def _key(f: Finding) -> tuple[object, ...]:
    # The same difference: same fact, same kind, the same values on each side, the same sentence
    # once the role is taken out of it. Outliers name hosts, which differ by role: never merged.
    values = frozenset((v.env, canonical(v.value)) for v in f.values)
    return (f.category, f.path, f.subject, f.kind, values, f.message.replace(f"({f.role})", "()"), f.detail)


def _grouped(findings: Sequence[Finding], key: Callable[[Finding], tuple[object, ...] | None],
             fold: Callable[[list[Finding]], Finding]) -> list[Finding]:
    """Findings with the same key (None: never grouped) folded into one, in first-seen order."""
    groups: dict[tuple[object, ...], list[Finding]] = {}
    order: list[Finding | tuple[object, ...]] = []
    for f in findings:
        k = key(f) if f.kind in _MERGEABLE else None
        if k is None:
            order.append(f)
            continue
        if k not in groups:
            groups[k] = []
            order.append(k)
        groups[k].append(f)
    return [item if isinstance(item, Finding) else
            groups[item][0] if len(groups[item]) == 1 else fold(groups[item]) for item in order]


def merge_roles(findings: Sequence[Finding]) -> list[Finding]:
    return _grouped(findings, _key, _fold)


def _fold(same: list[Finding]) -> Finding:
    first = same[0]
    roles = tuple(dict.fromkeys(r for f in same for r in f.all_roles))
    envs = list(dict.fromkeys(v.env for f in same for v in f.values))
    values = sorted({(v.env, v.host): v for f in same for v in f.values}.values(),
                    key=lambda v: (envs.index(v.env), v.host))
    message = first.message.replace(f"({first.role})", f"({', '.join(roles)})")
    return replace(first, role=roles[0], roles=roles, values=tuple(values), message=message)


def merge_hosts(findings: Sequence[Finding]) -> list[Finding]:
    """An audit compares each host with its own baseline; the same change on several hosts of a role
    is one finding naming them, not one per host."""
    return _grouped(findings, _host_key, _fold_hosts)


def _host_key(f: Finding) -> tuple[object, ...] | None:
    host = _only_host(f)
    if host is None:
        return None
    return (f.category, f.path, f.subject, f.kind, f.role, frozenset((v.env, canonical(v.value)) for v in f.values),
            _unhost(f.message, host), f.detail)


def _fold_hosts(same: list[Finding]) -> Finding:
    hosts = [h for f in same for h in [_only_host(f)] if h is not None]
    named = ", ".join(hosts[:3]) + (f" and {len(hosts) - 3} more hosts" if len(hosts) > 3 else "")
    message = _unhost(same[0].message, hosts[0]).replace("\0", named)
    values = tuple(sorted((v for f in same for v in f.values), key=lambda v: (v.env != same[0].values[0].env, v.host)))
    return replace(same[0], message=message, values=values)


def _only_host(f: Finding) -> str | None:
    hosts = {v.host for v in f.values}
    return hosts.pop() if len(hosts) == 1 else None


def _unhost(message: str, host: str) -> str:
    """The message with its host (as the differ names it, `(host)` or a closing `on host`) taken out."""
    message = message.replace(f"({host})", "(\0)")
    return message[:-len(host)] + "\0" if message.endswith(f" on {host}") else message


# iptables: `-p tcp -m tcp --dport 9187`; nft: `tcp dport 9187`; both may carry other words between.
_RULE_PORT = re.compile(r"\b(tcp|udp|sctp)\b(?:(?!\b(?:tcp|udp|sctp)\b).)*?\s(?:--)?dport\s+(\d+)\b")
_LISTEN = re.compile(r"^topology/listen/(tcp|udp)/.*:(\d+)$")
_REACH = re.compile(r"^topology/reach/.*/(tcp|udp|sctp)/(\d+)$")  # reachability parity: FROM/TO-ROLE/PROTO/PORT


def port_of(f: Finding) -> tuple[str, str] | None:
    """(protocol, port) a firewall rule opens, a socket listens on or a reachability finding is about;
    None for anything else."""
    if f.category == "firewall":
        m = _RULE_PORT.search(f.subject)
        return (m.group(1), m.group(2)) if m else None
    m = _LISTEN.match(f.path) or _REACH.match(f.path)
    return (m.group(1), m.group(2)) if m else None


def link(findings: Sequence[Finding]) -> list[Finding]:
    """Findings about one port in one role point at each other (`related`, `topic`)."""
    by_port: dict[tuple[str, str, str], list[int]] = {}
    ports: dict[int, tuple[str, str]] = {}
    for i, f in enumerate(findings):
        port = port_of(f)
        if port is None:
            continue
        ports[i] = port
        for role in f.all_roles:
            by_port.setdefault((role, port[0], port[1]), []).append(i)
    out = list(findings)
    for i, port in ports.items():
        f = findings[i]
        others = sorted({j for role in f.all_roles for j in by_port[(role, port[0], port[1])] if j != i})
        if others:
            out[i] = replace(f, related=tuple(dict.fromkeys(findings[j].id for j in others)),
                             topic=f"{port[0]} port {port[1]}")
    return out
