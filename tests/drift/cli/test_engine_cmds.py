"""`drift script` and `drift ingest`: an engine runs the script, ingest records what `snapshot` would."""

import json
import subprocess

from drift.model.snapshot import load

# Other jobs on this machine add and drop network namespaces between two collections.
VOLATILE = ("interfaces", "routes", "listen")


def _same(a, b):
    da, db = a.to_dict(), b.to_dict()
    for d in (da, db):
        d.pop("collected_at")
        d.pop("host_key")
        for name in VOLATILE:
            d["collectors"][name]["facts"] = d["collectors"][name]["identity"] = None
    return da == db


def test_script_output_ingested_equals_drift_snapshot(cli, inventory):
    code, _, err = cli("snapshot", "prd-web-1", "-o", "own")
    assert code in (0, 3), err  # 3: a collector this machine cannot answer (rpm without a database)
    own_code = code
    code, script, err = cli("script")
    assert code == 0, err
    assert script.startswith("#!/bin/sh\n") and "sudo" not in script
    raw = subprocess.run(["sh", "-s"], input=script.encode(), capture_output=True, check=True).stdout
    (cli.dir / "tree").mkdir()
    (cli.dir / "tree" / "prd-web-1").write_text(json.dumps({"rc": 0, "stdout": raw.decode(), "stderr": "",
                                                            "changed": True}))
    code, out, err = cli("ingest", "tree", "--env", "prod", "-o", "ingested", "--format", "json")
    assert code == own_code, err
    assert json.loads(out)["snapshots"][0]["host_key"] is None
    own, got = load(cli.dir / "own" / "prd-web-1.json"), load(cli.dir / "ingested" / "prd-web-1.json")
    assert got.role == "web" and got.address == "127.0.0.1"
    assert _same(own, got)


def test_ingest_from_stdin_a_narrower_script_and_a_pty(cli):
    code, script, _ = cli("script", "--collectors", "os,sysctl")
    assert code == 0 and "dpkg-query" not in script
    raw = subprocess.run(["sh", "-s"], input=script.encode(), capture_output=True, check=True).stdout
    for data in (raw, raw.replace(b"\n", b"\r\n")):  # an engine that ran it under a pseudo-terminal
        code, out, err = _ingest_stdin(cli, data)
        assert code == 0, err
        snap = load(cli.dir / "one" / "h1.json")
        assert sorted(snap.collectors) == ["os", "sysctl"]
        assert all(r.status == "ok" for r in snap.collectors.values())


def _ingest_stdin(cli, data, *args):
    import io

    from drift.cli import main
    from drift.cli.environment import Environment
    from tests import clock

    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, vars={"HOME": str(cli.dir)}, cwd=cli.dir, stderr_isatty=False,
                      read_stdin=lambda: data, now=clock.fixed)
    code = main(["ingest", "-", *(args or ("--host", "h1", "--env", "lab", "-o", "one"))], env)
    return code, out.getvalue(), err.getvalue()


def test_unreachable_hosts_are_failed_and_foreign_files_are_bad_input(cli):
    (cli.dir / "tree").mkdir()
    (cli.dir / "tree" / "web-9").write_text(json.dumps({"unreachable": True, "msg": "ssh: connect refused"}))
    code, out, err = cli("ingest", "tree", "--env", "prod", "--format", "json")
    assert code == 3
    assert json.loads(out)["snapshots"][0]["error"] == "ssh: connect refused"
    (cli.dir / "notes.txt").write_text("hello\n")
    code, _, err = cli("ingest", "notes.txt", "--env", "prod")
    assert code == 2 and "notes.txt" in err and "not the output of `drift script`" in err
    code, _, err = _ingest_stdin(cli, b"output\n", "--env", "prod")
    assert code == 2 and "--host" in err
    code, _, err = cli("script", "--collectors", "nope")
    assert code == 2 and "nope" in err


def test_output_of_a_script_for_other_settings_is_refused(cli, inventory):
    code, script, _ = cli("script")  # with the inventory's [collect] sysctl list
    raw = subprocess.run(["sh", "-s"], input=script.encode(), capture_output=True, check=True).stdout
    (cli.dir / "h.out").write_bytes(raw)
    inventory.write_text(inventory.read_text().replace('"net.ipv4.ip_forward"', '"net.core.somaxconn"'))
    code, _, err = cli("ingest", "h.out", "--env", "prod", "--collectors", "sysctl,os")
    assert code == 2 and "other collectors or [collect] settings" in err


def test_a_salt_json_map_is_one_snapshot_per_minion(cli):
    code, script, _ = cli("script", "--collectors", "os")
    raw = subprocess.run(["sh", "-s"], input=script.encode(), capture_output=True, check=True).stdout.decode()
    results = {"web-1": {"pid": 10, "retcode": 0, "stdout": raw, "stderr": ""},
               "web-2": {"pid": 11, "retcode": 0, "stdout": raw, "stderr": ""}}
    (cli.dir / "salt.json").write_text(json.dumps(results))
    code, out, err = cli("ingest", "salt.json", "--env", "prod", "--role", "web", "--format", "json")
    assert code == 0, err
    assert [(s["host"], s["role"]) for s in json.loads(out)["snapshots"]] == [("web-1", "web"), ("web-2", "web")]
