"""The iptables evaluator on rule sets: real iptables-save output and odd ones."""

from __future__ import annotations

import ipaddress
import json
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from drift.analysis.reach import iptables
from drift.analysis.reach.packet import Packet

FIXTURES = Path(__file__).parents[3] / "collectors" / "fixtures"
A = ipaddress.IPv4Address


def pkt(src: str = "10.0.0.5", port: int = 5432, proto: str = "tcp", iif: str = "eth0", state: str = "NEW") -> Packet:
    return Packet(proto, A(src), A("10.0.0.9"), None, port, iif, None, state)


def chains(policy: str = "ACCEPT", *rules: str, **user: list[str]) -> dict:
    out: dict = {"INPUT": {"policy": policy, "rules": list(rules)}}
    out.update({name.replace("_", "-"): {"policy": None, "rules": r} for name, r in user.items()})
    return out


def verdict(ch: dict, p: Packet) -> tuple[str, str | None]:
    o = iptables.evaluate(ch, "INPUT", p, "db-1 ")
    return o.verdict, o.rule


def test_the_real_fixture_jumps_into_a_user_chain_and_returns_to_the_policy():
    facts = json.loads((FIXTURES / "iptables" / "netns.json").read_text())["facts"]
    ch = iptables.chains_of(facts)
    ok = verdict(ch, pkt("10.213.5.5", 8080))
    assert ok == ("admitted", "db-1 filter acme-in rule 1: -s 10.213.0.0/16 -p tcp -m tcp --dport 8080 -j ACCEPT")
    assert verdict(ch, pkt("10.9.5.5", 8080)) == ("refused", "db-1 filter INPUT policy DROP")
    assert verdict(ch, pkt("10.9.5.5", 443))[0] == "admitted"  # multiport, with a comment holding a dash and é
    assert verdict(ch, pkt("10.9.5.5", 53, "udp"))[1].endswith("--reject-with icmp-port-unreachable")  # type: ignore
    assert verdict(ch, pkt("10.9.5.5", 9999, iif="lo"))[0] == "admitted"
    assert verdict(ch, pkt("10.9.5.5", 9999, state="ESTABLISHED"))[0] == "admitted"


def test_negation_ranges_ports_and_policies():
    ch = chains("DROP", "! -s 10.0.0.0/24 -j DROP", "-p tcp -m tcp --dport 5000:6000 -j ACCEPT",
                "-p udp -m multiport --dports 53,123 -j ACCEPT")
    assert verdict(ch, pkt("10.0.1.5"))[1] == "db-1 filter INPUT rule 1: ! -s 10.0.0.0/24 -j DROP"
    assert verdict(ch, pkt())[0] == "admitted"
    assert verdict(ch, pkt(port=7000)) == ("refused", "db-1 filter INPUT policy DROP")
    assert verdict(ch, pkt(port=123, proto="udp"))[0] == "admitted"
    assert verdict(ch, pkt(port=5432, proto="udp"))[0] == "refused"


def test_log_goes_on_reject_refuses_and_goto_never_comes_back():
    ch = chains("ACCEPT", "-j LOG --log-prefix \"in: \"", "-p tcp -g svc", "-j DROP",
                svc=["-p tcp --dport 22 -j ACCEPT", "-p tcp --dport 5432 -j REJECT --reject-with tcp-reset"])
    assert verdict(ch, pkt(port=5432))[0] == "refused"
    assert verdict(ch, pkt(port=22))[0] == "admitted"
    # Falling off a chain entered by goto returns to INPUT's caller: here the policy, not rule 3.
    assert verdict(ch, pkt(port=80)) == ("admitted", "db-1 filter INPUT policy ACCEPT")


def test_unknown_matches_and_targets_are_unknown_with_the_reason():
    for rule in ("-m set --match-set admins src -j ACCEPT", "-p tcp -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT",
                 "-m owner --uid-owner 0 -j ACCEPT", "-p tcp -j NFQUEUE --queue-num 1"):
        o = iptables.evaluate(chains("DROP", rule), "INPUT", pkt(), "db-1 ")
        assert o.verdict == "unknown" and o.reasons and "db-1 filter INPUT rule 1" in o.reasons[0], rule


def test_an_unknown_match_that_cannot_change_the_outcome_is_no_doubt():
    # Whether or not the ipset matches, the packet is accepted: both branches agree.
    ch = chains("ACCEPT", "-m set --match-set admins src -j ACCEPT")
    assert verdict(ch, pkt())[0] == "admitted"
    ch = chains("DROP", "-p udp -m set --match-set admins src -j ACCEPT")  # udp only: never this packet
    assert verdict(ch, pkt()) == ("refused", "db-1 filter INPUT policy DROP")


def test_loops_deep_nesting_garbage_and_missing_chains_never_crash():
    assert verdict(chains("ACCEPT", "-j a", a=["-j b"], b=["-j a"]), pkt())[0] == "unknown"
    deep = {f"c{i}": [f"-j c{i + 1}"] for i in range(200)}
    deep["c200"] = ["-j DROP"]
    assert verdict(chains("ACCEPT", "-j c0", **deep), pkt())[0] == "unknown"
    assert verdict(chains("ACCEPT", '-s "unterminated -j DROP'), pkt())[0] in ("admitted", "unknown")
    assert verdict(chains("ACCEPT", "-j nosuchchain"), pkt())[0] == "unknown"
    assert verdict({"INPUT": {"policy": "ACCEPT", "rules": "not a list"}}, pkt())[0] == "unknown"
    assert verdict({}, pkt())[0] == "admitted"  # no INPUT chain at all: nothing filters


def _timed(n: int) -> float:
    rules = [f"-s 192.168.{i // 250}.{i % 250}/32 -p tcp --dport {1000 + i} -j ACCEPT" for i in range(n)]
    ch = chains("DROP", *rules, f"-m set --match-set x{n} src -j ACCEPT")
    start = time.thread_time()  # CPU time: a busy neighbour on the machine cannot stretch it
    assert iptables.evaluate(ch, "INPUT", pkt(), f"h{n} ").verdict == "unknown"
    return time.thread_time() - start


def test_thousands_of_rules_in_linear_time():
    small, big = _timed(2000), _timed(8000)
    assert big < 10 and big < 8 * small + 0.5  # 4x the rules: about 4x the time, never 16x
    # A user chain jumped to from every rule is evaluated once, not once per jump.
    many = chains("DROP", *(["-p tcp -j shared"] * 3000), shared=["-m set --match-set x src -j RETURN"])
    start = time.thread_time()
    assert iptables.evaluate(many, "INPUT", pkt(), "").verdict == "refused"
    assert time.thread_time() - start < 5


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("-!sdpjm ACEPTDROLGtcpu0123456789./:,\"")), max_size=40),
                max_size=8))
def test_any_rule_text_gives_a_verdict_never_a_crash(rules):
    assert iptables.evaluate(chains("DROP", *rules), "INPUT", pkt(), "").verdict in ("admitted", "refused", "unknown")
