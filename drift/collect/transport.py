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
import random
import socket
import threading
import time
from pathlib import Path

import fabric
import paramiko

from drift.collect.inventory import Host
from drift.collect.known_hosts import KnownHosts
from drift.collect.pacing import Dropped, Pacer, _await_banner
from drift.collect.runner import OUTPUT_CAP, ExecResult, HostKey
from drift.core.errors import AuthError, HostKeyError, HostTimeout, TransportError
from drift.core.sanitize import clean

_CHUNK = 1 << 16
_BACKOFF_BASE = 0.1
_BACKOFF_CAP = 1.0

# What a run did about connections (pacing, retries); the CLI shows it with --verbose.
log = logging.getLogger("drift.collect")

# Paramiko logs failures from its own threads; without a handler Python prints them raw on
# stderr, beside (and before) our own clean message for the same failure.
logging.getLogger("paramiko").addHandler(logging.NullHandler())


# AES-GCM first: Paramiko decrypts and authenticates a GCM packet in one C call, where with a CTR
# cipher it compares every packet's MAC byte by byte in Python; a script's output arrives in
# hundreds of small packets, and that compare was an eighth of drift's CPU per host. A server
# without GCM (OpenSSH before 6.2) agrees on the next cipher in Paramiko's own order.
_AEAD = ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")


def _transport(sock: object, **kwargs: object) -> paramiko.Transport:
    transport = paramiko.Transport(sock, **kwargs)
    options = transport.get_security_options()
    options.ciphers = (*(c for c in _AEAD if c in options.ciphers), *(c for c in options.ciphers if c not in _AEAD))
    return transport


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
            if status == -1:  # Paramiko's "never received": the connection ended under the script
                if time.monotonic() >= deadline:
                    raise HostTimeout("collection did not finish before the host's deadline")
                if transport.is_active():  # sshd sent no exit-status: the shell died of a signal
                    raise TransportError(f"the collection script was killed on the host after {len(out)} bytes "
                                         "(no exit status); nothing kept")
                raise TransportError(f"the connection closed mid-transfer after {len(out)} bytes, before the "
                                     "script's exit status (the host or its sshd went away); nothing kept")
            return ExecResult(bytes(out), bytes(err), status)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            if time.monotonic() >= deadline:
                raise HostTimeout("collection did not finish before the host's deadline") from None
            raise TransportError(f"SSH session failed: {exc}") from None

    def close(self) -> None:
        self._watchdog.cancel()
        _close(self.conn)


