"""nftables base chains' verdict for one packet, from the nft collector's facts.

Facts are `firewall/nft/<family> <table>/<chain>` = {"type", "hook", "priority", "policy",
"rules": [rule text as `nft list ruleset` reads]} and `.../set <name>` = {"type", "elements"}.
A rule is read statement by statement; a statement this module does not know makes the rule's
match unknown (or, for a verdict it cannot read, the outcome unknown). Each rule is named by its
own text in findings, as iptables rules are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from drift.analysis.reach.nftexpr import (
    DIVERT,
    Maps,
    Sets,
    Test,
    Token,
    constant,
    left_of,
    match,
    statement,
    tokens,
    verdict_map,
)
from drift.analysis.reach.packet import RETURN, Outcome, Packet, accepted, maybe, refused, then, unknown

_OPS = {"==", "!=", "in", "<", ">", "<=", ">=", "!"}
_PAIR = {"ip", "ip6", "tcp", "udp", "th", "meta", "ct", "icmp", "icmpv6", "sctp", "ether", "vlan", "arp",
         "ah", "esp", "comp", "udplite", "dccp", "rt", "socket", "osf", "numgen", "jhash", "igmp"}
_SINGLE = {"iifname", "oifname", "iif", "oif", "l4proto", "nfproto", "mark", "skuid", "skgid", "pkttype"}
_FAMILIES_V4 = {"ip", "inet"}
_MAX_DEPTH = 64

@dataclass
class Table:
    """One nft table's chains, sets and verdict maps, and its rules as parsed (once per host)."""

    chains: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    sets: dict[str, list[str]] = field(default_factory=dict)
    maps: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    parsed: dict[tuple[str, int, str], list[Rule]] = field(default_factory=dict)


Tables = dict[str, Table]


@dataclass(frozen=True)
class Rule:
    label: str
    tests: tuple[Test, ...]
    unknown: tuple[str, ...]  # constructs read as unknown matches
    verdict: str  # accept, drop, return, continue, jump X, goto X, unknown, or "" (none)
    assumed: tuple[Test, ...] = ()  # decided for one new connection (a rate limit, a connection count)
    diverts: str = ""  # for verdict unknown: what the rule does with the packet instead
    nat: tuple[Token, ...] = ()  # a dnat or redirect statement's words, from `dnat`/`redirect` on


