"""Build and tear down the lab: real SSH hosts in network, mount and UTS namespaces on one bridge.

Needs root, iproute2, util-linux (unshare), OpenSSH's sshd and ssh-keygen, iptables and nft.
Everything the lab creates is named drlab*, so `down` can find a crashed run's leftovers, and it
kills only processes inside drlab-* namespaces: processes it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

from tests.lab import access, fleet
from tests.lab.fleet import FLEET, SUBNETS, HostSpec

BRIDGE = "drlab0"
NS_PREFIX = "drlab-"
ACME_DIR = Path("/etc/acme")
ACME_MARK = ".drift-lab-created"  # /etc/acme is a mount point the lab made; remove it when we're done
DEFAULT_ROOT = Path("/tmp/drift-lab")
TOOLS = ("ip", "sshd", "ssh-keygen", "unshare", "iptables-restore", "nft")

# Holds ports open; a silent host gets port 22, and the kernel completes the TCP handshake
# without anyone ever sending an SSH banner.
# `uPORT` is a UDP echo (for reach's UDP flows).
LISTENER = """
import socket, sys, threading, time
socks = []
def echo(s):
    while True:
        data, peer = s.recvfrom(2048)
        try:
            s.sendto(data, peer)
        except OSError:  # EPERM while an OUTPUT rule drops the answer: keep serving
            pass
for port in sys.argv[1:]:
    if port.startswith("u"):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", int(port[1:])))
        threading.Thread(target=echo, args=(s,), daemon=True).start(); socks.append(s); continue
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(port))); s.listen(64); socks.append(s)
while True:
    time.sleep(3600)
