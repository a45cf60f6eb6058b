"""The real-world firewall corpus (tests/lab/firewalls/, each file names its public source): load a
rule set into the lab's mirror hosts, collect them with drift's own collectors, and judge drift's
reach verdict for every host pair and listening port against a real TCP connect or UDP echo.

The mirror hosts are borrowed: `restore` puts back the lab's own rules, and the listeners and the
Docker container namespace live only as long as the `Corpus` context.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import collectors as registry
from collectors.interface import CollectConfig
from drift.analysis.reach import matrix
from drift.collect.gather import Plan, interpret_output
from drift.collect.script import compose
from drift.model.snapshot import Snapshot
from tests.lab import fleet
from tests.lab.fleet import HostSpec
from tests.lab.lab import Lab, in_ns, sh
from tests.lab.oracle import PROBE

FIREWALLS = Path(__file__).parent / "firewalls"
HOSTS = ("mir-web-1", "mir-web-2", "mir-db-1")
CONTAINER_NS = "drlab-ctr"  # drlab-*: the lab's `down` removes it after a crash
# What every borrowed host listens on besides the lab's own sockets: (proto, port, families).
# v4: 0.0.0.0; v46: [::] that also takes IPv4 (ss prints *:PORT); v6: [::] with IPV6_V6ONLY.
LISTEN = [("tcp", p, "v4") for p in (53, 80, 443, 7001, 7002, 7003)] + \
    [("udp", p, "v4") for p in (53, 123, 7101)] + \
    [("tcp", 9100, "v46"), ("tcp", 9101, "v6"), ("udp", 7102, "v46"), ("udp", 7103, "v6")]
SYSCTLS = ("net.ipv4.ip_local_port_range", "net.ipv6.bindv6only", "net.ipv4.ip_forward", "net.ipv4.conf.*.route_localnet")


DOCKER0 = ("docker0", "172.17.0.1/16", "172.17.0.2/16")
PODMAN0 = ("podman0", "10.88.0.1/16", "10.88.0.2/16")


@dataclass(frozen=True)
class RuleSet:
    name: str  # its row in the table
    files: tuple[str, ...]  # in firewalls/: *.iptables (iptables-restore), *.ip6tables, *.nft
    on: tuple[str, ...] = HOSTS  # the hosts that load it; the others run no firewall at all
    container: str | None = None  # the host that runs the container (listening on 8080) behind a bridge
    bridge: tuple[str, str, str] = DOCKER0  # the bridge, the host's address on it, the container's


UFW = RuleSet("ufw: deny incoming, limit, allow/deny/reject", ("ufw.iptables", "ufw.ip6tables"))
CORPUS = (
    UFW,
    RuleSet("Docker: published port, DOCKER-USER, nat DNAT", ("docker.iptables",), on=("mir-web-1",),
            container="mir-web-1"),
    RuleSet("kube-proxy: iptables mode", ("kube-proxy.iptables",)),
    RuleSet("CIS hardening: OUTPUT policy DROP", ("cis-hardening.iptables",)),
    RuleSet("Debian example: workstation.nft", ("debian-workstation.nft",)),
    RuleSet("Debian example: all-in-one.nft, every family", ("debian-all-in-one.nft",)),
    RuleSet("firewalld: nftables backend", ("firewalld.nft",)),
    RuleSet("nft: meter, ct count, tcp flags", ("nft-meters.nft",)),
    RuleSet("nft: dynamic set, meters, counters", ("nft-blackhole.nft",)),
    RuleSet("nft: named counters, final reject", ("nft-named-counters.nft",)),
    RuleSet("kube-proxy: nftables mode, NodePorts", ("kube-proxy-nft.nft",), on=("mir-web-1",),
            container="mir-web-1"),
    RuleSet("firewalld: forward ports (nft dnat, redirect)", ("firewalld-forward.nft",), on=("mir-web-1",),
            container="mir-web-1"),
    RuleSet("podman netavark: nftables driver, -p 7007:8080", ("netavark-nft.nft",), on=("mir-web-1",),
            container="mir-web-1", bridge=PODMAN0),
    RuleSet("nft: dnat and redirect refused by forward, input", ("nft-dnat.nft",), on=("mir-web-1",),
            container="mir-web-1"),
)
NFT_DNAT = CORPUS[-4:]
UFW_ALIKE = RuleSet("hand-written equivalent of ufw", ("ufw-equivalent.iptables",))

LISTENER = r"""
import socket, sys, threading, time
def echo(s):
    while True:
        data, peer = s.recvfrom(2048)
        try:
            s.sendto(data, peer)
        except OSError:
            pass
