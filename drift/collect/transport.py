"""SSH transport: the only module that imports Fabric.

Fabric gives us ~/.ssh/config (aliases, HostName, User, Port, IdentityFile, ProxyJump). What it
does not give us we add here: it hard-codes Paramiko's AutoAddPolicy and never loads known_hosts,
so every client (gateways included) gets our policy, fed from known_hosts files read once per run;
sockets get TCP_NODELAY (Nagle adds ~40 ms per exchange); and one watchdog per host closes the
connection at its deadline, so connect, banner, auth and the command are all bounded by it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import socket
import threading
import time
from pathlib import Path

import fabric
import paramiko

from drift.collect.inventory import Host
from drift.collect.known_hosts import KnownHosts
from drift.collect.runner import OUTPUT_CAP, ExecResult, HostKey
from drift.core.errors import AuthError, HostKeyError, HostTimeout, TransportError

_CHUNK = 1 << 16

# Paramiko logs failures from its own threads; without a handler Python prints them raw on
# stderr, beside (and before) our own clean message for the same failure.
logging.getLogger("paramiko").addHandler(logging.NullHandler())


def fingerprint(key: paramiko.PKey) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


class _Policy(paramiko.MissingHostKeyPolicy):  # type: ignore[misc]  # paramiko ships no types
    """Called by Paramiko only for hosts with no key of any type in known_hosts."""

    def __init__(self, known: KnownHosts, accept_new: bool, port: int):
        self.known = known
        self.accept_new = accept_new
        self.port = port

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        name = hostname.rsplit("]:", 1)[0].lstrip("[") if hostname.startswith("[") else hostname
        if self.accept_new:
            self.known.add(name, self.port, key.get_name(), key.get_base64())
            return
        keyscan = f"ssh-keyscan -p {self.port} {name}" if self.port != 22 else f"ssh-keyscan {name}"
        raise HostKeyError(
            f"unknown host key {key.get_name()} {fingerprint(key)} for {hostname}: not in {self.known.path}. "
            f"Check the fingerprint out of band, then add it (`{keyscan} >> {self.known.path}`), "
            'or opt in with host_key_policy = "accept-new"'
        )


class SSHSession:
    def __init__(self, conn: fabric.Connection, host_key: HostKey, watchdog: threading.Timer):
        self.conn = conn
        self.host_key: HostKey | None = host_key
        self._watchdog = watchdog

    def exec(self, script: bytes, deadline: float) -> ExecResult:
        transport = self.conn.client.get_transport()
        if transport is None or not transport.is_active():
            raise HostTimeout("connection closed before the collection ran (deadline reached)")
        try:
            chan = transport.open_session(timeout=max(0.1, deadline - time.monotonic()))
            chan.settimeout(0.2)
            # The login shell only starts sh; the script comes on stdin so no argv length limit.
            chan.exec_command("exec /bin/sh -s")
            chan.sendall(script)
            chan.shutdown_write()
            out, err = bytearray(), bytearray()
            while True:
                if time.monotonic() > deadline:
                    raise HostTimeout("collection did not finish before the host's deadline")
                while chan.recv_stderr_ready():
                    err += chan.recv_stderr(_CHUNK)
                try:
                    data = chan.recv(_CHUNK)
                except TimeoutError:
                    continue
                if not data:
                    break
                out += data
                if len(out) > OUTPUT_CAP:
                    raise TransportError(f"host output exceeded {OUTPUT_CAP >> 20} MiB; stopped reading")
            while chan.recv_stderr_ready():
                err += chan.recv_stderr(_CHUNK)
            status = chan.recv_exit_status()
            return ExecResult(bytes(out), bytes(err), status)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            if time.monotonic() >= deadline:
                raise HostTimeout("collection did not finish before the host's deadline") from None
            raise TransportError(f"SSH session failed: {exc}") from None

    def close(self) -> None:
        self._watchdog.cancel()
        self.conn.close()


class SSHConnector:
    """Opens one Fabric Connection per host. Shared by all worker threads of a run."""

    def __init__(self) -> None:
        self._config = fabric.Config()  # loads ~/.ssh/config and /etc/ssh/ssh_config once
        self._known: dict[Path, KnownHosts] = {}
        self._lock = threading.Lock()

    def known_hosts(self, path: str) -> KnownHosts:
        resolved = Path(path).expanduser()
        with self._lock:
            if resolved not in self._known:
                self._known[resolved] = KnownHosts(resolved)
            return self._known[resolved]

    def open(self, host: Host, deadline: float) -> SSHSession:
        s = host.ssh
        connect_deadline = min(deadline, time.monotonic() + s.connect_timeout)
        remaining = max(0.1, connect_deadline - time.monotonic())
        kwargs: dict[str, object] = {"banner_timeout": remaining, "auth_timeout": remaining}
        if s.identity_file:
            kwargs["key_filename"] = [str(Path(s.identity_file).expanduser())]
        conn = fabric.Connection(
            host.address, user=s.user, port=s.port, config=self._config, connect_kwargs=kwargs,
        )
        known = self.known_hosts(s.known_hosts)
        sockets: list[socket.socket] = []
        for hop in _hops(conn):
            self._guard(hop, known, s.host_key_policy == "accept-new")
        if conn.gateway is None:
            sock = self._dial(conn.host, int(conn.port), remaining, host)
            sockets.append(sock)
            conn.connect_kwargs["sock"] = sock
        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _kill, (conn, sockets))
        watchdog.daemon = True
        watchdog.start()
        try:
            conn.open()
        except BaseException as exc:
            watchdog.cancel()
            timed_out = time.monotonic() >= connect_deadline - 0.05
            conn.close()
            for sock in sockets:
                sock.close()
            raise _translate(exc, host, timed_out, remaining) from None
        _nodelay(conn)
        key = conn.client.get_transport().get_remote_server_key()
        return SSHSession(conn, HostKey(key.get_name(), fingerprint(key)), watchdog)

    def _guard(self, conn: fabric.Connection, known: KnownHosts, accept_new: bool) -> None:
        port = int(conn.port)
        conn.client.set_missing_host_key_policy(_Policy(known, accept_new, port))
        store = conn.client.get_host_keys()
        token = conn.host if port == 22 else f"[{conn.host}]:{port}"
        for entry in known.lookup(conn.host, port):
            if entry.revoked:
                continue
            try:
                key = paramiko.PKey.from_type_string(entry.key_type, base64.b64decode(entry.key_b64))
            except Exception:  # noqa: S112 (an unreadable line in known_hosts must not stop the run)
                continue
            store.add(token, entry.key_type, key)

    @staticmethod
    def _dial(address: str, port: int, timeout: float, host: Host) -> socket.socket:
        try:
            sock = socket.create_connection((address, port), timeout=timeout)
        except socket.gaierror:
            raise TransportError(f"cannot resolve {address!r}") from None
        except TimeoutError:
            raise HostTimeout(f"connect to {address}:{port} timed out after {timeout:.0f} s") from None
        except ConnectionRefusedError:
            raise TransportError(f"connection to {address}:{port} refused") from None
        except OSError as exc:
            raise TransportError(f"cannot connect to {address}:{port}: {exc.strerror or exc}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def _hops(conn: fabric.Connection) -> list[fabric.Connection]:
    hops = [conn]
    while isinstance(hops[-1].gateway, fabric.Connection):
        hops.append(hops[-1].gateway)
    return hops


def _nodelay(conn: fabric.Connection) -> None:
    for hop in _hops(conn):
        transport = hop.client.get_transport()
        sock = getattr(transport, "sock", None)
        if isinstance(sock, socket.socket):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _kill(conn: fabric.Connection, sockets: list[socket.socket]) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    for hop in _hops(conn):
        transport = hop.client.get_transport()
        if transport is not None:
            transport.close()


def _translate(exc: BaseException, host: Host, timed_out: bool, connect_timeout: float) -> Exception:
    if isinstance(exc, (HostKeyError, TransportError)):
        return exc
    if isinstance(exc, paramiko.BadHostKeyException):
        return HostKeyError(
            f"host key for {host.address} has CHANGED: known_hosts has {exc.expected_key.get_name()} "
            f"{fingerprint(exc.expected_key)}, the host offered {fingerprint(exc.key)}. This may be an "
            f"attack or a rebuilt host. If it was rebuilt, verify the new key and remove the old one "
            f"with `ssh-keygen -R {host.address} -f {host.ssh.known_hosts}`"
        )
    if isinstance(exc, paramiko.AuthenticationException):
        who = f"{host.ssh.user}@{host.address}" if host.ssh.user else host.address
        key = f" with {host.ssh.identity_file}" if host.ssh.identity_file else ""
        return AuthError(f"authentication failed for {who}{key}: {exc}")
    if timed_out or isinstance(exc, (socket.timeout, TimeoutError)):
        return HostTimeout(
            f"no SSH session with {host.address} within {connect_timeout:.0f} s "
            "(connected, but the host did not complete the SSH handshake)"
        )
    if isinstance(exc, paramiko.SSHException) and "banner" in str(exc).lower():
        return TransportError(f"{host.address} does not speak SSH: {exc}")
    if isinstance(exc, (paramiko.SSHException, OSError, EOFError)):
        return TransportError(f"SSH connection to {host.address} failed: {exc}")
    if isinstance(exc, Exception):
        return TransportError(f"SSH connection to {host.address} failed: {type(exc).__name__}: {exc}")
    raise exc
