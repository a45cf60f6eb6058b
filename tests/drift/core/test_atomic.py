"""Atomic writes honour the umask like open() does, keep a replaced file's mode, and stay atomic."""

import os
import stat
from pathlib import Path

import pytest

from drift.core.atomic import current_umask, write_atomic
from drift.core.errors import InputError


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_new_file_gets_0666_less_umask(tmp_path: Path, umask) -> None:
    write_atomic(tmp_path / "r.html", "x")
    assert mode(tmp_path / "r.html") == 0o644
    os.umask(0o077)
    write_atomic(tmp_path / "s.html", "x")
    assert mode(tmp_path / "s.html") == 0o600


def test_replacing_keeps_the_files_mode(tmp_path: Path, umask) -> None:
    p = tmp_path / "r.json"
    p.write_text("old")
    p.chmod(0o640)
    write_atomic(p, "new")
    assert p.read_text() == "new" and mode(p) == 0o640


def test_explicit_mode_wins(tmp_path: Path, umask) -> None:
    write_atomic(tmp_path / "key", "s", mode=0o600)
    assert mode(tmp_path / "key") == 0o600


def test_no_temporary_file_left(tmp_path: Path, umask) -> None:
    write_atomic(tmp_path / "a" / "b.txt", "x")
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["b.txt"]


def test_umask_is_read_without_changing_it(umask) -> None:
    assert current_umask() == 0o022
    assert current_umask() == 0o022


def test_unwritable_directory_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(InputError):
        write_atomic(tmp_path / "f" / "x", "y")