socks = []
for spec in sys.argv[1:]:
    proto, port, fams = spec.split(":")
    fam = socket.AF_INET if fams == "v4" else socket.AF_INET6
    s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(fams == "v6"))
    s.bind(("0.0.0.0" if fam == socket.AF_INET else "::", int(port)))
    if proto == "tcp":
        s.listen(64)
    else:
        threading.Thread(target=echo, args=(s,), daemon=True).start()
    socks.append(s)
print("ready", flush=True)
while True:
    time.sleep(3600)
"""

Key = tuple[str, str, str, int, str]  # src, dst, proto, port, address connected to


@dataclass(frozen=True)
class Tally:
    agree: int
    wrong: list[str]  # "src -> dst:port/proto: drift says X, the kernel Y"
    unknown: list[str]  # "src -> dst:port/proto: reason"

    @property
    def pairs(self) -> int:
        return self.agree + len(self.wrong) + len(self.unknown)


class Corpus:
    """The borrowed hosts, their listeners, and what drift and the kernel make of a rule set."""

    def __init__(self, lab: Lab):
        self.lab = lab
        self.container: subprocess.Popen[str] | None = None
        self.hosts = [lab.spec(n) for n in HOSTS]
        self.plan = Plan(tuple(c for c in registry.REGISTRY if c.category in ("firewall", "topology", "system")),
                         CollectConfig(sysctl=SYSCTLS))

    @contextmanager
    def listening(self) -> Iterator[Corpus]:
        procs = [subprocess.Popen(["ip", "netns", "exec", h.netns, sys.executable, "-c", LISTENER,
                                   *(f"{p}:{n}:{f}" for p, n, f in LISTEN)],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) for h in self.hosts]
        try:
            for p in procs:
                assert p.stdout is not None and p.stdout.readline().strip() == "ready", "corpus listener failed"
            yield self
        finally:
            for p in procs:
                p.terminate()
                p.wait(5)
            self.restore()

    def load(self, rs: RuleSet) -> None:
        self._container(None)
        for h in self.hosts:
            _flush(h)
            if h.name not in rs.on:
                continue
            for name in rs.files:
                text = (FIREWALLS / name).read_text()
                tool = {"iptables": "iptables-restore", "ip6tables": "ip6tables-restore"}.get(name.rsplit(".", 1)[1])
                in_ns(h, *([tool] if tool else ["nft", "-f", "-"]), input=text)
        self._container(rs.container, rs.bridge)

    def restore(self) -> None:
        self._container(None)
        for h in self.hosts:
            _flush(h)
            in_ns(h, "iptables-restore", input=fleet.iptables_rules(h))
            in_ns(h, "nft", "-f", "-", input=fleet.nft_rules(h))

    def snapshots(self, env: str = "mirror") -> list[Snapshot]:
        """Each host as `drift snapshot` records it: drift's script, run in the namespace, read by drift."""
        with ThreadPoolExecutor(len(self.hosts)) as pool:
            return list(pool.map(lambda h: self._snapshot(h, env), self.hosts))

    def _snapshot(self, h: HostSpec, env: str) -> Snapshot:
        script = compose(self.plan.collectors, self.plan.config)
        done = subprocess.run(["ip", "netns", "exec", h.netns, "sh"], input=script.text.encode(),
                              capture_output=True, timeout=60)
        results = interpret_output(self.plan, script, done.stdout, done.returncode,
                                   done.stderr.decode(errors="replace")[-500:])
        return Snapshot(h.name, env, h.role, h.address, "2026-11-23T00:00:00Z", "lab", collectors=results,
                        roles=h.roles)

    def judge(self, snaps: list[Snapshot]) -> Tally:
        """drift's verdict for every pair and port (a port it lists no pair for: "nothing reachable
        listens"), against the kernel."""
        verdicts: dict[Key, tuple[str, str]] = {}
        address = {h.name: h.address for h in self.hosts}
        for cell in matrix.build(snaps):
            for p in cell.pairs:
                why = "; ".join(p.reasons) if p.verdict == "unknown" else (p.rule or "")
                via = p.via.split()[0] if p.via else address[p.dst]  # an unknown may not say
                verdicts.setdefault((p.src, p.dst, cell.proto, cell.port, via), (p.verdict, why))
        listed = {k[:4] for k in verdicts}
        for key in self.targets():
            if key[:4] not in listed:
                verdicts[key] = ("absent", "nothing reachable listens")
        kernel = self.probe(list(verdicts))
        # A busy machine can be slow to answer, never quick to connect where the rules refuse: only a
        # refusal that contradicts drift is asked again, and given longer.
        doubt = [k for k, (v, _) in verdicts.items() if v == "admitted" and not kernel[k]]
        kernel.update(self.probe(doubt, wait=5.0))
        agree, wrong, unknown = 0, [], []
        for key, (verdict, why) in sorted(verdicts.items()):
            label = f"{key[0]} -> {key[1]}:{key[3]}/{key[2]} via {key[4]}"
            if verdict == "unknown":
                unknown.append(f"{label}: {why}")
            elif (verdict == "admitted") == kernel[key]:
                agree += 1
            else:
                wrong.append(f"{label}: drift says {verdict} ({why}), the kernel "
                             f"{'connected' if kernel[key] else 'did not'}")
        return Tally(agree, wrong, unknown)

    def targets(self) -> list[Key]:
        """Every host to every other host's address, on every port it listens on."""
        return [(s.name, d.name, proto, port, d.address)
                for s in self.hosts for d in self.hosts if s is not d for proto, port in ports(d)]

    def probe(self, keys: list[Key], wait: float = 1.5) -> dict[Key, bool]:
        """Every key probed from its source namespace, all sources at once."""
        by_src: dict[str, list[Key]] = {}
        for k in keys:
            by_src.setdefault(k[0], []).append(k)
        procs = {src: subprocess.Popen(
            ["ip", "netns", "exec", self.lab.spec(src).netns, sys.executable, "-c", PROBE,
             json.dumps([(k[2], k[4], k[3]) for k in ks]), str(wait)], stdout=subprocess.PIPE, text=True)
            for src, ks in by_src.items()}
        out: dict[Key, bool] = {}
        for src, proc in procs.items():
            stdout, _ = proc.communicate(timeout=60)
            out.update(zip(by_src[src], json.loads(stdout), strict=True))
        return out

    def _container(self, host: str | None, bridge: tuple[str, str, str] = DOCKER0) -> None:
        """A bridge and one container behind it listening on 8080 (Docker's docker0 and 172.17.0.2, or
        podman's podman0 and 10.88.0.2), or none."""
        if self.container is not None:
            self.container.terminate()
            self.container.wait(5)
            self.container = None
        sh("ip", "netns", "del", CONTAINER_NS, check=False)
        for h in self.hosts:
            for name, _, _ in (DOCKER0, PODMAN0):
                in_ns(h, "ip", "link", "del", name, check=False)
            in_ns(h, "sysctl", "-qw", "net.ipv4.ip_forward=0")
        if host is None:
            return
        name, gateway, address = bridge
        h = self.lab.spec(host)
        in_ns(h, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        in_ns(h, "ip", "link", "add", name, "type", "bridge")
        in_ns(h, "ip", "addr", "add", gateway, "dev", name)
        in_ns(h, "ip", "link", "set", name, "up")
        sh("ip", "netns", "add", CONTAINER_NS)
        in_ns(h, "ip", "link", "add", "veth0c", "type", "veth", "peer", "name", "eth0", "netns", CONTAINER_NS)
        in_ns(h, "ip", "link", "set", "veth0c", "master", name, "up")
        for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", address, "dev", "eth0"],
                    ["ip", "link", "set", "eth0", "up"], ["ip", "route", "add", "default", "via", gateway.split("/")[0]]):
            sh("ip", "netns", "exec", CONTAINER_NS, *cmd)
        self.container = subprocess.Popen(["ip", "netns", "exec", CONTAINER_NS, sys.executable, "-c", LISTENER,
                                           "tcp:8080:v4"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.container.stdout is not None and self.container.stdout.readline().strip() == "ready", \
            "container listener failed"


def ports(h: HostSpec) -> list[tuple[str, int]]:
    """What h listens on, by the lab's plan: the corpus listeners, the lab's own, and sshd."""
    own = [("tcp", p) for p in fleet.listen_ports(h)] + [("udp", p) for p in fleet.udp_ports(h)]
    return sorted({(p, n) for p, n, _ in LISTEN} | set(own) | {("tcp", 22)})


def _flush(h: HostSpec) -> None:
    in_ns(h, "nft", "flush", "ruleset")  # iptables-nft's tables too: no rule or policy is left


def table(rows: list[tuple[str, Tally]]) -> str:
    """The per-rule-set table the issue asks for, with totals."""
    total = Counter[str]()
    lines = [f"{'rule set':50} {'pairs':>5} {'agree':>5} {'wrong':>5} {'unknown':>7}"]
    for name, t in rows:
        lines.append(f"{name:50} {t.pairs:5} {t.agree:5} {len(t.wrong):5} {len(t.unknown):7}")
        total.update(pairs=t.pairs, agree=t.agree, wrong=len(t.wrong), unknown=len(t.unknown))
    lines.append(f"{'total':50} {total['pairs']:5} {total['agree']:5} {total['wrong']:5} {total['unknown']:7}")
    return "\n".join(lines)
