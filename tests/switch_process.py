"""A switch in its own process, as users run it: ``nlets-sim serve`` on a free port."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

READY = b"nlets-sim listening on "


def serve_command(data_dir: Path, *extra: str) -> list[str]:
    """``nlets-sim serve`` on a free port with the clock pinned."""
    return [
        sys.executable,
        "-m",
        "nlets_sim",
        "serve",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
        "--clock",
        "2026-01-01T08:00",
        *extra,
    ]


def ready_port(line: bytes) -> int:
    """The port of the ready line, or an error with what the switch said instead."""
    if not line.startswith(READY):
        raise RuntimeError(f"switch did not start: {line!r}")
    return int(line.rsplit(b":", 1)[1])


async def start_switch(data_dir: Path, *extra: str) -> tuple[asyncio.subprocess.Process, int]:
    """Start ``nlets-sim serve --port 0``; return the process and its port once it is ready."""
    process = await asyncio.create_subprocess_exec(
        *serve_command(data_dir, *extra),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(30):
            return process, ready_port(await process.stdout.readline())
    except (RuntimeError, TimeoutError):
        process.kill()
        await process.wait()
        raise


@contextlib.contextmanager
def running_switch(data_dir: Path, *extra: str) -> Iterator[int]:
    """``nlets-sim serve`` in a subprocess for the length of a ``with``; yields its port."""
    process = subprocess.Popen(
        serve_command(data_dir, *extra), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        assert process.stdout is not None
        yield ready_port(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