class SSHConnector:
    """Opens one Fabric Connection per host. Shared by all worker threads of a run."""

    def __init__(self) -> None:
        self._configs: dict[str | None, fabric.Config] = {}
        self._known: dict[Path, KnownHosts] = {}
        self._pacer = Pacer()
        self._lock = threading.Lock()

    def config(self, path: str | None) -> fabric.Config:
        """~/.ssh/config and /etc/ssh/ssh_config (loaded once), or only the inventory's `config` file."""
        with self._lock:
            if path not in self._configs:
                runtime = str(Path(path).expanduser()) if path else None
                try:
                    self._configs[path] = fabric.Config(runtime_ssh_path=runtime)
                except OSError as exc:
                    raise TransportError(f"cannot read the ssh config file {path}: {exc.strerror or exc}") from None
            # A clone per connection: Fabric's Connection reads and sets values on the Config it is
            # given, and one shared by the worker threads raced ("No attribute or config key found
            # for 'user'" on one host in 38 through a bastion).
            return self._configs[path].clone()

    def known_hosts(self, path: str) -> KnownHosts:
        resolved = Path(path).expanduser()
        with self._lock:
            if resolved not in self._known:
                self._known[resolved] = KnownHosts(resolved)
            return self._known[resolved]

    def open(self, host: Host, deadline: float) -> SSHSession:
        connect_deadline = min(deadline, time.monotonic() + host.ssh.connect_timeout)
        attempt = 0
        while True:
            try:
                return self._open_once(host, deadline, connect_deadline)
            except Dropped as exc:
                # sshd's MaxStartups (default 10:30:100) drops new connections at random while
                # others are still in their handshake: a burst through one bastion meets it first.
                attempt += 1
                delay = min(_BACKOFF_CAP, _BACKOFF_BASE * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5)  # noqa: S311
                if time.monotonic() + delay >= connect_deadline - _BACKOFF_BASE:
                    raise TransportError(
                        f"{exc.endpoint} dropped the connection before the SSH handshake {attempt} times "
                        f"within {host.ssh.connect_timeout:.0f} s (sshd MaxStartups: too many connections "
                        "in their handshake at once)") from None
                log.info("%s: %s dropped the connection before the SSH handshake (sshd MaxStartups?); "
                         "retry %d in %.1f s", clean(host.name), exc.endpoint, attempt, delay)
                time.sleep(delay)

    def _open_once(self, host: Host, deadline: float, connect_deadline: float) -> SSHSession:
        s = host.ssh
        remaining = max(0.1, connect_deadline - time.monotonic())
        ours = [str(Path(s.identity_file).expanduser())] if s.identity_file else []
        kwargs: dict[str, object] = {"banner_timeout": remaining, "auth_timeout": remaining,
                                     "transport_factory": _transport}
        if ours:
            kwargs["key_filename"] = ours
        config = self.config(s.config)
        # The ssh config's ProxyJump too is built here: Fabric dials a multi-hop chain from its
        # last hop, where OpenSSH (and so the operator's ssh config) means the first.
        jump = s.proxy_jump or config.base_ssh_config.lookup(host.address).get("proxyjump")
        if jump and not s.proxy_jump and host.address in {_hop_host(h) for h in jump.split(",")}:
            jump = None  # a wildcard Host block that names the jump host itself: reach it directly
        gateway = _jump_chain(jump, config, kwargs) if jump else None
        conn = fabric.Connection(host.address, user=s.user, port=s.port, config=config, connect_kwargs=kwargs,
                                 gateway=gateway)
        known = self.known_hosts(s.known_hosts)
        hops = _hops(conn)
        for hop in hops:
            self._guard(hop, known, s.host_key_policy == "accept-new")
            if hop is not conn:  # jump hosts from ~/.ssh/config get no kwargs of ours otherwise
                keys = [*(hop.connect_kwargs.get("key_filename") or []), *ours]
                hop.connect_kwargs = {**kwargs, **hop.connect_kwargs}
                if keys:
                    hop.connect_kwargs["key_filename"] = list(dict.fromkeys(keys))
        sockets: list[socket.socket] = []
        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _kill, (conn, sockets))
        watchdog.daemon = True
        watchdog.start()
        try:
            # Outermost hop first: the one we dial ourselves, paced per endpoint; each inner hop
            # then opens through the one before it.
            for hop in reversed(hops):
                if hop is hops[-1] and not isinstance(hop.gateway, str):
                    endpoint = f"{hop.host}:{int(hop.port)}"
                    with self._pacer.slot(endpoint, connect_deadline):
                        sock = self._dial(hop.host, int(hop.port), remaining, host)
                        sockets.append(sock)
                        _await_banner(sock, endpoint, connect_deadline)
                        hop.connect_kwargs["sock"] = sock
                        hop.open()
                else:
                    hop.open()
        except BaseException as exc:
            watchdog.cancel()
            timed_out = time.monotonic() >= connect_deadline - 0.05
            _close(conn)
            for sock in sockets:
                sock.close()
            if isinstance(exc, Dropped):
                raise
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


def _jump_chain(spec: str, config: fabric.Config, kwargs: dict[str, object]) -> fabric.Connection | bool:
    """The inventory's proxy_jump, in OpenSSH's order: the first jump host is the one dialled."""
    if spec.strip().lower() == "none":
        return False  # Fabric: no gateway, even if ~/.ssh/config names one
    gateway: fabric.Connection | None = None
    for hop in (h.strip() for h in spec.split(",")):
        gateway = fabric.Connection(hop, config=config, connect_kwargs=dict(kwargs),
                                    gateway=gateway if gateway is not None else False)
    assert gateway is not None
    return gateway


def _hop_host(hop: str) -> str:
    """'user@host:port' -> 'host', as Fabric and OpenSSH read a ProxyJump hop."""
    return hop.strip().rsplit("@", 1)[-1].rsplit(":", 1)[0].strip("[]")


def _close(conn: fabric.Connection) -> None:
    """Fabric closes a connection but not its gateways: each jump host's transport is a thread and a socket."""
    for hop in _hops(conn):
        with contextlib.suppress(Exception):
            hop.close()


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
