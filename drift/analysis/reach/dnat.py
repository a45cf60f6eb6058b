"""Where the nat chains at prerouting send a new connection: the one DNAT or REDIRECT it takes, if any.

iptables' nat PREROUTING (walked here) and nftables' nat chains (nftnat.py) run in priority order until
one rewrites; an accept ends only its own chain. The simple, common cases Docker, podman (iptables and
nft backends), kube-proxy (iptables and nftables modes) and firewalld's forward ports generate: rules
that surely match or surely do not, jumps into user chains, and a target with one address and one
port. A rule that may or may not match on the way, a choice among several targets (`-m statistic`,
`numgen random mod 2`, an address range) is undecided with the construct named: never a guess. A walk
visits at most _BUDGET rules.
"""

from __future__ import annotations

import ipaddress
import shlex
from dataclasses import replace

from drift.analysis.reach import host as hostfw
from drift.analysis.reach import iptables, nft, nftnat, xtmatch
from drift.analysis.reach.nftnat import Rewrite
from drift.analysis.reach.packet import Outcome, Packet
from drift.model.snapshot import Snapshot

_MAX_DEPTH = 64
_BUDGET = 100_000  # rule visits per walk
_MOVES = {"DNAT", "REDIRECT"}
_DPORTS = {"--dport", "--destination-port", "--dports", "--destination-ports"}


__all__ = ["Rewrite", "arrival", "forwarding", "prerouting", "published", "rewrite"]


def rewrite(chains: iptables.Chains, p: Packet, where: str = "",
            ipsets: xtmatch.IpSets | None = None, chain: str = "PREROUTING") -> Rewrite | str | None:
    """The rewrite of p's destination by nat PREROUTING (or OUTPUT); None: none; a str: why it cannot be told."""
    if chain not in chains or p.dport is None:
        return None
    end = _walk(chains, chain, p, where, ipsets, set(), [_BUDGET])
    return end if isinstance(end, Rewrite | str) else None


def prerouting(fw: hostfw.Firewall, p: Packet, hook: str = "prerouting") -> Rewrite | str | None:
    """The rewrite of p's destination by the host's nat chains at prerouting (or output, for a connection
    the host makes), iptables' and nft's, in the kernel's order; None: none (or a sure drop, which the
    host's crossing names); a str: why it cannot be told."""
    if p.dport is None:
        return None
    where = f"{fw.host} "
    stages: list[tuple[int, str, nftnat.Ends]] = []
    if hook.upper() in fw.xt["nat"]:
        r = rewrite(fw.xt["nat"], p, where, fw.ipsets, hook.upper())
        ends = nftnat.unknown(r) if isinstance(r, str) else nftnat.Ends(frozenset({r or "accept"}))
        stages.append((-100, f"{where}nat {hook.upper()}", ends))
    for prio, table, chain in nft.base_chains(fw.nft, hook, fw.nft_tables):
        t = fw.nft_tables[table]
        if t.chains[chain].get("type") == "nat":
            stages.append((prio, f"{where}nft {table} {chain}", nftnat.base_chain(t, chain, p, f"{where}nft {table}")))
    for prio, label, e in sorted(stages, key=lambda s: s[0]):
        if e.ends == {"accept"}:
            continue  # an accept ends only its own chain: the next nat chain is asked
        if e.ends == {"drop"}:
            return None
        tied = [other for q, other, o in stages if q == prio and other != label and o.ends != {"accept"}]
        if tied:
            return f"{label} and {tied[0]} are both at priority {prio}, and which runs first is not recorded"
        end = next(iter(e.ends)) if len(e.ends) == 1 else None
        return end if isinstance(end, Rewrite) else "; ".join(e.reasons) or f"{label}: more than one outcome"
    return None


