"""One host's firewalls, whole: every table and base chain a packet crosses on its way in or out.

A packet entering a host crosses prerouting then input; one leaving crosses output then
postrouting. At each hook, the base chains of every table run in priority order (iptables'
tables at their fixed priorities, nftables chains at theirs), and an accept in one chain only
ends that chain: any chain's drop is final. So a host refuses if any chain refuses, admits if
every chain admits, and otherwise cannot be told.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from drift.analysis.reach import iptables, nft
from drift.analysis.reach.nft import Tables
from drift.analysis.reach.packet import Outcome, Packet, accepted, net_range, unknown
from drift.model.facts import FactTable
from drift.model.snapshot import Snapshot

# iptables tables by hook, at the kernel's priorities (NF_IP_PRI_*).
_XT = {
    "prerouting": (("raw", -300), ("mangle", -150), ("nat", -100)),
    "input": (("mangle", -150), ("filter", 0), ("security", 50), ("nat", 100)),
    "output": (("raw", -300), ("mangle", -150), ("nat", -100), ("filter", 0), ("security", 50)),
    "postrouting": (("mangle", -150), ("nat", 100)),
    "forward": (("mangle", -150), ("filter", 0), ("security", 50)),
}
_NAT_PRIO = -100  # where nat PREROUTING (OUTPUT) rewrites the destination: chains before it see the old one
INGRESS = ("prerouting", "input")
EGRESS = ("output", "postrouting")
FORWARD = ("prerouting", "forward", "postrouting")


@dataclass(frozen=True)
class Firewall:
    host: str
    problem: str | None  # why nothing can be said about this host's rules
    iptables: Mapping[str, Any]
    nft: Mapping[str, Any]
    ipsets: Mapping[str, Any] | None = None  # the ipset collector's facts; None: not collected
    # Read from the facts once per host, not once per packet: chains by table, nft tables.
    xt: dict[str, dict[str, Mapping[str, Any]]] = field(default_factory=dict, compare=False)
    nft_tables: Tables = field(default_factory=dict, compare=False)

    # Every address range the rules name: two addresses inside the same ones meet the same rules.
    ranges: list[tuple[int, int]] | None = field(default=None, compare=False)
    _signatures: dict[int, object] = field(default_factory=dict, compare=False, repr=False)
    # The same rules read once for every host that has them, under a placeholder name (`shared`):
    # verdicts worked out on it hold for each such host, with its name put in (`named`).
    template: Firewall | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.xt:  # made by `shared` from a firewall already read
            return
        for table in ("raw", "mangle", "nat", "filter", "security"):
            self.xt[table] = iptables.chains_of(self.iptables, "iptables", table)
        self.nft_tables.update(nft.tables_v4(self.nft))
        found = [net_range(t) for t in _ADDRESS.findall(json.dumps([self.iptables, self.nft, self.ipsets]))]
        object.__setattr__(self, "ranges", None if any(r is None for r in found) else sorted(set(found)))

    def signature(self, addr: ipaddress.IPv4Address) -> object:
        """What the rules can tell about addr: which of their ranges hold it (or addr itself)."""
        if self.ranges is None:
            return addr
        a = int(addr)
        known = self._signatures.get(a)
        if known is None:  # a fleet asks about the same few addresses for every pair of hosts
            known = self._signatures[a] = tuple(i for i, (lo, hi) in enumerate(self.ranges) if lo <= a <= hi)
        return known


_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+(?:/[\d.]+)?(?:-\d+\.\d+\.\d+\.\d+)?")


def firewall(s: Snapshot) -> Firewall:
    if s.failed:
        return Firewall(s.host, f"{s.host} could not be collected", {}, {})
    facts: dict[str, Mapping[str, Any]] = {}
    for name in ("iptables", "nft"):
        r = s.collectors.get(name)
        if r is None:
            return Firewall(s.host, f"{s.host}: the {name} collector did not run", {}, {})
        if r.status == "failed":
            return Firewall(s.host, f"{s.host}: {name} rules unknown ({r.error or 'collector failed'})", {}, {})
        facts[name] = as_written(r.facts, name) if r.status == "ok" else {}  # unsupported: the tool is absent
    hidden = [k.rsplit("/", 1)[1] for k, v in facts["iptables"].items()
              if k.count("/") == 2 and isinstance(v, dict) and v.get("incompatible")]
    lost = [t for t in hidden if not any(k.startswith(f"firewall/nft/ip {t}/") for k in facts["nft"])]
    if lost:
        return Firewall(s.host, f"{s.host}: iptables-save cannot show table {lost[0]} (nft-only syntax), and the "
                                "nft facts do not hold it", {}, {})
    r = s.collectors.get("ipset")
    ipsets = None if r is None or r.status == "failed" else dict(r.facts) if r.status == "ok" else {}
    return Firewall(s.host, None, facts["iptables"], facts["nft"], ipsets)


_HOST = "\x00host\x00"  # never in a host name (snapshot_schema refuses control characters)


def shared(fw: Firewall, templates: dict[tuple[object, ...], Firewall], key: tuple[object, ...]) -> Firewall:
    """fw, its rules read once per `key` (the digests of its rule facts) for every host that has them."""
    if fw.problem:
        return fw
    template = templates.get(key)
    if template is None:
        template = templates[key] = Firewall(_HOST, None, fw.iptables, fw.nft, fw.ipsets)
    return replace(template, host=fw.host, template=template)


def named(o: Outcome, host: str) -> Outcome:
    """An outcome worked out on a template, for one of its hosts."""
    def put(text: str | None) -> str | None:
        return text.replace(_HOST, host) if text else text

    return replace(o, accept=put(o.accept), refuse=put(o.refuse),
                   reasons=tuple(t.replace(_HOST, host) for t in o.reasons),
                   notes=tuple(t.replace(_HOST, host) for t in o.notes))


def as_written(facts: Mapping[str, Any], tool: str) -> dict[str, Any]:
    """A tool's (iptables, nft) chains as the kernel has them: the collector compares container engines'
    chains with their ids and addresses made tokens and keeps them as written in the identity fact
    `firewall/<tool>/as-written` (collectors.container_rules), which is what a packet meets."""
    key = f"firewall/{tool}/as-written"
    written = facts.get(key)
    out = {k: v for k, v in facts.items() if k != key}
    if isinstance(written, dict):
        out.update({f"firewall/{tool}/{k}": v for k, v in written.items()})
    return out


def container_ports(s: Snapshot) -> frozenset[tuple[str, int]]:
    """(proto, port) the `containers` collector says are published on a host address (not loopback):
    flows to judge even where nothing on the host listens (no docker-proxy, no conmon)."""
    r = s.collectors.get("containers")
    if s.failed or r is None or r.status != "ok":
        return frozenset()
    found = set()
    for key, value in r.facts.items():
        if not (key.startswith("containers/") and key.endswith("/ports")):
            continue
        lists: Any = value.get("varies") if isinstance(value, dict) else [value]
        for spec in (p for one in lists or () if isinstance(one, list) for p in one):
            host, _, inside = str(spec).partition("->")
            bind, _, port = host.rpartition(":")
            proto = inside.rpartition("/")[2]
            if port.isdigit() and proto in ("tcp", "udp") and bind not in ("127.0.0.1", "::1"):
                found.add((proto, int(port)))
    return frozenset(found)


def unseen_forward(host: str, proto: str, port: int) -> str:
    return (f"{host}: its containers publish {proto}/{port}, yet nothing on it listens there and no nat rule "
            "forwards it (a proxy, or a rule drift does not read)")


def crossing(fw: Firewall, hooks: tuple[str, ...], p: Packet, after: Packet | None = None) -> Outcome:
    """The host's verdict for p crossing hooks (INGRESS or EGRESS, or prerouting then forward). With
    `after`, p's destination was rewritten by a nat chain at the first hook, prerouting or output (dnat.py,
    already followed): the chains after that one, and the hooks after the first, see `after`."""
    if fw.problem:
        return unknown(fw.problem)
    where = f"{fw.host} "
    stages: list[tuple[int, int, Outcome]] = []
    # The kernel consults nat for a connection's first packet only, and once per direction: a packet
    # looped back was already bound by the output and postrouting nat chains on its way out.
    first = p.state == "NEW" and not (p.inbound and p.iif == "lo")
    for order, hook in enumerate(hooks):
        def seen(prio: int, hook: str = hook) -> Packet:
            return after if after is not None and (hook != hooks[0] or prio > _NAT_PRIO) else p
        for table, prio in _XT[hook]:
            chains = fw.xt[table]
            if after is not None and table == "nat" and hook == hooks[0]:
                continue
            if hook.upper() in chains and (first or table != "nat"):
                stages.append((order, prio, iptables.evaluate(chains, hook.upper(), seen(prio), where, table,
                                                              fw.ipsets)))
        for prio, table, chain in nft.base_chains(fw.nft, hook, fw.nft_tables):
            nat = fw.nft_tables[table].chains[chain].get("type") == "nat"
            if after is not None and nat and hook == hooks[0]:
                continue  # dnat.py asked every nat chain there: the first rewrite is the connection's
            if first or not nat:
                stages.append((order, prio, nft.evaluate(fw.nft, table, chain, seen(prio), where, fw.nft_tables)))
    stages.sort(key=lambda s: (s[0], s[1]))
    return combine([o for _, _, o in stages], f"{fw.host}: no rule filters this")


def combine(outcomes: list[Outcome], nothing: str, named_first: int | None = None) -> Outcome:
    """Chains in the order a packet meets them: the first sure refusal decides; else all must admit.
    An admitted verdict names outcomes[named_first]'s rule where that is not a mere policy default."""
    for o in outcomes:
        if o.verdict == "refused":
            return o
        if o.diverts and o.verdict != "admitted":
            break  # the packet may go elsewhere: what later chains say of it proves nothing
    if all(o.verdict == "admitted" for o in outcomes):
        # The admitting rule a person wants to see is the first that is not a mere policy default.
        ordered = outcomes if named_first is None else [outcomes[named_first], *outcomes]
        rules = [o.accept for o in ordered if o.accept]
        named = next((r for r in rules if " policy " not in r), rules[0] if rules else nothing)
        return accepted(named).noted(tuple(n for o in outcomes for n in o.notes))
    reasons = tuple(r for o in outcomes if o.verdict == "unknown" for r in o.reasons)
    return Outcome(unknown=True, reasons=reasons[:4] or ("the rules allow more than one outcome",))


