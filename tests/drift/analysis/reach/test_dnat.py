"""Published ports: a new connection DNAT'd by nat PREROUTING, followed on real generated rules (Docker's
docker.iptables, kube-proxy's rules of the lab corpus; each file names its source)."""

from __future__ import annotations

import dataclasses
import ipaddress
from pathlib import Path

from collectors.firewall import parse_xtables
from collectors.interface import CollectConfig
from drift.analysis.reach import dnat, matrix
from drift.analysis.reach.packet import Packet
from drift.model.snapshot import CollectorResult
from tests.drift.analysis.reach.test_matrix import host as host_snapshot
from tests.drift.analysis.reach.test_real_rulesets import EPHEMERAL, fw, inbound, xt

A = ipaddress.IPv4Address
I = ipaddress.IPv4Interface  # noqa: E741
IFACES = [("lo", I("127.0.0.1/8")), ("eth0", I("10.213.3.5/24")), ("docker0", I("172.17.0.1/16"))]
KUBE = Path(__file__).parents[4] / "tests" / "lab" / "firewalls" / "kube-proxy.iptables"
DOCKER_DNAT = "h nat DOCKER rule 2: ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:8080"


def docker(user: list[str] | None = None):  # type: ignore[no-untyped-def]
    facts = xt("docker.iptables")
    if user is not None:
        facts["firewall/iptables/filter/DOCKER-USER"] = {"policy": None, "rules": user}
    return fw(facts)


def test_docker_publishes_8080_to_its_container_and_forward_decides():
    r = dnat.rewrite(docker().xt["nat"], inbound(8080))
    assert r == dnat.Rewrite(A("172.17.0.2"), 8080, DOCKER_DNAT.removeprefix("h "))
    assert dnat.rewrite(docker().xt["nat"], inbound(22)) is None  # DOCKER falls through: nothing is rewritten
    from_bridge = Packet("tcp", A("172.17.0.3"), A("10.213.3.5"), None, 8080, "docker0", None, "NEW")
    assert dnat.rewrite(docker().xt["nat"], from_bridge) is None  # `-i docker0 -j RETURN`
    arrival = dnat.arrival(docker(), IFACES, "1", inbound(8080))
    assert isinstance(arrival, tuple)
    way_in, reply, where = arrival
    assert (way_in.verdict, way_in.rule) == (
        "admitted", "h filter DOCKER rule 1: -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 8080 -j ACCEPT")
    assert (reply.verdict, reply.rule) == ("admitted", "h filter FORWARD rule 5: -i docker0 ! -o docker0 -j ACCEPT")
    assert where == f"172.17.0.2:8080 behind it (by {DOCKER_DNAT})"


def test_docker_user_refuses_a_published_port_by_its_rule():
    way_in = dnat.arrival(docker(["-s 10.213.3.12/32 -j DROP", "-j RETURN"]), IFACES, "1", inbound(8080))
    assert isinstance(way_in, tuple)
    assert (way_in[0].verdict, way_in[0].rule) == ("refused", "h filter DOCKER-USER rule 1: -s 10.213.3.12/32 -j DROP")
    other = dnat.arrival(docker(["-s 10.213.3.12/32 -j DROP", "-j RETURN"]), IFACES, "1", inbound(8080, src="10.213.3.13"))
    assert isinstance(other, tuple) and other[0].verdict == "admitted"


def test_conntrack_dnat_status_is_true_on_a_flow_drift_followed_through_dnat():
    # Found in review: `--ctstate DNAT` was always false, so this DOCKER-USER refused what the kernel
    # admits. Only a connection whose destination a nat rule rewrote has the DNAT status.
    user = ["-m conntrack --ctstate DNAT -j ACCEPT", "-j DROP"]
    way_in = dnat.arrival(docker(user), IFACES, "1", inbound(8080))
    assert isinstance(way_in, tuple)
    assert (way_in[0].verdict, way_in[0].rule) == ("admitted", "h filter DOCKER-USER rule 1: -m conntrack --ctstate DNAT -j ACCEPT")
    assert way_in[1].verdict == "admitted"  # the container's reply is of the same DNAT'd connection


