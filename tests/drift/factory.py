"""Snapshots built in tests: facts go to a collector named after their category."""

from __future__ import annotations

from typing import Any

from drift.model.snapshot import CollectorResult, Snapshot


def snap(host: str, env: str, role: str, facts: dict[str, Any], *, failed: tuple[str, ...] = (),
         identity: tuple[str, ...] = (), down: bool = False) -> Snapshot:
    by_cat: dict[str, dict[str, Any]] = {}
    for path, value in facts.items():
        by_cat.setdefault(path.split("/", 1)[0], {})[path] = value
    for name in failed:
        by_cat.setdefault(name, {})
    collectors = {
        cat: CollectorResult(cat, cat, "failed" if cat in failed else "ok", "boom" if cat in failed else None,
                             {} if cat in failed else f, tuple(p for p in identity if p in f))
        for cat, f in by_cat.items()
    }
    if down:
        return Snapshot(host, env, role, host, "2026-11-22T03:00:00Z", "test", "failed", "connection refused")
    return Snapshot(host, env, role, host, "2026-11-22T03:00:00Z", "test", collectors=collectors)
