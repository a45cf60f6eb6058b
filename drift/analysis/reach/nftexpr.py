"""nft rule text, as the nft collector renders it, read into tests on one packet.

The collector writes each rule as `nft list ruleset` reads, except for expressions it has no words
for, which it keeps as their libnftables JSON (`{"fib": …} local`, `{"&": [tcp flags, mask]} syn`,
`{"meter": …}`, `{"vmap": …}`). Those are read here as JSON, never skipped: a JSON match is a
match, a JSON statement is judged for what it does to a packet.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from drift.analysis.reach.packet import Match, Packet, any_of, iface, in_net, in_ports, negate

Test = Callable[[Packet], Match]
Sets = Mapping[str, list[str]]
Maps = Mapping[str, list[tuple[str, str]]]
Token = Any  # a word (str) or a decoded JSON expression

_DECODER = json.JSONDecoder()
_WORD = re.compile(r'"[^"]*"|\{ [^{}]* \}|\S+')
# Headers that never occur in a TCP or UDP packet over IPv4: their matches are false, negated or not
# (nft adds the dependency on the protocol to every such match).
_OTHER_HEADERS = ("ip6", "icmp", "icmpv6", "sctp", "dccp", "esp", "ah", "comp", "udplite", "igmp", "arp", "frag",
                  "hbh", "dst", "mh", "srh")
_L4 = {"6": "tcp", "17": "udp"}
_FLAGS = {"fin", "syn", "rst", "psh", "ack", "urg", "ecn", "cwr"}


def tokens(text: str) -> list[Token]:
    """Words, quoted strings, `{ a, b }` sets, and whole JSON objects (which hold spaces and braces)."""
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        if text.startswith('{"', i):
            try:
                obj, i = _DECODER.raw_decode(text, i)
                out.append(obj)
                continue
            except ValueError:
                pass
        m = _WORD.match(text, i)
        assert m is not None  # \S+ matches at any non-space
        out.append(m.group())
        i = m.end()
    return out


def left_of(x: Token) -> str | None:
    """A match's left side in words: `tcp dport`, `ct state`, `iifname`, `fib daddr . iif type`."""
    if isinstance(x, str):
        return x
    if not isinstance(x, dict) or len(x) != 1:
        return None
    (kind, body), = x.items()
    if not isinstance(body, dict) and kind != "&":
        return None
    if kind == "payload":
        return f"{body.get('protocol')} {body.get('field')}"
    if kind == "meta":
        key = body.get("key")
        return str(key) if key in ("iifname", "oifname", "iif", "oif") else f"meta {key}"
    if kind == "ct":
        return f"ct {body.get('key')}"
    if kind == "fib":
        flags = body.get("flags")
        return f"fib {' . '.join(map(str, flags)) if isinstance(flags, list) else flags} {body.get('result')}"
    if kind == "&" and isinstance(body, list) and len(body) == 2 and left_of(body[0]) == "tcp flags":
        mask = body[1] if isinstance(body[1], list) else [body[1]]
        return "tcp flags & " + ",".join(sorted(map(str, mask)))
    return None


def value_of(x: Token) -> str | None:
    """A value (a set element, a vmap key) in the collector's words."""
    if isinstance(x, (str, int)) and not isinstance(x, bool):
        return str(x)
    if isinstance(x, dict) and len(x) == 1:
        (kind, body), = x.items()
        if kind == "prefix" and isinstance(body, dict):
            return f"{body.get('addr')}/{body.get('len')}"
        if kind == "range" and isinstance(body, list) and len(body) == 2:
            return f"{body[0]}-{body[1]}"
    return None


def values(right: Token, sets: Sets) -> list[str] | None:
    if not isinstance(right, str):
        return None
    if right.startswith("@"):
        named = sets.get(right[1:])
        if named is None:
            return None
        found = named
    elif right.startswith("{ "):
        found = [v.strip() for v in right[2:-2].split(",") if v.strip()]
    else:
        found = [right]
    return [v.split(" timeout ")[0].split(" expires ")[0].split(" comment ")[0].strip('"') for v in found]


