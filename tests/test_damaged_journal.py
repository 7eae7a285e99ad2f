"""A damaged journal: a switch that cannot start on it says so in one paragraph naming the file
and what to do (no traceback); ``nlets-sim journal check`` runs SQLite's integrity check; a
damaged page refuses only the ORI whose queue sits in it, and every other ORI is served."""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from nlets_sim.link.terminal import LogonRejected, Terminal
from nlets_sim.switch.config import PINNED_CLOCK, Config
from nlets_sim.switch.journal import Journal
from nlets_sim.switch.journal_port import QueuedRow
from nlets_sim.switch.server import SwitchServer
from nlets_sim.switch.sessions import QUEUE_UNREADABLE

PAGE = 4096  # SQLite's default page size, the journal's
AT = datetime(2026, 1, 1, 7, 0)


def queued_journal(path: Path, rows: dict[str, int]) -> None:
    """A journal holding ``rows[ori]`` deliveries of about a page each for each ORI, in turn;
    row ``n`` for ``ori`` has the text ``<ori>-ROW-<n>`` padded."""
    journal = Journal(path)
    for ori, count in rows.items():
        for seq in range(1, count + 1):
            text = f"{ori}-ROW-{seq:04d} " + "P" * 3000
            row = QueuedRow(0, ori, seq, ori, "AM", "NY0303000", None, AT, seq, text, None)
            journal.enqueue(None, row)
        journal.save_peer(ori, 0, count, 0)
    journal.close()  # the last connection checkpoints the WAL into the file


def nlets_sim(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nlets_sim", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    garbage = random.Random(13).randbytes(2 * PAGE)
    if how == "truncated":
        del data[len(data) // 3 :]
    elif how == "garbage at the start":
        data[: len(garbage)] = garbage
    else:  # the two pages holding NJNLETS00's tenth row: 8 KB in the middle of the file
        page = data.index(b"NJNLETS00-ROW-0010") // PAGE
        data[page * PAGE : (page + 2) * PAGE] = garbage
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "garbage at the start"])
def test_serve_on_a_damaged_journal_says_what_to_do_without_a_traceback(
    tmp_path: Path, how: str
) -> None:
    path = Config(data_dir=tmp_path).journal_path
    queued_journal(path, {"NJNLETS00": 40, "NY0303000": 40})
    damage(path, how)
    served = nlets_sim("serve", "--port", "0", "--data-dir", str(tmp_path))
    assert served.returncode == 1
    assert "Traceback" not in served.stderr
    assert served.stderr.startswith(f"Error: The journal {path} is damaged: SQLite says ")
    assert "nlets-sim journal check" in served.stderr
    assert len(served.stderr.strip().splitlines()) == 1  # one paragraph
    checked = nlets_sim("journal", "check", "--data-dir", str(tmp_path))
    assert checked.returncode == 1
    assert checked.stdout.startswith(f"{path}: ")
    assert "Traceback" not in checked.stderr


def test_journal_check_of_a_sound_journal_is_ok(tmp_path: Path) -> None:
    path = Config(data_dir=tmp_path).journal_path
    queued_journal(path, {"NJNLETS00": 3})
    checked = nlets_sim("journal", "check", "--data-dir", str(tmp_path))
    assert (checked.returncode, checked.stdout) == (0, f"{path}: OK\n")


async def test_a_damaged_page_refuses_only_the_ori_whose_queue_it_holds(tmp_path: Path) -> None:
    config = Config(port=0, data_dir=tmp_path, clock=PINNED_CLOCK)
    queued_journal(config.journal_path, {"NJNLETS00": 40, "NY0303000": 5})
    damage(config.journal_path, "8 KB in the middle")
    checked = nlets_sim("journal", "check", "--data-dir", str(tmp_path))
    assert checked.returncode == 1

    server = SwitchServer(config)
    await server.start()
    try:
        for _ in range(2):  # refused each time, with the reason, and the switch stays up
            damaged = Terminal("127.0.0.1", server.port, "NJNLETS00", "K-NJNLETS00")
            with pytest.raises(LogonRejected) as refused:
                await damaged.connect()
            assert refused.value.reason == QUEUE_UNREADABLE
        assert "malformed" in server.status()["journal"]["unreadable"]["NJNLETS00"]

        served = Terminal("127.0.0.1", server.port, "NY0303000", "S3CRET")
        await served.connect()
        texts = [(await served.receive()).message.text[:18] for _ in range(5)]
        assert texts == [f"NY0303000-ROW-{seq:04d}" for seq in range(1, 6)]
        await served.send(b"AM.NY0303000.NY0303000.*BACK.TXT\r\nSTILL SERVED")
        assert (await served.receive()).message.text == "STILL SERVED"
        await served.close()
    finally:
        await server.stop()
