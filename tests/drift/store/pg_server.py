"""A real PostgreSQL server for the tests: Debian's postgresql package, initdb in a temp dir, a unix
socket only (no TCP), stopped at the end. Skipped with the reason where it cannot start, failed
where DRIFT_POSTGRES=required (CI)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def unavailable() -> str | None:
    if _bin() is None:
        return "PostgreSQL is not installed (apt-get install postgresql)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e .)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "no postgres user to run the server as (the server refuses root)"
    return None


@contextmanager
def server() -> Iterator[str]:
    """Yields a URL of a fresh database on a private server."""
    bindir = _bin()
    assert bindir is not None
    root = Path(tempfile.mkdtemp(prefix="drift-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    run = dict(check=True, capture_output=True, text=True, timeout=120)
    try:
        subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                        "--no-sync", "-E", "UTF8"], **run)  # type: ignore[call-overload]
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                        f"-c listen_addresses='' -c unix_socket_directories='{sock}' -c fsync=off", "start"],
                       **run)  # type: ignore[call-overload]
        try:
            subprocess.run([*as_user, str(bindir / "createdb"), "-h", str(sock), "-U", "postgres", "drift"],
                           **run)  # type: ignore[call-overload]
            yield f"postgresql://postgres@/drift?host={sock}"
        finally:
            subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                           capture_output=True, timeout=60)
    finally:
        shutil.rmtree(root, ignore_errors=True)
