"""pytest fixtures for the real servers; import them into a conftest.py that needs them."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from tests.servers import postgres

_names = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[postgres.Server]:
    started = postgres.start()
    if isinstance(started, str):
        if os.environ.get("DRIFT_POSTGRES") == "required":
            pytest.fail(f"DRIFT_POSTGRES=required, but {started}")
        pytest.skip(started)
    try:
        yield next(started)
    finally:
        started.close()


@pytest.fixture
def pg_url(pg_server: postgres.Server) -> str:
    """A fresh, empty database on the session's server."""
    return pg_server.create_database(f"t{os.getpid()}_{next(_names)}")
