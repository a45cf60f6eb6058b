"""CRI containers (containerd, CRI-O) as `crictl inspect -o json` describes them, for collectors.containers.

The kubelet names its own mount sources and service-link variables after the pod and the cluster's
service addresses: those are compared by the container's path, and recorded as identity.
"""

from __future__ import annotations

import re
from typing import Any

from collectors.runtime_json import Container, digest, env, image_ref, obj, pid, seq, service, strs, text
from drift.core.errors import CollectError

_KUBELET = ("/var/lib/kubelet/pods/", "/var/lib/containerd/", "/run/containerd/", "/var/run/containerd/")
# The kubelet's service links carry the cluster's service addresses: NAME_SERVICE_HOST=10.96.0.1.
_SERVICE_LINK = re.compile(r"_SERVICE_HOST$|_PORT_\d+_(TCP|UDP|SCTP)(_ADDR)?$|_PORT$")
_ADDRESS = re.compile(r"((tcp|udp|sctp)://)?(\d{1,3}(\.\d{1,3}){3}|\[?[0-9a-fA-F]*:[0-9a-fA-F:]*\]?)(:\d+)?")


def service_link(name: str, value: str) -> bool:
    """A kubelet service-link variable holding a cluster address (`KUBERNETES_SERVICE_HOST=10.96.0.1`)."""
    return bool(_SERVICE_LINK.search(name) and _ADDRESS.fullmatch(value))


def container(item: Any) -> Container:
    doc = obj(item, "crictl inspect")
    status, info = obj(doc.get("status"), "status"), obj(doc.get("info"), "info")
    config = obj(info.get("config"), "info.config")
    labels = obj(status.get("labels"), "status.labels")
    cid = text(status.get("id"), "status.id")
    if not cid:
        raise CollectError("crictl inspect: a container without an id")
    ref = image_ref(text(obj(status.get("image"), "status.image").get("image"), "status.image"))
    envs = []
    for e in seq(config.get("envs"), "config.envs"):
        e = obj(e, "envs")
        envs.append(f"{text(e.get('key'), 'envs.key')}={text(e.get('value'), 'envs.value')}")
    mounts = []
    for m in seq(status.get("mounts"), "status.mounts"):
        m = obj(m, "mounts")
        rw = "ro" if m.get("readonly") else "rw"
        source, target = text(m.get("hostPath"), "hostPath"), text(m.get("containerPath"), "containerPath")
        # The kubelet's and containerd's own paths name the pod or sandbox id: identity, not a choice.
        mounts.append(f"{target} {rw}" if source.startswith(_KUBELET) else f"bind {source} -> {target} {rw}")
    spec = obj(obj(info.get("runtimeSpec"), "runtimeSpec").get("process"), "runtimeSpec.process")
    command = strs(spec.get("args"), "process.args") or \
        strs(config.get("command"), "config.command") + strs(config.get("args"), "config.args")
    name = text(obj(status.get("metadata"), "status.metadata").get("name"), "metadata.name")
    return Container(
        "crictl", cid, text(labels.get("io.kubernetes.pod.name"), "pod name") + "/" + name,
        service(labels, ref), ref, digest(text(status.get("imageRef"), "imageRef")),
        text(status.get("createdAt"), "createdAt"), "", pid(info.get("pid", 0)), tuple(command), None,
        tuple(sorted(mounts)), env(envs))
