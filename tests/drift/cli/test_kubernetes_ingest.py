"""`drift ingest --format kubernetes`: kubectl's JSON of a cluster, one snapshot per workload; two
clusters compare workload by workload, containers, env and mounts matched by name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

FIXTURES = Path(__file__).parents[1] / "collect" / "fixtures" / "kubernetes"


def ingest(cli, name: str) -> None:
    shutil.copy(FIXTURES / f"{name}.json", cli.dir / f"{name}.json")
    code, out, err = cli("ingest", f"{name}.json", "--env", name, "--format", "kubernetes", "-o", name,
                         DRIFT_SECRET_KEY="k" * 32)
    assert code == 0, err
    assert "default/Deployment/nginx-deployment" in out and "default/ReplicaSet/queue" in out


def test_two_clusters_compare_workload_by_workload(cli):
    ingest(cli, "cluster-a")
    ingest(cli, "cluster-b")
    assert sorted(p.name for p in (cli.dir / "cluster-a").iterdir()) == [
        "default_Deployment_nginx-deployment.json", "default_ReplicaSet_queue.json"]
    code, out, err = cli("compare", "cluster-a", "cluster-b", "--format", "json", DRIFT_SECRET_KEY="k" * 32)
    assert code == 1, err
    found = {(f["role"], f["path"], f["kind"]): f["message"] for f in json.loads(out)["findings"]}
    nginx = "default/Deployment/nginx-deployment"
    assert set(found) == {
        (nginx, "containers/nginx/image", "changed"),
        (nginx, "containers/nginx/env/LOG_LEVEL", "only_right"),
        (nginx, "containers/nginx/env/DB_PASSWORD", "only_right"),
        (nginx, "system/workload/replicas", "changed"),
    }, found  # the queue pod's new name, node, container id and token volume are identity
    assert "nginx:latest" in found[(nginx, "containers/nginx/image", "changed")]
    assert "from secret db key password" in found[(nginx, "containers/nginx/env/DB_PASSWORD", "only_right")]
    assert "LOG_LEVEL info is in cluster-b" in found[(nginx, "containers/nginx/env/LOG_LEVEL", "only_right")]


def test_not_kubectl_json_is_exit_2_naming_the_file(cli):
    (cli.dir / "pods.json").write_text('{"items": [1, 2}')
    code, _, err = cli("ingest", "pods.json", "--env", "a", "--format", "kubernetes")
    assert code == 2 and "pods.json:1: not kubectl JSON" in err
    (cli.dir / "empty.json").write_text('{"kind": "List", "items": []}')
    code, _, err = cli("ingest", "empty.json", "--env", "a", "--format", "kubernetes")
    assert code == 2 and "no items" in err
