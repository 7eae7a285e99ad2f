"""A full disk under the journal, for real (a small tmpfs): the switch refuses what it cannot
store with ``NK``, acknowledges nothing it did not commit, keeps its links and timers alive,
says so in ``status``, and takes traffic again by itself once the disk has room; across a
``kill -9`` while the disk is full its ``LST`` never runs past what it stored. Every message
is counted by the number in its text: nothing lost, nothing twice (DESIGN "Persistence")."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

from formats.frames import Frame, FrameKind, FrameReader, build_frame
from nlets_sim.link.terminal import LinkClosed, Terminal
from tests.small_disk import fill, small_disk
from tests.switch_process import start_switch

PADDING = "X" * 900  # fills the disk in fewer messages


def message(number: int) -> bytes:
    return f"AM.NY0303000.NJNLETS00.TXT\r\nMESSAGE {number:05d} {PADDING}".encode()


def number_of(text: str) -> int:
    return int(text.split()[1])


async def settle(sender: Terminal, timeout: float = 15) -> bool:
    """Wait until everything sent is acknowledged (True) or the link closed (False)."""
    async with asyncio.timeout(timeout):
        await sender._wait(
            lambda: (not sender.unacked and not sender.backlog) or sender.closed_reason is not None
        )
    return sender.closed_reason is None


async def send_until_refused(sender: Terminal, first: int, limit: int = 3000) -> int:
    """Post numbered messages, 20 at a time, until the switch refuses one; returns the next
    number. A refusal is an NK naming the journal, then a close."""
    number = first
    while number < first + limit:
        sender.post(*(message(n) for n in range(number, number + 20)))
        number += 20
        if not await settle(sender):
            assert "SWITCH CANNOT STORE MESSAGES NOW" in (sender.closed_reason or "")
            assert "FULL" in (sender.closed_reason or "")
            await sender.abort()
            return number
    raise AssertionError("the switch never refused a message on a full disk")


async def reconnect_until_settled(sender: Terminal, attempts: int = 20) -> None:
    """Log on again (re-sending what was not acknowledged) until all of it is acknowledged."""
    for _ in range(attempts):
        try:
            await sender.connect()
        except LinkClosed:
            continue
        if await settle(sender):
            return
        await sender.abort()
    raise AssertionError("the switch did not take the messages once the disk had room")


async def heartbeat_after_logon(port: int, ori: str) -> bytes:
    """Log on with raw frames and wait for the switch's first HB: its timers run."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(build_frame(Frame(FrameKind.LI, 0, f"ORI/{ori}.KEY/K-{ori}".encode())))
    frames = FrameReader()
    kinds: list[FrameKind] = []
    try:
        async with asyncio.timeout(10):
            while FrameKind.HB not in kinds:
                kinds += [frame.kind for frame in frames.feed(await reader.read(65536))]
    finally:
        writer.close()
    assert kinds[0] is FrameKind.LA
    return b"HB"


def status_text(data_dir: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "nlets_sim", "status", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


async def test_full_disk_refuses_keeps_links_and_recovers_losing_nothing(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "4m") as disk:
        data_dir = disk / "switch"
        process, port = await start_switch(data_dir, "--heartbeat", "1")
        receiver = Terminal("127.0.0.1", port, "NJNLETS00", "K-NJNLETS00")
        sender = Terminal("127.0.0.1", port, "NY0303000", "S3CRET")
        await receiver.connect()
        await sender.connect()
        texts: list[str] = []

        async def receive_up_to(count: int) -> None:
            while len(texts) < count:
                texts.append((await receiver.receive(timeout=30)).message.text)

        try:
            sender.post(*(message(n) for n in range(20)))
            assert await settle(sender)
            assert "journal ok" in status_text(data_dir)

            # The disk fills: the switch says NK and closes that sender's link; others stay.
            fill(disk / "filler")
            sent = await send_until_refused(sender, 20)
            assert "journal CANNOT STORE" in status_text(data_dir)
            assert await heartbeat_after_logon(port, "CTNLETS00") == b"HB"
            assert receiver.closed_reason is None
            await sender.connect()  # a logon that needs no write is answered
            assert not await settle(sender)  # and what it sends again is still refused
            await sender.abort()

            # Room again: the same switch process takes the refused messages, once each.
            (disk / "filler").unlink()
            await reconnect_until_settled(sender)
            sender.post(*(message(n) for n in range(sent, sent + 20)))
            sent += 20
            assert await settle(sender)
            await receive_up_to(sent)
            assert sorted(map(number_of, texts)) == list(range(sent))
            assert "journal ok" in status_text(data_dir)

            # Full again, then kill -9 and a restart with room: LST stops at what was stored.
            fill(disk / "filler")
            refused_from = sent
            sent = await send_until_refused(sender, sent)
            process.send_signal(signal.SIGKILL)
            await process.wait()
            await receiver.wait_closed()
            await receiver.abort()
            (disk / "filler").unlink()
            process, port = await start_switch(data_dir, "--heartbeat", "1")
            sender.port = receiver.port = port
            lst = await sender.connect()
            assert refused_from <= lst < sent  # the refused messages were not stored
            assert await settle(sender)
            await receiver.connect()
            await receive_up_to(sent)
            assert sorted(map(number_of, texts)) == list(range(sent))
            await sender.close()
            await receiver.close()
        finally:
            process.send_signal(signal.SIGTERM)
            await process.wait()
