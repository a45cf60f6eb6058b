"""Collect snapshots: one connection and one exec per host, hosts in parallel in our own pool.

Results are keyed by the inventory's host name (not by address/user/port, which can collide
for hosts behind different gateways). A host or collector that fails is recorded with its error
and never stops the others.
"""

from __future__ import annotations

import fnmatch
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import lru_cache, partial

from collectors.interface import CollectConfig, Collector, NotApplicable, Parsed
from drift import __version__
from drift.collect.inventory import Host
from drift.collect.runner import Connector
from drift.collect.script import Script, Section, compose, split
from drift.core import jsonio
from drift.core.errors import CollectError, DriftError, Interrupted
from drift.core.sanitize import clean, clip
from drift.model.facts import Tables
from drift.model.snapshot import CollectorResult, Snapshot, compacted

Progress = Callable[[Snapshot], None]

# How a command run without root, or a sudo that wants a password, says so.
_DENIED = re.compile(r"permission denied|operation not permitted|must be root|password is required"
                     r"|may not run sudo|not in the sudoers|not allowed to execute", re.I)


@dataclass(frozen=True)
class Plan:
    collectors: tuple[Collector, ...]
    config: CollectConfig = field(default_factory=CollectConfig)
    timeout: float | None = None  # the most one host may take, connecting included
    jobs: int = 32
    # Where collection times come from: the CLI passes its Environment's clock, so a test (or a replay)
    # that fixes the clock gets snapshots dated by it, never by the machine's wall clock.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc), compare=False)

    def stamp(self) -> str:
        return self.clock().astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def collect(hosts: list[Host], connector: Connector, plan: Plan,
            progress: Progress | None = None) -> list[Snapshot]:
    """Snapshots for every host, in inventory order, failed hosts included."""
    if not hosts:
        return []
    results: dict[str, Snapshot] = {}
    tables = Tables()  # a host keeps its delta from its role's common table, not a full copy
    pool = ThreadPoolExecutor(max_workers=max(1, min(plan.jobs, len(hosts))))
    try:
        futures = {pool.submit(_guarded, h, connector, plan): h for h in hosts}
        for future in as_completed(futures):
            snap = compacted(future.result(), tables)
            results[futures[future].name] = snap
            if progress is not None:
                progress(snap)
    except KeyboardInterrupt:
        # Not `with pool`: its exit waits for every running host, up to the connect timeout. The
        # threads still connecting are abandoned; the CLI ends the process without joining them.
        pool.shutdown(wait=False, cancel_futures=True)
        raise Interrupted(tuple(results[h.name] for h in hosts if h.name in results), len(hosts)) from None
    pool.shutdown()
    return [results[h.name] for h in hosts]


def _guarded(host: Host, connector: Connector, plan: Plan) -> Snapshot:
    """One host's bug (ours) fails that host, recorded and unknown, never the other hosts' run."""
    try:
        return collect_host(host, connector, plan)
    except Exception as exc:
        return Snapshot(host=host.name, env=host.env, role=host.role, roles=host.roles, address=host.address,
                        collected_at=plan.stamp(), drift_version=__version__, status="failed",
                        error=clip(f"internal error while collecting (a bug in drift): {type(exc).__name__}: {exc}"))


def collect_host(host: Host, connector: Connector, plan: Plan) -> Snapshot:
    budget = plan.timeout if plan.timeout is not None else host.ssh.connect_timeout + host.ssh.command_timeout
    deadline = time.monotonic() + budget
    started = plan.stamp()
    script, cfg = host_script(plan, host)
    snapshot = partial(Snapshot, host=host.name, env=host.env, role=host.role, roles=host.roles,
                       address=host.address, collected_at=started, drift_version=__version__)
    try:
        session = connector.open(host, deadline)
    except DriftError as exc:
        return snapshot(status="failed", error=clip(str(exc)))
    try:
        result = session.exec(script.text.encode(), deadline)
    except DriftError as exc:
        key = session.host_key.to_dict() if session.host_key else None
        return snapshot(status="failed", error=clip(str(exc)), host_key=key)
    finally:
        session.close()
    tail = clean(result.stderr.decode("utf-8", "replace").strip()[-500:])
    collectors = interpret_output(plan, script, result.stdout, result.exit_status, tail, cfg)
    return snapshot(host_key=session.host_key.to_dict() if session.host_key else None,
                    collectors=collectors)


