"""Where a terminal finds the switch: ``HOST:PORT`` read from a command line, and the TLS
context it connects with. ``nlets_sim.link.terminal`` exports both too."""

from __future__ import annotations

import ssl
from pathlib import Path

MAX_PORT = 65_535


def parse_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``:PORT``) to a pair; a ``ValueError`` that says what is wrong."""
    host, colon, port = address.rpartition(":")
    if not colon:
        raise ValueError(f"{address!r} has no port: write HOST:PORT, e.g. 127.0.0.1:7700")
    if not port.isdigit() or not 0 < int(port) <= MAX_PORT:
        raise ValueError(f"{address!r}: the port must be a number from 1 to {MAX_PORT}")
    return host.strip("[]") or "127.0.0.1", int(port)


def client_tls_context(
    ca: Path | None, cert: Path | None = None, key: Path | None = None
) -> ssl.SSLContext | None:
    """A terminal's TLS context: trust ``ca`` (else the system's), present ``cert`` if given;
    None when neither is given (plain TCP)."""
    if ca is None and cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    if cert is not None:
        context.load_cert_chain(cert, key)
    return context
