"""A full disk under the LESC store, for real (a small tmpfs): the daemon acknowledges nothing
it could not commit, stays up and logged on, says in its log what is wrong, and answers
everything by itself once there is room; a ``kill -9`` while the disk is full loses nothing
either. Every IAQ is counted by its control field: one ACK and one RSP each."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

from formats.iar import parse_iar
from nlets_sim.link.terminal import Terminal
from tests.lesc_fixtures import catalogue_store
from tests.small_disk import fill, small_disk
from tests.switch_process import start_switch

IAQ_TEXT = (
    b"PUR/F.ATN/DET J SMITH.PHN/5185551212.NAM/DOE, JOHN A."
    b"DOB/19800115.SEX/M.POB/MX.CUS/Y.OFF/0399.ARN/012345678"
)
CANNOT_WRITE = "LESC store cannot write"


def iaq(number: int) -> bytes:
    return b"IAQ.NY0303000.AX.*Q%05d.TXT\r\n" % number + IAQ_TEXT


def wanted(numbers: range) -> Counter[tuple[str, str]]:
    return Counter({(f"Q{n:05d}", typ): 1 for n in numbers for typ in ("ACK", "RSP")})


class Daemon:
    """``lesc-daemon run`` in a subprocess; its log lines are kept, and waited for."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        self._reading = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, port: int, db: Path) -> Daemon:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "lesc_daemon", "run", "--switch", f"127.0.0.1:{port}"),
            *("--db", str(db), "--delay", "0-0.3"),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            async with self._changed:
                self.lines.append(line.decode(errors="replace"))
                self._changed.notify_all()

    async def wait_for(self, text: str, after: int = 0, timeout: float = 60) -> None:
        """Until a log line from ``after`` on says ``text``."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: any(text in x for x in self.lines[after:]))

    async def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        await self._reading


async def answers(police: Terminal, count: int) -> Counter[tuple[str, str]]:
    """The next ``count`` IARs, by control field and type (the switch's SMs aside)."""
    found: Counter[tuple[str, str]] = Counter()
    while sum(found.values()) < count:
        delivery = await police.receive(lambda d: d.message.mke == "IAR", timeout=60)
        found[(delivery.message.control or "", parse_iar(delivery.message.text).typ.value)] += 1
    return found


def make_room_for_nothing(db: Path, filler: Path) -> None:
    """Empty the WAL (so the next commit needs new blocks), then fill the disk."""
    with contextlib.closing(sqlite3.connect(db)) as probe:
        probe.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    fill(filler)


async def no_more(police: Terminal) -> None:
    """Nothing twice: the reply to a last AM comes before any further IAR."""
    await police.send(b"AM.NY0303000.VTINS07S0.*END.TXT\r\nEND")
    reply = await police.receive(lambda d: d.message.mke != "SM", timeout=60)
    assert reply.message.control == "END"


async def test_a_full_disk_under_the_lesc_store_loses_nothing(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "16m") as disk:
        db = disk / "lesc.sqlite3"
        catalogue_store(db).close()
        switch, port = await start_switch(tmp_path / "switch")
        daemon = await Daemon.start(port, db)
        police = Terminal("127.0.0.1", port, "NY0303000", "S3CRET")
        try:
            await police.connect()
            police.post(*(iaq(n) for n in range(20)))
            assert await answers(police, 40) == wanted(range(20))

            # Full: nothing is answered, the daemon says why and stays up; with room again
            # it answers every query by itself, once.
            make_room_for_nothing(db, disk / "filler")
            mark = len(daemon.lines)
            police.post(*(iaq(n) for n in range(20, 220)))
            await daemon.wait_for(CANNOT_WRITE, mark)
            assert "database or disk is full" in daemon.lines[-1]
            assert not [d for d in police.inbox if d.message.mke == "IAR"]
            (disk / "filler").unlink()
            assert await answers(police, 400) == wanted(range(20, 220))
            await daemon.wait_for("LESC store writable again", mark)
            assert daemon.process.returncode is None
            assert not [line for line in daemon.lines if "link lost" in line]
            await no_more(police)

            # Full again, and killed while full: what it had not committed was never
            # acknowledged, so the switch delivers it again to the next daemon.
            make_room_for_nothing(db, disk / "filler")
            mark = len(daemon.lines)
            police.post(*(iaq(n) for n in range(220, 320)))
            await daemon.wait_for(CANNOT_WRITE, mark)
            await daemon.kill()
            (disk / "filler").unlink()
            daemon = await Daemon.start(port, db)
            assert await answers(police, 200) == wanted(range(220, 320))
            await no_more(police)
            await police.close()
        finally:
            await daemon.kill()
            switch.terminate()
            await switch.wait()


def test_a_command_that_cannot_write_the_store_says_so_in_a_sentence(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", "1m") as disk:
        fill(disk / "filler")
        db = disk / "lesc.sqlite3"
        result = subprocess.run(
            [sys.executable, "-m", "lesc_daemon", "seed", "--db", str(db), "--persons", "10"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 1
        assert result.stderr == (
            f"Error: cannot write the LESC store {db} (database or disk is full); make room on"
            " its disk or mend the device, then run the command again\n"
        )
