"""The real switch (``nlets-sim serve`` in a subprocess, loopback, port 0) fed random and
mutated frames, seeded: every connection ends with NK or LJ, or stays served until the fuzzer
closes it; two terminals keep talking through it all; and its log holds no traceback and at
most one line per refused peer."""

from __future__ import annotations

import asyncio
import random
import subprocess
from pathlib import Path

from formats.errors import FrameError
from formats.frames import EMPTY_KINDS_FROM_SWITCH, Frame, FrameKind, FrameReader, build_frame
from nlets_sim.link.terminal import Terminal
from nlets_sim.switch.directory import demo_key
from tests.switch_process import ready_port, serve_command

SEED = 1313
CONNECTIONS = 240
AT_ONCE = 8
AM = b"AM.NY0303000.NJNLETS00.TXT\r\nFUZZ"
VALID = [
    build_frame(Frame(FrameKind.LI, 0, b"ORI/NY0303000.KEY/S3CRET")),
    build_frame(Frame(FrameKind.LI, 0, b"ORI/NY0303000.KEY/S3CRET.RST/Y")),
    build_frame(Frame(FrameKind.LI, 0, b"ORI/NY0303000.KEY/WRONG")),
    build_frame(Frame(FrameKind.DT, 1, AM)),
    build_frame(Frame(FrameKind.DT, 2, AM)),
    build_frame(Frame(FrameKind.AK, 1)),
    build_frame(Frame(FrameKind.NK, 1, b"NO")),
    build_frame(Frame(FrameKind.HB)),
    build_frame(Frame(FrameKind.LO)),
]


def mutate(rng: random.Random, wire: bytes) -> bytes:
    data = bytearray(wire)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(data) + 1)
        match rng.randrange(5):
            case 0 if data:  # any byte, ASCII or not, in place of one
                data[min(at, len(data) - 1)] = rng.randrange(256)
            case 1:
                data[at:at] = rng.randbytes(rng.randint(1, 8))
            case 2:
                del data[at : at + rng.randint(1, 8)]
            case 3:
                data = data[:at]
            case _:
                data[at:at] = rng.choice(VALID)
    return bytes(data)


def fuzz_input(rng: random.Random) -> bytes:
    match rng.randrange(4):
        case 0:
            return rng.randbytes(rng.randint(0, 60))
        case 1:
            return mutate(rng, rng.choice(VALID))
        case 2:  # a logon, then mutated frames behind it
            return VALID[0] + mutate(rng, b"".join(rng.choices(VALID[3:], k=rng.randint(1, 4))))
        case _:
            return mutate(rng, b"".join(rng.choices(VALID, k=rng.randint(1, 5))))


def frame_error_in(wire: bytes) -> bool:
    """True when the bytes hold a bad frame before any LO (after which nothing is read)."""
    reader = FrameReader()
    try:
        frames = reader.feed(wire)
    except FrameError:
        return True
    if any(frame.kind is FrameKind.LO for frame in frames):
        return False
    return reader.failed is not None


async def one_connection(port: int, wire: bytes, rng: random.Random) -> list[Frame]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    cuts = sorted(rng.sample(range(len(wire) + 1), min(len(wire) + 1, rng.randint(1, 3))))
    for start, end in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        writer.write(wire[start:end])
        await writer.drain()
    writer.write_eof()
    received = b""
    async with asyncio.timeout(20):
        while chunk := await reader.read(65536):
            received += chunk
    writer.close()
    return FrameReader(empty_kinds=EMPTY_KINDS_FROM_SWITCH).feed(received)  # never malformed


def check_ending(wire: bytes, frames: list[Frame]) -> None:
    refusals = [i for i, frame in enumerate(frames) if frame.kind in {FrameKind.NK, FrameKind.LJ}]
    for index in refusals:
        assert all(0x20 <= byte < 0x7F for byte in frames[index].payload), frames[index]
    if refusals:
        assert refusals == [len(frames) - 1], (wire, frames)  # the NK or LJ ends it
    if frame_error_in(wire):
        assert refusals, (wire, frames)


async def test_fuzzed_frames_get_nk_or_lj_and_the_switch_keeps_serving(tmp_path: Path) -> None:
    log_path = tmp_path / "switch.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            serve_command(tmp_path / "switch"), stdout=subprocess.PIPE, stderr=log
        )
    try:
        assert process.stdout is not None
        port = ready_port(process.stdout.readline())
        rng = random.Random(SEED)
        oh = Terminal("127.0.0.1", port, "OH0010000", demo_key("OH0010000"))
        pa = Terminal("127.0.0.1", port, "PA0010000", demo_key("PA0010000"))
        await oh.connect()
        await pa.connect()
        for batch in range(CONNECTIONS // AT_ONCE):
            wires = [fuzz_input(rng) for _ in range(AT_ONCE)]
            results = await asyncio.gather(*(one_connection(port, w, rng) for w in wires))
            for wire, frames in zip(wires, results, strict=True):
                check_ending(wire, frames)
            await oh.send(f"AM.OH0010000.PA0010000.TXT\r\nBATCH {batch}".encode())
            assert (await pa.receive()).message.text == f"BATCH {batch}"
        await oh.close()
        await pa.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
        assert process.stdout is not None
        process.stdout.close()
    log_text = log_path.read_text("utf-8", "replace")
    assert "Traceback" not in log_text
    assert "error" not in log_text.lower()
    refused = [line for line in log_text.splitlines() if "refused" in line or "violation" in line]
    assert len(refused) <= CONNECTIONS
