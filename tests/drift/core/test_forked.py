"""Work beside this process: the same bytes as inline, a child's exception raised here as a bug,
no child left behind, and inline wherever fork is not safe.

The fork cases run in a fresh interpreter: fork is used only while a process runs one thread, and
a test before this one may have left one winding down in the test process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import pytest

from drift.core import forked

pytestmark = pytest.mark.skipif(forked.cpus() < 2 or not hasattr(os, "fork"), reason="needs fork and two CPUs")


def _fresh(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _pid() -> bytes:
    return str(os.getpid()).encode()


def test_the_work_runs_in_a_child_and_its_bytes_come_back():
    out = _fresh("""
        import os
        from drift.core import forked
        with forked.beside(lambda: str(os.getpid()).encode() + b" " + b"x" * 1_000_000, True) as result:
            pid, payload = result().split(b" ")
        print(int(pid) != os.getpid(), payload == b"x" * 1_000_000)  # past any pipe buffer
    """)
    assert out == "True True"


def test_not_worth_it_runs_here():
    with forked.beside(_pid, False) as result:
        assert int(result()) == os.getpid()


def test_another_thread_means_no_fork():
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        with forked.beside(_pid, True) as result:
            assert int(result()) == os.getpid()
    finally:
        stop.set()
        t.join()


def test_an_exception_in_the_child_is_raised_here_as_a_bug():
    out = _fresh("""
        import os
        from drift.core import forked
        def boom():
            raise ValueError("no such port")
        try:
            with forked.beside(boom, True) as result:
                result()
        except RuntimeError as exc:
            print(exc)
    """)
    assert out == "in a forked worker: ValueError: no such port"


def test_a_result_never_asked_for_ends_the_child():
    out = _fresh("""
        import os, time
        from pathlib import Path
        from drift.core import forked
        def slow():
            time.sleep(30)
            return b""
        with forked.beside(slow, True):
            children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
        # killed and reaped: not even a zombie
        print(len(children), all(not Path(f"/proc/{c}").exists() for c in children))
    """)
    assert out == "1 True"
