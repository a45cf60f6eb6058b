"""Hostile inventories: deep, huge or absurd TOML ends in exit-2 errors naming the file, in linear time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from drift.collect import inventory
from drift.core.errors import InventoryError
from tests.timing import best_cpu_time


def load_text(tmp_path: Path, text: str) -> inventory.Inventory:
    path = tmp_path / "drift.toml"
    path.write_text(text)
    return inventory.load(path, {})


@pytest.mark.parametrize("text, words", [
    ("x = " + "[" * 100_000 + "]" * 100_000 + "\n", "nested deeper than 32"),
    ("x = " + "{a=" * 5000 + "1" + "}" * 5000 + "\n", "nested deeper than 32"),
    ("[environments." + "a." * 500_000 + "b]\n", "nested deeper than 32"),
    ("[policy]\nx" + ".y" * 40 + " = 1\n", "nested deeper than 32"),
    ('x = "' + "a" * 1_000_000 + '"\n', "unknown key 'x'"),
    ("[ssh]\nport = " + "9" * 5000 + "\n", "a number with thousands of digits"),
    ("[" + " " * 1_000_000 + "\n", "invalid TOML"),
    ('[ssh]\nport = "' + "9" * 1_000_000 + '"\n', "characters)"),
])
def test_refused_quickly_with_the_file_named(tmp_path: Path, text: str, words: str) -> None:
    start = time.perf_counter()
    with pytest.raises(InventoryError) as caught:
        load_text(tmp_path, text)
    assert time.perf_counter() - start < 20
    message = str(caught.value)
    assert words in message and str(tmp_path / "drift.toml") in message
    assert len(message) < 600, "the error echoed the input back"


def _hosts(n: int, duplicate: bool = False) -> str:
    rows = "".join(f'  {{ name = "h{i}", role = "web" }},\n' for i in range(n))
    return "[environments.prod]\nhosts = [\n" + rows + ('  { name = "h0" },\n' if duplicate else "") + "]\n"


def _best(fn) -> float:
    return best_cpu_time(fn, runs=3, expected=(InventoryError,))


@pytest.mark.parametrize("duplicate", [False, True])
def test_thousands_of_hosts_load_in_linear_time(tmp_path: Path, duplicate: bool) -> None:
    small, big = _hosts(500, duplicate), _hosts(5000, duplicate)
    t_small = _best(lambda: load_text(tmp_path, small))
    t_big = _best(lambda: load_text(tmp_path, big))
    assert t_big < 35 * t_small, f"10x the hosts took {t_big / t_small:.0f}x the time"


def test_a_duplicate_host_is_still_located(tmp_path: Path) -> None:
    with pytest.raises(InventoryError) as caught:
        load_text(tmp_path, _hosts(50, duplicate=True))
    assert caught.value.line == 3  # the first line naming it, as before the index
