"""`drift reach ENV`: the flow matrix, source role → destination role:port, as the firewalls judge it."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

import typer
from tabulate import tabulate

from drift.analysis import differ
from drift.analysis.differ import Env
from drift.analysis.reach.matrix import Cell, build
from drift.cli.app import (
    FormatOpt,
    InventoryOpt,
    JobsOpt,
    NoColorOpt,
    OutputOpt,
    QuietOpt,
    TimeoutOpt,
    VerboseOpt,
    app,
    common,
)
from drift.cli.compare_cmds import _sides
from drift.cli.live import resolve_targets
from drift.core.errors import ExitStatus, InputError
from drift.core.sanitize import clean
from drift.model.report import HostError, Side
from drift.model.snapshot import dumps
from drift.reports import OutputFormat
from drift.reports.text import host_list, when

SCHEMA = "drift.reach/1"


@app.command("reach")
def reach_cmd(
    ctx: typer.Context,
    env: Annotated[str, typer.Argument(help="The environment (or ENV:ROLE, or a snapshot directory).")],
    inventory: InventoryOpt = None, format: FormatOpt = None, output: OutputOpt = None, jobs: JobsOpt = None,
    timeout: TimeoutOpt = None, quiet: QuietOpt = False, verbose: VerboseOpt = False, no_color: NoColorOpt = False,
) -> int:
    """The flow matrix: for each source role → destination role:port, whether the firewalls admit it,
    refuse it (naming the rule), or drift cannot tell (unknown, with the reason). Formats: table, json."""
    c = common(ctx, inventory_path=inventory, format=format, output=output, jobs=jobs, timeout=timeout,
               quiet=quiet, verbose=verbose, no_color=no_color)
    if c.fmt not in (OutputFormat.table, OutputFormat.json):
        raise InputError(f"drift reach prints table or json, not {c.fmt.value}")
    inv = c.inventory(required=False)
    (side,) = _sides(c, inv, resolve_targets(c, inv, [env]))
    cells = build(side.snapshots)
    errors = differ.errors(side)
    unknown = any(cell.verdict == "unknown" for cell in cells) or any(e.collector is None for e in errors)
    code = ExitStatus.INCOMPLETE if unknown else ExitStatus.OK
    if c.fmt is OutputFormat.json:
        c.emit(dumps(document(side.name, c.env.now().strftime("%Y-%m-%dT%H:%M:%SZ"), cells, errors, int(code))))
    else:
        c.emit(table(side, cells, errors, c.env.now().strftime("%Y-%m-%dT%H:%M:%SZ"), int(code)))
    return int(code)


def document(env: str, now: str, cells: list[Cell], errors: list[HostError], code: int) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for cell in cells:
        counts[cell.verdict] = counts.get(cell.verdict, 0) + 1
    return {
        "schema": SCHEMA, "env": env, "generated_at": now,
        "summary": {"flows": len(cells), **{v: counts.get(v, 0) for v in ("admitted", "refused", "partial", "unknown")},
                    "exit_code": code},
        "flows": [{"from": cell.src_role, "to": cell.dst_role, "proto": cell.proto, "port": cell.port,
                   "verdict": cell.verdict, "why": cell.why(),
                   "pairs": [{"src": p.src, "dst": p.dst, "via": p.via, "verdict": p.verdict, "rule": p.rule,
                              "reasons": list(p.reasons)} for p in cell.pairs]} for cell in cells],
        "errors": [{"host": e.host, "collector": e.collector, "message": e.message} for e in errors],
    }


def table(env: Env, cells: list[Cell], errors: list[HostError], now: str, code: int) -> str:
    """The report table's shape: who was read and when, the counts, then one row per flow."""
    rows = []
    for cell in cells:
        counts = f"{sum(p.verdict == cell.verdict for p in cell.pairs)}/{len(cell.pairs)}" \
            if cell.verdict != "partial" else f"{sum(p.verdict == 'admitted' for p in cell.pairs)}/{len(cell.pairs)} ok"
        why = clean(cell.why())
        rows.append([cell.src_role, f"{cell.dst_role}:{cell.port}/{cell.proto}", cell.verdict, counts,
                     why if len(why) <= 90 else why[:87] + "..."])
    snaps = sorted(env.snapshots, key=lambda s: s.host)
    side = Side(env.name, tuple(s.host for s in snaps), tuple(s.collected_at for s in snaps))
    verdicts = Counter(cell.verdict for cell in cells)
    tally = ", ".join(f"{verdicts[v]} {v}" for v in ("admitted", "refused", "partial", "unknown") if verdicts[v])
    out = [f"drift reach {clean(env.name)}",
           f"  {clean(env.name)}  {len(side.hosts)} host{'s' if len(side.hosts) != 1 else ''} "
           f"({when(side, now)}): {clean(host_list(side))}",
           f"  {len(cells)} flow{'s' if len(cells) != 1 else ''}{': ' + tally if tally else ''}; exit {code}", ""]
    out.append(tabulate(rows, headers=["from", "to", "verdict", "pairs", "rule or reason"], tablefmt="plain")
               if rows else "no flows: no host of any role listens where another role can connect")
    if errors:
        out += ["", "could not collect (unknown, not absent):"]
        out += [f"  {e.host}{'/' + e.collector if e.collector else ''}: {clean(e.message)}" for e in errors]
    return "\n".join(out) + "\n"
