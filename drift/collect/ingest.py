"""Snapshots from the output of drift's script run by another engine (`drift ingest`).

An engine (Ansible, Salt, SSM Run Command, a DaemonSet) runs the script `drift script` prints and
brings back its stdout: as a plain file per host, or as the engine's JSON result (Ansible's
`--tree` directory holds one `{"rc": .., "stdout": .., "stderr": ..}` document per host). The
output is interpreted by the very code `drift snapshot` uses, so the snapshots are the same, but
for the host key, which only an SSH connection sees (it is null), and the time, which the script
takes from the host's clock when it starts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import collectors as registry
from drift import __version__
from drift.collect.gather import Plan, interpret_output
from drift.collect.inventory import Host
from drift.collect.script import Script, compose, manifest
from drift.core.errors import InputError
from drift.core.sanitize import clean
from drift.model.snapshot import Snapshot

# Per-host files may carry one of these suffixes; the rest of the name is the host.
SUFFIXES = (".out", ".txt", ".log", ".json")
_STAMP_LEN = len("2026-11-22T03:00:00Z")


@dataclass(frozen=True)
class Output:
    """One host's run, as an engine reports it."""
    host: str
    stdout: bytes
    exit_status: int = 0
    stderr: str = ""
    unreachable: str | None = None  # the engine could not run the script there: why
    source: str = "<stdin>"


def host_name(path: Path) -> str:
    for suffix in SUFFIXES:
        if path.name.endswith(suffix) and len(path.name) > len(suffix):
            return path.name[: -len(suffix)]
    return path.name


def read(data: bytes, host: str, source: str) -> list[Output]:
    """Raw script output; an engine's JSON result holding it (Ansible --tree, one host a file); or
    an engine's map of host -> result (Salt `--out=json --static`: {"minion": {"retcode", "stdout"}})."""
    head = data.lstrip()[:1]
    if head == b"{":
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            doc = None
        if isinstance(doc, dict) and _is_result(doc):
            return [_engine_result(doc, host, source)]
        if isinstance(doc, dict) and doc and all(isinstance(v, dict) and _is_result(v) for v in doc.values()):
            return [_engine_result(v, str(k), f"{source}: {k}") for k, v in doc.items()]
    return [Output(host, data, source=source)]


def _is_result(doc: dict[str, object]) -> bool:
    return "stdout" in doc or "unreachable" in doc or ("msg" in doc and "failed" in doc)


def _engine_result(doc: dict[str, object], host: str, source: str) -> Output:
    stdout = doc.get("stdout")
    if doc.get("unreachable") or not isinstance(stdout, str):
        why = doc.get("msg") or doc.get("stderr") or "the engine returned no output"
        return Output(host, b"", unreachable=clean(str(why))[:500], source=source)
    rc = doc.get("rc", doc.get("retcode", 0))
    stderr = doc.get("stderr")
    return Output(host, stdout.encode("utf-8", "surrogateescape"), rc if isinstance(rc, int) else 0,
                  clean(str(stderr or "")).strip()[-500:], source=source)


def snapshot(out: Output, host: Host, plan: Plan, sudo: bool = False, narrow: bool = True) -> Snapshot:
    """The snapshot `drift snapshot` would have recorded for this output (host key aside). `narrow`:
    a script printed for fewer collectors (`drift script --collectors`) is read as such."""
    base = dict(host=host.name, env=host.env, role=host.role, roles=host.roles, address=host.address,
                drift_version=__version__)
    if out.unreachable is not None:
        return Snapshot(**base, collected_at=plan.stamp(), status="failed", error=out.unreachable)  # type: ignore[arg-type]
    stdout = out.stdout
    found = manifest(stdout)
    if found is None and b"\r\n" in stdout:
        stdout = stdout.replace(b"\r\n", b"\n")  # a pseudo-terminal between engine and script
        found = manifest(stdout)
    if found is None:
        if out.exit_status:
            error = f"the script exited {out.exit_status} before any output: {out.stderr or 'no error output'}"
            return Snapshot(**base, collected_at=plan.stamp(), status="failed", error=clean(error))  # type: ignore[arg-type]
        raise InputError("not the output of `drift script` (no drift manifest line)", out.source)
    expected = compose(plan.collectors, plan.config, sudo=sudo, on_host=True)
    if found.digest != expected.digest and narrow:
        chosen = tuple(c for c in plan.collectors if c.name in found.names) or registry.select(found.names)
        plan = replace(plan, collectors=chosen)
        expected = compose(plan.collectors, plan.config, sudo=sudo, on_host=True)
    if found.digest != expected.digest:
        raise InputError(f"this output is of a script for other collectors or [collect] settings (ran: "
                         f"{', '.join(found.names) or 'none'}); print the script again with `drift script` "
                         "and the same inventory and --collectors as this ingest", out.source)
    script = Script(found.marker, "", expected.names, expected.digest)
    collected_at = found.collected_at if len(found.collected_at) == _STAMP_LEN else plan.stamp()
    tail = out.stderr[-500:]
    collectors = interpret_output(plan, script, stdout, out.exit_status, tail)
    return Snapshot(**base, collected_at=collected_at, collectors=collectors)  # type: ignore[arg-type]


def sources(path: Path) -> list[Path]:
    """The per-host files of a directory: regular files, hidden ones and subdirectories skipped."""
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise InputError("no per-host output files in this directory", path)
    return files
