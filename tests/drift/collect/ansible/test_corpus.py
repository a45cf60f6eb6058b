"""Real inventories (corpus/, each source named in corpus/MANIFEST.tsv) read by drift's built-in reader
and by ansible-inventory --list: every host Ansible lists, drift lists with the same address, port,
user, environment and role, or refuses (the whole file, exit 2, or that host) naming file and fix;
drift never lists a host Ansible does not."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drift.collect.ansible import external
from drift.collect.ansible.files import load_hosts
from drift.collect.ansible.mapping import Convention, environments
from drift.collect.ansible.model import AnsibleOnly
from drift.collect.hosts import Host, SSHSettings
from drift.core.errors import InventoryError

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
ENTRIES = sorted(p for p in CORPUS.glob("*/*") if p.is_file())
pytest.importorskip("ansible.cli.inventory", reason="ansible-core is not installed (pip install ansible-core, "
                                                     "in the test extra): no oracle to compare with")


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    home = tmp_path_factory.mktemp("ansible-home")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "ANSIBLE_LOCAL_TEMP": str(home),
           "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true", "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "true",
           "ANSIBLE_CONFIG": str(home / "none.cfg")}
    done = subprocess.run([sys.executable, str(HERE / "oracle_batch.py"), *map(str, ENTRIES)], env=env,
                          capture_output=True, text=True, timeout=300, check=True)
    return json.loads(done.stdout)


def fields(envs: dict[str, tuple[Host, ...]]) -> dict[str, tuple[object, ...]]:
    return {h.name: (h.env, h.role, h.address, h.ssh.port, h.ssh.user, h.problem is not None)
            for hosts in envs.values() for h in hosts}


def test_the_manifest_names_the_source_of_every_inventory() -> None:
    rows = [line.split("\t") for line in (CORPUS / "MANIFEST.tsv").read_text().splitlines()
            if line and not line.startswith("#")]
    named = {(d, Path(path).name) for d, _repo, _commit, path in rows}  # inventories, group_vars/, host_vars/
    assert {(p.parent.name, p.name) for p in ENTRIES} <= named
    assert all((CORPUS / d / name).exists() for d, name in named)
    assert len(ENTRIES) >= 40 and all(len(commit) == 40 for _d, _r, commit, _p in rows)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_drift_lists_what_ansible_lists(entry: Path, oracle: dict[str, dict[str, object]]) -> None:
    said = oracle[str(entry)]
    try:
        mine = fields(load_hosts(entry, Convention(), SSHSettings(), env={})[0])  # the built-in reader only
    except InventoryError as exc:
        assert exc.path is not None and Path(exc.path).is_relative_to(CORPUS) and exc.line is not None
        if isinstance(exc, AnsibleOnly):
            assert "ansible-inventory" in str(exc) and "pip install ansible-core" in str(exc)
        return
    if said["rc"] != 0:
        assert mine == {}, "drift lists hosts from an inventory Ansible refuses"
        return
    theirs = fields(environments(external.from_json(str(said["stdout"]), entry), Convention(), SSHSettings()))
    assert set(mine) == set(theirs)
    agreed = {h: v for h, v in mine.items() if not v[-1]}  # a host refused on its own says why when used
    assert agreed == {h: v for h, v in theirs.items() if h in agreed}


@pytest.mark.skipif(external.find(os.environ) is None, reason="ansible-inventory is not on PATH")
def test_what_drift_cannot_read_goes_to_ansible_inventory(monkeypatch: pytest.MonkeyPatch) -> None:
    """An executable inventory script: the built-in reader refuses it, ansible-inventory runs it."""
    script = CORPUS / "041-ansible-inventory_script" / "inventory.sh"
    monkeypatch.chdir(script.parent)  # the script reads inventory.json from the working directory
    found = load_hosts(script, Convention(), SSHSettings(), env={"PATH": os.environ["PATH"], "HOME": "/nonexistent"})
    hosts = [h for hs in found[0].values() for h in hs]
    assert len(hosts) == 4 and all(h.problem is None for h in hosts)


@pytest.mark.skipif(external.find(os.environ) is None, reason="ansible-inventory is not on PATH")
def test_a_vault_file_is_read_with_the_users_own_vault_password(tmp_path: Path) -> None:
    (tmp_path / "pass").write_text("s3cret\n")
    (tmp_path / "hosts.ini").write_text("[web]\nw1 ansible_host=10.0.0.7\n[db]\nd1\n")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "ANSIBLE_LOCAL_TEMP": str(tmp_path),
           "ANSIBLE_VAULT_PASSWORD_FILE": str(tmp_path / "pass")}
    subprocess.run(["ansible-vault", "encrypt", str(tmp_path / "hosts.ini")], env=env, check=True,
                   capture_output=True, timeout=120)
    assert (tmp_path / "hosts.ini").read_text().startswith("$ANSIBLE_VAULT;")
    found = fields(load_hosts(tmp_path / "hosts.ini", Convention(), SSHSettings(), env=env)[0])
    assert found == {"w1": (tmp_path.name, "web", "10.0.0.7", None, None, False),
                     "d1": (tmp_path.name, "db", "d1", None, None, False)}
    with pytest.raises(InventoryError) as err:  # without the password: the file, the line, the fix
        load_hosts(tmp_path / "hosts.ini", Convention(), SSHSettings(), env={**env, "ANSIBLE_VAULT_PASSWORD_FILE": ""})
    assert err.value.line == 1 and "vault password" in str(err.value)
