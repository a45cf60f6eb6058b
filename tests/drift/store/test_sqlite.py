import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest

from drift.core.errors import InputError
from drift.model.snapshot import CollectorResult, Snapshot
from drift.store.sqlite import SCHEMA_VERSION, Store


def snap(host="w1", at="2026-11-20T03:00:00Z", version="1.0", packages=3000, env="prod"):
    facts = {f"packages/deb/p{i}": {"version": version if i == 0 else "1.0", "arch": "amd64"} for i in range(packages)}
    return Snapshot(host=host, env=env, role="web", address="10.0.0.1", collected_at=at, drift_version="0.1.0",
                    host_key={"type": "ssh-ed25519", "sha256": "SHA256:x"},
                    collectors={"dpkg": CollectorResult("dpkg", "packages", "ok", None, facts),
                                "nft": CollectorResult("nft", "firewall", "failed", "exited 1: denied")})


def test_round_trip(tmp_path):
    with Store.open(tmp_path / "s.db") as store:
        store.record([snap(), snap("w2")])
        assert store.latest("prod") == [snap(), snap("w2")]
        assert store.latest("staging") == []


def test_an_unchanged_host_costs_almost_nothing(tmp_path):
    path = tmp_path / "s.db"
    with Store.open(path) as store:
        store.record([snap(at="2026-11-20T03:00:00Z")])
        before = store.conn.execute("SELECT SUM(LENGTH(body)) FROM blobs").fetchone()[0]
        store.record([snap(at="2026-11-21T03:00:00Z")])
        after = store.conn.execute("SELECT SUM(LENGTH(body)) FROM blobs").fetchone()[0]
        assert before == after and before > 100_000
        assert [s.collected_at for s in store.snapshots(host="w1")] == ["2026-11-20T03:00:00Z", "2026-11-21T03:00:00Z"]


def test_prune_keeps_the_newest_of_each_host(tmp_path):
    now = datetime(2026, 11, 22, tzinfo=timezone.utc)
    with Store.open(tmp_path / "s.db") as store:
        store.record([snap("w1", "2026-01-01T00:00:00Z", "a"), snap("w1", "2026-11-21T00:00:00Z", "b"),
                      snap("old", "2026-01-01T00:00:00Z", "c")])
        assert store.prune(keep_days=30, now=now) == 1
        assert {(s.host, s.collected_at) for s in store.snapshots()} == {
            ("w1", "2026-11-21T00:00:00Z"), ("old", "2026-01-01T00:00:00Z")}
        versions = {b for (b,) in store.conn.execute("SELECT body FROM blobs")}
        assert not any('"version":"a"' in b for b in versions)


def test_a_corrupt_file_is_bad_input(tmp_path):
    bad = tmp_path / "s.db"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(InputError, match="not a usable drift store"):
        Store.open(bad)


def test_a_newer_schema_is_refused_and_an_older_one_migrated(tmp_path):
    path = tmp_path / "s.db"
    sqlite3.connect(path).execute("PRAGMA user_version = 99")
    with pytest.raises(InputError, match="newer"):
        Store.open(path)
    fresh = tmp_path / "f.db"
    sqlite3.connect(fresh).close()
    with Store.open(fresh) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def _writer(path, name, rounds):
    with Store.open(path) as store:
        for i in range(rounds):
            store.record([snap(f"{name}-{i}", packages=50)])


def test_two_concurrent_writers(tmp_path):
    path = tmp_path / "s.db"
    procs = [multiprocessing.Process(target=_writer, args=(path, n, 40)) for n in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with Store.open(path) as store:
        assert len(store.latest()) == 80
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_writer_killed_mid_write_leaves_a_readable_store(tmp_path):
    path = tmp_path / "s.db"
    with Store.open(path) as store:
        store.record([snap("before", packages=10)])
    code = (
        f"import sys; sys.path.insert(0, {os.getcwd()!r})\n"
        "from tests.drift.store.test_sqlite import snap\n"
        "from drift.store.sqlite import Store\n"
        f"s = Store.open({str(path)!r})\n"
        "print('ready', flush=True)\n"
        "while True: s.record([snap('loop-%d' % i, packages=20000) for i in range(3)])\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"ready"
    time.sleep(0.8)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Store.open(path) as store:
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        hosts = [s.host for s in store.latest()]
        assert "before" in hosts
        # Batches are atomic: every recorded batch has all three of its hosts.
        loops = store.conn.execute("SELECT COUNT(*) FROM snapshots WHERE host LIKE 'loop-%'").fetchone()[0]
        assert loops % 3 == 0
