"""A fleet's staged history at known times: what `drift changes` and `drift explain` are tested on.

prod: web-1..4 (web), db-1, db-2 (db). Day 2026-11-20, UTC.
- 02:00 every host snapshotted; all alike.
- 03:00 libssl3 1.0 -> 1.1 on web-1, web-2, web-3 only (a partial rollout: web-4 was seen and missed it);
        openssl 3.0 -> 3.1 on all four web hosts; web-1's /etc/app.conf hand-edited.
- 04:00 firewall rule added on all four web hosts; db-1 upgrades 10 packages at once (a bulk change).
- 05:00 web-1's /etc/app.conf edit reverted.
- 06:00 every observed host snapshotted again.
db-2 was last seen at 01:00: unobserved in any window after that.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from drift.model.snapshot import Snapshot
from tests.drift.factory import snap

DAY = "2026-11-20T"
HOSTS = {"web-1": "web", "web-2": "web", "web-3": "web", "web-4": "web", "db-1": "db", "db-2": "db"}
RULE = "-p tcp -m tcp --dport 22 -j ACCEPT"
NEW_RULE = "-p tcp -m tcp --dport 6379 -j DROP"


def at(hour: int) -> str:
    return f"{DAY}{hour:02d}:00:00Z"


def facts(host: str, hour: int) -> dict[str, Any]:
    web = HOSTS[host] == "web"
    f: dict[str, Any] = {
        "packages/deb/libssl3": {"version": "1.1" if hour >= 3 and host in ("web-1", "web-2", "web-3") else "1.0"},
        "packages/deb/openssl": {"version": "3.1" if hour >= 3 and web else "3.0"},
        "files/etc/app.conf": {"type": "file", "sha256": "b" * 64 if host == "web-1" and 3 <= hour < 5 else "a" * 64},
        "firewall/iptables/filter/INPUT": {"policy": "ACCEPT",
                                           "rules": [RULE] + ([NEW_RULE] if hour >= 4 and web else [])},
        "system/os/id": "debian",
    }
    for i in range(10):
        f[f"packages/deb/lib{i}"] = {"version": "2.0" if host == "db-1" and hour >= 4 else "1.0"}
    return f


def hours(host: str) -> list[int]:
    if host == "db-2":
        return [1]
    return [2, 3, 4, 5, 6]


def history(host: str) -> list[Snapshot]:
    return [replace(snap(host, "prod", HOSTS[host], facts(host, h)), collected_at=at(h)) for h in hours(host)]
