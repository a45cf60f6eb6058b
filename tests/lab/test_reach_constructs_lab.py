"""Constructs drift decides (issue 20) against the kernel: ipsets loaded with `ipset restore`, and an nft
rule set of the expressions the nft collector keeps as JSON (fib, tcp flags bitmasks, vmaps, meters,
ct count, limits), loaded into a lab namespace, collected by drift's own collectors, judged, and
every verdict checked with a real connect."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from drift.analysis.reach import matrix
from tests.lab import fleet
from tests.lab.lab import in_ns
from tests.lab.test_reach_lab import DST, EST, OPEN, SRC, _await, _listener, _load, _snapshot, agree, ipt

pytestmark = pytest.mark.lab

# The source 10.213.1.12 is in `ops` but, in `deny`, inside a /28 whose /30 around it is `nomatch`.
SETS = """create ops hash:ip family inet
add ops 10.213.1.12
create deny hash:net family inet
add deny 10.213.1.0/28
add deny 10.213.1.12/30 nomatch
create svc hash:ip,port family inet
add svc 10.213.1.21,tcp:7002
"""
RULES = ipt(EST, "-A INPUT -m set --match-set deny src -j DROP",
            "-A INPUT -p tcp -m tcp --dport 7001 -m set --match-set ops src -j ACCEPT",
            "-A INPUT -m set --match-set svc dst,dst -j ACCEPT", policy="DROP")


NFT = """table inet f {
  chain input { type filter hook input priority 0; policy drop;
    ct state vmap { established : accept, related : accept, invalid : drop }
    iifname "lo" accept
    fib saddr . iif oif missing drop
    fib daddr . iif type != { local, broadcast, multicast } drop
    jump chk
    meta pkttype != host drop
    ct status dnat accept
    tcp flags & (fin|syn|rst|psh|ack|urg) == fin|psh|urg drop
    tcp flags & (fin|syn|rst|psh|ack|urg) == 0x0 drop
    tcp dport 7001 meter m { ip saddr limit rate over 10/minute } drop
    tcp dport 7001 tcp flags syn / fin,syn,rst,ack accept
    icmp type echo-request accept
    tcp dport vmap { 7002 : drop, 5432 : accept }
    udp dport 7003 ct count over 5 drop
    udp dport 7003 limit rate 5/second accept
  }
  chain chk { fib daddr type local return; drop; }
}
"""


def test_nft_json_constructs_agree_with_the_kernel(lab):  # type: ignore[no-untyped-def]
    got = _judged(lab, lambda dst: _load(dst, OPEN, NFT))
    want = {("tcp", 7001): "admitted", ("tcp", 7002): "refused", ("tcp", 5432): "admitted",
            ("udp", 7003): "admitted", ("tcp", 22): "refused"}
    assert {k: got.get(k) for k in want} == want, got


@pytest.mark.skipif(not shutil.which("ipset"), reason="ipset is not installed")
def test_ipset_matches_agree_with_the_kernel(lab):  # type: ignore[no-untyped-def]
    def load(dst):  # type: ignore[no-untyped-def]
        in_ns(dst, "iptables-restore", input=OPEN)
        in_ns(dst, "ipset", "destroy")
        in_ns(dst, "ipset", "restore", input=SETS)
        _load(dst, RULES, "")
    got = _judged(lab, load)
    want = {("tcp", 7001): "admitted", ("tcp", 7002): "admitted", ("udp", 7003): "refused", ("tcp", 22): "refused"}
    assert {k: got.get(k) for k in want} == want, got


def _judged(lab, load):  # type: ignore[no-untyped-def]
    """Load the destination's rules, collect both hosts, judge, check every pair with the kernel."""
    src, dst = lab.spec(SRC), lab.spec(DST)
    listener = subprocess.Popen(["ip", "netns", "exec", dst.netns, sys.executable, "-c", _listener(),
                                 "7001", "7002", "u7003"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _await(src, [("tcp", dst.address, 7001)])
        _load(src, OPEN, "")
        load(dst)
        cells = matrix.build([_snapshot(src, "client"), _snapshot(dst, "server")])
        flows = [{"proto": c.proto, "port": c.port, "pairs": [vars(p) for p in c.pairs]} for c in cells]
        assert agree(lab, flows) >= 4
        return {(c.proto, c.port): c.verdict for c in cells if (c.src_role, c.dst_role) == ("client", "server")}
    finally:
        listener.terminate()
        listener.wait(5)
        in_ns(dst, "iptables-restore", input=OPEN)
        if shutil.which("ipset"):
            in_ns(dst, "ipset", "destroy")
        for h in (src, dst):
            _load(h, fleet.iptables_rules(h), fleet.nft_rules(h))
