"""The real server on a loopback port: each link rule of PROTOCOL §1 over TCP."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from formats.frames import Frame, FrameKind, FrameReader, build_frame
from nlets_sim.link.terminal import LinkClosed, LogonRejected, Terminal
from nlets_sim.pytest_plugin import TerminalFactory
from nlets_sim.switch.admin import AdminError, admin_request
from nlets_sim.switch.config import Config, DataDirInUse
from nlets_sim.switch.directory import demo_key
from nlets_sim.switch.server import SwitchServer
from tests.conftest import Handler

AM = b"AM.NY0303000.NJNLETS00.*B1.TXT\r\nHELLO"


async def read_frames(reader: asyncio.StreamReader, count: int) -> list[Frame]:
    frames: list[Frame] = []
    parser = FrameReader()
    async with asyncio.timeout(10):
        while len(frames) < count:
            chunk = await reader.read(65536)
            if not chunk:
                break
            frames.extend(parser.feed(chunk))
    return frames


async def test_two_terminals_exchange_an_am(nlets_terminal: TerminalFactory) -> None:
    nj = await nlets_terminal("NJNLETS00")
    ny = await nlets_terminal("NY0303000")
    await ny.send(AM)
    await ny.drain()
    delivery = await nj.receive()
    assert delivery.seq == 1
    assert delivery.raw == (
        b"AM.NY0303000.*B1\r\n08:00 01/01/2026 00001\r\n08:00 01/01/2026 00001 NJNLETS00\r\n"
        b"TXT\r\nHELLO"
    )


@pytest.mark.parametrize(
    ("ori", "key", "reason"),
    [
        ("ZZ0000000", "X", "UNKNOWN ORI"),
        ("NY0303000", "NOPE", "BAD KEY"),
        ("NL0000000", "K-NL0000000", "ORI NOT ALLOWED ON THIS LINK"),
    ],
)
async def test_logon_rejected_with_lj_text(
    nlets_switch: SwitchServer, ori: str, key: str, reason: str
) -> None:
    terminal = Terminal("127.0.0.1", nlets_switch.port, ori, key)
    with pytest.raises(LogonRejected) as rejected:
        await terminal.connect()
    assert rejected.value.reason == reason


async def test_first_frame_not_logon_gets_lj_and_close(nlets_switch: SwitchServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", nlets_switch.port)
    writer.write(build_frame(Frame(FrameKind.HB)))
    frames = await read_frames(reader, 2)
    assert frames == [Frame(FrameKind.LJ, 0, b"LOGON REQUIRED")]
    writer.close()


async def test_bad_frame_gets_nk_and_close_and_server_lives(
    nlets_switch: SwitchServer, nlets_terminal: TerminalFactory
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", nlets_switch.port)
    writer.write(b"NL2LI00000000000000")
    frames = await read_frames(reader, 2)
    assert frames == [Frame(FrameKind.NK, 0, b"UNSUPPORTED VERSION 2")]
    writer.close()
    assert (await nlets_terminal("NY0303000")).closed_reason is None


async def test_too_long_frame_is_refused_without_reading_it(nlets_switch: SwitchServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", nlets_switch.port)
    writer.write(b"NL1LI00000000999999")
    frames = await read_frames(reader, 2)
    assert frames == [Frame(FrameKind.NK, 0, b"FRAME TOO LONG 999999 > 65536")]
    writer.close()


@pytest.fixture
def nlets_config(switch_config: Callable[..., Config]) -> Config:
    """Short timers: the shell's timer is seen to fire in a fraction of a second (the timers
    themselves, to the millisecond, are in test_terminal_link)."""
    return switch_config(heartbeat_s=1, logon_timeout_s=0.1)


async def test_logon_timeout_gets_lj_logon_required(nlets_switch: SwitchServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", nlets_switch.port)
    frames = await read_frames(reader, 2)
    assert frames == [Frame(FrameKind.LJ, 0, b"LOGON REQUIRED")]
    writer.close()


async def test_switch_heartbeats_a_logged_on_link_it_has_nothing_for(
    nlets_switch: SwitchServer,
) -> None:
    """The shell arms the link's next deadline once logged on: HB after HBI (1 s here)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", nlets_switch.port)
    writer.write(build_frame(Frame(FrameKind.LI, 0, b"ORI/NY0303000.KEY/S3CRET")))
    frames = await read_frames(reader, 2)
    assert frames == [Frame(FrameKind.LA, 0, b"LST/00000000.HBI/1"), Frame(FrameKind.HB)]
    writer.close()


