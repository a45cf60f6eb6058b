"""iptables match options, read from iptables-save words into tests on one packet.

Each option either becomes a test (decided from the packet: addresses, ports, states, address
types, TCP flags), an *assumed* test (decided for one new connection: under a rate limit, not yet
in a recent list, below a connection count; the verdict then carries a note), or an unknown with
the construct named (`-m set`, `-m owner`, `--limit-iface-in`): never a guess.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any

from drift.analysis.reach.packet import Match, Packet, any_of, iface, in_net, in_ports, negate

Test = Callable[[Packet], Match]
IpSets = Mapping[str, Any]  # the ipset collector's facts; None where they were not collected
SetTest = Callable[[Packet, "IpSets | None"], tuple[Match, str]]

_PROTOS = {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp"}
# Modules whose options are read below, or that only carry a comment.
_KNOWN = {"tcp", "udp", "multiport", "conntrack", "state", "comment", "addrtype", "iprange", "limit", "hashlimit",
          "recent", "icmp", "icmp6", "icmpv6", "pkttype", "connlimit", "set"}
_FLAGS = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}
# Options of the modules above that take one value and change nothing for one new connection.
_SETTINGS = {"--limit-burst", "--hashlimit-burst", "--hashlimit-mode", "--hashlimit-name", "--hashlimit-srcmask",
             "--hashlimit-dstmask", "--hashlimit-htable-size", "--hashlimit-htable-max", "--hashlimit-htable-expire",
             "--hashlimit-htable-gcinterval", "--name", "--mask", "--seconds", "--connlimit-mask", "--comment"}
_FLAGS_ONLY = {"--rsource", "--rdest", "--reap", "--rttl", "--connlimit-saddr", "--connlimit-daddr"}


def read(w: str, words: list[str], i: int, neg: bool, tests: list[Test], assumed: list[Test],
         unknowns: list[str], sets: list[SetTest]) -> int:
    """Read the option at words[i] (negated by a `!` before it); return how many words it takes."""
    arg = words[i + 1] if i + 1 < len(words) else ""
    if w == "--match-set":
        sets.append(_ipset(arg, words[i + 2] if i + 2 < len(words) else "", neg))
        return 3
    if w in ("--return-nomatch", "--packets-eq", "--packets-lt", "--packets-gt", "--bytes-eq", "--bytes-lt",
             "--bytes-gt"):
        unknowns.append(f"option {w}")
        return 1 if w == "--return-nomatch" else 2
    if w in ("--update-counters", "--update-subcounters"):
        return 1
    if w in ("-s", "--source", "-d", "--destination", "--src-range", "--dst-range"):
        tests.append(_addr(w in ("-s", "--source", "--src-range"), arg, neg))
    elif w in ("-p", "--protocol"):
        tests.append(_proto(arg, neg))
    elif w in ("-i", "--in-interface", "-o", "--out-interface"):
        tests.append(_iface(w in ("-i", "--in-interface"), arg, neg))
    elif w in ("--dport", "--destination-port", "--sport", "--source-port", "--dports", "--sports", "--ports"):
        tests.append(_ports(w, arg, neg))
    elif w in ("--ctstate", "--state"):
        tests.append(_state(arg, neg))
    elif w in ("--src-type", "--dst-type"):
        tests.append(_addrtype(w == "--src-type", arg, neg))
    elif w in ("--icmp-type", "--icmpv6-type"):
        tests.append(lambda p: False)  # only ever with -p icmp: never a TCP or UDP packet, negated or not
    elif w == "--pkt-type":
        tests.append(lambda p: negate(arg.lower() in ("unicast", "host"), neg))  # a connection's packets are unicast
    elif w == "--tcp-flags":
        tests.append(_tcp_flags(arg, words[i + 2] if i + 2 < len(words) else "", neg))
        return 3
    elif w in ("--limit", "--hashlimit", "--hashlimit-upto", "--connlimit-upto"):
        assumed.append(lambda p: negate(True, neg))  # one new connection is within any rate or count
    elif w in ("--hashlimit-above", "--connlimit-above"):
        assumed.append(lambda p: negate(False, neg))
    elif w == "--set":  # recent: adds the source and matches
        assumed.append(lambda p: negate(True, neg))
        return 1
    elif w in ("--update", "--rcheck"):
        hits = _after(words, i, "--hitcount")
        if hits is not None and hits.isdigit() and int(hits) > 1:
            assumed.append(lambda p: negate(False, neg))  # one connection is never N hits
        else:
            unknowns.append(f"-m recent {w} (whether the source is already on the list)")
        return 1
    elif w == "--hitcount":
        pass  # read with --update / --rcheck
    elif w in ("-m", "--match"):
        if arg not in _KNOWN:
            unknowns.append(f"match -m {arg}")
    elif w in _SETTINGS:
        pass
    elif w in _FLAGS_ONLY or w in ("--syn", "-f", "--fragment"):
        if w == "--syn":
            tests.append(lambda p: negate(p.proto == "tcp" and p.syn and p.state == "NEW", neg))
        elif w in ("-f", "--fragment"):
            tests.append(lambda p: negate(False, neg))  # a connection's first packet is never a fragment
        return 1
    elif w.startswith("-"):
        unknowns.append(f"option {w}")
        return 1  # its values, if any, are read as unknown words
    else:
        return 1  # a value of an unknown option
    return 2


def _after(words: list[str], i: int, option: str) -> str | None:
    for j in range(i + 1, min(len(words) - 1, i + 12)):
        if words[j] == option:
            return words[j + 1]
        if words[j] in ("-j", "-g", "-m"):
            break
    return None


def _addr(source: bool, spec: str, neg: bool) -> Test:
    nets = spec.split(",")
    return lambda p: negate(any_of([in_net(p.src if source else p.dst, n) for n in nets]), neg)


def _proto(spec: str, neg: bool) -> Test:
    name = spec.lower()
    if name == "all" or name == "0":
        return lambda p: negate(True, neg)
    return lambda p: negate(_PROTOS.get(name, name) == p.proto, neg)


def _iface(incoming: bool, spec: str, neg: bool) -> Test:
    # The kernel compares a hook's missing device (no input device at output, no output device at
    # input) as the empty name: `-i docker0` does not match what the host sends, `! -i docker0` does.
    def test(p: Packet) -> Match:
        name, other = (p.iif, p.oif) if incoming else (p.oif, p.iif)
        return negate(iface("" if name is None and other is not None else name, spec), neg)
    return test


def _ports(option: str, spec: str, neg: bool) -> Test:
    specs = spec.split(",")
    if option == "--ports":  # multiport --ports: source or destination
        return lambda p: negate(any_of([in_ports(p.sport, s, p.ephemeral) for s in specs]
                                       + [in_ports(p.dport, s, p.ephemeral) for s in specs]), neg)
    dest = option in ("--dport", "--destination-port", "--dports")
    return lambda p: negate(any_of([in_ports(p.dport if dest else p.sport, s, p.ephemeral) for s in specs]), neg)


def _state(spec: str, neg: bool) -> Test:
    states = {s.upper() for s in spec.split(",")}
    # DNAT is a status of the connection, not a state: true on packets of a flow drift rewrote (a flow
    # a nat rule rewrites but drift did not follow is undecided before any filter rule is read).
    dnat = "DNAT" in states
    return lambda p: negate(p.state in states or (dnat and p.dnat), neg)


def addr_type(p: Packet, source: bool) -> str:
    """The kernel's address type of src or dst as the judging host sees it: its own, or a unicast peer."""
    return "LOCAL" if p.is_local(source) else "UNICAST"


