"""Recapture the containers collector's runtime-state fixtures from real runs (root, podman and the
docker CLI needed):

    python3 -m tests.collectors.capture_containers

No docker daemon is installed for this: podman's Docker-compatible API service (`podman system
service`) answers the real docker CLI. A private mount namespace holds podman's state on tmpfs (one
container, `podman import`ed from a rootfs tar, no network); each case runs the collector's exact
command in a child namespace of it, as root or another uid, with the socket bound where the case
needs it (a rootless docker's /run/user/UID/docker.sock, docker's /var/run/docker.sock) and the
session environment the case is about (DOCKER_HOST, a docker context, CONTAINER_HOST).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from collectors import containers
from collectors.interface import CollectConfig, NotApplicable
from drift.core.errors import CollectError
from tests.lab.boxes import Image, rootfs_tar

OUT = Path(__file__).parent / "fixtures" / "containers"
KEY = "drift-golden-fixture-key-0123456789"
APP = Image("localhost/acme-app:2.4.1", {"acme-app": "2.4.1"}, {})
PODMAN = ["podman", "--cgroup-manager", "cgroupfs", "--events-backend", "none"]
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
API = "/run/drift-api.sock"
# The parent namespace: podman's default state locations on tmpfs, nothing of this machine's.
NAMESPACE = "mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/lib/containers && mount -t tmpfs tmpfs /home"
HIDE_PODMAN = "mount -t tmpfs tmpfs /var/lib/containers"  # a docker-only host
CONTEXT = ("mkdir -p /home/ops && HOME=/home/ops docker context create far --docker host=tcp://127.0.0.1:2376 "
           ">/dev/null && HOME=/home/ops docker context use far >/dev/null")
ROOTLESS = f"mkdir -p /run/user/1000 && : > /run/user/1000/docker.sock && mount --bind {API} /run/user/1000/docker.sock"

# name -> (source words, setup in the child namespace, uid, session environment)
CASES: dict[str, tuple[str, str, int, dict[str, str]]] = {
    "docker_rootless": (
        "uid 1000 with its rootless docker's socket at /run/user/1000/docker.sock and DOCKER_HOST unset "
        "(a non-interactive SSH session)",
        f"{HIDE_PODMAN} && {ROOTLESS} && chown -R 1000:1000 /run/user/1000 && chmod 700 /run/user/1000 "
        "&& mkdir -p /home/u && chown 1000 /home/u", 1000, {"HOME": "/home/u", "XDG_RUNTIME_DIR": "/run/user/1000"}),
    "docker_host_far_ignored": (
        "root with docker's /var/run/docker.sock while DOCKER_HOST names another machine and the current "
        "docker context another still",
        f"{HIDE_PODMAN} && : > /run/docker.sock && mount --bind {API} /run/docker.sock && {CONTEXT}",
        0, {"HOME": "/home/ops", "DOCKER_HOST": "tcp://127.0.0.1:2375", "DOCKER_TLS_VERIFY": "1"}),
    "docker_only_remote": (
        "root with no local docker socket and DOCKER_HOST naming another machine",
        HIDE_PODMAN, 0, {"HOME": "/root", "DOCKER_HOST": "ssh://deploy@127.0.0.1"}),
    "docker_context_remote": (
        "root with no local docker socket, the current docker context on another machine",
        f"{HIDE_PODMAN} && {CONTEXT}", 0, {"HOME": "/home/ops"}),
    "docker_socket_other_user": (
        "uid 1001, where uid 1000's rootless docker socket is visible (/run/user/1000 mode 755) but not its to use",
        f"{HIDE_PODMAN} && {ROOTLESS} && chown 1000 /run/user/1000/docker.sock && chmod 600 "
        "/run/user/1000/docker.sock && chmod 755 /run/user/1000", 1001, {"HOME": "/nonexistent"}),
    "podman_host_far_ignored": (
        "root with podman's state while CONTAINER_HOST names another machine's podman service",
        "true", 0, {"HOME": "/root", "CONTAINER_HOST": "ssh://core@127.0.0.1/run/podman/podman.sock"}),
    "no_runtime": ("root on a host without container state", HIDE_PODMAN, 0, {"HOME": "/root"}),
    "root_state_other_user": (
        "nobody, where root's podman has state (/var/lib/containers/storage, mode 700)",
        f"{HIDE_PODMAN} && mkdir -m 700 /var/lib/containers/storage", 65534, {"HOME": "/nonexistent"}),
}


def sh(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def capture(pid: int, setup: str, uid: int, env: dict[str, str]) -> str:
    become = f"setpriv --reuid={uid} --regid={uid} --clear-groups " if uid else ""
    session = " ".join(shlex.quote(f"{k}={v}") for k, v in {"PATH": PATH, "LC_ALL": "C", **env}.items())
    script = f'set -e; {setup}; exec {become}env -i {session} sh -c "$0"'
    done = subprocess.run(["nsenter", "-t", str(pid), "-m", "unshare", "-m", "--propagation", "private",
                           "sh", "-c", script, containers.listing()], capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"exit {done.returncode}: {done.stderr}")
    return done.stdout


def write(name: str, source: str, output: str) -> None:
    cfg = CollectConfig(secret_key=KEY.encode())
    doc: dict[str, object] = {"source": f"real: {source}; podman 4.3.1 (Debian 12) and its Docker API service "
                                        "answering the docker CLI 28.2.2, captured by tests/collectors/"
                                        "capture_containers.py",
                              "command": containers.listing(), "config": {"secret_key": KEY}, "output": output}
    try:
        parsed = containers.parse(output, cfg)
        doc["facts"], doc["identity"] = parsed.facts, sorted(parsed.identity)
    except CollectError as exc:
        doc["error"] = str(exc)
    except NotApplicable as exc:
        doc["unsupported"] = str(exc)
    (OUT / f"{name}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(name, next(k for k in ("facts", "error", "unsupported") if k in doc), file=sys.stderr)


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="drift-capture-"))
    tar = rootfs_tar(APP, work / "image")
    ns = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c", f"{NAMESPACE} && exec sleep 900"])
    service = None
    try:
        time.sleep(0.5)
        enter = ["nsenter", "-t", str(ns.pid), "-m"]
        sh(*enter, *PODMAN, "import", "-q", str(tar), APP.ref)
        sh(*enter, *PODMAN, "run", "-d", "--name", "web-7f3a9c", "--runtime", "runc", "--network", "none",
           "--ulimit", "nofile=1024:4096", "--ulimit", "nproc=1024:4096", "--label", "com.docker.compose.service=web",
           "--label", "com.docker.compose.project=shop", "-e", "APP_MODE=live", APP.ref, "/bin/sleep", "900")
        service = subprocess.Popen([*enter, *PODMAN, "system", "service", "--time=0", f"unix://{API}"])
        for _ in range(50):
            if subprocess.run([*enter, "test", "-S", API], check=False).returncode == 0:
                break
            time.sleep(0.2)
        for name, (source, setup, uid, env) in CASES.items():
            write(name, source, capture(ns.pid, setup, uid, env))
    finally:
        subprocess.run(["nsenter", "-t", str(ns.pid), "-m", *PODMAN, "rm", "-a", "-f", "-t", "0"],
                       capture_output=True, check=False)
        if service is not None:
            service.terminate()
            service.wait()
        ns.kill()
        ns.wait()
        subprocess.run(["rm", "-rf", str(work)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
