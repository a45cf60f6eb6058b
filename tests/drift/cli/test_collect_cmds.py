import json

from drift.model.snapshot import load


def test_snapshot_writes_one_file_per_host_and_exits_3_when_a_host_is_down(cli, inventory):
    code, out, err = cli("snapshot", "prod", "-o", "out")
    assert code == 3
    up = load(cli.dir / "out" / "prd-web-1.json")
    down = load(cli.dir / "out" / "prd-web-down.json")
    assert up.env == "prod" and up.role == "web" and not up.failed
    assert down.failed and "refused" in down.error
    assert "prd-web-down" in err and "prd-web-1" in out
    assert (cli.dir / ".drift" / "drift.db").exists()


def test_snapshot_json_is_one_document_on_stdout(cli, inventory):
    _code, out, _err = cli("snapshot", "prod:web", "--format", "json", "--category", "system")
    doc = json.loads(out)
    assert doc["schema"] == "drift.snapshots/1" and {s["host"] for s in doc["snapshots"]} == {
        "prd-web-1", "prd-web-down"}


def test_snapshot_of_one_host_by_name(cli, inventory):
    _code, _out, _err = cli("snapshot", "prd-web-1", "--category", "system")
    assert cli.ssh.opened == ["prd-web-1"]


def test_bad_input_exits_2_with_one_clear_line(cli, inventory):
    code, out, err = cli("snapshot", "staging")
    assert code == 2 and "unknown target 'staging'" in err and "Traceback" not in err
    code, out, err = cli("snapshot", "prod", "--category", "pakages")
    assert code == 2 and "--category 'pakages'" in err
    inventory.write_text("[ssh]\nprot = 22\n")
    code, _out, err = cli("inventory")
    assert code == 2 and f"{inventory}:2: unknown key 'ssh.prot'" in err


def test_missing_inventory_is_bad_input(cli):
    code, out, err = cli("inventory")
    assert code == 2 and "no inventory" in err
    code, _out, err = cli("inventory", "-i", "nope.toml")
    assert code == 2 and "nope.toml: file not found" in err


def test_inventory_lists_and_checks(cli, inventory):
    code, out, err = cli("inventory")
    assert code == 0 and "prd-web-down" in out
    code, out, _err = cli("inventory", "--check", "--format", "json")
    hosts = {h["host"]: h for h in json.loads(out)["hosts"]}
    assert code == 3 and hosts["prd-web-1"]["reachable"] and not hosts["prd-web-down"]["reachable"]
    assert hosts["prd-web-1"]["host_key"] == "ssh-ed25519 SHA256:fake"


def test_collectors_lists_every_command(cli, inventory):
    import collectors

    code, out, err = cli("collectors", "--format", "json")
    listed = {c["name"]: c for c in json.loads(out)["collectors"]}
    assert code == 0 and set(listed) == {c.name for c in collectors.REGISTRY}
    code, out, _err = cli("collectors")
    assert code == 0
    for c in collectors.REGISTRY:
        assert c.name in out


def test_unavailable_format_for_a_listing_is_bad_input(cli, inventory):
    code, _out, err = cli("inventory", "--format", "junit")
    assert code == 2 and "--format" in err and "junit" in err  # the choices are only table and json


def test_snapshot_prints_each_host_error_once_and_whole(cli, inventory):
    code, out, err = cli("snapshot", "prod", "--category", "system")
    message = "connection to 127.0.0.2:22 refused"
    assert code == 3
    assert (out + err).count(message) == 1 and f"  prd-web-down: {message}" in err
    assert "not collected (error below)" in out
