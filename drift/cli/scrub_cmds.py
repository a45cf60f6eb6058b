"""`drift store scrub` and `drift baseline scrub`: what an earlier drift kept, re-read by today's
secret rules, every value now classed as secret replaced by its keyed hash (collectors.content.scrub)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from drift.cli.app import Common, InventoryOpt, ListFormatOpt, QuietOpt, VerboseOpt, app, common
from drift.cli.audit_cmds import baseline_app
from drift.collect.inventory import Inventory
from drift.core.errors import ExitStatus, InputError
from drift.reports import OutputFormat
from drift.store import baseline as baseline_io
from drift.store.rewrite import Rewrite, Rewritten, rewrite_facts

store_app = typer.Typer(help="The store of every snapshot drift collected.", no_args_is_help=True)
app.add_typer(store_app, name="store")


def _rewrite(c: Common, inv: Inventory | None, store_path: Path) -> Rewrite:
    from collectors.content.scrub import scrub
    from collectors.content.secrets import Redactor
    from drift.store import secret_key

    redactor = Redactor(secret_key.load(store_path, c.env.vars), inv.collect.secret_keys if inv else ())

    def rewrite(facts: dict[str, Any]) -> tuple[dict[str, Any], int]:
        return scrub(facts, redactor)

    return rewrite


def _report(c: Common, what: str, done: list[tuple[str, Rewritten]], unit: str) -> None:
    """One line per store or baseline; with --format json one document for them all."""
    if c.fmt is OutputFormat.json:
        c.emit(json.dumps({"schema": "drift.scrub/1", "scrubbed": [
            {"kind": what, "path": where, "replaced": d.values, unit: d.changed} for where, d in done]},
            sort_keys=True))
        return
    c.emit("\n".join(f"{what} {where}: {d.values} secret values replaced by their keyed hash ({d.changed} {unit} "
                     "rewritten)" if d.values else f"{what} {where}: no secret values found" for where, d in done))


@store_app.command("scrub")
def store_scrub_cmd(
    ctx: typer.Context, inventory: InventoryOpt = None, format: ListFormatOpt = None,
    quiet: QuietOpt = False, verbose: VerboseOpt = False,
) -> int:
    """Hide, in every snapshot the store keeps, each value the secret rules now class as secret."""
    from drift.cli.live import _default_store, open_store, store_url

    c = common(ctx, inventory_path=inventory, format=format, quiet=quiet, verbose=verbose)
    inv = c.inventory(required=False)
    path = inv.store_path if inv is not None else _default_store(c)
    if not store_url(c, inv) and not path.exists():
        raise InputError("no store yet: nothing to scrub", path)
    fn = _rewrite(c, inv, path)
    with open_store(c, inv) as store:
        done = rewrite_facts(store, fn)
        where = str(store.path)
    _report(c, "store", [(where, done)], "blobs")
    return ExitStatus.OK


@baseline_app.command("scrub")
def baseline_scrub_cmd(
    ctx: typer.Context,
    env: Annotated[str | None, typer.Argument(help="The environment whose baseline to scrub (default: all).")] = None,
    baseline: Annotated[Path | None,
        typer.Option("--baseline", help="Baseline file (default baselines/ENV.json).")] = None,
    inventory: InventoryOpt = None, format: ListFormatOpt = None, quiet: QuietOpt = False, verbose: VerboseOpt = False,
) -> int:
    """Hide, in approved baselines, each value the secret rules now class as secret."""
    c = common(ctx, inventory_path=inventory, format=format, quiet=quiet, verbose=verbose)
    inv = c.inventory(required=False)
    base = inv.path.parent if inv else c.env.cwd
    if baseline is not None:
        paths = [baseline if baseline.is_absolute() else c.env.cwd / baseline]
    elif env is not None:
        paths = [baseline_io.default_path(base, env)]
    else:
        paths = sorted((base / "baselines").glob("*.json"))
        if not paths:
            raise InputError("no baselines to scrub", base / "baselines")
    from drift.cli.live import _default_store

    fn = _rewrite(c, inv, inv.store_path if inv is not None else _default_store(c))
    for path in paths:  # every file readable before any is rewritten: a bad one changes none
        baseline_io.load(path)
    _report(c, "baseline", [(str(path), baseline_io.rewrite_facts(path, fn)) for path in paths], "hosts")
    return ExitStatus.OK
