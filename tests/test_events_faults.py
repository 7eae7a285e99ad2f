"""The event stream when the broker goes away: the switch goes on serving, counts what it could
not publish, and catches up when the broker comes back; with the broker up, nothing is dropped
even when the switch runs flat out. A real Mosquitto, killed with SIGKILL."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from nlets_sim.bus.broker import LocalBroker
from nlets_sim.link.terminal import Terminal
from nlets_sim.switch.server import SwitchServer
from tests.bus_events import collecting, gapless
from tests.test_events import bus_config, terminal


def am(number: int) -> bytes:
    return f"AM.NY0303000.NJNLETS00.*C{number}.TXT\r\nMSG-{number:05d}".encode()


async def deliver(ny: Terminal, nj: Terminal, numbers: range) -> list[str]:
    """Post an AM for each number from NY to NJ; the ids NJ receives, in order."""
    ny.post(*(am(number) for number in numbers))
    await ny.drain(timeout=60)
    return [(await nj.receive(timeout=60)).message.text for _ in numbers]


async def status_cli(server: SwitchServer) -> tuple[str, dict[str, Any]]:
    """``nlets-sim status`` and ``status --json``, run as a user runs them."""
    outputs = []
    for extra in ((), ("--json",)):
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "nlets_sim", "status"),
            *("--data-dir", str(server.config.data_dir), *extra),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await process.communicate()
        assert process.returncode == 0
        outputs.append(out.decode())
    return outputs[0], json.loads(outputs[1])


async def test_broker_killed_mid_stream_switch_serves_and_counts_drops(tmp_path: Path) -> None:
    broker = LocalBroker(tmp_path / "broker")
    broker.start()
    server = SwitchServer(bus_config(tmp_path, broker.url, "killed", event_buffer=10))
    await server.start()
    publisher = server.publisher
    assert publisher is not None
    try:
        async with collecting(broker.url) as bus:
            ny = await terminal(server, "NY0303000")
            nj = await terminal(server, "NJNLETS00")
            assert await deliver(ny, nj, range(1)) == ["MSG-00000"]
            await bus.wait_for(lambda seen: len(bus.of("delivered")) == 1 and gapless(seen))
            before = len(bus.events)
            broker.kill()
            await asyncio.wait_for(publisher.wait_link(up=False), 10)
        # 30 messages while the broker is away: 60 events, 10 of them held
        texts = await deliver(ny, nj, range(1, 31))
        assert texts == [f"MSG-{number:05d}" for number in range(1, 31)]
        text, status = await status_cli(server)
        assert status["events"]["connected"] is False
        assert (status["events"]["buffered"], status["events"]["dropped"]) == (10, 50)
        assert f"broker {broker.url} AWAY, published {before}, buffered 10, dropped 50" in text
        broker.start()
        await asyncio.wait_for(publisher.wait_link(up=True), 30)
        assert await publisher.drained(10)
        async with collecting(broker.url) as bus:
            assert await deliver(ny, nj, range(31, 32)) == ["MSG-00031"]
            await bus.wait_for(lambda _: bool(bus.of("accepted")))
            (accepted,) = bus.of("accepted")
        assert accepted["n"] == before + 60 + 1  # numbered on after the 50 dropped
        _, status = await status_cli(server)
        assert status["events"]["dropped"] == 50
        assert status["events"]["published"] == before + 10 + 2
        await ny.close()
        await nj.close()
    finally:
        await server.stop()
        broker.stop()


async def test_broker_absent_at_start_then_caught_up(tmp_path: Path) -> None:
    broker = LocalBroker(tmp_path / "broker")  # not started yet
    server = SwitchServer(bus_config(tmp_path, broker.url, "late"))
    await server.start()
    publisher = server.publisher
    assert publisher is not None
    try:
        ny = await terminal(server, "NY0303000")
        nj = await terminal(server, "NJNLETS00")
        assert await deliver(ny, nj, range(5)) == [f"MSG-{n:05d}" for n in range(5)]
        assert publisher.status()["buffered"] == 2 + 10
        broker.start()
        await asyncio.wait_for(publisher.wait_link(up=True), 30)
        assert await publisher.drained(10)
        assert publisher.status()["published"] == 12
        assert publisher.dropped == 0
        await ny.close()
        await nj.close()
    finally:
        await server.stop()
        broker.stop()


async def test_no_event_dropped_at_full_rate(tmp_path: Path, nlets_broker: LocalBroker) -> None:
    count = 3000
    server = SwitchServer(bus_config(tmp_path, nlets_broker.url, "flat-out"))
    await server.start()
    try:
        async with collecting(nlets_broker.url, "nlets/v2/flat-out/#") as bus:
            ny = await terminal(server, "NY0303000")
            nj = await terminal(server, "NJNLETS00")
            texts = await deliver(ny, nj, range(count))
            assert texts == [f"MSG-{n:05d}" for n in range(count)]
            events = await bus.wait_for(lambda seen: len(seen) == 2 + 2 * count, timeout=60)
            assert gapless(events)
            assert (len(bus.of("accepted")), len(bus.of("delivered"))) == (count, count)
            await ny.close()
            await nj.close()
    finally:
        await server.stop()
    assert server.publisher is not None
    assert server.publisher.dropped == 0
