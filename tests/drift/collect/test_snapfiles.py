"""Snapshot files decoded on several CPUs give the very snapshots a serial read gives, in order,
and a bad file is reported as a serial read reports it."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from drift.analysis import compare as engine
from drift.analysis.differ import Env
from drift.analysis.policy import Policy
from drift.collect import snapfiles
from drift.core.errors import SnapshotFileError
from drift.model import snapshot as snapshot_io
from drift.model.facts import Tables
from drift.reports import OutputFormat, render
from tests.drift.factory import snap

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.timezone.utc)
N = snapfiles.PARALLEL_FROM + 12


def _fleet(folder: Path, seed: int) -> list[Path]:
    """Hosts of two roles (one of them multi-role), each with its own oddities: a version of its own,
    a package only it has, a package it lacks, a failed collector, a wholly different table."""
    rng = random.Random(seed)
    files = []
    for i in range(N):
        facts = {f"packages/deb/p{j}": {"version": "1.0"} for j in range(40)}
        facts["system/sysctl/somaxconn"] = "4096"
        match rng.randrange(6):
            case 0:
                facts[f"packages/deb/p{rng.randrange(40)}"] = {"version": f"1.0+{i}"}
            case 1:
                facts[f"packages/deb/only{i}"] = {"version": "9"}
            case 2:
                del facts[f"packages/deb/p{rng.randrange(40)}"]
            case 3:
                facts = {f"packages/deb/q{j}": {"version": str(i)} for j in range(30)}
        s = snap(f"h{i:03d}", "prod", "db" if i % 7 == 0 else "web", facts,
                 failed=("system",) if rng.randrange(10) == 0 else ())
        if i % 11 == 0:
            from dataclasses import replace
            s = replace(s, roles=(s.role, "worker"))
        path = folder / f"{s.host}.json"
        path.write_text(s.to_json())
        files.append(path)
    return files


@pytest.mark.parametrize("seed", [1, 2])
def test_parallel_reading_gives_what_serial_reading_gives(tmp_path, seed):
    files = _fleet(tmp_path, seed)
    serial = [snapshot_io.load(p, Tables()) for p in files]
    tables = Tables()
    parallel = list(snapfiles.load_all(files, tables, jobs=2))
    assert parallel == serial
    assert [s.to_json() for s in parallel] == [p.read_text() for p in files]
    # Shared tables: the hosts that agree with their role hold one base, not a copy each.
    web = [s.collectors["packages"].facts for s in parallel if s.role == "web"]
    assert len({id(t.base) for t in web}) < len(web) / 2
    half = len(files) // 2
    left, right = Env("a", tuple(parallel[:half])), Env("b", tuple(parallel[half:]))
    expected = engine.compare(Env("a", tuple(serial[:half])), Env("b", tuple(serial[half:])), Policy(), NOW)
    assert render(engine.compare(left, right, Policy(), NOW), OutputFormat.json) == render(expected, OutputFormat.json)


def test_the_first_bad_file_in_order_is_the_error(tmp_path):
    files = _fleet(tmp_path, 3)
    files[30].write_text('{"schema": "drift.snapshot/1",\n oops')
    files[40].write_text("[]")
    with pytest.raises(SnapshotFileError) as err:
        list(snapfiles.load_all(files, Tables(), jobs=2))
    assert err.value.path == str(files[30]) and err.value.line == 2 and "invalid JSON" in str(err.value)
