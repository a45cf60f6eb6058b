"""Ansible inventories against real SSH hosts: the same lab described as an Ansible inventory gives the
same report as its drift.toml, and a missing identity file is one input error, not N host failures."""

from __future__ import annotations

import pytest

from tests.lab import fleet

pytestmark = pytest.mark.lab


def ansible_ini(lab) -> str:
    """The lab as Ansible sees a fleet: env groups of role groups, connection settings as variables."""
    out = ["[all:vars]", "ansible_user=root", f"ansible_ssh_private_key_file={lab.client_key}", ""]
    prefixes = {"staging": "stg", "prod": "prd", "mirror": "mir"}
    for env, prefix in prefixes.items():
        roles = sorted({r for h in fleet.LIVE if h.env == env for r in h.all_roles})
        for role in roles:  # a co-located host (web and worker) is in both groups
            out.append(f"[{prefix}_{role}]")
            out += [f"{h.name} ansible_host={h.address}" for h in fleet.LIVE if h.env == env and role in h.all_roles]
        out += [f"[{env}:children]", *(f"{prefix}_{role}" for role in roles), ""]
    return "\n".join(out) + "\n"


def test_ansible_inventory_reports_like_the_drift_toml(lab, drift, tmp_path):
    (tmp_path / "hosts.ini").write_text(ansible_ini(lab))
    toml = lab.inventory.read_text()
    settings = toml.split("[environments.", 1)[0]  # [ssh], [collect], [store] of the lab, no hosts
    (tmp_path / "drift.toml").write_text(settings + '\n[inventory.ansible]\npath = "hosts.ini"\n'
                                         'roles = ["web", "db", "worker"]\n')  # listed: co-located roles count
    code, via_ansible, err = drift.json("compare", "staging", "prod", "-i", str(tmp_path / "drift.toml"))
    assert code == 1, err
    code, via_toml, _ = drift.json("compare", "staging", "prod", "-i", str(lab.inventory))
    key = lambda r: sorted((f["path"], f["kind"], f["role"], f["message"]) for f in r["findings"])  # noqa: E731
    assert key(via_ansible) == key(via_toml) and via_ansible["findings"]
    assert via_ansible["left"]["hosts"] == via_toml["left"]["hosts"]


def test_missing_identity_file_in_the_ansible_inventory_is_exit_2(lab, drift, tmp_path):
    text = ansible_ini(lab).replace(str(lab.client_key), str(tmp_path / "no-such-key"))
    (tmp_path / "hosts.ini").write_text(text)
    settings = lab.inventory.read_text().split("[environments.", 1)[0]
    settings = "\n".join(line for line in settings.splitlines() if not line.startswith("identity_file"))
    (tmp_path / "drift.toml").write_text(settings + '\n[inventory.ansible]\npath = "hosts.ini"\n')
    code, _, err = drift("snapshot", "prod", "-i", str(tmp_path / "drift.toml"))
    assert code == 2 and f"hosts.ini:3: identity_file {tmp_path / 'no-such-key'}: no such file" in err


def test_ansible_inventory_given_directly_with_i(lab, drift, tmp_path, monkeypatch):
    """`-i hosts.ini` alone: connection settings from Ansible variables, host keys from ~/.ssh/known_hosts."""
    (tmp_path / "hosts.ini").write_text(ansible_ini(lab))
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "known_hosts").write_text(lab.known_hosts.read_text())
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DRIFT_STORE", str(tmp_path / "store.db"))
    code, report, err = drift.json("compare", "staging", "prod", "-i", str(tmp_path / "hosts.ini"))
    assert code == 1 and report["errors"] == [], err
    found = {(f["path"], role) for f in report["findings"] for role in f.get("roles", [f["role"]])}
    assert ("packages/deb/libssl3", "web") in found and ("packages/deb/libssl3", "db") in found
    assert report["right"]["hosts"] == sorted(h.name for h in fleet.LIVE if h.env == "prod")
