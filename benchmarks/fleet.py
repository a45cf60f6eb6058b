"""(e) Compare at fleet scale, on fleets that are not identical: python -m benchmarks.fleet [--hosts 100 1000 10000]

Each side's hosts are derived from a real snapshot of this machine widened to 3,000 packages, and
shaped like a real fleet in the middle of things:
- a rolling upgrade: every host has one package at a version of its own;
- 5% outliers: one host in twenty has another `net.core.somaxconn`;
- per-host unique files: every host has a file whose content is its own;
- and between the sides, 20 packages newer on the right and 5 only on the right.

Each size is measured twice, in a fresh process each time: loading the sides from snapshot files
(one JSON file per host, as `drift compare DIR DIR` does) and from the store (`Store.latest`).
Files are written up to --files-max hosts per side (10,000 hosts would be 7 GB of JSON). A
measurement that passes --timeout seconds or --memory-gb is stopped and reported as such.
DRIFT_CODE=DIR measures the drift package found in DIR instead of this checkout (the "before").
Prints one row per measurement: source, hosts per side, seconds, peak MB, ms per host, findings.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

if os.environ.get("DRIFT_CODE"):
    sys.path.insert(0, os.environ["DRIFT_CODE"])

PACKAGES = 3000
BATCH = 200


def real_snapshot():  # type: ignore[no-untyped-def]
    import collectors as registry
    from drift.collect.gather import Plan, collect
    from drift.collect.local import LocalConnector
    from drift.collect.targets import DEFAULT_COLLECT, local_host

    (snap,) = collect([local_host()], LocalConnector(), Plan(registry.select(None), DEFAULT_COLLECT, 60, 1))
    return snap


def base_packages(base, right: bool) -> dict:  # type: ignore[no-untyped-def]
    dpkg = dict(base.collectors["dpkg"].facts)
    for i in range(PACKAGES - len(dpkg)):
        dpkg[f"packages/deb/libsynthetic{i:04d}"] = {"version": f"1.{i % 17}.{i % 5}-{i % 3 + 1}", "arch": "amd64"}
    if right:
        for i in range(20):
            dpkg[f"packages/deb/libsynthetic{i:04d}"] = {"version": f"2.0.{i}-1", "arch": "amd64"}
        for i in range(5):
            dpkg[f"packages/deb/acme-extra{i}"] = {"version": "1.0-1", "arch": "all"}
    return dpkg


def host(base, packages: dict, env: str, i: int):  # type: ignore[no-untyped-def]
    from drift.model.snapshot import CollectorResult

    dpkg = dict(packages)
    name = f"packages/deb/libsynthetic{100 + i % 2000:04d}"  # the rolling upgrade: one package of its own
    dpkg[name] = {"version": f"{dpkg[name]['version']}+roll{i}", "arch": "amd64"}
    collectors = dict(base.collectors)
    collectors["dpkg"] = CollectorResult("dpkg", "packages", "ok", None, dpkg)
    files = dict(base.collectors["files"].facts)
    files["files/etc/drift-bench/host-id"] = {"type": "file", "sha256": f"{i:064x}", "mode": "0644",
                                              "owner": "root", "group": "root", "size": 64}
    collectors["files"] = replace(base.collectors["files"], facts=files)
    if i % 20 == 3:  # 5% outliers
        sysctl = dict(base.collectors["sysctl"].facts)
        sysctl["system/sysctl/net.core.somaxconn"] = "1024"
        collectors["sysctl"] = replace(base.collectors["sysctl"], facts=sysctl)
    return replace(base, host=f"{env}-{i:05d}", env=env, role="web", collectors=collectors, host_key=None)


def generate(folder: Path, hosts: int, files: bool) -> None:
    from drift.store.sqlite import Store

    base = real_snapshot()
    with Store.open(folder / "drift.db") as store:
        for env, right in (("staging", False), ("prod", True)):
            packages = base_packages(base, right)
            side = folder / env
            side.mkdir(parents=True, exist_ok=True)
            batch = []
            for i in range(hosts):
                s = host(base, packages, env, i)
                if files:
                    (side / f"{s.host}.json").write_text(s.to_json())
                batch.append(s)
                if len(batch) == BATCH:
                    store.record(batch)
                    batch = []
            if batch:
                store.record(batch)


def measure(folder: Path, source: str) -> None:
    """In a fresh process: load both sides, compare, render JSON; print seconds, peak MB, findings."""
    import datetime as dt

    from drift.analysis import compare as engine
    from drift.analysis.policy import Policy
    from drift.reports import OutputFormat, render

    try:  # as the CLI loads its targets (drift/core/heap.py); the "before" code has no such module
        from drift.core.heap import loading
    except ImportError:
        import contextlib

        loading = contextlib.nullcontext  # type: ignore[assignment]
    start = time.perf_counter()
    with loading():
        envs = _load(folder, source)
    loaded = time.perf_counter()
    report = engine.compare(envs[0], envs[1], Policy(), dt.datetime(2026, 11, 22, tzinfo=dt.timezone.utc))
    out = render(report, OutputFormat.json)
    table = render(report, OutputFormat.table)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    outliers = sum(f.kind.value == "outlier" for f in report.findings)
    print(f"{elapsed:.3f} {peak:.0f} {len(report.findings)} {outliers} {loaded - start:.3f} "
          f"{len(out) // 1024} {table.count(chr(10))}")


def _load(folder: Path, source: str):  # type: ignore[no-untyped-def]
    """Both sides, as `drift compare DIR DIR` loads them, or from the store; one Tables where there is one."""
    from drift.analysis.differ import Env

    try:
        from drift.model.facts import Tables

        tables = Tables()
    except ImportError:
        tables = None
    if source == "files":
        from drift.collect.targets import resolve

        extra = (tables,) if tables is not None else ()
        left, right = (resolve(str(folder / side), None, folder, *extra) for side in ("staging", "prod"))
        return Env(left.name, left.snapshots), Env(right.name, right.snapshots)
    from drift.store.sqlite import Store

    with Store.open(folder / "drift.db") as store:
        kw = {"tables": tables} if tables is not None else {}
        return tuple(Env(side, tuple(store.latest(side, **kw))) for side in ("staging", "prod"))


def _limit(gb: float):  # type: ignore[no-untyped-def]
    def apply() -> None:
        cap = int(gb * 1024 ** 3)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    return apply


def run_one(folder: Path, source: str, timeout: float, memory_gb: float) -> tuple[str, list[str]]:
    try:
        done = subprocess.run([sys.executable, "-m", "benchmarks.fleet", "--measure", str(folder), "--source", source],
                              capture_output=True, text=True, timeout=timeout, preexec_fn=_limit(memory_gb))
    except subprocess.TimeoutExpired:
        return f"stopped after {timeout:.0f} s", []
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return f"failed ({'out of memory at the ' + str(memory_gb) + ' GB cap' if 'MemoryError' in last else last})", []
    return "", done.stdout.split()


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.fleet")
    ap.add_argument("--hosts", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--files-max", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--memory-gb", type=float, default=8)
    ap.add_argument("--keep", type=Path, help="generate into (or reuse) this folder and keep it")
    ap.add_argument("--measure", type=Path)
    ap.add_argument("--source", choices=("files", "store"), default="files")
    args = ap.parse_args()
    if args.measure:
        measure(args.measure, args.source)
        return 0
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs, medians of {args.runs} runs", file=sys.stderr)
    print("| source | hosts/side | seconds | peak MB | ms/host | findings (outliers) | load s | JSON KB | table lines |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.hosts:
        root = args.keep / str(n) if args.keep else Path(tempfile.mkdtemp(prefix=f"drift-fleet-{n}-"))
        files = n <= args.files_max
        if not (root / "drift.db").exists():
            t0 = time.perf_counter()
            generate(root, n, files)
            print(f"generated 2 x {n} hosts in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        for source in (("files", "store") if files else ("store",)):
            results, failure = [], ""
            for _ in range(args.runs):
                failure, out = run_one(root, source, args.timeout, args.memory_gb)
                if failure:
                    break
                results.append(out)
            if failure:
                print(f"| {source} | {n} | {failure} | | | | | | |", flush=True)
                continue
            secs = statistics.median(float(r[0]) for r in results)
            peak = max(float(r[1]) for r in results)
            r = results[0]
            print(f"| {source} | {n} | {secs:.2f} | {peak:.0f} | {secs * 1000 / (2 * n):.2f} | {r[2]} ({r[3]}) "
                  f"| {statistics.median(float(x[4]) for x in results):.2f} | {r[5]} | {r[6]} |", flush=True)
        if not args.keep:
            subprocess.run(["rm", "-rf", str(root)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
