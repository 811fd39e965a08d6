"""TLS for the Q6000-E endpoints (`--tls`): a private CA, one server certificate for loopback.

With a state dir the CA is kept there, so clients that trust it keep trusting a restarted twin.
"""

from __future__ import annotations

import ssl
from pathlib import Path

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
