"""Input and file hygiene through the CLI: --version, help, -o modes, missing key files, unknown names,
old or future snapshots."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests import clock
from tests.drift.cli.test_compare_cmds import write_env
from tests.drift.factory import snap

COMMANDS = [["snapshot"], ["compare"], ["audit"], ["inventory"], ["collectors"], ["history"],
            ["baseline", "save"], ["baseline", "show"], ["init"], ["changes"], ["explain"], ["why"], ["watch"]]


def test_version_agrees_with_the_changelog_and_the_package(cli):
    import re
    from pathlib import Path

    import drift
    from drift.core.tomlsource import tomllib

    root = Path(__file__).parents[3]
    code, out, _ = cli("--version")
    assert code == 0 and cli("-V")[1] == out
    (version,) = re.findall(r"^drift (\S+)$", out, re.M)
    project = tomllib.loads((root / "pyproject.toml").read_text())  # the package's version is drift's own
    assert project["project"]["dynamic"] == ["version"] and "version" not in project["project"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "drift.__version__"}
    assert drift.__version__ == version
    changelog = re.findall(r"^## (\d+\.\d+\.\d+)", (root / "CHANGELOG.md").read_text(), re.M)
    assert changelog[0] == version


def test_help_summaries_are_whole_and_h_is_help(cli):
    code, out, _ = cli("-h")
    assert code == 0 and "Commands:" in out
    commands = out.split("Commands:")[1].split("\n\n")[0]
    assert "..." not in commands and "report hosts that disagree" in commands


def test_a_mistyped_choice_or_command_suggests_the_close_one(cli):
    code, _, err = cli("compare", "a", "b", "--format", "htm")
    assert code == 2 and "'htm' is not one of table, json" in err and "did you mean html?" in err
    assert "Value error" not in err
    code, _, err = cli("comapre", "a", "b")
    assert code == 2 and "Did you mean 'compare'?" in err


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_is_plain_with_examples_and_exit_codes(cli, command):
    code, out, _ = cli(*command, "--help")
    assert code == 0
    assert "<list" not in out and "<str>" not in out and "<path>" not in out
    assert "Examples:" in out and "Exit codes:" in out
    assert f"drift {' '.join(command[-1:])}" in out.replace("drift baseline ", "drift ")


def test_help_lists_only_the_formats_a_command_accepts(cli):
    assert "markdown" in cli("compare", "--help")[1]
    for command in (["snapshot"], ["inventory"], ["collectors"], ["history"], ["baseline", "show"], ["explain"]):
        out = cli(*command, "--help")[1]
        assert "<table|json>" in out and "junit" not in out, command
    assert "<table|json|markdown|html>" in cli("changes", "--help")[1]


@pytest.fixture
def umask022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_output_files_honour_the_umask(cli, tmp_path, umask022):
    stg = write_env(tmp_path / "stg", "staging", ["1.0-1"])
    prd = write_env(tmp_path / "prd", "prod", ["1.0-2"])
    assert cli("compare", stg, prd, "--format", "html", "-o", "www/report.html")[0] == 1
    assert stat.S_IMODE((tmp_path / "www" / "report.html").stat().st_mode) == 0o644


def test_snapshot_files_honour_the_umask(cli, inventory, umask022):
    cli("snapshot", "prd-web-1", "-o", "out", "--category", "system")
    assert stat.S_IMODE((cli.dir / "out" / "prd-web-1.json").stat().st_mode) == 0o644


def test_missing_identity_file_is_one_input_error_naming_the_line(cli, tmp_path):
    (tmp_path / "drift.toml").write_text(
        '[ssh]\nidentity_file = "/nonexistent/id_ed25519"\n\n[environments.prod]\n'
        'hosts = [{ name = "p1", address = "127.0.0.1" }, { name = "p2", address = "127.0.0.1" }]\n')
    code, _, err = cli("snapshot", "prod")
    assert code == 2
    assert "drift.toml:2: identity_file /nonexistent/id_ed25519: no such file; needed for p1, p2" in err
    assert cli.ssh.opened == []  # no host was contacted
    assert cli("inventory", "--check")[0] == 2


def test_missing_key_in_an_ansible_inventory_names_its_line(cli, tmp_path):
    (tmp_path / "hosts.ini").write_text("[prod]\np1 ansible_host=127.0.0.1\n"
                                        "p2 ansible_host=127.0.0.1 ansible_ssh_private_key_file=/no/key\n")
    code, _, err = cli("compare", "-i", "hosts.ini", "prod", "prod")
    assert code == 2 and "hosts.ini:3: identity_file /no/key: no such file; needed for p2" in err


def test_missing_known_hosts(cli, tmp_path):
    body = ('[ssh]\nknown_hosts = "/nonexistent/known_hosts"\n{policy}\n[environments.prod]\n'
            'hosts = [{{ name = "p1", address = "127.0.0.1" }}]\n')
    (tmp_path / "drift.toml").write_text(body.format(policy=""))
    code, _, err = cli("snapshot", "prod")
    assert code == 2 and "drift.toml:2: known_hosts" in err and "accept-new" in err
    (tmp_path / "drift.toml").write_text(body.format(policy='host_key_policy = "accept-new"'))
    assert cli("snapshot", "prod", "--category", "system")[0] == 0  # the file is created on first contact


def test_ansible_inventory_given_with_i(cli, tmp_path):
    (tmp_path / "hosts.ini").write_text("[web]\nprd-web-1 ansible_host=127.0.0.1\n[prod:children]\nweb\n")
    code, out, _ = cli("inventory", "-i", "hosts.ini", "--format", "json")
    assert code == 0
    assert [(h["env"], h["role"], h["host"], h["address"]) for h in json.loads(out)["hosts"]] == [
        ("prod", "web", "prd-web-1", "127.0.0.1")]
    code, out, _ = cli("snapshot", "-i", "hosts.ini", "prod:web", "--format", "json", "--category", "system")
    assert code == 0 and json.loads(out)["snapshots"][0]["host"] == "prd-web-1"
    (tmp_path / "bad.ini").write_text("[web]\nh1 junk\n")
    code, _, err = cli("inventory", "-i", "bad.ini")
    assert code == 2 and "bad.ini:2: (read as an Ansible INI inventory)" in err


def test_history_unknown_host_or_environment_is_bad_input(cli, inventory):
    assert cli("snapshot", "prd-web-1", "--category", "system")[0] == 0
    assert cli("history", "prod", "--host", "prd-web-1")[0] == 0
    code, _, err = cli("history", "prod", "--host", "nosuch")
    assert code == 2 and "unknown host 'nosuch'" in err and "prd-web-1" in err
    code, _, err = cli("history", "nosuch")
    assert code == 2 and "unknown environment 'nosuch'" in err and "prod" in err
    assert cli("history", "prod", "--host", "prd-web-down")[0] == 0  # in the inventory, never recorded


def test_audit_unknown_environment_is_bad_input(cli, inventory):
    code, _, err = cli("audit", "nosuch")
    assert code == 2 and "nosuch" in err and "prod" in err


def write_dated(folder, env, when):
    folder.mkdir(parents=True)
    s = snap(f"{env}-1", env, "web", {"packages/deb/a": {"version": "1"}})
    doc = json.loads(s.to_json())
    doc["collected_at"] = when
    (folder / f"{s.host}.json").write_text(json.dumps(doc))
    return str(folder)


def test_old_and_future_snapshots_are_warned_about_in_every_report(cli, tmp_path):
    old = write_dated(tmp_path / "old", "staging", "2024-11-01T00:00:00Z")
    ahead = write_dated(tmp_path / "ahead", "prod", "2099-01-01T00:00:00Z")
    code, out, err = cli("compare", old, ahead, "--format", "json")
    warnings = json.loads(out)["warnings"]
    assert any("older than 7 days" in w and "staging-1" in w for w in warnings)
    assert any("in the future" in w and "prod-1" in w for w in warnings)
    assert "older than 7 days" in err  # and on stderr for a person
    for fmt in ("table", "markdown", "html", "junit"):
        assert "older than 7 days" in cli("compare", old, ahead, "--format", fmt, "-o", f"r.{fmt}")[2] + \
            (tmp_path / f"r.{fmt}").read_text() or fmt == "junit"


def test_freshness_threshold_is_configurable(cli, tmp_path):
    recent = clock.stamp()
    a = write_dated(tmp_path / "a", "staging", recent)
    b = write_dated(tmp_path / "b", "prod", recent)
    assert json.loads(cli("compare", a, b, "--format", "json")[1])["warnings"] == []
    (tmp_path / "drift.toml").write_text('[policy]\nmax_snapshot_age = "soon"\n')
    code, _, err = cli("compare", a, b)
    assert code == 2 and "drift.toml:2" in err and "max_snapshot_age" in err


def test_snapshot_names_the_collectors_that_do_not_apply(cli, inventory):
    code, out, _ = cli("snapshot", "prd-web-1", "--category", "packages")
    assert code in (0, 3) and "not applicable here" in out  # 3 where rpm is installed with no database
    row = next(line for line in out.splitlines() if line.startswith("prd-web-1"))
    assert any(name in row for name in ("apk", "rpm", "dpkg"))  # no machine has all three package managers
    code, out, _ = cli("snapshot", "prd-web-1", "--category", "packages", "--format", "json")
    assert isinstance(json.loads(out)["snapshots"][0]["collectors_unsupported"], list)


def test_top_level_help_says_where_to_start(cli):
    code, out, _ = cli("--help")
    assert code == 0 and "drift compare examples/staging examples/prod" in out and "Exit codes:" in out
