"""The iptables filter table's verdict for one packet, from the iptables collector's facts.

Facts are `firewall/iptables/<table>/<chain>` = {"policy", "rules": [iptables-save rule text]}.
Each rule is read into matches and a target (xtmatch.py); a match this module cannot decide
(ipset, owner, ...) is unknown, never assumed. Chains are evaluated from the last rule to the
first, each user chain once, so the cost is linear in the number of rules however they jump.
"""

from __future__ import annotations

import functools
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from drift.analysis.reach import xtmatch
from drift.analysis.reach.packet import RETURN, Match, Outcome, Packet, accepted, maybe, refused, then, unknown

# Targets that change nothing about whether a packet passes: they log, count or mark, and go on.
CONTINUE = {"LOG", "NFLOG", "ULOG", "MARK", "CONNMARK", "TCPMSS", "DSCP", "TOS", "TTL", "CLASSIFY",
             "AUDIT", "TRACE", "CHECKSUM", "SECMARK", "CONNSECMARK", "NOTRACK", "CT", "TCPOPTSTRIP"}
_MAX_DEPTH = 64  # the kernel allows jumps about this deep; deeper means the facts are odd
_ENDS = {"ACCEPT", "DROP", "REJECT", "RETURN"}


@dataclass(frozen=True)
class Rule:
    label: str  # "filter INPUT rule 3: -p tcp ... -j DROP", as a finding names it
    # (matched?, why unknown, decided by assuming one connection), given the host's ipsets
    test: Callable[[Packet, xtmatch.IpSets | None], tuple[Match, str, bool]]
    target: str  # ACCEPT, DROP, a chain name, or "" for none
    goto: bool
    note: str = ""  # what was assumed: a rate limit, a recent list, a connection count


# A fleet's rules are read once each, not once per host pair.
@functools.lru_cache(maxsize=1 << 16)
def parsed(where: str, table: str, chain: str, index: int, text: str) -> Rule:
    return parse_rule(text, f"{where}{table} {chain} rule {index + 1}: {text}")


Test = Callable[[Packet], Match]


def parse_rule(text: str, label: str) -> Rule:
    """One iptables-save rule. Unknown options make the match unknown, never an error."""
    try:
        words = shlex.split(text)
    except ValueError:
        return Rule(label, lambda p, s: (None, f"cannot read rule {label}", False), "", False)
    tests: list[Test] = []
    assumed: list[Test] = []  # decided for one new connection: under a rate limit, first in a recent list
    unknowns: list[str] = []
    sets: list[xtmatch.SetTest] = []
    target, goto = "", False
    i, neg = 0, False
    while i < len(words):
        w = words[i]
        arg = words[i + 1] if i + 1 < len(words) else ""
        if w == "!":
            neg, i = True, i + 1
            continue
        if w in ("-j", "--jump", "-g", "--goto"):
            target, goto = arg, w in ("-g", "--goto")
            break  # what follows are the target's own options (--reject-with, --log-prefix)
        step = xtmatch.read(w, words, i, neg, tests, assumed, unknowns, sets)
        neg = False
        i += step
    unsure = f"{label} matches on something this flow does not fix (an ephemeral port or interface)"
    note = f"decided for one new connection: {label}" if assumed else ""

    def test(p: Packet, ipsets: xtmatch.IpSets | None) -> tuple[Match, str, bool]:
        doubt, set_doubt = False, ""
        for t in tests:
            r = t(p)
            if r is False:
                return False, "", False
            doubt = doubt or r is None
        for s in sets:
            r, why = s(p, ipsets)
            if r is False:
                return False, "", False
            set_doubt = set_doubt or why
        for t in assumed:
            if t(p) is False:
                return False, "", True
        if unknowns or set_doubt:
            what = ", ".join(x for x in dict.fromkeys([*unknowns, set_doubt]) if x)
            return None, f"{label} has {what}, which drift does not evaluate", bool(assumed)
        return (None, unsure, bool(assumed)) if doubt else (True, "", bool(assumed))

    return Rule(label, test, target, goto, note)


