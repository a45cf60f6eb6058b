"""The flow matrix of one environment: source role -> destination role:port, admitted or not.

For every pair of roles and every TCP/UDP port some destination host listens on (bound to an
address the source can reach), each source host's connection to each destination host is
judged by both hosts' firewalls: the source's way out, the destination's way in, and the reply
back (TCP's SYN-ACK; for UDP, the service's answer). Co-located roles talk over loopback.
Pure: snapshots in, verdicts out.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, replace

from drift.analysis.reach import dnat
from drift.analysis.reach import host as hostfw
from drift.analysis.reach.packet import Outcome, Packet
from drift.model.facts import FactTable
from drift.model.snapshot import Snapshot

LOOPBACK = ipaddress.IPv4Address("127.0.0.1")
FIREWALL_FACTS = ("iptables", "nft", "ipset")
CONNECTED = "topology/ssh/server_address"  # the interfaces collector's: the address SSH reached the host on
Address = tuple[ipaddress.IPv4Address, str] | str  # the address and its interface, or why it is unknown


@dataclass(frozen=True)
class Pair:
    src: str
    dst: str
    verdict: str  # admitted | refused | unknown
    rule: str | None  # the refusing (or admitting) rule, host and chain
    reasons: tuple[str, ...]
    via: str  # the address connected to: "127.0.0.1 (loopback)", "10.0.2.21"
    count: int = 1  # sources this pair stands for (build(..., alike=True): a class of sources alike)
    notes: tuple[str, ...] = ()  # what an admitted verdict assumed: one new connection, under a rate limit


@dataclass(frozen=True)
class Cell:
    src_role: str
    dst_role: str
    proto: str
    port: int
    pairs: tuple[Pair, ...]

    @property
    def verdict(self) -> str:
        seen = {p.verdict for p in self.pairs}
        if "unknown" in seen:
            return "unknown"
        return seen.pop() if len(seen) == 1 else "partial"

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.src_role, self.dst_role, self.proto, self.port)

    def label(self) -> str:
        return f"{self.src_role} → {self.dst_role}:{self.port}" + ("/udp" if self.proto == "udp" else "")

    def why(self) -> str:
        """The refusing rule, or the reason drift cannot tell, of the first pair that has one."""
        v = self.verdict
        for p in self.pairs:
            if v in ("refused", "partial") and p.verdict == "refused":
                return f"by {p.rule}"
            if v == "unknown" and p.verdict == "unknown":
                return "; ".join(p.reasons) or "cannot tell"
        # Admitted, but only so far: one new connection under a rate limit.
        return next((p.notes[0] for p in self.pairs if v == "admitted" and p.notes), "")


@dataclass(frozen=True)
class Listener:
    proto: str
    bind: str  # *, self, loopback, an address; with %dev when bound to one device
    port: int
    v4: bool


def listeners(s: Snapshot) -> list[Listener] | None:
    r = s.collectors.get("listen")
    if s.failed or r is None or r.status != "ok":
        return None
    return FactTable.of(r.facts).derived("reach.listeners", _listeners)


def _listeners(facts: FactTable) -> list[Listener]:
    out = []
    for key, value in facts.items():
        parts = key.split("/", 3)
        if len(parts) != 4 or parts[1] != "listen" or parts[2] not in ("tcp", "udp"):
            continue
        bind, _, port = parts[3].rpartition(":")
        families = value.get("families") if isinstance(value, dict) else None
        if port.isdigit():
            out.append(Listener(parts[2], bind, int(port), isinstance(families, list) and "v4" in families))
    return out


def ephemeral(s: Snapshot) -> tuple[int, int] | None:
    """The host's ip_local_port_range, where its own connections' source ports lie."""
    r = s.collectors.get("listen")
    value = r.facts.get("topology/ports/ephemeral") if r is not None and r.status == "ok" else None
    low, _, high = str(value).partition("-")
    return (int(low), int(high)) if low.isdigit() and high.isdigit() else None


@dataclass
class _Host:
    snap: Snapshot
    fw: hostfw.Firewall
    ifaces: hostfw.Ifaces | None
    listen: list[Listener] | None
    ephemeral: tuple[int, int] | None = None
    # _address's part that does not depend on the peer, worked out once per host: the address, why it is
    # unknown, or the candidates among which the peer's network decides.
    own: Address | list[tuple[ipaddress.IPv4Address, str]] | None = None
    # (proto, port) its nat PREROUTING DNATs or its containers publish; of those, what only the containers show
    published: frozenset[tuple[str, int]] = frozenset()
    by_containers: frozenset[tuple[str, int]] = frozenset()

    def __post_init__(self) -> None:
        nat = dnat.published(self.fw)
        self.by_containers = hostfw.container_ports(self.snap) - nat
        self.published = nat | self.by_containers

    @property
    def v6only_known(self) -> bool:
        """Collected since ss's `*` (dual-stack) and `[::]` (v6-only) are told apart."""
        r = self.snap.collectors.get("listen")
        return r is not None and "topology/ports/ephemeral" in r.facts


