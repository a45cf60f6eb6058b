"""Collection against the floor: python -m benchmarks.collection [--hosts 24,200] [--runs 3] [--jobs J]

For each N in --hosts: builds N lab hosts, then alternates `drift snapshot` of all N (a fresh
process, --jobs J) with the floor: plain OpenSSH, at most J sessions at once, each running exactly
the script drift composes for that host (drift.collect.gather.host_script) and discarding the
output; then the same floor held to the key exchange drift negotiates with these servers
(curve25519: OpenSSH 9.2's client prefers the costlier post-quantum sntrup761x25519, which
paramiko does not offer). J defaults to N. Each run records its wall time, the client side's CPU
seconds (drift's process; the ssh processes) and the 1-minute load average as it started; the
table gives medians, and the load average before the lab was built (the other sessions' share of
the machine). Needs root. Holds the machine-wide lab lock only while a lab is up, a size at a time.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import collectors as registry
from drift.collect import inventory as inventory_io
from drift.collect.gather import Plan, host_script
from tests.lab.fleet import bench_fleet
from tests.lab.lab import Lab, down, unavailable

LOCK = "/tmp/drift-lab.lock"  # the lab tests' lock (tests/lab/conftest.py): one lab per machine
# What paramiko (mlkem768x25519 first, which OpenSSH 9.2 servers lack) settles on with the lab's sshd.
DRIFT_KEX = "curve25519-sha256,curve25519-sha256@libssh.org"


@dataclass(frozen=True)
class Sample:
    seconds: float
    cpu: float  # client side: user + system seconds
    load: float  # 1-minute load average as the run started


@dataclass(frozen=True)
class Versus:
    hosts: int
    jobs: int
    quiet_load: float  # before the lab was built: other sessions' load
    drift: tuple[Sample, ...]
    floor: tuple[Sample, ...]
    matched: tuple[Sample, ...]  # the floor with drift's key exchange

    @property
    def ratio(self) -> float:
        return _median(self.drift, "seconds") / _median(self.floor, "seconds")

    @property
    def matched_ratio(self) -> float:
        return _median(self.drift, "seconds") / _median(self.matched, "seconds")

    def row(self) -> str:
        loads = [s.load for s in (*self.drift, *self.floor, *self.matched)]
        return (f"| {self.hosts} | {self.jobs} | **{self.ratio:.2f}x** | **{self.matched_ratio:.2f}x** "
                + "".join(f"| {_median(runs, 'seconds'):.2f} ({_runs(runs)}) "
                          for runs in (self.drift, self.floor, self.matched))
                + "".join(f"| {_median(runs, 'cpu'):.2f} " for runs in (self.drift, self.floor, self.matched))
                + f"| {self.quiet_load:.1f}; {min(loads):.0f}-{max(loads):.0f} |")


HEADER = ("| hosts | jobs | drift / floor | drift / floor, same kex | drift s (runs) | floor s (runs) "
          "| floor, same kex s (runs) | drift client CPU s | ssh clients CPU s | same kex CPU s "
          "| load average: before; during |\n|---:|---:|---:|---:|---|---|---|---:|---:|---:|---|")


@contextlib.contextmanager
def held_lab(hosts: int) -> Iterator[Lab]:
    """N bench hosts up, under the lab lock; torn down and the lock released on the way out."""
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        root = Path(tempfile.mkdtemp(prefix="drift-bench-"))
        root.chmod(0o755)
        lab = Lab(root, bench_fleet(hosts))
        try:
            started = time.perf_counter()
            lab.up()
            lab.inventory.write_text(lab.toml(envs=("bench",), connect_timeout=30, command_timeout=300))
            print(f"lab: {hosts} hosts up in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            yield lab
        finally:
            down()
            shutil.rmtree(root, ignore_errors=True)


def drift_snapshot(lab: Lab, jobs: int, tree: Path | None = None) -> Sample:
    """`drift snapshot` of the lab from the checkout `tree` (default: here), its bytecode compiled as an
    installed drift's is: the untimed first run writes it (this machine sets PYTHONDONTWRITEBYTECODE,
    and compiling drift's 100-odd modules on every run would cost ~0.15 s that no installation pays)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(lab.root / "pycache")
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "drift", "snapshot", "bench", "-i", str(lab.inventory),
                             "--jobs", str(jobs), "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            cwd=tree, env=env)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"drift snapshot failed ({proc.returncode}): {err.decode(errors='replace')[-800:]}")
    return Sample(seconds, usage.ru_utime + usage.ru_stime, load)


