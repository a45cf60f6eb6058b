"""Where one nftables nat chain sends a new connection: the `dnat`/`redirect` it ends in, if any.

Walked like the filter evaluator walks a chain (nft.py: jumps, gotos, returns, verdict maps such as
kube-proxy's `ip daddr . meta l4proto . th dport vmap @service-ips` and `numgen random mod 1`), but its
ends are where the packet goes: a Rewrite, "accept" (this chain rewrites nothing), "drop", or "unknown"
with the construct named. A rule that may or may not match keeps both ends; dnat.py decides only when
one is left. Never a guess: an address or port range, a map drift cannot key, `numgen` choosing among
several endpoints are undecided.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from drift.analysis.reach import nft
from drift.analysis.reach.nftexpr import element_of, key_test
from drift.analysis.reach.packet import Packet


@dataclass(frozen=True)
class Rewrite:
    addr: ipaddress.IPv4Address | None  # None: REDIRECT, to the host itself
    port: int  # the new destination port (the old one where the rule keeps it)
    rule: str  # the rule that rewrites, as a finding names it


End = Rewrite | str  # a Rewrite, "accept", "drop", "return" or "unknown"


@dataclass(frozen=True)
class Ends:
    ends: frozenset[End]
    reasons: tuple[str, ...] = ()  # why more than one end is possible, or why one is unknown

    def __or__(self, other: Ends) -> Ends:
        return Ends(self.ends | other.ends, tuple(dict.fromkeys(self.reasons + other.reasons))[:4])

    def then(self, rest: Ends) -> Ends:
        """Where this falls off (returns), carry on with rest."""
        if "return" not in self.ends:
            return self
        return Ends(self.ends - {"return"}, self.reasons) | rest


RETURN = Ends(frozenset({"return"}))


def unknown(reason: str) -> Ends:
    return Ends(frozenset({"unknown"}), (reason,))


def base_chain(t: nft.Table, chain: str, p: Packet, where: str) -> Ends:
    """The ends of nat base chain `chain` for p; falling off it is its policy."""
    policy = str(t.chains[chain].get("policy") or "accept")
    if policy not in ("accept", "drop"):
        return unknown(f"{where} {chain} policy {policy}: a policy drift does not know")
    return _chain(t, chain, p, where, {}, set(), 0).then(Ends(frozenset({policy})))


def _chain(t: nft.Table, name: str, p: Packet, where: str, memo: dict[str, Ends], active: set[str],
           depth: int) -> Ends:
    if name in memo:
        return memo[name]
    rules = nft.chain_rules(t, name, where, active, depth)
    if isinstance(rules, str):
        return unknown(rules)
    active.add(name)
    reached: list[tuple[nft.Rule, bool]] = []
    for index, raw in enumerate(rules):
        for rule in nft.rules_at(t, name, index, raw, where):
            sure, _ = nft.applies(rule, p)
            if sure is False or rule.verdict in ("", "continue") or (rule.nat and _target(t, rule, p) is None):
                continue  # marking or counting sends the packet nowhere; nor does a map with no element for it
            reached.append((rule, bool(sure)))
            if sure and not rule.verdict.startswith("jump"):
                break
        else:
            continue
        break
    rest = RETURN
    for rule, sure in reversed(reached):
        ends = _verdict(t, rule, p, where, memo, active, depth)
        if rule.verdict != "return" and not rule.verdict.startswith("goto"):
            ends = ends.then(rest)
        if sure:
            rest = ends
        elif ends != rest:
            why = f"{rule.label} has {', '.join(rule.unknown) or 'a match this flow does not fix'}, which drift " \
                  "does not evaluate"
            rest = Ends(ends.ends | rest.ends, tuple(dict.fromkeys((*ends.reasons, *rest.reasons, why)))[:4])
    active.discard(name)
    memo[name] = rest
    return rest


def _verdict(t: nft.Table, rule: nft.Rule, p: Packet, where: str, memo: dict[str, Ends], active: set[str],
             depth: int) -> Ends:
    v = rule.verdict
    if v in ("accept", "drop", "return"):
        return Ends(frozenset({v}))
    if v.startswith(("jump ", "goto ")):
        return _chain(t, v.split(" ", 1)[1], p, where, memo, active, depth + 1)
    if rule.nat:
        target = _target(t, rule, p)
        if target is None:
            return RETURN
        return Ends(frozenset({target})) if isinstance(target, Rewrite) else unknown(target)
    return unknown(f"{rule.label}: {rule.diverts or 'a verdict'}, which drift does not follow")


def _target(t: nft.Table, rule: nft.Rule, p: Packet) -> Rewrite | str | None:
    """`dnat to 10.0.0.2:80`, `dnat to 10.0.0.2`, `redirect`, `redirect to :8080`, `dnat to <map>`; the
    collector writes the family (`dnat ip to`) and flags after the target."""
    kind, words = rule.nat[0], list(rule.nat[1:])
    family = words.pop(0) if words and words[0] in ("ip", "ip6") else "ip"  # `dnat ip to`, as nft prints it
    spec: Any = words[1] if len(words) > 1 and words[0] == "to" else None
    rest = words[2:] if spec is not None else words
    port = rest[0][1:] if rest and isinstance(rest[0], str) and rest[0].startswith(":") else ""
    options = {str(rest[i]): rest[i + 1] for i in range(1 if port else 0, len(rest) - 1, 2)}
    if str(options.get("family", family)) != "ip":
        return None  # `dnat ip6 to …` in an inet table: never an IPv4 packet's
    if isinstance(spec, dict):
        spec = _mapped(t, spec, p, rule.label)
        if spec is None or spec.startswith("!"):
            return spec[1:] if spec else None
    text = f"{spec or ''}{':' + port if port else ''}"
    addr_text, _, port_text = text.partition(":")
    if kind == "redirect":
        addr = None
    else:
        try:
            addr = ipaddress.IPv4Address(addr_text)
        except ValueError:
            return f"{rule.label}: dnat to {text or 'no address'}, an address drift cannot tell a connection gets"
    new = new_port(port_text, p.dport, "random" in str(options.get("flags", "")))
    if new is None:
        return f"{rule.label}: {kind} to port {port_text}, a port drift cannot tell a connection gets"
    # With one address and one port, `random` and `persistent` have nothing to choose among.
    return Rewrite(addr, new, rule.label)


def new_port(spec: str, old: int | None, random: bool = False) -> int | None:
    """The new port: the old one where the rule names none; in a range, the old one where it lies inside
    (the kernel keeps a port the range allows, unless told to pick at random), else unknown."""
    if not spec:
        return old
    if spec.isdigit():
        return int(spec)
    lo, _, hi = spec.partition("-")
    if lo.isdigit() and hi.isdigit() and old is not None and int(lo) <= old <= int(hi) and not random:
        return old
    return None


def _mapped(t: nft.Table, spec: dict[str, Any], p: Packet, label: str) -> str | None:
    """The map's value for p as `addr[:port]`; None: no element matches; "!why": cannot tell."""
    body = spec.get("map")
    if not isinstance(body, dict):
        return f"!{label}: dnat to an expression drift does not read"
    data = body.get("data")
    if isinstance(data, str) and data.startswith("@"):
        if data[1:] not in t.maps:
            return f"!{label}: dnat to map {data}, which was not collected"
        entries: list[tuple[Any, Any]] = [(element_of(k), element_of(v)) for k, v in t.maps[data[1:]]]
    elif isinstance(data, dict) and isinstance(data.get("set"), list):
        entries = [(e[0], e[1]) for e in data["set"] if isinstance(e, list) and len(e) == 2]
    else:
        return f"!{label}: dnat to a map drift does not read"
    for key, value in entries:
        test = key_test(body.get("key"), key, t.sets)
        hit = test(p) if callable(test) else None
        if hit is None:
            return f"!{label}: dnat to a map whose element for this flow drift cannot tell" + (
                f" ({test})" if isinstance(test, str) else "")
        if hit:
            parts = value.get("concat") if isinstance(value, dict) else [value]
            if not isinstance(parts, list) or not 1 <= len(parts) <= 2:
                return f"!{label}: dnat to a map value drift does not read"
            return ":".join(str(x) for x in parts)
    return None


