"""The bus on a broker that wants a password, over TLS and without: a real Mosquitto with a
password file (made by ``mosquitto_passwd``), no anonymous access, one TLS listener
(certificates made with the openssl command) and one plain one. The switch and the LESC
publish with the credentials from the URL or from the environment; a wrong password, a missing
one or an untrusted certificate is one sentence in the log and in ``status`` while the switch
goes on serving; and the password is never printed or logged."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lesc_daemon.daemon import DaemonConfig, running
from nlets_sim.bus.broker import LocalBroker, free_port
from nlets_sim.link.terminal import Terminal
from nlets_sim.switch.admin import admin_request
from nlets_sim.switch.config import PINNED_CLOCK, Config
from nlets_sim.switch.directory import demo_key
from nlets_sim.switch.server import SwitchServer
from tests.bus_events import collecting
from tests.switch_process import ready_port, serve_command
from tests.test_events import AM_TO_NJ, IAQ, terminal
from tests.test_tls import self_signed

USER = "dispatch-lab"
PASSWORD = "Pw-7f3e-never-shown"
NLETS_SIM = (sys.executable, "-m", "nlets_sim")


class SecuredBroker(LocalBroker):
    """Mosquitto wanting a user name and password on both of its listeners: TLS on
    ``tls_port``, plain TCP on ``port``."""

    def __init__(self, data_dir: Path, cert: Path, key: Path, passwords: Path) -> None:
        super().__init__(data_dir)
        self.tls_port = free_port()
        self.cert, self.key, self.passwords = cert, key, passwords

    def config_text(self) -> str:
        secured = ["allow_anonymous false", f"password_file {self.passwords}"]
        return "\n".join(
            [
                "per_listener_settings true",
                f"user {pwd.getpwuid(os.getuid()).pw_name}",  # else root's mosquitto drops to one
                "persistence false",
                "log_dest stderr",
                f"listener {self.tls_port} 127.0.0.1",
                *secured,
                f"certfile {self.cert}",
                f"keyfile {self.key}",
                f"listener {self.port} 127.0.0.1",
                *secured,
                "",
            ]
        )

    def ports(self) -> tuple[int, ...]:
        return (self.tls_port, self.port)

    def url_for(self, *, tls: bool = False, password: str | None = PASSWORD) -> str:
        credentials = f"{USER}:{password}@" if password is not None else ""
        scheme, port = ("mqtts", self.tls_port) if tls else ("mqtt", self.port)
        return f"{scheme}://{credentials}127.0.0.1:{port}"


@dataclass(frozen=True)
class Secured:
    broker: SecuredBroker
    ca: Path  # the broker's own (self-signed) certificate
    stranger: Path  # a CA that did not sign it


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    directory = tmp_path_factory.mktemp("secured")
    cert, key = self_signed(directory, "broker")
    stranger, _ = self_signed(directory, "stranger")
    passwords = directory / "passwords"
    subprocess.run(
        ["mosquitto_passwd", "-c", "-b", str(passwords), USER, PASSWORD],
        check=True,
        capture_output=True,
    )
    broker = SecuredBroker(directory / "broker", cert, key, passwords)
    broker.start()
    try:
        yield Secured(broker, cert, stranger)
    finally:
        broker.stop()


def without_password(text: str) -> str:
    assert PASSWORD not in text
    return text


async def switch_status(data_dir: Path) -> dict[str, Any]:
    return await admin_request(Config(data_dir=data_dir).admin_path, {"command": "status"})


async def wait_status(
    data_dir: Path, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30.0
) -> dict[str, Any]:
    """The switch's status once ``predicate`` holds of it."""
    async with asyncio.timeout(timeout):
        while not predicate(status := await switch_status(data_dir)):
            await asyncio.sleep(0.05)  # polling the switch's own answer: nothing to wait on
    return status


async def status_text(data_dir: Path) -> str:
    """``nlets-sim status`` as a user runs it."""
    process = await asyncio.create_subprocess_exec(
        *NLETS_SIM, "status", "--data-dir", str(data_dir), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    return without_password(out.decode())


@dataclass(frozen=True)
class Served:
    port: int
    data_dir: Path
    log: Path  # what the switch wrote to its standard error

    async def terminal(self, ori: str) -> Terminal:
        connected = Terminal("127.0.0.1", self.port, ori, demo_key(ori))
        await connected.connect()
        return connected


@contextlib.asynccontextmanager
async def serving(
    tmp_path: Path, node: str, *extra: str, env: dict[str, str] | None = None
) -> AsyncIterator[Served]:
    """``nlets-sim serve --node NODE`` in its own process, its log captured in a file."""
    data_dir, log_path = tmp_path / node, tmp_path / f"{node}.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *serve_command(data_dir, "--node", node, *extra),
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            env={**os.environ, **(env or {})},
        )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(30):
            port = ready_port(await process.stdout.readline())
        yield Served(port, data_dir, log_path)
    finally:
        process.terminate()
        await process.wait()


