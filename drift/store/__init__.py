"""Where snapshots are kept: the SQLite store that history reads, and baselines on disk.
May import core and model."""

from __future__ import annotations

from pathlib import Path

from drift.store.sqlite import Store


def open_store(path: Path, url: str | None = None) -> Store:
    """The SQLite file at `path`, or the shared PostgreSQL store at `url` when one is configured."""
    if url:
        from drift.store.postgres import PostgresStore

        return PostgresStore.connect(url)
    return Store.open(path)
