"""Published ports and services DNAT'd by nftables, followed on real rule sets: kube-proxy's nftables mode,
firewalld's forward ports, podman's netavark nft driver (each fixture and its tests/lab/firewalls/*.nft
names its source), and iptables' port ranges and multiport for `published`."""

from __future__ import annotations

import dataclasses
import ipaddress

from drift.analysis.reach import dnat, host, matrix
from drift.analysis.reach.nftnat import Rewrite
from drift.analysis.reach.packet import Packet
from drift.model.snapshot import CollectorResult
from tests.drift.analysis.reach.test_matrix import host as host_snapshot
from tests.drift.analysis.reach.test_real_rulesets import EPHEMERAL, fw, nft, xt

A = ipaddress.IPv4Address
I = ipaddress.IPv4Interface  # noqa: E741
IFACES = [("lo", I("127.0.0.1/8")), ("eth0", I("10.213.3.11/24")), ("docker0", I("172.17.0.1/16")),
          ("podman0", I("10.88.0.1/16"))]
LISTENING = frozenset({("tcp", 22), ("tcp", 7001), ("tcp", 8080)})


def inbound(port: int, src: str = "10.213.3.12", proto: str = "tcp") -> Packet:
    return Packet(proto, A(src), A("10.213.3.11"), None, port, "eth0", None, "NEW", ephemeral=EPHEMERAL)


def nat(*rules: str, policy: str = "accept", prio: int = -100, **chains: list[str]) -> dict:
    facts = {"firewall/nft/ip nat/pre": {"type": "nat", "hook": "prerouting", "priority": prio, "policy": policy,
                                         "rules": list(rules)}}
    facts.update({f"firewall/nft/ip nat/{k}": {"type": None, "hook": None, "priority": None, "policy": None,
                                               "rules": v} for k, v in chains.items()})
    return facts


def arrive(facts: dict, port: int, src: str = "10.213.3.12", forward: str | None = "1"):  # type: ignore[no-untyped-def]
    return dnat.arrival(fw(nft_facts=facts), IFACES, forward, inbound(port, src), LISTENING)


def test_kube_proxy_nftables_nodeports_reach_their_one_endpoint_through_the_service_maps():
    kube = fw(nft_facts=nft("kube-proxy-nft.json"))
    # services: `ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports`, then the external,
    # service (`numgen random mod 1 vmap`) and endpoint chains.
    r = dnat.prerouting(kube, inbound(3003))
    assert isinstance(r, Rewrite) and (r.addr, r.port) == (A("172.17.0.2"), 8080)
    assert r.rule == "h nft ip kube-proxy endpoint-UEIP74TE-ns3/svc3/tcp/p80__172.17.0.2/8080 rule 2: " \
                     "meta l4proto tcp dnat to 172.17.0.2:8080"
    arrival = dnat.arrival(kube, IFACES, "1", inbound(3003), LISTENING)
    assert isinstance(arrival, tuple)
    assert [o.verdict for o in arrival[:2]] == ["admitted", "admitted"]
    assert arrival[2].startswith("172.17.0.2:8080 behind it (by h nft ip kube-proxy endpoint-UEIP74TE")
    # svc2 has no endpoint here: nothing rewrites, and filter-input's no-endpoint vmap drops it.
    assert dnat.prerouting(kube, inbound(3001)) is None
    assert dnat.published(kube) >= {("tcp", 3001), ("tcp", 3002), ("tcp", 3003)}


def test_several_endpoints_a_range_or_an_unread_map_are_undecided_and_named():
    kube = fw(nft_facts=nft("kube-proxy-nft.json"))
    cluster_ip = dataclasses.replace(inbound(80), dst=A("172.30.0.44"))
    assert "numgen random mod 2 (a choice among several" in str(dnat.prerouting(kube, cluster_ip))
    spread = nat("tcp dport 8080 dnat to 172.17.0.2-172.17.0.9:8080")
    assert "an address drift cannot tell a connection gets" in str(arrive(spread, 8080))
    ports = nat("tcp dport 8080 dnat to 172.17.0.2:80-90")
    assert "a port drift cannot tell" in str(arrive(ports, 8080))
    podman = {"firewall/iptables/nat/PREROUTING": {"policy": "ACCEPT", "rules": [
        "-p tcp -m tcp --dport 8000:8010 -j DNAT --to-destination 10.88.0.3:8000-8010"]}}
    r = dnat.prerouting(fw(podman), inbound(8004))  # podman's `-p 8000-8010:8000-8010`: the port is kept
    assert isinstance(r, Rewrite) and r.port == 8004
    podman["firewall/iptables/nat/PREROUTING"]["rules"][0] += " --random"
    assert "port range" in str(dnat.prerouting(fw(podman), inbound(8004)))
    assert "a port drift cannot tell" in str(arrive(nat("tcp dport 8004 dnat to 1.2.3.4:8000-8010 flags random"), 8004))
    same = nat("tcp dport 8000-8010 dnat to 172.17.0.2:8000-8010")  # a port the range allows is kept
    assert isinstance(dnat.prerouting(fw(nft_facts=same), inbound(8004)), Rewrite)
    assert dnat.prerouting(fw(nft_facts=same), inbound(8004)).port == 8004  # type: ignore[union-attr]
    doubt = nat("meta mark 0x1 tcp dport 8080 dnat to 172.17.0.2:8080")
    assert "meta mark" in str(arrive(doubt, 8080))
    queue = nat("tcp dport 8080 queue")
    assert "queue" in str(arrive(queue, 8080))


