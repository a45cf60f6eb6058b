"""Real access paths: a non-root user with and without sudo, a bastion (ProxyJump) with sshd's default
MaxStartups, and a real rpm database."""

from __future__ import annotations

import socket
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


# -- a bastion with sshd's default MaxStartups ---------------------------------------------------

def through_bastion(copies: int = 3, inner: int = 5) -> list[tuple[str, HostSpec]]:
    """More inventory hosts than MaxStartups' 10: every lab host a few times, and the host that
    answers only its bastion."""
    return ([(f"via-{h.name}-{k}", h) for k in range(copies) for h in LIVE]
            + [(f"via-{INNER.name}-{k}", INNER) for k in range(inner)])


def ssh_config(lab, path: Path) -> Path:
    path.write_text(
        f"Host bastion\n  HostName {BASTION.address}\n  User deploy\n  IdentityFile {lab.client_key}\n"
        f"Host 10.213.1.* 10.213.2.* 10.213.3.* {INNER.address}\n  ProxyJump bastion\n")
    return path


def test_the_inner_host_answers_only_its_bastion(lab, drift, tmp_path):
    code, snaps, _ = collected(drift, inventory(lab, tmp_path / "direct.toml", [(INNER.name, INNER)]),
                               tmp_path / "out", "--timeout", "5")
    assert code == 3 and snaps[INNER.name].failed


def test_proxyjump_from_ssh_config_collects_every_host_at_jobs_32(lab, drift, tmp_path):
    hosts = through_bastion()
    assert len(hosts) > 32
    inv = inventory(lab, tmp_path / "drift.toml", hosts, config=str(ssh_config(lab, tmp_path / "ssh_config")))
    code, snaps, err = collected(drift, inv, tmp_path / "out", "--jobs", "32", "--verbose")
    assert code == 0, err
    assert sorted(snaps) == sorted(name for name, _ in hosts)
    assert all(not s.failed for s in snaps.values())
    assert snaps[f"via-{INNER.name}-0"].facts()["system/hostname"] == INNER.name
    assert f"pacing SSH handshakes to {BASTION.address}:22" in err


def test_proxy_jump_from_the_inventory(lab, drift, tmp_path):
    hosts = through_bastion(copies=1, inner=2)
    inv = inventory(lab, tmp_path / "drift.toml", hosts, proxy_jump=f"deploy@{BASTION.address}")
    code, snaps, err = collected(drift, inv, tmp_path / "out", "--jobs", "32")
    assert code == 0, err
    assert sorted(snaps) == sorted(name for name, _ in hosts) and not any(s.failed for s in snaps.values())


def test_a_bastion_refusing_every_new_connection_is_retried_with_backoff(lab, drift, tmp_path):
    # 100 connections in their handshake: MaxStartups 10:30:100 now drops every new one, until
    # they go away a second later.
    held = [socket.create_connection((BASTION.address, 22), timeout=5) for _ in range(100)]
    try:
        import threading

        timer = threading.Timer(1.5, lambda: [s.close() for s in held])
        timer.start()
        hosts = through_bastion(copies=1, inner=1)
        inv = inventory(lab, tmp_path / "drift.toml", hosts, proxy_jump=f"deploy@{BASTION.address}",
                        connect_timeout=20)
        code, snaps, err = collected(drift, inv, tmp_path / "out", "--jobs", "32", "--verbose")
        timer.join()
    finally:
        for s in held:
            s.close()
    assert code == 0, err
    assert not any(s.failed for s in snaps.values()) and len(snaps) == len(hosts)
    assert "dropped the connection before the SSH handshake (sshd MaxStartups?); retry" in err