def scripts(lab: Lab) -> dict[str, bytes]:
    """Address -> the script `drift snapshot` runs there: same collectors, settings, host identity, sudo."""
    inv = inventory_io.load(lab.inventory)
    plan = Plan(registry.select(list(inv.collectors)), inv.collect)
    return {h.address: host_script(plan, h)[0].text.encode() for h in inv.environments["bench"]}


def floor(lab: Lab, by_address: dict[str, bytes], jobs: int, kex: str | None = None) -> Sample:
    """Plain OpenSSH: one connection per host, at most `jobs` at once, the output thrown away."""
    options = ["-o", f"KexAlgorithms={kex}"] if kex else []

    def one(address: str) -> int:
        return subprocess.run(["ssh", "-F", "/dev/null", "-T", *options, "-o", "BatchMode=yes",
                               "-o", "StrictHostKeyChecking=yes",
                               "-o", f"UserKnownHostsFile={lab.known_hosts}", "-i", str(lab.client_key),
                               f"root@{address}", "exec /bin/sh -s"],
                              input=by_address[address], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode

    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        codes = list(pool.map(one, by_address))
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if any(codes):
        raise SystemExit(f"floor: {sum(1 for c in codes if c)} ssh runs failed")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return Sample(seconds, cpu, load)


def versus(lab: Lab, runs: int, jobs: int, quiet_load: float) -> Versus:
    """drift and both floors in turn, after one untimed run of each (page cache, .pyc, ARP)."""
    by_address = scripts(lab)
    floor(lab, by_address, jobs)
    drift_snapshot(lab, jobs)
    drift: list[Sample] = []
    plain: list[Sample] = []
    matched: list[Sample] = []
    for _ in range(runs):
        drift.append(drift_snapshot(lab, jobs))
        plain.append(floor(lab, by_address, jobs))
        matched.append(floor(lab, by_address, jobs, DRIFT_KEX))
    return Versus(len(by_address), jobs, quiet_load, tuple(drift), tuple(plain), tuple(matched))


def _median(samples: tuple[Sample, ...], attr: str) -> float:
    return float(statistics.median(getattr(s, attr) for s in samples))


def _runs(samples: tuple[Sample, ...]) -> str:
    return ", ".join(f"{s.seconds:.2f}" for s in samples)


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.collection")
    ap.add_argument("--hosts", default="24,200", help="comma-separated fleet sizes (1 to 240)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=0, help="sessions at once, drift and floor alike (default: hosts)")
    args = ap.parse_args()
    reason = unavailable()
    if reason or args.runs < 3:
        print(f"benchmark: {reason or '--runs must be at least 3 (medians)'}", file=sys.stderr)
        return 2
    rows = []
    for n in (int(x) for x in args.hosts.split(",")):
        quiet_load = os.getloadavg()[0]
        with held_lab(n) as lab:
            rows.append(versus(lab, args.runs, args.jobs or n, quiet_load))
        print(rows[-1].row(), file=sys.stderr)
    print(f"\n`drift snapshot` vs plain OpenSSH, same script, {args.runs} runs each, medians; "
          f"{os.cpu_count()} CPUs\n\n{HEADER}")
    for r in rows:
        print(r.row())
    return 0


if __name__ == "__main__":
    sys.exit(main())
