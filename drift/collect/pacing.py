"""Connecting to many hosts without being refused: at most PACE SSH handshakes in flight per
endpoint (a bastion, or one address many inventory names share), and a connection sshd closed
before its banner (MaxStartups, a restart) told apart from one that is only slow, so that it can be
retried (transport.py retries with backoff)."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator

from drift.core.errors import HostTimeout

# sshd's default MaxStartups 10:30:100 starts dropping new connections at 10 unauthenticated ones.
PACE = 8

log = logging.getLogger("drift.collect")


class Dropped(Exception):
    """sshd closed a new connection before its banner: MaxStartups, or a restart. Worth a retry."""

    def __init__(self, endpoint: str):
        super().__init__(endpoint)
        self.endpoint = endpoint


class Pacer:
    """At most PACE SSH handshakes in flight per endpoint; the rest of the pool waits its turn."""

    def __init__(self, limit: int = PACE):
        self._limit = limit
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._told: set[str] = set()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def slot(self, endpoint: str, deadline: float) -> Iterator[None]:
        with self._lock:
            sem = self._slots.setdefault(endpoint, threading.BoundedSemaphore(self._limit))
        if not sem.acquire(blocking=False):
            with self._lock:
                first = endpoint not in self._told
                self._told.add(endpoint)
            if first:
                log.info("pacing SSH handshakes to %s: at most %d at once (sshd's default MaxStartups "
                         "drops new connections beyond 10)", endpoint, self._limit)
            if not sem.acquire(timeout=max(0.0, deadline - time.monotonic())):
                raise HostTimeout(f"no free handshake slot for {endpoint} before the connect deadline")
        try:
            yield
        finally:
            sem.release()


def _await_banner(sock: socket.socket, endpoint: str, deadline: float) -> None:
    """Wait for sshd's first bytes without consuming them: nothing, or MaxStartups' note, is a drop."""
    timeout = max(0.1, deadline - time.monotonic())
    silent = HostTimeout(f"no SSH banner from {endpoint} within {timeout:.0f} s "
                         "(connected, but the host did not complete the SSH handshake)")
    sock.settimeout(timeout)
    try:
        head = sock.recv(64, socket.MSG_PEEK)
    except TimeoutError:
        raise silent from None
    except ConnectionResetError:
        head = b""
    except OSError:
        return  # Paramiko reports it in its words
    if not head or head.startswith(b"Exceeded MaxStartups"):
        # At the deadline the watchdog shuts the socket: that end of file is ours, not sshd's.
        raise silent if time.monotonic() >= deadline - 0.05 else Dropped(endpoint)
