"""A host as reachability sees it (its firewall, interfaces, sockets, ephemeral ports, what its nat
rules publish), and the way between two hosts: the address a peer connects to and the interface each
end uses, or why that is unknown. Pure: snapshots in."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from drift.analysis.reach import dnat
from drift.analysis.reach import host as hostfw
from drift.model.facts import FactTable
from drift.model.snapshot import Snapshot

LOOPBACK = ipaddress.IPv4Address("127.0.0.1")
CONNECTED = "topology/ssh/server_address"  # the interfaces collector's: the address SSH reached the host on
Address = tuple[ipaddress.IPv4Address, str] | str  # the address and its interface, or why it is unknown


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
class Endpoint:
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


Route = tuple[ipaddress.IPv4Address, ipaddress.IPv4Address, str | None, str | None]


def loopback(d: Endpoint, binds: list[Listener]) -> Route | str | None:
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


def remote(s: Endpoint, d: Endpoint, binds: list[Listener]) -> Route | str | None:
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


def _address(d: Endpoint, s: Endpoint | None = None) -> Address:
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


def _own_address(d: Endpoint) -> Address | list[tuple[ipaddress.IPv4Address, str]]:
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
