"""Published container ports on real netavark rules: reach follows the DNAT to the real container address
(the rules as written), and a port the containers collector says is published is a flow of its own."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from pathlib import Path

from collectors.firewall import COLLECTORS
from collectors.interface import CollectConfig, Parsed
from drift.analysis.reach import dnat, matrix
from drift.analysis.reach import host as hostfw
from drift.analysis.reach.nftnat import Rewrite
from drift.analysis.reach.packet import Packet
from drift.model.snapshot import CollectorResult, Snapshot
from tests.drift.analysis.reach.test_matrix import host

NETAVARK = Path(__file__).parents[3] / "collectors" / "fixtures" / "iptables" / "podman_netavark.json"
NETAVARK_NFT = Path(__file__).parent / "fixtures" / "netavark-nft.json"  # netavark's nft driver, one container


def netavark(forward: list[str]) -> Parsed:
    """podman's real rules for web (-p 8080:80 at 10.88.0.2) and api (-p 8081:8000 at 10.88.0.3), with
    FORWARD as given (the capture's policy was ACCEPT)."""
    output = json.loads(NETAVARK.read_text())["output"]
    output = output.replace(":FORWARD ACCEPT [0:0]\n", ":FORWARD DROP [0:0]\n" + "".join(f"-A FORWARD {r}\n" for r in forward))
    parsed = next(c for c in COLLECTORS if c.name == "iptables").parse(output, CollectConfig())
    assert isinstance(parsed, Parsed)
    return parsed


def web(rules: Parsed | None, containers: dict | None = None, listen: dict | None = None,
        nft: Parsed | None = None) -> Snapshot:
    s = host("web-1", "prod", ("web",), "10.213.3.5", listen or {"tcp/*:22": 1},
             dict(rules.facts) if rules else None, dict(nft.facts) if nft else None)
    extra = {"sysctl": CollectorResult("sysctl", "system", "ok", None, {"system/sysctl/net.ipv4.ip_forward": "1"})}
    if containers is not None:
        extra["containers"] = CollectorResult("containers", "containers", "ok", None, containers)
    iface = s.collectors["interfaces"]
    extra["interfaces"] = dataclasses.replace(iface, facts={**iface.facts,
                                                            "topology/interfaces/podman0/addresses": ["10.88.0.1/16"]})
    return dataclasses.replace(s, collectors={**s.collectors, **extra})


def peer() -> Snapshot:
    return host("db-1", "prod", ("db",), "10.213.3.21", {})


def cell(snaps: list[Snapshot], port: int) -> matrix.Cell | None:
    return next((c for c in matrix.build(snaps) if (c.src_role, c.dst_role, c.port) == ("db", "web", port)), None)


def test_reach_follows_the_published_port_to_the_real_container_address():
    c = cell([web(netavark(["-o podman0 -p tcp -m tcp --dport 80 -j ACCEPT"])), peer()], 8080)
    assert c is not None and c.verdict == "admitted"
    [p] = c.pairs
    assert p.via.startswith("10.213.3.5 → 10.88.0.2:80 behind it (by web-1 nat NETAVARK-DN-1D8721804F16F rule 3:")
    assert p.rule == "web-1 filter FORWARD rule 1: -o podman0 -p tcp -m tcp --dport 80 -j ACCEPT"
    # netavark 1.4 accepts only the containers' own and related traffic: FORWARD's policy decides.
    shut = cell([web(netavark([])), peer()], 8081)
    assert shut is not None and shut.verdict == "refused"
    assert shut.pairs[0].rule == "web-1 filter FORWARD policy DROP"
    assert "10.88.0.3:8000" in shut.pairs[0].via


def test_a_port_the_containers_publish_is_a_flow_where_nothing_listens_and_no_nat_rule_shows_it():
    # A proxy drift does not see (or a rule it does not read) forwards the port: the containers
    # collector's ports make the flow one drift judges, and says it cannot follow, not one it leaves out.
    ports = {"containers/shop/ports": ["8088->80/tcp", "127.0.0.1:9090->9090/udp"],
             "containers/api/ports": {"varies": [["host-address:8443->443/tcp"], []]}}
    snaps = [web(None, ports), peer()]
    c = cell(snaps, 8088)
    assert c is not None and c.verdict == "unknown"
    assert "web-1: its containers publish tcp/8088, yet nothing on it listens there" in c.pairs[0].reasons[0]
    # nftables DNAT (netavark's nftables driver, Docker's) is followed like iptables' nat.
    nat = {"firewall/nft/ip nat/prerouting": {"type": "nat", "hook": "prerouting", "priority": -100,
                                              "policy": "accept", "rules": ["tcp dport 8088 dnat to 10.88.0.9:80"]}}
    followed = cell([dataclasses.replace(w, collectors={**w.collectors, "nft": CollectorResult(
        "nft", "firewall", "ok", None, nat)}) for w in [web(None, ports)]] + [peer()], 8088)
    assert followed is not None and followed.verdict == "admitted"
    assert "by web-1 nft ip nat prerouting rule 1: tcp dport 8088 dnat to 10.88.0.9:80" in followed.pairs[0].via
    assert cell(snaps, 9090) is None  # bound to loopback: no peer's flow
    assert cell(snaps, 8443) is not None
    assert cell([web(None), peer()], 8088) is None  # without containers facts: not a flow at all


def test_netavark_nft_twins_compare_alike_and_reach_follows_each_to_its_real_container_address():
    output = json.loads(NETAVARK_NFT.read_text())["output"]
    collector = next(c for c in COLLECTORS if c.name == "nft")
    seen = []
    for addr in ("10.88.0.2", "10.88.0.7"):
        parsed = collector.parse(output.replace('"10.88.0.2"', f'"{addr}"'), CollectConfig())
        assert isinstance(parsed, Parsed) and parsed.identity == {"firewall/nft/as-written"}
        seen.append({k: v for k, v in parsed.facts.items() if k not in parsed.identity})
        snap = web(None, nft=parsed)
        packet = Packet("tcp", ipaddress.IPv4Address("10.213.3.21"), ipaddress.IPv4Address("10.213.3.5"), None, 7007,
                        "eth0", None, "NEW")
        r = dnat.prerouting(hostfw.firewall(snap), packet)
        assert isinstance(r, Rewrite) and (str(r.addr), r.port) == (addr, 8080)
        c = cell([snap, peer()], 7007)
        assert c is not None and c.verdict == "admitted"
        assert c.pairs[0].via.startswith(f"10.213.3.5 → {addr}:8080 behind it (by web-1 nft inet netavark ")
    assert seen[0] == seen[1]
