"""How the linearity tests time a call: the best of a few runs, in this thread's CPU time, with the
garbage collector paused. CPU time rather than wall time, because the suite shares a 2-core machine
with other work: a busy neighbour stretches wall time, not the CPU time a call itself needs."""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable


def best_cpu_time(fn: Callable[[], object], runs: int = 5,
                  expected: tuple[type[BaseException], ...] = ()) -> float:
    best = float("inf")
    gc.collect()
    gc.disable()  # a collection landing in one run is noise, not complexity
    try:
        for _ in range(runs):
            start = time.thread_time()
            with contextlib.suppress(*expected):
                fn()
            best = min(best, time.thread_time() - start)
    finally:
        gc.enable()
    return best
