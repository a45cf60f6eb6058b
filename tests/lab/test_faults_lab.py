"""Faults on real hosts: sshd killed mid-transfer, a very slow host, a store on a full disk. Each is
recorded as failed or refused with a clear error, the other hosts are collected, and nothing already
written (snapshot files, store rows, baselines) is torn or lost."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from drift.model import snapshot
from tests.lab.fleet import DIES, LIVE, SLOW, HostSpec
from tests.lab.lab import sh

pytestmark = pytest.mark.lab

PEERS = [h for h in LIVE if h.env == "staging"]


def inventory(lab, path: Path, hosts: list[HostSpec], store: Path | None = None, **ssh: object) -> Path:
    rows = [f'  {{ name = "{h.name}", address = "{h.address}", role = "{h.role}" }},' for h in hosts]
    text = lab.toml(envs=(), **ssh) + "\n[environments.faults]\nhosts = [\n" + "\n".join(rows) + "\n]\n"
    if store is not None:
        text = text.replace(f'path = "{lab.root / "drift.db"}"', f'path = "{store}"')
    path.write_text(text)
    return path


def store_rows(db: Path) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as c:
        assert c.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return c.execute("SELECT host, collected_at, status FROM snapshots ORDER BY id").fetchall()


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# -- sshd killed mid-transfer --------------------------------------------------------------------

SCRIPT = ("sh", "sleep", "dpkg-query", "head")  # the collection script and what it runs


def kill(h: HostSpec, names: tuple[str, ...]) -> int:
    """SIGKILL every process named so in the host's network namespace; how many."""
    killed = 0
    for pid in map(int, sh("ip", "netns", "pids", h.netns).split()):
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/comm").read_text().strip() in names:
                os.kill(pid, signal.SIGKILL)
                killed += 1
    return killed


def restart_sshd(lab, h: HostSpec) -> None:
    kill(h, SCRIPT)  # the orphaned session's
    lab._start_sshd(h)
    for _ in range(200):
        with contextlib.suppress(OSError), socket.create_connection((h.address, 22), timeout=1) as s:
            if s.recv(64).startswith(b"SSH-"):
                return
        time.sleep(0.05)
    raise AssertionError(f"sshd on {h.name} did not come back")


# Killing sshd mid-transfer: a loaded client may see the session's channel end (no exit status) before
# the connection's; both say the host failed and nothing was kept, which is what is asserted.
@pytest.mark.parametrize("victim, says", [("sshd", ("the connection closed mid-transfer",
                                                    "the collection script was killed on the host")),
                                           ("script", ("the collection script was killed on the host",))])
def test_a_host_whose_sshd_or_script_dies_mid_transfer_is_failed_and_nothing_is_torn(lab, drift, tmp_path,
                                                                                      victim, says):
    hosts, d, out = [DIES, *PEERS], lab.host_dir(DIES), tmp_path / "out"
    inv = inventory(lab, tmp_path / "drift.toml", hosts, store=tmp_path / "drift.db")
    code, _, err = drift("snapshot", "faults", "-i", str(inv), "-o", str(out))
    assert code == 0, err
    code, _, err = drift("baseline", "save", "faults", "-i", str(inv), "-o", str(tmp_path / "base.json"))
    assert code == 0, err
    before_rows, base = store_rows(tmp_path / "drift.db"), (tmp_path / "base.json").read_bytes()
    (d / "hang").touch()
    try:
        result: list[tuple[int, str, str]] = []
        run = threading.Thread(target=lambda: result.append(drift("snapshot", "faults", "-i", str(inv), "-o", str(out))))
        run.start()
        for _ in range(300):  # the host has sent part of its output, and waits
            if (d / "started").exists():
                break
            time.sleep(0.05)
        assert (d / "started").exists(), "the host never started sending"
        time.sleep(0.2)
        assert kill(DIES, ("sshd",) if victim == "sshd" else SCRIPT) >= 2
        run.join(60)
        assert not run.is_alive()
    finally:
        (d / "hang").unlink()
        (d / "started").unlink(missing_ok=True)
        if victim == "sshd":
            restart_sshd(lab, DIES)
    code, _, err = result[0]
    assert code == 3, err
    dead = snapshot.load(out / f"{DIES.name}.json")
    assert dead.failed and (dead.error or "").startswith(says), dead.error
    assert any(f"{DIES.name}: {said}" in err for said in says)
    for h in PEERS:  # the others, collected again and whole
        assert not snapshot.load(out / f"{h.name}.json").failed
    rows = store_rows(tmp_path / "drift.db")
    assert rows[: len(before_rows)] == before_rows  # nothing lost
    assert sorted((r[0], r[2]) for r in rows[len(before_rows):]) == sorted(
        [(DIES.name, "failed")] + [(h.name, "ok") for h in PEERS])
    assert (tmp_path / "base.json").read_bytes() == base
    assert not list(out.glob(".*.tmp"))