def _addrtype(source: bool, spec: str, neg: bool) -> Test:
    types = {t.upper() for t in spec.split(",")}
    return lambda p: negate(addr_type(p, source) in types, neg)


def _tcp_flags(mask: str, comp: str, neg: bool) -> Test:
    def flags(names: str) -> set[str] | None:
        got = set(_FLAGS if names.upper() == "ALL" else () if names.upper() == "NONE" else names.upper().split(","))
        return got if got <= _FLAGS else None
    m, c = flags(mask), flags(comp)
    if m is None or c is None:
        return lambda p: None
    return lambda p: p.proto == "tcp" and negate((tcp_flags(p) & m) == c, neg) is True


def tcp_flags(p: Packet) -> set[str]:
    """The flags of the two packets drift judges: the first SYN, and the SYN-ACK answering it."""
    return {"SYN"} if p.state == "NEW" else {"SYN", "ACK"}


_BY_ADDRESS = {"hash:ip", "hash:net", "bitmap:ip"}
_BY_ADDRESS_PORT = {"hash:ip,port", "hash:net,port"}


def _ipset(name: str, dirs: str, neg: bool) -> SetTest:
    """`-m set --match-set NAME src[,dst]` against the ipset collector's elements of NAME."""
    flags = dirs.split(",")

    def test(p: Packet, ipsets: IpSets | None) -> tuple[Match, str]:
        body = ipsets.get(f"firewall/ipset/{name}") if ipsets is not None else None
        if not isinstance(body, dict) or not isinstance(body.get("elements"), list):
            why = "ipset contents not collected" if ipsets is None else "no such set"
            return None, f"-m set {name} ({why})"
        kind, elements = body.get("type"), [str(e) for e in body["elements"]]
        if body.get("family") not in (None, "inet") or not flags or not all(f in ("src", "dst") for f in flags):
            return None, f"-m set {name} ({body.get('family')} {dirs})"
        addr = p.src if flags[0] == "src" else p.dst
        if kind in _BY_ADDRESS and len(flags) == 1:
            return negate(_member(addr, None, elements), neg), ""
        if kind in _BY_ADDRESS_PORT and len(flags) == 2:
            port = p.sport if flags[1] == "src" else p.dport
            if port is None:
                return None, f"-m set {name} (the ephemeral port)"
            return negate(_member(addr, f"{p.proto}:{port}", elements), neg), ""
        return None, f"-m set {name} (type {kind} {dirs})"
    return test


def _member(addr: ipaddress.IPv4Address, port: str | None, elements: list[str]) -> Match:
    """The most specific entry holding addr (and port) decides; a `nomatch` one means no."""
    best: tuple[int, bool] | None = None
    for e in elements:
        entry, _, flag = e.partition(" ")
        net, _, eport = entry.partition(",")
        if port is not None and (eport if ":" in eport else f"tcp:{eport}") != port:
            continue
        try:
            network = ipaddress.IPv4Network(net, strict=False) if "-" not in net else None
        except ValueError:
            return None
        held = in_net(addr, net) if network is None else addr in network
        if held is None:
            return None
        if held and (best is None or (network.prefixlen if network else 32) > best[0]):
            best = (network.prefixlen if network else 32, flag == "nomatch")
    return best is not None and not best[1]
