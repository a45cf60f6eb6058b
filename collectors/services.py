"""systemd units: enabled state from the unit files, active and sub state from the manager.

Fact `services/<unit>` = {"enabled": "enabled", "active": "active", "sub": "running"}; a unit
file that is not loaded has active/sub null. Hosts without a running systemd (containers,
Alpine) are `unsupported`, not failed.
"""

from __future__ import annotations

from collectors.interface import CollectConfig, Collector, Facts, NotApplicable
from collectors.parsing import split_parts
from drift.core.errors import CollectError

_TYPES = "service,socket,timer,mount,path"
COMMAND = (
    "if [ -d /run/systemd/system ]; then\n"
    f"  systemctl list-unit-files --no-legend --no-pager --type={_TYPES} && echo @@units &&\n"
    f"  systemctl list-units --all --no-legend --no-pager --plain --type={_TYPES}\n"
    "else echo @@no-systemd; fi"
)


def parse(output: str, cfg: CollectConfig) -> Facts:
    if output.strip() == "@@no-systemd":
        raise NotApplicable("systemd is not running on this host")
    files, units = split_parts(output, "@@units", 2, "systemctl")
    facts: dict[str, dict[str, str | None]] = {}
    for number, line in enumerate(files.split("\n"), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 2:
            raise CollectError(f"unit files line {number}: expected UNIT STATE, got {line[:80]!r}")
        facts[parts[0]] = {"enabled": parts[1], "active": None, "sub": None}
    for number, line in enumerate(units.split("\n"), 1):
        parts = line.lstrip("●* ").split(None, 4)
        if not parts:
            continue
        if len(parts) < 4:
            raise CollectError(f"units line {number}: expected UNIT LOAD ACTIVE SUB, got {line[:80]!r}")
        unit, load, active, sub = parts[:4]
        entry = facts.setdefault(unit, {"enabled": None, "active": None, "sub": None})
        entry["active"], entry["sub"] = active, sub
        if load == "not-found":
            entry["enabled"] = "not-found"
    return {f"services/{unit}": value for unit, value in facts.items()}  # type: ignore[misc]


COLLECTORS: tuple[Collector, ...] = (
    Collector("systemd", "services", lambda cfg: COMMAND, parse, requires=("systemctl",),
              description="systemd unit files and their enabled/active state"),
)
