"""Real access paths: a non-root user with and without sudo, a bastion (ProxyJump) with sshd's default
MaxStartups, and a real rpm database."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from drift.model import snapshot
from tests.lab.access import RPM_ROOT, rpm_ready
from tests.lab.fleet import BASTION, INNER, LIVE, RPM_HOST, SUDO_NOPASSWD, HostSpec

pytestmark = pytest.mark.lab

# The privileged reads; ipset's only where the tool is installed (the lab hosts share the machine's /usr).
FIREWALL = {"iptables", "ip6tables", "nft"} | ({"ipset"} if shutil.which("ipset") else set())


def inventory(lab, path: Path, hosts: list[tuple[str, HostSpec]], env: str = "access", **ssh: object) -> Path:
    """The lab's settings, with `hosts` as (inventory name, lab host) in one environment."""
    rows = [f'  {{ name = "{name}", address = "{h.address}", role = "{h.role}" }},' for name, h in hosts]
    path.write_text(lab.toml(envs=(), **ssh) + f"\n[environments.{env}]\nhosts = [\n" + "\n".join(rows) + "\n]\n")
    return path


def collected(drift, inv: Path, out: Path, *args: str) -> tuple[int, dict[str, snapshot.Snapshot], str]:
    code, _, err = drift("snapshot", "access", "-i", str(inv), "-o", str(out), *args)
    return code, {p.stem: snapshot.load(p) for p in out.glob("*.json")}, err


def missing(what: str) -> None:
    """Skip, or fail where the lab is required (CI): .ci/run installs what these tests need."""
    message = f"{what} is not installed (.ci/run installs it)"
    if os.environ.get("DRIFT_LAB") == "required":
        pytest.fail(message)
    pytest.skip(message)


def needs_sudo() -> None:
    if not Path("/etc/sudoers").exists():
        missing("Debian's sudo package")


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
    # Containers are the user's own runtime's (never through sudo: a script sudoers cannot allow
    # narrowly), so on a machine where root runs podman, root sees them and deploy cannot.
    same = {n for n, r in root.collectors.items() if r.category != "containers"}
    assert {n: r.status for n, r in deploy.collectors.items() if n in same} == \
        {n: r.status for n, r in root.collectors.items() if n in same}
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


# -- a real rpm database -------------------------------------------------------------------------

# name, epoch, version, release, arch: an epoch, a multilib pair, a noarch package.
RPMS = (("acme-agent", "2", "1.2.3", "4.lab", "noarch"), ("glibc", "", "2.34", "100.el9_4.2", "x86_64"),
        ("glibc", "", "2.34", "100.el9_4.2", "i686"), ("openssl-libs", "1", "3.0.7", "27.el9", "x86_64"),
        ("tzdata", "", "2024a", "1.el9", "noarch"))
RPM_FIXTURE = Path(__file__).parents[1] / "collectors" / "fixtures" / "rpm" / "lab_rpmdb.json"


def rpm_tool(name: str) -> str:
    found = shutil.which(name) or (Path(RPM_ROOT, "usr", "bin", name) if RPM_ROOT else None)
    if not found or not Path(found).exists():
        missing(f"{name} (Debian's rpm package)")
    return str(found)


def build_rpms(workdir: Path) -> list[Path]:
    """Empty packages with real headers, built by rpmbuild; never touching ~/.rpmdb."""
    for name, epoch, version, release, arch in RPMS:
        spec = workdir / f"{name}.spec"
        spec.write_text(f"Name: {name}\n" + (f"Epoch: {epoch}\n" if epoch else "") +
                        f"Version: {version}\nRelease: {release}\nSummary: drift lab\nLicense: MIT\n"
                        + ("BuildArch: noarch\n" if arch == "noarch" else "") + "%description\nlab\n%files\n")
        target = [] if arch == "noarch" else ["--target", arch]
        subprocess.run([rpm_tool("rpmbuild"), "-bb", "--quiet", *target, "--define", f"_topdir {workdir}/top",
                        "--define", f"_dbpath {workdir}/builddb", "--define", "__os_install_post %{nil}",
                        str(spec)], check=True, capture_output=True)
    return sorted((workdir / "top" / "RPMS").glob("*/*.rpm"))


def on_host(lab, h: HostSpec, command: str) -> str:
    """COMMAND on the host through the OpenSSH client, as an operator would run it."""
    done = subprocess.run(["ssh", "-F", "/dev/null", "-T", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                           "-o", f"UserKnownHostsFile={lab.known_hosts}", "-i", str(lab.client_key),
                           f"root@{h.address}", command], capture_output=True, text=True, timeout=30, check=True)
    return done.stdout