def test_firewalld_forward_ports_redirect_to_the_host_and_forward_to_other_hosts():
    fwd = nft("firewalld-forward.json")
    local = arrive(fwd, 7004)  # redirect to :7001, where the host listens
    assert isinstance(local, tuple)
    assert (local[0].verdict, local[0].rule) == ("admitted", "h nft inet firewalld filter_INPUT rule 2: ct status dnat accept")
    assert local[2].startswith("10.213.3.11:7001 (by h nft inet firewalld nat_PRE_public_allow rule 1: ")
    behind = arrive(fwd, 7005)
    assert isinstance(behind, tuple) and behind[0].rule == "h nft inet firewalld filter_FORWARD rule 2: ct status dnat accept"
    # To a peer on the source's own network: firewalld's masquerade brings the answer back through the host.
    peer = arrive(fwd, 7006)
    assert isinstance(peer, tuple) and peer[2].startswith("10.213.3.21:80 behind it")
    assert dnat.published(fw(nft_facts=fwd)) >= {("tcp", 7004), ("tcp", 7005), ("tcp", 7006)}
    assert "ip_forward is 0" in str(arrive(fwd, 7005, forward="0"))


def test_a_dnat_to_the_sources_own_network_without_snat_is_undecided():
    facts = nat("tcp dport 7006 dnat ip to 10.213.3.21:80")
    assert "without a sure SNAT or masquerade" in str(arrive(facts, 7006))
    elsewhere = nat("tcp dport 7006 dnat ip to 10.213.3.21:80")  # a client from afar: its answer goes by the router
    assert "need not come back through h" in str(arrive(elsewhere, 7006, src="192.0.2.7"))
    facts["firewall/nft/ip nat/post"] = {"type": "nat", "hook": "postrouting", "priority": 100, "policy": "accept",
                                         "rules": ['oifname "eth0" masquerade']}
    assert isinstance(arrive(facts, 7006), tuple)


def test_netavark_nft_publishes_through_its_dnat_chain_and_forward_decides():
    podman = nft("netavark-nft.json")
    r = dnat.prerouting(fw(nft_facts=podman), inbound(7007))
    assert isinstance(r, Rewrite) and (r.addr, r.port) == (A("10.88.0.2"), 8080)
    arrival = arrive(podman, 7007)
    assert isinstance(arrival, tuple) and [o.verdict for o in arrival[:2]] == ["admitted", "admitted"]
    assert arrival[1].rule == "h nft inet netavark FORWARD rule 5: ip saddr 10.88.0.0/16 accept"
    assert dnat.prerouting(fw(nft_facts=podman), inbound(22)) is None
    assert dnat.published(fw(nft_facts=podman)) == {("tcp", 7007), ("tcp", 8080)}


def test_nat_chains_run_in_priority_order_and_the_first_rewrite_binds():
    first = nat("tcp dport 80 dnat to 172.17.0.2:8080", prio=-100)
    first["firewall/nft/ip other/pre"] = {"type": "nat", "hook": "prerouting", "priority": -90, "policy": "accept",
                                          "rules": ["tcp dport 80 dnat to 172.17.0.3:8080"]}
    r = dnat.prerouting(fw(nft_facts=first), inbound(80))
    assert isinstance(r, Rewrite) and r.addr == A("172.17.0.2")
    first["firewall/nft/ip nat/pre"]["rules"] = ["tcp dport 80 accept"]  # an accept ends only its own chain
    r = dnat.prerouting(fw(nft_facts=first), inbound(80))
    assert isinstance(r, Rewrite) and r.addr == A("172.17.0.3")
    # iptables' nat PREROUTING is at -100 too: two chains that may rewrite at one priority are undecided.
    tied = xt("docker.iptables")
    both = fw(tied, nat("tcp dport 8080 dnat to 172.17.0.3:8080"))
    assert "both at priority -100" in str(dnat.prerouting(both, inbound(8080)))
    alone = fw(tied, nat("tcp dport 9999 dnat to 172.17.0.3:8080"))  # the nft chain rewrites nothing here
    r = dnat.prerouting(alone, inbound(8080))
    assert isinstance(r, Rewrite) and r.addr == A("172.17.0.2")


def test_maps_in_the_dnat_statement_and_redirect_without_a_port():
    facts = nat('dnat to {"map":{"data":{"set":[[7000,{"concat":["172.17.0.2",8080]}]]},"key":{"payload":'
                '{"field":"dport","protocol":"tcp"}}}} family ip', "tcp dport 81 redirect")
    r = dnat.prerouting(fw(nft_facts=facts), inbound(7000))
    assert isinstance(r, Rewrite) and (r.addr, r.port) == (A("172.17.0.2"), 8080)
    r = dnat.prerouting(fw(nft_facts=facts), inbound(81))  # no element for 81: the map rule does not apply
    assert isinstance(r, Rewrite) and (r.addr, r.port) == (None, 81)


