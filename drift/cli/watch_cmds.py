"""`drift watch ENV --every 5m`: snapshots at an interval, so `drift changes` has evidence to bound
each change by. The store keeps unchanged facts once, so a quiet round costs a few rows."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from drift.analysis import history as history_mod
from drift.cli.app import (
    CategoryOpt,
    InventoryOpt,
    JobsOpt,
    NoColorOpt,
    QuietOpt,
    TimeoutOpt,
    VerboseOpt,
    app,
    common,
)
from drift.cli.incident_cmds import duration
from drift.cli.live import _default_store, collect_targets, open_store, record, resolve_targets, store_url
from drift.core.errors import ExitStatus, InputError, Interrupted
from drift.model.snapshot import Snapshot


@app.command("watch")
def watch_cmd(
    ctx: typer.Context,
    env: Annotated[str, typer.Argument(help="The environment (or ENV:ROLE, host) to snapshot.")],
    every: Annotated[str, typer.Option("--every", help="Time between rounds: 30s, 5m, 1h.")] = "5m",
    rounds: Annotated[int, typer.Option("--rounds", min=0, help="Stop after N rounds (0: no limit).")] = 0,
    for_: Annotated[str, typer.Option("--for", help="Stop after this long: 8h, 1d.")] = "24h",
    inventory: InventoryOpt = None, category: CategoryOpt = None, jobs: JobsOpt = None, timeout: TimeoutOpt = None,
    quiet: QuietOpt = False, verbose: VerboseOpt = False, no_color: NoColorOpt = False,
) -> int:
    """Snapshot ENV every interval into the store, so `drift changes` has the evidence; one line per
    round that changed something. Bounded by --rounds and --for; Ctrl-C stops it cleanly."""
    c = common(ctx, inventory_path=inventory, categories=category, jobs=jobs, timeout=timeout, quiet=quiet,
               verbose=verbose, no_color=no_color)
    step, limit = duration(every, "--every"), duration(for_, "--for")
    inv = c.inventory(required=False)
    targets = resolve_targets(c, inv, [env])
    if any(not t.live for t in targets):
        raise InputError(f"watch collects live hosts; {env} is a snapshot file or directory")
    start = c.env.now()
    last: dict[str, Snapshot] = {}
    path = inv.store_path if inv is not None else _default_store(c)
    if store_url(c, inv) or path.exists():
        with open_store(c, inv) as store:
            last = {s.host: s for s in store.latest()}
    done, incomplete = 0, False
    try:
        while True:
            snaps = collect_targets(c, inv, targets)
            record(c, inv, snaps)
            done += 1
            incomplete = incomplete or any(s.errors() for s in snaps)
            line, eventful = _round_line(done, snaps, last, c.env.now())
            last.update((s.host, s) for s in snaps)
            if c.env.interactive or eventful:
                c.say(line)  # a CI log gets only the rounds where something happened
            due = start + step * done
            if (rounds and done >= rounds) or due - start >= limit:
                break
            c.env.sleep(max(0.0, (due - c.env.now()).total_seconds()))
    except (KeyboardInterrupt, Interrupted):
        c.say(f"drift: watch stopped after {done} round{'s' if done != 1 else ''}; the store holds every "
              "completed round")
        return ExitStatus.INCOMPLETE if incomplete else ExitStatus.OK
    c.say(f"drift: watch finished after {done} round{'s' if done != 1 else ''}")
    return ExitStatus.INCOMPLETE if incomplete else ExitStatus.OK


def _round_line(n: int, snaps: list[Snapshot], last: dict[str, Snapshot], now: dt.datetime) -> tuple[str, bool]:
    changed: list[str] = []
    for s in snaps:
        before = last.get(s.host)
        if before is None or s.failed:
            continue
        found = history_mod.changes([before, s])
        if found:
            cats: dict[str, int] = {}
            for x in found:
                cats[x.category] = cats.get(x.category, 0) + 1
            changed.append(f"{s.host} ({', '.join(f'{k} {v}' for k, v in sorted(cats.items()))})")
    failed = [s.host for s in snaps if s.errors()]
    text = f"{now.strftime('%H:%M:%S')} round {n}: {len(snaps)} hosts"
    text += f"; changed: {'; '.join(changed)}" if changed else "; nothing changed"
    return text + (f"; could not collect: {' '.join(failed)}" if failed else ""), bool(changed or failed)
