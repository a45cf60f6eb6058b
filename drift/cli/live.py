"""From TARGET arguments to snapshots: resolve, collect live hosts in parallel, record in the store."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import collectors as registry
from drift.cli.app import Common
from drift.cli.progress import Progress
from drift.collect.gather import Plan, collect
from drift.collect.inventory import Host, Inventory
from drift.collect.preflight import check_files
from drift.collect.targets import DEFAULT_COLLECT, Target, resolve
from drift.core import heap
from drift.core.errors import ExitStatus, InputError, Interrupted
from drift.core.sanitize import clean
from drift.model.facts import Tables
from drift.model.snapshot import Snapshot
from drift.store.sqlite import Store


def resolve_targets(c: Common, inv: Inventory | None, specs: Sequence[str]) -> list[Target]:
    if not specs:
        raise InputError("name at least one target")
    tables = Tables()  # the targets' hosts share fact tables: one base per collector and role
    with heap.loading():
        return [resolve(s, inv, c.env.cwd, tables) for s in specs]


def plan_for(c: Common, inv: Inventory | None) -> Plan:
    c.check_categories(registry.known_names())
    chosen = registry.select(list(inv.collectors) if inv else None)
    if c.categories:
        wanted = set(c.categories)
        chosen = tuple(x for x in chosen if x.category in wanted or x.name in wanted)
    config = inv.collect if inv is not None else DEFAULT_COLLECT
    if inv is not None and config.content and any(x.name == "files" for x in chosen):
        from drift.store import secret_key

        config = replace(config, secret_key=secret_key.load(inv.store_path, c.env.vars))
    return Plan(
        collectors=chosen,
        config=config,
        timeout=c.timeout,
        jobs=c.jobs or (inv.ssh.jobs if inv else 32),
        clock=c.env.now,
    )


def collect_targets(c: Common, inv: Inventory | None, targets: Sequence[Target]) -> list[Snapshot]:
    """Collect every live host of `targets` in one pool (each host once)."""
    hosts: dict[str, Host] = {}
    local = False
    for t in targets:
        local = local or t.local
        for h in t.hosts:
            hosts.setdefault(h.name, h)
    if not hosts:
        return []
    plan = plan_for(c, inv)
    remote = [h for h in hosts.values() if not (local and h.env == "local")]
    check_files(remote)
    progress = Progress(len(hosts), plan.jobs, c.env.stderr, c.progress_wanted())
    snaps: list[Snapshot] = []
    try:
        if local:  # first: it takes a second, where one silent remote host takes the connect timeout
            local_hosts = [h for h in hosts.values() if h.env == "local"]
            snaps += collect(local_hosts, c.env.local_connector(), plan, progress)
        if remote:
            with _connection_notes(c):
                snaps += collect(remote, c.env.ssh_connector(), plan, progress)
    except Interrupted as stop:
        progress.finish()
        _keep_on_interrupt(c, inv, snaps + [s for s in stop.done if isinstance(s, Snapshot)], len(hosts))
    finally:
        progress.finish()
    failed = [s.host for s in snaps if s.failed]
    if failed:
        c.say(f"drift: {len(failed)} of {len(snaps)} hosts could not be collected: {', '.join(failed)}")
    return snaps


def _keep_on_interrupt(c: Common, inv: Inventory | None, done: list[Snapshot], total: int) -> NoReturn:
    """Ctrl-C: record what was collected, then stop; a second Ctrl-C while recording ends at once."""
    def now(signum: int, frame: object) -> None:
        os.write(2, b"\ndrift: interrupted again: exiting now, nothing more recorded\n")
        os._exit(ExitStatus.INTERRUPTED)

    try:
        previous = signal.signal(signal.SIGINT, now)
    except ValueError:  # not the main thread (an embedding program): its own Ctrl-C handling stands
        previous = None
    try:
        record(c, inv, done)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    raise Interrupted(tuple(done), total, recorded=True)


@contextlib.contextmanager
def _connection_notes(c: Common) -> Iterator[None]:
    """--verbose: what the transport did about connections (pacing, retries), one line each."""
    if not c.verbose or c.quiet:
        yield
        return

    class Say(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            c.debug("drift: " + clean(record.getMessage()))

    logger, handler = logging.getLogger("drift.collect"), Say(logging.INFO)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def record(c: Common, inv: Inventory | None, snaps: Sequence[Snapshot]) -> None:
    """Every snapshot a command collects goes into the store (spec/cli.md, The store)."""
    if not snaps:
        return
    with open_store(c, inv) as store:
        store.record(snaps)
        pruned = store.prune(inv.keep_days, c.env.now()) if inv is not None else 0
    c.debug(f"recorded {len(snaps)} snapshots in {store.path}" + (f"; pruned {pruned} older than "
                                                                f"{inv.keep_days} days" if pruned and inv else ""))


def store_url(c: Common, inv: Inventory | None) -> str | None:
    return inv.store_url if inv is not None else (c.env.vars.get("DRIFT_STORE_URL") or None)


def open_store(c: Common, inv: Inventory | None) -> Store:
    """The store this run reads and records into (spec/cli.md, The store)."""
    from drift.store import open_store as open_backend

    return open_backend(inv.store_path if inv is not None else _default_store(c), store_url(c, inv))


def _default_store(c: Common) -> Path:
    raw = c.env.vars.get("DRIFT_STORE")
    return Path(raw).expanduser() if raw else c.env.cwd / ".drift" / "drift.db"

