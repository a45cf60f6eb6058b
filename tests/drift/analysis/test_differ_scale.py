"""The differ at fleet scale: shared tables give the very findings full tables give, and the
work grows with hosts, not with hosts squared."""

from __future__ import annotations

import datetime as dt
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from drift.analysis import compare as engine
from drift.analysis.differ import Env
from drift.analysis.policy import Policy
from drift.model.facts import Tables
from drift.model.snapshot import compacted
from drift.reports import OutputFormat, render
from tests.drift.factory import snap

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.timezone.utc)
paths = st.sampled_from(["packages/deb/a", "packages/deb/b", "packages/deb/c", "system/sysctl/x"])
fleets = st.lists(st.dictionaries(paths, st.sampled_from(["1.0", "1.1", "2.0"]), max_size=4), min_size=1, max_size=6)


def _env(name: str, facts_list: list[dict], tables: Tables | None) -> Env:
    snaps = [snap(f"{name}-{i}", name, "web", {k: ({"version": v} if k.startswith("packages") else v)
                                                for k, v in f.items()}) for i, f in enumerate(facts_list)]
    return Env(name, tuple(compacted(s, tables) if tables is not None else s for s in snaps))


@settings(max_examples=80, deadline=None)
@given(fleets, fleets, st.booleans())
def test_shared_tables_find_exactly_what_full_tables_find(x, y, one_tables):
    full = engine.compare(_env("a", x, None), _env("b", y, None), Policy(), NOW)
    shared = Tables()
    other = shared if one_tables else Tables()
    compact = engine.compare(_env("a", x, shared), _env("b", y, other), Policy(), NOW)
    assert render(compact, OutputFormat.json) == render(full, OutputFormat.json)


def _rolling(n: int) -> tuple[Env, Env]:
    """n hosts a side, 300 packages, every host with one package at a version of its own."""
    tables = Tables()
    envs = []
    for name in ("staging", "prod"):
        snaps = []
        for i in range(n):
            facts = {f"packages/deb/p{j}": {"version": "1.0"} for j in range(300)}
            facts[f"packages/deb/p{i % 300}"] = {"version": f"1.0+{i}"}
            snaps.append(compacted(snap(f"{name}-{i}", name, "web", facts), tables))
        envs.append(Env(name, tuple(snaps)))
    return envs[0], envs[1]


def _seconds(n: int) -> float:
    left, right = _rolling(n)
    start = time.thread_time()  # CPU time: a busy neighbour on the machine cannot stretch it
    report = engine.compare(left, right, Policy(), NOW)
    assert len(report.findings) == 2 * min(n, 300)
    return time.thread_time() - start


def test_compare_cost_is_linear_in_hosts():
    _seconds(20)  # warm up
    small, large = min(_seconds(100) for _ in range(3)), min(_seconds(800) for _ in range(3))
    # 8x the hosts: linear is ~8x; the old pairwise grouping was ~64x. Generous for a busy machine.
    assert large < small * 20, (small, large)


def _wide(n: int, packages: int) -> tuple[Env, Env]:
    """n hosts a side that run no containers, each one package at a version of its own."""
    import dataclasses

    from drift.model.snapshot import CollectorResult

    none = CollectorResult("containers", "containers", "unsupported")
    tables, envs = Tables(), []
    for name in ("staging", "prod"):
        snaps = []
        for i in range(n):
            facts = {f"packages/deb/p{j}": {"version": "1.0"} for j in range(packages)}
            facts[f"packages/deb/p{i}"] = {"version": f"1.0+{i}"}
            s = snap(f"{name}-{i}", name, "web", facts)
            s = dataclasses.replace(s, collectors={**s.collectors, "containers": none})
            snaps.append(compacted(s, tables))
        envs.append(Env(name, tuple(snaps)))
    return envs[0], envs[1]


def test_compare_cost_per_host_follows_what_differs_not_how_much_a_host_holds():
    """Hosts that share a base table cost their delta: 10x the packages on every host, with the same
    differences, must not cost 10x (the container architecture check once walked every fact of every host)."""
    def seconds(envs: tuple[Env, Env]) -> float:
        start = time.thread_time()
        engine.compare(*envs, Policy(), NOW)
        return time.thread_time() - start

    narrow, wide = _wide(60, 200), _wide(60, 2000)
    seconds(narrow)  # warm up
    small, large = min(seconds(narrow) for _ in range(3)), min(seconds(wide) for _ in range(3))
    assert large < small * 4, (small, large)  # the old walk: 8x
