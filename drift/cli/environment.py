"""Everything the CLI takes from the outside world, injectable so the CLI is testable."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from drift.collect.runner import Connector


def _ssh_connector() -> Connector:
    from drift.collect.transport import SSHConnector  # imports Fabric: only when a live host is collected

    return SSHConnector()


def _local_connector() -> Connector:
    from drift.collect.local import LocalConnector

    return LocalConnector()


@dataclass
class Environment:
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    vars: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: Path = field(default_factory=Path.cwd)
    ssh_connector: Callable[[], Connector] = _ssh_connector
    local_connector: Callable[[], Connector] = _local_connector
    now: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))
    stderr_isatty: bool | None = None
    read_stdin: Callable[[], bytes] = field(default=lambda: sys.stdin.buffer.read())
    columns: int | None = None  # stdout is a terminal this wide (tests); None: ask the real stdout

    def width(self, stream: TextIO) -> int | None:
        """The terminal's width when `stream` is a terminal; None for a file or a pipe (never wrap)."""
        if self.columns is not None:
            return self.columns
        if not (hasattr(stream, "isatty") and stream.isatty()):
            return None
        env_cols = self.vars.get("COLUMNS", "")
        if env_cols.isdigit() and int(env_cols) > 0:
            return int(env_cols)
        return shutil.get_terminal_size((100, 24)).columns
    sleep: Callable[[float], None] = time.sleep  # `drift watch` waits between rounds; tests pass a fake clock

    @property
    def interactive(self) -> bool:
        """A person is watching stderr: progress is worth drawing."""
        if self.vars.get("CI") or self.vars.get("TERM") == "dumb":
            return False
        if self.stderr_isatty is not None:
            return self.stderr_isatty
        return hasattr(self.stderr, "isatty") and self.stderr.isatty()

    def color(self, stream: TextIO) -> bool:
        if self.vars.get("NO_COLOR") or self.vars.get("TERM") == "dumb":
            return False
        return hasattr(stream, "isatty") and stream.isatty()
