"""(e) Compare at fleet scale, on fleets of every awkward shape: python -m benchmarks.fleet [--hosts 100 1000]

Each side's hosts are derived from a real snapshot of this machine widened to 3,000 packages, and
carry every shape issue 23 names at once (each alone is easier than all together):
- a rolling upgrade: every host has one package at a version of its own;
- per-host package names: 30% of hosts have a package no other host has;
- 10% outliers in files and config keys: /etc/app/app.ini with another hash and `[cache] ttl`;
- 5% outliers in a sysctl;
- hosts with three roles: 10% of hosts are web, worker and cron at once;
- a role of one host: the last host of each side is `db`, alone;
- every host has a file whose content is its own (a real-looking sha256);
- and between the sides, 20 packages newer on the right and 5 only on the right.

Each size is measured in a fresh process from each source: snapshot files (one JSON file per
host, as `drift compare DIR DIR` loads them), the SQLite store (`Store.latest`), and with
--postgres a PostgreSQL store on a throwaway server (tests/servers/postgres.py). A measurement
past --timeout seconds or --memory-gb is stopped and reported as such. Generated data lives in a
temporary folder (or --keep DIR, never the repository). Every row records the 1-minute load
average when it started: the machine is shared, so read each figure next to it.
DRIFT_CODE=DIR measures the drift package found in DIR instead of this checkout (the "before").
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
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


def host(base, packages: dict, env: str, i: int, n: int):  # type: ignore[no-untyped-def]
    import hashlib

    from drift.model.snapshot import CollectorResult

    name = f"{env}-{i:05d}"
    dpkg = dict(packages)
    rolled = f"packages/deb/libsynthetic{100 + i % 2000:04d}"  # the rolling upgrade: one package of its own
    dpkg[rolled] = {"version": f"{dpkg[rolled]['version']}+roll{i}", "arch": "amd64"}
    if i % 10 < 3:  # 30%: a package name no other host has
        dpkg[f"packages/deb/tool-{name}"] = {"version": "1.0-1", "arch": "amd64"}
    collectors = dict(base.collectors)
    collectors["dpkg"] = CollectorResult("dpkg", "packages", "ok", None, dpkg)
    files = dict(base.collectors["files"].facts)
    digest = hashlib.sha256(name.encode()).hexdigest()
    files["files/etc/drift-bench/host-id"] = {"type": "file", "sha256": digest, "mode": "0644",
                                              "owner": "root", "group": "root", "size": 64}
    odd = i % 10 == 5  # 10%: another config file, another key
    files["files/etc/app/app.ini"] = {"type": "file", "sha256": hashlib.sha256(b"odd" if odd else b"app").hexdigest(),
                                      "mode": "0644", "owner": "root", "group": "root", "size": 120,
                                      "content": "ini"}
    files["files/etc/app/app.ini//[cache] ttl"] = "30" if odd else "300"
    files["files/etc/app/app.ini//[main] workers"] = "8"
    collectors["files"] = replace(base.collectors["files"], facts=files)
    if i % 20 == 3:  # 5% outliers
        sysctl = dict(base.collectors["sysctl"].facts)
        sysctl["system/sysctl/net.core.somaxconn"] = "1024"
        collectors["sysctl"] = replace(base.collectors["sysctl"], facts=sysctl)
    role, roles = ("db", ()) if i == n - 1 else ("web", ("web", "worker", "cron") if i % 10 == 7 else ())
    address = network(base, collectors, env, i, role)
    return replace(base, host=name, env=env, role=role, roles=roles, collectors=collectors, host_key=None,
                   address=address)


# Every host its own address, and the same firewall on every host of a role, whatever the machine that
# generates the fleet has (a lab's hundreds of interfaces once made every host multi-homed).
_RULES = {
    "firewall/iptables/filter/INPUT": {"policy": "DROP", "rules": [
        "-i lo -j ACCEPT", "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        "-p tcp -m tcp --dport 22 -j ACCEPT", "-s 10.0.0.0/8 -p tcp -m tcp --dport 8080 -j ACCEPT"]},
    "firewall/iptables/filter/FORWARD": {"policy": "DROP", "rules": []},
    "firewall/iptables/filter/OUTPUT": {"policy": "ACCEPT", "rules": []},
}
_DB_RULES = {**_RULES, "firewall/iptables/filter/INPUT": {"policy": "DROP", "rules": [
    *_RULES["firewall/iptables/filter/INPUT"]["rules"][:3], "-s 10.0.0.0/8 -p tcp -m tcp --dport 5432 -j ACCEPT"]}}


def network(base, collectors: dict, env: str, i: int, role: str) -> str:  # type: ignore[no-untyped-def]
    """Interfaces, routes, sockets and firewall of host i; its address."""
    address = f"10.{1 if env == 'staging' else 2}.{i // 250}.{i % 250 + 1}"
    mac = f"52:54:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"
    ifaces = {
        "topology/interfaces/lo": {"kind": "loopback", "mtu": 65536, "state": "UNKNOWN"},
        "topology/interfaces/lo/addresses": ["127.0.0.1/8", "::1/128"],
        "topology/interfaces/lo/mac": "00:00:00:00:00:00",
        "topology/interfaces/eth0": {"kind": "ether", "mtu": 1500, "state": "UP"},
        "topology/interfaces/eth0/addresses": [f"{address}/16", f"fe80::5054:ff:fe00:{i & 0xffff:x}/64"],
        "topology/interfaces/eth0/mac": mac,
        "topology/ssh/server_address": address,
    }
    identity = tuple(sorted(k for k in ifaces if k.endswith(("/addresses", "/mac", "server_address"))))
    collectors["interfaces"] = replace(base.collectors["interfaces"], facts=ifaces, identity=identity)
    collectors["routes"] = replace(base.collectors["routes"], facts={
        "topology/routes/v4/connected eth0 /16": {"dev": "eth0"},
        "topology/routes/v4/default": {"dev": "eth0", "via": "10.0.0.1"}}, identity=())
    port = 5432 if role == "db" else 8080
    listen = {k: v for k, v in base.collectors["listen"].facts.items() if k.startswith("topology/ports/")}
    listen |= {f"topology/listen/tcp/*:{p}": {"process": proc, "families": ["v4", "v6"]}
               for p, proc in ((22, "sshd"), (port, "app"))}
    collectors["listen"] = replace(base.collectors["listen"], facts=listen)
    rules = _DB_RULES if role == "db" else _RULES
    collectors["iptables"] = replace(base.collectors["iptables"], status="ok", error=None, facts=rules)
    for name in ("nft", "ipset"):
        if name in collectors:
            collectors[name] = replace(base.collectors[name], status="ok", error=None, facts={})
    return address


def generate(folder: Path, hosts: int, files: bool, postgres: str | None) -> None:
    """Both sides into `folder`: a JSON file per host (when `files`), the SQLite store, and `postgres`."""
    import msgspec

    from drift.store import open_store

    base = real_snapshot()
    stores = [open_store(folder / "drift.db")] + ([open_store(folder, postgres)] if postgres else [])
    try:
        for env, right in (("staging", False), ("prod", True)):
            packages = base_packages(base, right)
            side = folder / env
            side.mkdir(parents=True, exist_ok=True)
            batch = []
            for i in range(hosts):
                s = host(base, packages, env, i, hosts)
                if files:  # msgspec: the same document as to_json, indented, 5x faster to write
                    (side / f"{s.host}.json").write_bytes(msgspec.json.format(
                        msgspec.json.encode(s.to_dict(), order="sorted"), indent=2) + b"\n")
                batch.append(s)
                if len(batch) == BATCH:
                    for store in stores:
                        store.record(batch)
                    batch = []
            if batch:
                for store in stores:
                    store.record(batch)
    finally:
        for store in stores:
            store.close()


def measure(folder: Path, source: str, url: str | None) -> None:
    """In a fresh process: load both sides, compare, render JSON and the table; print the figures."""
    import datetime as dt

    from drift.analysis import compare as engine
    from drift.analysis.policy import Policy
    from drift.reports import OutputFormat, render

    try:  # as the CLI loads its targets (drift/core/heap.py); the "before" code has no such module
        from drift.core.heap import loading
    except ImportError:
        import contextlib

        loading = contextlib.nullcontext  # type: ignore[assignment]
    start, cpu_start = time.perf_counter(), time.process_time()
    with loading():
        envs = _load(folder, source, url)
    loaded = time.perf_counter()
    report = engine.compare(envs[0], envs[1], Policy(), dt.datetime(2026, 11, 22, tzinfo=dt.timezone.utc))
    out = render(report, OutputFormat.json)
    table = render(report, OutputFormat.table)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers = children.ru_maxrss / 1024  # the largest decoding worker
    # CPU seconds of the measured work, this process's and its decoding workers' (interpreter start-up
    # and imports left out, as in `seconds`): on a shared machine, less at the mercy of the others.
    cpu = time.process_time() - cpu_start + children.ru_utime + children.ru_stime
    outliers = sum(f.kind.value == "outlier" for f in report.findings)
    print(f"{elapsed:.3f} {peak:.0f} {len(report.findings)} {outliers} {loaded - start:.3f} "
          f"{len(out) // 1024} {table.count(chr(10))} {workers:.0f} {cpu:.2f}")


def _load(folder: Path, source: str, url: str | None):  # type: ignore[no-untyped-def]
    """Both sides, as `drift compare DIR DIR` loads them, or from a store; one Tables where there is one."""
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
    from drift.store import open_store

    with open_store(folder / "drift.db", url if source == "postgres" else None) as store:
        kw = {"tables": tables} if tables is not None else {}
        return tuple(Env(side, tuple(store.latest(side, **kw))) for side in ("staging", "prod"))


def _limit(gb: float):  # type: ignore[no-untyped-def]
    def apply() -> None:
        cap = int(gb * 1024 ** 3)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    return apply


def run_one(folder: Path, source: str, url: str | None, timeout: float, memory_gb: float) -> tuple[str, list[str]]:
    argv = [sys.executable, "-m", "benchmarks.fleet", "--measure", str(folder), "--source", source]
    try:
        done = subprocess.run(argv + (["--url", url] if url else []), capture_output=True, text=True,
                              timeout=timeout, preexec_fn=_limit(memory_gb))
    except subprocess.TimeoutExpired:
        return f"stopped after {timeout:.0f} s", []
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return f"failed ({'out of memory at the ' + str(memory_gb) + ' GB cap' if 'MemoryError' in last else last})", []
    return "", done.stdout.split()


def _postgres(enabled: bool):  # type: ignore[no-untyped-def]
    """A throwaway PostgreSQL server (the tests' own), or None."""
    if not enabled:
        return None
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.servers import postgres

    started = postgres.start()
    if isinstance(started, str):
        print(f"no PostgreSQL: {started}", file=sys.stderr)
        return None
    return started


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.fleet")
    ap.add_argument("--hosts", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--files-max", type=int, default=10000)
    ap.add_argument("--postgres", action="store_true", help="also measure a PostgreSQL store")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--memory-gb", type=float, default=8)
    ap.add_argument("--keep", type=Path, help="generate into (or reuse) this folder and keep it")
    ap.add_argument("--measure", type=Path)
    ap.add_argument("--source", choices=("files", "store", "postgres"), default="files")
    ap.add_argument("--url")
    args = ap.parse_args()
    if args.measure:
        measure(args.measure, args.source, args.url)
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so a stopped run still stops its server
    pg = _postgres(args.postgres)
    server = next(pg) if pg is not None else None
    print(f"{os.cpu_count()} CPUs, medians of {args.runs} runs", file=sys.stderr)
    print("| source | hosts/side | seconds | CPU s | peak MB (workers) | ms/host | CPU ms/host | findings (outliers) "
          "| load s | JSON KB | table lines | load average |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    try:
        for n in args.hosts:
            root = args.keep / str(n) if args.keep else Path(tempfile.mkdtemp(prefix=f"drift-fleet-{n}-"))
            files = n <= args.files_max
            url = server.create_database(f"fleet{n}") if server is not None else None
            if not (root / "drift.db").exists() or url:
                t0 = time.perf_counter()
                generate(root, n, files, url)
                print(f"generated 2 x {n} hosts in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
            sources = (("files",) if files else ()) + ("store",) + (("postgres",) if url else ())
            for source in sources:
                _row(root, n, source, url, args)
            if files:
                _cli_row(root, n, args)
            if not args.keep:
                subprocess.run(["rm", "-rf", str(root)], check=False)
    finally:
        if pg is not None:
            pg.close()
    return 0


def _row(root: Path, n: int, source: str, url: str | None, args: argparse.Namespace) -> None:
    results, failure, loads = [], "", []
    for _ in range(args.runs):
        loads.append(os.getloadavg()[0])
        failure, out = run_one(root, source, url, args.timeout, args.memory_gb)
        if failure:
            break
        results.append(out)
    load = f"{min(loads):.1f}–{max(loads):.1f}"
    if failure:
        print(f"| {source} | {n:,} | {failure} | | | | | | | | | {load} |", flush=True)
        return
    secs = statistics.median(float(r[0]) for r in results)
    cpu = statistics.median(float(r[8]) for r in results)
    peak = max(float(r[1]) for r in results)
    workers = max(float(r[7]) for r in results)
    r = results[0]
    per = 1000 / (2 * n)
    print(f"| {source} | {n:,} | {secs:.2f} | {cpu:.2f} | {peak:.0f} ({workers:.0f}) | {secs * per:.2f} | {cpu * per:.2f} "
          f"| {r[2]} ({r[3]}) | {statistics.median(float(x[4]) for x in results):.2f} | {r[5]} | {r[6]} | {load} |",
          flush=True)

def _cli_row(root: Path, n: int, args: argparse.Namespace) -> None:
    """What the issue measured and a person runs: `drift compare DIR DIR --format json`, start-up to exit."""
    argv = [sys.executable, "-m", "drift", "compare", str(root / "staging"), str(root / "prod"), "--format", "json"]
    walls, cpus, loads = [], [], []
    for _ in range(args.runs):
        loads.append(os.getloadavg()[0])
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=args.timeout,
                              preexec_fn=_limit(args.memory_gb), check=False)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        if done.returncode not in (0, 1, 3):
            print(f"| CLI, files | {n:,} | failed: {done.stderr.decode()[-200:]!r} |", flush=True)
            return
    secs, cpu, per = statistics.median(walls), statistics.median(cpus), 1000 / (2 * n)
    print(f"| CLI `drift compare DIR DIR --format json`, files | {n:,} | {secs:.2f} | {cpu:.2f} | | {secs * per:.2f} "
          f"| {cpu * per:.2f} | | | | | {min(loads):.1f}–{max(loads):.1f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
