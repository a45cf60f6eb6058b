"""`drift compare LEFT RIGHT` and `drift audit ENV`: collect or load, compare, report, exit code."""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

import collectors as registry
from drift.analysis import compare as engine
from drift.analysis import freshness
from drift.analysis import policy as policy_mod
from drift.analysis.differ import Env
from drift.cli.app import (
    CategoryOpt,
    Common,
    FailOnOpt,
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
from drift.cli.live import collect_targets, record, resolve_targets
from drift.collect.inventory import Inventory
from drift.collect.targets import Target
from drift.core.errors import InputError
from drift.core.sanitize import quote
from drift.model.report import Level, Report
from drift.model.snapshot import Snapshot
from drift.reports import OutputFormat, render
from drift.store import baseline as baseline_io

TopOpt = Annotated[int | None, typer.Option(
    "--top", min=0, help="Start the table with the N most important findings, one line each (default 5 when "
    "stdout is a terminal, else 0).")]


def _prepare(c: Common) -> tuple[Inventory | None, policy_mod.Policy]:
    """Everything that can be wrong with the input is found before any host is contacted."""
    c.check_categories(registry.known_names())
    inv = c.inventory(required=False)
    return inv, policy_mod.parse(inv.policy_table, inv.source) if inv is not None else policy_mod.Policy()


def _categories(c: Common) -> frozenset[str]:
    """--category takes categories or collector names; findings are filtered by category."""
    by_name = {x.name: x.category for x in registry.REGISTRY}
    return frozenset(by_name.get(n, n) for n in c.categories)


def _sides(c: Common, inv: Inventory | None, targets: Sequence[Target]) -> list[Env]:
    """Each target as an environment: live hosts collected together in one pool, files as loaded."""
    collected = collect_targets(c, inv, [t for t in targets if t.live])
    record(c, inv, collected)
    by_host = {s.host: s for s in collected}
    envs = []
    for t in targets:
        snaps: tuple[Snapshot, ...] = t.snapshots
        if t.live:
            snaps = tuple(by_host[h.name] for h in t.hosts if h.name in by_host)
            if t.local:
                snaps = tuple(s for s in collected if s.env == "local")
        envs.append(Env(t.name, snaps))
    return envs


def _finish(c: Common, report: Report, pol: policy_mod.Policy, compared: Sequence[Env], top: int | None = None,
            inv: Inventory | None = None) -> int:
    stale = freshness.warnings(compared, c.env.now(), pol.max_snapshot_age)
    report = replace(report, warnings=(*report.warnings, *stale))
    color = c.output is None and not c.no_color and c.env.color(c.env.stdout)
    from drift.cli.past import top_default, top_since

    n = top_default(c) if top is None else top
    width = c.env.width(c.env.stdout) if c.output is None else None
    s = report.summary()
    c.emit(render(report, c.fmt, color, n, top_since(c, inv, report, n), width=width),
           f"{s['findings']} finding{'s' if s['findings'] != 1 else ''}, {s['blocking']} blocking")
    if c.fmt is not OutputFormat.table or c.output is not None:
        for w in report.warnings:
            c.say(f"drift: warning: {w}")
        for e in report.errors:
            c.say(f"drift: could not collect {e.host}{' ' + e.collector if e.collector else ''}: {e.message}")
    return int(report.exit_code)


def _fail_on(c: Common) -> Level | None:
    return Level[c.fail_on.value] if c.fail_on is not None else None


@app.command("compare")
def compare_cmd(
    ctx: typer.Context,
    left: Annotated[str, typer.Argument(help="Environment, ENV:ROLE, host, `local`, or snapshot file/dir.")],
    right: Annotated[str, typer.Argument(help="The other side, in the same forms.")],
    inventory: InventoryOpt = None, format: FormatOpt = None, output: OutputOpt = None,
    fail_on: FailOnOpt = None, category: CategoryOpt = None, jobs: JobsOpt = None, timeout: TimeoutOpt = None,
    quiet: QuietOpt = False, verbose: VerboseOpt = False, no_color: NoColorOpt = False, top: TopOpt = None,
    as_role: Annotated[str | None, typer.Option(
        "--as-role", metavar="ROLE", help="Compare LEFT's hosts as role ROLE, whatever their own role: a new "
        "or local host against the role it should match (RIGHT's role ROLE).")] = None,
) -> int:
    """Compare two sides role by role, and report hosts that disagree with their own role's peers."""
    c = common(ctx, inventory_path=inventory, format=format, output=output, fail_on=fail_on,
               categories=category, jobs=jobs, timeout=timeout, quiet=quiet, verbose=verbose, no_color=no_color)
    inv, pol = _prepare(c)
    targets = resolve_targets(c, inv, [left, right])
    lenv, renv = _sides(c, inv, targets)
    if lenv.name == renv.name:
        renv = Env(renv.name + " (right)", renv.snapshots)
    if as_role is not None:
        lenv = Env(lenv.name, tuple(replace(s, role=as_role, roles=()) for s in lenv.snapshots))
    report = engine.compare(lenv, renv, pol, c.env.now(), _fail_on(c), _categories(c))
    code = _finish(c, report, pol, [lenv, renv], top, inv)
    _no_role_in_common(c, lenv, renv, as_role)
    return code


def _no_role_in_common(c: Common, left: Env, right: Env, as_role: str | None) -> None:
    """Two sides with no role in common compare nothing but 'role X exists in one side only'."""
    lroles = {r for s in left.snapshots for r in s.all_roles}
    rroles = {r for s in right.snapshots for r in s.all_roles}
    if lroles and rroles and not lroles & rroles and as_role is None:
        c.say(f"drift: {left.name} ({', '.join(sorted(lroles))}) and {right.name} ({', '.join(sorted(rroles))}) "
              f"have no role in common; to compare {left.name} as one of {right.name}'s roles, pass "
              f"--as-role {sorted(rroles)[0]}")


@app.command("audit")
def audit_cmd(
    ctx: typer.Context,
    env: Annotated[str, typer.Argument(help="The environment to audit.")],
    baseline: Annotated[Path | None, typer.Option(
        "--baseline", help="Approved baseline (default baselines/ENV.json when it exists).")] = None,
    inventory: InventoryOpt = None, format: FormatOpt = None, output: OutputOpt = None,
    fail_on: FailOnOpt = None, category: CategoryOpt = None, jobs: JobsOpt = None, timeout: TimeoutOpt = None,
    quiet: QuietOpt = False, verbose: VerboseOpt = False, no_color: NoColorOpt = False, top: TopOpt = None,
) -> int:
    """Hosts that disagree with their role's peers in ENV, plus every difference from the baseline."""
    c = common(ctx, inventory_path=inventory, format=format, output=output, fail_on=fail_on,
               categories=category, jobs=jobs, timeout=timeout, quiet=quiet, verbose=verbose, no_color=no_color)
    inv, pol = _prepare(c)
    approved = _baseline(c, inv, env, baseline)
    (current,) = _sides(c, inv, resolve_targets(c, inv, [env]))
    base_env = Env("baseline", approved.snapshots) if approved else None
    if approved is None:
        c.debug(f"drift: no baseline for {env}; reporting in-env outliers only")
    report = engine.audit(current, base_env, pol, c.env.now(), _fail_on(c), _categories(c))
    return _finish(c, report, pol, [current], top, inv)  # a baseline is old by design: only now is checked


def _baseline(c: Common, inv: Inventory | None, env: str, given: Path | None) -> baseline_io.Baseline | None:
    if given is not None:
        path = given.expanduser() if given.expanduser().is_absolute() else c.env.cwd / given
    else:
        path = baseline_io.default_path(inv.path.parent if inv else c.env.cwd, env)
        if not path.exists():
            return None
    approved = baseline_io.load(path)
    if approved.env != env:
        raise InputError(f"this is the baseline of {quote(approved.env)}, not {quote(env)}: "
                         f"pass --baseline baselines/{env}.json, or save one with `drift baseline save {env}`",
                         path)
    return approved


def who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, as in some containers
        return "unknown"
