"""Reachability against the kernel: drift's verdict for every lab host pair and listening port must
agree with a real TCP connect (or UDP echo) between the namespaces, or be unknown with a reason."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import collectors as registry
from collectors.interface import CollectConfig, Parsed
from drift.analysis.reach import matrix
from drift.model.snapshot import CollectorResult, Snapshot
from tests.lab import fleet
from tests.lab.fleet import HostSpec
from tests.lab.lab import in_ns, sh
from tests.lab.oracle import PROBE

pytestmark = pytest.mark.lab

def probe(h: HostSpec, targets: list[tuple[str, str, int]]) -> list[bool]:
    return json.loads(in_ns(h, sys.executable, "-c", PROBE, json.dumps(targets))) if targets else []


def agree(lab, flows: list[dict]) -> int:  # type: ignore[no-untyped-def]
    """Probe every admitted or refused pair from its source; return how many were checked."""
    by_src: dict[str, list[tuple[dict, tuple[str, str, int]]]] = {}
    for flow in flows:
        for p in flow["pairs"]:
            if p["verdict"] == "unknown":
                assert p["reasons"], p
                continue
            by_src.setdefault(p["src"], []).append((p, (flow["proto"], p["via"].split()[0], flow["port"])))
    checked = 0
    for src, items in by_src.items():
        results = probe(lab.spec(src), [t for _, t in items])
        for (p, target), ok in zip(items, results, strict=True):
            assert ok == (p["verdict"] == "admitted"), f"{src} -> {target}: drift says {p}, the kernel says {ok}"
            checked += 1
    return checked


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_drift_reach_agrees_with_real_connections(lab, drift, env):
    code, doc, err = drift.json("reach", env, "-i", str(lab.inventory))
    assert code == 0, err
    assert doc["summary"]["unknown"] == 0 and doc["summary"]["flows"] > 0
    assert agree(lab, doc["flows"]) >= 20


def test_prod_refuses_the_worker_that_staging_admits(lab, drift):
    code, doc, _ = drift.json("reach", "prod", "-i", str(lab.inventory))
    flows = {(f["from"], f["to"], f["proto"], f["port"]): f for f in doc["flows"]}
    assert flows[("worker", "db", "tcp", 5432)]["verdict"] == "refused"
    assert flows[("worker", "db", "tcp", 5432)]["why"] == "by prd-db-1 filter INPUT policy DROP"
    assert flows[("web", "db", "tcp", 5432)]["verdict"] == "admitted"
    code, doc, _ = drift.json("reach", "staging", "-i", str(lab.inventory))
    flows = {(f["from"], f["to"], f["proto"], f["port"]): f for f in doc["flows"]}
    vias = {p["dst"]: p["via"] for p in flows[("worker", "web", "tcp", 8080)]["pairs"]}
    assert vias == {"stg-web-1": "127.0.0.1 (loopback)", "stg-web-2": "10.213.1.12"}  # co-located: loopback
    code, report, _ = drift.json("compare", "staging", "prod", "-i", str(lab.inventory))
    found = {f["path"]: f for f in report["findings"]}
    assert found["topology/reach/worker/db/tcp/5432"]["message"] == (
        "worker → db:5432 admitted in staging, refused in prod by prd-db-1 filter INPUT policy DROP")
    assert found["topology/reach/worker/db/tcp/5432"]["severity"] == "high"
    assert found["topology/layout/web+worker"]["message"].startswith(
        "staging runs web and worker on one host (stg-web-1); prod on separate hosts")
    code, out, _ = drift("reach", "prod", "-i", str(lab.inventory))
    assert code == 0 and "by prd-db-1 filter INPUT policy DROP" in out


# -- the kernel as the oracle, rule set by rule set ------------------------------------------------
SRC, DST = "stg-web-2", "stg-db-1"  # 10.213.1.12 -> 10.213.1.21
OPEN = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"


def ipt(*rules: str, policy: str = "ACCEPT", output: str = "ACCEPT", chains: str = "") -> str:
    head = f"*filter\n:INPUT {policy} [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT {output} [0:0]\n{chains}"
    return head + "".join(r + "\n" for r in rules) + "COMMIT\n"


EST = "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
CASES = {  # name: (source iptables, destination iptables, destination nft, expected verdicts by port)
    "policy drop, one port from one source": (OPEN, ipt("-A INPUT -i lo -j ACCEPT", EST,
        "-A INPUT -s 10.213.1.12/32 -p tcp -m tcp --dport 7001 -j ACCEPT", policy="DROP"), "",
        {7001: "admitted", 7002: "refused", 5432: "refused", 7003: "refused"}),
    "user chain, RETURN, negation, multiport": (OPEN, ipt(EST, "-A INPUT -p tcp -j svc",
        "-A INPUT -p udp -m udp --dport 7003 -j ACCEPT", "-A svc ! -s 10.213.1.0/24 -j RETURN",
        "-A svc -p tcp -m multiport --dports 7001,5432 -j ACCEPT", "-A svc -j RETURN", policy="DROP",
        chains=":svc - [0:0]\n"), "", {7001: "admitted", 5432: "admitted", 7002: "refused", 7003: "admitted"}),
    "LOG goes on, REJECT refuses": (OPEN, ipt('-A INPUT -j LOG --log-prefix "in: "',
        "-A INPUT -p tcp -m tcp --dport 7002 -j REJECT --reject-with tcp-reset",
        "-A INPUT -p udp -m udp --dport 7003 -j REJECT"), "", {7001: "admitted", 7002: "refused", 7003: "refused"}),
    "the source's way out": (ipt("-A OUTPUT -d 10.213.1.21/32 -p tcp -m tcp --dport 7001 -j DROP"), OPEN, "",
        {7001: "refused", 7002: "admitted"}),
    "the reply's way back": (OPEN, ipt("-A OUTPUT -o lo -j ACCEPT", "-A OUTPUT -p tcp -m tcp --sport 7001 -j ACCEPT",
        output="DROP"), "", {7001: "admitted", 7002: "refused", 7003: "refused"}),
    "nft set, policy drop": (OPEN, OPEN, """table inet t {
  set ok { type ipv4_addr; flags interval; elements = { 10.213.1.12/32 }; }
  chain input { type filter hook input priority 0; policy drop;
    ct state established,related accept
    iifname "lo" accept
    ip saddr @ok tcp dport { 7001, 5432 } accept
    udp dport 7003 accept
  }
}""", {7001: "admitted", 5432: "admitted", 7002: "refused", 7003: "admitted"}),
    "nft priorities next to iptables": (OPEN, ipt("-A INPUT -p tcp -m tcp --dport 7001 -j DROP"), """table inet a {
  chain early { type filter hook input priority -10; policy accept; tcp dport 7002 drop
  }
  chain late { type filter hook input priority 10; policy accept; }
}""",
        {7001: "refused", 7002: "refused", 5432: "admitted"}),
    "nft jump, return, reject": (OPEN, OPEN, """table ip f {
  chain svc { ip saddr 10.213.1.0/24 tcp dport 7001 accept; return
  }
  chain input { type filter hook input priority 0; policy accept;
    tcp dport { 7001, 7002 } jump svc
    tcp dport { 7001, 7002 } reject with tcp reset
  }
}""", {7001: "admitted", 7002: "refused", 5432: "admitted"}),
    "3,000 rules": (OPEN, ipt(EST, *(f"-A INPUT -s 192.168.{i // 250}.{i % 250}/32 -p tcp -m tcp --dport {1000 + i} "
                                    "-j ACCEPT" for i in range(3000)),
                              "-A INPUT -p tcp -m tcp --dport 7001 -j ACCEPT", policy="DROP"), "",
        {7001: "admitted", 7002: "refused"}),
    "a rate limit, decided for one new connection": (OPEN, ipt(EST, "-A INPUT -p tcp -m limit --limit 100/sec "
                                                                    "-j ACCEPT", policy="DROP"), "",
        {7001: "admitted", 7003: "refused"}),
}


def _load(h: HostSpec, iptables: str, nft: str) -> None:
    in_ns(h, "nft", "flush", "ruleset")
    in_ns(h, "iptables-restore", input=iptables)
    if nft:
        in_ns(h, "nft", "-f", "-", input=nft)


def _snapshot(h: HostSpec, role: str) -> Snapshot:
    """What drift's collectors make of the namespace's real rules, sockets and addresses."""
    cfg = CollectConfig()
    results = {}
    for c in registry.REGISTRY:
        if c.name in ("iptables", "nft", "ipset", "interfaces", "routes", "listen"):
            parsed = c.parse(in_ns(h, "sh", "-c", c.command(cfg)), cfg)
            facts = parsed.facts if isinstance(parsed, Parsed) else parsed
            results[c.name] = CollectorResult(c.name, c.category, "ok", None, facts)
    return Snapshot(h.name, h.env, role, h.address, "2026-11-23T00:00:00Z", "lab", collectors=results)


def test_each_rule_set_agrees_with_the_kernel(lab):
    src, dst = lab.spec(SRC), lab.spec(DST)
    listener = subprocess.Popen(["ip", "netns", "exec", dst.netns, sys.executable, "-c", _listener(),
                                 "7001", "7002", "u7003"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _await(src, [("tcp", dst.address, 7001)])
        for name, (src_rules, dst_rules, dst_nft, want) in CASES.items():
            _load(src, src_rules, "")
            _load(dst, dst_rules, dst_nft)
            cells = matrix.build([_snapshot(src, "client"), _snapshot(dst, "server")])
            flows = [{"proto": c.proto, "port": c.port, "pairs": [vars(p) for p in c.pairs]} for c in cells]
            got = {c.port: c.verdict for c in cells if (c.src_role, c.dst_role) == ("client", "server")}
            for port, verdict in want.items():
                assert got.get(port) == verdict, f"{name}: port {port}: drift says {got.get(port)}, want {verdict}"
            unknown = [c for c in cells if c.verdict == "unknown"]
            assert all(c.why() for c in unknown), name
            agree(lab, flows)
    finally:
        listener.terminate()
        listener.wait(5)
        for h in (src, dst):
            _load(h, fleet.iptables_rules(h), fleet.nft_rules(h))


def _listener() -> str:
    from tests.lab.lab import LISTENER
    return LISTENER


def _await(h: HostSpec, targets: list[tuple[str, str, int]]) -> None:
    for _ in range(50):
        if all(probe(h, targets)):
            return
        sh("sleep", "0.1")
    raise AssertionError("the case listener never came up")