async def test_second_logon_takes_the_session_over(nlets_terminal: TerminalFactory) -> None:
    first = await nlets_terminal("NJNLETS00")
    second = await nlets_terminal("NJNLETS00")
    assert await first.wait_closed() == "switch logged off: SESSION TAKEN OVER"
    ny = await nlets_terminal("NY0303000")
    await ny.send(AM)
    assert (await second.receive()).message.text == "HELLO"


async def test_sequence_gap_closes_with_nk_reason(nlets_terminal: TerminalFactory) -> None:
    ny = await nlets_terminal("NY0303000")
    ny.send_raw(build_frame(Frame(FrameKind.DT, 5, AM)))
    assert await ny.wait_closed() == "switch sent NK SEQUENCE GAP EXPECTED 1"


async def test_unacked_messages_are_resent_after_reconnect(
    nlets_switch: SwitchServer, nlets_terminal: TerminalFactory
) -> None:
    """A terminal that loses its link keeps its un-acknowledged messages and sends them again;
    the switch routes each once."""
    nj = await nlets_terminal("NJNLETS00")
    ny = Terminal("127.0.0.1", nlets_switch.port, "NY0303000", "S3CRET")
    await ny.connect()
    await ny.send(AM)
    await ny.drain()
    await ny.abort()
    # as if the AK of 1 had been lost, and 2 sent just before the link broke
    ny.resume([(1, AM), (2, AM.replace(b"HELLO", b"SECOND"))])
    assert await ny.connect() == 1
    await ny.drain()
    texts = [(await nj.receive()).message.text for _ in range(2)]
    assert texts == ["HELLO", "SECOND"]
    await ny.close()


async def test_posted_messages_go_out_in_order_past_a_full_window(
    nlets_switch: SwitchServer, nlets_terminal: TerminalFactory
) -> None:
    """``post`` never waits: what does not fit the window goes out as AKs make room, in order,
    and a later ``send`` goes after it."""
    nj = await nlets_terminal("NJNLETS00")
    ny = Terminal("127.0.0.1", nlets_switch.port, "NY0303000", "S3CRET", window=2)
    await ny.connect()
    posted = [AM.replace(b"HELLO", f"POSTED {number}".encode()) for number in range(5)]
    ny.post(*posted[:3])
    ny.post(posted[3])
    ny.post(posted[4])
    assert len(ny.unacked) == 2
    assert len(ny.backlog) == 3
    assert await ny.send(AM.replace(b"HELLO", b"SENT")) == 6
    await ny.drain()
    texts = [(await nj.receive()).message.text for _ in range(6)]
    assert texts == [f"POSTED {number}" for number in range(5)] + ["SENT"]
    await ny.close()


async def test_posted_messages_wait_across_a_reconnect(
    nlets_switch: SwitchServer, nlets_terminal: TerminalFactory
) -> None:
    nj = await nlets_terminal("NJNLETS00")
    ny = Terminal("127.0.0.1", nlets_switch.port, "NY0303000", "S3CRET")
    await ny.connect()
    await ny.abort()
    ny.post(AM.replace(b"HELLO", b"FIRST"))
    ny.post(AM.replace(b"HELLO", b"SECOND"))
    assert (len(ny.backlog), len(ny.unacked)) == (2, 0)
    await ny.connect()
    await ny.drain()
    texts = [(await nj.receive()).message.text for _ in range(2)]
    assert texts == ["FIRST", "SECOND"]
    await ny.close()


async def test_status_and_remove_through_the_admin_socket(
    nlets_config: Config, nlets_terminal: TerminalFactory
) -> None:
    ny = await nlets_terminal("NY0303000")
    status = await admin_request(nlets_config.admin_path, {"command": "status"})
    assert status["online"] == {"NY0303000": 0}
    await admin_request(
        nlets_config.admin_path, {"command": "remove", "line": "NJ", "mke": "AM", "on": True}
    )
    (reply,) = await ny.request(AM)
    assert reply.message.text.startswith(".04. USER OUT OF SERVICE FOR MSG TYPE")
    with pytest.raises(AdminError, match="unknown line QQ"):
        await admin_request(
            nlets_config.admin_path, {"command": "remove", "line": "QQ", "mke": "AM", "on": True}
        )


