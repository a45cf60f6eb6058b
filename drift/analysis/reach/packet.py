"""What the evaluators judge: one packet of a connection, and the outcome of a chain for it.

Three-valued throughout: a match is True, False, or unknown (None, with a reason). A rule whose
match is unknown may or may not apply, so its chain's outcome is the set of outcomes of both
cases; only when every case agrees is the verdict known. Nothing here guesses.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass, field, replace

Address = ipaddress.IPv4Address


@dataclass(frozen=True)
class Packet:
    proto: str  # tcp | udp
    src: Address
    dst: Address
    sport: int | None  # None: an ephemeral port, not known in advance
    dport: int | None
    iif: str | None  # the interface it arrives on (INPUT); None on OUTPUT
    oif: str | None  # the interface it leaves by (OUTPUT); None on INPUT
    state: str  # conntrack state: NEW for the first packet, ESTABLISHED for replies
    syn: bool = True  # TCP flags: SYN alone (first packet) or SYN+ACK (the reply)
    # The connecting host's ephemeral port range (net.ipv4.ip_local_port_range), where the unknown
    # port (sport of the first packet, dport of the reply) lies; None when not collected.
    ephemeral: tuple[int, int] | None = None
    forwarded: bool = False  # routed through the host (to a container behind DNAT): neither end is its own
    # Its connection's destination was rewritten by a nat rule drift followed: conntrack's DNAT status
    # (`--ctstate DNAT`, nft `ct status dnat`), on the connection's packets both ways.
    dnat: bool = False

    @property
    def inbound(self) -> bool:
        """Crossing prerouting/input (it has an input interface), not output/postrouting."""
        return self.iif is not None

    def is_local(self, source: bool) -> bool:
        """Whether src (or dst) is an address of the host judging the packet: over loopback both are;
        otherwise the host's own end is the destination of what comes in and the source of what goes out."""
        if self.forwarded:
            return False
        if "lo" in (self.iif, self.oif):
            return True
        return self.inbound != source

    def reply(self, iif: str | None, oif: str | None) -> Packet:
        # Built directly: dataclasses.replace was a third of compare's reachability work on a fleet.
        return Packet(self.proto, self.dst, self.src, self.dport, self.sport, iif, oif, "ESTABLISHED", False,
                      self.ephemeral, self.forwarded, self.dnat)


Match = bool | None  # None: cannot tell


@dataclass(frozen=True)
class Outcome:
    """The possible ends of a chain (or a whole hook) for one packet.

    `accept`/`refuse` name the first rule seen to accept or refuse; `returns` is falling off the end
    of a user chain; `reasons` say why more than one end is possible, or why an end is unknown;
    `notes` qualify a decided end ("under a rate limit": decided for one new connection)."""

    accept: str | None = None
    refuse: str | None = None
    returns: bool = False
    unknown: bool = False
    reasons: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())
    diverts: bool = False  # the packet may be sent elsewhere (DNAT, a queue): later chains may never see it

    def __or__(self, other: Outcome) -> Outcome:
        return Outcome(self.accept or other.accept, self.refuse or other.refuse, self.returns or other.returns,
                       self.unknown or other.unknown, _reasons(self.reasons + other.reasons),
                       _reasons(self.notes + other.notes), self.diverts or other.diverts)

    def noted(self, notes: tuple[str, ...]) -> Outcome:
        return replace(self, notes=_reasons(notes + self.notes)) if notes else self

    @property
    def verdict(self) -> str:
        if self.unknown or self.returns or (self.accept and self.refuse):
            return "unknown"
        return "admitted" if self.accept else "refused" if self.refuse else "unknown"

    @property
    def rule(self) -> str | None:
        return self.refuse if self.verdict == "refused" else self.accept if self.verdict == "admitted" else None


def _reasons(reasons: tuple[str, ...]) -> tuple[str, ...]:
    # A few distinct reasons are enough for a person; a thousand identical ones help nobody.
    return tuple(dict.fromkeys(reasons))[:4]


def accepted(rule: str) -> Outcome:
    return Outcome(accept=rule)


def refused(rule: str) -> Outcome:
    return Outcome(refuse=rule)


def unknown(reason: str, diverts: bool = False) -> Outcome:
    return Outcome(unknown=True, reasons=(reason,), diverts=diverts)


RETURN = Outcome(returns=True)


def then(first: Outcome, rest: Outcome) -> Outcome:
    """first, and where it falls through (returns), continue with rest."""
    if not first.returns:
        return first
    return Outcome(first.accept, first.refuse, False, first.unknown, first.reasons, first.notes, first.diverts) | rest


def maybe(matched: Outcome, rest: Outcome, reason: str) -> Outcome:
    """A rule that may or may not apply: either its outcome, or the rest of the chain."""
    both = matched | rest
    if matched == rest or (matched.verdict == rest.verdict and matched.verdict != "unknown"):
        # Either way the same end: the rule that surely applies is the one to name.
        return rest.noted(matched.notes) if matched.verdict != "unknown" else both
    return Outcome(both.accept, both.refuse, both.returns, both.unknown, _reasons((*both.reasons, reason)),
                   both.notes, both.diverts)


@functools.lru_cache(maxsize=1 << 14)
def _port_range(spec: str) -> tuple[int, int] | None:
    lo, sep, hi = spec.strip().replace("-", ":").partition(":")
    try:
        low = int(lo) if lo else 0
        return low, int(hi) if sep and hi else (65535 if sep else low)
    except ValueError:
        return None


def in_ports(port: int | None, spec: str, ephemeral: tuple[int, int] | None = None) -> Match:
    """`22`, `1000:2000` (iptables), `1000-2000` (nft), against a port that may be an ephemeral one
    (None): then decided when the whole ephemeral range lies inside or outside the spec."""
    rng = _port_range(spec)
    if rng is None:
        return None
    if port is None:
        if ephemeral is None:
            return None
        if rng[0] <= ephemeral[0] and ephemeral[1] <= rng[1]:
            return True
        return False if rng[1] < ephemeral[0] or ephemeral[1] < rng[0] else None
    return rng[0] <= port <= rng[1]


def any_of(results: list[Match]) -> Match:
    if any(r is True for r in results):
        return True
    return None if any(r is None for r in results) else False


@functools.lru_cache(maxsize=1 << 16)
def net_range(spec: str) -> tuple[int, int] | None:
    try:
        if "-" in spec:
            a, b = spec.split("-", 1)
            return int(ipaddress.IPv4Address(a.strip())), int(ipaddress.IPv4Address(b.strip()))
        net = ipaddress.IPv4Network(spec.strip(), strict=False)
        return int(net.network_address), int(net.broadcast_address)
    except ValueError:
        return None


def in_net(addr: Address, spec: str) -> Match:
    """An address, a CIDR, or a range `a-b`; parsed once per distinct spec."""
    rng = net_range(spec)
    if rng is None:
        return None
    return rng[0] <= int(addr) <= rng[1]


def iface(name: str | None, spec: str) -> Match:
    """iptables `eth+` and nft `"eth*"` are prefixes."""
    if name is None:
        return None
    spec = spec.strip('"')
    if spec.endswith(("+", "*")):
        return name.startswith(spec[:-1])
    return name == spec


def negate(m: Match, neg: bool) -> Match:
    return m if m is None or not neg else not m
