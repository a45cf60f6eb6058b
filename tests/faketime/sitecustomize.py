"""Loaded only by tests/faketime/run (PYTHONPATH), never by drift or the ordinary suite.

libfaketime 0.9.10 (Debian 12) with FAKETIME_DONT_FAKE_MONOTONIC=1 turns Python's time.sleep, which
sleeps with clock_nanosleep on an absolute CLOCK_MONOTONIC deadline, into EINVAL; and faking the
monotonic clock instead makes every timed lock or event wait (sem_clockwait, not intercepted) wait a
year. So the run fakes only the wall clock, and time.sleep sleeps with select(), which takes a
relative timeout. What the run proves is unchanged: no test depends on the date it runs on."""

import select
import time


def _sleep(seconds: float) -> None:
    if seconds > 0:
        select.select([], [], [], seconds)


time.sleep = _sleep
