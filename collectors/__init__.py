"""The explicit registry of collectors. Adding one means adding it to REGISTRY: no magic."""

from __future__ import annotations

from collectors import container_packages, containers, files, firewall, packages, services, system, topology
from collectors.interface import CATEGORIES, CollectConfig, Collector

# Order is the order sections run in the per-host script and the order `drift collectors` lists.
REGISTRY: tuple[Collector, ...] = (
    *packages.COLLECTORS,
    *files.COLLECTORS,
    *firewall.COLLECTORS,
    *topology.COLLECTORS,
    *system.COLLECTORS,
    *services.COLLECTORS,
    *containers.COLLECTORS,
    *container_packages.COLLECTORS,
)


def select(names: tuple[str, ...] | list[str] | None = None) -> tuple[Collector, ...]:
    """Collectors named by category or by collector name; all of them for None or empty."""
    if not names:
        return REGISTRY
    wanted = set(names)
    return tuple(c for c in REGISTRY if c.category in wanted or c.name in wanted)


def known_names() -> set[str]:
    return set(CATEGORIES) | {c.name for c in REGISTRY}


__all__ = ["REGISTRY", "CollectConfig", "Collector", "known_names", "select"]
