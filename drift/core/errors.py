"""The error hierarchy. The CLI maps these to exit codes in one place (drift.cli)."""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitStatus(IntEnum):
    OK = 0
    DRIFT = 1
    BAD_INPUT = 2
    INCOMPLETE = 3
    BUG = 4  # drift itself failed: never read by a gate as drift (1) or a host down (3)
    INTERRUPTED = 130  # Ctrl-C, as a shell reports a process killed by SIGINT (128 + 2)


class Interrupted(BaseException):
    """Ctrl-C while hosts were being collected: what was done by then (snapshots), out of how many
    hosts. Not a KeyboardInterrupt: Typer turns those into a bare exit 130 and the counts would be
    lost on the way to the one place that prints them (drift.cli.main)."""

    def __init__(self, done: tuple[object, ...], total: int, recorded: bool = False):
        super().__init__(f"interrupted with {len(done)} of {total} hosts collected")
        self.done, self.total, self.recorded = done, total, recorded


class DriftError(Exception):
    """Base of every error drift raises on purpose."""


class InputError(DriftError):
    """The command cannot run: bad flags, or a file the user gave us is missing or invalid.

    The message names the file, and the line where there is one, so a person can fix it at 3 a.m.
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.path = str(path) if path is not None else None
        self.line = line
        self.detail = message
        super().__init__(self._render())

    def _render(self) -> str:
        if self.path is None:
            return self.detail
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.detail}"


class InventoryError(InputError):
    pass


class SnapshotFileError(InputError):
    pass


class PolicyError(InputError):
    pass


class CollectError(DriftError):
    """One collector could not turn a host's output into facts. Recorded, never fatal to the run."""


class TransportError(DriftError):
    """A host could not be reached, authenticated or run our script. Recorded on that host."""


class HostKeyError(TransportError):
    pass


class AuthError(TransportError):
    pass


class HostTimeout(TransportError):
    pass
