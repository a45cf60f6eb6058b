"""Rewriting the facts a store keeps (drift store scrub): all of it lands or none, deltas follow
their moved base, and the old text is gone from the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drift.store.rewrite import rewrite_facts
from drift.store.sqlite import Store
from tests.drift.factory import snap

PLAIN = "files/etc/app/x.ini//password"


def _hosts() -> list:  # type: ignore[type-arg]
    # Same role: the second host is stored as a delta over the first one's table.
    return [snap(f"web-{i}", "prod", "web", {PLAIN: f"Plain-{i}-pw", "files/etc/app/x.ini//ttl": "30",
                                             **{f"packages/deb/p{n}": "1.0" for n in range(20)}}) for i in (1, 2)]


def _hide(facts: dict[str, Any]) -> tuple[dict[str, Any], int]:
    if isinstance(facts.get(PLAIN), str):
        return {**facts, PLAIN: {"secret": True, "hmac": "0" * 32}}, 1
    return facts, 0


def _failing(facts: dict[str, Any]) -> tuple[dict[str, Any], int]:
    raise RuntimeError("boom")


def test_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "drift.db"
    with Store.open(db) as store:
        store.record(_hosts())
        with pytest.raises(RuntimeError):
            rewrite_facts(store, _failing)
        assert [s.facts()[PLAIN] for s in store.latest()] == ["Plain-1-pw", "Plain-2-pw"]
    with Store.open(tmp_path / "b.db") as store:
        store.record(_hosts())
        rewrite_facts(store, _hide)
    assert b"Plain-" not in b"".join(p.read_bytes() for p in tmp_path.glob("b.db*"))


def test_postgresql(pg_url: str) -> None:
    from drift.store.postgres import PostgresStore

    with PostgresStore.connect(pg_url) as store:
        store.record(_hosts())
        with pytest.raises(RuntimeError):  # rolled back, and not an AttributeError on the way
            rewrite_facts(store, _failing)
        assert [s.facts()[PLAIN] for s in store.latest()] == ["Plain-1-pw", "Plain-2-pw"]
        rewrite_facts(store, _hide)
        text = "".join(r[0] for r in store.conn.execute("SELECT body FROM blobs").fetchall())
        assert "Plain-" not in text
        assert [s.facts()[PLAIN] for s in store.latest()] == [{"secret": True, "hmac": "0" * 32}] * 2
