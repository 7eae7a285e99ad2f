"""``nlets-sim broker`` and ``nlets-sim watch`` as a user runs them, and their mistakes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from nlets_sim.bus.address import BadBrokerUrl, parse_broker_url
from nlets_sim.bus.broker import LocalBroker, broker_config, free_port, wait_listening
from nlets_sim.switch.server import SwitchServer
from nlets_sim.tools.cli import main
from tests.bus_events import collecting
from tests.test_events import AM_TO_NJ, bus_config, terminal

NLETS_SIM = (sys.executable, "-m", "nlets_sim")


def test_broker_config_listens_on_loopback_and_keeps_state_in_the_data_dir(
    tmp_path: Path,
) -> None:
    text = broker_config(tmp_path, 1999)
    assert "listener 1999 127.0.0.1\nallow_anonymous true\n" in text
    assert f"persistence_location {tmp_path.resolve()}/\n" in text
    assert text.count("\nlistener ") == 1
    public = broker_config(tmp_path, 1999, public_host="0.0.0.0", password_file=tmp_path / "pw")
    assert "listener 1999 0.0.0.0\nallow_anonymous false\npassword_file " in public


async def test_broker_command_runs_mosquitto_in_the_foreground(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [*NLETS_SIM, "broker", "--data-dir", str(tmp_path / "b"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        assert line == f"nlets-sim broker: mqtt://127.0.0.1:{port} (state in {tmp_path / 'b'})\n"
        await asyncio.to_thread(wait_listening, port)
        async with collecting(f"mqtt://127.0.0.1:{port}"):
            pass  # a real MQTT broker answered CONNECT and SUBSCRIBE
        assert (tmp_path / "b" / "mosquitto.conf").exists()
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()  # type: ignore[union-attr]
    assert process.returncode == 0


async def test_watch_prints_one_line_per_event_and_json(
    tmp_path: Path, nlets_broker: LocalBroker
) -> None:
    server = SwitchServer(bus_config(tmp_path, nlets_broker.url, "watched"))
    await server.start()
    try:
        watchers = [
            await asyncio.create_subprocess_exec(
                *NLETS_SIM,
                *("watch", "--mqtt", nlets_broker.url, "--node", "watched"),
                *("--ori", "NJNLETS00", "--mke", "AM", "--kind", "accepted"),
                *("--count", "1", *extra),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for extra in ((), ("--json",))
        ]
        for watcher in watchers:  # subscribed once it says so
            assert watcher.stderr is not None
            line = await asyncio.wait_for(watcher.stderr.readline(), 30)
            assert line == f"watching nlets/v2/watched/accepted/+ on {nlets_broker.url}\n".encode()
        ny = await terminal(server, "NY0303000")
        await ny.request(AM_TO_NJ)
        outputs = await asyncio.wait_for(
            asyncio.gather(*(watcher.communicate() for watcher in watchers)), 10
        )
        await ny.close()
    finally:
        await server.stop()
    plain, as_json = (out.decode() for out, _ in outputs)
    assert plain == (
        "08:00:00 watched accepted  NY ori=NY0303000 sender=NY0303000 mke=AM dest=NJNLETS00 msg=1\n"
    )
    assert as_json.startswith('{"v": 2, "node": "watched", "kind": "accepted", "line": "NY", ')


@pytest.mark.parametrize(
    ("arguments", "sentence"),
    [
        (["serve", "--mqtt", "http://x"], "broker URL must start with mqtt:// or mqtts://"),
        (["serve", "--mqtt", "mqtt://u:secret@h:99999"], "has a bad port"),
        (["serve", "--mqtt", "mqtt://h", "--node", "a/b"], "node name 'a/b' must be"),
        (["watch", "--mqtt", "mqtt://127.0.0.1:1"], "nothing listens at mqtt://127.0.0.1:1"),
        (["broker", "--public-host", "0.0.0.0"], "needs --password-file"),
    ],
)
def test_cli_mistakes_get_one_sentence(arguments: list[str], sentence: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, [*arguments, *(["--data-dir", str(tmp_path)] if arguments[0] != "watch" else [])]
    )
    assert result.exit_code != 0
    assert sentence in result.output
    assert "secret" not in result.output
    assert "Traceback" not in result.output


def test_credentials_come_from_the_url_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    address = parse_broker_url("mqtt://ann:p%40ss@broker.example:1884")
    assert (address.username, address.password, address.port) == ("ann", "p@ss", 1884)
    assert "p@ss" not in repr(address)
    assert str(address) == "mqtt://broker.example:1884"
    monkeypatch.setenv("NLETS_MQTT_USERNAME", "bob")
    monkeypatch.setenv("NLETS_MQTT_PASSWORD", "hunter2")
    address = parse_broker_url("mqtts://broker.example")
    assert (address.username, address.password, address.port, address.tls) == (
        "bob",
        "hunter2",
        8883,
        True,
    )
    with pytest.raises(BadBrokerUrl, match=r"mqtt://broker\.example/x'? must not have a path"):
        parse_broker_url("mqtt://bob:hunter2@broker.example/x")
