"""The iptables filter table's verdict for one packet, from the iptables collector's facts.

Facts are `firewall/iptables/<table>/<chain>` = {"policy", "rules": [iptables-save rule text]}.
Each rule is read into matches and a target; a match this module does not know (ipset, limit,
recent, owner, ...) is unknown, never assumed. Chains are evaluated from the last rule to the
first, each user chain once, so the cost is linear in the number of rules however they jump.
"""

from __future__ import annotations

import functools
import shlex
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

# Targets that change nothing about whether a packet passes: they log, count or mark, and go on.
_CONTINUE = {"LOG", "NFLOG", "ULOG", "MARK", "CONNMARK", "TCPMSS", "DSCP", "TOS", "TTL", "CLASSIFY",
             "AUDIT", "TRACE", "CHECKSUM", "SECMARK", "CONNSECMARK", "NOTRACK", "CT", "TCPOPTSTRIP"}
_PROTOS = {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp"}
_MAX_DEPTH = 64  # the kernel allows jumps about this deep; deeper means the facts are odd
_ENDS = {"ACCEPT", "DROP", "REJECT", "RETURN"}


@dataclass(frozen=True)
class Rule:
    label: str  # "filter INPUT rule 3: -p tcp ... -j DROP", as a finding names it
    test: Callable[[Packet], tuple[Match, str]]  # (matched?, why unknown)
    target: str  # ACCEPT, DROP, a chain name, or "" for none
    goto: bool


# A fleet's rules are read once each, not once per host pair.
@functools.lru_cache(maxsize=1 << 16)
def _parsed(where: str, table: str, chain: str, index: int, text: str) -> Rule:
    return parse_rule(text, f"{where}{table} {chain} rule {index + 1}: {text}")


def parse_rule(text: str, label: str) -> Rule:
    """One iptables-save rule. Unknown options make the match unknown, never an error."""
    try:
        words = shlex.split(text)
    except ValueError:
        return Rule(label, lambda p: (None, f"cannot read rule {label}"), "", False)
    tests: list[Callable[[Packet], Match]] = []
    unknowns: list[str] = []
    target, goto = "", False
    i, neg = 0, False
    while i < len(words):
        w = words[i]
        arg = words[i + 1] if i + 1 < len(words) else ""
        if w == "!":
            neg, i = True, i + 1
            continue
        step = 2
        if w in ("-j", "--jump", "-g", "--goto"):
            target, goto = arg, w in ("-g", "--goto")
            break  # what follows are the target's own options (--reject-with, --log-prefix)
        if w in ("-s", "--source", "-d", "--destination"):
            tests.append(_addr(w in ("-s", "--source"), arg, neg))
        elif w in ("-p", "--protocol"):
            tests.append(_proto(arg, neg))
        elif w in ("-i", "--in-interface", "-o", "--out-interface"):
            tests.append(_iface(w in ("-i", "--in-interface"), arg, neg))
        elif w in ("--dport", "--destination-port", "--sport", "--source-port", "--dports", "--sports", "--ports"):
            tests.append(_ports(w, arg, neg))
        elif w in ("--ctstate", "--state"):
            tests.append(_state(arg, neg))
        elif w in ("-m", "--match"):
            if arg not in ("tcp", "udp", "multiport", "conntrack", "state", "comment"):
                unknowns.append(f"match -m {arg}")
        elif w == "--comment":
            pass
        elif w == "--syn":
            tests.append(_syn(neg))
            step = 1
        elif w == "-f" or w == "--fragment":
            tests.append(_fragment(neg))
            step = 1
        elif w.startswith("-"):
            unknowns.append(f"option {w}")
            step = 1  # its values, if any, are read as unknown words below
        else:
            step = 1  # a value of an unknown option
        neg = False
        i += step
    reason = f"{label} has {', '.join(unknowns)}, which drift does not evaluate" if unknowns else ""

    unsure = f"{label} matches on something this flow does not fix (an ephemeral port or interface)"

    def test(p: Packet) -> tuple[Match, str]:
        doubt = False
        for t in tests:
            r = t(p)
            if r is False:
                return False, ""
            doubt = doubt or r is None
        if unknowns:
            return None, reason
        return (None, unsure) if doubt else (True, "")

    return Rule(label, test, target, goto)


def _syn(neg: bool) -> Callable[[Packet], Match]:
    return lambda p: negate(p.proto == "tcp" and p.syn and p.state == "NEW", neg)


def _fragment(neg: bool) -> Callable[[Packet], Match]:
    return lambda p: negate(False, neg)  # a connection's first packet is never a fragment


def _addr(source: bool, spec: str, neg: bool) -> Callable[[Packet], Match]:
    nets = spec.split(",")
    return lambda p: negate(any_of([in_net(p.src if source else p.dst, n) for n in nets]), neg)


def _proto(spec: str, neg: bool) -> Callable[[Packet], Match]:
    name = spec.lower()
    if name == "all" or name == "0":
        return lambda p: negate(True, neg)
    return lambda p: negate(_PROTOS.get(name, name) == p.proto, neg)


def _iface(incoming: bool, spec: str, neg: bool) -> Callable[[Packet], Match]:
    return lambda p: negate(iface(p.iif if incoming else p.oif, spec), neg)


def _ports(option: str, spec: str, neg: bool) -> Callable[[Packet], Match]:
    specs = spec.split(",")
    if option in ("--ports",):  # multiport --ports: source or destination
        return lambda p: negate(any_of([in_ports(p.sport, s) for s in specs] + [in_ports(p.dport, s) for s in specs]),
                                neg)
    dest = option in ("--dport", "--destination-port", "--dports")
    return lambda p: negate(any_of([in_ports(p.dport if dest else p.sport, s) for s in specs]), neg)


def _state(spec: str, neg: bool) -> Callable[[Packet], Match]:
    states = {s.upper() for s in spec.split(",")}
    return lambda p: negate(p.state in states, neg)


Chains = Mapping[str, Mapping[str, Any]]  # chain name -> {"policy", "rules"}


def chains_of(facts: Mapping[str, Any], tool: str = "iptables", table: str = "filter") -> dict[str, Mapping[str, Any]]:
    prefix = f"firewall/{tool}/{table}/"
    return {k[len(prefix):]: v for k, v in facts.items() if k.startswith(prefix) and isinstance(v, dict)}


def evaluate(chains: Chains, hook: str, packet: Packet, where: str = "", table: str = "filter") -> Outcome:
    """The outcome of base chain `hook` (INPUT, OUTPUT) for packet: accept, refuse or unknown."""
    base = chains.get(hook)
    if base is None:
        return accepted(f"{where}{table} {hook}: no such chain (nothing filters)")
    memo: dict[str, Outcome] = {}
    result = _chain(chains, hook, packet, where, table, memo, set(), 0)
    policy = str(base.get("policy") or "ACCEPT")
    end = f"{where}{table} {hook} policy {policy}"
    at_end = accepted(end) if policy == "ACCEPT" else refused(end) if policy == "DROP" else unknown(
        f"{end}: a policy drift does not know")
    return then(result, at_end)


def _chain(chains: Chains, name: str, p: Packet, where: str, table: str, memo: dict[str, Outcome],
           active: set[str], depth: int) -> Outcome:
    if name in memo:
        return memo[name]
    if name in active or depth > _MAX_DEPTH:
        return unknown(f"{where}{table} {name}: jumps loop or nest too deep")
    body = chains[name]
    rules = body.get("rules") if isinstance(body, dict) else None
    if not isinstance(rules, list):
        return unknown(f"{where}{table} {name}: rules not recorded")
    active.add(name)
    # Top down to the first rule that surely ends the chain; what follows it is never reached.
    reached: list[tuple[Rule, Match, str]] = []
    for index, text in enumerate(rules):
        rule = _parsed(where, table, name, index, text if isinstance(text, str) else "")
        matched, why = rule.test(p)
        if matched is False:
            continue
        reached.append((rule, matched, why))
        if matched and rule.target in _ENDS:
            break
    rest = RETURN
    for rule, matched, why in reversed(reached):
        outcome = _target(chains, rule, p, where, table, memo, active, depth)
        if outcome is None:  # a target that only logs or marks
            continue
        outcome = then(outcome, rest) if not rule.goto else outcome
        rest = outcome if matched else maybe(outcome, rest, why)
    active.discard(name)
    memo[name] = rest
    return rest


def _target(chains: Chains, rule: Rule, p: Packet, where: str, table: str, memo: dict[str, Outcome],
            active: set[str], depth: int) -> Outcome | None:
    t = rule.target
    if t == "" or t in _CONTINUE:
        return None
    if t == "ACCEPT":
        return accepted(rule.label)
    if t in ("DROP", "REJECT"):
        return refused(rule.label)
    if t == "RETURN":
        return RETURN
    if t in chains:
        # A goto never comes back: falling off its chain ends the calling chain too (see _chain).
        return _chain(chains, t, p, where, table, memo, active, depth + 1)
    return unknown(f"{rule.label}: target {t} is not one drift evaluates")
