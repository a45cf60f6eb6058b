"""The shared store: the same schema and queries as SQLite, in PostgreSQL (psycopg 3).

Several controllers and CI runners record into one history. Writers take one transaction-scoped
advisory lock, so a batch and a prune never interleave (a prune could otherwise drop a blob that a
concurrent batch is about to reference): the same one-writer-at-a-time semantics SQLite's
BEGIN IMMEDIATE gives, with readers never blocked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from drift.core.errors import InputError
from drift.store.sqlite import Store

# Applied in order; drift_schema holds how many have run. Same tables and columns as SQLite's.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE snapshots (
        id BIGSERIAL PRIMARY KEY,
        host TEXT NOT NULL, env TEXT NOT NULL, role TEXT NOT NULL, address TEXT NOT NULL,
        collected_at TEXT NOT NULL, drift_version TEXT NOT NULL,
        status TEXT NOT NULL, error TEXT, host_key TEXT
    );
    CREATE INDEX snapshots_by_host ON snapshots (env, host, collected_at);
    CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, body TEXT NOT NULL);
    CREATE TABLE results (
        snapshot_id BIGINT NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
        name TEXT NOT NULL, category TEXT NOT NULL, status TEXT NOT NULL, error TEXT,
        blob TEXT REFERENCES blobs (sha256),
        PRIMARY KEY (snapshot_id, name)
    );
    CREATE INDEX results_by_blob ON results (blob);
    """,
    """
    ALTER TABLE blobs ADD COLUMN base TEXT;
    CREATE INDEX blobs_by_base ON blobs (base);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
_WRITE_LOCK = 0x64726966  # "drif": one advisory lock id for every drift writer on this database


def redact(url: str) -> str:
    """The URL as it may be printed: never its password."""
    return re.sub(r"(//[^/:@]*):[^/@]*@", r"\1:***@", url)


class _Connection:
    """psycopg behind the sqlite3 calls Store makes: `?` placeholders become `%s`."""

    def __init__(self, raw: Any):
        self.raw = raw

    def execute(self, sql: str, args: Sequence[object] = ()) -> Any:
        return self.raw.execute(sql.replace("?", "%s"), tuple(args))

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        with self.raw.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), [tuple(r) for r in rows])

    @property
    def in_transaction(self) -> bool:
        # Store._abort asks, as sqlite3 answers it: any status but IDLE (0) has a transaction open.
        return bool(self.raw.info.transaction_status)

    def close(self) -> None:
        self.raw.close()


class PostgresStore(Store):
    @classmethod
    def connect(cls, url: str) -> PostgresStore:
        try:
            import psycopg  # imported here: only a shared store needs it
        except ImportError:
            raise InputError("a postgresql:// store needs psycopg: pip install 'psycopg[binary]'",
                             redact(url)) from None
        try:
            # autocommit: Store issues BEGIN/COMMIT itself, exactly as it does on SQLite.
            raw = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise InputError(f"cannot connect to the store: {_first_line(exc)}", redact(url)) from None
        store = cls(_Connection(raw), redact(url))  # type: ignore[arg-type]
        try:
            store._migrate()
        except psycopg.Error as exc:
            store.close()
            raise InputError(f"not a usable drift store: {_first_line(exc)}", redact(url)) from None
        return store

    def _begin_write(self) -> None:
        self.conn.execute("BEGIN")
        self.conn.execute("SELECT pg_advisory_xact_lock(?)", (_WRITE_LOCK,))

    def reclaim(self) -> None:
        # FULL rewrites the table: a plain VACUUM only marks the old rows' space reusable.
        self.conn.execute("VACUUM FULL blobs")

    def _migrate(self) -> None:
        c = self.conn
        self._begin_write()
        try:
            c.execute("CREATE TABLE IF NOT EXISTS drift_schema (version INTEGER NOT NULL)")
            row = c.execute("SELECT version FROM drift_schema").fetchone()
            version = row[0] if row else 0
            if version > SCHEMA_VERSION:
                raise InputError(f"store schema {version} is newer than this drift understands "
                                 f"({SCHEMA_VERSION})", self.path)
            for statement in ";".join(MIGRATIONS[version:]).split(";"):
                if statement.strip():
                    c.execute(statement)
            c.execute("DELETE FROM drift_schema")
            c.execute("INSERT INTO drift_schema (version) VALUES (?)", (SCHEMA_VERSION,))
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
