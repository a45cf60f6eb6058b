"""The shared store: the same store on PostgreSQL (psycopg 3), for several controllers and CI runners.

Same tables, same migrations (in PostgreSQL's dialect), same behaviour: a batch lands whole or not at
all, writers take turns (a transaction-scoped advisory lock, as SQLite's write lock does), fact blobs
are content-addressed, so two controllers recording the same facts store them once.
`[store] url = "postgresql://..."` or `$DRIFT_STORE_URL`; a password belongs in ~/.pgpass or
$PGPASSWORD, never in the inventory, and drift never prints the URL's password.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from drift.core.errors import InputError
from drift.store.sqlite import Store

# The SQLite migrations, one for one, in PostgreSQL's dialect.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE snapshots (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    ALTER TABLE results ADD COLUMN base TEXT REFERENCES blobs (sha256);
    CREATE INDEX results_by_base ON results (base);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
_LOCK = 0x64726966  # "drif": the advisory lock every writer of a drift store takes


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


class PgStore(Store):
    BEGIN = ("BEGIN", f"SELECT pg_advisory_xact_lock({_LOCK})")

    @classmethod
    def connect(cls, url: str) -> PgStore:
        import psycopg  # only when a PostgreSQL store is configured

        try:
            conn = psycopg.connect(url, autocommit=True, connect_timeout=30)
        except psycopg.Error as exc:
            raise InputError(f"cannot open the store {redact(url)}: {str(exc).strip().splitlines()[0]}") from None
        store = cls(conn, Path(redact(url)))
        try:
            store._migrate()
        except psycopg.Error as exc:
            conn.close()
            raise InputError(f"not a usable drift store {redact(url)}: {str(exc).strip()}") from None
        return store

    def q(self, sql: str, args: Sequence[object] = ()) -> Any:
        return self.conn.execute(sql.replace("?", "%s"), args)

    def q_many(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        cur = self.conn.cursor()
        try:
            cur.executemany(sql.replace("?", "%s"), list(rows))
        finally:
            cur.close()

    def _migrate(self) -> None:
        self.q("CREATE TABLE IF NOT EXISTS drift_schema (version INTEGER NOT NULL)")
        self.begin()
        try:
            row = self.q("SELECT version FROM drift_schema").fetchone()
            version = row[0] if row else 0
            if version > SCHEMA_VERSION:
                raise InputError(f"store schema {version} is newer than this drift understands ({SCHEMA_VERSION})",
                                 self.path)
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        self.q(statement)
            if version != SCHEMA_VERSION:
                self.q("DELETE FROM drift_schema")
                self.q("INSERT INTO drift_schema (version) VALUES (?)", (SCHEMA_VERSION,))
            self.q("COMMIT")
        except BaseException:
            self.q("ROLLBACK")
            raise
