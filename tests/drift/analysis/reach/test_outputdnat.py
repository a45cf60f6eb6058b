"""A co-located role's connection that nat OUTPUT sends to a container (issue 24), on real rule sets: Docker's
iptables rules, podman's netavark with its iptables and its nftables driver (fixtures name their sources)."""

from __future__ import annotations

import dataclasses
import ipaddress

from drift.analysis.reach import host, matrix, outputdnat
from drift.analysis.reach.packet import Packet
from drift.model.snapshot import CollectorResult
from tests.drift.analysis.reach.test_matrix import host as host_snapshot
from tests.drift.analysis.reach.test_nftnat import IFACES
from tests.drift.analysis.reach.test_real_rulesets import EPHEMERAL, fw, nft, xt

A = ipaddress.IPv4Address
OFF = {"all": "0", "podman0": "0", "docker0": "0"}


def local(port: int, addr: str = "127.0.0.1") -> Packet:
    """The host's own connection to itself: over loopback, or to its own address (routed over lo too)."""
    return Packet("tcp", A(addr), A(addr), None, port, None, "lo", "NEW", ephemeral=EPHEMERAL)


def test_dockers_output_rule_skips_loopback_and_sends_the_hosts_own_address_to_the_container():
    docker = fw(xt("docker.iptables"))
    assert outputdnat.departure(docker, IFACES, OFF, local(8080)) is None  # `! -d 127.0.0.0/8`: docker-proxy's
    out, back, where = outputdnat.departure(docker, IFACES, OFF, local(8080, "10.213.3.11"))  # type: ignore[misc]
    assert where.startswith("172.17.0.2:8080 by docker0 (by h nat DOCKER rule 2: ! -i docker0")
    assert (out.verdict, back.verdict) == ("admitted", "admitted")


def test_filter_output_sees_the_rewritten_packet_and_input_its_answer_from_the_bridge():
    rules = xt("docker.iptables")
    rules["firewall/iptables/filter/OUTPUT"] = {"policy": "ACCEPT", "rules": [
        "-d 172.17.0.2/32 -o docker0 -p tcp -m tcp --dport 8080 -j REJECT"]}
    out, _, _ = outputdnat.departure(fw(rules), IFACES, OFF, local(8080, "10.213.3.11"))  # type: ignore[misc]
    assert (out.verdict, out.rule) == ("refused", "h filter OUTPUT rule 1: -d 172.17.0.2/32 -o docker0 -p tcp -m tcp "
                                                  "--dport 8080 -j REJECT")
    rules["firewall/iptables/filter/OUTPUT"] = {"policy": "ACCEPT", "rules": []}
    rules["firewall/iptables/filter/INPUT"] = {"policy": "DROP", "rules": ["-i lo -j ACCEPT"]}
    _, back, _ = outputdnat.departure(fw(rules), IFACES, OFF, local(8080, "10.213.3.11"))  # type: ignore[misc]
    assert (back.verdict, back.rule) == ("refused", "h filter INPUT policy DROP")  # the answer comes in by docker0
    rules["firewall/iptables/filter/INPUT"]["rules"].append("-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
    _, back, _ = outputdnat.departure(fw(rules), IFACES, OFF, local(8080, "10.213.3.11"))  # type: ignore[misc]
    assert back.verdict == "admitted"


def test_netavark_rewrites_loopback_which_the_kernel_routes_only_with_route_localnet():
    for podman, rule in ((fw(xt("podman-netavark.iptables")), "h nat NETAVARK-DN-1D8721804F16F rule "),
                         (fw(nft_facts=nft("netavark-nft.json")), "h nft inet netavark nv_53ce4390_10_88_0_0_nm16_dnat")):
        assert "route_localnet were not collected" in str(outputdnat.departure(podman, IFACES, {}, local(8080)))
        out, back, where = outputdnat.departure(podman, IFACES, OFF, local(8080))  # type: ignore[misc]
        assert out.verdict == back.verdict == "refused" and out.rule is not None and out.rule.startswith(rule)
        assert "a 127.0.0.1 source may not leave by podman0, route_localnet is 0" in out.rule
        on = outputdnat.departure(podman, IFACES, {**OFF, "podman0": "1"}, local(8080))
        assert "masquerade" in str(on) and "drift does not follow" in str(on)  # netavark's is by a packet mark
        mine = outputdnat.departure(podman, IFACES, OFF, local(8080, "10.213.3.11"))
        assert isinstance(mine, tuple) and [o.verdict for o in mine[:2]] == ["admitted", "admitted"], mine
        assert outputdnat.departure(podman, IFACES, OFF, local(22)) is None


def test_the_matrix_judges_a_co_located_roles_loopback_connection_at_nat_output():
    web = host_snapshot("web-1", "stg", ("web", "worker"), "10.213.3.11", {"tcp/*:22": 1}, {}, nft("netavark-nft.json"))
    ifaces = {**web.collectors["interfaces"].facts, "topology/interfaces/podman0/addresses": ["10.88.0.1/16"]}
    sysctl = {"system/sysctl/net.ipv4.conf.all.route_localnet": "0",
              "system/sysctl/net.ipv4.conf.podman0.route_localnet": "0"}
    web = dataclasses.replace(web, collectors={
        **web.collectors, "interfaces": CollectorResult("interfaces", "topology", "ok", None, ifaces),
        "sysctl": CollectorResult("sysctl", "system", "ok", None, sysctl)})
    assert outputdnat.route_localnet(web) == {"all": "0", "podman0": "0"}
    cells = {c.key: c for c in matrix.build([web])}
    pair = cells[("worker", "web", "tcp", 7007)].pairs[0]  # published only: no socket on the host
    assert pair.verdict == "refused" and pair.via.startswith("127.0.0.1 (loopback) → 10.88.0.2:8080 by podman0")
    assert "route_localnet is 0" in str(pair.rule)
    assert cells[("worker", "web", "tcp", 22)].pairs[0].verdict == "admitted"  # not rewritten: judged over lo


def test_a_hooks_missing_device_is_the_empty_name_for_iptables():
    rules = {"firewall/iptables/filter/OUTPUT": {"policy": "ACCEPT", "rules": ["-i eth0 -j DROP", "! -i eth0 -j REJECT"]}}
    assert host.crossing(fw(rules), host.EGRESS, local(80, "10.213.3.11")).rule == \
        "h filter OUTPUT rule 2: ! -i eth0 -j REJECT"