def test_published_counts_iptables_port_ranges_and_multiport():
    facts = {"firewall/iptables/nat/PREROUTING": {"policy": "ACCEPT", "rules": [
        "-p tcp -m tcp --dport 8000:8002 -j DNAT --to-destination 10.88.0.3:8000-8002",
        "-p udp -m multiport --dports 53,5353:5354 -j DNAT --to-destination 10.88.0.3",
        "-p tcp -m tcp ! --dport 22 -j REDIRECT --to-ports 8080",
        "-p tcp -m tcp --dport 30000:32767 -j DNAT --to-destination 10.88.0.3"]}}
    assert dnat.published(fw(facts)) == {("tcp", 8000), ("tcp", 8001), ("tcp", 8002), ("udp", 53), ("udp", 5353),
                                         ("udp", 5354)}
    nft_facts = nat("tcp dport { 8080, 9000-9001 } dnat to 172.17.0.2", "th dport 53 dnat to 172.17.0.2")
    assert dnat.published(fw(nft_facts=nft_facts)) == {("tcp", 8080), ("tcp", 9000), ("tcp", 9001), ("tcp", 53),
                                                       ("udp", 53)}


def test_the_matrix_judges_an_nft_published_port_with_no_socket_on_the_host():
    web = host_snapshot("web-1", "prd", ("web",), "10.213.3.11", {"tcp/*:22": 1}, {}, nft("netavark-nft.json"))
    ifaces = {**web.collectors["interfaces"].facts, "topology/interfaces/podman0/addresses": ["10.88.0.1/16"]}
    web = dataclasses.replace(web, collectors={
        **web.collectors, "interfaces": CollectorResult("interfaces", "topology", "ok", None, ifaces),
        "sysctl": CollectorResult("sysctl", "system", "ok", None, {"system/sysctl/net.ipv4.ip_forward": "1"})})
    db = host_snapshot("db-1", "prd", ("db",), "10.213.3.21", {})
    cells = {c.key: c for c in matrix.build([web, db])}
    pair = cells[("db", "web", "tcp", 7007)].pairs[0]
    assert pair.verdict == "admitted" and pair.via.startswith("10.213.3.11 → 10.88.0.2:8080 behind it")


def test_a_nat_chains_drop_and_its_policy_drop_refuse():
    # On the kernel, `policy drop;` on a nat chain at prerouting drops a new connection nothing rewrote.
    dropping = fw(nft_facts=nat("tcp dport 80 dnat to 172.17.0.2:8080", policy="drop"))
    assert dnat.prerouting(dropping, inbound(22)) is None
    o = host.crossing(dropping, host.INGRESS, inbound(22))
    assert (o.verdict, o.rule) == ("refused", "h nft ip nat pre policy drop")
    assert isinstance(dnat.prerouting(dropping, inbound(80)), Rewrite)


def test_a_verdict_map_element_with_a_comment_is_read():
    # `tcp dport vmap { 22 comment "ssh" : accept, 80 : drop }` as nft -j lists it (nftables 1.0.6).
    rule = '{"vmap":{"data":{"set":[[{"elem":{"comment":"ssh","val":22}},{"accept":null}],[80,{"drop":null}]]},' \
           '"key":{"payload":{"field":"dport","protocol":"tcp"}}}}'
    facts = {"firewall/nft/inet t/i": {"type": "filter", "hook": "input", "priority": 0, "policy": "drop",
                                       "rules": [rule]}}
    assert host.crossing(fw(nft_facts=facts), host.INGRESS, inbound(22)).verdict == "admitted"
    assert host.crossing(fw(nft_facts=facts), host.INGRESS, inbound(80)).verdict == "refused"


def test_a_dnatd_flow_is_refused_by_the_forward_or_input_rule_that_decides():
    demo = nft("nft-dnat.json")
    by_forward = arrive(demo, 7010, src="10.213.3.21")  # a port of `tcp dport { 7010-7011 }`
    assert isinstance(by_forward, tuple)
    assert (by_forward[0].verdict, by_forward[0].rule) == ("refused", "h nft inet dnat-demo forward_drop policy drop")
    admitted = arrive(demo, 7010)
    assert isinstance(admitted, tuple) and admitted[0].rule == (
        "h nft inet dnat-demo forward_drop rule 2: ip saddr 10.213.3.12 ip daddr 172.17.0.2 tcp dport 8080 accept")
    by_input = arrive(demo, 7008, src="10.213.3.21")  # redirected to 7001, which input refuses this source
    assert isinstance(by_input, tuple) and (by_input[0].verdict, by_input[0].rule) == (
        "refused", "h nft inet dnat-demo input_guard rule 1: ip saddr 10.213.3.21 tcp dport 7001 drop")
