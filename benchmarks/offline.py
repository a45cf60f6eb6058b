"""(c) Offline compare of two synthetic environments: 100 hosts x 3,000 packages each.

Derived from a real snapshot of this machine (its real packages, files, firewall and topology
facts), widened to 3,000 packages with realistic names and versions, with drift injected: 20
packages newer on the right, 5 only on the right, and one outlier host per side.
Prints "compare_seconds peak_MB command_seconds" (medians) on the last line.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import collectors as registry
from drift.analysis import compare as engine
from drift.analysis.differ import Env
from drift.analysis.policy import Policy
from drift.collect.gather import Plan, collect
from drift.collect.local import LocalConnector
from drift.collect.targets import DEFAULT_COLLECT, local_host
from drift.model.snapshot import CollectorResult, Snapshot

HOSTS, PACKAGES = 100, 3000


def real_snapshot() -> Snapshot:
    (snap,) = collect([local_host()], LocalConnector(), Plan(registry.select(None), DEFAULT_COLLECT, 60, 1))
    return snap


def widen(base: Snapshot, env: str, index: int, drift: bool) -> Snapshot:
    dpkg = dict(base.collectors["dpkg"].facts)
    for i in range(PACKAGES - len(dpkg)):
        dpkg[f"packages/deb/libsynthetic{i:04d}"] = {"version": f"1.{i % 17}.{i % 5}-{i % 3 + 1}", "arch": "amd64"}
    if drift:
        for i in range(20):
            dpkg[f"packages/deb/libsynthetic{i:04d}"] = {"version": f"2.0.{i}-1", "arch": "amd64"}
        for i in range(5):
            dpkg[f"packages/deb/acme-extra{i}"] = {"version": "1.0-1", "arch": "all"}
    if index == 7:  # one host per side on an older build
        dpkg["packages/deb/libsynthetic0100"] = {"version": "0.9-1", "arch": "amd64"}
    collectors = dict(base.collectors)
    collectors["dpkg"] = CollectorResult("dpkg", "packages", "ok", None, dpkg)
    return replace(base, host=f"{env}-{index:03d}", env=env, role="web", collectors=collectors)


def measure(folder: Path) -> None:
    """In a fresh process: load both directories, compare, render JSON; print seconds and peak RSS."""
    from drift.collect.targets import resolve
    from drift.reports import OutputFormat, render

    start = time.perf_counter()
    left, right = (resolve(str(folder / side), None, folder) for side in ("staging", "prod"))
    report = engine.compare(Env(left.name, left.snapshots), Env(right.name, right.snapshots), Policy(), engine_now())
    render(report, OutputFormat.json)
    elapsed = time.perf_counter() - start
    assert len([f for f in report.findings if f.kind.value != "outlier"]) == 25, len(report.findings)
    print(f"{elapsed:.3f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--measure", type=Path)
    args = ap.parse_args()
    if args.measure:
        measure(args.measure)
        return 0
    base = real_snapshot()
    with tempfile.TemporaryDirectory() as tmp:
        for env, drift in (("staging", False), ("prod", True)):
            folder = Path(tmp) / env
            folder.mkdir()
            for i in range(HOSTS):
                s = widen(base, env, i, drift)
                (folder / f"{s.host}.json").write_text(s.to_json())
        stage, peaks, command = [], [], []
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, "-m", "benchmarks.offline", "--measure", tmp],
                                 capture_output=True, text=True, check=True).stdout.split()
            stage.append(float(out[0]))
            peaks.append(float(out[1]))
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", "from drift.cli import entry; entry()", "compare",
                            str(Path(tmp) / "staging"), str(Path(tmp) / "prod"), "--format", "json",
                            "-o", str(Path(tmp) / "report.json")], capture_output=True)
            command.append(time.perf_counter() - start)
    print(f"load 200 snapshot files + compare + render: {statistics.median(stage):.3f} s, peak RSS "
          f"{max(peaks):.0f} MB; whole `drift compare` command: {statistics.median(command):.3f} s", file=sys.stderr)
    print(f"{statistics.median(stage):.3f} {max(peaks):.0f} {statistics.median(command):.3f}")
    return 0


def engine_now():  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.datetime(2026, 11, 22, tzinfo=dt.timezone.utc)


if __name__ == "__main__":
    sys.exit(main())
