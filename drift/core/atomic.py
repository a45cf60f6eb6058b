"""Atomic file writes: a reader, or a run killed half-way, sees the old file or the new one."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
from pathlib import Path

from drift.core.errors import InputError

_UMASK_LOCK = threading.Lock()


def write_atomic(path: Path, text: str, mode: int | None = None) -> None:
    """Write `text` to `path` via a temporary file and a rename.

    The file gets `mode` if given, else the mode an ordinary `open()` would give (0666 less the
    umask, typically 0644) or, when replacing a file, that file's own mode: mkstemp's private 0600
    would make a cron job's HTML report unreadable to the web server that serves it.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", path) from None
    try:
        os.fchmod(fd, _mode_for(path) if mode is None else mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):  # a full disk, most likely: the old file is still there, whole
            raise InputError(f"cannot write: {exc.strerror or exc}; the file is unchanged", path) from None
        raise
    try:  # the rename itself survives a crash only once the directory is synced
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~current_umask()


def current_umask() -> int:
    """The process umask, read without changing it where Linux allows (threads may be writing)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        old = os.umask(0o022)
        os.umask(old)
    return old
