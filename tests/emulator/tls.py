"""TLS for the Q6000-E endpoints (`--tls`): a private CA, one server certificate for loopback.

With a state dir the CA is kept there, so clients that trust it keep trusting a restarted twin.

`ResettingSocket` is how the `tls_reset` setting resets handshakes. An `ssl.SSLContext` hook (the
`sni_callback`) could only fail a handshake with a TLS alert, and asyncio gives no per-connection
hook before it starts the handshake; so the listening socket itself decides, in `accept`, which
is a plain socket call the event loop makes for every new connection.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import struct
from pathlib import Path
from typing import Callable

import trustme

from .state import write_atomic

IDENTITIES = ("127.0.0.1", "::1", "localhost")


def _authority(state_dir: Path | None) -> trustme.CA:
    if state_dir is not None:
        cert, key = state_dir / "ca.pem", state_dir / "ca-key.pem"
        if cert.exists() and key.exists():
            return trustme.CA.from_pem(cert.read_bytes(), key.read_bytes())
        ca = trustme.CA(organization_name="vapix.q6000 device twin")
        write_atomic(key, ca.private_key_pem.bytes())
        write_atomic(cert, ca.cert_pem.bytes(), mode=0o644)
        return ca
    return trustme.CA(organization_name="vapix.q6000 device twin")


def server_context(state_dir: Path | None, ca_path: Path, listen: str) -> ssl.SSLContext:
    """An SSL context for the endpoints; the CA certificate is written to `ca_path`."""
    ca = _authority(state_dir)
    identities = IDENTITIES if listen in IDENTITIES else (*IDENTITIES, listen)
    leaf = ca.issue_cert(*identities)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    write_atomic(ca_path, ca.cert_pem.bytes(), mode=0o644)
    return context


log = logging.getLogger("twin")
RESET_READ_TIMEOUT = 5.0  # a connection to reset whose client never starts its handshake is closed after this


class ResettingSocket(socket.socket):
    """A listening socket whose `accept` resets the TLS handshake of a connection while `should_reset()`
    says so (the unit's `tls_reset`, which it counts down). Such a connection never reaches the event
    loop's TLS layer: its client's first handshake bytes (the ClientHello) are read, then the TCP
    connection is closed with a reset (RST, SO_LINGER 0), so the client sees the connection reset during
    its handshake. Every other connection is handed on untouched."""

    should_reset: Callable[[], bool] | None = None
    label = ""

    def accept(self):
        while True:
            conn, address = super().accept()  # BlockingIOError once no connection is waiting
            if self.should_reset is None or not self.should_reset():
                return conn, address
            log.debug("TLS handshake reset on %s (client %s)", self.label, address)
            _reset_after_hello(conn)


def _reset_after_hello(conn: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    conn.setblocking(False)
    fd = conn.fileno()

    def finish() -> None:
        loop.remove_reader(fd)
        timer.cancel()
        try:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        conn.close()

    def readable() -> None:
        try:
            conn.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        finish()

    timer = loop.call_later(RESET_READ_TIMEOUT, finish)
    loop.add_reader(fd, readable)
