"""The switch's memory and disk at saturation: a switch process, one sender keeping its window
full of 250-byte AMs to two ORIs, one that reads everything and one that logs on, sends
heartbeats and never reads. Every ``--every`` seconds: the messages routed so far, the
switch's resident memory, the journal's file and its WAL.

    python -m bench.bench_saturation --seconds 180 [--no-stalled] [-- serve options]

``--no-stalled``: without the ORI that never reads (everything delivered is acknowledged, so
journal retention may remove it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from pathlib import Path

from formats.frames import Frame, FrameKind, build_frame
from nlets_sim.link.terminal import Terminal
from nlets_sim.switch.directory import demo_key
from tests.switch_process import start_switch

SENDER, READER, STALLED = "NY0010000", "NJ0010000", "PA0010000"
TEXT = "X" * 200


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def size_mb(path: Path) -> float:
    return path.stat().st_size / 1e6 if path.exists() else 0.0


async def stalled_terminal(port: int, heartbeat_s: float) -> None:
    """Log on, then send only heartbeats: never read a byte."""
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    logon = f"ORI/{STALLED}.KEY/{demo_key(STALLED)}".encode()
    writer.write(build_frame(Frame(FrameKind.LI, 0, logon)))
    with contextlib.suppress(asyncio.CancelledError):
        while True:
            await asyncio.sleep(heartbeat_s)
            writer.write(build_frame(Frame(FrameKind.HB)))
    writer.close()


async def run(
    seconds: float, every: float, data_dir: Path, extra: list[str], *, stalled: bool
) -> None:
    process, port = await start_switch(data_dir, "--heartbeat", "30", *extra)
    journal = data_dir / "journal.sqlite3"
    wal = data_dir / "journal.sqlite3-wal"
    reader = Terminal("127.0.0.1", port, READER, demo_key(READER))
    sender = Terminal("127.0.0.1", port, SENDER, demo_key(SENDER))
    await reader.connect()
    await sender.connect()
    destinations = f"{READER},{STALLED}" if stalled else READER
    message = f"AM.{SENDER}.{destinations}.TXT\r\n{TEXT}".encode()
    delivered = 0

    async def send() -> None:
        while True:
            await sender.send(message)

    async def read() -> None:
        nonlocal delivered
        while True:
            await reader.receive(timeout=None)
            delivered += 1

    print(f"{'s':>5} {'delivered':>10} {'msg/s':>7} {'RSS MB':>7} {'journal MB':>10} {'WAL MB':>7}")
    start = last = time.monotonic()
    last_count = 0
    async with asyncio.TaskGroup() as group:
        work = [send(), read(), *([stalled_terminal(port, 10)] if stalled else [])]
        tasks = [group.create_task(f) for f in work]
        while (now := time.monotonic()) - start < seconds:
            await asyncio.sleep(every)
            now = time.monotonic()
            rate = (delivered - last_count) / (now - last)
            last, last_count = now, delivered
            print(
                f"{now - start:5.0f} {delivered:10d} {rate:7.0f} {rss_mb(process.pid):7.1f}"
                f" {size_mb(journal):10.1f} {size_mb(wal):7.1f}",
                flush=True,
            )
        for task in tasks:
            task.cancel()
    process.terminate()
    await process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--every", type=float, default=15)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--no-stalled", action="store_true", help="no ORI that never reads")
    parser.add_argument("serve_options", nargs="*", help="after --: options for nlets-sim serve")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = arguments.data_dir or Path(scratch)
        asyncio.run(
            run(
                arguments.seconds,
                arguments.every,
                data_dir,
                arguments.serve_options,
                stalled=not arguments.no_stalled,
            )
        )


if __name__ == "__main__":
    main()
