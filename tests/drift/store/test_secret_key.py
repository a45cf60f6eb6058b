"""The installation key: created once beside the store, mode 0600, or taken from $DRIFT_SECRET_KEY."""

from __future__ import annotations

import os
import stat

import pytest

from drift.core.errors import InputError
from drift.store import secret_key


def test_created_once_with_mode_0600(tmp_path) -> None:
    store = tmp_path / ".drift" / "drift.db"
    first = secret_key.load(store, {})
    path = tmp_path / ".drift" / "secret.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert secret_key.load(store, {}) == first and len(first) == 64


def test_environment_wins_and_must_be_long(tmp_path) -> None:
    assert secret_key.load(tmp_path / "d.db", {"DRIFT_SECRET_KEY": "x" * 20}) == b"x" * 20
    assert not (tmp_path / "secret.key").exists()
    with pytest.raises(InputError, match="at least 16"):
        secret_key.load(tmp_path / "d.db", {"DRIFT_SECRET_KEY": "short"})


def test_a_key_readable_by_others_is_refused(tmp_path) -> None:
    secret_key.load(tmp_path / "d.db", {})
    os.chmod(tmp_path / "secret.key", 0o644)
    with pytest.raises(InputError, match="chmod 600"):
        secret_key.load(tmp_path / "d.db", {})
