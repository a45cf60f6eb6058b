"""drift's speed, side by side in one run: python -m benchmarks.run [--hosts 24] [--runs 3] [--no-ansible]

(a) `drift snapshot` of N lab hosts against the floor: plain OpenSSH, N in parallel, running the
    same script and discarding the output (benchmarks/collection.py; it alone does 24 and 200 in a run);
(b) the same against Ansible `setup` + `package_facts` at the same parallelism;
(c) an offline `drift compare` of 2 x 100 synthetic hosts x 3,000 packages (benchmarks/offline.py);
(d) one host's cost: connect and auth, the on-host script, parse, store.
Needs root (it builds the lab, under the lab lock). Prints a markdown table; medians of --runs runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import collectors as registry
from benchmarks.collection import held_lab, versus
from drift.collect.gather import Plan, collect_host, host_script, interpret
from drift.collect.script import split
from tests.lab.lab import Lab, unavailable

ANSIBLE_VENV = Path(os.environ.get("DRIFT_BENCH_ANSIBLE", "/tmp/drift-bench-ansible"))


def median_of(runs: int, fn: Callable[[], None]) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def ensure_ansible() -> Path | None:
    exe = ANSIBLE_VENV / "bin" / "ansible-playbook"
    if not exe.exists():
        print(f"installing ansible-core into {ANSIBLE_VENV} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(ANSIBLE_VENV)], check=True)
        if subprocess.run([str(ANSIBLE_VENV / "bin" / "pip"), "install", "-q", "ansible-core"]).returncode != 0:
            return None
    return exe


def ansible(lab: Lab, exe: Path, n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "hosts.ini").write_text("[bench]\n" + "".join(f"{h.name} ansible_host={h.address}\n" for h in lab.hosts))
        (t / "play.yml").write_text("- hosts: all\n  gather_facts: true\n  tasks:\n"
                                    "    - ansible.builtin.package_facts: {manager: auto}\n")
        # A fresh ControlPath per run: a master left by the previous run would be an unfair head start.
        (t / "ansible.cfg").write_text(
            f"[defaults]\nforks = {n}\nhost_key_checking = True\nremote_user = root\n"
            f"private_key_file = {lab.client_key}\ninterpreter_python = /usr/bin/python3\n"
            f"[ssh_connection]\nssh_args = -F /dev/null -o UserKnownHostsFile={lab.known_hosts} "
            "-o ControlMaster=auto -o ControlPersist=60s\n"
            f"control_path_dir = {t / 'cp'}\npipelining = True\n")
        env = {**os.environ, "ANSIBLE_CONFIG": str(t / "ansible.cfg")}
        done = subprocess.run([str(exe), "-i", str(t / "hosts.ini"), str(t / "play.yml")], env=env,
                              capture_output=True, text=True)
        subprocess.run(["pkill", "-f", f"{t / 'cp'}"], capture_output=True)
        if done.returncode != 0:
            raise SystemExit(f"ansible failed: {done.stdout[-800:]} {done.stderr[-800:]}")


def one_host(lab: Lab, runs: int) -> dict[str, float]:
    """Where one host's time goes, in-process, median of `runs`."""
    from drift.collect import inventory as inventory_io
    from drift.collect.transport import SSHConnector
    from drift.store.sqlite import Store

    inv = inventory_io.load(lab.inventory)
    inv = replace(inv, collect=replace(inv.collect, secret_key=b"bench-installation-key"))  # content needs one
    host = inv.environments["bench"][0]
    plan = Plan(registry.select(list(inv.collectors)), inv.collect, None, 1)
    script, cfg = host_script(plan, host)
    parts: dict[str, list[float]] = {"connect + auth": [], "exec (on-host script + transfer)": [],
                                     "on-host script alone": [], "parse": [], "store": []}
    for _ in range(runs):
        t0 = time.perf_counter()
        session = SSHConnector().open(host, time.monotonic() + 30)
        t1 = time.perf_counter()
        result = session.exec(script.text.encode(), time.monotonic() + 30)
        t2 = time.perf_counter()
        session.close()
        sections = split(script, result.stdout)
        for c in plan.collectors:
            if c.name in script.names:
                interpret(c, sections.get(c.name), cfg, result.exit_status, "")
        t3 = time.perf_counter()
        snap = collect_host(host, SSHConnector(), plan)
        with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "d.db") as store:
            t4 = time.perf_counter()
            store.record([snap])
            t5 = time.perf_counter()
        spec = lab.hosts[0]
        t6 = time.perf_counter()
        subprocess.run(["nsenter", "-t", _sshd_pid(spec.netns), "-m", "-u", "-n", "/bin/sh", "-s"],
                       input=script.text.encode(), capture_output=True, check=True)
        t7 = time.perf_counter()
        for key, value in zip(parts, (t1 - t0, t2 - t1, t7 - t6, t3 - t2, t5 - t4), strict=False):
            parts[key].append(value)
    return {k: statistics.median(v) for k, v in parts.items()}


