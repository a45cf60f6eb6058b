"""A real PostgreSQL server for the tests: initdb in a temp dir, a unix socket, no TCP port.

Started once per session from Debian's postgresql package binaries. As root the server runs as
the `postgres` system user (PostgreSQL refuses to run as root). Where it cannot start, tests skip
with the reason, unless DRIFT_POSTGRES=required (CI), which makes them fail instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return versions[-1] if versions else None


class Server:
    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        self.socket = root  # the server's unix socket lives here

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://drift@/{database}?host={self.socket}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


def start() -> Iterator[Server] | str:
    """A generator yielding a running server (stopped on close), or the reason it cannot start."""
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not (initdb and pg_ctl):
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed (Debian: postgresql)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run the server as"
    return _run(initdb, pg_ctl)


def _run(initdb: str, pg_ctl: str) -> Iterator[Server]:
    root = Path(tempfile.mkdtemp(prefix="drift-pg-"))
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(root, entry.pw_uid, entry.pw_gid)
    server = Server(root)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "check": True}
    try:
        subprocess.run(_as_server_user([initdb, "-D", str(server.data), "-U", "drift", "-A", "trust",
                                        "--no-sync", "-E", "UTF8", "--locale", "C"]), **quiet)
        options = f"-k {root} -c listen_addresses='' -c fsync=off -c max_connections=40"
        subprocess.run(_as_server_user([pg_ctl, "-D", str(server.data), "-o", options, "-w", "-t", "30",
                                        "-l", str(root / "log"), "start"]), **quiet)
        yield server
    finally:
        subprocess.run(_as_server_user([pg_ctl, "-D", str(server.data), "-m", "immediate", "-w", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(root, ignore_errors=True)
