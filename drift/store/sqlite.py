"""The store: every snapshot drift collects, in SQLite (stdlib sqlite3, WAL, one transaction a batch).

Facts are stored content-addressed: each collector's facts are one JSON blob keyed by its
sha256, so the nightly snapshot of an unchanged host adds a few small rows and no blob.
The schema is versioned with PRAGMA user_version; MIGRATIONS bring an older file up to date.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import msgspec

from drift.core.errors import InputError
from drift.model.facts import Base, FactTable, Tables
from drift.model.snapshot import CollectorResult, Snapshot, compacted

_DECODE = msgspec.json.Decoder().decode

MIGRATIONS: tuple[str, ...] = (
    # 1: snapshots, per-collector results, content-addressed fact blobs.
    """
    CREATE TABLE snapshots (
        id INTEGER PRIMARY KEY,
        host TEXT NOT NULL, env TEXT NOT NULL, role TEXT NOT NULL, address TEXT NOT NULL,
        collected_at TEXT NOT NULL, drift_version TEXT NOT NULL,
        status TEXT NOT NULL, error TEXT, host_key TEXT
    );
    CREATE INDEX snapshots_by_host ON snapshots (env, host, collected_at);
    CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, body TEXT NOT NULL);
    CREATE TABLE results (
        snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
        name TEXT NOT NULL, category TEXT NOT NULL, status TEXT NOT NULL, error TEXT,
        blob TEXT REFERENCES blobs (sha256),
        PRIMARY KEY (snapshot_id, name)
    );
    CREATE INDEX results_by_blob ON results (blob);
    """,
    # 2: a result may be a delta over a base blob: a role's hosts share one table of facts and each
    # stores only where it differs, so 1,000 hosts x 3,000 packages are one table, not 1,000.
    """
    ALTER TABLE results ADD COLUMN base TEXT REFERENCES blobs (sha256);
    CREATE INDEX results_by_base ON results (base);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def _canonical(doc: object) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Store:
    def __init__(self, conn: Any, path: Path):  # a sqlite3 or a psycopg connection
        self.conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path) -> Store:
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so writers queue on the
            # lock (busy_timeout) instead of failing half-way through a batch.
            conn = sqlite3.connect(path, timeout=60, isolation_level=None)
            conn.execute("PRAGMA busy_timeout = 60000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            store = cls(conn, path)
            store._migrate()
        except sqlite3.DatabaseError as exc:
            raise InputError(f"not a usable drift store: {exc}", path) from None
        except OSError as exc:
            raise InputError(f"cannot open the store: {exc.strerror}", path) from None
        return store

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise InputError(f"store schema {version} is newer than this drift understands ({SCHEMA_VERSION})",
                             self.path)
        for number in range(version, SCHEMA_VERSION):
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                # Re-read under the lock: another process may have migrated meanwhile.
                if self.conn.execute("PRAGMA user_version").fetchone()[0] != number:
                    self.conn.execute("ROLLBACK")
                    continue
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {number + 1}")
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    # Writers queue for the store one at a time: SQLite's write lock, taken at BEGIN.
    BEGIN: tuple[str, ...] = ("BEGIN IMMEDIATE",)

    def q(self, sql: str, args: Sequence[object] = ()) -> Any:
        """One statement; `?` placeholders. PostgreSQL's store translates."""
        return self.conn.execute(sql, args)

    def q_many(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        self.conn.executemany(sql, rows)

    def begin(self) -> None:
        for statement in self.BEGIN:
            self.q(statement)

    def record(self, snapshots: Iterable[Snapshot]) -> None:
        """Record a batch in one transaction: all of it lands, or none."""
        c = self
        bases: dict[int, str] = {}  # id(base) -> its blob, written once per batch
        tables = Tables()  # hosts not yet sharing tables (built one by one) share them from here on
        self.begin()
        try:
            for s in snapshots:
                s = compacted(s, tables)
                cur = c.q(
                    "INSERT INTO snapshots (host, env, role, address, collected_at, drift_version, status, error,"
                    " host_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (s.host, s.env, s.role, s.address, s.collected_at, s.drift_version, s.status, s.error,
                     _canonical(dict(s.host_key)) if s.host_key is not None else None))
                sid = cur.fetchone()[0]
                for name, r in s.collectors.items():
                    base = None
                    facts = r.facts
                    if isinstance(facts, FactTable) and not facts.whole:
                        base = bases.get(id(facts.base))
                        if base is None:
                            base = bases[id(facts.base)] = self._blob({"facts": facts.base.data, "identity": []})
                        sha = self._blob({"delta": facts.delta, "removed": sorted(facts.removed),
                                          "identity": sorted(r.identity)})
                    else:
                        sha = self._blob({"facts": dict(facts), "identity": sorted(r.identity)})
                    c.q("INSERT INTO results (snapshot_id, name, category, status, error, blob, base)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)", (sid, name, r.category, r.status, r.error, sha, base))
            c.q("COMMIT")
        except BaseException:
            c.q("ROLLBACK")
            raise

    def _blob(self, doc: object) -> str:
        body = _canonical(doc)
        sha = hashlib.sha256(body.encode()).hexdigest()
        self.q("INSERT INTO blobs (sha256, body) VALUES (?, ?) ON CONFLICT DO NOTHING", (sha, body))
        return sha

    def latest(self, env: str | None = None, host: str | None = None, tables: Tables | None = None) -> list[Snapshot]:
        """The newest snapshot of each host, sorted by host. Hosts share fact tables through `tables`."""
        where, args = _filters(env, host, None)
        rows = self.q(
            f"SELECT * FROM snapshots s {where} AND s.id = (SELECT id FROM snapshots t WHERE t.host = s.host "
            "AND t.env = s.env ORDER BY collected_at DESC, id DESC LIMIT 1) ORDER BY host, env", args)
        loader = _Loader(self, tables or Tables())
        return [loader.load(row) for row in rows]

    def snapshots(self, env: str | None = None, host: str | None = None,
                  since: datetime | None = None) -> Iterator[Snapshot]:
        """Snapshots ordered by host, then time."""
        where, args = _filters(env, host, since)
        loader = _Loader(self, Tables())
        for row in self.q(f"SELECT * FROM snapshots s {where} ORDER BY host, collected_at, id", args).fetchall():
            yield loader.load(row)

    def previous(self, env: str | None, host: str, before: datetime) -> Snapshot | None:
        """The newest snapshot of `host` taken before `before`: where a time window's changes start."""
        where, args = _filters(env, host, None)
        row = self.q(f"SELECT * FROM snapshots s {where} AND s.collected_at < ? "
                                "ORDER BY collected_at DESC, id DESC LIMIT 1", [*args, _stamp(before)]).fetchone()
        return _Loader(self, Tables()).load(row) if row else None

    def hosts(self, env: str | None = None) -> list[str]:
        where, args = _filters(env, None, None)
        return [r[0] for r in self.q(f"SELECT DISTINCT host FROM snapshots s {where} ORDER BY host", args)]

    def prune(self, keep_days: int, now: datetime) -> int:
        """Delete snapshots older than keep_days, never the newest of a host; drop orphan blobs."""
        cutoff = _stamp(now - timedelta(days=keep_days))
        c = self
        self.begin()
        try:
            doomed = [r[0] for r in c.q(
                "SELECT id FROM snapshots s WHERE collected_at < ? AND id != (SELECT id FROM snapshots t "
                "WHERE t.host = s.host AND t.env = s.env ORDER BY collected_at DESC, id DESC LIMIT 1)", (cutoff,))]
            c.q_many("DELETE FROM results WHERE snapshot_id = ?", [(i,) for i in doomed])
            c.q_many("DELETE FROM snapshots WHERE id = ?", [(i,) for i in doomed])
            c.q("DELETE FROM blobs WHERE sha256 NOT IN (SELECT blob FROM results WHERE blob IS NOT NULL)"
                      " AND sha256 NOT IN (SELECT base FROM results WHERE base IS NOT NULL)")
            c.q("COMMIT")
        except BaseException:
            c.q("ROLLBACK")
            raise
        return len(doomed)


class _Loader:
    """Reads snapshots back, decoding each base blob once however many hosts share it."""

    def __init__(self, store: Store, tables: Tables):
        self.store = store
        self.tables = tables
        self.bases: dict[str, Base] = {}
        self.seen: dict[tuple[str, str, str | None, str | None], tuple[FactTable, tuple[str, ...]]] = {}

    def _base(self, sha: str) -> Base:
        base = self.bases.get(sha)
        if base is None:
            body = self.store.q("SELECT body FROM blobs WHERE sha256 = ?", (sha,)).fetchone()[0]
            base = self.bases[sha] = self.tables.shared(_DECODE(body)["facts"])
        return base

    def load(self, row: tuple) -> Snapshot:  # type: ignore[type-arg]
        sid, host, env, role, address, collected_at, version, status, error, host_key = row
        collectors = {}
        for name, category, rstatus, rerror, sha, base in self.store.q(
                "SELECT name, category, status, error, blob, base FROM results WHERE snapshot_id = ? ORDER BY name",
                (sid,)).fetchall():
            facts, identity = self._facts(role, name, sha, base)
            collectors[name] = CollectorResult(name, category, rstatus, rerror, facts, identity)
        return Snapshot(host=host, env=env, role=role, address=address, collected_at=collected_at,
                        drift_version=version, status=status, error=error,
                        host_key=json.loads(host_key) if host_key else None, collectors=collectors)

    def _facts(self, role: str, name: str, sha: str | None, base: str | None) -> tuple[FactTable, tuple[str, ...]]:
        """A result's facts, decoded once per distinct blob: most hosts' tables are the same blob."""
        key = (role, name, sha, base)
        known = self.seen.get(key)
        if known is not None:
            return known
        row = self.store.q("SELECT body FROM blobs WHERE sha256 = ?", (sha,)).fetchone() if sha else None
        doc = _DECODE(row[0]) if row else {"facts": {}, "identity": []}
        if base is not None:
            facts = FactTable(self._base(base), doc["delta"], frozenset(doc["removed"]))
        else:
            facts = self.tables.table((role, name), doc["facts"])
        known = self.seen[key] = (facts, tuple(doc["identity"]))
        return known


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _filters(env: str | None, host: str | None, since: datetime | None) -> tuple[str, list[str]]:
    clauses, args = ["1 = 1"], []
    for column, value in (("env", env), ("host", host)):
        if value is not None:
            clauses.append(f"s.{column} = ?")
            args.append(value)
    if since is not None:
        clauses.append("s.collected_at >= ?")
        args.append(_stamp(since))
    return "WHERE " + " AND ".join(clauses), args
