"""`drift reach ENV` through the CLI, offline on snapshot files."""

from __future__ import annotations

import json

from tests.drift.analysis.reach.test_matrix import PROD_DB, db, host


def write(folder, snaps) -> str:  # type: ignore[no-untyped-def]
    folder.mkdir()
    for s in snaps:
        (folder / f"{s.host}.json").write_text(s.to_json())
    return str(folder)


def prod(rules: dict = PROD_DB) -> list:
    return [host("prd-web-1", "prod", ("web",), "10.0.2.11", {"tcp/*:8080": 1}),
            host("prd-worker-1", "prod", ("worker",), "10.0.2.31", {}), db("prd", rules)]


def test_reach_prints_the_matrix_as_json_and_table(cli, tmp_path):
    folder = write(tmp_path / "prod", prod())
    code, out, err = cli("reach", folder, "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema"] == "drift.reach/1" and doc["summary"]["refused"] == 1
    flows = {(f["from"], f["to"], f["port"]): f for f in doc["flows"]}
    assert flows[("worker", "db", 5432)]["why"] == "by prd-db-1 filter INPUT policy DROP"
    assert flows[("worker", "db", 5432)]["pairs"][0]["rule"] == "prd-db-1 filter INPUT policy DROP"
    code, out, _ = cli("reach", folder)
    assert code == 0 and "by prd-db-1 filter INPUT policy DROP" in out and "worker" in out
    lines = out.splitlines()  # the report table's shape: title, who was read and when, counts
    assert lines[0] == "drift reach prod" and "(collected 2026-11-22 03:00Z" in lines[1]
    assert "1 refused" in lines[2] and "---" not in out


def test_unknown_flows_make_exit_3_and_other_formats_are_refused(cli, tmp_path):
    odd = {"firewall/iptables/filter/INPUT": {"policy": "DROP", "rules": ["-m set --match-set w src -j ACCEPT"]}}
    folder = write(tmp_path / "prod", prod(odd))
    code, out, _ = cli("reach", folder, "--format", "json")
    assert code == 3
    (flow,) = [f for f in json.loads(out)["flows"] if (f["from"], f["to"], f["port"]) == ("worker", "db", 5432)]
    assert flow["verdict"] == "unknown" and "-m set" in flow["why"]
    code, _, err = cli("reach", folder, "--format", "junit")
    assert code == 2 and "table or json" in err
