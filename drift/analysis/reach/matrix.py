"""The flow matrix of one environment: source role -> destination role:port, admitted or not.

For every pair of roles and every TCP/UDP port some destination host listens on (bound to an
address the source can reach), each source host's connection to each destination host is
judged by both hosts' firewalls: the source's way out, the destination's way in, and the reply
back (TCP's SYN-ACK; for UDP, the service's answer). Co-located roles talk over loopback.
Pure: snapshots in, verdicts out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from drift.analysis.reach import dnat, endpoint, outputdnat
from drift.analysis.reach import host as hostfw
from drift.analysis.reach.endpoint import Endpoint, Listener, ephemeral, listeners
from drift.analysis.reach.packet import Outcome, Packet
from drift.model.facts import FactTable
from drift.model.snapshot import Snapshot

FIREWALL_FACTS = ("iptables", "nft", "ipset")


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


def build(snapshots: Sequence[Snapshot], alike: bool = False) -> list[Cell]:
    """Every host pair (the matrix `drift reach` prints); with `alike`, one pair per destination host
    and class of sources that no rule can tell apart, standing for them all (`Pair.count`): the same
    verdicts at a cost linear in hosts, for compare on large fleets."""
    templates: dict[tuple[object, ...], hostfw.Firewall] = {}
    hosts = [Endpoint(s, hostfw.shared(hostfw.firewall(s), templates, _facts_key(s, FIREWALL_FACTS)),
                   hostfw.interfaces(s), listeners(s), ephemeral(s)) for s in snapshots]
    roles: dict[str, list[Endpoint]] = {}
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
            classes: dict[tuple[object, ...], list[Endpoint]] = {}
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


def _sources(classes: dict[tuple[object, ...], list[Endpoint]], d: Endpoint, home: tuple[object, ...] | None,
             same_role: bool) -> list[tuple[Endpoint, int]]:
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


def _source_keys(hosts: list[Endpoint]) -> dict[int, tuple[object, ...]]:
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


def _pair(s: Endpoint, d: Endpoint, proto: str, port: int, cache: dict) -> Pair | None:  # type: ignore[type-arg]
    if d.listen is None:
        return Pair(s.snap.host, d.snap.host, "unknown", None,
                    (f"{d.snap.host}: listening sockets were not collected",), "")
    binds = [x for x in d.listen if x.proto == proto and x.port == port]
    local = s is d
    if not binds and (proto, port) not in d.published:
        return None  # this host of the role does not listen there
    # A published port may have no socket on the host (no docker-proxy): the container behind it listens.
    behind = [] if binds else [Listener(proto, "*", port, True)]
    route = endpoint.loopback(d, binds or behind) if local else endpoint.remote(s, d, binds or behind)
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
    moved = _departed(d, first, cache) if local else _moved(d, inbound, cache)
    if behind and moved is None and (proto, port) in d.by_containers:
        return Pair(s.snap.host, d.snap.host, "unknown", None, (hostfw.unseen_forward(d.snap.host, proto, port),),
                    str(dst))
    if behind and moved is None:
        return None  # not rewritten for this source (`! -i docker0`), and nothing on the host listens
    # Where nat rewrites: outcomes[at] is the host's verdict that meets the rewrite (its way out over loopback,
    # the destination's way in from afar).
    at = 0 if local else 1
    if isinstance(moved, tuple):  # published: the rewritten packet's way there and its answer's way back
        outcomes = list(moved[:2]) if local else [outcomes[0], *moved[:2], outcomes[3]]
    elif moved is not None and outcomes[at].verdict == "unknown":
        outcomes[at] = replace(outcomes[at], reasons=(moved, *outcomes[at].reasons))
    # An admitted flow is credited to the destination's way in (over loopback, the host's way out, as a
    # container behind it is reached): that is where a service is opened.
    o = hostfw.combine(outcomes, "nothing filters this", named_first=at)
    via = f"{dst} (loopback)" if local else str(dst)
    via += f" → {moved[2]}" if isinstance(moved, tuple) else ""
    return Pair(s.snap.host, d.snap.host, o.verdict, o.rule, o.reasons if o.verdict == "unknown" else (), via,
                notes=o.notes if o.verdict == "admitted" else ())


def _departed(d: Endpoint, p: Packet, cache: dict) -> dnat.Arrival | str | None:  # type: ignore[type-arg]
    """Where d's nat OUTPUT sends its own connection p (outputdnat.py), worked out once per host and packet."""
    if d.fw.problem:
        return None
    key = ("dnat-out", d.snap.host, p.proto, p.src, p.dst, p.dport, p.ephemeral)
    if key not in cache:
        cache[key] = outputdnat.departure(d.fw, d.ifaces, outputdnat.route_localnet(d.snap), p)
    return cache[key]  # type: ignore[no-any-return]


def _moved(d: Endpoint, p: Packet, cache: dict) -> dnat.Arrival | str | None:  # type: ignore[type-arg]
    """Where d's nat PREROUTING sends p (dnat.py), worked out once for sources alike."""
    if d.fw.problem:
        return None
    key = ("dnat", d.snap.host, p.proto, d.fw.signature(p.src), d.fw.signature(p.dst), p.dport, p.iif, p.ephemeral)
    if key not in cache:
        cache[key] = dnat.arrival(d.fw, d.ifaces, dnat.forwarding(d.snap), p,
                                  frozenset((x.proto, x.port) for x in d.listen or ()))
    return cache[key]  # type: ignore[no-any-return]
