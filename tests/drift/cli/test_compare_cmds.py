"""compare, audit, baseline and history through the CLI, offline on snapshot files."""

from __future__ import annotations

import json

from tests.drift.factory import snap

SSL = "packages/deb/libssl3"


def write_env(folder, env, versions):
    folder.mkdir(parents=True, exist_ok=True)
    for i, v in enumerate(versions, 1):
        facts = {SSL: {"version": v, "arch": "amd64"}} if v else {}
        s = snap(f"{env[:3]}-web-{i}", env, "web", facts, down=v is None)
        (folder / f"{s.host}.json").write_text(s.to_json())
    return str(folder)


def test_compare_snapshot_directories_exit_codes(cli, tmp_path):
    stg = write_env(tmp_path / "stg", "staging", ["1.0-1", "1.0-1"])
    same = write_env(tmp_path / "same", "mirror", ["1.0-1"])
    newer = write_env(tmp_path / "prd", "prod", ["1.0-2", "1.0-2"])
    down = write_env(tmp_path / "down", "prod", ["1.0-1", None])
    assert cli("compare", stg, same)[0] == 0
    code, out, _ = cli("compare", stg, newer, "--format", "json")
    assert code == 1
    assert json.loads(out)["findings"][0]["message"].startswith("libssl3 is newer in prod (1.0-2) than in staging (1.0-1)")
    assert cli("compare", stg, newer, "--fail-on", "critical")[0] == 0
    code, out, _err = cli("compare", stg, down, "--format", "json")
    assert code == 3 and json.loads(out)["errors"][0]["host"] == "pro-web-2"


def test_json_goes_to_stdout_alone_and_o_writes_a_file(cli, tmp_path):
    stg = write_env(tmp_path / "stg", "staging", ["1.0-1"])
    prd = write_env(tmp_path / "prd", "prod", ["1.0-2"])
    code, out, _ = cli("compare", stg, prd, "--format", "json")
    assert json.loads(out)["summary"]["findings"] == 1
    code, out, _ = cli("compare", stg, prd, "--format", "junit", "-o", "drift.xml")
    assert code == 1 and out == "" and (cli.dir / "drift.xml").read_text().startswith("<?xml")


def test_a_broken_snapshot_file_is_exit_2_naming_file_and_line(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "schema": "drift.snapshot/1",\n  "host": \n}\n')
    code, _, err = cli("compare", str(bad), str(bad))
    assert code == 2 and "bad.json" in err and ("line 4" in err or ":4" in err), err
    assert "Traceback" not in err


def test_bad_flags_are_exit_2(cli, tmp_path):
    stg = write_env(tmp_path / "stg", "staging", ["1.0-1"])
    assert cli("compare", stg, stg, "--fail-on", "severe")[0] == 2
    assert cli("compare", stg, stg, "--format", "yaml")[0] == 2
    assert cli("compare", stg)[0] == 2
    assert cli("history", "prod", "--since", "yesterday", "-i", "nowhere.toml")[0] == 2


def test_audit_with_a_baseline_of_another_environment_is_refused(cli, inventory, tmp_path):
    (tmp_path / "baselines").mkdir()
    (tmp_path / "baselines" / "other.json").write_text(json.dumps({
        "schema": "drift.baseline/1", "env": "staging", "saved_at": "x", "saved_by": "y",
        "inventory_sha256": "z", "hosts": {}}))
    code, _, err = cli("audit", "prod", "--baseline", "baselines/other.json")
    assert code == 2 and "baseline of 'staging', not 'prod'" in err


def test_recording_prunes_snapshots_older_than_keep_days(cli, tmp_path):
    from drift.store.sqlite import Store

    (tmp_path / "drift.toml").write_text('[store]\nkeep_days = 1\n\n[environments.prod]\n'
                                         'hosts = [{ name = "prd-web-1", address = "127.0.0.1", role = "web" }]\n')
    old = snap("prd-web-1", "prod", "web", {SSL: {"version": "1", "arch": "amd64"}})
    with Store.open(tmp_path / ".drift" / "drift.db") as store:
        store.record([old])  # collected_at 2026-11-22, long before now
    code, _, err = cli("snapshot", "prod", "--category", "system")
    assert code == 0, err
    with Store.open(tmp_path / ".drift" / "drift.db") as store:
        assert [s.collected_at for s in store.snapshots(host="prd-web-1")] != [old.collected_at]
        assert len(list(store.snapshots(host="prd-web-1"))) == 1


def test_as_role_compares_a_host_with_another_role_on_purpose(cli):
    from pathlib import Path

    examples = Path(__file__).parents[3] / "examples"
    db, web = str(examples / "mirror" / "mir-db-1.json"), str(examples / "prod" / "prd-web-1.json")
    _code, out, err = cli("compare", db, web, "--format", "json")
    assert {f["kind"] for f in json.loads(out)["findings"]} == {"only_left", "only_right"}  # roles only
    assert "have no role in common" in err and "--as-role web" in err
    _code, out, err = cli("compare", db, web, "--format", "json", "--as-role", "web")
    findings = json.loads(out)["findings"]
    assert {f["role"] for f in findings} == {"web"} and not any(f["path"].startswith("system/role/") for f in findings)
    assert "no role in common" not in err
    _code, out, _err = cli("compare", f"{examples}/staging:web", f"{examples}/prod:web", "--format", "json")
    assert {f["role"] for f in json.loads(out)["findings"]} == {"web"}