Ifaces = list[tuple[str, ipaddress.IPv4Interface]]


def interfaces(s: Snapshot) -> Ifaces | None:
    """(name, address/prefix) of every IPv4 address of the host; None when not collected."""
    r = s.collectors.get("interfaces")
    if s.failed or r is None or r.status != "ok":
        return None
    return FactTable.of(r.facts).derived("reach.interfaces", _interfaces)


def _interfaces(facts: FactTable) -> Ifaces:
    out: Ifaces = []
    for key, value in facts.items():
        if key.startswith("topology/interfaces/") and key.endswith("/addresses") and isinstance(value, list):
            name = key[len("topology/interfaces/"):-len("/addresses")]
            for a in value:
                text = str(a)
                if ":" in text:  # IPv6: parsing it (after failing as IPv4) was most of compare's time on a fleet
                    continue
                try:
                    out.append((name, ipaddress.IPv4Interface(text)))
                except ValueError:
                    continue
    return out


def default_dev(s: Snapshot) -> str | None:
    r = s.collectors.get("routes")
    if s.failed or r is None or r.status != "ok":
        return None
    for key, value in sorted(r.facts.items()):
        if (key == "topology/routes/v4/default" or key.startswith("topology/routes/v4/default ")) \
                and isinstance(value, dict) and isinstance(value.get("dev"), str):
            return str(value["dev"])
    return None
