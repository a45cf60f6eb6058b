"""`drift baseline save|show` and `drift history`: the approved state, and what changed when."""

from __future__ import annotations

import datetime as dt
import json
import re
import textwrap
from pathlib import Path
from typing import Annotated

import typer
from tabulate import tabulate

from drift.analysis import history as history_mod
from drift.cli.app import (
    CategoryOpt,
    Common,
    InventoryOpt,
    JobsOpt,
    ListFormatOpt,
    NoColorOpt,
    QuietOpt,
    TimeoutOpt,
    VerboseOpt,
    app,
    common,
)
from drift.cli.compare_cmds import who
from drift.cli.live import collect_targets, record, resolve_targets
from drift.collect.inventory import Inventory
from drift.core.atomic import write_atomic
from drift.core.errors import ExitStatus, InputError
from drift.core.sanitize import clean, quote
from drift.reports import OutputFormat
from drift.store import baseline as baseline_io
from drift.store.sqlite import Store

baseline_app = typer.Typer(help="Approved baselines in baselines/ENV.json.", no_args_is_help=True)
app.add_typer(baseline_app, name="baseline")


def _env_only(c: Common, env: str) -> None:
    inv = c.inventory()
    assert inv is not None
    if env not in inv.environments:
        raise InputError(f"{quote(env)} is not an environment of this inventory "
                         f"(environments: {', '.join(sorted(inv.environments))})", inv.path)


@baseline_app.command("save")
def save_cmd(
    ctx: typer.Context,
    env: Annotated[str, typer.Argument(help="The environment to approve.")],
    output: Annotated[Path | None,
        typer.Option("-o", "--output", help="Baseline file (default baselines/ENV.json).")] = None,
    inventory: InventoryOpt = None, jobs: JobsOpt = None, timeout: TimeoutOpt = None,
    quiet: QuietOpt = False, verbose: VerboseOpt = False,
) -> int:
    """Collect ENV now and write it as the approved baseline."""
    c = common(ctx, inventory_path=inventory, jobs=jobs, timeout=timeout, quiet=quiet, verbose=verbose)
    _env_only(c, env)
    inv = c.inventory()
    assert inv is not None
    snaps = collect_targets(c, inv, resolve_targets(c, inv, [env]))
    record(c, inv, snaps)
    broken = [f"{s.host}{' ' + n if n else ''}: {m}" for s in snaps for n, m in s.errors()]
    if broken:
        # An approved state must be complete: a partial baseline would hide the missing hosts forever.
        c.say("drift: baseline not saved, parity of the environment is not proven:\n  " + "\n  ".join(broken))
        return ExitStatus.INCOMPLETE
    path = output if output is not None else baseline_io.default_path(inv.path.parent, env)
    path = path.expanduser() if path.expanduser().is_absolute() else c.env.cwd / path
    approved = baseline_io.Baseline(env, c.env.now().strftime("%Y-%m-%dT%H:%M:%SZ"), who(), inv.sha256,
                                    tuple(sorted(snaps, key=lambda s: s.host)))
    write_atomic(path, approved.to_json())
    c.say(f"drift: baseline of {env} ({len(snaps)} hosts) written to {path}; review it in a pull request")
    return ExitStatus.OK


@baseline_app.command("show")
def show_cmd(
    ctx: typer.Context,
    env: Annotated[str, typer.Argument(help="The environment whose baseline to show.")],
    baseline: Annotated[Path | None,
        typer.Option("--baseline", help="Baseline file (default baselines/ENV.json).")] = None,
    inventory: InventoryOpt = None, format: ListFormatOpt = None,
) -> int:
    """Summarise a baseline: when, by whom, against which inventory, and its hosts."""
    c = common(ctx, inventory_path=inventory, format=format)
    inv = c.inventory(required=False)
    path = baseline or baseline_io.default_path(inv.path.parent if inv else c.env.cwd, env)
    path = path if path.is_absolute() else c.env.cwd / path
    b = baseline_io.load(path)
    rows = [{"host": s.host, "role": s.role, "collected_at": s.collected_at,
             "facts": len(s.facts()), "packages": sum(p.startswith("packages/") for p in s.facts())}
            for s in b.snapshots]
    same = inv is not None and inv.sha256 == b.inventory_sha256
    if c.fmt is OutputFormat.json:
        c.emit(json.dumps({"schema": "drift.baseline-summary/1", "env": b.env, "path": str(path),
                           "saved_at": b.saved_at, "saved_by": b.saved_by, "inventory_sha256": b.inventory_sha256,
                           "inventory_unchanged": same, "hosts": rows}, indent=2, sort_keys=True))
        return ExitStatus.OK
    if c.fmt is not OutputFormat.table:
        raise InputError(f"--format {c.fmt.value} is not available for this command (use table or json)")
    c.emit(f"baseline of {b.env}: {path}\nsaved {b.saved_at} by {b.saved_by} with drift {b.drift_version}\n"
           f"inventory sha256 {b.inventory_sha256[:16]}… "
           f"({'same as now' if same else 'the inventory has changed since'})\n\n"
           + tabulate([list(r.values()) for r in rows], headers=list(rows[0]) if rows else []))
    return ExitStatus.OK