_DPORT = re.compile(r"\b(tcp|udp|th) dport (\{ [^{}]* \}|[\d-]+)")
_WIDEST = 1024  # a wider range (a NodePort range) is not listed port by port


def published(tables: nft.Tables) -> set[tuple[str, int]]:
    """(proto, port) a dnat or redirect of a table with a nat chain at prerouting may be for: every
    destination port its rules and maps name (more than it rewrites; arrival says which connection is)."""
    found: set[tuple[str, int]] = set()
    for t in tables.values():
        if not any(b.get("type") == "nat" and b.get("hook") == "prerouting" for b in t.chains.values()):
            continue
        texts = [str(r) for b in t.chains.values() for r in b.get("rules") or ()]
        if not any(re.search(r"\b(dnat|redirect)\b", x) for x in texts):
            continue
        for x in texts:
            for proto, spec in _DPORT.findall(x):
                for v in spec.strip("{} ").split(","):
                    add_ports(found, ("tcp", "udp") if proto == "th" else (proto,), v.strip())
        for elements in t.maps.values():
            for key, _ in elements:
                value = element_of(key)
                parts = value.get("concat") if isinstance(value, dict) else [value]
                parts = parts if isinstance(parts, list) else []
                protos = tuple(x for x in ("tcp", "udp") if x in parts) or ("tcp", "udp")
                for x in parts:
                    if isinstance(x, int) or (isinstance(x, str) and x.isdigit()):
                        add_ports(found, protos, str(x))
    return found


def add_ports(found: set[tuple[str, int]], protos: tuple[str, ...], spec: str) -> None:
    lo, _, hi = spec.partition("-")
    if not lo.isdigit() or (hi and not hi.isdigit()):
        return
    first, last = int(lo), int(hi or lo)
    if last - first < _WIDEST:
        found.update((proto, port) for proto in protos for port in range(first, last + 1))
