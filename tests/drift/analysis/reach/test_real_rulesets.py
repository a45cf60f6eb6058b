"""Issue 20's causes of confidently wrong verdicts, each on rule text real tools generate.

Fixtures: ufw's own iptables-save, Docker's generated rules, firewalld's and a published script's
nft rule sets as `nft -j list ruleset` printed them (sources in each file). Each packet is one a
real connect sends: the first SYN into the destination, or the SYN-ACK back to the source.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

from collectors.firewall import parse_ipset, parse_nft, parse_xtables
from collectors.interface import CollectConfig
from drift.analysis.reach import host, iptables, matrix
from drift.analysis.reach.packet import Packet
from tests.drift.analysis.reach.test_matrix import host as host_snapshot

FIXTURES = Path(__file__).parent / "fixtures"
COLLECTOR_FIXTURES = Path(__file__).parents[3] / "collectors" / "fixtures"
A = ipaddress.IPv4Address
EPHEMERAL = (32768, 60999)


def xt(name: str) -> dict:
    return dict(parse_xtables((FIXTURES / name).read_text(), CollectConfig(), "iptables"))


def nft(name: str) -> dict:
    return dict(parse_nft(json.loads((FIXTURES / name).read_text())["output"], CollectConfig()))


def fw(iptables_facts: dict | None = None, nft_facts: dict | None = None) -> host.Firewall:
    return host.Firewall("h", None, iptables_facts or {}, nft_facts or {})


def inbound(port: int, proto: str = "tcp", src: str = "10.213.3.12") -> Packet:
    return Packet(proto, A(src), A("10.213.3.5"), None, port, "eth0", None, "NEW", ephemeral=EPHEMERAL)


def reply_in(port: int, proto: str = "tcp") -> Packet:
    """The SYN-ACK coming back into the host that connected to port."""
    first = Packet(proto, A("10.213.3.5"), A("10.213.3.12"), None, port, None, "eth0", "NEW", ephemeral=EPHEMERAL)
    return first.reply("eth0", None)


def judge(f: host.Firewall, p: Packet) -> tuple[str, str | None]:
    o = host.crossing(f, host.INGRESS if p.inbound else host.EGRESS, p)
    return o.verdict, o.rule


def test_1_a_return_under_an_undecided_match_is_no_carry_on_and_addrtype_local_is_decided():
    ufw = fw(xt("ufw.iptables"))
    # ufw-not-local's `--dst-type LOCAL -j RETURN` comes first: a packet for the host goes on to the user rules.
    assert judge(ufw, inbound(22)) == ("admitted", "h filter ufw-user-input rule 1: -p tcp -m tcp --dport 22 -j ACCEPT")
    assert judge(ufw, inbound(7003))[0] == "refused"
    # An undecided RETURN leaves the verdict undecided, never the DROP after it.
    chk = {"INPUT": {"policy": "ACCEPT", "rules": ["-j chk"]},
           "chk": {"policy": None, "rules": ["-m owner --uid-owner 0 -j RETURN", "-j DROP"]}}
    o = iptables.evaluate(chk, "INPUT", inbound(22), "h ")
    assert o.verdict == "unknown" and "-m owner" in o.reasons[0]


def test_2_nft_json_expressions_are_matches_and_statements_never_skipped():
    meters = fw(nft_facts=nft("nft-meters.json"))
    # `tcp flags & (fin|syn|rst|psh|ack|urg) == (fin|psh|urg) drop` was an unconditional drop.
    assert judge(meters, inbound(53)) == ("admitted", "h nft inet filter input rule 5: tcp dport 53 ct state new "
                                                      "limit rate 10/second burst 5 accept")
    assert judge(meters, inbound(80))[1] == "h nft inet filter input rule 11: tcp dport { 23, 80, 8080 } drop"
    # A meter under its limit accepts one new connection: admitted, with the note saying so.
    o = host.crossing(meters, host.INGRESS, inbound(443))
    assert o.verdict == "admitted" and "meter" in o.rule and any("one new connection" in n for n in o.notes)
    assert judge(meters, inbound(9999)) == ("refused", "h nft inet filter input policy drop")
    c = fw(nft_facts=nft("constructs.json"))
    # `jump chk` first, whose `fib daddr type local return` is decided (then `drop`): traffic for the host goes on.
    assert judge(c, inbound(9))[1].endswith("syn tcp dport 9 accept")  # type: ignore[union-attr]  # flags syn
    assert judge(c, inbound(22)) == ("refused", "h nft inet f input policy drop")  # `meter … over … drop` never holds
    assert judge(c, inbound(80))[0] == "admitted"  # `tcp dport vmap { 80 : accept, 81 : drop }`
    assert judge(c, inbound(81))[0] == "refused"
    assert judge(c, inbound(25))[0] == "admitted"  # `limit rate 3/second accept`
    assert judge(c, inbound(443, src="10.0.0.7"))[0] == "admitted"  # a named interval set
    assert judge(c, inbound(443, src="10.0.1.7"))[0] == "refused"


def test_2_the_collector_keeps_limit_over():
    rules = nft("constructs.json")["firewall/nft/inet f/input"]["rules"]
    assert "tcp dport 24 limit rate over 3/second burst 5 drop" in rules


def test_3_a_table_iptables_save_cannot_show_is_kept_by_the_nft_collector():
    fixture = json.loads((COLLECTOR_FIXTURES / "nft" / "incompatible_table.json").read_text())
    facts = parse_nft(fixture["output"], CollectConfig())
    assert "firewall/nft/ip filter/INPUT" in facts and not any("ip nat" in k for k in facts)
    f = fw({}, dict(facts))
    assert judge(f, inbound(22))[0] == "admitted"
    assert judge(f, inbound(8080)) == ("refused", "h nft ip filter INPUT policy drop")
    # Should the nft facts lack it (an nft collector that skipped it), the iptables facts say it is hidden.
    xt_fixture = json.loads((COLLECTOR_FIXTURES / "iptables" / "incompatible_table.json").read_text())
    hidden = host_snapshot("h", "e", ("server",), "10.213.3.5", {}, xt_fixture["facts"])
    f = host.firewall(hidden)
    assert f.problem and "cannot show table filter" in f.problem
    assert host.firewall(host_snapshot("h", "e", ("server",), "10.213.3.5", {}, xt_fixture["facts"],
                                       nft=dict(facts))).problem is None


def test_4_nat_is_consulted_for_the_first_packet_only():
    redirect = {"firewall/iptables/nat/PREROUTING": {"policy": "ACCEPT", "rules": [
        "-p tcp -m tcp --dport 7777 -j REDIRECT --to-ports 22"]}}
    f = fw(redirect)
    assert judge(f, inbound(22))[0] == "admitted"
    assert judge(f, reply_in(7777))[0] == "admitted"  # a reply from port 7777 is not redirected
    assert judge(f, inbound(7777))[0] == "unknown"
    docker = fw(xt("docker.iptables"))
    assert judge(docker, inbound(22))[0] == "admitted"  # addrtype LOCAL jumps to DOCKER, which does not DNAT 22
    o = host.crossing(docker, host.INGRESS, inbound(8080))
    assert o.verdict == "unknown" and "DNAT" in o.reasons[0]
    # Over loopback the nat binding was made on the way out (OUTPUT skips 127.0.0.0/8): no DNAT on the way in.
    local = Packet("tcp", A("127.0.0.1"), A("127.0.0.1"), None, 8080, "lo", None, "NEW", ephemeral=EPHEMERAL)
    assert judge(docker, local)[0] == "admitted"


def test_5_a_stateless_port_rule_outside_the_ephemeral_range_never_meets_a_reply():
    f = fw({"firewall/iptables/filter/INPUT": {"policy": "ACCEPT", "rules": ["-p tcp -m tcp --dport 8080 -j DROP"]}})
    assert judge(f, reply_in(22))[0] == "admitted"
    inside = fw({"firewall/iptables/filter/INPUT": {"policy": "ACCEPT", "rules": [
        "-p tcp -m tcp --dport 40000 -j DROP"]}})
    assert judge(inside, reply_in(22))[0] == "unknown"  # the reply's port may be 40000
    wide = fw({"firewall/iptables/filter/INPUT": {"policy": "DROP", "rules": [
        "-p tcp -m tcp --dport 1024:65535 -j ACCEPT"]}})
    assert judge(wide, reply_in(22))[0] == "admitted"


def test_6_icmp_type_matches_never_match_tcp_or_udp():
    f = fw(nft_facts=nft("firewalld.json"))
    assert judge(f, inbound(7001)) == ("admitted", "h nft inet firewalld filter_IN_public_allow rule 4: "
                                                   "tcp dport 7001 accept")
    assert judge(f, inbound(9100))[1] == "h nft inet firewalld filter_IN_public_to_HOST rule 3: reject with icmpx " \
                                         "admin-prohibited"
    assert judge(f, inbound(7002, src="10.213.3.13"))[0] == "refused"


def test_7_ufw_limit_is_admitted_under_its_rate_limit_with_a_note():
    ufw = fw(xt("ufw.iptables"))
    o = host.crossing(ufw, host.INGRESS, inbound(7001))
    assert o.verdict == "admitted" and o.rule and "ufw-user-limit-accept" in o.rule
    assert any("--hitcount 6" in n for n in o.notes)
    assert judge(ufw, inbound(9100, src="10.213.4.1"))[0] == "refused"
    for rule, verdict in (("-m iprange --src-range 10.213.3.10-10.213.3.20 -j DROP", "refused"),
                          ("-m addrtype --src-type LOCAL -j DROP", "admitted"),
                          ("-p tcp -m hashlimit --hashlimit-above 5/sec --hashlimit-name x -j DROP", "admitted"),
                          ("-p tcp -m connlimit --connlimit-above 10 -j REJECT", "admitted"),
                          ("-p tcp --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate INVALID -j DROP",
                           "admitted"),
                          ("-p tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j DROP", "admitted")):
        f = fw({"firewall/iptables/filter/INPUT": {"policy": "ACCEPT", "rules": [rule]}})
        assert judge(f, inbound(22))[0] == verdict, rule
    ipset = fw({"firewall/iptables/filter/INPUT": {"policy": "DROP", "rules": [
        "-m set --match-set admins src -j ACCEPT"]}})
    assert "-m set" in host.crossing(ipset, host.INGRESS, inbound(22)).reasons[0]  # contents not collected


def test_7_ipset_matches_are_decided_from_ipset_save():
    fixture = json.loads((COLLECTOR_FIXTURES / "ipset" / "netns.json").read_text())
    sets = dict(parse_ipset(fixture["output"], CollectConfig()))
    rules = {"firewall/iptables/filter/INPUT": {"policy": "DROP", "rules": [
        "-p tcp -m set --match-set admins src -j ACCEPT", "-m set --match-set blocklist src -j DROP",
        "-m set --match-set svc dst,dst -j ACCEPT", "-m set --match-set nosuch src -j ACCEPT"]}}
    f = host.Firewall("h", None, rules, {}, sets)
    assert judge(f, inbound(22, src="10.213.3.12")) == ("admitted", "h filter INPUT rule 1: -p tcp -m set "
                                                                    "--match-set admins src -j ACCEPT")
    assert judge(f, inbound(22, src="10.213.3.2"))[1] == "h filter INPUT rule 2: -m set --match-set blocklist src -j DROP"
    assert judge(f, inbound(22, src="10.213.3.9"))[0] == "unknown"  # nomatch in blocklist, then a set that is absent
    assert judge(f, inbound(7001, src="10.213.3.40"))[1] == "h filter INPUT rule 3: -m set --match-set svc dst,dst -j ACCEPT"
    o = host.crossing(f, host.INGRESS, inbound(7001, "udp", src="10.213.3.40"))
    assert o.verdict == "unknown" and "nosuch (no such set)" in o.reasons[0]


def test_10_the_named_rule_decides_on_the_deciding_host():
    ufw = xt("ufw.iptables")
    snaps = [host_snapshot("a", "e", ("client",), "10.213.3.12", {}, ufw),
             host_snapshot("b", "e", ("server",), "10.213.3.5", {"tcp/*:22": 1, "tcp/*:7003": 1}, ufw)]
    cells = {c.key: c for c in matrix.build(snaps)}
    (ok,) = cells[("client", "server", "tcp", 22)].pairs
    # The destination's accept, not the source's `ufw-track-output` that let the SYN out.
    assert ok.rule == "b filter ufw-user-input rule 1: -p tcp -m tcp --dport 22 -j ACCEPT"
    (no,) = cells[("client", "server", "tcp", 7003)].pairs
    assert no.rule == "b filter ufw-user-input rule 6: -p tcp -m tcp --dport 7003 -j DROP"
    meters = fw(nft_facts=nft("nft-meters.json"))
    # `ip protocol icmp icmp type echo-request accept` is never credited with a TCP flow.
    assert "icmp" not in (judge(meters, inbound(53))[1] or "")
