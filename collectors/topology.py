"""Network topology: interfaces, routes, listening sockets, /etc/hosts and DNS resolvers.

Environments built alike but addressed differently must compare equal, so everything derived
from the host's own addresses is expressed relative to them: a connected route is
`topology/routes/v4/connected eth0 /24`, a gateway inside an own subnet is `eth0 net+1`, and a
socket bound to an own address listens on `self`. The addresses and MACs themselves are
recorded as identity facts.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from collectors.interface import CollectConfig, Collector, Facts, Json, Parsed
from collectors.parsing import load_json, split_parts
from drift.core.errors import CollectError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

ADDR = "ip -j -d addr show"
SEP = "@@next"


def _links(text: str) -> list[dict[str, Any]]:
    data = load_json(text, "ip -j addr")
    if not isinstance(data, list) or not all(isinstance(x, dict) and "ifname" in x for x in data):
        raise CollectError("ip -j addr: expected a list of interfaces")
    # Checked once here, so the readers below can trust the shape of what they index.
    for link in data:
        addrs = link.get("addr_info") or []
        if not isinstance(addrs, list) or not all(
                isinstance(a, dict) and ("local" not in a or "prefixlen" in a) for a in addrs):
            raise CollectError(f"ip -j addr: malformed addresses of {str(link['ifname'])[:40]!r}")
        if not isinstance(link.get("linkinfo") or {}, dict):
            raise CollectError(f"ip -j addr: malformed linkinfo of {str(link['ifname'])[:40]!r}")
    return data


def _own(links: list[dict[str, Any]]) -> list[tuple[str, Address, Network]]:
    """(interface, own address, its connected network) for every address of the host."""
    out = []
    for link in links:
        for a in link.get("addr_info", []) or []:
            try:
                iface = ipaddress.ip_interface(f"{a['local']}/{a['prefixlen']}")
            except (KeyError, ValueError, TypeError):  # no address, or not one (a peer-only entry)
                continue
            out.append((str(link["ifname"]), iface.ip, iface.network))
    return out


class OwnNets:
    """The host's own networks, indexed so that each route costs a few dict lookups, not a scan of
    every address: a router with thousands of interfaces and a full table stays linear."""

    def __init__(self, own: list[tuple[str, Address, Network]]):
        self.pairs = {(iface, net) for iface, _, net in own}
        # network -> (position, interface): the first interface in `ip addr` order wins, as before.
        self.by_net: dict[Network, list[tuple[int, str]]] = {}
        for position, (iface, _, net) in enumerate(own):
            if net.prefixlen < net.max_prefixlen:
                self.by_net.setdefault(net, []).append((position, iface))
        self.prefixes = sorted({(net.version, net.prefixlen) for net in self.by_net})

    def containing(self, ip: Address, dev: str | None) -> tuple[str, Network] | None:
        best: tuple[int, str, Network] | None = None
        for version, prefixlen in self.prefixes:
            if version != ip.version:
                continue
            net = ipaddress.ip_network(f"{ip}/{prefixlen}", strict=False)
            for position, iface in self.by_net.get(net, ()):
                if (dev is None or dev == iface) and (best is None or position < best[0]):
                    best = (position, iface, net)
        return None if best is None else (best[1], best[2])


def parse_interfaces(output: str, cfg: CollectConfig) -> Parsed:
    facts: Facts = {}
    identity = set()
    for link in _links(output):
        name = str(link["ifname"])
        base = f"topology/interfaces/{name}"
        kind = (link.get("linkinfo") or {}).get("info_kind") or link.get("link_type")
        facts[base] = {"state": link.get("operstate"), "mtu": link.get("mtu"), "kind": kind}
        facts[base + "/mac"] = link.get("address")
        addresses: list[Json] = [
            f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", []) or [] if "local" in a]
        facts[base + "/addresses"] = sorted(addresses, key=str)
        identity |= {base + "/mac", base + "/addresses"}
    return Parsed(facts, frozenset(identity))


ROUTES = f"{ADDR}; echo {SEP}; ip -j -4 route show table main; echo {SEP}; ip -j -6 route show table main"


def _relative(gateway: str, dev: str | None, own: OwnNets) -> str:
    try:
        gw = ipaddress.ip_address(gateway.split("%")[0])
    except ValueError:
        return gateway
    found = own.containing(gw, dev)
    if found is None:
        return gateway
    iface, net = found
    return f"{iface} net+{int(gw) - int(net.network_address)}"


def parse_routes(output: str, cfg: CollectConfig) -> Facts:
    addr, v4, v6 = split_parts(output, SEP, 3, "routes")
    own = OwnNets(_own(_links(addr)))
    facts: Facts = {}
    for family, text in (("v4", v4), ("v6", v6)):
        routes = load_json(text, f"ip -j -{family[1]} route") if text.strip() else []
        if not isinstance(routes, list):
            raise CollectError(f"ip -j route ({family}): expected a list")
        keyed: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        for r in routes:
            if not isinstance(r, dict) or "dst" not in r:
                raise CollectError(f"ip -j route ({family}): a route without dst")
            dev = r.get("dev")
            dst = str(r["dst"])
            connected = _connected(dst, dev, r, own)
            value: dict[str, Any] = {"dev": dev}
            if r.get("gateway"):
                value["via"] = _relative(str(r["gateway"]), dev, own)
            if isinstance(r.get("nexthops"), list):  # multipath: the route's gateways are its next hops
                value["nexthops"] = sorted(_nexthop(h, own) for h in r["nexthops"])
            for field in ("protocol", "metric", "type", "scope"):
                if r.get(field) is not None and not (field == "scope" and connected):
                    value[field] = r[field]
            keyed.append((f"topology/routes/{family}/{connected or dst}", value, r))
        # Several routes to one destination (a backup default route with a higher metric) must all
        # be kept: those are told apart by device and metric.
        count: dict[str, int] = {}
        for key, _, _ in keyed:
            count[key] = count.get(key, 0) + 1
        for key, value, r in keyed:
            if count[key] > 1:
                key += "".join(f" {field} {r[field]}" for field in ("dev", "metric", "tos", "type")
                               if r.get(field) is not None)
            facts[key] = value
    return facts


def _nexthop(hop: Any, own: OwnNets) -> str:
    if not isinstance(hop, dict):
        return str(hop)
    dev = hop.get("dev")
    via = _relative(str(hop["gateway"]), dev, own) if hop.get("gateway") else ""
    words = [f"via {via}"] if via else []
    if dev is not None and not via.startswith(f"{dev} "):  # `eth0 net+1` names its device already
        words.append(f"dev {dev}")
    if hop.get("weight") is not None:
        words.append(f"weight {hop['weight']}")
    return " ".join(words)


def _connected(dst: str, dev: str | None, route: dict[str, Any], own: OwnNets) -> str:
    if route.get("protocol") != "kernel" or route.get("gateway"):
        return ""
    try:
        net = ipaddress.ip_network(dst, strict=False)
    except ValueError:
        return ""
    if (dev, net) in own.pairs or (net.version == 6 and net.is_link_local):
        scope = "link-local" if net.version == 6 and net.is_link_local else "connected"
        return f"{scope} {dev} /{net.prefixlen}"
    return ""


LISTEN = f"{ADDR}; echo {SEP}; ss -H -l -n -t -u -p"
_USERS = re.compile(r'\("([^"]*)"')


def _bind(raw: str, own: set[Address]) -> tuple[str, str]:
    """(normalised bind, family) of an ss local-address field without its port."""
    # ss prints `[fe80::1]%eth0` for IPv6 and `0.0.0.0%eth0` for IPv4.
    host, _, scope = raw.replace("]", "", 1).lstrip("[").partition("%") if raw.startswith("[") \
        else raw.partition("%")
    bind, family = _bind_host(host, own)
    # `0.0.0.0%eth1`: bound to one device (SO_BINDTODEVICE), not reachable on the others.
    return (f"{bind}%{scope}" if scope else bind), family


def _bind_host(host: str, own: set[Address]) -> tuple[str, str]:
    if host in ("*", "0.0.0.0", "::"):  # noqa: S104 (reading ss output, not binding)
        return "*", "v6" if host in ("*", "::") else "v4"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host, "?"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    family = f"v{ip.version}"
    if ip.is_loopback:
        return "loopback", family
    if ip in own:
        return "self", family
    return str(ip), family


def parse_listen(output: str, cfg: CollectConfig) -> Facts:
    addr, sockets = split_parts(output, SEP, 2, "listen")
    own = {ip for _, ip, _ in _own(_links(addr))}
    # Sets while parsing, joined once at the end: merging into a joined string per line is quadratic
    # when thousands of lines (or process names) land on one socket.
    processes: dict[str, set[str]] = {}
    families: dict[str, set[str]] = {}
    for number, line in enumerate(sockets.split("\n"), 1):
        parts = line.split(None, 6)
        if not parts:
            continue
        if len(parts) < 6 or ":" not in parts[4]:
            raise CollectError(f"ss line {number}: expected NETID STATE RECV SEND LOCAL PEER, got {line[:80]!r}")
        proto = parts[0]
        host, _, port = parts[4].rpartition(":")
        if not (port.isascii() and port.isdigit() and len(port) <= 5):
            raise CollectError(f"ss line {number}: bad port in {parts[4][:60]!r}")
        bind, family = _bind(host, own)
        key = f"topology/listen/{proto}/{bind}:{port}"
        families.setdefault(key, set()).add(family)
        names = processes.setdefault(key, set())
        if len(parts) > 6:
            names.update(name for name in _USERS.findall(parts[6]) if name)
    return {key: {"process": ",".join(sorted(processes[key])) or None, "families": list[Json](sorted(fams))}
            for key, fams in families.items()}


HOSTS = "cat /proc/sys/kernel/hostname; echo @@hosts; cat /etc/hosts"


def parse_hosts(output: str, cfg: CollectConfig) -> Parsed:
    head, body = split_parts(output, "@@hosts", 2, "hosts")
    hostname = head.strip()
    if not hostname:
        raise CollectError("hosts: no hostname (output cut short?)")
    facts: dict[str, dict[str, None]] = {}  # name -> its addresses, in order, each once (dict as ordered set)
    identity = set()
    short = hostname.split(".")[0]
    for line in body.split("\n"):
        words = line.split("#", 1)[0].split()
        if len(words) < 2:
            continue
        address, names = words[0], words[1:]
        own_line = address == "127.0.1.1" or hostname in names or short in names
        for name in names:
            key = f"topology/hosts/{name}"
            facts.setdefault(key, {})[address] = None
            if own_line:
                identity.add(key)
    return Parsed({key: list[Json](addresses) for key, addresses in facts.items()}, frozenset(identity))


DNS = "if [ -e /etc/resolv.conf ]; then cat /etc/resolv.conf; else echo @@absent; fi"


def parse_dns(output: str, cfg: CollectConfig) -> Facts:
    if output.strip() == "@@absent":
        return {"topology/dns/nameservers": None, "topology/dns/search": None, "topology/dns/options": None}
    nameservers: list[Json] = []
    search: list[Json] = []
    options: list[str] = []
    for line in output.split("\n"):
        words = line.split("#", 1)[0].split(";", 1)[0].split()
        if not words:
            continue
        if words[0] == "nameserver" and len(words) > 1:
            nameservers.append(words[1])
        elif words[0] in ("search", "domain"):
            search = list[Json](words[1:])  # the last search/domain line wins, as in the resolver
        elif words[0] == "options":
            options.extend(words[1:])
    return {"topology/dns/nameservers": nameservers, "topology/dns/search": search,
            "topology/dns/options": list[Json](sorted(set(options)))}


COLLECTORS: tuple[Collector, ...] = (
    Collector("interfaces", "topology", lambda cfg: ADDR, parse_interfaces, requires=("ip",),
              description="interfaces: state, MTU, kind; addresses and MACs as identity"),
    Collector("routes", "topology", lambda cfg: ROUTES, parse_routes, requires=("ip",),
              description="IPv4 and IPv6 routes of the main table, relative to own subnets"),
    Collector("listen", "topology", lambda cfg: LISTEN, parse_listen, requires=("ss",),
              description="listening TCP and UDP sockets and their processes"),
    Collector("hosts", "topology", lambda cfg: HOSTS, parse_hosts,
              description="/etc/hosts entries"),
    Collector("dns", "topology", lambda cfg: DNS, parse_dns,
              description="resolv.conf nameservers, search domains and options"),
)
