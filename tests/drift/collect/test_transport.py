"""The transport's own pieces on real local sockets: telling a MaxStartups drop from a silent host,
pacing handshakes per endpoint, and the cipher the client asks for."""

from __future__ import annotations

import socket
import threading
import time

import paramiko
import pytest

from drift.collect.pacing import Dropped, Pacer, _await_banner
from drift.collect.transport import _transport
from drift.core.errors import HostTimeout


def _server(first_bytes: bytes | None, close: bool) -> tuple[int, socket.socket]:
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        if first_bytes:
            conn.sendall(first_bytes)
        if close:
            conn.close()
        else:
            time.sleep(2)

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1], listener


@pytest.mark.parametrize("first, close, outcome", [
    (b"SSH-2.0-OpenSSH_9.2p1\r\n", False, None),
    (b"Exceeded MaxStartups\r\n", True, Dropped),
    (None, True, Dropped),  # closed at once: sshd's drop before it learnt to say why
    (None, False, HostTimeout),  # silent: a timeout, never retried
])
def test_the_first_bytes_tell_a_dropped_connection_from_a_silent_host(first, close, outcome):
    port, listener = _server(first, close)
    with listener, socket.create_connection(("127.0.0.1", port)) as sock:
        if outcome is None:
            _await_banner(sock, f"127.0.0.1:{port}", time.monotonic() + 2)
            assert sock.recv(64) == first  # peeked, not consumed: Paramiko reads the banner itself
        else:
            with pytest.raises(outcome):
                _await_banner(sock, f"127.0.0.1:{port}", time.monotonic() + 0.5)


def test_the_pacer_lets_at_most_its_limit_through_per_endpoint():
    pacer, lock = Pacer(limit=3), threading.Lock()
    inside, peak = {"a": 0, "b": 0}, {"a": 0, "b": 0}

    def handshake(endpoint: str) -> None:
        with pacer.slot(endpoint, time.monotonic() + 5):
            with lock:
                inside[endpoint] += 1
                peak[endpoint] = max(peak[endpoint], inside[endpoint])
            time.sleep(0.02)
            with lock:
                inside[endpoint] -= 1

    threads = [threading.Thread(target=handshake, args=(e,)) for e in "ab" * 12]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == {"a": 3, "b": 3}


def test_a_pacer_slot_past_the_deadline_is_a_timeout():
    pacer = Pacer(limit=1)
    with pacer.slot("x", time.monotonic() + 1), pytest.raises(HostTimeout), pacer.slot("x", time.monotonic() + 0.1):
        pass


@pytest.mark.parametrize("hop, host", [("bastion", "bastion"), ("deploy@bastion:2222", "bastion"),
                                       ("a@b@10.0.0.5", "10.0.0.5"), (" jump:22 ", "jump")])
def test_a_jump_hop_names_its_host_as_openssh_reads_it(hop, host):
    from drift.collect.transport import _hop_host

    assert _hop_host(hop) == host


@pytest.mark.parametrize("server_ciphers, agreed", [
    (("aes128-ctr", "aes256-ctr", "aes128-gcm@openssh.com"), "aes128-gcm@openssh.com"),
    (("aes128-ctr", "aes256-ctr"), "aes128-ctr"),  # a server without GCM: Paramiko's own order
])
def test_the_client_asks_for_aes_gcm_first_and_settles_for_what_the_server_has(server_ciphers, agreed):
    # A real key exchange with Paramiko's server side over a socket pair: GCM's MAC check runs in C,
    # a CTR cipher's in Python, per packet.
    ours, theirs = socket.socketpair()
    server = paramiko.Transport(theirs)
    server.add_server_key(paramiko.ECDSAKey.generate())
    server.get_security_options().ciphers = server_ciphers
    client = _transport(ours)
    try:
        server.start_server(event=threading.Event(), server=paramiko.ServerInterface())
        client.start_client(timeout=10)
        assert (client.local_cipher, client.remote_cipher) == (agreed, agreed)
    finally:
        client.close()
        server.close()
