"""Ctrl-C during a real run (spec/cli.md, exit 130): drift, as a process on a terminal, collects
staging and the broken environment (one host refuses, one never answers); once the progress line
shows every answering host done, SIGINT must stop it within a second, say how many hosts were
collected, and keep them in the store."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drift.store.sqlite import Store

pytestmark = pytest.mark.lab
ROOT = Path(__file__).parents[2]


def _read_until(fd: int, pattern: str, seconds: float) -> tuple[str, float]:
    """The terminal's output until `pattern` appears, and when it did (monotonic)."""
    seen, end = "", time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                seen += os.read(fd, 4096).decode("utf-8", "replace")
            except OSError:
                break
            if re.search(pattern, seen):
                return seen, time.monotonic()
    raise AssertionError(f"no {pattern!r} on the terminal within {seconds} s; it showed {seen!r}")


def test_ctrl_c_stops_within_a_second_and_keeps_what_was_collected(lab, tmp_path):
    store = tmp_path / "drift.db"
    inv = tmp_path / "drift.toml"
    inv.write_text(re.sub(r'(?m)^\[store\]\npath = ".*"$', f'[store]\npath = "{store}"', lab.toml()))
    leader, follower = pty.openpty()  # stderr on a terminal: the progress line is drawn
    started = time.monotonic()
    run = subprocess.Popen([sys.executable, "-m", "drift", "compare", "staging", "broken", "-i", str(inv),
                            "--timeout", "60"], cwd=ROOT, stdout=subprocess.PIPE, stderr=follower,
                           env={k: v for k, v in os.environ.items() if k not in ("CI", "TERM")} | {"TERM": "xterm"})
    os.close(follower)
    try:
        first, at = _read_until(leader, r"collecting: \d/5 hosts done", 15)
        assert "in flight" in first
        # Every host but the silent one: 3 of staging collected, broken-down refused.
        _read_until(leader, r"collecting: 4/5 hosts done, 1 failed, 1 in flight", 30)
        sent = time.monotonic()
        run.send_signal(signal.SIGINT)
        code = run.wait(timeout=10)
        took = time.monotonic() - sent
        rest = ""
        while select.select([leader], [], [], 0.1)[0]:
            try:
                rest += os.read(leader, 4096).decode("utf-8", "replace")
            except OSError:
                break
    finally:
        if run.poll() is None:
            run.kill()
        os.close(leader)
    assert code == 130
    assert took < 1.0, took
    assert "interrupted: 3 of 5 hosts collected, recorded in the store; 1 could not be collected" in rest
    assert at - started < 10  # the first frame comes long before any host's timeout
    with Store.open(store) as kept:
        assert set(kept.hosts()) == {"stg-web-1", "stg-web-2", "stg-db-1", "broken-down"}
