"""drift under load: python -m benchmarks.load [--hosts 200] [--jobs 8,32,64] [--nofile 1024]

Builds N lab hosts, then runs `drift snapshot` over all of them once per --jobs value, with the
soft file-descriptor limit at --nofile (1024 is the usual default), sampling the process every
20 ms. Reports, per run: wall time, hosts collected, peak RSS (the kernel's own maximum, from
wait4), peak threads and peak open file descriptors; and memory per host in flight, the slope of
peak RSS against --jobs. Needs root (it builds the lab) and holds the lab lock throughout.
Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.collection import held_lab
from tests.lab.lab import Lab, unavailable


@dataclass(frozen=True)
class Run:
    jobs: int
    seconds: float
    exit_code: int
    collected: int
    peak_rss_mib: float
    peak_threads: int
    peak_fds: int


def _sample(pid: int, peaks: dict[str, int], stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            threads = int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))
            fds = len(os.listdir(f"/proc/{pid}/fd"))
        except (OSError, StopIteration):
            return
        peaks["threads"] = max(peaks["threads"], threads)
        peaks["fds"] = max(peaks["fds"], fds)
        time.sleep(0.02)


def run_once(lab: Lab, jobs: int, nofile: int, out: Path) -> Run:
    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))

    log = out.with_suffix(".stderr")
    started = time.perf_counter()
    with log.open("wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "drift", "snapshot", "bench", "-i", str(lab.inventory),
                                 "--jobs", str(jobs), "--quiet", "-o", str(out)],
                                stdout=subprocess.DEVNULL, stderr=stderr, preexec_fn=limits)
    peaks, stop = {"threads": 0, "fds": 0}, threading.Event()
    sampler = threading.Thread(target=_sample, args=(proc.pid, peaks, stop), daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    err = log.read_text(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code != 0:
        print(f"jobs {jobs}: exit {code}: {err[-1500:]}", file=sys.stderr)
    collected = sum(1 for p in out.glob("*.json") if '"status": "ok"' in p.read_text())
    return Run(jobs, seconds, code, collected, usage.ru_maxrss / 1024, peaks["threads"], peaks["fds"])


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load")
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--jobs", default="8,32,64", help="comma-separated --jobs values")
    parser.add_argument("--nofile", type=int, default=1024, help="soft RLIMIT_NOFILE for drift")
    args = parser.parse_args()
    reason = unavailable()
    if reason:
        print(f"load: {reason}", file=sys.stderr)
        return 2
    jobs = [int(j) for j in args.jobs.split(",")]
    with held_lab(args.hosts) as lab, tempfile.TemporaryDirectory(prefix="drift-load-") as tmp:
        runs = [run_once(lab, j, args.nofile, Path(tmp) / f"out-{j}") for j in jobs]
    print(f"`drift snapshot` of {args.hosts} lab hosts, soft fd limit {args.nofile}, {os.cpu_count()} cores\n")
    print("| --jobs | wall s | hosts collected | exit | peak RSS MiB | peak threads | peak fds |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in runs:
        print(f"| {r.jobs} | {r.seconds:.1f} | {r.collected}/{args.hosts} | {r.exit_code} | {r.peak_rss_mib:.0f} "
              f"| {r.peak_threads} | {r.peak_fds} |")
    if len(runs) > 1:
        low, high = runs[0], runs[-1]
        per_host = (high.peak_rss_mib - low.peak_rss_mib) / (high.jobs - low.jobs)
        print(f"\nmemory per host in flight: {per_host * 1024:.0f} KiB "
              f"(peak RSS slope between --jobs {low.jobs} and {high.jobs})")
    return 0 if all(r.exit_code == 0 and r.collected == args.hosts for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
