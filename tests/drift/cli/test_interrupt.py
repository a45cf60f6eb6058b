"""Ctrl-C (spec/cli.md, exit 130) and the progress line, in-process with our fake transport; the lab
test (tests/lab/test_interrupt_lab.py) does the same to a real process over real SSH."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from pathlib import Path

from drift.cli.environment import Environment
from drift.cli.progress import Progress
from drift.store.sqlite import Store
from tests.drift.cli.conftest import INVENTORY as BASE
from tests.drift.cli.conftest import FakeSSH
from tests.drift.factory import snap

EXAMPLES = Path(__file__).parents[3] / "examples"
# conftest's inventory, its refusing host replaced by a second answering one and a silent one.
INVENTORY = BASE.replace('{ name = "prd-web-down", address = "127.0.0.2", role = "web" },',
                         '{ name = "prd-web-2", address = "127.0.0.1", role = "web" },\n'
                         '  { name = "prd-web-silent", address = "127.0.0.3", role = "web" },')


class SilentSSH(FakeSSH):
    """The silent host presses Ctrl-C once the others are done, then hangs until released, as a
    host that never answers holds its thread for the connect timeout."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.others = threading.Semaphore(0)

    def open(self, host, deadline):
        if "silent" not in host.name:
            session = super().open(host, deadline)
            self.others.release()
            return session
        for _ in range(2):
            self.others.acquire()
        time.sleep(0.3)  # the two sessions' scripts finish and are counted
        os.kill(os.getpid(), signal.SIGINT)
        self.release.wait(30)
        raise TimeoutError("released by the test")


def test_ctrl_c_records_what_was_collected_and_exits_130(tmp_path):
    (tmp_path / "drift.toml").write_text(INVENTORY)
    ssh = SilentSSH()
    err = io.StringIO()
    env = Environment(stdout=io.StringIO(), stderr=err, vars={"HOME": str(tmp_path)}, cwd=tmp_path,
                      ssh_connector=lambda: ssh, stderr_isatty=False)
    from drift.cli import main

    try:
        started = time.monotonic()
        code = main(["compare", "prod", "prod", "--jobs", "3", "--category", "system"], env)
        took = time.monotonic() - started
    finally:
        ssh.release.set()
    assert code == 130
    assert "interrupted: 2 of 3 hosts collected, recorded in the store" in err.getvalue()
    assert took < 10  # not the silent host's 30 s
    with Store.open(tmp_path / ".drift" / "drift.db") as store:
        assert set(store.hosts()) == {"prd-web-1", "prd-web-2"}


def test_ctrl_c_outside_collection_still_says_so(tmp_path):
    def interrupt():
        raise KeyboardInterrupt

    err = io.StringIO()
    env = Environment(stdout=io.StringIO(), stderr=err, vars={"HOME": str(tmp_path)}, cwd=tmp_path, now=interrupt)
    from drift.cli import main

    code = main(["compare", str(EXAMPLES / "staging"), str(EXAMPLES / "prod")], env)
    assert code == 130 and "drift: interrupted" in err.getvalue()


def test_the_progress_line_is_drawn_within_half_a_second_and_counts_hosts():
    stream = io.StringIO()
    progress = Progress(5, 32, stream, enabled=True)
    try:
        deadline = time.monotonic() + 0.5
        while "collecting" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "collecting: 0/5 hosts done, 5 in flight" in stream.getvalue()
        progress(snap("a", "prod", "web", {}))
        progress(snap("b", "prod", "web", {}, down=True))
        assert stream.getvalue().endswith("collecting: 2/5 hosts done, 1 failed, 3 in flight (0s)")
    finally:
        progress.finish()
    assert stream.getvalue().endswith("\r\x1b[K")


def test_no_progress_line_off_a_terminal():
    stream = io.StringIO()
    progress = Progress(5, 32, stream, enabled=False)
    progress(snap("a", "prod", "web", {}))
    progress.finish()
    assert stream.getvalue() == ""
