"""A local Mosquitto 2 broker for the switch: its configuration, and how to run it.

The broker listens on 127.0.0.1 only, where anonymous clients are allowed (whoever can reach
loopback is on this machine already). A listener on another address is opened only with a
password file, and anonymous clients are refused there. Persistence (sessions, queued QoS 1
messages) lives in the data directory and is saved every few seconds; the switch's journal,
not the broker's persistence, is what correctness rests on.
"""

from __future__ import annotations

import pwd
import shutil
import socket
import subprocess
import time
from os import getuid
from pathlib import Path

DEFAULT_PORT = 1883
MOSQUITTO = "mosquitto"
AUTOSAVE_S = 5
QUEUED_PER_CLIENT = 100_000  # QoS 1 messages held for a client that is away or behind


class BrokerUnavailable(RuntimeError):
    """Mosquitto is not installed, or the broker did not come up."""


def mosquitto_path() -> str:
    path = shutil.which(MOSQUITTO) or shutil.which(f"/usr/sbin/{MOSQUITTO}")
    if path is None:
        raise BrokerUnavailable(
            "mosquitto is not installed (Debian/Ubuntu: apt-get install mosquitto)"
        )
    return path


def broker_config(
    data_dir: Path,
    port: int = DEFAULT_PORT,
    *,
    public_host: str | None = None,
    password_file: Path | None = None,
) -> str:
    """The text of ``mosquitto.conf`` for a broker keeping its state in ``data_dir``."""
    if public_host is not None and password_file is None:
        raise ValueError("a listener beyond 127.0.0.1 needs --password-file")
    lines = [
        "# Written by nlets-sim broker; rewritten at every start.",
        "per_listener_settings true",
        f"user {pwd.getpwuid(getuid()).pw_name}",
        "persistence true",
        f"persistence_location {data_dir.resolve()}/",
        f"autosave_interval {AUTOSAVE_S}",
        f"max_queued_messages {QUEUED_PER_CLIENT}",
        "max_inflight_messages 1000",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "",
        f"listener {port} 127.0.0.1",
        "allow_anonymous true",
    ]
    if public_host is not None:
        assert password_file is not None
        lines += [
            "",
            f"listener {port} {public_host}",
            "allow_anonymous false",
            f"password_file {password_file.resolve()}",
        ]
    return "\n".join(lines) + "\n"


def write_config(data_dir: Path, text: str) -> Path:
    """Write the configuration ``text`` into ``data_dir`` (created, owner-only); return its
    path."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / "mosquitto.conf"
    path.write_text(text, "ascii")
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def port_free(port: int) -> bool:
    """Whether a listener could bind 127.0.0.1:``port`` now (as Mosquitto does, reusing an
    address that only closed connections still hold)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def wait_listening(port: int, timeout_s: float = 10.0) -> None:
    """Return once something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise BrokerUnavailable(f"no broker listening on port {port}") from None
            time.sleep(0.02)  # polling a socket that is not there yet: nothing to wait on


class LocalBroker:
    """A Mosquitto process on 127.0.0.1 for tests and ``nlets-sim up``: ``start``, then
    ``url``; ``kill`` is kill -9; ``start`` again restarts it on the same port and state."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def config_text(self) -> str:
        """The broker's configuration (a broker with other listeners overrides it)."""
        return broker_config(self.data_dir, self.port)

    def ports(self) -> tuple[int, ...]:
        """The ports the broker listens on, all waited for by ``start``."""
        return (self.port,)

    def start(self, timeout_s: float = 10.0) -> None:
        for port in self.ports():  # else the wait below would take another broker for ours
            if not port_free(port):
                raise BrokerUnavailable(f"port {port} of 127.0.0.1 is in use: choose another")
        config = write_config(self.data_dir, self.config_text())
        log = (self.data_dir / "mosquitto.log").open("ab")
        with log:
            self.process = subprocess.Popen(  # noqa: S603 - our own config, mosquitto from PATH
                [mosquitto_path(), "-c", str(config)], stdout=log, stderr=log
            )
        try:
            for port in self.ports():
                wait_listening(port, timeout_s)
        except BrokerUnavailable:
            self.kill()
            raise

    def process_id(self) -> int:
        """The running broker's pid (0 when it is not running)."""
        return self.process.pid if self.process is not None else 0

    def kill(self) -> None:
        """SIGKILL: the broker gets no chance to save anything."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        """SIGTERM: the broker saves its state and exits."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None
