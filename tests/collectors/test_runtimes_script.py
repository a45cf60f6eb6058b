"""The containers collector's real on-host script, run against a made-up host (root needed).

Each case runs in a private mount namespace: tmpfs over /run, /home and /var/lib, a passwd of our
own over /etc/passwd, sockets where the case puts them, and stand-ins for docker, podman and crictl
that log how they were called and with which session variables. What the script prints then goes
through the real parser. Which endpoint each runtime is asked at, and what is never asked, is the
point: a session's DOCKER_HOST, docker context, CONTAINER_HOST or crictl endpoint must never make
another machine's containers this host's.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from collectors import containers
from collectors.interface import CollectConfig, NotApplicable
from drift.core.errors import CollectError

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("setpriv") is None,
                                reason="needs root, unshare and setpriv")

PASSWD = ("root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n"
          "bob:x:1001:1001::/home/bob:/bin/sh\nsvc:x:998:998::/var/lib/svc:/usr/sbin/nologin\n")
# A container per endpoint: its id from the socket's path, its service the path itself.
DOCKER = r"""#!/bin/sh
printf '%s|DOCKER_HOST=%s|DOCKER_CONTEXT=%s|DOCKER_TLS_VERIFY=%s\n' "docker $*" "${DOCKER_HOST:-}" \
  "${DOCKER_CONTEXT:-}" "${DOCKER_TLS_VERIFY:-}" >> /run/fake/log
case "$1 $2" in
  "context inspect") printf '%s\n' "${FAKE_CONTEXT:-unix:///var/run/docker.sock}"; exit 0;;
  "-H unix://"*) sock=${2#unix://}; shift 2;;
  *) echo "asked without -H" >&2; exit 9;;
esac
id=$(printf '%064x' "$(printf '%s' "$sock" | cksum | cut -d' ' -f1)")
case $1 in
  ps) echo "$id";;
  container) printf '[{"Id": "%s", "Name": "/c", "Image": "sha256:%s", "State": {"Pid": 1}, "Config": {"Image": "acme:1", "Labels": {"com.docker.compose.service": "%s"}}}]\n' "$id" "$id" "$sock";;
esac
"""
PODMAN = r"""#!/bin/sh
printf '%s|CONTAINER_HOST=%s|CONTAINER_CONNECTION=%s\n' "podman $*" "${CONTAINER_HOST:-}" "${CONTAINER_CONNECTION:-}" >> /run/fake/log
case $1 in
  ps) printf '%064x\n' 7;;
  container) printf '[{"Id": "%064x", "Name": "/p", "Image": "sha256:%064x", "State": {"Pid": 1}, "Config": {"Image": "localhost/acme:1", "Labels": {"com.docker.compose.service": "podman-app"}}}]\n' 7 7;;
esac
"""
CRICTL = r"""#!/bin/sh
printf '%s|CONTAINER_RUNTIME_ENDPOINT=%s\n' "crictl $*" "${CONTAINER_RUNTIME_ENDPOINT:-}" >> /run/fake/log
case " $* " in
  *" ps "*) printf '%064x\n' 9;;
  *" inspect "*) printf '{"status": {"id": "%064x", "metadata": {"name": "app"}, "image": {"image": "acme:1"}, "imageRef": "sha256:%064x", "labels": {"io.kubernetes.container.name": "cri-app", "io.kubernetes.pod.name": "app-1"}}, "info": {"pid": 1}}\n' 9 9;;