def match(left: str, op: str, right: Token, sets: Sets) -> Test | None:
    """A test for `left op right`, or None when drift cannot decide it."""
    if left.split(" ", 1)[0] in _OTHER_HEADERS:
        return lambda p: False
    vals = values(right, sets)
    if vals is None:
        return None
    neg = op == "!="
    if left.startswith("tcp flags"):
        return _flags(left, op, vals)
    if op in ("<", ">", "<=", ">=") and left.endswith(("dport", "sport")) and right.isdigit():
        lo, hi = {"<": (0, int(right) - 1), "<=": (0, int(right)), ">": (int(right) + 1, 65535),
                  ">=": (int(right), 65535)}[op]
        vals, op = [f"{lo}-{hi}"], "=="
    if op not in ("==", "!=", "in"):
        return None
    if left in ("ip saddr", "ip daddr"):
        return lambda p: negate(any_of([in_net(p.src if left == "ip saddr" else p.dst, v) for v in vals]), neg)
    if left in ("tcp dport", "tcp sport", "udp dport", "udp sport", "th dport", "th sport"):
        proto, field = left.split()

        def ports(p: Packet) -> Match:
            if proto != "th" and p.proto != proto:
                return False
            port = p.dport if field == "dport" else p.sport
            return negate(any_of([in_ports(port, v, p.ephemeral) for v in vals]), neg)
        return ports
    if left.startswith("tcp "):  # another TCP header field: false for UDP, unknown for TCP
        return lambda p: False if p.proto != "tcp" else None
    if left.startswith("udp "):
        return lambda p: False if p.proto != "udp" else None
    if left in ("meta l4proto", "ip protocol", "l4proto"):
        return lambda p: negate(p.proto in {_L4.get(v, v) for v in vals}, neg)
    if left in ("meta nfproto", "nfproto"):
        return lambda p: negate("ipv4" in vals, neg)
    if left in ("meta pkttype", "pkttype"):
        return lambda p: negate(bool({"host", "unicast"} & set(vals)), neg)  # a connection's packets are for a host
    if left in ("iifname", "oifname", "iif", "oif", "meta iifname", "meta oifname"):
        incoming = left.endswith(("iifname", "iif"))
        return lambda p: negate(any_of([iface(p.iif if incoming else p.oif, v) for v in vals]), neg)
    if left == "ct state":
        states = {s.strip().upper() for v in vals for s in v.split(",")}
        return lambda p: negate(p.state in states, neg)
    if left == "ct status" and vals == ["dnat"]:
        # True on a flow drift followed through a DNAT; one a nat rule rewrites that drift did not
        # follow is undecided before any filter rule is read.
        return lambda p: negate(p.dnat, neg)
    if left == "ct direction":
        return lambda p: negate(("original" if p.state == "NEW" else "reply") in vals, neg)
    if left.startswith("fib ") and left.endswith(" type"):
        source = left.split()[1] == "saddr"
        return lambda p: negate(("local" if p.is_local(source) else "unicast") in vals, neg)
    if left == "fib saddr . iif oif" and vals in (["False"], ["0"], ["missing"]):
        # Reverse-path filtering: the peer is reached by the interface its packet came in by.
        return lambda p: negate(False, neg)
    return None


def _flags(left: str, op: str, vals: list[str]) -> Test | None:
    """`tcp flags & fin,syn,rst,ack == syn` (a `{ fin, psh, urg }` there is the flags together, `0x0`
    none of them); `tcp flags ! fin,syn` is none of those set; `tcp flags syn` any of them."""
    _, _, mask_text = left.partition(" & ")
    want = {f for v in vals for f in v.replace("|", ",").split(",") if f and f not in ("0x0", "0")}
    mask = set(mask_text.split(",")) if mask_text else set(_FLAGS)
    if not mask <= _FLAGS or not want <= _FLAGS or op not in ("==", "!=", "!", "in"):
        return None

    def test(p: Packet) -> Match:
        if p.proto != "tcp":
            return False
        got = {"syn"} if p.state == "NEW" else {"syn", "ack"}
        if op == "!":
            return not got & want
        if not mask_text and op in ("==", "in"):
            # `tcp flags syn` reads as a bit test or as equality (the rendering drops which): decided
            # only where both agree.
            bit, exact = bool(got & want), got == want
            return bit if bit == exact else None
        return ((got & mask) == want) != (op == "!=")
    return test


# Statements that change nothing about whether the packet passes.
_INERT = {"counter", "mangle", "notrack", "ct helper", "secmark", "last", "ct timeout", "ct expectation", "dup",
          "log"}
DIVERT = {"queue": "sends it to userspace", "fwd": "forwards it elsewhere", "tproxy": "hands it to a proxy",
           "synproxy": "answers it by proxy", "dnat": "rewrites the destination",
           "redirect": "rewrites the destination"}