def _sshd_pid(netns: str) -> str:
    pids = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True).stdout.split()
    for pid in pids:
        if Path(f"/proc/{pid}/comm").read_text().strip() == "sshd":
            return pid
    raise SystemExit(f"no sshd in {netns}")


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run")
    ap.add_argument("--hosts", type=int, default=24)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-ansible", action="store_true")
    args = ap.parse_args()
    reason = unavailable()
    if reason:
        print(f"benchmark: {reason}", file=sys.stderr)
        return 2
    if args.runs < 3:
        print("benchmark: --runs must be at least 3 (medians)", file=sys.stderr)
        return 2
    exe = None if args.no_ansible else ensure_ansible()
    rows: list[tuple[str, str, str, str]] = []
    quiet_load = os.getloadavg()[0]
    with held_lab(args.hosts) as lab:
        a = versus(lab, args.runs, args.hosts, quiet_load)
        d = statistics.median(s.seconds for s in a.drift)
        rows.append(("(a) drift snapshot vs plain OpenSSH floor", f"{a.ratio:.2f}x the floor", "<= 1.2x",
                     f"drift {d:.2f} s, floor {d / a.ratio:.2f} s (runs: {_fmt([s.seconds for s in a.drift])} / "
                     f"{_fmt([s.seconds for s in a.floor])}); {a.matched_ratio:.2f}x the floor held to drift's "
                     f"key exchange; load average {quiet_load:.1f} before"))
        if exe is not None:
            t, at = median_of(args.runs, lambda: ansible(lab, exe, args.hosts))
            rows.append(("(b) Ansible setup + package_facts vs drift", f"drift {t / d:.1f}x faster", ">= 8x",
                         f"ansible {t:.2f} s (runs: {_fmt(at)})"))
        parts = one_host(lab, args.runs)
    off = subprocess.run([sys.executable, "-m", "benchmarks.offline", "--runs", str(args.runs)],
                         capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1].split()
    seconds, mb, command_s = float(off[0]), float(off[1]), float(off[2])
    rows.append(("(c) offline compare, 2 x 100 hosts x 3,000 packages", f"{seconds:.2f} s, {mb:.0f} MB peak",
                 "< 1 s, < 300 MB", f"whole command incl. loading 200 JSON files and startup: {command_s:.2f} s"))
    script_s = parts["on-host script alone"]
    rows.append(("(d) on-host script, one host (~720 dpkg packages)", f"{script_s * 1000:.0f} ms", "< 300 ms",
                 "; ".join(f"{k} {v * 1000:.0f} ms" for k, v in parts.items())))
    print(f"\nN = {args.hosts} hosts, {args.runs} runs each, medians; {os.cpu_count()} CPUs\n")
    print("| measure | result | target | detail |\n|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 0


def _fmt(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


if __name__ == "__main__":
    sys.exit(main())
