"""Hostile and unusual input at the switch's door, over real loopback connections: bytes
outside ASCII in a header, a logon and its first messages in one write, a session taken over.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from formats.frames import EMPTY_KINDS_FROM_SWITCH, Frame, FrameKind, FrameReader, build_frame
from nlets_sim.link.terminal import Terminal
from nlets_sim.pytest_plugin import TerminalFactory
from nlets_sim.switch.config import Config, default_directory
from nlets_sim.switch.key_hash import hash_key, quick_to_verify
from nlets_sim.switch.server import SwitchServer

LOGON = build_frame(Frame(FrameKind.LI, 0, b"ORI/NY0303000.KEY/S3CRET"))


def am(seq: int, text: str) -> bytes:
    return build_frame(Frame(FrameKind.DT, seq, f"AM.NY0303000.NJNLETS00.TXT\r\n{text}".encode()))


async def frames_until_close(reader: asyncio.StreamReader, count: int = 100) -> list[Frame]:
    """What the switch sends, read as a terminal reads it, until it closes (or ``count``)."""
    frames: list[Frame] = []
    parser = FrameReader(empty_kinds=EMPTY_KINDS_FROM_SWITCH)
    async with asyncio.timeout(10):
        while len(frames) < count and (chunk := await reader.read(65536)):
            frames.extend(parser.feed(chunk))
    return frames


@pytest.mark.parametrize(
    ("wire", "reason"),
    [
        (b"NL1\xff\xfe00000000000000", b"UNKNOWN FRAME KIND ??"),
        (b"NL\xe9LI00000000000000", b"UNSUPPORTED VERSION ?"),
        (b"NL1DT0000\xc3\xa9\x00\x01000000", b"BAD SEQ FIELD 0000????"),
        (b"NL1DT00000001\r\n\x80\x81\x82\x83", b"BAD LENGTH FIELD ??????"),
    ],
)
async def test_a_header_with_bytes_outside_ascii_gets_nk_with_an_ascii_reason(
    nlets_switch: SwitchServer, nlets_terminal: TerminalFactory, wire: bytes, reason: bytes
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", nlets_switch.port)
    writer.write(wire)
    assert await frames_until_close(reader) == [Frame(FrameKind.NK, 0, reason)]
    writer.close()
    assert (await nlets_terminal("NY0303000")).closed_reason is None


async def _logon_and_two_messages(
    nlets_switch: SwitchServer, nlets_terminal: TerminalFactory, *, byte_by_byte: bool
) -> None:
    nj = await nlets_terminal("NJNLETS00")
    reader, writer = await asyncio.open_connection("127.0.0.1", nlets_switch.port)
    wire = LOGON + am(1, "FIRST") + am(2, "SECOND")
    if byte_by_byte:
        for byte in wire:
            writer.write(bytes([byte]))
            await writer.drain()
    else:
        writer.write(wire)
    texts = [(await nj.receive()).message.text for _ in range(2)]
    assert texts == ["FIRST", "SECOND"]
    writer.write(build_frame(Frame(FrameKind.LO)))
    frames = await frames_until_close(reader)
    assert frames[0] == Frame(FrameKind.LA, 0, b"LST/00000000.HBI/30")
    assert all(frame.kind is FrameKind.AK for frame in frames[1:])
    assert frames[-1] == Frame(FrameKind.AK, 2)
    writer.close()


async def test_a_logon_and_two_messages_in_one_write_are_all_served(
    nlets_switch: SwitchServer, nlets_terminal: TerminalFactory
) -> None:
    """The DTs behind the LI wait until the logon is decided, then are routed: LA, then AK."""
    await _logon_and_two_messages(nlets_switch, nlets_terminal, byte_by_byte=False)


async def test_a_logon_and_two_messages_byte_by_byte_are_all_served(
    nlets_switch: SwitchServer, nlets_terminal: TerminalFactory
) -> None:
    await _logon_and_two_messages(nlets_switch, nlets_terminal, byte_by_byte=True)


async def test_a_refused_logon_with_messages_behind_it_gets_lj_only(
    nlets_switch: SwitchServer,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", nlets_switch.port)
    writer.write(build_frame(Frame(FrameKind.LI, 0, b"ORI/NY0303000.KEY/NOPE")) + am(1, "X"))
    assert await frames_until_close(reader) == [Frame(FrameKind.LJ, 0, b"BAD KEY")]
    writer.close()


async def test_a_bad_frame_behind_the_logon_gets_la_then_nk(nlets_switch: SwitchServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", nlets_switch.port)
    writer.write(LOGON + b"NL1ZZ00000000000000")
    assert await frames_until_close(reader) == [
        Frame(FrameKind.LA, 0, b"LST/00000000.HBI/30"),
        Frame(FrameKind.NK, 0, b"UNKNOWN FRAME KIND ZZ"),
    ]
    writer.close()


async def test_a_displaced_terminal_gets_lo_with_the_reason_before_the_close(
    nlets_switch: SwitchServer, nlets_terminal: TerminalFactory
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", nlets_switch.port)
    writer.write(LOGON + am(1, "BEFORE"))
    await nlets_terminal("NY0303000")  # takes the session over
    received = b""
    async with asyncio.timeout(10):
        while chunk := await reader.read(65536):
            received += chunk
    assert received.endswith(b"NL1LO00000000000018SESSION TAKEN OVER")
    kinds = [
        frame.kind for frame in FrameReader(empty_kinds=EMPTY_KINDS_FROM_SWITCH).feed(received)
    ]
    assert kinds == [FrameKind.LA, FrameKind.AK, FrameKind.DT, FrameKind.LO]  # DT: the SM .02.
    writer.close()


@pytest.fixture
def slow_key_config(nlets_config: Config, tmp_path: Path) -> Config:
    """NY0303000's key at hash-key's full cost (N=2**14), checked in a worker thread."""
    text = default_directory().read_text("utf-8")
    stored = hash_key("S3CRET")
    assert not quick_to_verify(stored, "S3CRET")
    start = text.index('ori = "NY0303000"')
    line = text.index("key_hash = ", start)
    end = text.index("\n", line)
    directory = tmp_path / "directory.toml"
    directory.write_text(f'{text[:line]}key_hash = "{stored}"{text[end:]}')
    return dataclasses.replace(nlets_config, directory=directory)


async def test_frames_behind_an_li_wait_for_a_key_checked_off_the_loop(
    slow_key_config: Config,
) -> None:
    switch = SwitchServer(slow_key_config)
    await switch.start()
    try:
        nj = Terminal("127.0.0.1", switch.port, "NJNLETS00", "K-NJNLETS00")
        await nj.connect()
        reader, writer = await asyncio.open_connection("127.0.0.1", switch.port)
        wrong, wrong_writer = await asyncio.open_connection("127.0.0.1", switch.port)
        writer.write(LOGON + am(1, "FIRST") + am(2, "SECOND"))
        wrong_writer.write(build_frame(Frame(FrameKind.LI, 0, b"ORI/NY0303000.KEY/NOPE")))
        assert [(await nj.receive()).message.text for _ in range(2)] == ["FIRST", "SECOND"]
        assert await frames_until_close(wrong) == [Frame(FrameKind.LJ, 0, b"BAD KEY")]
        writer.write(build_frame(Frame(FrameKind.LO)))
        frames = await frames_until_close(reader)
        assert frames[0] == Frame(FrameKind.LA, 0, b"LST/00000000.HBI/30")
        assert frames[-1] == Frame(FrameKind.AK, 2)
        writer.close()
        wrong_writer.close()
        await nj.close()
    finally:
        await switch.stop()