def published(fw: hostfw.Firewall) -> frozenset[tuple[str, int]]:
    """(proto, port) a nat rule DNATs or REDIRECTs: ports a container may answer on with nothing on the
    host listening (whether a given connection is rewritten is arrival's to say). `--dport 8000:8010`,
    `-m multiport --dports 80,443` and nft's port sets and ranges count each port (a range wider than
    1024 ports, a NodePort range, is not listed port by port)."""
    found = nftnat.published(fw.nft_tables)
    for chain in fw.xt["nat"].values():
        for text in chain.get("rules") or ():
            words = str(text).split()
            target = words[words.index("-j") + 1] if "-j" in words[:-1] else ""
            proto = words[words.index("-p") + 1] if "-p" in words[:-1] else ""
            if target not in _MOVES or proto not in ("tcp", "udp"):
                continue
            for i, w in enumerate(words[:-1]):
                if w in _DPORTS and words[i - 1] != "!":
                    for spec in words[i + 1].split(","):
                        nftnat.add_ports(found, (proto,), spec.replace(":", "-"))
    return frozenset(found)


def forwarding(s: Snapshot) -> str | None:
    """net.ipv4.ip_forward as collected ("0", "1"), None where it was not."""
    r = s.collectors.get("sysctl")
    value = r.facts.get("system/sysctl/net.ipv4.ip_forward") if r is not None and r.status == "ok" else None
    return str(value) if value is not None else None


Arrival = tuple[Outcome, Outcome, str]  # the host's verdict on the way in, on the reply's way out; where to


def arrival(fw: hostfw.Firewall, ifaces: hostfw.Ifaces | None, forward: str | None, p: Packet,
            listening: frozenset[tuple[str, int]] = frozenset()) -> Arrival | str | None:
    """A new connection p arriving at the host, where nat PREROUTING rewrites its destination: a DNAT to
    another address is routed through (prerouting, forward, postrouting; the container's reply back the
    same way), one to the host itself goes up to input on the new port. None: no rewrite, judge p as it
    is; a str: a rewrite drift cannot follow, and why. `listening`: (proto, port) the host has sockets on."""
    r = prerouting(fw, p)
    if not isinstance(r, Rewrite):
        return r
    addr = r.addr or p.dst  # REDIRECT: the arriving interface's own address
    if addr.is_loopback:
        return f"{r.rule}: DNAT to a loopback address, delivered only where route_localnet allows it"
    if ifaces is None:
        return f"{fw.host}: its interfaces were not collected, so where {r.rule} sends the packet is unknown"
    moved = replace(p, dst=addr, dport=r.port, dnat=True)
    if any(i.ip == addr for _, i in ifaces):
        if (p.proto, r.port) not in listening:
            return f"{r.rule}: sends the packet to port {r.port}, where nothing on {fw.host} listens"
        return (hostfw.crossing(fw, hostfw.INGRESS, p, moved),
                hostfw.crossing(fw, hostfw.EGRESS, moved.reply(None, p.iif)), f"{addr}:{r.port} (by {r.rule})")
    out = [n for n, i in ifaces if addr in i.network and not i.ip.is_loopback]
    if not out:
        return f"{r.rule}: DNAT to {addr}, on none of {fw.host}'s networks; drift does not follow routes"
    if forward != "1":
        return (f"{fw.host}: net.ipv4.ip_forward was not collected, so whether it forwards to {addr} "
                f"({r.rule}) is unknown") if forward is None else \
            f"{fw.host}: net.ipv4.ip_forward is {forward}, and {r.rule} sends the packet on"
    moved = replace(moved, oif=out[0], forwarded=True)
    # Sent back out where it came in, or to the source's own network, the packet reaches a host whose way
    # to the source need not pass here (a container's does: this host is its gateway): the answer comes
    # back through this host only where its source is rewritten on the way out.
    hairpin = out[0] == p.iif or any(p.src in i.network for n, i in ifaces if n == out[0])
    if hairpin and not _source_rewritten(fw, moved):
        return (f"{r.rule}: sends the packet to {addr} by {out[0]}, and without a sure SNAT or masquerade on "
                f"the way out its answer need not come back through {fw.host}")
    back = moved.reply(out[0], p.iif)
    return (_forward(fw, p, moved), _forward(fw, back, back), f"{addr}:{r.port} behind it (by {r.rule})")


