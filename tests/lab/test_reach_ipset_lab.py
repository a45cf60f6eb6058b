"""`-m set` against the kernel: ipsets loaded with `ipset restore` into a lab namespace, collected by
drift's own `ipset` and `iptables` collectors, judged, and every verdict checked with a real connect."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from drift.analysis.reach import matrix
from tests.lab.lab import in_ns
from tests.lab.test_reach_lab import DST, EST, OPEN, SRC, _await, _listener, _load, _snapshot, agree, ipt

pytestmark = [pytest.mark.lab, pytest.mark.skipif(not shutil.which("ipset"), reason="ipset is not installed")]

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


def test_ipset_matches_agree_with_the_kernel(lab):  # type: ignore[no-untyped-def]
    src, dst = lab.spec(SRC), lab.spec(DST)
    listener = subprocess.Popen(["ip", "netns", "exec", dst.netns, sys.executable, "-c", _listener(),
                                 "7001", "7002", "u7003"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _await(src, [("tcp", dst.address, 7001)])
        _load(src, OPEN, "")
        in_ns(dst, "iptables-restore", input=OPEN)
        in_ns(dst, "ipset", "destroy")
        in_ns(dst, "ipset", "restore", input=SETS)
        _load(dst, RULES, "")
        snaps = [_snapshot(src, "client"), _snapshot(dst, "server")]
        assert "ipset" in snaps[1].collectors
        cells = matrix.build(snaps)
        got = {(c.proto, c.port): c.verdict for c in cells if (c.src_role, c.dst_role) == ("client", "server")}
        want = {("tcp", 7001): "admitted", ("tcp", 7002): "admitted", ("udp", 7003): "refused", ("tcp", 22): "refused"}
        assert {k: got.get(k) for k in want} == want, got
        flows = [{"proto": c.proto, "port": c.port, "pairs": [vars(p) for p in c.pairs]} for c in cells]
        assert agree(lab, flows) >= 3
    finally:
        listener.terminate()
        listener.wait(5)
        in_ns(dst, "iptables-restore", input=OPEN)
        in_ns(dst, "ipset", "destroy")
        from tests.lab import fleet
        for h in (src, dst):
            _load(h, fleet.iptables_rules(h), fleet.nft_rules(h))