def host_script(plan: Plan, host: Host) -> tuple[Script, CollectConfig]:
    """The script drift runs on `host`, and the settings its output is read with (the benchmark's
    plain-OpenSSH floor runs this very script)."""
    # The host's inventory name and address are identity values its files are normalised against.
    cfg = replace(plan.config, host_names=(host.name, host.address))
    return compose(plan.collectors, cfg, sudo=host.ssh.sudo), cfg


def interpret_output(plan: Plan, script: Script, stdout: bytes, exit_status: int, tail: str,
                     cfg: CollectConfig | None = None) -> dict[str, CollectorResult]:
    """Every planned collector's result from the script's output: the one place that does it, for
    drift's own SSH runs and for output an engine brought back (`drift ingest`)."""
    cfg = cfg or plan.config
    sections = split(script, stdout)
    collectors = {}
    for c in plan.collectors:
        if c.name in script.names:
            try:
                collectors[c.name] = interpret(c, sections.get(c.name), cfg, exit_status, tail)
            except Exception as exc:  # a bug of ours in one collector costs that collector only
                collectors[c.name] = CollectorResult(c.name, c.category, "failed", clip(
                    f"internal error (a bug in drift): {type(exc).__name__}: {exc}"))
        else:  # nothing to do for this configuration, e.g. no [collect] files
            collectors[c.name] = CollectorResult(c.name, c.category, "ok")
    return collectors


def interpret(c: Collector, section: Section | None, cfg: CollectConfig,
              script_status: int = 0, script_stderr: str = "") -> CollectorResult:
    def failed(message: str) -> CollectorResult:
        return CollectorResult(c.name, c.category, "failed", clip(message))

    if section is None:
        why = f"; the script exited {script_status}: {script_stderr}" if script_stderr or script_status else ""
        return failed(f"no output section from the host (script cut short){why}")
    if section.status is None:
        return CollectorResult(c.name, c.category, "unsupported",
                               f"none of {', '.join(c.requires)} found on the host" if c.requires else None)
    if section.status != 0:
        detail = section.stderr or "no error output"
        if c.privileged and _DENIED.search(detail):
            return failed(f"permission denied: {c.name} needs root. Connect as root, or set sudo = true and "
                          f"allow `{c.command(cfg)}` in sudoers with NOPASSWD (exited {section.status}: {detail})")
        return failed(f"exited {section.status}: {detail}")
    try:
        text = section.stdout.decode("utf-8")
    except UnicodeDecodeError as exc:
        return failed(f"output is not valid UTF-8 (byte {exc.start})")
    try:
        parsed = c.parse(text, cfg)
    except NotApplicable as exc:
        return CollectorResult(c.name, c.category, "unsupported", clean(str(exc)) or None)
    except CollectError as exc:
        return failed(str(exc))
    except Exception as exc:  # a parser bug must cost one collector, not the run
        return failed(f"parser error ({type(exc).__name__}): {exc}")
    facts, marked = (parsed.facts, parsed.identity) if isinstance(parsed, Parsed) else (parsed, frozenset())
    try:
        # What the snapshot and the store will write must be writable: checked here, per collector,
        # so a value JSON cannot carry (NaN, a lone surrogate) fails this collector, not every write.
        jsonio.dumps(facts).encode("utf-8")
    except (ValueError, TypeError, RecursionError) as exc:
        return failed(f"facts cannot be recorded as JSON: {str(exc)[:100]}")
    globs = _globs(c.identity)
    identity = sorted(p for p in facts if p in marked or globs(p))
    return CollectorResult(c.name, c.category, "ok", None, facts, tuple(identity))


@lru_cache(maxsize=64)
def _globs(patterns: tuple[str, ...]) -> Callable[[str], object]:
    """One compiled test for a collector's identity globs (fnmatchcase's matching): every fact path
    of every host goes through it."""
    if not patterns:
        return lambda path: False
    return re.compile("|".join(fnmatch.translate(g) for g in patterns)).match
