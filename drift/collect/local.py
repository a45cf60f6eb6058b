"""The `local` target: this machine, through a subprocess, with no SSH."""

from __future__ import annotations

import subprocess
import time

from drift.collect.inventory import Host
from drift.collect.runner import ExecResult, HostKey, Session
from drift.core.errors import HostTimeout, TransportError


class LocalSession:
    host_key: HostKey | None = None

    def exec(self, script: bytes, deadline: float) -> ExecResult:
        remaining = max(0.1, deadline - time.monotonic())
        try:
            done = subprocess.run(["/bin/sh", "-s"], input=script, capture_output=True, timeout=remaining)
        except subprocess.TimeoutExpired:
            raise HostTimeout(f"collection took longer than {remaining:.0f} s") from None
        except OSError as exc:
            raise TransportError(f"cannot run /bin/sh: {exc.strerror}") from None
        return ExecResult(done.stdout, done.stderr, done.returncode)

    def close(self) -> None:
        pass


class LocalConnector:
    def open(self, host: Host, deadline: float) -> Session:
        return LocalSession()
