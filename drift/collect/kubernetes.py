"""Snapshots of one cluster's workloads from `kubectl get pods,deployments,daemonsets,statefulsets -A -o json`
(`drift ingest --format kubernetes`).

One snapshot per workload, its host and role both `namespace/Kind/name`, so `drift compare
cluster-a/ cluster-b/` lines workloads up by name. Pods join the workload that owns them (a
Deployment through its ReplicaSet); a pod without an owner is a workload of its own. Facts are the
containers collector's, keyed by container name: `containers/web/image` (the pods' image digest,
`null` where no pod of the workload is in the file), `command`, `ports`, `mounts`, `env/NAME` (a
value through the config-content secret rules; `from secret db key password` for a reference),
and `system/workload/replicas` and `system/workload/kind`. Lists that Kubernetes keys by name
(containers, env, volume mounts) become facts keyed by that name, so they match by name, never by
position. Pod names, uids, nodes, addresses and container ids are identity.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from collectors.content import secrets
from collectors.content.secrets import Redactor
from collectors.interface import Facts, Json
from collectors.runtime_json import image_ref, segment
from drift import __version__
from drift.core import jsonio
from drift.core.errors import InputError
from drift.model.snapshot import CollectorResult, Snapshot

WORKLOADS = ("Deployment", "DaemonSet", "StatefulSet")
_RANDOM = re.compile(r"^(kube-api-access|default-token)-[a-z0-9]{5}$")  # a per-pod volume name


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def items(data: bytes, source: str) -> list[dict[str, Any]]:
    try:
        doc = jsonio.loads(data.decode("utf-8"))
    except (jsonio.JsonInputError, UnicodeDecodeError) as exc:
        line = getattr(exc, "line", None)
        raise InputError(f"not kubectl JSON: {getattr(exc, 'message', exc)}", source, line) from None
    if (isinstance(doc, dict) and doc.get("kind") == "List") or (isinstance(doc, dict) and "items" in doc):
        found = [i for i in _list(doc.get("items")) if isinstance(i, dict)]
    elif isinstance(doc, dict) and "kind" in doc:
        found = [doc]
    else:
        raise InputError("not kubectl JSON: expected a List with items (kubectl get ... -o json)", source)
    if not found:
        raise InputError("the kubectl List holds no items", source)
    return found


def _owner(pod: dict[str, Any]) -> tuple[str, str]:
    """(Kind, name) of the workload a pod belongs to."""
    meta = _obj(pod.get("metadata"))
    for ref in _list(meta.get("ownerReferences")):
        ref = _obj(ref)
        kind, name = _text(ref.get("kind")), _text(ref.get("name"))
        if kind == "ReplicaSet":
            suffix = _text(_obj(meta.get("labels")).get("pod-template-hash"))
            if suffix and name.endswith("-" + suffix):
                return "Deployment", name[: -len(suffix) - 1]
            return "ReplicaSet", name
        if kind and name:
            return kind, name
    return "Pod", _text(meta.get("name"))


def _env(container: dict[str, Any], redactor: Redactor | None) -> Iterable[tuple[str, Json]]:
    for e in _list(container.get("env")):
        e = _obj(e)
        name = _text(e.get("name"))
        if not name:
            continue
        if "valueFrom" in e:
            src = _obj(e.get("valueFrom"))
            for kind, label in (("secretKeyRef", "secret"), ("configMapKeyRef", "configMap")):
                if kind in src:
                    ref = _obj(src[kind])
                    yield name, f"from {label} {_text(ref.get('name'))} key {_text(ref.get('key'))}"
                    break
            else:
                path = _obj(src.get("fieldRef")).get("fieldPath") or _obj(src.get("resourceFieldRef")).get("resource")
                yield name, f"from field {_text(path)}"
            continue
        value = _text(e.get("value"))
        yield name, redactor.value(name, value) if redactor else "(value not recorded)"


def _mount(m: dict[str, Any]) -> str:
    name = _RANDOM.sub(lambda x: x.group(1), _text(m.get("name")))
    return f"{name} -> {_text(m.get('mountPath'))} {'ro' if m.get('readOnly') else 'rw'}"


def _container_facts(c: dict[str, Any], redactor: Redactor | None) -> Facts:
    command: list[Json] = [*secrets.argv([_text(x) for x in _list(c.get("command")) + _list(c.get("args"))],
                                         redactor)]
    ports: list[Json] = [*sorted(f"{_text(_obj(p).get('containerPort'))}/{_text(_obj(p).get('protocol') or 'TCP')}"
                                for p in _list(c.get("ports")))]
    mounts: list[Json] = [*sorted(_mount(_obj(m)) for m in _list(c.get("volumeMounts")))]
    facts: Facts = {"command": command, "ports": ports, "mounts": mounts}
    facts.update({f"env/{name}": value for name, value in _env(c, redactor)})
    return facts


def _spec(item: dict[str, Any]) -> dict[str, Any]:
    """A workload's pod spec (a Pod's own spec)."""
    spec = _obj(item.get("spec"))
    return _obj(_obj(spec.get("template")).get("spec")) if item.get("kind") in WORKLOADS else spec


def snapshots(data: bytes, env: str, source: str, collected_at: str, secret_key: bytes = b"") -> list[Snapshot]:
    redactor = Redactor(secret_key) if len(secret_key) >= 16 else None
    workloads: dict[str, dict[str, Any]] = {}
    pods: dict[str, list[dict[str, Any]]] = {}
    for item in items(data, source):
        meta = _obj(item.get("metadata"))
        ns, kind = _text(meta.get("namespace")) or "default", _text(item.get("kind"))
        if kind in WORKLOADS:
            workloads.setdefault(f"{ns}/{kind}/{_text(meta.get('name'))}", item)
        elif kind == "Pod":
            owner_kind, owner = _owner(item)
            key = f"{ns}/{owner_kind}/{owner}"
            pods.setdefault(key, []).append(item)
    for key, owned in pods.items():
        workloads.setdefault(key, owned[0])  # owned by something not in the file: the pods speak for it
    out = []
    for key, item in sorted(workloads.items()):
        facts: Facts = {}
        identity: list[str] = []
        for c in _list(_spec(item).get("containers")):
            c = _obj(c)
            name = segment(_text(c.get("name")))
            base = f"containers/{name}/"
            digests: set[str] = set()
            instances: list[dict[str, str]] = []
            for pod in pods.get(key, []):
                meta, status = _obj(pod.get("metadata")), _obj(pod.get("status"))
                for cs in _list(status.get("containerStatuses")):
                    cs = _obj(cs)
                    if cs.get("name") == c.get("name"):
                        image_id = _text(cs.get("imageID"))
                        if "@" in image_id or image_id.startswith("sha256:"):
                            digests.add(image_id.rsplit("@", 1)[-1])
                        node = _text(_obj(pod.get("spec")).get("nodeName"))
                        instances.append({"pod": _text(meta.get("name")), "node": node,
                                          "id": _text(cs.get("containerID"))})
            ordered: list[Json] = [*sorted(digests)]
            digest: Json = ordered[0] if len(ordered) == 1 else ordered or None
            facts[base + "image"] = {"ref": image_ref(_text(c.get("image"))), "digest": digest}
            facts.update({base + k: v for k, v in _container_facts(c, redactor).items()})
            if instances:
                facts[base + "instances"] = [dict(i) for i in sorted(instances, key=lambda i: (i["pod"], i["id"]))]
                identity.append(base + "instances")
        kind = key.split("/")[1]
        spec = _obj(item.get("spec"))
        replicas = spec.get("replicas") if kind in ("Deployment", "StatefulSet") else \
            _obj(item.get("status")).get("desiredNumberScheduled") if kind == "DaemonSet" else len(pods.get(key, []))
        workload: Facts = {"system/workload/kind": kind,
                           "system/workload/replicas": replicas if isinstance(replicas, int) else None}
        out.append(Snapshot(
            key, env, key, key, collected_at, __version__, collectors={
                "kubernetes": CollectorResult("kubernetes", "containers", "ok", None, facts, tuple(sorted(identity))),
                "kubernetes-workload": CollectorResult("kubernetes-workload", "system", "ok", None, workload)}))
    return out
