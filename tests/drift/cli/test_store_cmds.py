"""A shared PostgreSQL store through the CLI: two controllers, one history."""

from __future__ import annotations

import json

from drift.store.postgres import PostgresStore
from tests.drift.cli.conftest import INVENTORY


def test_two_controllers_share_one_history(cli, tmp_path, pg_url):
    for controller in ("ci-runner", "ops-box"):
        workdir = tmp_path / controller
        workdir.mkdir()
        (workdir / "drift.toml").write_text(f'[store]\nurl = "{pg_url}"\n\n{INVENTORY}')
        code, _, err = cli("snapshot", "prod", "-i", str(workdir / "drift.toml"))
        assert code == 3, err  # prd-web-down refuses: recorded as failed
    assert not (tmp_path / ".drift").exists(), "nothing may fall back to the SQLite file"
    code, out, err = cli("history", "prod", "--since", "1h", "--format", "json",
                         "-i", str(tmp_path / "ops-box" / "drift.toml"))
    assert code == 0, err
    assert json.loads(out)["schema"].startswith("drift.history/")
    with PostgresStore.connect(pg_url) as store:
        recorded = list(store.snapshots("prod"))
    assert sorted((s.host, s.status) for s in recorded) == [
        ("prd-web-1", "ok"), ("prd-web-1", "ok"), ("prd-web-down", "failed"), ("prd-web-down", "failed")]


def test_the_url_may_come_from_the_environment(cli, tmp_path, inventory, pg_url):
    code, _, err = cli("snapshot", "prod", "-i", str(inventory), DRIFT_STORE_URL=pg_url)
    assert code == 3, err
    assert not (tmp_path / ".drift").exists()


def test_store_url_mistakes_are_bad_input_naming_the_line(cli, tmp_path):
    (tmp_path / "a.toml").write_text('[store]\nurl = "mysql://x/y"\n')
    code, _, err = cli("inventory", "-i", str(tmp_path / "a.toml"))
    assert code == 2 and "a.toml:2" in err and "postgresql://" in err
    (tmp_path / "b.toml").write_text('[store]\npath = "x.db"\nurl = "postgresql://h/d"\n')
    code, _, err = cli("inventory", "-i", str(tmp_path / "b.toml"))
    assert code == 2 and "b.toml:3" in err and "keep one" in err
