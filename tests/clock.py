"""The one clock the tests run at: a fixed instant shortly after every dated fixture (the factory's
snapshots, examples/, incident days), so no verdict or warning moves with the date the suite runs on.
Tests that need "old" or "future" snapshots date them relative to NOW."""

from __future__ import annotations

from datetime import datetime, timezone

NOW = datetime(2026, 11, 23, 13, 0, 0, tzinfo=timezone.utc)


def fixed() -> datetime:
    return NOW


def stamp(when: datetime = NOW) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")
