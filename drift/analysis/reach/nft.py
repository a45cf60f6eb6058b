"""nftables base chains' verdict for one packet, from the nft collector's facts.

Facts are `firewall/nft/<family> <table>/<chain>` = {"type", "hook", "priority", "policy",
"rules": [rule text as `nft list ruleset` reads]} and `.../set <name>` = {"type", "elements"}.
A rule is read statement by statement; a statement this module does not know makes the rule's
match unknown (or, for a verdict it cannot read, the outcome unknown). Each rule is named by its
own text in findings, as iptables rules are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from drift.analysis.reach.packet import (
    RETURN,
    Match,
    Outcome,
    Packet,
    accepted,
    any_of,
    iface,
    in_net,
    in_ports,
    maybe,
    negate,
    refused,
    then,
    unknown,
)

_TOKEN = re.compile(r'"[^"]*"|\{ [^{}]* \}|\{"[^\n]*\}|\S+')
_OPS = {"==", "!=", "in"}
_PAIR = {"ip", "ip6", "tcp", "udp", "th", "meta", "ct", "icmp", "icmpv6", "sctp", "ether", "vlan", "arp",
         "ah", "esp", "comp", "udplite", "dccp", "rt", "fib", "socket", "osf", "numgen", "jhash"}
_SINGLE = {"iifname", "oifname", "iif", "oif", "l4proto", "nfproto", "mark", "skuid", "skgid"}
_FAMILIES_V4 = {"ip", "inet"}
_MAX_DEPTH = 64

Sets = Mapping[str, list[str]]
# table -> (chains, sets, parsed rules by (chain, index, where)): read from the facts once per host
Tables = dict[str, tuple[dict[str, Mapping[str, Any]], dict[str, list[str]], dict[tuple[str, int, str], "Rule"]]]


@dataclass(frozen=True)
class Rule:
    label: str
    tests: tuple[Callable[[Packet], Match], ...]
    unknown: tuple[str, ...]  # statements read as unknown matches
    verdict: str  # accept, drop, reject, return, continue, jump X, goto X, unknown, or "" (none)


def parse_rule(text: str, label: str, sets: Sets) -> Rule:
    words = _TOKEN.findall(text)
    tests: list[Callable[[Packet], Match]] = []
    unknowns: list[str] = []
    verdict = ""
    i = 0
    while i < len(words):
        w = words[i]
        if w in ("accept", "drop", "return", "continue"):
            verdict, i = w, i + 1
        elif w == "reject":
            verdict, i = "drop", i + 1
            while i < len(words) and words[i] != "comment":
                i += 1  # `with icmpx admin-prohibited`, `with tcp reset None`: how, not whether
        elif w in ("jump", "goto") and i + 1 < len(words):
            verdict, i = f"{w} {words[i + 1]}", i + 2
        elif w in ("dnat", "redirect", "queue", "tproxy"):
            verdict = "unknown"  # the destination changes, or userspace decides
            break
        elif w in ("snat", "masquerade"):
            break  # the source address changes: the packet still passes
        elif w == "comment":
            i += 2
        elif w == "log":
            i += 1
            while i + 1 < len(words) and words[i] in ("level", "prefix", "group", "snaplen", "queue-threshold",
                                                      "flags"):
                i += 2
        elif w == "counter":
            i += 1
        elif w == "limit":
            unknowns.append("a rate limit")
            i += 5 if i + 4 < len(words) and words[i + 3] == "burst" else 3
        elif w == "xt" and i + 2 < len(words):
            if words[i + 1] == "target":
                verdict = "unknown"
            else:
                unknowns.append(f"xt match {words[i + 2]}")
            i += 3
        elif w.startswith('{"'):
            if '"vmap"' in w or '"queue"' in w or '"dnat"' in w or '"redirect"' in w:
                verdict = "unknown"
            i += 1  # another statement (mark, meta set): changes nothing about passing
        elif w in _SINGLE or (w in _PAIR and i + 1 < len(words)):
            left = w if w in _SINGLE else f"{w} {words[i + 1]}"
            i += 1 if w in _SINGLE else 2
            op = "=="
            if i < len(words) and (words[i] in _OPS or words[i] in ("<", ">", "<=", ">=")):
                op, i = words[i], i + 1
            right = words[i] if i < len(words) else ""
            i += 1
            test = _match(left, op, right, sets)
            if test is None:
                unknowns.append(f"{left} {op} {right}")
            else:
                tests.append(test)
        else:
            unknowns.append(f"statement {w!r}")
            i += 1
    return Rule(label, tuple(tests), tuple(unknowns), verdict)


def _values(right: str, sets: Sets) -> list[str] | None:
    if right.startswith("@"):
        return sets.get(right[1:])
    if right.startswith("{ "):
        return [v.strip() for v in right[2:-2].split(",") if v.strip()]
    return [right]


def _match(left: str, op: str, right: str, sets: Sets) -> Callable[[Packet], Match] | None:
    values = _values(right, sets)
    if values is None or op not in ("==", "!=", "in"):
        return None
    values = [v.split(" timeout ")[0].split(" expires ")[0].split(" comment ")[0].strip('"') for v in values]
    neg = op == "!="
    if left in ("ip saddr", "ip daddr"):
        return lambda p: negate(any_of([in_net(p.src if left == "ip saddr" else p.dst, v) for v in values]), neg)
    if left in ("ip6 saddr", "ip6 daddr", "ip6 nexthdr"):
        return lambda p: False  # an IPv6 header match never holds for IPv4, negated or not
    if left in ("tcp dport", "tcp sport", "udp dport", "udp sport", "th dport", "th sport"):
        proto, field = left.split()

        def ports(p: Packet) -> Match:
            if proto != "th" and p.proto != proto:
                return False
            port = p.dport if field == "dport" else p.sport
            return negate(any_of([in_ports(port, v) for v in values]), neg)
        return ports
    if left in ("meta l4proto", "ip protocol", "l4proto"):
        return lambda p: negate(p.proto in values, neg)
    if left in ("meta nfproto", "nfproto"):
        return lambda p: negate("ipv4" in values, neg)
    if left in ("iifname", "oifname", "iif", "oif", "meta iifname", "meta oifname"):
        incoming = left.endswith(("iifname", "iif"))
        return lambda p: negate(any_of([iface(p.iif if incoming else p.oif, v) for v in values]), neg)
    if left == "ct state":
        states = {s.strip().upper() for v in values for s in v.split(",")}
        return lambda p: negate(p.state in states, neg)
    return None


def tables_v4(facts: Mapping[str, Any]) -> Tables:
    """{"inet acme": (chains, sets, {})} for the families that see IPv4 packets."""
    out: Tables = {}
    for key, value in facts.items():
        if not key.startswith("firewall/nft/") or not isinstance(value, dict):
            continue
        table, _, name = key[len("firewall/nft/"):].rpartition("/")
        if table.split(" ", 1)[0] not in _FAMILIES_V4:
            continue
        chains, sets, _ = out.setdefault(table, ({}, {}, {}))
        if name.startswith(("set ", "map ")):
            elements = value.get("elements")
            if name.startswith("set ") and isinstance(elements, list):
                sets[name[4:]] = [str(e) for e in elements]
        else:
            chains[name] = value
    return out


def base_chains(facts: Mapping[str, Any], hook: str, tables: Tables | None = None) -> list[tuple[int, str, str]]:
    """(priority, table, chain) of every IPv4 base chain at hook, in the kernel's order."""
    found = []
    for table, (chains, _, _) in (tables if tables is not None else tables_v4(facts)).items():
        for name, body in chains.items():
            if body.get("hook") == hook:
                prio = body.get("priority")
                found.append((prio if isinstance(prio, int) else 0, table, name))
    return sorted(found)


