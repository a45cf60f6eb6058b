"""Running containers of docker, podman and CRI (crictl): what each service runs, by service.

Facts are keyed by the service a container belongs to (its compose service label, its Kubernetes
container name, else its image's repository), so two hosts' containers line up however they are
named: `containers/web/image` = {"ref": "acme-app:2.4.1", "digest": "sha256:..."},
`containers/web/command`, `containers/web/ports`, `containers/web/mounts`, `containers/web/replicas`,
`containers/web/runtime` and `containers/web/env/NAME` (the value through the config-content secret
rules). Container ids, names, hostnames, pids and creation times are identity:
`containers/web/instances`. Packages inside are the `container-packages` collector's
(collectors.container_packages), read through /proc/PID/root, never by exec'ing into a container.

A runtime is asked only where its state exists (podman's storage, docker's or containerd's socket),
so listing never initialises a runtime on a host that has none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from collectors.content import secrets
from collectors.content.secrets import Redactor
from collectors.interface import CollectConfig, Collector, Facts, Json, NotApplicable, Parsed
from collectors.parsing import load_json
from drift.core.errors import CollectError
from drift.core.sanitize import quote

NONE = "@@no-container-runtime"
ROOT_ONLY = "@@podman-state-of-root"
RUNTIME = "@@runtime "
ITEM = "@@item"

# Root's podman keeps its state under /var/lib/containers, anyone else's under their home: asking
# podman as a user whose state does not exist would create it. Root's state, seen by another user,
# is containers that user cannot list: said, so that it is unknown rather than none. Root's storage
# directory is world-searchable while libpod inside it is not; /var/lib/containers alone (an empty
# mount point, a package's directory) holds no state.
_PODMAN_STATE = ('{ if [ "$(id -u)" = 0 ]; then [ -d /var/lib/containers/storage/libpod ]; '
                 'elif [ -d "${HOME:-/nonexistent}/.local/share/containers/storage/libpod" ]; then true; '
                 f'else [ -d /var/lib/containers/storage ] && echo {ROOT_ONLY}; false; fi; }}')
_DOCKER_STATE = '{ [ -S /var/run/docker.sock ] || [ -n "${DOCKER_HOST:-}" ]; }'
_CRI_STATE = ("{ [ -S /run/containerd/containerd.sock ] || [ -S /var/run/crio/crio.sock ] || "
              "[ -e /etc/crictl.yaml ]; }")


def listing(per_container: Callable[[str], str] = lambda tool: "") -> str:
    """The running containers of every runtime present, as `@@runtime NAME` then its inspect JSON.

    `per_container(tool)`, run after a runtime's JSON with `$__ids` set, adds output per container
    (container_packages reads their roots). Ids come from the runtime (hex), so `$__ids` is split
    unquoted on purpose.
    """
    def engine(tool: str, state: str, inspect: str) -> str:
        return (f"if command -v {tool} >/dev/null 2>&1 && {state}; then __none=; "
                f"__ids=$({tool} ps -q --no-trunc) || exit $?; printf '{RUNTIME}%s\\n' {tool}; "
                f'if [ -n "$__ids" ]; then {inspect} || exit $?; {per_container(tool)} fi; fi')

    cri = f'for __i in $__ids; do echo {ITEM}; crictl inspect -o json "$__i" || exit $?; done'
    return "\n".join([
        "__none=1",
        engine("podman", _PODMAN_STATE, "podman container inspect $__ids"),
        engine("docker", _DOCKER_STATE, "docker container inspect $__ids"),
        engine("crictl", _CRI_STATE, cri),
        f'if [ -n "$__none" ]; then echo {NONE}; fi',
    ])


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


def sections(output: str) -> Iterator[tuple[str, str]]:
    """(runtime, its JSON text) per `@@runtime` block; NotApplicable where no runtime has state."""
    if output.strip() == NONE:
        raise NotApplicable("no container runtime state on this host (podman, docker, crictl)")
    if ROOT_ONLY in output.split("\n", 1)[0]:
        raise CollectError("podman holds root's containers here, which this user cannot list: connect as root")
    runtime: str | None = None
    body: list[str] = []
    for number, line in enumerate(output.split("\n"), 1):
        line = line.removesuffix("\r")
        if line.startswith(RUNTIME):
            if runtime is not None:
                yield runtime, "\n".join(body)
            runtime, body = line[len(RUNTIME):].strip(), []
            if runtime not in ("podman", "docker", "crictl"):
                raise CollectError(f"line {number}: unknown runtime {runtime[:40]!r}")
        elif runtime is None and line.strip():
            raise CollectError(f"line {number}: output before any runtime: {line[:60]!r}")
        else:
            body.append(line)
    if runtime is None:
        raise CollectError("no runtime in the output (cut short?)")
    yield runtime, "\n".join(body)


def containers(runtime: str, text: str) -> list[Container]:
    """Every container a runtime's inspect JSON describes (`@@item`-separated objects for crictl)."""
    if not text.strip():
        return []
    if runtime == "crictl":
        from collectors import cri  # it builds on this module's helpers

        return [cri.container(load_json(part, "crictl inspect")) for part in text.split(ITEM + "\n") if part.strip()]
    data = load_json(text, f"{runtime} inspect")
    if not isinstance(data, list):
        raise CollectError(f"{runtime} inspect: expected a JSON list of containers")
    return [_engine(runtime, item) for item in data]