def build(snapshots: Sequence[Snapshot], alike: bool = False) -> list[Cell]:
    """Every host pair (the matrix `drift reach` prints); with `alike`, one pair per destination host
    and class of sources that no rule can tell apart, standing for them all (`Pair.count`): the same
    verdicts at a cost linear in hosts, for compare on large fleets."""
    templates: dict[tuple[object, ...], hostfw.Firewall] = {}
    hosts = [_Host(s, hostfw.shared(hostfw.firewall(s), templates, _facts_key(s, FIREWALL_FACTS)),
                   hostfw.interfaces(s), listeners(s), ephemeral(s)) for s in snapshots]
    roles: dict[str, list[_Host]] = {}
    for h in hosts:
        for r in h.snap.all_roles:
            roles.setdefault(r, []).append(h)
    keys = _source_keys(hosts) if alike else {id(h): (id(h),) for h in hosts}
    cache: dict[tuple[object, ...], Outcome] = {}
    cells = []
    for dst_role in sorted(roles):
        ports = sorted({(x.proto, x.port) for h in roles[dst_role] for x in h.listen or ()}
                       | {x for h in roles[dst_role] for x in h.published})
        for src_role in sorted(roles):
            classes: dict[tuple[object, ...], list[_Host]] = {}
            for s in roles[src_role]:
                classes.setdefault(keys[id(s)], []).append(s)
            home = {id(s): k for k, members in classes.items() for s in members}  # a source's class key
            for proto, port in ports:
                pairs = [p if n == 1 else replace(p, count=n)
                         for d in roles[dst_role]
                         for s, n in _sources(classes, d, home.get(id(d)), src_role == dst_role)
                         for p in [_pair(s, d, proto, port, cache)] if p is not None]
                if pairs:
                    cells.append(Cell(src_role, dst_role, proto, port, tuple(sorted(pairs, key=_order))))
    return cells


def _order(p: Pair) -> tuple[str, str]:
    return (p.src, p.dst)


def _sources(classes: dict[tuple[object, ...], list[_Host]], d: _Host, home: tuple[object, ...] | None,
             same_role: bool) -> list[tuple[_Host, int]]:
    """(a source standing for n sources, n) towards d: d itself on its own (loopback), never as its own
    role's peer. `home` is d's class among these sources (None: d is not one), so this costs the
    classes, not their members: per destination, a scan of every member was hosts squared."""
    out = []
    for key, members in classes.items():
        if key is not home:
            out.append((members[0], len(members)))
            continue
        if len(members) > 1:
            out.append((members[1] if members[0] is d else members[0], len(members) - 1))
        if not same_role:
            out.append((d, 1))
    return out


def _source_keys(hosts: list[_Host]) -> dict[int, tuple[object, ...]]:
    """Sources alike for every rule of this environment: the same firewall facts, the same networks and
    default device, and each of their addresses in the same ranges of every firewall here."""
    firewalls = list({_facts_key(h.snap, FIREWALL_FACTS): h.fw for h in hosts}.values())
    keys: dict[int, tuple[object, ...]] = {}
    for h in hosts:
        ifaces = tuple(sorted((n, str(i.network)) for n, i in h.ifaces or ()))
        seen = tuple(f.signature(i.ip) for _, i in h.ifaces or () for f in firewalls)
        keys[id(h)] = (_facts_key(h.snap, FIREWALL_FACTS), h.ifaces is None, ifaces,
                       hostfw.default_dev(h.snap), seen, h.ephemeral)
    return keys