def parse_rule(text: str, label: str, sets: Sets, maps: Maps | None = None) -> list[Rule]:
    """One rule as the evaluator runs it: one Rule, or one per entry of a verdict map (at most one of
    which a packet can match, so in order they decide as the map does)."""
    words = tokens(text)
    tests: list[Test] = []
    assumed: list[Test] = []
    unknowns: list[str] = []
    verdict, diverts = "", ""
    vmap: list[tuple[Test | str, str]] | None = None
    nat: tuple[Token, ...] = ()
    i = 0
    while i < len(words):
        w = words[i]
        if isinstance(w, dict) and len(w) == 1 and not _is_match(w):
            kind = next(iter(w))
            if kind == "vmap":
                vmap = verdict_map(w["vmap"], sets, maps or {})
            elif kind in ("accept", "drop", "continue", "return"):
                verdict = kind
            else:
                effect, matches, what = statement(w)
                if effect == "divert":
                    verdict, diverts = "unknown", what
                elif effect == "unknown":
                    unknowns.append(what)
                elif effect == "assumed":
                    assumed.append(constant(matches))
            i += 1
        elif w in ("accept", "drop", "return", "continue"):
            verdict, i = w, i + 1
        elif w == "reject":
            verdict, i = "drop", i + 1
            while i < len(words) and words[i] != "comment":
                i += 1  # `with icmpx admin-prohibited`, `with tcp reset None`: how, not whether
        elif w in ("jump", "goto") and i + 1 < len(words):
            verdict, i = f"{w} {words[i + 1]}", i + 2
        elif w in ("dnat", "redirect", "queue", "tproxy"):
            verdict, diverts = "unknown", f"{w} ({DIVERT.get(w, 'hands the packet on')})"
            if w in ("dnat", "redirect"):  # where to: read by nftnat.py when it follows the rewrite
                end = words.index("comment", i) if "comment" in words[i:] else len(words)
                nat = tuple(words[i:end])
            break
        elif w in ("snat", "masquerade"):
            verdict = verdict or "accept"  # the source is rewritten; the packet passes
            break
        elif w == "comment":
            i += 2
        elif w == "log":
            i += 1
            while i + 1 < len(words) and words[i] in ("level", "prefix", "group", "snaplen", "queue-threshold",
                                                      "flags"):
                i += 2
        elif w == "counter":
            i += 1
        elif w == "limit":  # `limit rate [over] 10/minute [burst 5 packets]`
            i += 2
            over = i < len(words) and words[i] == "over"
            i += 1 + over
            while i < len(words) and isinstance(words[i], str) and (words[i] in ("burst", "packets", "bytes")
                                                                    or words[i].isdigit() or "/" in words[i]):
                i += 1
            assumed.append(constant(not over))
        elif w == "xt" and i + 2 < len(words):
            if words[i + 1] == "target":
                verdict, diverts = "unknown", f"xt target {words[i + 2]}"
            else:
                unknowns.append(f"xt match {words[i + 2]}")
            i += 3
        elif isinstance(w, dict) or w in _SINGLE or (w in _PAIR and i + 1 < len(words)):
            pair = isinstance(w, str) and w not in _SINGLE
            left = left_of(w) if not pair else f"{w} {words[i + 1]}"
            i += 2 if pair else 1
            if isinstance(w, str) and w in ("fib", "ct") and i < len(words) and words[i] == ".":
                left, i = None, i + 2  # a concatenation: read as unknown below
            op = "=="
            if i < len(words) and isinstance(words[i], str) and words[i] in _OPS:
                op, i = words[i], i + 1
            right = words[i] if i < len(words) else ""
            i += 1
            test = match(left, op, right, sets) if left else None
            if test is None:
                unknowns.append(f"{left or _short(w)} {op} {_short(right)}")
            else:
                tests.append(test)
        else:
            unknowns.append(f"statement {_short(w)}")
            i += 1
    if vmap is None:
        return [Rule(label, tuple(tests), tuple(unknowns), verdict, tuple(assumed), diverts, nat)]
    return [Rule(label, tuple(tests) if isinstance(t, str) else (*tests, t),
                 (*unknowns, t) if isinstance(t, str) else tuple(unknowns), v, tuple(assumed)) for t, v in vmap]


