"""Work beside this process: the same bytes as inline, a child's exception raised here as a bug,
no child left behind, and inline wherever fork is not safe."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from drift.core import forked

pytestmark = pytest.mark.skipif(forked.cpus() < 2 or not hasattr(os, "fork"), reason="needs fork and two CPUs")


def _pid() -> bytes:
    return str(os.getpid()).encode()


def test_the_work_runs_in_a_child_and_its_bytes_come_back():
    with forked.beside(lambda: _pid() + b" " + b"x" * 1_000_000, True) as result:
        pid, payload = result().split(b" ")
    assert int(pid) != os.getpid() and payload == b"x" * 1_000_000  # past any pipe buffer


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
    def boom() -> bytes:
        raise ValueError("no such port")

    with pytest.raises(RuntimeError, match="in a forked worker: ValueError: no such port"), \
            forked.beside(boom, True) as result:
        result()


def test_a_result_never_asked_for_ends_the_child(tmp_path):
    mark = tmp_path / "pid"

    def slow() -> bytes:
        mark.write_bytes(_pid())
        time.sleep(30)
        return b""

    with forked.beside(slow, True):
        for _ in range(500):  # until the child has said who it is
            if mark.exists() and mark.read_bytes():
                break
            time.sleep(0.01)
    pid = int(mark.read_bytes())
    assert pid != os.getpid() and not Path(f"/proc/{pid}").exists()  # killed and reaped: not even a zombie
