"""drift init: a starter drift.toml that loads, from nothing, an Ansible inventory or ~/.ssh/config."""

from __future__ import annotations

import json
from pathlib import Path

from drift.collect.inventory import load

FIXTURES = Path(__file__).parents[1] / "collect" / "fixtures" / "ansible"


def test_init_writes_a_starter_that_loads(cli, tmp_path):
    code, _, err = cli("init")
    assert code == 0 and "wrote" in err
    inv = load(tmp_path / "drift.toml")
    assert inv.environments == {}


def test_init_never_overwrites_without_force(cli, tmp_path):
    (tmp_path / "drift.toml").write_text("# mine\n")
    code, _, err = cli("init")
    assert code == 2 and "already exists" in err and "--force" in err
    assert (tmp_path / "drift.toml").read_text() == "# mine\n"
    assert cli("init", "--force")[0] == 0
    assert (tmp_path / "drift.toml").read_text() != "# mine\n"


def test_init_from_ansible(cli, tmp_path):
    (tmp_path / "ansible").mkdir()
    (tmp_path / "ansible" / "hosts.ini").write_text((FIXTURES / "hosts.ini").read_text())
    code, _, err = cli("init", "--from-ansible", "ansible/hosts.ini")
    assert code == 0 and "3 environments, 9 hosts" in err
    text = (tmp_path / "drift.toml").read_text()
    assert 'path = "ansible/hosts.ini"' in text
    assert "#   prod: db (prd-db-1); web (prd-web-01.example.com, prd-web-02.example.com, " in text
    code, out, _ = cli("inventory", "--format", "json")
    assert code == 0 and len(json.loads(out)["hosts"]) == 9


def test_init_from_a_broken_ansible_inventory_names_its_line(cli, tmp_path):
    (tmp_path / "hosts.yml").write_text("all:\n  hostz: {}\n")
    code, _, err = cli("init", "--from-ansible", "hosts.yml")
    assert code == 2 and "hosts.yml:2:" in err and not (tmp_path / "drift.toml").exists()


def test_init_from_ssh_config(cli, tmp_path):
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "config").write_text(
        "Host *\n  User deploy\nHost prd-web-1 prd-web-2\n  HostName 10.0.0.1\n"
        "Host=stg-web-1 # staging\nHost web01.staging.example.com\nhost bastion\nHost !nope db-?\n")
    code, _, _err = cli("init", "--from-ssh-config", "-o", "conf/drift.toml")
    assert code == 0
    inv = load(tmp_path / "conf" / "drift.toml")
    assert {e: sorted((h.name, h.role) for h in hs) for e, hs in inv.environments.items()} == {
        "prd": [("prd-web-1", "web"), ("prd-web-2", "web")],
        "stg": [("stg-web-1", "web")],
        "staging": [("web01.staging.example.com", "web")],
        "hosts": [("bastion", "bastion")],
    }


def test_init_from_ssh_config_without_one(cli):
    code, _, err = cli("init", "--from-ssh-config")
    assert code == 2 and ".ssh/config" in err


def test_init_sources_are_exclusive(cli):
    assert cli("init", "--from-ssh-config", "--from-ansible", "x.ini")[0] == 2


def test_init_from_ansible_without_environment_groups_asks_for_env(cli, tmp_path):
    (tmp_path / "hosts.ini").write_text("[web]\nweb-1\nweb-2\n\n[db]\ndb-1\n")
    code, _, err = cli("init", "--from-ansible", "hosts.ini")
    assert code == 2 and "no group looks like an environment" in err and "--env NAME" in err
    assert not (tmp_path / "drift.toml").exists()
    code, _, err = cli("init", "--from-ansible", "hosts.ini", "--env", "prod")
    assert code == 0 and "1 environment, 3 hosts" in err and "warning" not in err
    inv = load(tmp_path / "drift.toml")
    assert {h.name: (h.env, h.role) for h in inv.hosts()} == {
        "web-1": ("prod", "web"), "web-2": ("prod", "web"), "db-1": ("prod", "db")}


def test_init_from_ansible_warns_when_every_host_is_role_default(cli, tmp_path):
    (tmp_path / "hosts.ini").write_text("[prod]\nprd-web-1\nprd-db-1\n")
    code, _, err = cli("init", "--from-ansible", "hosts.ini")
    assert code == 0 and "every host has role `default`" in err and "1 environment, 2 hosts" in err