def _short(x: Token) -> str:
    text = x if isinstance(x, str) else json.dumps(x, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_match(w: dict[str, Any]) -> bool:
    """A JSON expression on the left of a match (fib, a bitmask), not a statement."""
    return left_of(w) is not None and next(iter(w)) not in ("vmap", "set", "map")


def tables_v4(facts: Mapping[str, Any]) -> Tables:
    """{"inet acme": Table} for the families that see IPv4 packets."""
    out: Tables = {}
    for key, value in facts.items():
        if not key.startswith("firewall/nft/") or not isinstance(value, dict):
            continue
        # Chain names may hold "/" (kube-proxy's `service-ULMVA6XW-ns1/svc1/tcp/p80`); table names do not.
        table, _, name = key[len("firewall/nft/"):].partition("/")
        if table.split(" ", 1)[0] not in _FAMILIES_V4:
            continue
        t = out.setdefault(table, Table())
        elements = value.get("elements")
        if name.startswith("set ") and isinstance(elements, list):
            t.sets[name[4:]] = [str(e) for e in elements]
        elif name.startswith("map ") and isinstance(elements, list):
            # `25 : drop`, `22 : jump ssh`: only verdict maps decide anything
            t.maps[name[4:]] = [(k.strip(), v.strip()) for k, _, v in (str(e).partition(" : ") for e in elements)]
        elif not name.startswith(("set ", "map ")):
            t.chains[name] = value
    return out


def base_chains(facts: Mapping[str, Any], hook: str, tables: Tables | None = None) -> list[tuple[int, str, str]]:
    """(priority, table, chain) of every IPv4 base chain at hook, in the kernel's order."""
    found = []
    for table, t in (tables if tables is not None else tables_v4(facts)).items():
        for name, body in t.chains.items():
            if body.get("hook") == hook:
                prio = body.get("priority")
                found.append((prio if isinstance(prio, int) else 0, table, name))
    return sorted(found)


def evaluate(facts: Mapping[str, Any], table: str, chain: str, packet: Packet, where: str = "",
             tables: Tables | None = None) -> Outcome:
    t = (tables if tables is not None else tables_v4(facts)).get(table, Table())
    body = t.chains.get(chain, {})
    label = f"{where}nft {table} {chain}"
    if body.get("type") not in ("filter", "route", "nat"):
        return unknown(f"{label}: chain type {body.get('type')} is not one drift evaluates")
    result = _chain(t, chain, packet, f"{where}nft {table}", {}, set(), 0)
    policy = str(body.get("policy") or "accept")
    end = f"{label} policy {policy}"
    # A nat chain's policy drop drops too (checked on the kernel: `policy drop;` at prerouting refuses).
    return then(result, accepted(end) if policy == "accept" else refused(end) if policy == "drop" else unknown(
        f"{end}: a policy drift does not know"))


def _chain(t: Table, name: str, p: Packet, where: str, memo: dict[str, Outcome], active: set[str],
           depth: int) -> Outcome:
    if name in memo:
        return memo[name]
    rules = chain_rules(t, name, where, active, depth)
    if isinstance(rules, str):
        return unknown(rules)
    active.add(name)
    # Top down to the first rule that surely ends the chain; what follows it is never reached.
    reached: list[tuple[Rule, bool]] = []
    notes: list[str] = []
    for index, raw in enumerate(rules):
        for rule in rules_at(t, name, index, raw, where):
            sure, assumed = applies(rule, p)
            if assumed and rule.verdict not in ("", "continue"):
                notes.append(f"decided for one new connection: {rule.label}")
            if sure is None or sure:
                reached.append((rule, bool(sure)))
            if sure and rule.verdict in ("accept", "drop", "return"):
                break
        else:
            continue
        break
    rest = RETURN
    for rule, sure in reversed(reached):
        outcome = _verdict(t, rule, p, where, memo, active, depth)
        if outcome is None:
            continue
        # return leaves this chain, and a goto's chain ends the caller's too: neither goes on with the rest.
        if rule.verdict != "return" and not rule.verdict.startswith("goto"):
            outcome = then(outcome, rest)
        if sure:
            rest = outcome
        else:
            why = f"{rule.label} has {', '.join(rule.unknown) or 'a match this flow does not fix'}, " \
                  "which drift does not evaluate"
            rest = maybe(outcome, rest, why)
    active.discard(name)
    memo[name] = rest = rest.noted(tuple(notes))
    return rest


def chain_rules(t: Table, name: str, where: str, active: set[str], depth: int) -> list[Any] | str:
    """The rules of chain `name`, or why it cannot be walked."""
    if name not in t.chains or name in active or depth > _MAX_DEPTH:
        return f"{where} {name}: no such chain, or jumps loop or nest too deep"
    rules = t.chains[name].get("rules")
    return rules if isinstance(rules, list) else f"{where} {name}: rules not recorded"


def rules_at(t: Table, chain: str, index: int, raw: object, where: str) -> list[Rule]:
    """Rule `index` of `chain` as parsed, read once per host."""
    parsed = t.parsed.get((chain, index, where))
    if parsed is None:
        text = raw if isinstance(raw, str) else ""
        parsed = t.parsed[(chain, index, where)] = parse_rule(
            text, f"{where} {chain} rule {index + 1}: {text}", t.sets, t.maps)
    return parsed


def applies(rule: Rule, p: Packet) -> tuple[bool | None, bool]:
    """Whether rule matches p (a sure no wins over any doubt), and whether that rests on an assumed
    test (one new connection is under a rate limit): those count only where the others do not say no."""
    sure = True
    for test in rule.tests:
        r = test(p)
        if r is False:
            return False, False
        sure = sure and r is True
    if any(a(p) is False for a in rule.assumed):
        return False, True
    return (True if sure and not rule.unknown else None), bool(rule.assumed)


def _verdict(t: Table, rule: Rule, p: Packet, where: str, memo: dict[str, Outcome], active: set[str],
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
        return _chain(t, v.split(" ", 1)[1], p, where, memo, active, depth + 1)
    return unknown(f"{rule.label}: {rule.diverts or 'a verdict'}, which drift does not follow", diverts=True)