async def test_switch_and_lesc_publish_over_tls_with_the_password_from_the_url(
    tmp_path: Path, secured: Secured, lesc_config: Callable[..., DaemonConfig]
) -> None:
    url = secured.broker.url_for(tls=True)
    server = SwitchServer(
        Config(
            port=0,
            data_dir=tmp_path / "switch",
            clock=PINNED_CLOCK,
            mqtt=url,
            mqtt_ca=secured.ca,
            node="tls-switch",
        )
    )
    await server.start()
    lesc = lesc_config(port=server.port, mqtt=url, node="tls-lesc", mqtt_ca=secured.ca)
    try:
        async with collecting(url, ca=secured.ca) as bus, running(lesc):
            ny = await terminal(server, "NY0303000")
            await ny.request(IAQ, count=2)
            await bus.wait_for(lambda _: bool(bus.of("query-answered") and bus.of("delivered")))
            await ny.close()
        status = server.status()["events"]
    finally:
        await server.stop()
    assert {e["node"] for e in bus.of("accepted")} == {"tls-switch"}
    assert bus.of("query-answered")[0]["node"] == "tls-lesc"
    assert (status["broker"], status["connected"], status["problem"]) == (
        f"mqtts://127.0.0.1:{secured.broker.tls_port}",
        True,
        None,
    )
    without_password(repr(status) + repr(server.config) + repr(lesc))


async def test_serve_takes_the_credentials_from_the_environment_and_never_shows_them(
    tmp_path: Path, secured: Secured
) -> None:
    url = secured.broker.url_for(tls=True, password=None).replace(f"{USER}@", "")
    env = {"NLETS_MQTT_USERNAME": USER, "NLETS_MQTT_PASSWORD": PASSWORD}
    async with (
        serving(tmp_path, "env", "--mqtt", url, "--mqtt-ca", str(secured.ca), env=env) as switch,
        collecting(secured.broker.url_for(tls=True), "nlets/v2/env/#", secured.ca) as bus,
    ):
        ny = await switch.terminal("NY0303000")
        await ny.request(AM_TO_NJ)
        await bus.wait_for(lambda _: bool(bus.of("accepted")))
        text = await status_text(switch.data_dir)
        await ny.close()
    assert f"events: node env, broker {url} connected, published " in text
    logged = without_password(switch.log.read_text())
    assert "events link to the broker up" in logged
    assert "down" not in logged


@pytest.mark.parametrize(
    ("case", "why"),
    [
        ("wrong password", "the broker {plain} refused the user name or password"),
        ("no password", "the broker {plain} wants a user name and password: give them in the URL"),
        ("untrusted certificate", "the certificate of the broker {tls} is not trusted ("),
    ],
)
async def test_a_refused_link_is_one_sentence_and_the_switch_serves_on(
    tmp_path: Path, secured: Secured, case: str, why: str
) -> None:
    broker = secured.broker
    options = {
        "wrong password": ("--mqtt", broker.url_for(password="not-" + PASSWORD)),
        "no password": ("--mqtt", broker.url_for(password=None).replace(f"{USER}@", "")),
        "untrusted certificate": (
            *("--mqtt", broker.url_for(tls=True), "--mqtt-ca", str(secured.stranger)),
        ),
    }[case]
    why = why.format(
        plain=f"mqtt://127.0.0.1:{broker.port}", tls=f"mqtts://127.0.0.1:{broker.tls_port}"
    )
    async with serving(tmp_path, "refused", *options, "--event-buffer", "4") as switch:
        data_dir = switch.data_dir
        await wait_status(data_dir, lambda s: why in (s["events"]["problem"] or ""))
        ny = await switch.terminal("NY0303000")
        nj = await switch.terminal("NJNLETS00")
        for number in range(3):  # 2 logons, then 3 x (accepted, delivered): 8 events
            await ny.send(AM_TO_NJ.replace(b"*A1", f"*R{number}".encode()))
            await ny.drain()
            await nj.receive()
        status = await wait_status(data_dir, lambda s: s["events"]["dropped"] == 4)
        text = await status_text(data_dir)
        await ny.close()
        await nj.close()
    events = status["events"]
    assert (events["connected"], events["published"], events["buffered"]) == (False, 0, 4)
    assert f"AWAY, published 0, buffered 4, dropped 4\n  why: {why}" in text
    logged = [line for line in without_password(switch.log.read_text()).splitlines() if why in line]
    assert len(logged) == 1, logged  # said once, not at every retry
    assert "events link to the broker down: " in logged[0]


async def test_watch_with_credentials_and_a_refused_password(
    tmp_path: Path, secured: Secured
) -> None:
    broker = secured.broker
    env = {**os.environ, "NLETS_MQTT_USERNAME": USER, "NLETS_MQTT_PASSWORD": PASSWORD}
    tls = f"mqtts://127.0.0.1:{broker.tls_port}"
    watcher = await asyncio.create_subprocess_exec(
        *(*NLETS_SIM, "watch", "--mqtt", tls, "--mqtt-ca", str(secured.ca), "--count", "1"),
        *("--node", "watched", "--kind", "accepted"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert watcher.stderr is not None
    said = await asyncio.wait_for(watcher.stderr.readline(), 30)
    assert said == f"watching nlets/v2/watched/accepted/+ on {tls}\n".encode()
    async with serving(tmp_path, "watched", "--mqtt", broker.url_for()) as switch:
        ny = await switch.terminal("NY0303000")
        await ny.request(AM_TO_NJ)
        out, _ = await asyncio.wait_for(watcher.communicate(), 30)
        await ny.close()
    assert out.decode().startswith("08:00:00 watched accepted  NY ori=NY0303000 ")
    refused = subprocess.run(
        [*NLETS_SIM, "watch", "--mqtt", broker.url_for(password="not-" + PASSWORD)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1
    assert without_password(refused.stderr) == (
        f"Error: the broker mqtt://127.0.0.1:{broker.port} refused the user name or password\n"
    )
    assert refused.stdout == ""
