"""DNAT at nat OUTPUT against the kernel (issue 24): a host whose roles talk to each other, with Docker's and
netavark's real rules (tests/lab/firewalls name their sources) and a container behind a bridge, collected by
drift's own collectors; each co-located pair drift judges, over loopback and to the host's own address, is
checked against a real TCP connect from the host. Namespaces of its own (drlab-odx-*): no lab hosts."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import collectors as registry
from collectors.interface import CollectConfig
from drift.analysis.reach import matrix
from drift.collect.gather import Plan, interpret_output
from drift.collect.script import compose
from drift.model.snapshot import Snapshot
from tests.lab.conftest import SUMMARY
from tests.lab.corpus import DOCKER0, FIREWALLS, PODMAN0
from tests.lab.oracle import PROBE

pytestmark = pytest.mark.lab

HOST, CTR = "drlab-odx-h", "drlab-odx-c"
ADDRESS = "10.213.3.11"
SERVE = """
import socket, sys, time
socks = []
for addr in sys.argv[1:]:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 8080)); s.listen(8); socks.append(s)
print("ready", flush=True)
time.sleep(600)
"""


def run(*cmd: str, ns: str | None = None, stdin: str | None = None) -> str:
    full = ["ip", "netns", "exec", ns, *cmd] if ns else list(cmd)
    return subprocess.run(full, input=stdin, capture_output=True, text=True, check=True, timeout=60).stdout


@contextmanager
def host(rules: str, bridge: tuple[str, str, str]) -> Iterator[None]:
    """The host (eth0 10.213.3.11, a socket on 10.213.3.11:8080 of its own) with rules loaded, and one
    container behind the bridge listening on 8080."""
    name, gateway, address = bridge
    for ns in (HOST, CTR):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)  # left by a crash
        run("ip", "netns", "add", ns)
    procs = []
    try:
        for cmd in (["link", "set", "lo", "up"], ["link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"],
                    ["addr", "add", f"{ADDRESS}/24", "dev", "eth0"], ["link", "set", "eth0p", "up"],
                    ["link", "set", "eth0", "up"], ["link", "add", name, "type", "bridge"],
                    ["addr", "add", gateway, "dev", name], ["link", "set", name, "up"],
                    ["link", "add", "veth0c", "type", "veth", "peer", "name", "eth0", "netns", CTR],
                    ["link", "set", "veth0c", "master", name, "up"]):
            run("ip", *cmd, ns=HOST)
        for cmd in (["link", "set", "lo", "up"], ["addr", "add", address, "dev", "eth0"], ["link", "set", "eth0", "up"],
                    ["route", "add", "default", "via", gateway.split("/")[0]]):
            run("ip", *cmd, ns=CTR)
        run("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=HOST)
        tool = ["nft", "-f", "-"] if rules.endswith(".nft") else ["iptables-restore"]
        run(*tool, ns=HOST, stdin=(FIREWALLS / rules).read_text())
        for ns, binds in ((CTR, ["0.0.0.0"]), (HOST, [ADDRESS])):
            p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", SERVE, *binds],
                                 stdout=subprocess.PIPE, text=True)
            procs.append(p)
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        yield
    finally:
        for p in procs:
            p.terminate()
            p.wait(5)
        for ns in (HOST, CTR):
            subprocess.run(["ip", "netns", "del", ns], check=False)


def snapshot() -> Snapshot:
    plan = Plan(tuple(c for c in registry.REGISTRY if c.category in ("firewall", "topology", "system")),
                CollectConfig(sysctl=("net.ipv4.ip_forward", "net.ipv4.ip_local_port_range",
                                      "net.ipv4.conf.*.route_localnet")))
    script = compose(plan.collectors, plan.config)
    done = subprocess.run(["ip", "netns", "exec", HOST, "sh"], input=script.text.encode(), capture_output=True,
                          timeout=60)
    results = interpret_output(plan, script, done.stdout, done.returncode, done.stderr.decode(errors="replace"))
    return Snapshot("web-1", "lab", "web", ADDRESS, "2026-11-23T00:00:00Z", "lab", collectors=results,
                    roles=("web", "worker"))


def judged() -> list[tuple[str, int, str, str]]:
    """(address, port, drift's verdict, its rule or reason) for worker → web over 8080 and 7007."""
    return sorted({(p.via.split()[0], c.port, p.verdict, p.rule or "; ".join(p.reasons))
                   for c in matrix.build([snapshot()]) if c.key[:2] == ("worker", "web") and c.port in (7007, 8080)
                   for p in c.pairs})


def connects(keys: list[tuple[str, int, str, str]]) -> list[bool]:
    out = run(sys.executable, "-c", PROBE, json.dumps([("tcp", k[0], k[1]) for k in keys]), "2", ns=HOST)
    return list(json.loads(out))


@pytest.mark.parametrize(("rules", "bridge"), [("docker.iptables", DOCKER0), ("netavark-nft.nft", PODMAN0)])
def test_a_co_located_connection_rewritten_at_output_is_judged_as_the_kernel_routes_it(rules, bridge):
    with host(rules, bridge):
        pairs = judged()
        real = connects(pairs)
        assert [p[2] for p in pairs] != [] and "unknown" not in [p[2] for p in pairs], pairs
        wrong = [(p, ok) for p, ok in zip(pairs, real, strict=True) if (p[2] == "admitted") != ok]
        SUMMARY.append(f"nat OUTPUT ({rules}): {len(pairs)} co-located pairs against the kernel, "
                       f"{sum(real)} connected, {len(wrong)} wrong")
        assert not wrong, wrong
        if rules.endswith(".nft"):  # loopback to the container: the kernel routes it once route_localnet is on
            assert ("127.0.0.1", 7007, "refused") in [p[:3] for p in pairs]
            run("sysctl", "-qw", f"net.ipv4.conf.{bridge[0]}.route_localnet=1", ns=HOST)
            after = [p for p in judged() if p[0] == "127.0.0.1"]
            assert after and all(p[2] == "unknown" and "masquerade" in p[3] for p in after), after
            assert all(connects(after))
