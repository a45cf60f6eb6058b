"""`drift script` and `drift ingest`: collection through an engine a fleet already runs.

`drift script` prints the one read-only POSIX sh script drift itself runs on a host over SSH;
Ansible, Salt, SSM Run Command or a DaemonSet runs it, and `drift ingest` turns what it printed into
the snapshots `drift snapshot` would have recorded, into the same store.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from tabulate import tabulate

import collectors as registry
from drift.cli.app import Common, FormatOpt, InventoryOpt, NoColorOpt, QuietOpt, VerboseOpt, app, common
from drift.cli.collect_cmds import keep
from drift.cli.live import plan_for
from drift.collect import ingest
from drift.collect.gather import Plan
from drift.collect.inventory import Host, Inventory, SSHSettings
from drift.collect.script import compose
from drift.core.errors import ExitStatus, InputError
from drift.core.sanitize import clean
from drift.model.snapshot import Snapshot
from drift.reports import OutputFormat

CollectorsOpt = Annotated[list[str] | None, typer.Option(
    "--collectors", help="Only these collectors or categories (repeatable, or comma-separated).")]


def _plan(c: Common, inv: Inventory | None, names: list[str] | None) -> Plan:
    wanted = tuple(n.strip() for item in names or () for n in item.split(",") if n.strip())
    known = registry.known_names()
    for n in wanted:
        if n not in known:
            raise InputError(f"--collectors {n!r}: unknown (known: {', '.join(sorted(known))})")
    plan = plan_for(c, inv)
    if wanted:
        plan = replace(plan, collectors=registry.select(wanted))
    return plan


@app.command("script")
def script_cmd(
    ctx: typer.Context, collectors: CollectorsOpt = None, inventory: InventoryOpt = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write the script to FILE.")] = None,
    quiet: QuietOpt = False, verbose: VerboseOpt = False, no_color: NoColorOpt = False,
) -> int:
    """Print the self-contained read-only POSIX sh script drift runs on a host, for an engine to run."""
    c = common(ctx, inventory_path=inventory, output=output, quiet=quiet, verbose=verbose, no_color=no_color)
    inv = c.inventory(required=False)
    plan = _plan(c, inv, collectors)
    script = compose(plan.collectors, plan.config, sudo=inv.ssh.sudo if inv else False, on_host=True)
    header = ("#!/bin/sh\n"
              f"# drift script: read-only facts for drift ({', '.join(script.names)}).\n"
              "# Run it as is on each host (stdin need not be a terminal); give its stdout to `drift ingest`.\n"
              f"# Composed for these collectors and [collect] settings: {script.digest}\n")
    c.emit(header + script.text)
    return ExitStatus.OK


@app.command("ingest")
def ingest_cmd(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="FILE, DIR (one file per host, e.g. ansible --tree) or - (stdin).")],
    env: Annotated[str, typer.Option("--env", help="The environment these hosts belong to.")],
    host: Annotated[str | None, typer.Option("--host", help="The host (default: the file's name).")] = None,
    role: Annotated[str | None, typer.Option(
        "--role", help="The hosts' role (default: the inventory's, else `default`).")] = None,
    out_dir: Annotated[Path | None, typer.Option(
        "-o", "--output", help="Also write one snapshot JSON per host here.")] = None,
    collectors: CollectorsOpt = None, inventory: InventoryOpt = None, format: FormatOpt = None,
    quiet: QuietOpt = False, verbose: VerboseOpt = False, no_color: NoColorOpt = False,
) -> int:
    """Turn the script's output (raw, or an engine's JSON results) into snapshots in the store."""
    c = common(ctx, inventory_path=inventory, format=format, quiet=quiet, verbose=verbose, no_color=no_color)
    if c.fmt not in (OutputFormat.table, OutputFormat.json):
        raise InputError(f"--format {c.fmt.value} is not available for this command (use table or json)")
    inv = c.inventory(required=False)
    plan = _plan(c, inv, collectors)
    outputs = _outputs(c, source, host)
    known = {h.name: h for h in inv.hosts()} if inv is not None else {}
    snaps: list[Snapshot] = []
    for out in outputs:
        listed = known.get(out.host)
        ssh = listed.ssh if listed else (inv.ssh if inv else SSHSettings())
        target = Host(out.host, env, role or (listed.role if listed else "default"),
                      listed.address if listed else out.host, ssh,
                      roles=() if role or not listed else listed.roles)
        snaps.append(ingest.snapshot(out, target, plan, sudo=target.ssh.sudo, narrow=not collectors))
    names = [s.host for s in snaps]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"host {dup!r} appears twice in {source}")
    rows = keep(c, inv, snaps, out_dir)
    if c.fmt is OutputFormat.json:
        c.emit(json.dumps({"schema": "drift.snapshots/1", "snapshots": rows}, indent=2, sort_keys=True))
    else:
        table = [[r["host"], r["env"], r["role"], r["status"], r["collectors"], clean(str(r["error"] or ""))[:70]]
                 for r in rows]
        c.emit(tabulate(table, headers=["host", "env", "role", "status", "collectors ok/all", "error"]))
    c.debug("drift: ingested snapshots have no host key: only an SSH connection sees it")
    return ExitStatus.INCOMPLETE if any(s.errors() for s in snaps) else ExitStatus.OK


def _outputs(c: Common, source: str, host: str | None) -> list[ingest.Output]:
    if source == "-":
        outs = ingest.read(c.env.read_stdin(), host or "", "<stdin>")
        if any(not o.host for o in outs):
            raise InputError("reading stdin: name the host with --host (an engine's JSON map names its own)")
        return outs
    path = Path(source).expanduser()
    path = path if path.is_absolute() else c.env.cwd / path
    if path.is_dir():
        if host:
            raise InputError("--host names one host; a directory holds one file per host", path)
        return [out for p in ingest.sources(path) for out in ingest.read(_bytes(p), ingest.host_name(p), str(p))]
    return ingest.read(_bytes(path), host or ingest.host_name(path), str(path))


def _bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path) from None

