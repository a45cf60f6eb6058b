"""kubectl's JSON of a cluster: a field of the wrong type is refused naming the object and the field,
never read as empty (a guessed-empty list would make a workload look different)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from drift.collect import kubernetes
from drift.core.errors import InputError

CLUSTER = json.loads((Path(__file__).parent / "fixtures" / "kubernetes" / "cluster-a.json").read_text())
AT = "2026-11-22T03:00:00Z"


def item(kind: str) -> tuple[int, dict[str, Any]]:
    return next((i, x) for i, x in enumerate(CLUSTER["items"]) if x["kind"] == kind)


def refused(doc: dict[str, Any]) -> str:
    with pytest.raises(InputError) as caught:
        kubernetes.snapshots(json.dumps(doc).encode(), "k8s", "pods.json", AT)
    return str(caught.value)


def test_the_fixture_reads() -> None:
    assert [s.host for s in kubernetes.snapshots(json.dumps(CLUSTER).encode(), "k8s", "pods.json", AT)] == [
        "default/Deployment/nginx-deployment", "default/ReplicaSet/queue"]


WORKLOAD = "spec.template.spec.containers[0]"
CASES = [  # (kind of the object changed, path to the field, wrong value, what the message says)
    ("Deployment", ["spec", "template", "spec", "containers"], {"name": "x"},
     "spec.template.spec.containers: expected a list, got an object"),
    ("Deployment", ["spec", "template", "spec", "containers", 0], "nginx",
     "spec.template.spec.containers[0]: expected an object, got a string"),
    ("Deployment", ["spec", "template", "spec", "containers", 0, "image"], ["nginx"],
     f"{WORKLOAD}.image: expected a string, got a list"),
    ("Deployment", ["spec", "template", "spec", "containers", 0, "ports"], [{"containerPort": "80"}],
     f"{WORKLOAD}.ports[0].containerPort: expected a whole number, got a string"),
    ("Deployment", ["spec", "template", "spec", "containers", 0, "env"], "A=1",
     f"{WORKLOAD}.env: expected a list, got a string"),
    ("Deployment", ["spec", "replicas"], "3", "spec.replicas: expected a whole number, got a string"),
    ("Deployment", ["metadata"], 5, "metadata: expected an object, got a number"),
    ("Pod", ["metadata", "ownerReferences"], {"kind": "ReplicaSet"},
     "metadata.ownerReferences: expected a list, got an object"),
    ("Pod", ["spec", "containers", 0, "volumeMounts", 0, "readOnly"], "true",
     "spec.containers[0].volumeMounts[0].readOnly: expected true or false, got a string"),
    ("Pod", ["status", "containerStatuses", 0, "imageID"], 7,
     "status.containerStatuses[0].imageID: expected a string, got a number"),
]


@pytest.mark.parametrize("kind,path,value,words", CASES, ids=[".".join(map(str, c[1])) for c in CASES])
def test_a_wrong_type_names_the_object_and_the_field(kind: str, path: list[Any], value: Any, words: str) -> None:
    doc = copy.deepcopy(CLUSTER)
    index, _ = item(kind)
    node = doc["items"][index]
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    message = refused(doc)
    name = CLUSTER["items"][index]["metadata"]["name"]
    # Before its metadata is read, an object is known by its place in the List.
    where = f"items[{index}]" if path == ["metadata"] else f"{kind} default/{name} (items[{index}])"
    assert message == f"pods.json: {where}: {words}"


def test_a_list_item_that_is_not_an_object_is_refused_not_skipped() -> None:
    doc = copy.deepcopy(CLUSTER)
    doc["items"].append(3)
    assert refused(doc) == f"pods.json: the List: items[{len(doc['items']) - 1}]: expected an object, got a number"


def test_a_name_from_the_file_cannot_forge_a_line_or_drive_the_terminal() -> None:
    doc = copy.deepcopy(CLUSTER)
    index, pod = item("Pod")
    doc["items"][index]["metadata"]["name"] = "q\n\x1b[2Jx"
    doc["items"][index]["spec"]["containers"] = "none"
    assert refused(doc) == f"pods.json: Pod default/q x (items[{index}]): spec.containers: expected a list, got a string"
