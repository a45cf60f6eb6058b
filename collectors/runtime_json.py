"""A container runtime's JSON, read the same way for docker, podman, CRI and kubectl's workloads.

Typed access that fails with a CollectError naming the field (never a TypeError from deep in a
parser), and the naming every source shares: one spelling per image reference, one fact-path
segment per service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from drift.core.errors import CollectError
from drift.core.sanitize import quote


@dataclass(frozen=True)
class Container:
    runtime: str
    id: str
    name: str
    service: str
    image: str  # the reference, normalised: `nginx:1.25`, never `docker.io/library/nginx:1.25`
    digest: str
    created: str
    hostname: str
    pid: int
    command: tuple[str, ...]
    ports: tuple[str, ...] | None  # None: the runtime does not say (CRI keeps ports on the pod)
    mounts: tuple[str, ...]
    env: tuple[tuple[str, str], ...]


def json_kind(value: Any) -> str:
    """How a JSON value's type reads in a message: `got a number`, never `got int`."""
    for types, word in ((bool, "true/false"), ((int, float), "a number"), (str, "a string"), (list, "a list"),
                        (dict, "an object")):
        if isinstance(value, types):
            return word
    return "null" if value is None else type(value).__name__


def obj(value: Any, what: str) -> dict[str, Any]:
    """An object, or {} where the field is null or absent."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CollectError(f"{what}: expected an object, got {json_kind(value)}")
    return value


def seq(value: Any, what: str) -> list[Any]:
    """A list, or [] where the field is null or absent."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise CollectError(f"{what}: expected a list, got {json_kind(value)}")
    return value


def strs(value: Any, what: str) -> list[str]:
    """A list of strings; one string stands for a list of one (docker's `Path`)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise CollectError(f"{what}: expected a list of strings")
    return list(value)


def text(value: Any, what: str) -> str:
    """A string (a number reads as its digits), or "" where the field is null or absent."""
    if value is None:
        return ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise CollectError(f"{what}: expected a string, got {json_kind(value)}")
    return str(value)


def pid(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CollectError(f"State.Pid: expected a process id, got {quote(value)[:40]}")
    return value


def env(pairs: list[str]) -> tuple[tuple[str, str], ...]:
    """NAME=value pairs, by name; a later pair wins, as in the process."""
    out = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        out[name] = value
    return tuple(sorted(out.items()))


def digest(value: str) -> str:
    value = value.rsplit("@", 1)[-1]
    return value if value.startswith("sha256:") or not re.fullmatch(r"[0-9a-f]{64}", value) else "sha256:" + value


def image_ref(ref: str) -> str:
    """One spelling per image: docker says `nginx`, podman `docker.io/library/nginx:latest`."""
    for prefix in ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/", "localhost/"):
        if ref.startswith(prefix):
            ref = ref[len(prefix):]
            break
    name = ref.split("@", 1)[0]
    if "@" not in ref and ":" not in name.rsplit("/", 1)[-1]:
        ref += ":latest"
    return ref


def service(labels: dict[str, Any], image: str) -> str:
    """The service a container belongs to: compose's label, Kubernetes' container name, else the image."""
    for key in ("com.docker.compose.service", "io.kubernetes.container.name"):
        value = labels.get(key)
        if isinstance(value, str) and value.strip():
            return segment(value)
    repo = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    return segment(repo or "unnamed")


def segment(name: str) -> str:
    """A service name as one fact-path segment."""
    return re.sub(r"[/\s]+", "_", name.strip())[:120] or "unnamed"