"""


def unavailable() -> str | None:
    """Why the lab cannot run here, or None."""
    if sys.platform != "linux":
        return "the lab needs Linux namespaces"
    if os.geteuid() != 0:
        return "the lab needs root (network and mount namespaces)"
    missing = [t for t in TOOLS if shutil.which(t) is None and not Path("/usr/sbin", t).exists()]
    return f"the lab needs {', '.join(missing)}" if missing else None


def sh(*argv: str, input: str | None = None, check: bool = True) -> str:
    done = subprocess.run(argv, input=input, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"lab: {shlex.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def in_ns(h: HostSpec, *argv: str, input: str | None = None, check: bool = True) -> str:
    return sh("ip", "netns", "exec", h.netns, *argv, input=input, check=check)


CONTAINER_STATE = ("/var/lib/containers", "/run/containers", "/run/libpod")  # podman's, root's


@dataclass
class Lab:
    root: Path
    hosts: tuple[HostSpec, ...] = FLEET

    @property
    def inventory(self) -> Path:
        return self.root / "drift.toml"

    @property
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    @property
    def client_key(self) -> Path:
        return self.root / "id_ed25519"

    @property
    def python(self) -> Path:
        return self.root / fleet.VENV_PYTHON

    def host_dir(self, h: HostSpec) -> Path:
        return self.root / "hosts" / h.name

    def spec(self, name: str) -> HostSpec:
        return next(h for h in self.hosts if h.name == name)

    def host_key(self, h: HostSpec) -> str:
        """'ssh-ed25519 AAAA...' as known_hosts wants it."""
        kind, blob, *_ = (self.host_dir(h) / "ssh_host_ed25519_key.pub").read_text().split()
        return f"{kind} {blob}"

    def site_packages(self) -> Path:
        rel = Path(sysconfig.get_path("purelib", vars={"base": ""}).lstrip("/"))
        return self.root / "venv" / rel

    # -- up --------------------------------------------------------------------------------------
    def up(self) -> None:
        down()
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "hosts").mkdir(exist_ok=True)
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation directory
        if not ACME_DIR.exists():
            ACME_DIR.mkdir()
            (ACME_DIR / ACME_MARK).touch()
        self._keys()
        self._venv()
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        for subnet in sorted({SUBNETS[h.env] for h in self.hosts}):
            sh("ip", "addr", "add", f"10.213.{subnet}.1/24", "dev", BRIDGE)
        sh("ip", "link", "set", BRIDGE, "up")
        dpkg = Path("/var/lib/dpkg/status").read_text(encoding="utf-8")
        for h in self.hosts:
            self._network(h)
            if h.kind == "ssh":
                self._content(h, dpkg)
                self._start_sshd(h)
            elif h.kind == "silent":
                self._spawn(h, "listener", ["ip", "netns", "exec", h.netns, sys.executable, "-c", LISTENER, "22"])
        self._await_banners()
        access.finish(self)
        self.known_hosts.write_text("".join(
            f"{h.address} {self.host_key(h)}\n" for h in self.hosts if h.kind == "ssh"))
        self.inventory.write_text(self.toml())
        (self.root / "lab.json").write_text(json.dumps([h.name for h in self.hosts]))

    def _keys(self) -> None:
        if not self.client_key.exists():
            sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "drift-lab", "-f", str(self.client_key))
        shutil.copy(self.client_key.with_suffix(".pub"), self.root / "authorized_keys")

    def _venv(self) -> None:
        if not self.python.exists():
            sh(access.interpreter(), "-m", "venv", "--without-pip", str(self.root / "venv"))

    def _network(self, h: HostSpec) -> None:
        ns, veth = h.netns, f"drl{SUBNETS[h.env]}x{h.index}"
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
        sh("ip", "link", "set", veth, "master", BRIDGE, "up")
        in_ns(h, "ip", "link", "set", "lo", "up")
        in_ns(h, "ip", "addr", "add", f"{h.address}/24", "dev", "eth0")
        in_ns(h, "ip", "link", "set", "eth0", "up")
        in_ns(h, "ip", "route", "add", "default", "via", h.gateway)
        if h.kind != "ssh":
            return
        in_ns(h, "sysctl", "-qw", f"net.core.somaxconn={fleet.somaxconn(h)}", "net.ipv4.ip_forward=0")
        for route in fleet.extra_routes(h):
            in_ns(h, "ip", "route", "add", *route.split())
        in_ns(h, "iptables-restore", input=fleet.iptables_rules(h))
        in_ns(h, "nft", "-f", "-", input=fleet.nft_rules(h))
        self._spawn(h, "listener", ["ip", "netns", "exec", h.netns, sys.executable, "-c", LISTENER,
                                    *map(str, fleet.listen_ports(h)), *(f"u{p}" for p in fleet.udp_ports(h))])

    def _content(self, h: HostSpec, dpkg: str) -> None:
        d = self.host_dir(h)
        shutil.rmtree(d, ignore_errors=True)
        (d / "etc" / "acme").mkdir(parents=True)
        (d / "status").write_text(fleet.dpkg_status(dpkg, h))
        (d / "etc" / "hosts").write_text(fleet.etc_hosts(h))
        (d / "etc" / "resolv.conf").write_text(fleet.RESOLV)
        # A server's root has a stock .bashrc that returns early when not interactive. This
        # machine's does `pyenv init` (~0.1 s), which sshd's bash would run on every exec.
        skel = Path("/etc/skel/.bashrc")
        (d / "bashrc").write_text(skel.read_text() if skel.exists() else "case $- in *i*) ;; *) return;; esac\n")
        (d / "etc" / "acme" / "app.conf").write_text(fleet.app_conf(h))
        # issue 12: per-host content, planted secrets
        (d / "etc" / "acme" / "settings.ini").write_text(fleet.settings_ini(h))
        (d / "etc" / "acme" / "site.conf").write_text(fleet.site_conf(h))
        (d / "etc" / "acme" / "redis.conf").write_text(fleet.redis_conf(h))
        (d / "etc" / "acme" / "snmpd.conf").write_text(fleet.snmpd_conf(h))
        site = d / "site-packages"
        for name, version in {**fleet.DISTRIBUTIONS, "acme-lib": fleet.acme_lib_version(h)}.items():
            info = site / f"{name.replace('-', '_')}-{version}.dist-info"
            info.mkdir(parents=True)
            (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", h.name, "-f", str(d / "ssh_host_ed25519_key"))
        (d / "sshd_config").write_text(
            f"ListenAddress {h.address}:22\nHostKey {d / 'ssh_host_ed25519_key'}\n"
            f"AuthorizedKeysFile {self.root / 'authorized_keys'}\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
            "PermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\nPidFile none\n"
            f"LogLevel ERROR\nMaxSessions 50\n{access.sshd_options(h)}")
        access.prepare(self, h)

    def _start_sshd(self, h: HostSpec) -> None:
        d = self.host_dir(h)
        binds = [(d / "status", "/var/lib/dpkg/status"), (d / "etc" / "hosts", "/etc/hosts"),
                 (d / "etc" / "resolv.conf", "/etc/resolv.conf"), (d / "etc" / "acme", str(ACME_DIR)),
                 (d / "site-packages", str(self.site_packages()))]
        if Path("/root/.bashrc").exists():
            binds.append((d / "bashrc", "/root/.bashrc"))
        binds += access.binds(self, h)
        # A lab host is a machine of its own: it never sees this machine's container state (root's
        # podman run by hand or by another test would make every non-root login's collector unknown).
        for state in CONTAINER_STATE:
            if Path(state).is_dir():
                empty = d / "containers" / state.strip("/").replace("/", "_")
                empty.mkdir(parents=True, exist_ok=True)
                binds.append((empty, state))
        script = "set -e; " + "; ".join(f"mount --bind {shlex.quote(str(a))} {shlex.quote(b)}" for a, b in binds)
        script += f"; hostname {shlex.quote(h.name)}; exec /usr/sbin/sshd -D -e -f {shlex.quote(str(d / 'sshd_config'))}"
        self.site_packages().mkdir(parents=True, exist_ok=True)
        self._spawn(h, "sshd", ["ip", "netns", "exec", h.netns, "unshare", "-m", "-u", "--propagation",
                                "private", "sh", "-c", script])

    def _spawn(self, h: HostSpec, what: str, argv: list[str]) -> None:
        log = (self.root / f"{h.name}.{what}.log").open("wb")
        subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        log.close()

    def _await_banners(self, deadline: float = 15.0) -> None:
        end = time.monotonic() + deadline
        for h in self.hosts:
            if h.kind != "ssh":
                continue
            while True:
                try:
                    with socket.create_connection((h.address, 22), timeout=1) as s:
                        if s.recv(64).startswith(b"SSH-"):
                            break
                except OSError:
                    pass
                if time.monotonic() > end:
                    log = (self.root / f"{h.name}.sshd.log").read_text(errors="replace")
                    raise RuntimeError(f"lab: sshd on {h.name} never answered: {log.strip()[-500:]}")
                time.sleep(0.05)

    def toml(self, envs: tuple[str, ...] = ("staging", "prod", "mirror", "broken"), **ssh: object) -> str:
        """The lab's drift.toml; keyword arguments override [ssh] keys (tests vary keys and users)."""
        settings: dict[str, object] = {"user": "root", "identity_file": str(self.client_key),
                                       "known_hosts": str(self.known_hosts), "connect_timeout": 5,
                                       "command_timeout": 30, **ssh}
        out = ["[ssh]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items()),
               '[collect]\nfiles = ["/etc/acme/*.conf", "/etc/resolv.conf", "/etc/hosts", "/etc/acme/*.ini"]\n'
               f"content = {json.dumps(list(fleet.CONTENT_FILES))}\n"
               f'python = ["{self.python}"]\nsysctl = ["net.core.somaxconn", "net.ipv4.ip_forward"]\n',
               f'[store]\npath = "{self.root / "drift.db"}"\n']
        for env in envs:
            rows = [f'  {{ name = "{h.name}", address = "{h.address}", {_roles(h)} }},'
                    for h in self.hosts if h.env == env]
            if rows:
                out.append(f"[environments.{env}]\nhosts = [\n" + "\n".join(rows) + "\n]\n")
        return "\n".join(out)


