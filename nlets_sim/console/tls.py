"""The TLS options of a terminal's command line (``--tls-ca --tls-cert --tls-key``) and the
client SSL context they make: shared by ``nlets-sim send/am/terminal/load/screen`` and
``lesc-daemon run``."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from nlets_sim.link.terminal import client_tls_context


def tls_path_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--tls-ca --tls-cert --tls-key``, handed to the command as the paths ``tls_ca``,
    ``tls_cert`` and ``tls_key`` (each None when not given)."""
    for option in reversed(
        (
            click.option(
                "--tls-ca",
                type=click.Path(exists=True, path_type=Path),
                help="Connect with TLS, trusting this PEM CA (or a self-signed certificate).",
            ),
            click.option(
                "--tls-cert",
                type=click.Path(exists=True, path_type=Path),
                help="Connect with TLS, presenting this PEM client certificate.",
            ),
            click.option(
                "--tls-key",
                type=click.Path(exists=True, path_type=Path),
                help="The client certificate's PEM key (if not in the certificate file).",
            ),
        )
    ):
        command = option(command)
    return command


def tls_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--tls-ca --tls-cert --tls-key``, handed to the command as ``tls`` (an SSL context, or
    None for plain TCP)."""

    @functools.wraps(command)
    def with_tls(
        *, tls_ca: Path | None, tls_cert: Path | None, tls_key: Path | None, **rest: Any
    ) -> None:
        try:
            tls = client_tls_context(tls_ca, tls_cert, tls_key)
        except (OSError, ssl.SSLError) as error:
            raise click.UsageError(f"TLS: {error}") from None
        command(tls=tls, **rest)

    return tls_path_options(with_tls)
