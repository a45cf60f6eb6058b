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
from typing import Any

from collectors import cri
from collectors.content import secrets
from collectors.content.secrets import Redactor
from collectors.interface import CollectConfig, Collector, Facts, Json, Parsed
from collectors.parsing import load_json
from collectors.runtime_json import Container, digest, env, image_ref, obj, pid, seq, service, strs, text
from collectors.runtimes import ITEM, listing, sections
from drift.core.errors import CollectError


def containers(runtime: str, body: str) -> list[Container]:
    """Every container a runtime's inspect JSON describes (`@@item`-separated objects for crictl)."""
    if not body.strip():
        return []
    if runtime == "crictl":
        return [cri.container(load_json(part, "crictl inspect")) for part in body.split(ITEM + "\n") if part.strip()]
    data = load_json(body, f"{runtime} inspect")
    if not isinstance(data, list):
        raise CollectError(f"{runtime} inspect: expected a JSON list of containers")
    return [_engine(runtime, item) for item in data]


_ANONYMOUS = re.compile(r"[0-9a-f]{64}")  # an anonymous volume's name
_ANY = ("", "0.0.0.0", "::")  # noqa: S104 (read from the runtime, never bound)


def _engine(runtime: str, item: Any) -> Container:
    c = obj(item, f"{runtime} inspect")
    cid = text(c.get("Id"), "Id")
    if not cid:
        raise CollectError(f"{runtime} inspect: a container without an Id")
    config = obj(c.get("Config"), "Config")
    labels = obj(config.get("Labels"), "Config.Labels")
    ref = image_ref(text(c.get("ImageName") or config.get("Image"), "Config.Image"))
    project = labels.get("com.docker.compose.project")
    ports = []
    for spec, binds in sorted(obj(obj(c.get("NetworkSettings"), "NetworkSettings").get("Ports"), "Ports").items()):
        for b in seq(binds, f"Ports.{spec}"):
            b = obj(b, f"Ports.{spec}")
            host_ip = text(b.get("HostIp"), "HostIp")
            # Every address is no address to compare; loopback is a choice; any other is the host's own.
            where = "" if host_ip in _ANY else f"{host_ip}:" if host_ip in ("127.0.0.1", "::1") else "host-address:"
            ports.append(f"{where}{text(b.get('HostPort'), 'HostPort')}->{spec}")
    mounts = []
    for m in seq(c.get("Mounts"), "Mounts"):
        m = obj(m, "Mounts")
        kind = text(m.get("Type"), "Mounts.Type") or "bind"
        source = text(m.get("Name") if kind == "volume" else m.get("Source"), "Mounts.Source")
        if kind == "volume" and _ANONYMOUS.fullmatch(source):
            source = "(anonymous)"
        elif kind == "volume" and isinstance(project, str) and source.startswith(project + "_"):
            source = source[len(project) + 1:]  # compose names volumes PROJECT_NAME; the project is per env
        rw = "rw" if m.get("RW", True) else "ro"
        mounts.append(f"{kind} {source} -> {text(m.get('Destination'), 'Mounts.Destination')} {rw}")
    state = obj(c.get("State"), "State")
    return Container(
        runtime, cid, text(c.get("Name"), "Name").lstrip("/"), service(labels, ref), ref,
        digest(text(c.get("Image"), "Image")), text(c.get("Created"), "Created"),
        text(config.get("Hostname"), "Config.Hostname"), pid(state.get("Pid")),
        tuple(strs(c.get("Path"), "Path") + strs(c.get("Args"), "Args")), tuple(sorted(set(ports))),
        tuple(sorted(mounts)), env(strs(config.get("Env"), "Config.Env")))


def _one(values: list[Json]) -> Json:
    """One service's field over its replicas: the value they share, or {"varies": each distinct value}."""
    distinct: dict[str, Json] = {repr(v): v for v in values}
    return next(iter(distinct.values())) if len(distinct) == 1 else {"varies": [distinct[k] for k in sorted(distinct)]}


def parse(output: str, cfg: CollectConfig) -> Parsed:
    by_service: dict[str, list[Container]] = {}
    for c in (c for runtime, body in sections(output) for c in containers(runtime, body)):
        by_service.setdefault(c.service, []).append(c)
    redactor = Redactor(cfg.secret_key, cfg.secret_keys) if len(cfg.secret_key) >= 16 else None
    facts: Facts = {}
    identity = set()
    for svc, group in sorted(by_service.items()):
        base = f"containers/{svc}/"
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
    Collector("containers", "containers", lambda cfg: listing(), parse,
              description="running containers (podman, docker, crictl inspect) by service: image and digest, "
                          "command, ports, mounts, env (secrets masked); ids and names are identity"),
)