def statement(x: dict[str, Any]) -> tuple[str, bool | None, str]:
    """What a JSON statement does: ("inert"|"divert"|"assumed"|"unknown", whether it matches, what it is)."""
    (kind, body), = x.items()
    if kind in _INERT:
        return "inert", True, kind
    if kind in DIVERT:
        return "divert", None, f"{kind} ({DIVERT[kind]})"
    if kind == "meter" and isinstance(body, dict):
        return _limited(body.get("stmt"), f"meter {body.get('name')}")
    if kind in ("set", "map") and isinstance(body, dict) and "op" in body:
        return _limited(body.get("stmt"), f"{body.get('op')} {body.get('set') or body.get('map')}")
    if kind == "ct count" and isinstance(body, dict):
        return "assumed", not body.get("inv"), "ct count"  # one new connection: a count of one
    if kind == "limit" and isinstance(body, dict):
        return "assumed", not body.get("inv"), "limit"
    if kind == "quota":
        return "unknown", None, "quota (bytes already counted)"
    return "unknown", None, f"statement {kind}"


def constant(value: bool | None) -> Test:
    return lambda p: value


def _limited(stmts: Any, what: str) -> tuple[str, bool | None, str]:
    """A meter or set update: under its per-key rate limit for one new connection (`over` then never holds)."""
    for s in stmts if isinstance(stmts, list) else [stmts] if stmts else []:
        if isinstance(s, dict) and isinstance(s.get("limit"), dict):
            return "assumed", not s["limit"].get("inv"), f"{what} with a rate limit"
        if isinstance(s, dict) and isinstance(s.get("ct count"), dict):
            return "assumed", not s["ct count"].get("inv"), f"{what} with a connection count"
    return "inert", True, what  # adding the key to the set matches, and decides nothing


def verdict_map(body: Any, sets: Sets, maps: Maps) -> list[tuple[Test | str, str]]:
    """`key vmap { a : accept, b : drop }` as (test of key == a, verdict) per entry, or (why it cannot be
    told, verdict). Keys may be concatenations (`ip daddr . meta l4proto . th dport`, kube-proxy's service
    maps) and `numgen random mod 1` (one endpoint: always 0)."""
    key = body.get("key") if isinstance(body, dict) else None
    data = body.get("data") if isinstance(body, dict) else None
    entries: list[tuple[Any, str]] = []
    if isinstance(data, str) and data.startswith("@"):
        if data[1:] not in maps:
            return [(f"a verdict map {data} that was not collected", "unknown")]
        entries = [(element_of(k), v) for k, v in maps[data[1:]]]
    elif isinstance(data, dict) and isinstance(data.get("set"), list):
        for e in data["set"]:
            if isinstance(e, list) and len(e) == 2 and isinstance(e[1], dict) and len(e[1]) == 1:
                (kind, target), = e[1].items()
                v = f"{kind} {target.get('target')}" if isinstance(target, dict) else kind
                entries.append((e[0], v))
            else:
                entries.append((None, "unknown"))
    else:
        return [("a verdict map drift does not read", "unknown")]
    return [(key_test(key, k, sets), v) for k, v in entries]


def element_of(text: str) -> Any:
    """A named set's or map's element as the collector wrote it (a word, or a concatenation's JSON),
    without its comment or timeout."""
    if text.startswith('{"'):
        try:
            return _DECODER.raw_decode(text)[0]
        except ValueError:
            return None
    return text.split(" comment ")[0].split(" timeout ")[0].split(" expires ")[0].strip('"')


def key_test(key: Any, element: Any, sets: Sets) -> Test | str:
    """A test that a map's (or a set's) key expression equals one element, or why drift cannot tell."""
    if isinstance(key, dict) and isinstance(key.get("numgen"), dict):
        gen = key["numgen"]
        if gen.get("mod") != 1:
            return f"numgen {gen.get('mode')} mod {gen.get('mod')} (a choice among several, made per connection)"
        value = value_of(element)
        return constant(value is not None and value == str(gen.get("offset") or 0))
    if isinstance(element, dict) and isinstance(element.get("elem"), dict):  # with a comment or timeout
        element = element["elem"].get("val")
    lefts = key["concat"] if isinstance(key, dict) and "concat" in key else [key]
    values = element.get("concat") if isinstance(element, dict) and "concat" in element else [element]
    if not isinstance(lefts, list) or not isinstance(values, list) or len(lefts) != len(values):
        return f"a map keyed by {_words(key)}"
    tests = []
    for left, value in zip(lefts, values, strict=True):
        words, v = left_of(left), value_of(value)
        test = match(words, "==", v, sets) if words and v is not None else None
        if test is None:
            return f"a map keyed by {_words(key)}"
        tests.append(test)
    return tests[0] if len(tests) == 1 else lambda p: _all(t(p) for t in tests)


def _all(results: Any) -> Match:
    out: Match = True
    for r in results:
        if r is False:
            return False
        if r is None:
            out = None
    return out


def _words(key: Any) -> str:
    parts: list[Any] = key["concat"] if isinstance(key, dict) and isinstance(key.get("concat"), list) else [key]
    return " . ".join(left_of(x) or json.dumps(x, sort_keys=True)[:40] for x in parts)
