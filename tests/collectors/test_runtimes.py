"""The containers collector's framing and JSON reading: a runtime that could not be asked fails the
collector with the reason; a field of the wrong type is a CollectError naming it, never a TypeError."""

from __future__ import annotations

import json
import re

import pytest

from collectors import containers, runtimes
from collectors.interface import CollectConfig, NotApplicable
from drift.core.errors import CollectError

ID = "a" * 64


def inspect(**fields: object) -> str:
    item = {"Id": ID, "Name": "/web-1", "Image": "sha256:" + "b" * 64, "State": {"Pid": 42},
            "Config": {"Image": "acme-app:2.4.1"}, **fields}
    return "@@runtime docker\n" + json.dumps([item]) + "\n"


@pytest.mark.parametrize("fields,words", [
    ({"Mounts": 5}, "Mounts: expected a list, got a number"),
    ({"Mounts": {"Type": "bind"}}, "Mounts: expected a list, got an object"),
    ({"Mounts": [5]}, "Mounts: expected an object, got a number"),
    ({"NetworkSettings": {"Ports": {"80/tcp": 5}}}, "Ports.80/tcp: expected a list, got a number"),
    ({"NetworkSettings": {"Ports": {"80/tcp": [{"HostPort": ["8080"]}]}}}, "HostPort: expected a string, got a list"),
    ({"Config": {"Image": "x", "Env": "A=1"}}, None),  # one string stands for a list of one, as docker's Path
    ({"Config": {"Image": "x", "Env": [1]}}, "Config.Env: expected a list of strings"),
    ({"Config": {"Labels": []}}, "Config.Labels: expected an object, got a list"),
    ({"State": {"Pid": "42"}}, "State.Pid: expected a process id, got '42'"),
])
def test_a_wrong_type_is_a_clean_error_naming_the_field(fields: dict[str, object], words: str | None) -> None:
    if words is None:
        containers.parse(inspect(**fields), CollectConfig())
        return
    with pytest.raises(CollectError, match="^" + re.escape(words)):
        containers.parse(inspect(**fields), CollectConfig())


def test_crictl_envs_and_mounts_of_the_wrong_type_are_named() -> None:
    doc = {"status": {"id": ID, "mounts": "x"}, "info": {"pid": 1}}
    with pytest.raises(CollectError, match=r"^status\.mounts: expected a list, got a string"):
        containers.parse("@@runtime crictl\n@@item\n" + json.dumps(doc), CollectConfig())


def test_every_runtime_that_could_not_be_asked_is_named_and_no_runtime_is_only_none() -> None:
    out = ("@@unknown podman-root\n@@runtime docker\n[]\n@@unknown docker-socket /run/user/1000/docker.sock\n"
           "@@unknown podman-root\n")
    with pytest.raises(CollectError) as caught:
        runtimes.sections(out)
    assert str(caught.value) == (
        "containers unknown: podman holds root's containers here, which this user cannot list: connect as root; "
        "the socket '/run/user/1000/docker.sock' is not this user's to use (another user's rootless daemon?)")
    with pytest.raises(NotApplicable):
        runtimes.sections(runtimes.NONE + "\n")
    with pytest.raises(CollectError, match="unknown"):
        runtimes.sections("@@unknown crictl-remote crictl.yaml tcp\n" + runtimes.NONE + "\n")


def test_host_text_in_a_reason_is_checked_or_quoted() -> None:
    def reason(line: str) -> str:
        with pytest.raises(CollectError) as caught:
            runtimes.sections(line)
        return str(caught.value)

    assert "user svc-app has rootless podman" in reason("@@unknown podman-user svc-app")
    assert "\x1b" not in reason("@@unknown podman-user a\x1b[2Jb")
    assert "points at a non-local address" in reason("@@unknown docker-remote DOCKER_HOST 10.0.0.1:2375")
    assert "DOCKER_HOST points at tcp://…" in reason("@@unknown docker-remote DOCKER_HOST tcp")
    many = "".join(f"@@unknown docker-socket /run/user/{uid}/docker.sock\n" for uid in range(1000, 1010))
    message = reason(many)
    assert message.endswith("; and 7 more") and len(message) < 1000
    assert "an unknown runtime state" in reason("@@unknown sparkle\n")


def test_framing_errors() -> None:
    with pytest.raises(CollectError, match="line 1: output before any runtime"):
        runtimes.sections("[]\n@@runtime docker\n")
    with pytest.raises(CollectError, match="line 2: unknown runtime 'lxc'"):
        runtimes.sections("@@runtime docker\n@@runtime lxc\n")
    with pytest.raises(CollectError, match="no runtime in the output"):
        runtimes.sections("")
    assert runtimes.sections("@@runtime docker\n[]\n@@runtime docker\n") == [("docker", "[]"), ("docker", "")]