def _obj(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CollectError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def _strs(value: Any, what: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise CollectError(f"{what}: expected a list of strings")
    return list(value)


def _str(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise CollectError(f"{what}: expected a string")
    return str(value)


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


def _service(labels: dict[str, Any], image: str) -> str:
    for key in ("com.docker.compose.service", "io.kubernetes.container.name"):
        value = labels.get(key)
        if isinstance(value, str) and value.strip():
            return segment(value)
    repo = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    return segment(repo or "unnamed")


def segment(text: str) -> str:
    """A service name as one fact-path segment."""
    return re.sub(r"[/\s]+", "_", text.strip())[:120] or "unnamed"


def _digest(value: str) -> str:
    value = value.rsplit("@", 1)[-1]
    return value if value.startswith("sha256:") or not re.fullmatch(r"[0-9a-f]{64}", value) else "sha256:" + value


_ANONYMOUS = re.compile(r"[0-9a-f]{64}")  # an anonymous volume's name
_ANY = ("", "0.0.0.0", "::")  # noqa: S104 (read from the runtime, never bound)


def _engine(runtime: str, item: Any) -> Container:
    c = _obj(item, f"{runtime} inspect")
    cid = _str(c.get("Id"), "Id")
    if not cid:
        raise CollectError(f"{runtime} inspect: a container without an Id")
    config = _obj(c.get("Config"), "Config")
    labels = _obj(config.get("Labels"), "Config.Labels")
    ref = image_ref(_str(c.get("ImageName") or config.get("Image"), "Config.Image"))
    project = labels.get("com.docker.compose.project")
    ports = []
    for spec, binds in sorted(_obj(_obj(c.get("NetworkSettings"), "NetworkSettings").get("Ports"), "Ports").items()):
        for b in binds or []:
            b = _obj(b, "Ports")
            host_ip = _str(b.get("HostIp"), "HostIp")
            # Every address is no address to compare; loopback is a choice; any other is the host's own.
            where = "" if host_ip in _ANY else f"{host_ip}:" if host_ip in ("127.0.0.1", "::1") else "host-address:"
            ports.append(f"{where}{_str(b.get('HostPort'), 'HostPort')}->{spec}")
    mounts = []
    for m in c.get("Mounts") or []:
        m = _obj(m, "Mounts")
        kind = _str(m.get("Type"), "Mounts.Type") or "bind"
        source = _str(m.get("Name") if kind == "volume" else m.get("Source"), "Mounts.Source")
        if kind == "volume" and _ANONYMOUS.fullmatch(source):
            source = "(anonymous)"
        elif kind == "volume" and isinstance(project, str) and source.startswith(project + "_"):
            source = source[len(project) + 1:]  # compose names volumes PROJECT_NAME; the project is per env
        rw = "rw" if m.get("RW", True) else "ro"
        mounts.append(f"{kind} {source} -> {_str(m.get('Destination'), 'Mounts.Destination')} {rw}")
    state = _obj(c.get("State"), "State")
    return Container(
        runtime, cid, _str(c.get("Name"), "Name").lstrip("/"), _service(labels, ref), ref,
        _digest(_str(c.get("Image"), "Image")), _str(c.get("Created"), "Created"),
        _str(config.get("Hostname"), "Config.Hostname"), _pid(state.get("Pid")),
        tuple(_strs(c.get("Path"), "Path") + _strs(c.get("Args"), "Args")), tuple(sorted(set(ports))),
        tuple(sorted(mounts)), _env(_strs(config.get("Env"), "Config.Env")))


def _pid(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CollectError(f"State.Pid: expected a process id, got {quote(value)[:40]}")
    return value


def _env(pairs: list[str]) -> tuple[tuple[str, str], ...]:
    out = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        out[name] = value
    return tuple(sorted(out.items()))


def _one(values: list[Json]) -> Json:
    """One service's field over its replicas: the value they share, or {"varies": each distinct value}."""
    distinct: dict[str, Json] = {repr(v): v for v in values}
    return next(iter(distinct.values())) if len(distinct) == 1 else {"varies": [distinct[k] for k in sorted(distinct)]}


def parse(output: str, cfg: CollectConfig) -> Parsed:
    from collectors import cri
    by_service: dict[str, list[Container]] = {}
    for c in (c for runtime, text in sections(output) for c in containers(runtime, text)):
        by_service.setdefault(c.service, []).append(c)
    redactor = Redactor(cfg.secret_key, cfg.secret_keys) if len(cfg.secret_key) >= 16 else None
    facts: Facts = {}
    identity = set()
    for service, group in sorted(by_service.items()):
        base = f"containers/{service}/"
        group.sort(key=lambda c: (c.name, c.id))
        facts[base + "image"] = _one([{"ref": c.image, "digest": c.digest} for c in group])
        facts[base + "runtime"] = _one([c.runtime for c in group])
        facts[base + "replicas"] = len(group)
        facts[base + "command"] = _one([list[Json](secrets.argv(c.command, redactor, cfg.secret_keys))
                                        for c in group])
        if all(c.ports is not None for c in group):
            facts[base + "ports"] = _one([list(c.ports or ()) for c in group])
        facts[base + "mounts"] = _one([list(c.mounts) for c in group])
        names = sorted({name for c in group for name, _ in c.env})
        for name in names:
            values: list[Json] = []
            for c in group:
                value = dict(c.env).get(name)
                values.append(None if value is None else _hidden(redactor, name, value))
            facts[base + "env/" + name] = _one(values)
        facts[base + "instances"] = [{"name": c.name, "id": c.id, "hostname": c.hostname, "created": c.created,
                                      "pid": c.pid} for c in group]
        identity |= {base + "instances", base + "env/HOSTNAME"}
        identity |= {base + "env/" + n for c in group if c.runtime == "crictl"
                     for n, v in c.env if cri.service_link(n, v)}
    return Parsed(facts, frozenset(p for p in identity if p in facts))


def _hidden(redactor: Redactor | None, name: str, value: str) -> Json:
    if redactor is None:  # no installation key to hash secrets with: the name is all that is kept
        return "(value not recorded)"
    return redactor.value(name, value)


COLLECTORS: tuple[Collector, ...] = (
    # Not `privileged`: sudoers can only allow a plain command, and this is a script. The SSH user
    # sees the containers its runtime shows it (root's, the docker group's, its own rootless ones).
    Collector("containers", "containers", lambda cfg: listing(), parse, requires=("podman", "docker", "crictl"),
              description="running containers (podman, docker, crictl inspect) by service: image and digest, "
                          "command, ports, mounts, env (secrets masked); ids and names are identity"),
)
