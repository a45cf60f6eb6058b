"""A one-line progress counter on a terminal; nothing at all in CI, with --quiet or JSON."""

from __future__ import annotations

from typing import TextIO

from drift.model.snapshot import Snapshot


class Progress:
    def __init__(self, total: int, stream: TextIO, enabled: bool):
        self.total = total
        self.done = 0
        self.failed = 0
        self.stream = stream
        # One host needs no bar: the answer comes as fast as the bar would.
        self.enabled = enabled and total > 1

    def __call__(self, snap: Snapshot) -> None:
        self.done += 1
        self.failed += snap.failed
        if self.enabled:
            bad = f", {self.failed} failed" if self.failed else ""
            self.stream.write(f"\rcollecting: {self.done}/{self.total} hosts{bad} ")
            self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self.done:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