def _forward(fw: hostfw.Firewall, p: Packet, moved: Packet) -> Outcome:
    """The forward path's verdict; admitted, it names the forward hook's rule (or policy), not a MASQUERADE
    on the way out: the forward chains are where a published port is opened or closed."""
    o = hostfw.crossing(fw, hostfw.FORWARD, p, moved if moved is not p else None)
    if o.verdict != "admitted":
        return o
    named = hostfw.crossing(fw, ("forward",), moved)
    return replace(o, accept=named.accept) if named.verdict == "admitted" and named.accept else o


def _source_rewritten(fw: hostfw.Firewall, moved: Packet) -> bool:
    """Whether a nat rule at postrouting surely rewrites the forwarded packet's source (SNAT, MASQUERADE),
    so the new destination answers the host rather than the source straight."""
    o = hostfw.crossing(fw, ("postrouting",), moved)
    rule = o.accept or "" if o.verdict == "admitted" else ""
    text = rule.partition(": ")[2]
    return any(w in text.split() for w in ("MASQUERADE", "SNAT", "masquerade", "snat"))


def _walk(chains: iptables.Chains, name: str, p: Packet, where: str, ipsets: xtmatch.IpSets | None,
          active: set[str], budget: list[int]) -> Rewrite | str | bool:
    """A Rewrite, a str (undecided), True (the table's walk ends: ACCEPT) or False (the chain returns)."""
    if name in active or len(active) > _MAX_DEPTH:
        return f"{where}nat {name}: its jumps loop or nest too deep"
    body = chains.get(name)
    rules = body.get("rules") if isinstance(body, dict) else None
    if not isinstance(rules, list):
        return f"{where}nat {name}: rules not recorded"
    active.add(name)
    try:
        for index, text in enumerate(rules):
            budget[0] -= 1
            if budget[0] < 0:  # chains reached again and again (KUBE-MARK-MASQ is, harmlessly): kept linear
                return f"{where}nat {name}: more jumps than drift follows"
            rule = iptables.parsed(where, "nat", name, index, text if isinstance(text, str) else "")
            matched, why, _ = rule.test(p, ipsets)
            if matched is False or rule.target in iptables.CONTINUE or rule.target == "":
                continue
            if matched is None:
                return f"{why}; drift cannot tell whether it changes where the packet goes"
            if rule.target in ("ACCEPT", "RETURN"):
                return rule.target == "ACCEPT"
            if rule.target in _MOVES:
                return _target(rule.target, str(text), rule.label, p.dport or 0)
            if rule.target not in chains:
                return f"{rule.label}: target {rule.target} is not one drift follows"
            end = _walk(chains, rule.target, p, where, ipsets, active, budget)
            if end is not False or rule.goto:
                return end  # a goto's chain falling off returns from this chain too
        return False
    finally:
        active.discard(name)


def _target(kind: str, text: str, label: str, port: int) -> Rewrite | str:
    try:
        words = shlex.split(text)
    except ValueError:
        return f"cannot read rule {label}"
    options = words[words.index(kind) + 1:]
    if kind == "REDIRECT":
        dest = [options[i + 1] for i, w in enumerate(options[:-1]) if w == "--to-ports"]
        if len(dest) > 1 or (dest and not dest[0].isdigit()):
            return f"{label}: REDIRECT to a port range, where drift cannot tell which port a connection gets"
        return Rewrite(None, int(dest[0]) if dest else port, label)
    dest = [options[i + 1] for i, w in enumerate(options[:-1]) if w == "--to-destination"]
    if len(dest) != 1:
        what = "to several targets" if dest else "with no --to-destination"
        return f"{label}: DNAT {what}, which drift does not follow"
    addr, _, new = dest[0].partition(":")
    try:
        ip = ipaddress.IPv4Address(addr)
    except ValueError:
        return f"{label}: DNAT to an address range ({dest[0]}), where drift cannot tell which one a connection gets"
    kept = nftnat.new_port(new, port, any(w.startswith("--random") for w in options))
    if kept is None:
        return f"{label}: DNAT to a port range ({dest[0]}), where drift cannot tell which port a connection gets"
    # With one address and one port, --random and --persistent have nothing to choose among.
    return Rewrite(ip, kept, label)
