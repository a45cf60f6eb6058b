"""Collection through an engine: real ansible-core runs `drift script` on the lab hosts
(`ansible all -m script --tree`), and `drift ingest` records the very snapshots `drift snapshot` does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from drift.model import snapshot
from tests.lab.fleet import LIVE

pytestmark = pytest.mark.lab


def _ansible() -> str:
    found = shutil.which("ansible") or str(Path(sys.executable).with_name("ansible"))
    if not Path(found).exists():
        if os.environ.get("DRIFT_LAB") == "required":
            pytest.fail("ansible-core is not installed (pip install -e '.[test]')")
        pytest.skip("ansible-core is not installed")
    return found


def _comparable(s: snapshot.Snapshot) -> dict[str, object]:
    doc = s.to_dict()
    del doc["collected_at"], doc["host_key"]  # the time of each run; only SSH sees the host key
    return doc


def test_ansible_script_then_ingest_equals_drift_snapshot(lab, drift, tmp_path):
    ansible = _ansible()
    envs = sorted({h.env for h in LIVE})
    code, _, err = drift("snapshot", *envs, "-i", str(lab.inventory), "-o", str(tmp_path / "own"))
    assert code in (0, 3), err  # 3: a collector the hosts cannot answer; the ingest must say the same
    own_code = code
    code, script, err = drift("script", "-i", str(lab.inventory))
    assert code == 0, err
    (tmp_path / "drift.sh").write_text(script)

    # An inventory generated from the lab's hosts, with the lab's key and known_hosts: strict host keys.
    (tmp_path / "hosts.ini").write_text("".join(
        f"[{env}]\n" + "".join(f"{h.name} ansible_host={h.address}\n" for h in LIVE if h.env == env)
        for env in envs))
    (tmp_path / "ansible.cfg").write_text(
        "[defaults]\nhost_key_checking = True\nremote_user = root\n"
        f"private_key_file = {lab.client_key}\nforks = {len(LIVE)}\n"
        f"local_tmp = {tmp_path / 'ansible-local'}\n"
        f"[ssh_connection]\nssh_args = -F /dev/null -o UserKnownHostsFile={lab.known_hosts} "
        "-o ControlMaster=no -o ControlPath=none\n")
    env = {**os.environ, "ANSIBLE_CONFIG": str(tmp_path / "ansible.cfg"), "ANSIBLE_HOME": str(tmp_path / "ah")}
    done = subprocess.run([ansible, "all", "-i", str(tmp_path / "hosts.ini"), "-m", "script",
                           "-a", str(tmp_path / "drift.sh"), "--tree", str(tmp_path / "tree")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    for name in envs:  # one ingest per environment, as a fleet would run it
        folder = tmp_path / "tree-by-env" / name
        folder.mkdir(parents=True)
        for h in LIVE:
            if h.env == name:
                shutil.copy(tmp_path / "tree" / h.name, folder / h.name)
        code, _, err = drift("ingest", str(folder), "--env", name, "-i", str(lab.inventory),
                             "-o", str(tmp_path / "ingested"))
        assert code in (0, own_code), err

    for h in LIVE:
        own = snapshot.load(tmp_path / "own" / f"{h.name}.json")
        got = snapshot.load(tmp_path / "ingested" / f"{h.name}.json")
        assert got.host_key is None and own.host_key is not None
        assert _comparable(got) == _comparable(own), h.name
