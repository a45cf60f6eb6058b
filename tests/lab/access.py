"""The lab's access paths and faults (fleet.ACCESS): login users and sudoers, a bastion with sshd's
default MaxStartups, a host with a real rpm database, a host that hangs half-way, a slow host.

Everything lives inside the lab hosts' own mount namespaces: passwd, group and sudoers are files in
the host's directory bind-mounted over /etc, so the real machine's accounts never change.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tests.lab import fleet
from tests.lab.fleet import ACCESS, BASTION, DIES, INNER, LOGIN_USERS, RPM_HOST, SLOW, SUDO_NOPASSWD, HostSpec

if TYPE_CHECKING:
    from tests.lab.lab import Lab

# Where `rpm` lives when the machine has no rpm package (a `dpkg -x` of Debian's rpm .deb): the
# rpm host then gets that bin directory as its /usr/local/bin. CI installs the package instead.
RPM_ROOT = os.environ.get("DRIFT_LAB_RPM_ROOT", "")


def rpm_ready() -> bool:
    """rpm's files are on this machine (Debian's rpm package, or rpm-common with RPM_ROOT)."""
    return Path("/usr/lib/rpm/macros").is_file() and Path("/var/lib/rpm").is_dir()


def is_access(h: HostSpec) -> bool:
    return h in ACCESS


def sshd_options(h: HostSpec) -> str:
    """sshd_config lines of the lab beyond the common ones; the bastion keeps sshd's defaults."""
    return "" if h == BASTION else "MaxStartups 200\n"


def home(lab: Lab, h: HostSpec, user: str) -> Path:
    return lab.host_dir(h) / "home" / user


def prepare(lab: Lab, h: HostSpec) -> None:
    """Write the host's accounts, sudoers and fault switches into its directory."""
    if not is_access(h):
        return
    d = lab.host_dir(h)
    root_shell = str(d / "slowsh") if h == SLOW else None
    passwd = []
    for line in Path("/etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if root_shell and fields[0] == "root" and len(fields) == 7:
            fields[6] = root_shell
        passwd.append(":".join(fields))
    group = Path("/etc/group").read_text().splitlines()
    for user, uid in LOGIN_USERS.items():
        h_dir = home(lab, h, user)
        h_dir.mkdir(parents=True)
        os.chown(h_dir, uid, uid)
        # "*": no password at all; key login only. Not "x", so neither sshd nor PAM looks for a
        # shadow entry (the real /etc/shadow is never copied: it holds hashes).
        passwd.append(f"{user}:*:{uid}:{uid}:drift lab:{h_dir}:/bin/sh")
        group.append(f"{user}:x:{uid}:")
    (d / "passwd").write_text("\n".join(passwd) + "\n")
    (d / "group").write_text("\n".join(group) + "\n")
    (d / "sudo-ts").mkdir(mode=0o700)
    sudoers = d / "sudoers"
    sudoers.write_text(
        "Defaults !lecture, !syslog, !fqdn, !use_pty\n"
        f"Defaults timestampdir={d / 'sudo-ts'}\n"
        'Defaults secure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\n'
        "root ALL=(ALL:ALL) ALL\n"
        f"deploy ALL=(root) NOPASSWD: {', '.join(SUDO_NOPASSWD)}\n")
    sudoers.chmod(0o440)
    if h == SLOW:
        _script(d / "slowsh", f'd=$(cat {d / "delay"} 2>/dev/null); sleep "${{d:-0}}"\nexec /bin/bash "$@"\n')
    if h == DIES:
        shutil.copy2("/usr/bin/dpkg-query", d / "dpkg-query.real")
        _script(d / "dpkg-query", (
            f'if [ -e {d / "hang"} ]; then\n'
            f'  {d / "dpkg-query.real"} "$@" | head -n 300\n'
            f'  touch {d / "started"}\n  exec sleep 120\nfi\n'
            f'exec {d / "dpkg-query.real"} "$@"\n'))
    if h == RPM_HOST and rpm_ready():
        (d / "rpmdb").mkdir()
        macros = Path("/usr/lib/rpm/macros").read_text()
        # As on an RPM distribution: one database in /var/lib/rpm (Debian's rpm uses ~/.rpmdb).
        macros = re.sub(r"(?m)^%_dbpath\s.*$", "%_dbpath\t\t/var/lib/rpm", macros)
        (d / "rpm-macros").write_text(macros)


def binds(lab: Lab, h: HostSpec) -> list[tuple[Path, str]]:
    """(file in the host's directory, path inside the host) pairs to bind-mount before sshd starts."""
    if not is_access(h):
        return []
    d = lab.host_dir(h)
    out = [(d / "passwd", "/etc/passwd"), (d / "group", "/etc/group")]
    if Path("/etc/sudoers").exists():
        out.append((d / "sudoers", "/etc/sudoers"))
    if h == DIES:
        out.append((d / "dpkg-query", "/usr/bin/dpkg-query"))
    if h == RPM_HOST and rpm_ready():
        out += [(d / "rpm-macros", "/usr/lib/rpm/macros"), (d / "rpmdb", "/var/lib/rpm")]
        if shutil.which("rpm") is None and RPM_ROOT:
            out.append((Path(RPM_ROOT) / "usr" / "bin", "/usr/local/bin"))
    return out


def finish(lab: Lab) -> None:
    """After every banner answered: the bastion joins the other hosts' subnets (on one bridge, so it
    reaches them without routing through this machine), and the inner host then answers it alone."""
    from tests.lab.lab import in_ns

    if BASTION in lab.hosts:
        for subnet in sorted({fleet.SUBNETS[h.env] for h in lab.hosts} - {fleet.SUBNETS[BASTION.env]}):
            in_ns(BASTION, "ip", "addr", "add", f"10.213.{subnet}.{BASTION.index}/24", "dev", "eth0")
    if INNER in lab.hosts:  # SSH only from the bastion: a run that reaches this host went through it
        in_ns(INNER, "iptables", "-I", "INPUT", "1", "-p", "tcp", "--dport", "22", "!", "-s", BASTION.address,
              "-j", "REJECT", "--reject-with", "tcp-reset")


def interpreter() -> str:
    """A Python every login user can run for the lab's venv (this one may live under /root)."""
    mine = Path(sys.executable).resolve()
    system = Path("/usr/bin/python3")
    same = system.exists() and system.resolve().name == f"python{sys.version_info[0]}.{sys.version_info[1]}"
    if _world_executable(mine) or not same:
        return sys.executable
    return str(system)


def _world_executable(path: Path) -> bool:
    return all(p.stat().st_mode & stat.S_IXOTH for p in (path, *path.parents))


def _script(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)

