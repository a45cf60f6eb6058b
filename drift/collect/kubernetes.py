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
from dataclasses import dataclass
from typing import Any

from collectors.content import secrets
from collectors.content.secrets import Redactor
from collectors.interface import Facts, Json
from collectors.runtime_json import image_ref, json_kind, segment
from drift import __version__
from drift.core import jsonio, sanitize
from drift.core.errors import InputError
from drift.model.snapshot import CollectorResult, Snapshot

WORKLOADS = ("Deployment", "DaemonSet", "StatefulSet")
_RANDOM = re.compile(r"^(kube-api-access|default-token)-[a-z0-9]{5}$")  # a per-pod volume name


@dataclass(frozen=True)
class _Doc:
    """Typed reads of one kubectl object: a wrong type is an InputError naming the object and the field.

    Absent or null reads as empty (kubectl leaves out what is unset); anything else of the wrong type
    means the file is not what kubectl writes, and guessing would make a workload look different.
    """

    source: str
    label: str  # `Pod default/queue-l4dv8`, or `items[3]` before the object's name is known

    def wrong(self, field: str, expected: str, value: Any) -> InputError:
        return InputError(f"{self.label}: {field}: expected {expected}, got {json_kind(value)}", self.source)

    def obj(self, value: Any, field: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.wrong(field, "an object", value)
        return value

    def seq(self, value: Any, field: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.wrong(field, "a list", value)
        return value

    def objs(self, value: Any, field: str) -> list[dict[str, Any]]:
        return [self.obj(item, f"{field}[{i}]") for i, item in enumerate(self.seq(value, field))]

    def text(self, value: Any, field: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.wrong(field, "a string", value)
        return value

    def number(self, value: Any, field: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.wrong(field, "a whole number", value)
        return value

    def flag(self, value: Any, field: str) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.wrong(field, "true or false", value)
        return value


def items(data: bytes, source: str) -> list[tuple[_Doc, dict[str, Any]]]:
    """Every object in the file, each with its reader (which names it)."""
    try:
        doc = jsonio.loads(data.decode("utf-8"))
    except (jsonio.JsonInputError, UnicodeDecodeError) as exc:
        line = getattr(exc, "line", None)
        raise InputError(f"not kubectl JSON: {getattr(exc, 'message', exc)}", source, line) from None
    if isinstance(doc, dict) and (doc.get("kind") == "List" or "items" in doc):
        found = _Doc(source, "the List").objs(doc.get("items"), "items")
    elif isinstance(doc, dict) and "kind" in doc:
        found = [doc]
    else:
        raise InputError("not kubectl JSON: expected a List with items (kubectl get ... -o json)", source)
    if not found:
        raise InputError("the kubectl List holds no items", source)
    out = []
    for i, item in enumerate(found):
        first = _Doc(source, f"items[{i}]")
        meta = first.obj(item.get("metadata"), "metadata")
        kind, ns = first.text(item.get("kind"), "kind"), first.text(meta.get("namespace"), "metadata.namespace")
        name = first.text(meta.get("name"), "metadata.name")
        # Names from the file are data: one line, no terminal controls, bounded.
        label = sanitize.name(f"{kind or 'object'} {ns or 'default'}/{name}")[:200]
        out.append((_Doc(source, f"{label} (items[{i}])"), item))
    return out


def _owner(r: _Doc, pod: dict[str, Any]) -> tuple[str, str]:
    """(Kind, name) of the workload a pod belongs to."""
    meta = r.obj(pod.get("metadata"), "metadata")
    for i, ref in enumerate(r.objs(meta.get("ownerReferences"), "metadata.ownerReferences")):
        field = f"metadata.ownerReferences[{i}]"
        kind, name = r.text(ref.get("kind"), field + ".kind"), r.text(ref.get("name"), field + ".name")
        if kind == "ReplicaSet":
            labels = r.obj(meta.get("labels"), "metadata.labels")
            suffix = r.text(labels.get("pod-template-hash"), "metadata.labels.pod-template-hash")
            if suffix and name.endswith("-" + suffix):
                return "Deployment", name[: -len(suffix) - 1]
            return "ReplicaSet", name
        if kind and name:
            return kind, name
    return "Pod", r.text(meta.get("name"), "metadata.name")


def _env(r: _Doc, c: dict[str, Any], at: str, redactor: Redactor | None) -> Iterable[tuple[str, Json]]:
    for i, e in enumerate(r.objs(c.get("env"), at + ".env")):
        field = f"{at}.env[{i}]"
        name = r.text(e.get("name"), field + ".name")
        if not name:
            continue
        if "valueFrom" in e:
            src = r.obj(e.get("valueFrom"), field + ".valueFrom")
            for kind, label in (("secretKeyRef", "secret"), ("configMapKeyRef", "configMap")):
                if kind in src:
                    ref, where = r.obj(src[kind], f"{field}.valueFrom.{kind}"), f"{field}.valueFrom.{kind}"
                    yield name, f"from {label} {r.text(ref.get('name'), where + '.name')} key " \
                                f"{r.text(ref.get('key'), where + '.key')}"
                    break
            else:
                path = r.text(r.obj(src.get("fieldRef"), field + ".valueFrom.fieldRef").get("fieldPath"),
                              field + ".valueFrom.fieldRef.fieldPath") or \
                    r.text(r.obj(src.get("resourceFieldRef"), field + ".valueFrom.resourceFieldRef").get("resource"),
                           field + ".valueFrom.resourceFieldRef.resource")
                yield name, f"from field {path}"
            continue
        value = r.text(e.get("value"), field + ".value")
        yield name, redactor.value(name, value) if redactor else "(value not recorded)"


def _container_facts(r: _Doc, c: dict[str, Any], at: str, redactor: Redactor | None) -> Facts:
    argv = [r.text(x, f"{at}.{key}[{i}]") for key in ("command", "args")
            for i, x in enumerate(r.seq(c.get(key), f"{at}.{key}"))]
    command: list[Json] = [*secrets.argv(argv, redactor)]
    ports: list[Json] = [*sorted(
        f"{_blank(r.number(p.get('containerPort'), f'{at}.ports[{i}].containerPort'))}/"
        f"{r.text(p.get('protocol'), f'{at}.ports[{i}].protocol') or 'TCP'}"
        for i, p in enumerate(r.objs(c.get("ports"), at + ".ports")))]
    mounts: list[str] = []
    for i, m in enumerate(r.objs(c.get("volumeMounts"), at + ".volumeMounts")):
        field = f"{at}.volumeMounts[{i}]"
        name = _RANDOM.sub(lambda x: x.group(1), r.text(m.get("name"), field + ".name"))
        rw = "ro" if r.flag(m.get("readOnly"), field + ".readOnly") else "rw"
        mounts.append(f"{name} -> {r.text(m.get('mountPath'), field + '.mountPath')} {rw}")
    facts: Facts = {"command": command, "ports": ports, "mounts": [*sorted(mounts)]}
    facts.update({f"env/{name}": value for name, value in _env(r, c, at, redactor)})
    return facts


def _blank(number: int | None) -> str:
    return "" if number is None else str(number)


def _spec(r: _Doc, item: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A workload's pod spec (a Pod's own spec), and where it is."""
    spec = r.obj(item.get("spec"), "spec")
    if item.get("kind") in WORKLOADS:
        return r.obj(r.obj(spec.get("template"), "spec.template").get("spec"), "spec.template.spec"), \
            "spec.template.spec"
    return spec, "spec"


def snapshots(data: bytes, env: str, source: str, collected_at: str, secret_key: bytes = b"") -> list[Snapshot]:
    redactor = Redactor(secret_key) if len(secret_key) >= 16 else None
    workloads: dict[str, tuple[_Doc, dict[str, Any]]] = {}
    pods: dict[str, list[tuple[_Doc, dict[str, Any]]]] = {}
    for r, item in items(data, source):
        meta = r.obj(item.get("metadata"), "metadata")
        ns, kind = r.text(meta.get("namespace"), "metadata.namespace") or "default", r.text(item.get("kind"), "kind")
        if kind in WORKLOADS:
            workloads.setdefault(f"{ns}/{kind}/{r.text(meta.get('name'), 'metadata.name')}", (r, item))
        elif kind == "Pod":
            owner_kind, owner = _owner(r, item)
            pods.setdefault(f"{ns}/{owner_kind}/{owner}", []).append((r, item))
    for key, owned in pods.items():
        workloads.setdefault(key, owned[0])  # owned by something not in the file: the pods speak for it
    out = []
    for key, (r, item) in sorted(workloads.items()):
        facts, identity = _workload_containers(r, item, pods.get(key, []), redactor)
        kind = key.split("/")[1]
        replicas = r.number(r.obj(item.get("spec"), "spec").get("replicas"), "spec.replicas") \
            if kind in ("Deployment", "StatefulSet") else r.number(r.obj(item.get("status"), "status").get(
                "desiredNumberScheduled"), "status.desiredNumberScheduled") if kind == "DaemonSet" \
            else len(pods.get(key, []))
        workload: Facts = {"system/workload/kind": kind, "system/workload/replicas": replicas}
        out.append(Snapshot(
            key, env, key, key, collected_at, __version__, collectors={
                "kubernetes": CollectorResult("kubernetes", "containers", "ok", None, facts, tuple(sorted(identity))),
                "kubernetes-workload": CollectorResult("kubernetes-workload", "system", "ok", None, workload)}))
    return out


def _workload_containers(r: _Doc, item: dict[str, Any], pods: list[tuple[_Doc, dict[str, Any]]],
                         redactor: Redactor | None) -> tuple[Facts, list[str]]:
    """A workload's container facts, with its pods' digests and instances; the identity paths among them."""
    facts: Facts = {}
    identity: list[str] = []
    spec, at = _spec(r, item)
    for i, c in enumerate(r.objs(spec.get("containers"), at + ".containers")):
        field = f"{at}.containers[{i}]"
        own = r.text(c.get("name"), field + ".name")
        base = f"containers/{segment(own)}/"
        digests: set[str] = set()
        instances: list[dict[str, str]] = []
        for pr, pod in pods:
            meta, status = pr.obj(pod.get("metadata"), "metadata"), pr.obj(pod.get("status"), "status")
            for j, cs in enumerate(pr.objs(status.get("containerStatuses"), "status.containerStatuses")):
                where = f"status.containerStatuses[{j}]"
                if pr.text(cs.get("name"), where + ".name") != own:
                    continue
                image_id = pr.text(cs.get("imageID"), where + ".imageID")
                if "@" in image_id or image_id.startswith("sha256:"):
                    digests.add(image_id.rsplit("@", 1)[-1])
                node = pr.text(pr.obj(pod.get("spec"), "spec").get("nodeName"), "spec.nodeName")
                instances.append({"pod": pr.text(meta.get("name"), "metadata.name"), "node": node,
                                  "id": pr.text(cs.get("containerID"), where + ".containerID")})
        ordered: list[Json] = [*sorted(digests)]
        digest: Json = ordered[0] if len(ordered) == 1 else ordered or None
        facts[base + "image"] = {"ref": image_ref(r.text(c.get("image"), field + ".image")), "digest": digest}
        facts.update({base + k: v for k, v in _container_facts(r, c, field, redactor).items()})
        if instances:
            facts[base + "instances"] = [dict(x) for x in sorted(instances, key=lambda x: (x["pod"], x["id"]))]
            identity.append(base + "instances")
    return facts, identity
