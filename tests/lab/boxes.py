"""Real containers on lab hosts (issue 24): podman images built here, with no registry, run inside
the lab hosts' own namespaces, so the `containers` collector finds them over SSH like on a server.

Each lab host gets its own podman state: in its mount namespace (sshd's), per-host directories are
bound over /var/lib/containers, /run/containers and /run/libpod, and the controller's cgroup
mounts are repeated there (`ip netns exec` gave it a /sys without them, and runc needs them).
podman then runs in the host's mount and network namespaces with its defaults, exactly as the SSH
session's `podman ps` will see them. Images are `podman import`ed on each host, with no registry,
from rootfs tars made here (the host's `sleep` and its libraries, a dpkg status, a Python
dist-info): one tar gives one image id wherever it is imported, so twins hold the same digest.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tarfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.lab import fleet
from tests.lab.corpus import LISTENER
from tests.lab.fleet import HostSpec
from tests.lab.lab import CONTAINER_STATE, Lab, in_ns, sh

TOOLS = ("podman", "runc")
STATE = CONTAINER_STATE
RUN = ("--runtime", "runc", "--ulimit", "nofile=1024:4096", "--ulimit", "nproc=1024:4096")
BRIDGE = "podman0"  # podman's default network (10.88.0.0/16), which netavark makes in the host's namespace


@dataclass(frozen=True)
class Publish:
    """A container on podman's bridge with `-p HOST:INSIDE`, and a TCP listener in its network namespace
    on INSIDE (the image holds only `sleep`); `ip`: its address, else podman's next free one."""

    host: int
    inside: int
    ip: str | None = None


@dataclass(frozen=True)
class Image:
    ref: str
    deb: dict[str, str]  # package -> version in the image's dpkg status
    pip: dict[str, str]


def unavailable() -> str | None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    return f"the container lab needs {', '.join(missing)}" if missing else None


def _status(deb: dict[str, str]) -> str:
    return "".join(f"Package: {name}\nStatus: install ok installed\nVersion: {version}\nArchitecture: all\n\n"
                   for name, version in deb.items())


def rootfs_tar(image: Image, into: Path) -> Path:
    """A root with /bin/sleep (the host's, with its shared libraries), a dpkg status and dist-infos;
    the same bytes for the same image, so every host that imports it holds the same digest."""
    into.mkdir(parents=True, exist_ok=True)
    tar = into / "rootfs.tar"
    sleep = Path(shutil.which("sleep") or "/usr/bin/sleep").resolve()
    # Not LD_PRELOAD's libraries (tests/faketime/run preloads libfaketime): they are no dependency of sleep.
    libs = [Path(p) for p in sh("env", "-u", "LD_PRELOAD", "ldd", str(sleep)).split() if p.startswith("/")]
    with tarfile.open(tar, "w") as t:
        t.add(sleep, "bin/sleep")
        for lib in libs:
            t.add(lib.resolve(), str(lib).lstrip("/"))
        files = {"var/lib/dpkg/status": _status(image.deb)}
        for name, version in image.pip.items():
            files[f"usr/lib/python3/dist-packages/{name}-{version}.dist-info/METADATA"] = \
                f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        for name, text in files.items():
            path = into / "files" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            t.add(path, name)
    return tar


def sshd_pid(h: HostSpec) -> int:
    """The host's listening sshd, never a per-connection child: a child left by an earlier test's
    session is also `sshd` in the namespace, and exits under us."""
    for pid in sh("ip", "netns", "pids", h.netns).split():
        with contextlib.suppress(OSError):
            if _comm(pid) == "sshd" and _comm(_parent(pid)) != "sshd":
                return int(pid)
    raise RuntimeError(f"lab: no sshd in {h.netns}")


def _comm(pid: str) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


def _parent(pid: str) -> str:
    # /proc/PID/stat: "pid (comm) state ppid ...", and comm may hold spaces or parentheses.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]


def _cgroup_mounts() -> str:
    """Shell that repeats this machine's /sys/fs/cgroup mounts (v1 hierarchies or v2) in a namespace."""
    steps = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        source, target, fstype, options = line.split()[:4]
        if target == "/sys/fs/cgroup" or target.startswith("/sys/fs/cgroup/"):
            steps.append(f"mkdir -p {target} && mount -t {fstype} -o {options} {source} {target}")
    return " && ".join(steps) or "true"


