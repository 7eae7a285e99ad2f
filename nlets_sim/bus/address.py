"""A broker's address: ``mqtt://[USER[:PASSWORD]@]HOST[:PORT]`` or ``mqtts://`` for TLS.

The user name and password come from the URL or, when it has none, from the environment
(``NLETS_MQTT_USERNAME``, ``NLETS_MQTT_PASSWORD``). ``str()`` of an address never shows them.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_URL = "mqtt://127.0.0.1:1883"
USERNAME_ENV = "NLETS_MQTT_USERNAME"
PASSWORD_ENV = "NLETS_MQTT_PASSWORD"  # noqa: S105 - the variable's name, not a password
PORTS = {"mqtt": 1883, "mqtts": 8883}


class BadBrokerUrl(ValueError):
    """The broker URL cannot be used; the message says why, without its credentials."""


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool = False
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    ca: Path | None = None  # PEM CA the broker's certificate must chain to (mqtts)

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"

    def tls_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        return ssl.create_default_context(cafile=self.ca)


def parse_broker_url(url: str, ca: Path | None = None) -> BrokerAddress:
    """The address in ``url``; credentials missing from it are taken from the environment."""
    parts = urlsplit(url)
    if parts.scheme not in PORTS:
        raise BadBrokerUrl(f"broker URL must start with mqtt:// or mqtts://, not {_safe(url)!r}")
    try:
        port = parts.port or PORTS[parts.scheme]
    except ValueError:
        raise BadBrokerUrl(f"broker URL {_safe(url)!r} has a bad port") from None
    if not parts.hostname:
        raise BadBrokerUrl(f"broker URL {_safe(url)!r} names no host")
    if parts.path not in {"", "/"}:
        raise BadBrokerUrl(f"broker URL {_safe(url)!r} must not have a path")
    username = unquote(parts.username) if parts.username else os.environ.get(USERNAME_ENV)
    password = unquote(parts.password) if parts.password else os.environ.get(PASSWORD_ENV)
    if ca is not None and parts.scheme != "mqtts":
        raise BadBrokerUrl("--mqtt-ca needs an mqtts:// broker URL")
    return BrokerAddress(parts.hostname, port, parts.scheme == "mqtts", username, password, ca)


def _safe(url: str) -> str:
    """``url`` without anything before an ``@`` (user name and password)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "..." if "@" in url else url
    return f"{scheme}://{rest.rpartition('@')[2]}"
