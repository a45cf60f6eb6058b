"""Incident mode: `drift changes` (the ranked timeline), `drift explain`/`why` (one host three ways)
and `drift watch` (snapshots at an interval, so the timeline has evidence)."""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

import collectors as registry
from drift.analysis import changes as changes_mod
from drift.analysis import history as history_mod
from drift.analysis import policy as policy_mod
from drift.cli.app import (
    CategoryOpt,
    Common,
    InventoryOpt,
    JobsOpt,
    ListFormatOpt,
    NoColorOpt,
    OutputOpt,
    QuietOpt,
    TimelineFormatOpt,
    TimeoutOpt,
    VerboseOpt,
    app,
    common,
)
from drift.cli.audit_cmds import parse_since
from drift.cli.live import _default_store, open_store, store_url
from drift.collect.inventory import Inventory
from drift.core.errors import ExitStatus, InputError
from drift.model.snapshot import Snapshot
from drift.reports import OutputFormat
from drift.reports import changes as changes_report
from drift.store.sqlite import Store


def stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def moment(text: str, now: dt.datetime, option: str) -> dt.datetime:
    try:
        return parse_since(text, now)
    except InputError:
        raise InputError(f"{option} {text!r}: expected a duration ago like 30m, 24h, 7d, 2w "
                         "or a time like 2026-11-20T03:00Z") from None


_DURATION = re.compile(r"^(\d+)([smhdw])$")


def duration(text: str, option: str) -> dt.timedelta:
    m = _DURATION.match(text.strip())
    if not m or int(m.group(1)) == 0:
        raise InputError(f"{option} {text!r}: expected a duration like 30s, 5m, 1h, 1d")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[m.group(2)]
    return dt.timedelta(**{unit: int(m.group(1))})


def existing_store(c: Common, inv: Inventory | None) -> Store:
    """The store to read: it must exist already (a shared PostgreSQL store always does)."""
    path = inv.store_path if inv is not None else _default_store(c)
    if not store_url(c, inv) and not path.exists():
        raise InputError("no store yet: run `drift snapshot ENV` (or `drift watch ENV`) first", path)
    return open_store(c, inv)


def load_policy(c: Common, inv: Inventory | None) -> policy_mod.Policy:
    return policy_mod.parse(inv.policy_table, inv.source) if inv is not None else policy_mod.Policy()


def wanted_categories(c: Common) -> frozenset[str]:
    c.check_categories(registry.known_names())
    by_name = {x.name: x.category for x in registry.REGISTRY}
    return frozenset(by_name.get(n, n) for n in c.categories)


@app.command("changes")
def changes_cmd(
    ctx: typer.Context,
    env: Annotated[str, typer.Argument(help="The environment whose changes to show.")],
    since: Annotated[str, typer.Option("--since", help="Window start: 30m, 24h, 7d, or a time.")] = "24h",
    until: Annotated[str | None, typer.Option("--until", help="Window end (default now): 2h, or a time.")] = None,
    host: Annotated[str | None, typer.Option("--host", help="Only this host.")] = None,
    span: Annotated[str, typer.Option(
        "--span", help="The same change seen on hosts this close together is one event.")] = "1h",
    inventory: InventoryOpt = None, format: TimelineFormatOpt = None, output: OutputOpt = None,
    category: CategoryOpt = None, quiet: QuietOpt = False, verbose: VerboseOpt = False, no_color: NoColorOpt = False,
) -> int:
    """Every change in the window across ENV's hosts, grouped into events and ranked for an incident."""
    c = common(ctx, inventory_path=inventory, format=format, output=output, categories=category,
               quiet=quiet, verbose=verbose, no_color=no_color)
    now = c.env.now()
    start, end = moment(since, now, "--since"), (moment(until, now, "--until") if until else now)
    if end < start:
        raise InputError(f"--until {until!r} is before --since {since!r}")
    gap = duration(span, "--span")
    cats = wanted_categories(c)
    inv = c.inventory(required=False)
    pol = load_policy(c, inv)
    lo, hi = stamp(start), stamp(end)
    roles = {h.name: h.role for h in inv.hosts() if h.env == env} if inv is not None else {}
    found: dict[str, list[history_mod.Change]] = {}
    observed: list[str] = []
    with existing_store(c, inv) as store:
        for snap in store.latest(env):
            roles.setdefault(snap.host, snap.role)
        if not roles:
            known = sorted(inv.environments) if inv is not None else []
            raise InputError(f"{env!r}: no such environment in the inventory and no snapshots of it in the store"
                             + (f" (environments: {', '.join(known)})" if known else ""))
        if host is not None:
            if host not in roles:
                raise InputError(f"--host {host!r} is not a host of {env}")
            roles = {host: roles[host]}
        late: list[str] = []
        stamps: list[tuple[str, str]] = []
        for name in sorted(roles):
            first = _last_good(store, env, name, start)
            window = [s for s in store.snapshots(env, name, start) if s.collected_at <= hi and not s.failed]
            stamps += [(name, s.collected_at) for s in window]
            if window:
                observed.append(name)
                if first is None:
                    late.append(f"{name} ({changes_report.when(window[0].collected_at)})")
            found[name] = [x for x in history_mod.changes(([first] if first else []) + window)
                           if not cats or x.category in cats]
    notes = [f"the store has no snapshot before the window of {', '.join(late)}: what changed there before "
             "its first snapshot is unknown"] if late else []
    timeline = changes_mod.build(env, found, roles, observed, pol, lo, hi, stamp(now), gap, notes=notes,
                                 snapshots=stamps)
    renderers = {OutputFormat.table: changes_report.render_table, OutputFormat.json: changes_report.render_json,
                 OutputFormat.markdown: changes_report.render_markdown, OutputFormat.html: changes_report.render_html}
    c.emit(renderers[c.fmt](timeline))
    if timeline.unobserved:
        c.say(f"drift: {len(timeline.unobserved)} host(s) have no snapshot in the window, so their changes are "
              f"unknown: {', '.join(timeline.unobserved)}")
        return ExitStatus.INCOMPLETE
    return ExitStatus.OK