def _busy(h: HostSpec) -> bool:
    """Whether podman or conmon still runs in h's network namespace."""
    for pid in sh("ip", "netns", "pids", h.netns, check=False).split():
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/comm").read_text().strip() in ("conmon", "podman", "sleep"):
                return True
    return False


class Boxes:
    """Per-host podman state in the lab hosts' namespaces; `close` removes every trace."""

    def __init__(self, lab: Lab, work: Path, hosts: list[HostSpec]):
        self.lab, self.work, self.hosts = lab, work, hosts
        self.listeners: list[subprocess.Popen[str]] = []
        self.pids = {h.name: sshd_pid(h) for h in hosts}
        self.made = [d for d in STATE if not Path(d).exists()]
        for d in self.made:
            Path(d).mkdir(parents=True)
        for h in hosts:
            binds = []
            for d in STATE:
                own = work / "state" / h.name / d.strip("/").replace("/", "_")
                own.mkdir(parents=True)
                binds.append(f"mount --bind {own} {d}")
            self.enter(h, "sh", "-c", f"mountpoint -q /sys/fs/cgroup || {{ {_cgroup_mounts()}; }}; " + "; ".join(binds))

    def enter(self, h: HostSpec, *argv: str) -> str:
        return sh("nsenter", "-t", str(self.pids[h.name]), "-m", "-n", *argv)

    def run(self, h: HostSpec, image: Image, tar: Path, service: str, env: dict[str, str],
            publish: Publish | None = None) -> str:
        """Import `image` on h (an import of one tar gives one image id on every host) and run it: on the
        host's network, or on podman's bridge with a published port (netavark writes h's iptables)."""
        self.enter(h, "podman", "import", "-q", str(tar), image.ref)
        name = f"{service}-{uuid.uuid4().hex[:6]}"  # random like compose's or k8s's: identity, never drift
        flags = [f"--env={k}={v}" for k, v in env.items()]
        if publish is None:
            flags += ["--network", "host"]
        else:
            flags += ["-p", f"{publish.host}:{publish.inside}", *(["--ip", publish.ip] if publish.ip else [])]
        self.enter(h, "podman", "run", "-d", "--name", name, *RUN, *flags,
                   "--label", f"com.docker.compose.service={service}", image.ref, "/bin/sleep", "3600")
        if publish is not None:
            pid = self.enter(h, "podman", "inspect", "--format", "{{.State.Pid}}", name).strip()
            listener = subprocess.Popen(["nsenter", "-t", pid, "-n", sys.executable, "-c", LISTENER,
                                         f"tcp:{publish.inside}:v4"], stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
            self.listeners.append(listener)
            assert listener.stdout is not None and listener.stdout.readline().strip() == "ready", \
                f"{h.name}: the listener in {name} failed"
        return name

    def close(self) -> None:
        for listener in self.listeners:
            listener.terminate()
            listener.wait(5)

        def clear(h: HostSpec) -> None:
            with contextlib.suppress(RuntimeError):
                self.enter(h, "podman", "rm", "-a", "-f", "-t", "0")
            # conmon runs `podman container cleanup` as each container exits: unmounting the
            # host's state under it would let that write root's /var/lib/containers instead.
            end = time.monotonic() + 10
            while time.monotonic() < end and _busy(h):
                time.sleep(0.1)
            with contextlib.suppress(RuntimeError):
                self.enter(h, "sh", "-c", "; ".join(f"umount -l {d}" for d in STATE))
            # netavark leaves its chains, its bridge and ip_forward = 1 behind: the host as the lab made it.
            in_ns(h, "ip", "link", "del", BRIDGE, check=False)
            in_ns(h, "nft", "flush", "ruleset")
            in_ns(h, "iptables-restore", input=fleet.iptables_rules(h))
            in_ns(h, "nft", "-f", "-", input=fleet.nft_rules(h))
            in_ns(h, "sysctl", "-qw", "net.ipv4.ip_forward=0")

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(clear, self.hosts))
        subprocess.run(["rm", "-rf", str(self.work / "state")], check=False)
        for d in reversed(self.made):  # made by us for the bind mounts, so nothing else's is in them
            shutil.rmtree(d, ignore_errors=True)