Chains = Mapping[str, Mapping[str, Any]]  # chain name -> {"policy", "rules"}


def chains_of(facts: Mapping[str, Any], tool: str = "iptables", table: str = "filter") -> dict[str, Mapping[str, Any]]:
    prefix = f"firewall/{tool}/{table}/"
    return {k[len(prefix):]: v for k, v in facts.items() if k.startswith(prefix) and isinstance(v, dict)}


def evaluate(chains: Chains, hook: str, packet: Packet, where: str = "", table: str = "filter",
             ipsets: xtmatch.IpSets | None = None) -> Outcome:
    """The outcome of base chain `hook` (INPUT, OUTPUT) for packet: accept, refuse or unknown.
    `ipsets`: the host's ipset facts (None: not collected, so `-m set` is undecided)."""
    base = chains.get(hook)
    if base is None:
        return accepted(f"{where}{table} {hook}: no such chain (nothing filters)")
    memo: dict[str, Outcome] = {}
    result = _chain(chains, hook, packet, where, table, memo, set(), 0, ipsets)
    policy = str(base.get("policy") or "ACCEPT")
    end = f"{where}{table} {hook} policy {policy}"
    at_end = accepted(end) if policy == "ACCEPT" else refused(end) if policy == "DROP" else unknown(
        f"{end}: a policy drift does not know")
    return then(result, at_end)


def _chain(chains: Chains, name: str, p: Packet, where: str, table: str, memo: dict[str, Outcome],
           active: set[str], depth: int, ipsets: xtmatch.IpSets | None = None) -> Outcome:
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
    notes: list[str] = []
    for index, text in enumerate(rules):
        rule = parsed(where, table, name, index, text if isinstance(text, str) else "")
        matched, why, assumed = rule.test(p, ipsets)
        if assumed and matched is False and rule.target not in CONTINUE:
            notes.append(rule.note)  # skipped only because one connection is under its limit
        if matched is False:
            continue
        reached.append((rule, matched, why))
        if matched and rule.target in _ENDS:
            break
    rest = RETURN
    for rule, matched, why in reversed(reached):
        outcome = _target(chains, rule, p, where, table, memo, active, depth, ipsets)
        if outcome is None:  # a target that only logs or marks
            continue
        if rule.note and outcome != RETURN:
            notes.append(rule.note)
        # RETURN leaves this chain, and a goto's chain ends the caller's too: neither goes on with the rest.
        if rule.target != "RETURN" and not rule.goto:
            outcome = then(outcome, rest)
        rest = outcome if matched else maybe(outcome, rest, why)
    active.discard(name)
    memo[name] = rest = rest.noted(tuple(notes))
    return rest


def _target(chains: Chains, rule: Rule, p: Packet, where: str, table: str, memo: dict[str, Outcome],
            active: set[str], depth: int, ipsets: xtmatch.IpSets | None) -> Outcome | None:
    t = rule.target
    if t == "" or t in CONTINUE:
        return None
    if t == "ACCEPT":
        return accepted(rule.label)
    if t in ("DROP", "REJECT"):
        return refused(rule.label)
    if t == "RETURN":
        return RETURN
    if t in ("SNAT", "MASQUERADE", "NETMAP") and table == "nat":
        return accepted(rule.label)  # the source is rewritten; the packet passes
    if t in ("DNAT", "REDIRECT") and table == "nat":
        return unknown(f"{rule.label}: the destination is rewritten, and drift does not follow the packet there",
                       diverts=True)
    if t in chains:
        # A goto never comes back: falling off its chain ends the calling chain too (see _chain).
        return _chain(chains, t, p, where, table, memo, active, depth + 1, ipsets)
    return unknown(f"{rule.label}: target {t} is not one drift evaluates", diverts=True)