def _facts_key(s: Snapshot, names: tuple[str, ...]) -> tuple[object, ...]:
    out: list[object] = [s.failed]
    for name in names:
        r = s.collectors.get(name)
        out.append(None if r is None else (r.status, FactTable.of(r.facts).digest if r.status == "ok" else r.error))
    return tuple(out)


def _pair(s: _Host, d: _Host, proto: str, port: int, cache: dict) -> Pair | None:  # type: ignore[type-arg]
    if d.listen is None:
        return Pair(s.snap.host, d.snap.host, "unknown", None,
                    (f"{d.snap.host}: listening sockets were not collected",), "")
    binds = [x for x in d.listen if x.proto == proto and x.port == port]
    local = s is d
    if not binds and (local or (proto, port) not in d.published):
        return None  # this host of the role does not listen there
    # A published port may have no socket on the host (no docker-proxy): the container behind it listens.
    behind = [] if binds else [Listener(proto, "*", port, True)]
    route = _loopback(d, binds) if local else _remote(s, d, binds or behind)
    if route is None:
        return None  # bound only where this source cannot connect (loopback of another host)
    if isinstance(route, str):
        return Pair(s.snap.host, d.snap.host, "unknown", None, (route,), "")
    src, dst, s_if, d_if = route
    first = Packet(proto, src, dst, None, port, None, s_if, "NEW", ephemeral=s.ephemeral)
    inbound = Packet(proto, src, dst, None, port, d_if, None, "NEW", ephemeral=s.ephemeral)
    steps = [(s, hostfw.EGRESS, first), (d, hostfw.INGRESS, inbound)]
    # The answer must come back through both hosts too: TCP's SYN-ACK, a UDP service's reply.
    steps += [(d, hostfw.EGRESS, inbound.reply(None, d_if)), (s, hostfw.INGRESS, inbound.reply(s_if, None))]
    outcomes = []
    for h, hooks, p in steps:
        # Hosts alike in their rules meet a packet alike: keyed by what the rules can see of it.
        # Hosts with the same rules share a template: judged once on it, then named for this host.
        fw = h.fw.template or h.fw
        key: tuple[object, ...] = (id(fw), hooks, p.proto, fw.signature(p.src), fw.signature(p.dst), p.sport,
                                   p.dport, p.iif, p.oif, p.state, p.syn, p.ephemeral)
        if key not in cache:
            cache[key] = hostfw.crossing(fw, hooks, p)
        if fw is not h.fw:
            mine = (key, h.snap.host)  # a destination meets this for every class of sources
            if mine not in cache:
                cache[mine] = hostfw.named(cache[key], h.snap.host)
            key = mine
        outcomes.append(cache[key])
    moved = None if local else _moved(d, inbound, cache)
    if behind and moved is None and (proto, port) in d.by_containers:
        return Pair(s.snap.host, d.snap.host, "unknown", None, (hostfw.unseen_forward(d.snap.host, proto, port),),
                    str(dst))
    if behind and moved is None:
        return None  # not rewritten for this source (`! -i docker0`), and nothing on the host listens
    if isinstance(moved, tuple):  # published: the way in and the reply's way out are the forwarded ones
        outcomes[1:3] = moved[:2]
    elif moved is not None and outcomes[1].verdict == "unknown":
        outcomes[1] = replace(outcomes[1], reasons=(moved, *outcomes[1].reasons))
    # An admitted flow is credited to the destination's way in: that is where a service is opened.
    o = hostfw.combine(outcomes, "nothing filters this", named_first=1)
    via = f"{dst} (loopback)" if local else f"{dst} → {moved[2]}" if isinstance(moved, tuple) else str(dst)
    return Pair(s.snap.host, d.snap.host, o.verdict, o.rule, o.reasons if o.verdict == "unknown" else (), via,
                notes=o.notes if o.verdict == "admitted" else ())


