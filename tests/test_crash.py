"""A ``kill -9`` of the switch mid-traffic loses no acknowledged message and, to a terminal that
de-duplicates by seq, delivers none twice (PROTOCOL §1.2, DESIGN "Persistence")."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from nlets_sim.link.terminal import LinkClosed, Terminal
from tests.switch_process import start_switch

TOTAL = 600
KILL_AFTER = 150


def message(number: int) -> bytes:
    return f"AM.NY0303000.NJNLETS00.TXT\r\nMESSAGE {number:04d}".encode()


async def test_sigkill_mid_traffic_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    process, port = await start_switch(tmp_path)
    receiver = Terminal("127.0.0.1", port, "NJNLETS00", "K-NJNLETS00")
    sender = Terminal("127.0.0.1", port, "NY0303000", "S3CRET")
    await receiver.connect()
    await sender.connect()

    async def send_from(first: int) -> int:
        """Send until the link drops; return the first number not handed to the terminal."""
        for number in range(first, TOTAL):
            try:
                await sender.send(message(number))
            except LinkClosed:
                return number
        return TOTAL

    texts: list[str] = []
    async with asyncio.TaskGroup() as group:
        sending = group.create_task(send_from(0))
        while len(texts) < KILL_AFTER:
            texts.append((await receiver.receive()).message.text)
        process.send_signal(signal.SIGKILL)
        await process.wait()
    next_number = sending.result()
    assert next_number < TOTAL, "the kill came after all traffic; raise TOTAL"
    await receiver.wait_closed()
    await sender.wait_closed()
    await receiver.abort()
    await sender.abort()

    process, port = await start_switch(tmp_path)
    try:
        sender.port = receiver.port = port
        await sender.connect()  # re-sends what the dead switch did not acknowledge
        await receiver.connect()
        assert await send_from(next_number) == TOTAL
        await sender.drain(timeout=30)
        while len(texts) < TOTAL:
            texts.append((await receiver.receive(timeout=30)).message.text)
        assert sorted(texts) == [f"MESSAGE {number:04d}" for number in range(TOTAL)]
        # Deliveries keep their order, so an extra copy would arrive before this marker.
        await sender.send(b"AM.NY0303000.NJNLETS00.TXT\r\nEND")
        assert (await receiver.receive()).message.text == "END"
        await sender.close()
        await receiver.close()
    finally:
        process.terminate()
        await process.wait()
