"""`drift snapshot`, `drift inventory` and `drift collectors`."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import typer
from tabulate import tabulate

import collectors as registry
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
from drift.cli.live import collect_targets, record, resolve_targets
from drift.collect.inventory import Host, Inventory
from drift.collect.preflight import check_files
from drift.collect.targets import DEFAULT_COLLECT
from drift.core.errors import DriftError, ExitStatus, InputError
from drift.core.sanitize import clean
from drift.model.snapshot import Snapshot
from drift.reports import OutputFormat


def _listing_format(c: Common) -> OutputFormat:
    if c.fmt not in (OutputFormat.table, OutputFormat.json):
        raise InputError(f"--format {c.fmt.value} is not available for this command (use table or json)")
    return c.fmt


@app.command("snapshot")
def snapshot_cmd(
    ctx: typer.Context,
    targets: Annotated[list[str], typer.Argument(help="Environments, ENV:ROLE, hosts, `local`.")],
    out_dir: Annotated[Path | None,
        typer.Option("-o", "--output", help="Write one snapshot JSON per host here.")] = None,
    inventory: InventoryOpt = None, format: ListFormatOpt = None, category: CategoryOpt = None,
    jobs: JobsOpt = None, timeout: TimeoutOpt = None,
    quiet: QuietOpt = False, verbose: VerboseOpt = False, no_color: NoColorOpt = False,
) -> int:
    """Collect facts now; write one snapshot JSON per host to DIR and record them in the store."""
    c = common(ctx, inventory_path=inventory, format=format, categories=category, jobs=jobs,
               timeout=timeout, quiet=quiet, verbose=verbose, no_color=no_color)
    fmt = _listing_format(c)
    inv = c.inventory(required=False)
    resolved = resolve_targets(c, inv, targets)
    offline = [t.name for t in resolved if not t.live]
    if offline:
        raise InputError(f"snapshot collects live hosts; {', '.join(offline)} is a snapshot file or directory")
    snaps = collect_targets(c, inv, resolved)
    rows = keep(c, inv, snaps, out_dir)
    if fmt is OutputFormat.json:
        c.emit(json.dumps({"schema": "drift.snapshots/1", "snapshots": rows}, indent=2, sort_keys=True))
    else:
        # The table says which hosts failed; each error is printed once, whole, below it.
        table = [[r["host"], r["env"], r["role"], r["status"], r["collectors"],
                  ", ".join(r["collectors_unsupported"]) or "-",
                  ("not collected (error below)" if r["collectors"] == "-" else clean(r["error"]))
                  if r["error"] else ""] for r in rows]
        c.emit(tabulate(table, headers=["host", "env", "role", "status", "collectors ok/all",
                                        "not applicable here", "error"]))
        errors = [f"  {s.host}: {collector + ': ' if collector else ''}{message}"
                  for s in snaps for collector, message in s.errors()]
        for line in ["could not collect (unknown, not absent):", *errors] if errors else []:
            c.say(line)
    return ExitStatus.INCOMPLETE if any(s.errors() for s in snaps) else ExitStatus.OK


def keep(c: Common, inv: Inventory | None, snaps: list[Snapshot], out_dir: Path | None) -> list[dict[str, Any]]:
    """Write each snapshot to out_dir (atomically), record them all in the store; one summary row each."""
    written: dict[str, Path] = {}
    if out_dir is not None:
        from drift.core.atomic import write_atomic

        folder = out_dir if out_dir.is_absolute() else c.env.cwd / out_dir
        for snap in snaps:
            written[snap.host] = folder / f"{snap.host}.json"
            write_atomic(written[snap.host], snap.to_json())
    record(c, inv, snaps)
    return [_summary(s, written.get(s.host)) for s in snaps]


def _summary(s: Snapshot, file: Path | None) -> dict[str, Any]:
    ok = sum(r.status == "ok" for r in s.collectors.values())
    failed = sorted(n for n, r in s.collectors.items() if r.status == "failed")
    # "13/16" alone leaves a newcomer wondering what is missing: name the collectors that do not
    # apply to this host (no rpm on Debian), apart from the ones that failed.
    unsupported = sorted(n for n, r in s.collectors.items() if r.status == "unsupported")
    return {
        "host": s.host, "env": s.env, "role": ",".join(s.all_roles), "status": "failed" if s.failed or failed else "ok",
        "error": s.error or (f"collectors failed: {', '.join(failed)}" if failed else None),
        "collectors": f"{ok}/{len(s.collectors)}" if not s.failed else "-",
        "collectors_unsupported": unsupported,
        "collectors_failed": failed, "host_key": dict(s.host_key) if s.host_key else None,
        "file": str(file) if file else None,
    }


@app.command("inventory")
def inventory_cmd(
    ctx: typer.Context,
    check: Annotated[bool,
        typer.Option("--check", help="Connect to each host: reachability and host-key status.")] = False,
    inventory: InventoryOpt = None, format: ListFormatOpt = None, jobs: JobsOpt = None, timeout: TimeoutOpt = None,
    quiet: QuietOpt = False, verbose: VerboseOpt = False, no_color: NoColorOpt = False,
) -> int:
    """List environments, roles and hosts; --check connects to each."""
    c = common(ctx, inventory_path=inventory, format=format, jobs=jobs, timeout=timeout,
               quiet=quiet, verbose=verbose, no_color=no_color)
    fmt = _listing_format(c)
    inv = c.inventory()
    assert inv is not None
    hosts = list(inv.hosts())
    rows: list[dict[str, Any]] = [{"env": h.env, "role": ",".join(h.all_roles), "host": h.name, "address": h.address,
             "user": h.ssh.user, "port": h.ssh.port} for h in hosts]
    status = ExitStatus.OK
    if check:
        check_files(hosts)
        connector = c.env.ssh_connector()
        pool = ThreadPoolExecutor(max_workers=max(1, min(c.jobs or inv.ssh.jobs, len(hosts) or 1)))
        try:
            checks = list(pool.map(lambda h: _check(h, connector, c.timeout), hosts))
        except KeyboardInterrupt:  # stop now, not when the last silent host times out
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        for row, result in zip(rows, checks, strict=False):
            row.update(result)
        if any(not r["reachable"] for r in checks):
            status = ExitStatus.INCOMPLETE
    if fmt is OutputFormat.json:
        c.emit(json.dumps({"schema": "drift.inventory/1", "path": str(inv.path), "hosts": rows},
                          indent=2, sort_keys=True))
    else:
        headers = ["env", "role", "host", "address"] + (["reachable", "host key", "error"] if check else [])
        table = [[r["env"], r["role"], r["host"], r["address"]]
                 + ([("yes" if r["reachable"] else "NO"), r["host_key"] or "", clean(r["error"] or "")[:60]]
                    if check else []) for r in rows]
        c.emit(tabulate(table, headers=headers))
    return status


def _check(host: Host, connector: object, timeout: float | None) -> dict[str, Any]:
    deadline = time.monotonic() + (timeout if timeout is not None else host.ssh.connect_timeout)
    try:
        session = connector.open(host, deadline)  # type: ignore[attr-defined]
    except DriftError as exc:
        return {"reachable": False, "host_key": None, "error": str(exc)}
    key = session.host_key
    session.close()
    return {"reachable": True, "host_key": f"{key.type} {key.sha256}" if key else None, "error": None}


@app.command("collectors")
def collectors_cmd(
    ctx: typer.Context, inventory: InventoryOpt = None, format: ListFormatOpt = None,
    quiet: QuietOpt = False, verbose: VerboseOpt = False, no_color: NoColorOpt = False,
) -> int:
    """List the collectors and the exact read-only commands each runs on a host."""
    c = common(ctx, inventory_path=inventory, format=format, quiet=quiet, verbose=verbose, no_color=no_color)
    fmt = _listing_format(c)
    inv = c.inventory(required=False)
    cfg = inv.collect if inv is not None else DEFAULT_COLLECT
    from drift.collect.script import section_command

    items: list[dict[str, Any]] = [{"name": col.name, "category": col.category, "privileged": col.privileged,
              "requires": list(col.requires),
              "command": section_command(col, cfg, inv.ssh.sudo if inv else False) or None}
             for col in registry.REGISTRY]
    if fmt is OutputFormat.json:
        c.emit(json.dumps({"schema": "drift.collectors/1", "collectors": items}, indent=2, sort_keys=True))
        return ExitStatus.OK
    blocks = []
    for item in items:
        flags = " (privileged: sudo -n when sudo = true)" if item["privileged"] else ""
        needs = f"  runs only where one of: {', '.join(item['requires'])}" if item["requires"] else ""
        command = item["command"] or "(nothing: not configured in [collect])"
        body = "\n".join("    " + line for line in str(command).splitlines())
        blocks.append(f"{item['name']} [{item['category']}]{flags}\n{needs + chr(10) if needs else ''}{body}")
    c.emit("\n\n".join(blocks))
    return ExitStatus.OK
