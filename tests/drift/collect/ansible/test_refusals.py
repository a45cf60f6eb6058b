"""What only Ansible can read is never taken for data: vault, scripts, plugins, templates; each refusal
names the file, the line, the Ansible feature and the fix. ansible-inventory's JSON is read like ours."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from drift.collect.ansible import external
from drift.collect.ansible.files import load_hosts, read
from drift.collect.ansible.formats import kind
from drift.collect.ansible.mapping import Convention
from drift.collect.ansible.model import AnsibleOnly
from drift.collect.hosts import SSHSettings
from drift.collect.inventory import load
from drift.collect.preflight import check_files
from drift.core.errors import InventoryError

NO_ANSIBLE: dict[str, str] = {}  # an environment without PATH: ansible-inventory is never found
VAULT = "$ANSIBLE_VAULT;1.1;AES256\n3630623034353135\n6331303461376465\n"


def envs(path: Path) -> dict[str, dict[str, tuple[str, str]]]:
    found = load_hosts(path, Convention(), SSHSettings(), env=NO_ANSIBLE)[0]
    return {e: {h.name: (h.role, h.address) for h in hs} for e, hs in found.items()}


def test_a_vault_encrypted_inventory_is_refused_not_read_as_hosts(tmp_path: Path) -> None:
    (tmp_path / "hosts").write_text(VAULT)
    with pytest.raises(AnsibleOnly) as err:
        envs(tmp_path / "hosts")
    message = str(err.value)
    assert err.value.line == 1 and "vault-encrypted" in message and "pip install ansible-core" in message
    assert "--list --yaml > hosts.yml" in message and "plain text" in message
    with pytest.raises(AnsibleOnly):
        load(tmp_path / "hosts", NO_ANSIBLE)


def test_an_encrypted_group_vars_file_names_vault(tmp_path: Path) -> None:
    (tmp_path / "hosts.ini").write_text("[web]\nw1\n")
    (tmp_path / "group_vars" / "all").mkdir(parents=True)
    (tmp_path / "group_vars" / "all" / "vault.yml").write_text(VAULT)
    with pytest.raises(AnsibleOnly) as err:
        envs(tmp_path / "hosts.ini")
    assert err.value.path == str(tmp_path / "group_vars" / "all" / "vault.yml") and "vault" in str(err.value)


def test_inline_vault_values_are_opaque_until_needed(tmp_path: Path) -> None:
    (tmp_path / "hosts.yml").write_text(
        "all:\n  vars:\n    db_password: !vault |\n      $ANSIBLE_VAULT;1.1;AES256\n      6331\n"
        "  hosts:\n    a1:\n      ansible_host: 10.0.0.1\n    a2:\n      ansible_user: !vault |\n"
        "        $ANSIBLE_VAULT;1.1;AES256\n        6331\n")
    inv = load(tmp_path / "hosts.yml", NO_ANSIBLE)
    a1, a2 = inv.host("a1"), inv.host("a2")
    assert a1.address == "10.0.0.1" and a1.problem is None
    check_files([a1])
    assert a2.problem is not None
    with pytest.raises(InventoryError) as err:
        check_files([a2])
    assert err.value.line == 10 and "ansible_user is a vault-encrypted value" in str(err.value)


def test_a_template_refuses_only_the_hosts_using_it(tmp_path: Path) -> None:
    (tmp_path / "hosts.ini").write_text("[web]\nw1 ansible_host=10.0.0.1\nw2 ansible_host='{{ lookup(\"x\") }}'\n")
    inv = load(tmp_path / "hosts.ini", NO_ANSIBLE)
    check_files([inv.host("w1")])
    with pytest.raises(InventoryError) as err:
        check_files(inv.hosts())
    assert err.value.line == 3 and "Jinja template" in str(err.value) and "host_vars/w2.yml" in str(err.value)


def test_a_plugin_configuration_is_not_a_group_named_plugin(tmp_path: Path) -> None:
    (tmp_path / "aws_ec2.yml").write_text("# dynamic\nplugin: amazon.aws.aws_ec2\nregions: [eu-west-1]\n")
    with pytest.raises(AnsibleOnly) as err:
        envs(tmp_path / "aws_ec2.yml")
    assert err.value.line == 2 and "plugin" in str(err.value) and "ansible-inventory" in str(err.value)


def test_an_executable_script_is_never_run_by_drift(tmp_path: Path) -> None:
    script = tmp_path / "inventory.py"
    script.write_text("#!/usr/bin/env python3\nprint('{}')\n")
    script.chmod(0o755)
    with pytest.raises(AnsibleOnly) as err:
        envs(script)
    assert "executable inventory script" in str(err.value) and err.value.line == 1


def test_ansible_toml_is_told_apart_from_drift_toml_by_content(tmp_path: Path) -> None:
    text = ('[all.vars]\nansible_user = "ops"\n\n[web]\nchildren = ["apache"]\n\n[web.hosts]\n'
            'w1 = { ansible_host = "10.0.0.1" }\n\n[apache.hosts]\n"a[1:2]" = {}\n\n[db.hosts]\nd1 = {}\n')
    assert kind(tmp_path / "inventory.toml", text) == "toml"
    assert kind(tmp_path / "drift.toml", '[ssh]\nuser = "x"\n') is None
    (tmp_path / "inventory.toml").write_text(text)
    inv = load(tmp_path / "inventory.toml", NO_ANSIBLE)
    assert {h.name: (h.role, h.address, h.ssh.user) for h in inv.hosts()} == {
        "w1": ("web", "10.0.0.1", "ops"), "a1": ("apache", "a1", "ops"), "a2": ("apache", "a2", "ops"),
        "d1": ("db", "d1", "ops")}


def test_a_directory_named_local_is_an_environment(tmp_path: Path) -> None:
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "hosts.ini").write_text("node1 ansible_host=127.0.0.1\n[kube_node]\nnode1\n")
    assert envs(tmp_path / "local" / "hosts.ini") == {"local": {"node1": ("kube_node", "127.0.0.1")}}


def test_no_syntax_warning_on_stderr(tmp_path: Path) -> None:
    (tmp_path / "hosts").write_text("h1 ansible_host=runner-01.internal.example.net x=1a y=0x1g\n")
    done = subprocess.run([sys.executable, "-W", "error", "-c",
                           "import sys; from pathlib import Path; from drift.collect.ansible.files import read; "
                           "print(read(Path(sys.argv[1]))[0].hosts[0].vars['ansible_host'].value)",
                           str(tmp_path / "hosts")], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stderr == "" and done.stdout == "runner-01.internal.example.net\n"


def test_ansible_inventory_json_maps_like_our_reader() -> None:
    doc = {"_meta": {"hostvars": {"w1": {"ansible_host": "10.0.0.1", "ansible_port": 2222},
                                  "d1": {"ansible_user": {"__ansible_vault": "$ANSIBLE_VAULT;1.1;AES256\n61\n"}}}},
           "all": {"children": ["ungrouped", "prod"]}, "prod": {"children": ["web", "db"]},
           "web": {"hosts": ["w1"]}, "db": {"hosts": ["d1"]}}
    inv = external.from_json(json.dumps(doc), Path("/srv/inv/aws_ec2.yml"))
    from drift.collect.ansible.mapping import environments

    found = environments(inv, Convention(), SSHSettings())
    assert {h.name: (h.env, h.role, h.address, h.ssh.port) for h in found["prod"]} == {
        "w1": ("prod", "web", "10.0.0.1", 2222), "d1": ("prod", "db", "d1", None)}
    assert found["prod"][1].problem is not None and "vault" in found["prod"][1].problem[0]


def test_reader_ansible_without_ansible_inventory_says_what_to_install(tmp_path: Path) -> None:
    (tmp_path / "hosts.ini").write_text("[web]\nw1\n")
    (tmp_path / "drift.toml").write_text('[inventory.ansible]\npath = "hosts.ini"\nreader = "ansible"\n')
    with pytest.raises(InventoryError) as err:
        load(tmp_path / "drift.toml", NO_ANSIBLE)
    assert "pip install ansible-core" in str(err.value)
    (tmp_path / "drift.toml").write_text('[inventory.ansible]\npath = "hosts.ini"\nreader = "magic"\n')
    with pytest.raises(InventoryError) as err:
        load(tmp_path / "drift.toml", NO_ANSIBLE)
    assert err.value.line == 3 and "reader" in str(err.value)


def test_read_refuses_a_drift_toml_given_as_an_ansible_inventory(tmp_path: Path) -> None:
    (tmp_path / "drift.toml").write_text('[ssh]\nuser = "x"\n')
    with pytest.raises(InventoryError) as err:
        read(tmp_path / "drift.toml")
    assert "drift.toml" in str(err.value)


@pytest.mark.parametrize("name", ["hosts", "hosts.yml"])
def test_a_nul_character_is_a_clean_error(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("all:\n  hosts:\n    h\x001:\n")
    with pytest.raises(InventoryError):
        read(tmp_path / name)


def test_a_malformed_variable_is_refused_without_echoing_its_value(tmp_path: Path) -> None:
    # Found in review: `ansible_become_pass: hunter2` (a colon for `=`) put the password on stderr.
    from drift.collect.ansible import ini

    for text in ("[all:vars]\nansible_become_pass: hunter2secret\n", "[web]\nweb1 ansible_password hunter2secret\n"):
        path = tmp_path / "hosts.ini"
        path.write_text(text)
        with pytest.raises(InventoryError) as caught:
            ini.parse_ini(text, path)
        assert "hunter2secret" not in str(caught.value) and "hosts.ini" in str(caught.value)
