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
        # One batch each: in one batch, w1's first table would be the base the others are deltas of.
        for one in (snap("w1", "2026-01-01T00:00:00Z", "a"), snap("w1", "2026-11-21T00:00:00Z", "b"),
                    snap("old", "2026-01-01T00:00:00Z", "c")):
            store.record([one])
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


def _compacted(snaps):
    from drift.model.facts import Tables
    from drift.model.snapshot import compacted

    tables = Tables()
    return [compacted(s, tables) for s in snaps]


def test_a_role_stores_one_table_and_a_delta_per_host(tmp_path):
    fleet = _compacted([snap(f"w{i}", version=f"1.{i}") for i in range(50)])
    with Store.open(tmp_path / "s.db") as store:
        store.record(fleet)
        blobs = store.conn.execute("SELECT COUNT(*), SUM(LENGTH(body)) FROM blobs").fetchone()
        # One 3,000-package base, one small delta per host, one empty table for the failed collector.
        assert blobs[0] <= 52 and blobs[1] < 2 * len(fleet[0].to_json())
        back = store.latest("prod")
        assert back == [snap(f"w{i}", version=f"1.{i}") for i in sorted(range(50), key=lambda i: f"w{i}")]
        assert len({id(s.collectors["dpkg"].facts.base) for s in back}) == 1


def test_a_batch_stores_the_same_whether_or_not_its_collection_compacted_it(tmp_path):
    plain = [snap(f"w{i}", version="1.0" if i % 3 else "2.0") for i in range(9)]
    stored = []
    for name, batch in (("plain", plain), ("compacted", _compacted(plain))):
        with Store.open(tmp_path / f"{name}.db") as store:
            store.record(batch)
            stored.append(sorted(store.conn.execute("SELECT sha256, body, base FROM blobs")))
            # w0, w3 and w6 agree with the role's base: one blob for the three of them
            shared = store.conn.execute("SELECT COUNT(DISTINCT blob) FROM results r JOIN snapshots s "
                                        "ON s.id = r.snapshot_id WHERE r.name = 'dpkg' AND s.host IN "
                                        "('w0', 'w3', 'w6')").fetchone()
            assert shared == (1,)
            assert store.latest("prod") == plain
    assert stored[0] == stored[1]


def test_prune_keeps_bases_that_deltas_still_use(tmp_path):
    now = datetime(2026, 11, 22, tzinfo=timezone.utc)
    old = _compacted([snap("w1", "2026-01-01T00:00:00Z", "a"), snap("w2", "2026-01-01T00:00:00Z", "b")])
    new = _compacted([snap("w3", "2026-11-21T00:00:00Z", "c"), snap("w2", "2026-11-21T00:00:00Z", "d")])
    with Store.open(tmp_path / "s.db") as store:
        store.record(old)
        store.record(new)
        assert store.prune(keep_days=30, now=now) == 1  # w2's old snapshot; w1's old one is its newest
        assert {s.host: s.collectors["dpkg"].facts["packages/deb/p0"]["version"] for s in store.latest()} == {
            "w1": "a", "w2": "d", "w3": "c"}


def test_a_schema_1_store_is_migrated_and_still_reads(tmp_path):
    path = tmp_path / "s.db"
    conn = sqlite3.connect(path)
    from drift.store.sqlite import MIGRATIONS

    conn.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    conn.close()
    with Store.open(path) as store:
        store.record([snap()])
        assert store.latest() == [snap()]
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_latest_reads_hosts_in_chunks_and_gives_every_host_its_own_snapshot(tmp_path):
    """Past one chunk of hosts (their results and blobs read together), each host still gets its own
    facts: versions of its own, and older snapshots never win."""
    from drift.store import sqlite

    hosts = [f"w{i:04d}" for i in range(sqlite._CHUNK * 2 + 7)]
    with Store.open(tmp_path / "s.db") as store:
        store.record([snap(h, version="0.9", packages=20) for h in hosts[:50]])
        store.record([snap(h, at="2026-11-21T03:00:00Z", version=f"1.{i}", packages=20) for i, h in enumerate(hosts)])
        got = store.latest("prod")
    assert [s.host for s in got] == hosts
    assert [s.collectors["dpkg"].facts["packages/deb/p0"]["version"] for s in got] == [f"1.{i}" for i in range(len(hosts))]
    assert got[-1] == snap(hosts[-1], at="2026-11-21T03:00:00Z", version=f"1.{len(hosts) - 1}", packages=20)
    assert all(s.collectors["nft"].status == "failed" for s in got)
