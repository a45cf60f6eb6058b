from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from drift.store.postgres import PostgresStore
from drift.store.sqlite import Store


@pytest.fixture(params=["sqlite", "postgresql"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Store]:
    """Opens a new connection to one store, the same one on every call: a controller each."""
    if request.param == "sqlite":
        return lambda: Store.open(tmp_path / "s.db")
    url = request.getfixturevalue("pg_url")
    return lambda: PostgresStore.connect(url)
