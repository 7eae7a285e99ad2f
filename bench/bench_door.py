"""The switch's door under hostile input (issue 13), against ``nlets-sim serve`` in a
subprocess on loopback:

* log bytes per malformed frame: 100 connections each sending a 19-byte header with bytes
  outside ASCII, and what each gets back;
* logon guessing: wrong keys for one ORI, one connection each, for 3 s; how many are answered
  per second, how many of them the switch actually checked (``status``), and whether the right
  key is accepted right after;
* the cost of one key check at hash-key's scrypt cost and at the demo directory's.

Run: ``python -m bench.bench_door``."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from formats.frames import Frame, FrameKind, build_frame
from nlets_sim.switch.admin import admin_request
from nlets_sim.switch.key_hash import hash_key, verify_key

MALFORMED = b"NL1\xff\xfe00000000000000"


async def _exchange(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    answer = await reader.read(1000)
    writer.close()
    return answer


async def _measure(port: int, data_dir: Path, log_path: Path) -> None:
    before = log_path.stat().st_size
    answers = {await _exchange(port, MALFORMED) for _ in range(100)}
    await asyncio.sleep(0.5)  # let the switch write its last lines
    size = log_path.stat().st_size - before
    print(f"malformed header x100: answers {sorted(answers)}, log {size} bytes", end=" ")
    print(f"({size / 100:.0f} per frame)")
    guesses, start = 0, time.perf_counter()
    while time.perf_counter() - start < 3:
        li = build_frame(Frame(FrameKind.LI, 0, f"ORI/NY0303000.KEY/GUESS{guesses}".encode()))
        await _exchange(port, li)
        guesses += 1
    rate = guesses / (time.perf_counter() - start)
    right = await _exchange(port, build_frame(Frame(FrameKind.LI, 0, b"ORI/NY0303000.KEY/S3CRET")))
    status = await admin_request(data_dir / "admin.sock", {"command": "status"})
    logons = status["logons"]
    print(
        f"guessing NY0303000: {guesses} wrong keys in 3 s ({rate:.0f}/s answered), "
        f"{logons['failures']} checked, {logons['refused_while_locked']} refused while locked "
        f"out; then the right key gets {right[19:]!r}"
    )


def _key_check_ms(log2_n: int) -> float:
    stored = hash_key("S3CRET", log2_n=log2_n)
    times = []
    for n in range(7):
        start = time.perf_counter()
        verify_key(stored, f"WRONG{n}")  # wrong keys: never remembered
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, log_path = Path(tmp) / "switch", Path(tmp) / "switch.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - this interpreter, this project's module
                [
                    sys.executable,
                    "-m",
                    "nlets_sim",
                    "serve",
                    "--port",
                    "0",
                    "--data-dir",
                    str(data_dir),
                ],
                stdout=subprocess.PIPE,
                stderr=log,
            )
        try:
            assert process.stdout is not None
            port = int(process.stdout.readline().rsplit(b":", 1)[1])
            asyncio.run(_measure(port, data_dir, log_path))
        finally:
            process.terminate()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()
    for log2_n in (14, 10):
        print(f"key check, scrypt N=2^{log2_n}: {_key_check_ms(log2_n):.1f} ms (median of 7)")
    print(f"cpus {os.cpu_count()}")


if __name__ == "__main__":
    main()