def _known(store: Store, inv: Inventory | None, env: str, host: str | None) -> None:
    """An unknown environment or host is a typo (exit 2), never "no changes" (exit 0)."""
    recorded = store.hosts(env)
    in_inventory = inv is not None and env in inv.environments
    if not recorded and not in_inventory:
        envs = sorted(set(store.environments()) | set(inv.environments if inv else ()))
        raise InputError(f"unknown environment {env!r}: not in the inventory and never recorded in the store "
                         f"(known: {', '.join(envs) or 'none yet'})")
    if host is None or host in recorded:
        return
    listed = inv.host(host) if inv is not None else None
    if listed is None or listed.env != env:
        known = sorted(set(recorded) | {h.name for h in (inv.environments.get(env, ()) if inv else ())})
        raise InputError(f"unknown host {host!r} in {env}: not in the inventory and never recorded "
                         f"(hosts of {env}: {', '.join(known) or 'none yet'})")


_SINCE = re.compile(r"^(\d+)([mhdw])$")


def parse_since(text: str, now: dt.datetime) -> dt.datetime:
    m = _SINCE.match(text.strip())
    if m:
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[m.group(2)]
        return now - dt.timedelta(**{unit: int(m.group(1))})
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--since {quote(text)}: expected a duration like 30m, 24h, 7d, 2w "
                         "or a date like 2026-11-01") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


@app.command("history")
def history_cmd(
    ctx: typer.Context,
    env: Annotated[str, typer.Argument(help="The environment whose history to show.")],
    since: Annotated[str, typer.Option("--since", help="How far back: 30m, 24h, 7d, 2w, or a date.")] = "7d",
    host: Annotated[str | None, typer.Option("--host", help="Only this host.")] = None,
    inventory: InventoryOpt = None, format: ListFormatOpt = None, category: CategoryOpt = None,
    quiet: QuietOpt = False, verbose: VerboseOpt = False, no_color: NoColorOpt = False,
) -> int:
    """What changed, when, on which hosts, from the snapshots in the store."""
    c = common(ctx, inventory_path=inventory, format=format, categories=category, quiet=quiet, verbose=verbose)
    if c.fmt not in (OutputFormat.table, OutputFormat.json):
        raise InputError(f"--format {c.fmt.value} is not available for history (use table or json)")
    start = parse_since(since, c.env.now())
    inv = c.inventory(required=False)
    from drift.cli.live import _default_store, open_store, store_url

    path = inv.store_path if inv is not None else _default_store(c)
    if not store_url(c, inv) and not path.exists():
        raise InputError("no store yet: run `drift snapshot`, `compare` or `audit` first", path)
    found: list[history_mod.Change] = []
    with open_store(c, inv) as store:
        _known(store, inv, env, host)
        for name in ([host] if host else store.hosts(env)):
            first = store.previous(env, name, start)
            snaps = ([first] if first else []) + list(store.snapshots(env, name, start))
            found += history_mod.changes(snaps)
    cats = set(c.categories)
    found = sorted((x for x in found if not cats or x.category in cats), key=history_mod.Change.sort_key)
    if c.fmt is OutputFormat.json:
        c.emit(json.dumps({"schema": "drift.history/1", "env": env, "since": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "changes": [x.__dict__ for x in found]}, indent=2, sort_keys=True, default=str))
        return ExitStatus.OK
    rows = [[f"{x.after[5:16].replace('T', ' ')} → {x.before[5:16].replace('T', ' ')}", x.host, x.category,
             x.kind, clean(x.subject)[:32], "\n".join(textwrap.wrap(clean(x.summary), 40)[:4])] for x in found]
    c.emit(tabulate(rows, headers=["between (UTC)", "host", "category", "kind", "subject", "old -> new"])
           if rows else f"no changes in {env} since {start.strftime('%Y-%m-%d %H:%M UTC')}")
    return ExitStatus.OK
