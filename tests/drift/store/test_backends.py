"""One behaviour, two backends: every test here runs on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timezone

import pytest

from drift.analysis import history
from drift.core.errors import InputError
from drift.model.snapshot import CollectorResult, Snapshot
from drift.store.postgres import PostgresStore, redact
from drift.store.sqlite import Store

OpenStore = Callable[[], Store]


def snap(host: str = "w1", at: str = "2026-11-20T03:00:00Z", version: str = "1.0", env: str = "prod",
         packages: int = 50) -> Snapshot:
    facts = {f"packages/deb/p{i}": {"version": version if i == 0 else "1.0", "arch": "amd64"}
             for i in range(packages)}
    return Snapshot(host=host, env=env, role="web", address="10.0.0.1", collected_at=at, drift_version="0.2.0",
                    host_key={"type": "ssh-ed25519", "sha256": "SHA256:x"},
                    collectors={"dpkg": CollectorResult("dpkg", "packages", "ok", None, facts),
                                "nft": CollectorResult("nft", "firewall", "failed", "exited 1: denied")})


def blob_count(store: Store) -> int:
    return int(store.conn.execute("SELECT COUNT(*) FROM blobs").fetchone()[0])


def test_round_trip(open_store: OpenStore) -> None:
    with open_store() as store:
        store.record([snap(), snap("w2"), snap("s1", env="staging")])
        assert store.latest("prod") == [snap(), snap("w2")]
        assert store.hosts() == ["s1", "w1", "w2"] and store.hosts("staging") == ["s1"]
        assert store.latest("nowhere") == []


def test_an_unchanged_host_adds_no_blob(open_store: OpenStore) -> None:
    with open_store() as store:
        store.record([snap(at="2026-11-20T03:00:00Z")])
        before = blob_count(store)
        store.record([snap(at="2026-11-21T03:00:00Z")])
        assert blob_count(store) == before
        store.record([snap(at="2026-11-22T03:00:00Z", version="2.0")])
        assert blob_count(store) == before + 1


def test_previous_and_since(open_store: OpenStore) -> None:
    with open_store() as store:
        store.record([snap(at=f"2026-11-{d}T03:00:00Z", version=str(d)) for d in (20, 21, 22)])
        before = store.previous("prod", "w1", datetime(2026, 11, 22, tzinfo=timezone.utc))
        assert before is not None and before.collected_at == "2026-11-21T03:00:00Z"
        since = [s.collected_at for s in store.snapshots("prod", since=datetime(2026, 11, 21, tzinfo=timezone.utc))]
        assert since == ["2026-11-21T03:00:00Z", "2026-11-22T03:00:00Z"]


def test_prune_keeps_the_newest_of_each_host_and_drops_orphan_blobs(open_store: OpenStore) -> None:
    now = datetime(2026, 11, 22, tzinfo=timezone.utc)
    with open_store() as store:
        # One batch each: in one batch, w1's first table would be the base the others are deltas of.
        for one in (snap("w1", "2026-01-01T00:00:00Z", "a"), snap("w1", "2026-11-21T00:00:00Z", "b"),
                    snap("old", "2026-01-01T00:00:00Z", "c")):
            store.record([one])
        assert store.prune(keep_days=30, now=now) == 1
        assert {(s.host, s.collected_at) for s in store.snapshots()} == {
            ("w1", "2026-11-21T00:00:00Z"), ("old", "2026-01-01T00:00:00Z")}
        bodies = [b for (b,) in store.conn.execute("SELECT body FROM blobs").fetchall()]
        assert not any('"version":"a"' in b for b in bodies)


def test_reopening_migrates_once(open_store: OpenStore) -> None:
    with open_store() as store:
        store.record([snap()])
    with open_store() as again:
        assert again.latest() == [snap()]


def test_two_controllers_writing_at_once_give_one_history(open_store: OpenStore) -> None:
    """Two connections record interleaved batches (and prune) at the same time: nothing is lost."""
    with open_store():
        pass  # create the schema first, as the first run on a new store does
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def controller(name: str) -> None:
        try:
            with open_store() as store:
                start.wait()
                for day in range(1, 21):
                    store.record([snap(f"{name}-{n}", f"2026-11-{day:02d}T03:00:00Z", f"{name}{day % 3}")
                                  for n in range(3)])
                    store.prune(keep_days=365, now=datetime(2026, 11, 22, tzinfo=timezone.utc))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=controller, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with open_store() as store:
        assert len(list(store.snapshots())) == 2 * 3 * 20
        assert len(store.hosts()) == 6
        changes = history.changes(store.snapshots(host="a-0"))
        assert len(changes) == 19  # one version change between every pair of consecutive days


def test_history_is_the_same_on_both_backends(tmp_path, pg_url: str) -> None:
    batches = [[snap(h, f"2026-11-{d}T03:00:00Z", v) for h, v in (("w1", str(d)), ("w2", "1"))]
               for d in (18, 19, 20)]
    out = []
    for store in (Store.open(tmp_path / "s.db"), PostgresStore.connect(pg_url)):
        with store:
            for batch in batches:
                store.record(batch)
            out.append((list(store.snapshots()), store.latest(), history.changes(store.snapshots())))
    assert out[0] == out[1]


def test_a_bad_url_is_bad_input_and_never_shows_the_password(pg_server) -> None:
    url = pg_server.url("no_such_database").replace("drift@", "drift:s3cr3t-pw@")
    with pytest.raises(InputError) as err:
        PostgresStore.connect(url)
    assert "s3cr3t-pw" not in str(err.value) and "cannot connect" in str(err.value)


def test_redact() -> None:
    assert redact("postgresql://u:pw@db.internal/drift") == "postgresql://u:***@db.internal/drift"
    assert redact("postgresql://u@db/drift") == "postgresql://u@db/drift"


def test_runs_follow_one_category_through_history_without_loading_facts(open_store: OpenStore) -> None:
    with open_store() as store:
        store.record([snap(at="2026-11-20T01:00:00Z"), snap(at="2026-11-20T02:00:00Z"),
                      snap(at="2026-11-20T03:00:00Z", version="2.0"), snap("w2")])
        store.record([Snapshot("w1", "prod", "web", "a", "2026-11-20T04:00:00Z", "0.2.0", "failed", "down")])
        runs = store.runs("prod", "w1", "packages")
        assert [(at[11:16], name, status) for at, name, status, _ in runs] == [
            ("01:00", "dpkg", "ok"), ("02:00", "dpkg", "ok"), ("03:00", "dpkg", "ok")]  # a failed host says nothing
        assert runs[0][3] == runs[1][3] != runs[2][3]  # one blob while nothing changed
        assert store.facts_of(runs[2][3])["packages/deb/p0"]["version"] == "2.0"
        assert [r[2] for r in store.runs(None, "w1", "firewall")] == ["failed"] * 3
