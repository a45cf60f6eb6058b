"""Real access paths: a non-root user with and without sudo, a bastion (ProxyJump) with sshd's default
MaxStartups, and a real rpm database."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from drift.model import snapshot
from tests.lab.fleet import BASTION, INNER, LIVE, RPM_HOST, SUDO_NOPASSWD, HostSpec

pytestmark = pytest.mark.lab

FIREWALL = {"iptables", "ip6tables", "nft"}


def inventory(lab, path: Path, hosts: list[tuple[str, HostSpec]], env: str = "access", **ssh: object) -> Path:
    """The lab's settings, with `hosts` as (inventory name, lab host) in one environment."""
    rows = [f'  {{ name = "{name}", address = "{h.address}", role = "{h.role}" }},' for name, h in hosts]
    path.write_text(lab.toml(envs=(), **ssh) + f"\n[environments.{env}]\nhosts = [\n" + "\n".join(rows) + "\n]\n")
    return path


def collected(drift, inv: Path, out: Path, *args: str) -> tuple[int, dict[str, snapshot.Snapshot], str]:
    code, _, err = drift("snapshot", "access", "-i", str(inv), "-o", str(out), *args)
    return code, {p.stem: snapshot.load(p) for p in out.glob("*.json")}, err


def needs_sudo() -> None:
    if not Path("/etc/sudoers").exists():
        pytest.fail("Debian's sudo package is not installed (.ci/run installs it)")


# -- sudo -----------------------------------------------------------------------------------------

def test_a_login_user_with_sudo_for_the_firewall_reads_collects_what_root_collects(lab, drift, tmp_path):
    needs_sudo()
    hosts = [(RPM_HOST.name, RPM_HOST)]
    code, as_root, err = collected(drift, inventory(lab, tmp_path / "root.toml", hosts), tmp_path / "root")
    assert code == 0, err
    code, as_deploy, err = collected(drift, inventory(lab, tmp_path / "deploy.toml", hosts, user="deploy", sudo=True),
                                     tmp_path / "deploy")
    assert code == 0, err
    root, deploy = as_root[RPM_HOST.name], as_deploy[RPM_HOST.name]
    assert {n: r.status for n, r in deploy.collectors.items()} == {n: r.status for n, r in root.collectors.items()}
    for name in FIREWALL:
        assert deploy.collectors[name].facts == root.collectors[name].facts, name
    assert deploy.facts()["firewall/iptables/filter/FORWARD"]["policy"] == "DROP"


@pytest.mark.parametrize("sudo", [True, False], ids=["sudo-refused", "no-sudo"])
def test_a_user_without_sudo_rights_loses_the_firewall_only(lab, drift, tmp_path, sudo):
    needs_sudo()
    hosts = [(RPM_HOST.name, RPM_HOST)]
    inv = inventory(lab, tmp_path / "nosudo.toml", hosts, user="nosudo", sudo=sudo)
    code, snaps, err = collected(drift, inv, tmp_path / "out")
    assert code == 3, err  # unknown, not "no drift"
    snap = snaps[RPM_HOST.name]
    assert not snap.failed
    failed = {n for n, r in snap.collectors.items() if r.status == "failed"}
    assert failed == FIREWALL, {n: r.error for n, r in snap.collectors.items() if r.status == "failed"}
    for name in FIREWALL:
        error = snap.collectors[name].error or ""
        assert error.startswith("permission denied"), error
        assert "sudo = true" in error and "NOPASSWD" in error
    assert snap.facts()["system/hostname"] == RPM_HOST.name
    assert any(p.startswith("packages/deb/") for p in snap.facts())


def test_the_sudoers_rules_name_exactly_the_commands_drift_runs_through_sudo(lab):
    import collectors
    from collectors.interface import CollectConfig

    privileged = {c.command(CollectConfig()) for c in collectors.REGISTRY if c.privileged}
    assert {rule.rsplit("/", 1)[1] for rule in SUDO_NOPASSWD} == privileged