def _moved(d: _Host, p: Packet, cache: dict) -> dnat.Arrival | str | None:  # type: ignore[type-arg]
    """Where d's nat PREROUTING sends p (dnat.py), worked out once for sources alike."""
    if d.fw.problem:
        return None
    key = ("dnat", d.snap.host, p.proto, d.fw.signature(p.src), d.fw.signature(p.dst), p.dport, p.iif, p.ephemeral)
    if key not in cache:
        cache[key] = dnat.arrival(d.fw, d.ifaces, dnat.forwarding(d.snap), p,
                                  frozenset((x.proto, x.port) for x in d.listen or ()))
    return cache[key]  # type: ignore[no-any-return]


Route = tuple[ipaddress.IPv4Address, ipaddress.IPv4Address, str | None, str | None]


def _loopback(d: _Host, binds: list[Listener]) -> Route | str | None:
    for b in binds:
        if (b.bind in ("*", "loopback") and b.v4) or b.bind == "*%lo":
            return LOOPBACK, LOOPBACK, "lo", "lo"
        if b.bind == "self" and b.v4:
            own = _address(d)
            if isinstance(own, str):
                return own
            return own[0], own[0], "lo", "lo"
    if any(b.bind == "*" for b in binds) and not d.v6only_known:
        return f"{d.snap.host}: bound to the IPv6 wildcard; whether it also accepts IPv4 is not recorded"
    return None


def _remote(s: _Host, d: _Host, binds: list[Listener]) -> Route | str | None:
    own = _address(d, s)
    if isinstance(own, str):
        return own
    dst, d_if = own
    usable = [b for b in binds if b.bind.split("%")[0] in ("*", "self", str(dst))
              and (b.v4 or b.bind.split("%")[0] == str(dst)) and b.bind.partition("%")[2] in ("", d_if)]
    if not usable:
        if any(b.bind.split("%")[0] == "*" and not b.v4 for b in binds) and not d.v6only_known:
            return f"{d.snap.host}: bound to the IPv6 wildcard; whether it also accepts IPv4 is not recorded"
        return None
    if s.ifaces is None:
        return f"{s.snap.host}: its interfaces were not collected"
    for name, iface in s.ifaces:
        if dst in iface.network and not iface.ip.is_loopback:
            return iface.ip, dst, name, d_if
    dev = hostfw.default_dev(s.snap)
    addrs = [i.ip for n, i in s.ifaces if n == dev]
    if dev is None or not addrs:
        return f"{s.snap.host}: no route to {dst} in its recorded routes"
    return addrs[0], dst, dev, d_if


def _address(d: _Host, s: _Host | None = None) -> Address:
    """The address others (s) connect to, and the interface that holds it: the inventory's address; where
    that is a name, the address SSH reached d on (the name resolved), or the one address of d on a network
    s is on (d's routes reach s from there)."""
    if d.own is None:
        d.own = _own_address(d)
    if not isinstance(d.own, list):
        return d.own
    shared = [(ip, n) for ip, n in d.own if s is not None and s.ifaces is not None
              and any(ip in i.network and not i.ip.is_loopback for _, i in s.ifaces)]
    if len(shared) == 1:
        return shared[0]
    return (f"{d.snap.host}: {len(d.own)} IPv4 addresses and an inventory address that is a name; "
            f"which one {s.snap.host if s else 'peers'} connect{'s' if s else ''} to is unknown")


def _own_address(d: _Host) -> Address | list[tuple[ipaddress.IPv4Address, str]]:
    if d.ifaces is None:
        return f"{d.snap.host}: its interfaces were not collected"
    try:
        given = ipaddress.IPv4Address(d.snap.address)
    except ValueError:
        given = None
    own = [(i.ip, n) for n, i in d.ifaces if not i.ip.is_loopback]
    if given is not None:
        match = [(ip, n) for ip, n in own if ip == given]
        if match:
            return match[0]
        return f"{d.snap.host}: its address {given} is on none of its interfaces (NAT?)"
    if len(own) == 1:
        return own[0]
    r = d.snap.collectors.get("interfaces")
    connected = r.facts.get(CONNECTED) if r is not None else None
    reached = [(ip, n) for ip, n in own if str(ip) == connected]
    if reached:
        return reached[0]
    return own