async def test_two_hundred_concurrent_terminals(nlets_switch: SwitchServer) -> None:
    """200 terminals log on at once; each sends an AM to the next; every one arrives."""
    agencies = nlets_switch.switch.directory.agencies
    oris = sorted(ori for ori, agency in agencies.items() if agency.line not in {"NL", "AX"})[:200]
    assert len(oris) == 200
    terminals = [Terminal("127.0.0.1", nlets_switch.port, ori, demo_key(ori)) for ori in oris]
    await asyncio.gather(*(t.connect() for t in terminals))
    for index, terminal in enumerate(terminals):
        target = oris[(index + 1) % len(oris)]
        await terminal.send(f"AM.{terminal.ori}.{target}.TXT\r\nFROM {terminal.ori}".encode())
    received = await asyncio.gather(*(t.receive() for t in terminals))
    for index, delivery in enumerate(received):
        assert delivery.message.text == f"FROM {oris[index - 1]}"
    await asyncio.gather(*(t.close() for t in terminals))


async def test_closed_terminal_reports_why(nlets_terminal: TerminalFactory) -> None:
    ny = await nlets_terminal("NY0303000")
    await ny.close()
    with pytest.raises(LinkClosed):
        await ny.send(AM)


async def test_terminal_heartbeats_a_switch_that_says_nothing(
    fake_switch: Callable[[Handler], Awaitable[int]],
) -> None:
    """A fake switch that accepts the logon with HBI/1, then says nothing: the terminal's
    shell arms its link's deadline, and an HB comes after 1 s (the dead peer after 3 x HBI
    is in test_terminal_link, on a pinned clock)."""
    received: list[Frame] = []
    heartbeat = asyncio.Event()

    async def silent_switch(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        parser = FrameReader()
        writer.write(build_frame(Frame(FrameKind.LA, 0, b"LST/00000000.HBI/1")))
        while chunk := await reader.read(65536):
            received.extend(parser.feed(chunk))
            if received[-1].kind is FrameKind.HB:
                heartbeat.set()
        writer.close()

    terminal = Terminal("127.0.0.1", await fake_switch(silent_switch), "NY0303000", "S3CRET")
    await terminal.connect()
    await asyncio.wait_for(heartbeat.wait(), 10)
    assert [frame.kind for frame in received] == [FrameKind.LI, FrameKind.HB]
    await terminal.abort()


async def test_two_switches_never_share_a_data_directory(nlets_switch: SwitchServer) -> None:
    with pytest.raises(DataDirInUse, match="another switch is running on data directory"):
        SwitchServer(nlets_switch.config)


async def test_logon_that_gets_no_answer_times_out_and_closes_the_socket(
    fake_switch: Callable[[Handler], Awaitable[int]],
) -> None:
    """A switch that never answers the LI: the terminal gives up and closes its socket (the
    far end sees end of file) instead of leaving it open."""
    closed_by_terminal = asyncio.Event()

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(65536):
            pass
        closed_by_terminal.set()
        writer.close()
        await writer.wait_closed()

    terminal = Terminal("127.0.0.1", await fake_switch(mute), "NY0303000", "S3CRET")
    with pytest.raises(TimeoutError):
        await terminal.connect(timeout=0.2)
    await asyncio.wait_for(closed_by_terminal.wait(), 5)


async def test_terminal_refuses_a_delivery_that_is_not_an_output_message(
    fake_switch: Callable[[Handler], Awaitable[int]],
) -> None:
    """A DT whose payload has no output header gets NK with its seq; the next one is taken."""
    received: list[Frame] = []
    done = asyncio.Event()
    good = (
        b"AM.NJNLETS00\r\n08:00 01/01/2026 00001\r\n08:00 01/01/2026 00001 NY0303000\r\nTXT\r\nOK"
    )

    async def odd_switch(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        parser = FrameReader()
        writer.write(build_frame(Frame(FrameKind.LA, 0, b"LST/00000000.HBI/30")))
        writer.write(build_frame(Frame(FrameKind.DT, 1, b"GARBAGE")))
        writer.write(build_frame(Frame(FrameKind.DT, 2, good)))
        while chunk := await reader.read(65536):
            received.extend(parser.feed(chunk))
            if any(frame.kind is FrameKind.AK for frame in received):
                break
        done.set()
        writer.close()
        await writer.wait_closed()

    terminal = Terminal("127.0.0.1", await fake_switch(odd_switch), "NY0303000", "S3CRET")
    await terminal.connect()
    assert (await terminal.receive()).message.text == "OK"
    await asyncio.wait_for(done.wait(), 5)
    assert received[1:] == [
        Frame(FrameKind.NK, 1, b"NOT AN OUTPUT MESSAGE: NOT AN OUTPUT HEADER"),
        Frame(FrameKind.AK, 2),
    ]
    await terminal.abort()