# -- a very slow host ----------------------------------------------------------------------------

def test_a_very_slow_host_is_bounded_by_the_timeout_and_collected_when_given_the_time(lab, drift, tmp_path):
    """No netem in this kernel: the host's login shell sleeps before it runs anything."""
    hosts, delay = [SLOW, *PEERS], lab.host_dir(SLOW) / "delay"
    inv = inventory(lab, tmp_path / "drift.toml", hosts, store=tmp_path / "drift.db")
    try:
        delay.write_text("60")
        started = time.monotonic()
        code, _, err = drift("snapshot", "faults", "-i", str(inv), "-o", str(tmp_path / "fast"), "--timeout", "3")
        elapsed = time.monotonic() - started
        assert code == 3, err
        slow = snapshot.load(tmp_path / "fast" / f"{SLOW.name}.json")
        assert slow.failed and "deadline" in (slow.error or ""), slow.error
        assert all(not snapshot.load(tmp_path / "fast" / f"{h.name}.json").failed for h in PEERS)
        assert elapsed < 8, f"a 3 s timeout took {elapsed:.1f} s"
        delay.write_text("2")
        code, _, err = drift("snapshot", "faults", "-i", str(inv), "-o", str(tmp_path / "patient"), "--timeout", "20")
        assert code == 0, err
        assert snapshot.load(tmp_path / "patient" / f"{SLOW.name}.json").facts()["system/hostname"] == SLOW.name
    finally:
        delay.write_text("0")


# -- a store on a full disk ----------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "drift-lab-full", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    filler = folder / "filler"
    with filler.open("wb") as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 65536)
            f.flush()
    return filler


def test_a_store_on_a_full_disk_refuses_the_run_and_keeps_everything_it_had(lab, drift, tmp_path, small_disk):
    db, out, base = small_disk / "drift.db", small_disk / "snaps", small_disk / "base.json"
    inv = inventory(lab, tmp_path / "drift.toml", PEERS, store=db)
    code, _, err = drift("snapshot", "faults", "-i", str(inv), "-o", str(out))
    assert code == 0, err
    code, _, err = drift("baseline", "save", "faults", "-i", str(inv), "-o", str(base))
    assert code == 0, err
    rows, snaps, saved = store_rows(db), files(out), base.read_bytes()
    filler = fill(small_disk)
    for args in (("snapshot", "faults", "-o", str(out)), ("snapshot", "faults"), ("baseline", "save", "faults",
                                                                                     "-o", str(base))):
        code, _, err = drift(*args, "-i", str(inv))
        assert code == 2, (args, err)  # the command could not run: not "drift found", not a bug
        assert "internal error" not in err and "Traceback" not in err
        assert "No space left on device" in err or "no space left" in err, err
    assert files(out) == snaps and base.read_bytes() == saved
    filler.unlink()  # room again (SQLite needs some even to read its WAL): the same store, as it was
    assert store_rows(db) == rows
    code, _, err = drift("snapshot", "faults", "-i", str(inv))
    assert code == 0, err
    assert len(store_rows(db)) == len(rows) + len(PEERS)