def test_what_drift_cannot_follow_stays_undecided_and_names_why():
    assert "ip_forward was not collected" in str(dnat.arrival(docker(), IFACES, None, inbound(8080)))
    assert "ip_forward is 0" in str(dnat.arrival(docker(), IFACES, "0", inbound(8080)))
    assert "interfaces were not collected" in str(dnat.arrival(docker(), None, "1", inbound(8080)))
    assert "on none of h's networks" in str(dnat.arrival(docker(), IFACES[:2], "1", inbound(8080)))
    spread = xt("docker.iptables")
    spread["firewall/iptables/nat/DOCKER"] = {"policy": None, "rules": [
        "! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2-172.17.0.9:8080"]}
    assert "address range" in str(dnat.rewrite(fw(spread).xt["nat"], inbound(8080)))
    spread["firewall/iptables/nat/DOCKER"]["rules"] = ["-p tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80-90"]
    assert "port range" in str(dnat.rewrite(fw(spread).xt["nat"], inbound(8080)))
    kube = fw(dict(parse_xtables(KUBE.read_text(), CollectConfig(), "iptables")))
    cluster_ip = Packet("tcp", A("10.213.3.12"), A("172.30.0.44"), None, 80, "eth0", None, "NEW", ephemeral=EPHEMERAL)
    assert "-m statistic" in str(dnat.rewrite(kube.xt["nat"], cluster_ip))  # two endpoints, chosen at random
    node_port = dnat.rewrite(kube.xt["nat"], inbound(3003))  # one endpoint: KUBE-MARK-MASQ on the way only marks
    assert isinstance(node_port, dnat.Rewrite) and (node_port.addr, node_port.port) == (A("10.180.0.3"), 80)


def test_redirect_goes_up_to_input_on_the_new_port():
    facts = {"firewall/iptables/nat/PREROUTING": {"policy": "ACCEPT", "rules": [
                 "-p tcp -m tcp --dport 80 -j REDIRECT --to-ports 8080"]},
             "firewall/iptables/filter/INPUT": {"policy": "DROP", "rules": ["-p tcp -m tcp --dport 8080 -j ACCEPT"]}}
    assert "where nothing on h listens" in str(dnat.arrival(fw(facts), IFACES, None, inbound(80)))
    arrival = dnat.arrival(fw(facts), IFACES, None, inbound(80), frozenset({("tcp", 8080)}))
    assert isinstance(arrival, tuple)
    assert (arrival[0].verdict, arrival[0].rule) == ("admitted", "h filter INPUT rule 1: -p tcp -m tcp --dport 8080 -j ACCEPT")
    assert arrival[2].startswith("10.213.3.5:8080")


def test_the_matrix_judges_a_published_port_by_the_forward_path_with_no_socket_on_the_host():
    rules = xt("docker.iptables")
    web = host_snapshot("web-1", "prd", ("web",), "10.213.3.5", {"tcp/*:22": 1}, rules)  # no docker-proxy
    ifaces = {**web.collectors["interfaces"].facts, "topology/interfaces/docker0/addresses": ["172.17.0.1/16"]}
    web = dataclasses.replace(web, collectors={
        **web.collectors, "interfaces": CollectorResult("interfaces", "topology", "ok", None, ifaces),
        "sysctl": CollectorResult("sysctl", "system", "ok", None, {"system/sysctl/net.ipv4.ip_forward": "1"})})
    db = host_snapshot("db-1", "prd", ("db",), "10.213.3.12", {})
    cells = {c.key: c for c in matrix.build([web, db])}
    pair = cells[("db", "web", "tcp", 8080)].pairs[0]
    assert (pair.verdict, pair.rule) == (
        "admitted", "web-1 filter DOCKER rule 1: -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 8080 -j ACCEPT")
    assert pair.via.startswith("10.213.3.5 → 172.17.0.2:8080 behind it")
    assert cells[("db", "web", "tcp", 22)].pairs[0].via == "10.213.3.5"
    assert ("web", "web", "tcp", 8080) not in cells  # over loopback nothing listens, and OUTPUT skips 127.0.0.0/8


def test_podman_netavark_publishes_through_its_own_chains():
    podman = fw(xt("podman-netavark.iptables"))
    ifaces = [("lo", I("127.0.0.1/8")), ("eth0", I("10.213.3.5/24")), ("podman0", I("10.88.0.1/16"))]
    r = dnat.rewrite(podman.xt["nat"], inbound(8080))
    assert isinstance(r, dnat.Rewrite) and (r.addr, r.port) == (A("10.88.0.3"), 80)
    assert r.rule.startswith("nat NETAVARK-DN-1D8721804F16F rule 3: ")
    arrival = dnat.arrival(podman, ifaces, "1", inbound(8080))
    assert isinstance(arrival, tuple)
    # NETAVARK_FORWARD admits only the container's own connections and replies; the FORWARD policy the rest.
    assert (arrival[0].verdict, arrival[0].rule) == ("admitted", "h filter FORWARD policy ACCEPT")
    assert (arrival[1].verdict, arrival[1].rule) == ("admitted", "h filter NETAVARK_FORWARD rule 2: -s 10.88.0.0/16 -j ACCEPT")
    assert arrival[2].startswith("10.88.0.3:80 behind it")
    assert dnat.published(podman) == {("tcp", 8080)}