def evaluate(facts: Mapping[str, Any], table: str, chain: str, packet: Packet, where: str = "",
             tables: Tables | None = None) -> Outcome:
    chains, sets, parsed = (tables if tables is not None else tables_v4(facts)).get(table, ({}, {}, {}))
    body = chains.get(chain, {})
    label = f"{where}nft {table} {chain}"
    if body.get("type") not in ("filter", "route", "nat"):
        return unknown(f"{label}: chain type {body.get('type')} is not one drift evaluates")
    result = _chain(chains, sets, parsed, chain, packet, f"{where}nft {table}", {}, set(), 0)
    policy = str(body.get("policy") or "accept")
    end = f"{label} policy {policy}"
    if body.get("type") == "nat":
        # A nat chain never drops by policy; a rule that rewrites the destination is what matters.
        return then(result, accepted(end))
    return then(result, accepted(end) if policy == "accept" else refused(end) if policy == "drop" else unknown(
        f"{end}: a policy drift does not know"))


def _chain(chains: Mapping[str, Mapping[str, Any]], sets: Sets, parsed: dict[tuple[str, int, str], Rule], name: str,
           p: Packet, where: str, memo: dict[str, Outcome], active: set[str], depth: int) -> Outcome:
    if name in memo:
        return memo[name]
    if name not in chains or name in active or depth > _MAX_DEPTH:
        return unknown(f"{where} {name}: no such chain, or jumps loop or nest too deep")
    rules = chains[name].get("rules")
    if not isinstance(rules, list):
        return unknown(f"{where} {name}: rules not recorded")
    active.add(name)
    # Top down to the first rule that surely ends the chain; what follows it is never reached.
    reached: list[tuple[Rule, bool]] = []
    for index, raw in enumerate(rules):
        text = raw if isinstance(raw, str) else ""
        rule = parsed.get((name, index, where))
        if rule is None:
            rule = parsed[(name, index, where)] = parse_rule(text, f"{where} {name} rule {index + 1}: {text}", sets)
        sure = True
        for t in rule.tests:
            r = t(p)
            if r is False:
                break
            sure = sure and r is True
        else:
            sure = sure and not rule.unknown
            reached.append((rule, sure))
            if sure and rule.verdict in ("accept", "drop", "return"):
                break
    rest = RETURN
    for rule, sure in reversed(reached):
        outcome = _verdict(chains, sets, parsed, rule, p, where, memo, active, depth)
        if outcome is None:
            continue
        outcome = then(outcome, rest) if not rule.verdict.startswith("goto") else outcome
        if sure:
            rest = outcome
        else:
            why = f"{rule.label} has {', '.join(rule.unknown) or 'a match this flow does not fix'}, " \
                  "which drift does not evaluate"
            rest = maybe(outcome, rest, why)
    active.discard(name)
    memo[name] = rest
    return rest


def _verdict(chains: Mapping[str, Mapping[str, Any]], sets: Sets, parsed: dict[tuple[str, int, str], Rule],
             rule: Rule, p: Packet, where: str, memo: dict[str, Outcome], active: set[str],
             depth: int) -> Outcome | None:
    v = rule.verdict
    if v in ("", "continue"):
        return None
    if v == "accept":
        return accepted(rule.label)
    if v == "drop":
        return refused(rule.label)
    if v == "return":
        return RETURN
    if v.startswith(("jump ", "goto ")):
        return _chain(chains, sets, parsed, v.split(" ", 1)[1], p, where, memo, active, depth + 1)
    return unknown(f"{rule.label}: a verdict drift does not evaluate")
