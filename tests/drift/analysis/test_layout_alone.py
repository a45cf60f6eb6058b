"""A co-located layout explains a role's difference only where the shared host borrowed it."""

from __future__ import annotations

import datetime as dt

from drift.analysis import compare, policy
from drift.analysis.differ import Env
from drift.model.snapshot import Snapshot
from tests.drift.factory import snap

NOW = dt.datetime(2026, 11, 22, 3, tzinfo=dt.timezone.utc)


def roles(s: Snapshot, *names: str) -> Snapshot:
    from dataclasses import replace

    return replace(s, role=names[0], roles=names)


def test_a_difference_the_role_hosts_alone_also_show_is_reported() -> None:
    """staging: web+worker on stg-1, web alone on stg-2; prod: web and worker apart. A line new on
    every prod web host (and on no worker) is web's own drift, not the layout's."""
    old, new = {"files/etc/site.conf": "a"}, {"files/etc/site.conf": "b"}
    left = Env("staging", (roles(snap("stg-1", "staging", "web", old), "web", "worker"),
                           snap("stg-2", "staging", "web", old)))
    right = Env("prod", (snap("prd-web-1", "prod", "web", new), snap("prd-worker-1", "prod", "worker", old)))
    report = compare.compare(left, right, policy.Policy(), NOW)
    assert [(f.path, f.kind.value, f.role) for f in report.findings if f.category == "files"] == [
        ("files/etc/site.conf", "changed", "web")]