def _last_good(store: Store, env: str, host: str, before: dt.datetime) -> Snapshot | None:
    """The host's last snapshot before the window that says anything: a failed one is no evidence."""
    for _ in range(100):
        snap = store.previous(env, host, before)
        if snap is None or not snap.failed:
            return snap
        before = dt.datetime.fromisoformat(snap.collected_at.replace("Z", "+00:00"))
    return None


class Source(str, enum.Enum):
    live = "live"
    store = "store"



def _explain(
    ctx: typer.Context,
    host: Annotated[str, typer.Argument(help="The host to explain.")],
    source: Annotated[Source, typer.Option(
        "--source", help="Actual state: collect the host and its peers now (live), or their newest "
        "snapshots in the store.")] = Source.live,
    baseline: Annotated[Path | None, typer.Option(
        "--baseline", help="Approved baseline (default baselines/ENV.json).")] = None,
    inventory: InventoryOpt = None, format: ListFormatOpt = None, output: OutputOpt = None,
    category: CategoryOpt = None, jobs: JobsOpt = None, timeout: TimeoutOpt = None,
    quiet: QuietOpt = False, verbose: VerboseOpt = False, no_color: NoColorOpt = False,
) -> int:
    """One host three ways: its approved baseline, its actual state, its role's peers, and since when."""
    c = common(ctx, inventory_path=inventory, format=format, output=output, categories=category,
               jobs=jobs, timeout=timeout, quiet=quiet, verbose=verbose, no_color=no_color)
    cats = wanted_categories(c)
    inv = c.inventory(required=source is Source.live)
    pol = load_policy(c, inv)
    spec = next((h for h in inv.hosts() if h.name == host), None) if inv is not None else None
    if spec is None and source is Source.live:
        raise InputError(f"{host!r} is not a host of the inventory", inv.path if inv else None)
    if source is Source.live:
        assert inv is not None and spec is not None
        from drift.cli.live import collect_targets, record, resolve_targets

        snaps = collect_targets(c, inv, resolve_targets(c, inv, [f"{spec.env}:{spec.role}"]))
        record(c, inv, snaps)
    from drift.analysis import explain as explain_mod
    from drift.cli.past import History
    from drift.reports import explain as explain_report

    with existing_store(c, inv) as store:
        if source is Source.store:
            mine = store.latest(spec.env if spec else None, host)
            if not mine:
                raise InputError(f"no snapshot of {host!r} in the store: run `drift snapshot {host}` first")
            snaps = [s for s in store.latest(mine[0].env) if s.role == mine[0].role]
        me = next(s for s in snaps if s.host == host)
        approved = _baseline_of(c, inv, me.env, me.host, baseline)
        at = changes_report.when(me.collected_at)
        what = (f"live, collected {at} UTC" if source is Source.live
                else f"the store's newest snapshot, {at} UTC (--source live to collect now)")
        result = explain_mod.explain(_only(me, cats), [_only(s, cats) for s in snaps if s.host != host],
                                     _only(approved[0], cats) if approved[0] else None, pol, what, approved[1])
        past = History(store, me.env)
        since, moved = {}, {}
        for d in result.divergences:
            runs = past.runs(host, d.category)
            since[d.path] = explain_mod.held(d.path, runs, past.blobs(runs))
            if d.peers is not None and d.peers != d.actual:
                peer_runs = [past.runs(p, d.category) for p in d.peer_hosts]
                moved[d.path] = explain_mod.moved(d.path, d.peers_value, peer_runs,
                                                  past.blobs([r for rs in peer_runs for r in rs]))
        result = explain_mod.with_history(result, since, moved)
    c.emit(explain_report.render_json(result) if c.fmt is OutputFormat.json else explain_report.render_text(result))
    return ExitStatus.INCOMPLETE if result.unknown else ExitStatus.OK


def _only(snap: Snapshot, cats: frozenset[str]) -> Snapshot:
    if not cats:
        return snap
    return replace(snap, collectors={n: r for n, r in snap.collectors.items() if r.category in cats})


def _baseline_of(c: Common, inv: Inventory | None, env: str, host: str,
                 given: Path | None) -> tuple[Snapshot | None, str | None]:
    """The host's approved snapshot, and how to name the baseline to a person."""
    from drift.store import baseline as baseline_io

    if given is not None:
        path = given.expanduser() if given.expanduser().is_absolute() else c.env.cwd / given
    else:
        path = baseline_io.default_path(inv.path.parent if inv else c.env.cwd, env)
        if not path.exists():
            return None, None
    approved = baseline_io.load(path)
    mine = next((s for s in approved.snapshots if s.host == host), None)
    if mine is None:
        c.say(f"drift: {host} is not in the baseline {path}: intended state unknown")
        return None, None
    return mine, f"{path} (approved {changes_report.when(approved.saved_at)} UTC by {approved.saved_by})"


explain_cmd = app.command("explain")(_explain)
why_cmd = app.command("why", help="Alias of `drift explain`.")(_explain)

