"""Where nat OUTPUT sends a connection a host makes to itself: a co-located role's, over loopback or to
the host's own address.

Docker (`! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER`) and netavark (`-m addrtype --dst-type
LOCAL`, nft `fib daddr type local`) rewrite such connections to a published port's container at nat
OUTPUT. The kernel then routes the packet again: out by the container's bridge through the rest of output
and postrouting (never forward: the host made it), and the container's answer comes back in through
prerouting and input as an established connection. A source of 127.0.0.1 may leave by the bridge only
where route_localnet is on for it (else routing fails, and the connect with it); where it is on, the
container can answer only a source rewritten on the way out (netavark masquerades it by a packet mark,
which drift does not follow), so that flow is undecided.
"""

from __future__ import annotations

from dataclasses import replace

from drift.analysis.reach import dnat
from drift.analysis.reach import host as hostfw
from drift.analysis.reach.nftnat import Rewrite
from drift.analysis.reach.packet import Packet, refused
from drift.model.snapshot import Snapshot


def departure(fw: hostfw.Firewall, ifaces: hostfw.Ifaces | None, localnet: dict[str, str | None],
              p: Packet) -> dnat.Arrival | str | None:
    """The host's verdict on p's way out and on the answer's way back in, and where p went, where nat
    OUTPUT rewrites p's destination; None: no rewrite, judge p as it is; a str: why drift cannot follow it.
    `localnet`: route_localnet by device name ("all" too), as collected (absent: not collected)."""
    r = dnat.prerouting(fw, p, "output")
    if not isinstance(r, Rewrite):
        return r
    if ifaces is None:
        return f"{fw.host}: its interfaces were not collected, so where {r.rule} sends the packet is unknown"
    addr = r.addr or p.dst
    if r.addr is None or addr.is_loopback or any(i.ip == addr for _, i in ifaces):
        return f"{r.rule}: rewrites the connection to {fw.host} itself ({addr}:{r.port}), which drift does not follow"
    out = [n for n, i in ifaces if addr in i.network and not i.ip.is_loopback]
    if not out:
        return f"{r.rule}: DNAT to {addr}, on none of {fw.host}'s networks; drift does not follow routes"
    dev = out[0]
    moved = replace(p, dst=addr, dport=r.port, oif=dev, dnat=True)
    where = f"{addr}:{r.port} by {dev} (by {r.rule})"
    if p.src.is_loopback:
        on = [localnet.get(k) for k in ("all", dev)]
        if "1" not in on and None in on:
            return (f"{r.rule}: sends {p.src}'s connection out by {dev}, which the kernel routes only where "
                    f"route_localnet is on, and net.ipv4.conf.{{all,{dev}}}.route_localnet were not collected")
        if "1" in on:
            # The container can answer only a rewritten source; netavark's is masqueraded by a packet mark,
            # which drift does not follow.
            return (f"{r.rule}: sends {p.src}'s connection to {addr} by {dev}, and whether a SNAT or masquerade "
                    f"on the way out lets the container answer it drift does not follow")
        no = refused(f"{r.rule} (then the kernel's routing: a {p.src} source may not leave by {dev}, "
                     f"route_localnet is 0 on all and {dev})")
        return no, no, where
    back = moved.reply(dev, None)
    # The chains before nat prerouting see the answer to the bridge's address where the source was masqueraded
    # on the way out, to the host's own otherwise: either way the same verdict, or it is undecided.
    bridge = next(i.ip for n, i in ifaces if n == dev and addr in i.network)
    answer = {hostfw.crossing(fw, hostfw.INGRESS, before, back) for before in (back, replace(back, dst=bridge))}
    if len(answer) > 1:
        return (f"{r.rule}: the answer from {addr} is judged differently before nat prerouting as the source was "
                "masqueraded on the way out or not, which drift cannot tell")
    return hostfw.crossing(fw, hostfw.EGRESS, p, moved), answer.pop(), where

def route_localnet(s: Snapshot) -> dict[str, str | None]:
    """net.ipv4.conf.<dev>.route_localnet by device, as the sysctl collector recorded it (a `.` in a device
    name is a `/` in the key)."""
    r = s.collectors.get("sysctl")
    if s.failed or r is None or r.status != "ok":
        return {}
    head, tail = "system/sysctl/net.ipv4.conf.", ".route_localnet"
    return {k[len(head):-len(tail)].replace("/", "."): None if v is None else str(v)
            for k, v in r.facts.items() if k.startswith(head) and k.endswith(tail)}
