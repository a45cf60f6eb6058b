"""The PostgreSQL store against a real server the suite starts itself: it behaves as SQLite's does."""

from __future__ import annotations

import os
import threading
from datetime import datetime, timezone

import pytest

from drift.store.sqlite import Store
from tests.drift.store import pg_server
from tests.drift.store.test_sqlite import snap


@pytest.fixture(scope="module")
def pg_url():
    reason = pg_server.unavailable()
    if reason:
        if os.environ.get("DRIFT_POSTGRES") == "required":
            pytest.fail(f"DRIFT_POSTGRES=required, but {reason}")
        pytest.skip(reason)
    with pg_server.server() as url:
        yield url


@pytest.fixture
def pg(pg_url):
    from drift.store.postgres import PgStore

    store = PgStore.connect(pg_url)
    for table in ("results", "snapshots", "blobs"):
        store.q(f"DELETE FROM {table}")
    yield store
    store.close()


def test_round_trip_and_dedup(pg):
    pg.record([snap(), snap("w2")])
    assert pg.latest("prod") == [snap(), snap("w2")]
    before = pg.q("SELECT COUNT(*), SUM(LENGTH(body)) FROM blobs").fetchone()
    pg.record([snap(at="2026-11-21T03:00:00Z"), snap("w2", at="2026-11-21T03:00:00Z")])
    assert pg.q("SELECT COUNT(*), SUM(LENGTH(body)) FROM blobs").fetchone() == before
    assert [s.collected_at for s in pg.snapshots(host="w1")] == ["2026-11-20T03:00:00Z", "2026-11-21T03:00:00Z"]


def test_pruning_keeps_the_newest_and_the_bases_in_use(pg):
    now = datetime(2026, 11, 22, tzinfo=timezone.utc)
    pg.record([snap("w1", "2026-01-01T00:00:00Z", "a"), snap("w2", "2026-01-01T00:00:00Z", "b")])
    pg.record([snap("w2", "2026-11-21T00:00:00Z", "d")])
    assert pg.prune(keep_days=30, now=now) == 1
    assert {s.host: s.collectors["dpkg"].facts["packages/deb/p0"]["version"] for s in pg.latest()} == {
        "w1": "a", "w2": "d"}


def test_two_controllers_writing_at_once_make_one_history(pg_url, pg):
    from drift.store.postgres import PgStore

    def controller(name: str) -> None:
        store = PgStore.connect(pg_url)
        try:
            for day in range(1, 6):
                store.record([snap(f"{name}-{i}", f"2026-11-0{day}T03:00:00Z", f"1.{day}") for i in range(3)])
        finally:
            store.close()

    threads = [threading.Thread(target=controller, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert pg.hosts() == ["a-0", "a-1", "a-2", "b-0", "b-1", "b-2"]
    assert len(list(pg.snapshots())) == 30
    assert {s.collectors["dpkg"].facts["packages/deb/p0"]["version"] for s in pg.latest()} == {"1.5"}


def test_history_is_identical_to_sqlite(pg, tmp_path):
    batches = [[snap("w1", "2026-11-20T03:00:00Z", "1"), snap("w2", "2026-11-20T03:00:00Z", "1")],
               [snap("w1", "2026-11-21T03:00:00Z", "2"), snap("w2", "2026-11-21T03:00:00Z", "1")],
               [snap("w3", "2026-11-22T03:00:00Z", "3", env="staging")]]
    with Store.open(tmp_path / "s.db") as lite:
        for b in batches:
            lite.record(b)
            pg.record(b)
        assert list(pg.snapshots()) == list(lite.snapshots())
        assert pg.latest() == lite.latest()
        since = datetime(2026, 11, 21, tzinfo=timezone.utc)
        assert list(pg.snapshots("prod", since=since)) == list(lite.snapshots("prod", since=since))
        assert pg.previous("prod", "w1", since) == lite.previous("prod", "w1", since)
        assert pg.hosts("prod") == lite.hosts("prod")