esac
"""
TOOLS = {"docker": DOCKER, "podman": PODMAN, "crictl": CRICTL}


def host(tmp_path: Path, setup: str, env: dict[str, str] | None = None, uid: int = 0,
         tools: tuple[str, ...] = ("docker", "podman", "crictl")) -> tuple[str, list[str]]:
    """(the script's stdout, the stand-ins' log lines) on a host that `setup` (sh, as root) made."""
    (tmp_path / "bin").mkdir(parents=True)
    for name in tools:
        (tmp_path / "bin" / name).write_text(TOOLS[name])
    (tmp_path / "passwd").write_text(PASSWD)
    become = f"setpriv --reuid={uid} --regid={uid} --clear-groups " if uid else ""
    session = " ".join(shlex.quote(f"{k}={v}") for k, v in {"PATH": "/run/fake/bin:/usr/bin:/bin", **(env or {})}.items())
    script = (
        "set -e; mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /home; mount -t tmpfs tmpfs /var/lib; "
        f"mount --bind {tmp_path}/passwd /etc/passwd; mkdir -p /run/fake/bin /run/user; "
        f"cp {tmp_path}/bin/* /run/fake/bin/ 2>/dev/null || true; chmod -R a+rx /run/fake; "
        ": > /run/fake/log; chmod 666 /run/fake/log\n"
        f'sock() {{ {sys.executable} -c "import socket, sys; [socket.socket(socket.AF_UNIX).bind(p) for p in sys.argv[1:]]" "$@"; }}\n'
        f"{setup}\nset +e\n"
        f'{become}env -i {session} sh -c "$0"; echo "@@status $?"; echo @@log; cat /run/fake/log'
    )
    done = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, containers.listing()],
                          capture_output=True, text=True, check=True, timeout=60)
    out, _, log = done.stdout.partition("@@log\n")
    assert out.rstrip().endswith("@@status 0"), done.stdout + done.stderr
    return out.rstrip().removesuffix("@@status 0"), log.splitlines()


def asked(log: list[str], tool: str) -> list[str]:
    return [line for line in log if line.startswith(tool + " ")]


def services(out: str) -> list[str]:
    return sorted(p.split("/")[1] for p in containers.parse(out, CollectConfig()).facts if p.endswith("/image"))


def unknown(out: str) -> str:
    with pytest.raises(CollectError) as caught:
        containers.parse(out, CollectConfig())
    return str(caught.value)


def test_a_rootless_docker_of_the_ssh_user_is_asked_at_its_socket(tmp_path: Path) -> None:
    # The user's own /run/user/UID, also named by XDG_RUNTIME_DIR: one daemon, asked once.
    out, log = host(tmp_path, "mkdir -m 700 /run/user/1000; sock /run/user/1000/docker.sock; chown -R 1000 /run/user/1000",
                    {"HOME": "/home/alice", "XDG_RUNTIME_DIR": "/run/user/1000"}, uid=1000)
    assert services(out) == ["_run_user_1000_docker.sock"]
    calls = [line.split("|")[0] for line in asked(log, "docker")]
    assert calls[:2] == ["docker context inspect --format {{.Endpoints.docker.Host}}",
                         "docker -H unix:///run/user/1000/docker.sock ps -q --no-trunc"]
    assert calls[2].startswith("docker -H unix:///run/user/1000/docker.sock container inspect ") and len(calls) == 3


def test_a_session_s_remote_docker_host_context_and_tls_are_never_used(tmp_path: Path) -> None:
    env = {"HOME": "/root", "DOCKER_HOST": "tcp://127.0.0.1:2375", "DOCKER_CONTEXT": "far", "DOCKER_TLS_VERIFY": "1",
           "FAKE_CONTEXT": "ssh://ops@127.0.0.1"}
    out, log = host(tmp_path, "sock /run/docker.sock", env)
    assert services(out) == ["_var_run_docker.sock"]
    for line in asked(log, "docker -H"):
        assert line.split(" ")[2] == "unix:///var/run/docker.sock"
        assert line.endswith("|DOCKER_HOST=|DOCKER_CONTEXT=|DOCKER_TLS_VERIFY="), line


def test_root_lists_its_docker_and_every_user_s_rootless_one_and_one_socket_once(tmp_path: Path) -> None:
    setup = ("mkdir -p /run/user/1000 '/run/user/1001'; sock /run/docker.sock /run/user/1000/docker.sock "
             "'/run/user/1001/docker.sock'; mkdir -p '/run/x y'; ln -s /run/docker.sock '/run/x y/d.sock'")
    out, log = host(tmp_path, setup, {"HOME": "/root", "DOCKER_HOST": "unix:///run/x y/d.sock"})
    assert services(out) == ["_run_user_1000_docker.sock", "_run_user_1001_docker.sock", "_var_run_docker.sock"]
    assert len(asked(log, "docker -H")) == 6  # ps and inspect, three daemons; the link is /run/docker.sock


def test_a_path_with_spaces_from_the_session_is_one_word(tmp_path: Path) -> None:
    out, _ = host(tmp_path, "mkdir -p '/run/u 1'; sock '/run/u 1/docker.sock'",
                  {"HOME": "/root", "XDG_RUNTIME_DIR": "/run/u 1"})
    assert services(out) == ["_run_u_1_docker.sock"]


def test_podman_s_docker_socket_is_podman_s(tmp_path: Path) -> None:
    # podman-docker links docker.sock to podman's API: the same containers, asked of podman directly.
    out, log = host(tmp_path, "mkdir -p /run/podman; sock /run/podman/podman.sock; ln -s podman/podman.sock "
                    "/run/docker.sock", {"HOME": "/root"})
    assert not asked(log, "docker -H")
    with pytest.raises(NotApplicable):
        containers.parse(out, CollectConfig())


def test_another_user_s_socket_is_unknown_never_none(tmp_path: Path) -> None:
    setup = "mkdir -m 755 /run/user/1000; sock /run/user/1000/docker.sock; chown 1000 /run/user/1000/docker.sock; " \
            "chmod 600 /run/user/1000/docker.sock"
    out, log = host(tmp_path, setup, {"HOME": "/home/bob"}, uid=1001)
    assert not asked(log, "docker -H")
    assert "the socket '/run/user/1000/docker.sock' is not this user's to use" in unknown(out)


@pytest.mark.parametrize("env,words", [
    ({"DOCKER_HOST": "ssh://deploy@127.0.0.1"}, "DOCKER_HOST points at ssh://…"),
    ({"FAKE_CONTEXT": "tcp://127.0.0.1:2376"}, "the docker context points at tcp://…"),
])
def test_only_a_remote_docker_is_unknown(tmp_path: Path, env: dict[str, str], words: str) -> None:
    out, log = host(tmp_path, "true", {"HOME": "/root", **env})
    assert not asked(log, "docker -H")
    assert words in unknown(out) and "another machine's" in unknown(out)


def test_a_socket_without_its_cli_is_unknown(tmp_path: Path) -> None:
    out, _ = host(tmp_path, "sock /run/docker.sock; mkdir /run/crio; sock /run/crio/crio.sock", {"HOME": "/root"},
                  tools=("podman",))
    assert "a docker socket ('/var/run/docker.sock') and no docker command" in unknown(out)
    assert "a crictl socket ('/var/run/crio/crio.sock') and no crictl command" in unknown(out)


def test_podman_is_asked_locally_whatever_container_host_says(tmp_path: Path) -> None:
    env = {"HOME": "/root", "CONTAINER_HOST": "tcp://127.0.0.1:8888", "CONTAINER_CONNECTION": "far"}
    out, log = host(tmp_path, "mkdir -p /var/lib/containers/storage/libpod", env)
    assert services(out) == ["podman-app"]
    assert all(line.endswith("|CONTAINER_HOST=|CONTAINER_CONNECTION=") for line in asked(log, "podman"))
    out, log = host(tmp_path / "only", "true", env)
    assert not asked(log, "podman") and "podman here is a remote client" in unknown(out)


def test_podman_set_to_be_remote_in_containers_conf_is_unknown(tmp_path: Path) -> None:
    setup = "mkdir -p /var/lib/containers/storage/libpod; printf '[engine]\\nremote = true\\n' > /run/fake/c.conf"
    out, log = host(tmp_path, setup, {"HOME": "/root", "CONTAINERS_CONF": "/run/fake/c.conf"})
    assert not asked(log, "podman") and "containers.conf sets engine remote = true" in unknown(out)


def test_rootless_podman_of_other_users_and_root_s_podman_are_unknown(tmp_path: Path) -> None:
    storage = ".local/share/containers/storage/libpod"
    out, log = host(tmp_path, f"mkdir -p /var/lib/svc/{storage} /home/alice/{storage}", {"HOME": "/root"})
    assert not asked(log, "podman")  # root's own podman has no state here
    assert "user svc has rootless podman containers" in unknown(out) and "user alice" in unknown(out)
    # alice's own rootless podman is listed, root's is not hers to list: unknown, not left out.
    out, log = host(tmp_path / "alice", f"mkdir -p /var/lib/containers/storage /home/alice/{storage}; "
                    "chown -R 1000 /home/alice", {"HOME": "/home/alice"}, uid=1000)
    assert asked(log, "podman ps") and "podman holds root's containers here" in unknown(out)


def test_crictl_is_asked_at_the_local_socket_never_a_configured_remote(tmp_path: Path) -> None:
    setup = "mkdir -p /run/crio; sock /run/crio/crio.sock; printf 'runtime-endpoint: \"tcp://127.0.0.1:1\"\\n' > /run/fake/c.yaml"
    env = {"HOME": "/root", "CONTAINER_RUNTIME_ENDPOINT": "tcp://127.0.0.1:2", "CRI_CONFIG_FILE": "/run/fake/c.yaml"}
    out, log = host(tmp_path, setup, env)
    assert services(out) == ["cri-app"]
    assert all("--runtime-endpoint unix:///var/run/crio/crio.sock --image-endpoint unix:///var/run/crio/crio.sock" in line
               and line.endswith("|CONTAINER_RUNTIME_ENDPOINT=") for line in asked(log, "crictl"))
    out, log = host(tmp_path / "far", "printf 'runtime-endpoint: \"tcp://127.0.0.1:1\"\\n' > /run/fake/c.yaml",
                    {"HOME": "/root", "CRI_CONFIG_FILE": "/run/fake/c.yaml"})
    assert not asked(log, "crictl") and "crictl.yaml points at tcp://…" in unknown(out)


def test_docker_s_own_containerd_is_not_a_cri_runtime_off_kubernetes(tmp_path: Path) -> None:
    out, log = host(tmp_path, "mkdir -p /run/containerd; sock /run/containerd/containerd.sock", {"HOME": "/root"})
    assert not asked(log, "crictl")
    with pytest.raises(NotApplicable):
        containers.parse(out, CollectConfig())
    out, _ = host(tmp_path / "node", "mkdir -p /run/containerd /var/lib/kubelet/pods; "
                  "sock /run/containerd/containerd.sock", {"HOME": "/root"})
    assert services(out) == ["cri-app"]
