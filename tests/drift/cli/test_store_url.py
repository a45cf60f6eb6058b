"""`[store] url`: commands record into, and read history from, a PostgreSQL store."""

import os

import pytest

from tests.drift.store import pg_server


@pytest.fixture(scope="module")
def pg_url():
    reason = pg_server.unavailable()
    if reason:
        if os.environ.get("DRIFT_POSTGRES") == "required":
            pytest.fail(f"DRIFT_POSTGRES=required, but {reason}")
        pytest.skip(reason)
    with pg_server.server() as url:
        yield url


def test_snapshot_records_into_postgres_and_history_reads_it(cli, inventory, pg_url):
    inventory.write_text(inventory.read_text() + f'\n[store]\nurl = "{pg_url}"\n')
    code, _, err = cli("snapshot", "prd-web-1")
    assert code == 0, err
    assert not (cli.dir / ".drift").exists()  # nothing went to the SQLite file
    from drift.store.postgres import PgStore

    with PgStore.connect(pg_url) as store:
        assert store.hosts("prod") == ["prd-web-1"]
    code, out, err = cli("history", "prod", "--format", "json")
    assert code == 0, err


def test_a_bad_url_is_bad_input_and_never_shows_the_password(cli, inventory):
    inventory.write_text(inventory.read_text() + '\n[store]\nurl = "postgresql://u:s3cret@/nope?host=/nonexistent"\n')
    code, _, err = cli("snapshot", "prd-web-1")
    assert code == 2 and "cannot open the store" in err and "s3cret" not in err
    inventory.write_text(inventory.read_text().replace("postgresql://", "mysql://"))
    code, _, err = cli("snapshot", "prd-web-1")
    assert code == 2 and "store.url" in err
