"""Warnings about when the compared snapshots were taken: a report built from old snapshots shows
the past, and one dated in the future shows a wrong clock. Either way a person should be told."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from drift.analysis.differ import Env

DEFAULT_MAX_AGE = dt.timedelta(days=7)
CLOCK_SKEW = dt.timedelta(minutes=5)  # controllers' clocks differ a little; that is not "the future"


def warnings(envs: Sequence[Env], now: dt.datetime, max_age: dt.timedelta = DEFAULT_MAX_AGE) -> list[str]:
    out: list[str] = []
    for env in envs:
        old: list[tuple[dt.timedelta, str]] = []
        ahead: list[tuple[dt.timedelta, str]] = []
        unreadable: list[str] = []
        for snap in env.snapshots:
            when = _parse(snap.collected_at)
            if when is None:
                unreadable.append(snap.host)
            elif now - when > max_age:
                old.append((now - when, snap.host))
            elif when - now > CLOCK_SKEW:
                ahead.append((when - now, snap.host))
        total = len(env.snapshots)
        if old:
            age, host = max(old)
            out.append(f"{env.name}: {len(old)} of {total} snapshots older than {_span(max_age)} "
                       f"(oldest {host}, {_span(age)}): this shows the past, not now")
        if ahead:
            lead, host = max(ahead)
            out.append(f"{env.name}: {len(ahead)} of {total} snapshots dated in the future "
                       f"({host}, {_span(lead)} ahead): a wrong clock where they were collected")
        if unreadable:
            out.append(f"{env.name}: no readable collection time: {', '.join(sorted(unreadable))}")
    return out


def _parse(stamp: str) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _span(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} hours"
    return f"{max(1, seconds // 60)} minutes"
