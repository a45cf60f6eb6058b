"""The store: every snapshot drift collects, in SQLite (stdlib sqlite3, WAL, one transaction a batch).

The queries are plain SQL with `?` placeholders that PostgreSQL runs too (drift/store/postgres.py
subclasses Store and only replaces connecting, migrating and the write lock).

Facts are stored content-addressed: each collector's facts are one JSON blob keyed by its
sha256, so the nightly snapshot of an unchanged host adds a few small rows and no blob.
The schema is versioned with PRAGMA user_version; MIGRATIONS bring an older file up to date.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
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
    # 2: a blob may be a delta over a base blob (its body names the base): a role's hosts share one
    # table of facts and each stores only where it differs, so 1,000 hosts x 3,000 packages are one
    # table, not 1,000. The column lets pruning keep the bases that deltas still use.
    """
    ALTER TABLE blobs ADD COLUMN base TEXT;
    CREATE INDEX blobs_by_base ON blobs (base);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def _canonical(doc: object) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class Store:
    def __init__(self, conn: sqlite3.Connection, path: Path | str):
        self.conn = conn
        self.path = path
        self._parsed: dict[str, dict[str, Any]] = {}

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
        except sqlite3.OperationalError as exc:  # a full disk or a read-only directory, not a bad file
            raise InputError(f"cannot open the store: {exc}{_space(path)}", path) from None
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

    def _begin_write(self) -> None:
        # IMMEDIATE takes the write lock now, so concurrent writers queue (busy_timeout) instead of
        # failing half-way through a batch. Backends override this with their own lock.
        self.conn.execute("BEGIN IMMEDIATE")

    def record(self, snapshots: Iterable[Snapshot]) -> None:
        """Record a batch in one transaction: all of it lands, or none. The batch's hosts share fact
        tables (drift/model/facts.py): each role's first table is stored whole, the others as deltas."""
        c = self.conn
        bases: dict[int, str] = {}  # id(base) -> its blob, written once per batch
        wholes: dict[tuple[int, tuple[str, ...]], str] = {}  # the same for hosts whose table is the base
        tables = Tables()
        self._begin_write()
        try:
            for s in snapshots:
                s = compacted(s, tables)
                (sid,) = c.execute(
                    "INSERT INTO snapshots (host, env, role, address, collected_at, drift_version, status, error,"
                    " host_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (s.host, s.env, ",".join(s.all_roles), s.address, s.collected_at, s.drift_version, s.status,
                     s.error,
                     _canonical(dict(s.host_key)) if s.host_key is not None else None)).fetchone()
                for name, r in s.collectors.items():
                    facts = r.facts
                    if isinstance(facts, FactTable) and not facts.whole:
                        base = bases.get(id(facts.base))
                        if base is None:
                            base = bases[id(facts.base)] = self._put({"facts": facts.base.data, "identity": []})
                        sha = self._put({"base": base, "delta": facts.delta, "removed": sorted(facts.removed),
                                         "identity": sorted(r.identity)}, base)
                    elif isinstance(facts, FactTable):
                        # The hosts of a role that agree (most of them, most nights) share one blob:
                        # encoded and hashed once a batch, not once a host.
                        key = (id(facts.base), tuple(sorted(r.identity)))
                        sha = wholes.get(key) or wholes.setdefault(
                            key, self._put({"facts": facts.base.data, "identity": list(key[1])}))
                    else:
                        sha = self._put({"facts": dict(facts), "identity": sorted(r.identity)})
                    c.execute("INSERT INTO results (snapshot_id, name, category, status, error, blob)"
                              " VALUES (?, ?, ?, ?, ?, ?)", (sid, name, r.category, r.status, r.error, sha))
            c.execute("COMMIT")
        except BaseException as exc:
            raise self._abort(exc) from None

    def _put(self, doc: object, base: str | None = None) -> str:
        body = _canonical(doc)
        sha = hashlib.sha256(body.encode()).hexdigest()
        self.conn.execute("INSERT INTO blobs (sha256, body, base) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                          (sha, body, base))
        return sha

    def latest(self, env: str | None = None, host: str | None = None, tables: Tables | None = None) -> list[Snapshot]:
        """The newest snapshot of each host, sorted by host. Hosts share fact tables through `tables`."""
        where, args = _filters(env, host, None)
        rows = self.conn.execute(
            f"SELECT * FROM snapshots s {where} AND s.id = (SELECT id FROM snapshots t WHERE t.host = s.host "
            "AND t.env = s.env ORDER BY collected_at DESC, id DESC LIMIT 1) ORDER BY host, env", args).fetchall()
        loader = _Loader(self, tables or Tables())
        out = []
        # A chunk of hosts at a time: their results in one query and their blobs in another (then the
        # bases those name), not a round trip per host and blob, which over PostgreSQL's socket was
        # most of loading 2 x 10,000 hosts.
        for i in range(0, len(rows), _CHUNK):
            chunk = rows[i:i + _CHUNK]
            results: dict[int, list[tuple[Any, ...]]] = {row[0]: [] for row in chunk}
            for sid, *result in self._in("SELECT snapshot_id, name, category, status, error, blob FROM results "
                                         "WHERE snapshot_id IN ({}) ORDER BY snapshot_id, name", list(results)):
                results[sid].append(tuple(result))
            loader.fetch({r[4] for rs in results.values() for r in rs if r[4] is not None})
            out += [self._load(row, loader, results[row[0]]) for row in chunk]
        return out

    def _in(self, sql: str, values: list[Any]) -> list[Any]:
        """Rows of `sql` whose `IN ({})` is each chunk of `values` in turn."""
        found = []
        for i in range(0, len(values), _CHUNK):
            part = values[i:i + _CHUNK]
            found += self.conn.execute(sql.format(", ".join("?" * len(part))), part).fetchall()
        return found

    def snapshots(self, env: str | None = None, host: str | None = None,
                  since: datetime | None = None) -> Iterator[Snapshot]:
        """Snapshots ordered by host, then time."""
        where, args = _filters(env, host, since)
        loader = _Loader(self, Tables())
        for row in self.conn.execute(f"SELECT * FROM snapshots s {where} ORDER BY host, collected_at, id", args):
            yield self._load(row, loader)

    def previous(self, env: str | None, host: str, before: datetime) -> Snapshot | None:
        """The newest snapshot of `host` taken before `before`: where a time window's changes start."""
        where, args = _filters(env, host, None)
        row = self.conn.execute(f"SELECT * FROM snapshots s {where} AND s.collected_at < ? "
                                "ORDER BY collected_at DESC, id DESC LIMIT 1", [*args, _stamp(before)]).fetchone()
        return self._load(row) if row else None

    def hosts(self, env: str | None = None) -> list[str]:
        where, args = _filters(env, None, None)
        return [r[0] for r in self.conn.execute(f"SELECT DISTINCT host FROM snapshots s {where} ORDER BY host", args)]

    def environments(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT env FROM snapshots ORDER BY env")]

    def runs(self, env: str | None, host: str, category: str) -> list[tuple[str, str, str, str | None]]:
        """(collected_at, collector, status, blob) of one host's collectors of one category, oldest
        first, without loading facts: following one fact through months of history then parses only
        the few blobs that differ (facts_of)."""
        where, args = _filters(env, host, None)
        return [(r[0], r[1], r[2], r[3]) for r in self.conn.execute(
            f"SELECT s.collected_at, r.name, r.status, r.blob FROM snapshots s JOIN results r ON r.snapshot_id = s.id "
            f"{where} AND s.status = 'ok' AND r.category = ? ORDER BY s.collected_at, s.id", [*args, category])]

    def facts_of(self, blob: str | None) -> dict[str, Any]:
        doc = self._blob(blob)
        if "base" not in doc:
            facts: dict[str, Any] = doc["facts"]
            return facts
        removed = set(doc["removed"])
        out = {k: v for k, v in self._blob(doc["base"])["facts"].items() if k not in removed}
        out.update(doc["delta"])
        return out

    def prune(self, keep_days: int, now: datetime) -> int:
        """Delete snapshots older than keep_days, never the newest of a host; drop orphan blobs."""
        cutoff = _stamp(now - timedelta(days=keep_days))
        c = self.conn
        self._begin_write()
        try:
            doomed = [r[0] for r in c.execute(
                "SELECT id FROM snapshots s WHERE collected_at < ? AND id != (SELECT id FROM snapshots t "
                "WHERE t.host = s.host AND t.env = s.env ORDER BY collected_at DESC, id DESC LIMIT 1)", (cutoff,))]
            c.executemany("DELETE FROM results WHERE snapshot_id = ?", [(i,) for i in doomed])
            c.executemany("DELETE FROM snapshots WHERE id = ?", [(i,) for i in doomed])
            # Twice: deltas no result uses go first, then the bases only they used.
            for _ in range(2):
                c.execute("DELETE FROM blobs WHERE sha256 NOT IN (SELECT blob FROM results WHERE blob IS NOT NULL)"
                          " AND sha256 NOT IN (SELECT base FROM blobs WHERE base IS NOT NULL)")
            c.execute("COMMIT")
        except BaseException as exc:
            raise self._abort(exc) from None
        return len(doomed)

    def reclaim(self) -> None:
        """Rebuild the file after a rewrite, so deleted rows' text is gone from it and from the WAL."""
        self.conn.execute("VACUUM")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _abort(self, exc: BaseException) -> BaseException:
        """Roll back a failed batch (it lands whole or not at all) and say what a full disk means."""
        if self.conn.in_transaction:  # SQLite may have rolled back already: it does on a full disk
            self.conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.OperationalError):  # disk full, read-only file system, I/O error
            return InputError(f"cannot write to the store: {exc}{_space(self.path)}; nothing of this run was "
                              "recorded and the store is as it was", self.path)
        return exc

    def _load(self, row: tuple, loader: _Loader | None = None,  # type: ignore[type-arg]
              results: list[tuple[Any, ...]] | None = None) -> Snapshot:
        loader = loader or _Loader(self, Tables())
        sid, host, env, role, address, collected_at, version, status, error, host_key = row
        collectors = {}
        if results is None:
            results = self.conn.execute("SELECT name, category, status, error, blob FROM results "
                                        "WHERE snapshot_id = ? ORDER BY name", (sid,)).fetchall()
        for name, category, rstatus, rerror, sha in results:
            facts, identity = loader.facts(role, name, sha)
            collectors[name] = CollectorResult(name, category, rstatus, rerror, facts, identity)
        # Several roles are kept in the one role column, comma-joined (role names never hold a comma).
        roles = tuple(role.split(","))
        return Snapshot(host=host, env=env, role=roles[0], roles=roles if len(roles) > 1 else (),
                        address=address, collected_at=collected_at,
                        drift_version=version, status=status, error=error,
                        host_key=json.loads(host_key) if host_key else None, collectors=collectors)

    def _blob(self, sha: str | None) -> dict[str, Any]:
        """A fact blob, parsed once: a host's history mostly repeats the same few blobs, and the
        analysis treats facts as read-only, so snapshots may share one parsed copy."""
        if sha is None:
            return {"facts": {}, "identity": []}
        doc = self._parsed.get(sha)
        if doc is None:
            row = self.conn.execute("SELECT body FROM blobs WHERE sha256 = ?", (sha,)).fetchone()
            doc = _DECODE(row[0]) if row else {"facts": {}, "identity": []}
            if len(self._parsed) >= _PARSED_BLOBS:
                self._parsed.pop(next(iter(self._parsed)))
            self._parsed[sha] = doc
        return doc


_PARSED_BLOBS = 256
_CHUNK = 500  # hosts, and values in one IN (...): well inside SQLite's and PostgreSQL's limits


class _Loader:
    """Snapshots read together: each distinct blob becomes one shared table, a delta blob a table over
    its base's shared data, whatever the number of hosts that use it."""

    def __init__(self, store: Store, tables: Tables):
        self.store = store
        self.tables = tables
        self.bases: dict[str, Base] = {}
        self.seen: dict[tuple[str, str, str | None], tuple[FactTable, tuple[str, ...]]] = {}
        self.docs: dict[str, dict[str, Any]] = {}

    def fetch(self, shas: set[str]) -> None:
        """These blobs, and the bases they are deltas of, read in a few queries for `facts` to use;
        what an earlier chunk read is dropped (the tables keep what they need of it)."""
        self.docs = {sha: _DECODE(body) for sha, body in
                     self.store._in("SELECT sha256, body FROM blobs WHERE sha256 IN ({})", sorted(shas))}
        bases = {d["base"] for d in self.docs.values() if "base" in d and d["base"] not in self.bases}
        self.docs.update({sha: _DECODE(body) for sha, body in
                          self.store._in("SELECT sha256, body FROM blobs WHERE sha256 IN ({})", sorted(bases))})

    def _blob(self, sha: str | None) -> dict[str, Any]:
        doc = self.docs.get(sha) if sha is not None else None
        return doc if doc is not None else self.store._blob(sha)

    def facts(self, role: str, name: str, sha: str | None) -> tuple[FactTable, tuple[str, ...]]:
        key = (role, name, sha)
        known = self.seen.get(key)
        if known is None:
            doc = self._blob(sha)
            if "base" in doc:
                base = self.bases.get(doc["base"])
                if base is None:
                    base = self.bases[doc["base"]] = self.tables.shared(self._blob(doc["base"])["facts"])
                facts = FactTable(base, doc["delta"], frozenset(doc["removed"]))
            else:
                facts = self.tables.table((role, name), doc["facts"])
            known = self.seen[key] = (facts, tuple(doc["identity"]))
        return known


def _space(path: Path | str) -> str:
    """SQLite says "disk I/O error" when it cannot grow its shared-memory file: name the cause."""
    try:
        free = shutil.disk_usage(Path(path).parent).free
    except OSError:
        return ""
    return f" (no space left on the file system holding it: {free} bytes free)" if free < (1 << 20) else ""


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