@pytest.fixture(scope="module")
def rpm_host(lab, tmp_path_factory):
    if not rpm_ready():
        missing("Debian's rpm package")
    db = lab.host_dir(RPM_HOST) / "rpmdb"
    if not (db / "rpmdb.sqlite").exists():
        rpms = build_rpms(tmp_path_factory.mktemp("rpm"))
        subprocess.run([rpm_tool("rpmdb"), "--initdb", "--dbpath", str(db)], check=True, capture_output=True)
        subprocess.run([rpm_tool("rpm"), "-i", "--justdb", "--nodeps", "--dbpath", str(db), *map(str, rpms)],
                       check=True, capture_output=True)
    return RPM_HOST


def test_the_rpm_collector_reads_what_rpm_qa_lists_on_the_host(lab, drift, tmp_path, rpm_host):
    listed = on_host(lab, rpm_host, "rpm -qa --qf '%{NAME} %{EPOCHNUM} %{VERSION}-%{RELEASE} %{ARCH}\\n'")
    want = {tuple(line.split()) for line in listed.splitlines()}
    assert len(want) == len(RPMS)
    for user, sudo in (("root", False), ("deploy", True)):
        inv = inventory(lab, tmp_path / f"{user}.toml", [(rpm_host.name, rpm_host)], user=user, sudo=sudo)
        code, snaps, err = collected(drift, inv, tmp_path / user, "--category", "packages")
        assert code == 0, err
        rpm = snaps[rpm_host.name].collectors["rpm"]
        assert rpm.status == "ok", rpm.error
        got = set()
        for path, fact in rpm.facts.items():
            name = path.removeprefix("packages/rpm/").split(":")[0]
            epoch, _, evr = fact["version"].rpartition(":")
            got.add((name, epoch or "0", evr, fact["arch"]))
        assert got == want, user
    # The collector's golden fixture is this host's real output: it must still be what rpm prints.
    import collectors.packages as packages
    from collectors.interface import CollectConfig

    if os.environ.get("DRIFT_CAPTURE"):  # DRIFT_CAPTURE=1 pytest -k rpm_qa: recapture after a command change
        output = on_host(lab, rpm_host, packages.RPM_COMMAND)
        RPM_FIXTURE.write_text(json.dumps({
            "source": "captured on the drift lab: Debian 12's rpm 4.18, a database built by rpmbuild and "
                      "rpm -i --justdb (tests/lab/test_access_lab.py)",
            "command": packages.RPM_COMMAND, "config": {}, "output": output,
            "facts": dict(packages.parse_rpm(output, CollectConfig()))}, indent=1, ensure_ascii=False) + "\n")
    fixture = json.loads(RPM_FIXTURE.read_text())
    assert fixture["command"] == packages.RPM_COMMAND
    live = on_host(lab, rpm_host, fixture["command"])
    assert sorted(live.splitlines()) == sorted(fixture["output"].splitlines())


@pytest.mark.parametrize("where", ["inventory", "ssh config"])
def test_two_jump_hosts_are_visited_in_openssh_order(lab, drift, tmp_path, where):
    # The inner host answers only the bastion: the chain works only if the bastion is dialled first.
    chain = f"deploy@{BASTION.address},deploy@{INNER.address}"
    hosts = [(RPM_HOST.name, RPM_HOST)]
    if where == "inventory":
        inv = inventory(lab, tmp_path / "drift.toml", hosts, proxy_jump=chain)
    else:
        config = tmp_path / "ssh_config"
        config.write_text(f"Host {RPM_HOST.address}\n  ProxyJump {chain}\n")
        inv = inventory(lab, tmp_path / "drift.toml", hosts, config=str(config))
    code, snaps, err = collected(drift, inv, tmp_path / "out", "--category", "system")
    assert code == 0, err
    assert snaps[RPM_HOST.name].facts()["system/hostname"] == RPM_HOST.name


def test_proxyjump_from_the_users_own_ssh_config(lab, tmp_path):
    """~/.ssh/config itself, as an operator has it: drift run as a process with HOME pointing here."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    ssh_config(lab, home / ".ssh" / "config")
    hosts = [(INNER.name, INNER), (LIVE[0].name, LIVE[0])]
    inv = inventory(lab, tmp_path / "drift.toml", hosts)
    done = subprocess.run([sys.executable, "-m", "drift", "snapshot", "access", "-i", str(inv), "-o",
                           str(tmp_path / "out"), "--verbose"], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parents[2], env={**os.environ, "HOME": str(home), "CI": "1"})
    assert done.returncode == 0, done.stderr
    assert snapshot.load(tmp_path / "out" / f"{INNER.name}.json").facts()["system/hostname"] == INNER.name
