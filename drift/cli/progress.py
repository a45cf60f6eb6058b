"""A one-line progress counter on a terminal; nothing at all in CI, with --quiet or JSON.

Redrawn by a ticker, not only when a host finishes: a host that does not answer holds the first
finish for the whole connect timeout, and a person at a silent terminal for 10 s presses Ctrl-C.
"""

from __future__ import annotations

import threading
import time
from typing import TextIO

from drift.model.snapshot import Snapshot

FIRST = 0.3  # seconds before the first frame: a run that is over by then never flashes a line
EVERY = 0.25  # seconds between frames


class Progress:
    def __init__(self, total: int, jobs: int, stream: TextIO, enabled: bool):
        self.total = total
        self.jobs = max(1, jobs)
        self.done = 0
        self.failed = 0
        self.stream = stream
        self.enabled = enabled and total > 0
        self._lock = threading.Lock()
        self._drawn = False
        self._stop = threading.Event()
        self._started = time.monotonic()
        if self.enabled:
            threading.Thread(target=self._tick, name="drift-progress", daemon=True).start()

    def line(self, elapsed: float) -> str:
        """hosts done / failed / in flight; the hosts not started yet are the rest of the total."""
        flight = min(self.jobs, self.total - self.done)
        bad = f", {self.failed} failed" if self.failed else ""
        return f"collecting: {self.done}/{self.total} hosts done{bad}, {flight} in flight ({elapsed:.0f}s)"

    def __call__(self, snap: Snapshot) -> None:
        with self._lock:
            self.done += 1
            self.failed += snap.failed
            if self._drawn:
                self._draw()

    def _tick(self) -> None:
        if self._stop.wait(FIRST):
            return
        while True:
            with self._lock:
                if self._stop.is_set():
                    return
                self._draw()
            if self._stop.wait(EVERY):
                return

    def _draw(self) -> None:
        self.stream.write(f"\r\x1b[K{self.line(time.monotonic() - self._started)}")
        self.stream.flush()
        self._drawn = True

    def finish(self) -> None:
        """Clears the line; safe to call more than once."""
        self._stop.set()
        with self._lock:
            if self._drawn:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self._drawn = False