def _roles(h: HostSpec) -> str:
    return f"roles = {json.dumps(list(h.roles))}" if h.roles else f'role = "{h.role}"'


def namespaces() -> list[str]:
    listing = sh("ip", "netns", "list", check=False)
    return [line.split()[0] for line in listing.splitlines() if line.startswith(NS_PREFIX)]


def down() -> None:
    """Remove everything any lab run created: namespaces with their processes, the bridge, /etc/acme."""
    for ns in namespaces():
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = [int(p) for p in sh("ip", "netns", "pids", ns, check=False).split()]
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            if pids and sig == signal.SIGTERM:
                time.sleep(0.2)
        sh("ip", "netns", "del", ns, check=False)
    # The kernel tears a deleted namespace's veth pairs down asynchronously: wait, so an `up` right
    # after never meets a leftover drl* link ("RTNETLINK answers: File exists").
    end = time.monotonic() + 10
    while time.monotonic() < end and any(n.startswith("drl") and n != BRIDGE for n in os.listdir("/sys/class/net")):
        time.sleep(0.05)
    if Path("/sys/class/net", BRIDGE).exists():
        sh("ip", "link", "del", BRIDGE, check=False)
    if (ACME_DIR / ACME_MARK).exists() and set(os.listdir(ACME_DIR)) == {ACME_MARK}:
        (ACME_DIR / ACME_MARK).unlink()
        ACME_DIR.rmdir()
