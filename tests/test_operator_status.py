"""Operator status messages and SM priority (PROTOCOL §2.4), counters set at start (§2.2)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from formats.frames import FrameKind
from formats.notices import IN_SERVICE, out_of_service
from nlets_sim.switch.config import ConfigError, checked_counters, load_config
from nlets_sim.tools.cli import main
from tests.small_disk import fill, small_disk
from tests.switch_harness import Harness, Wire
from tests.switch_process import running_switch

OUTAGE = "NLETS TEMPORARILY OUT OF SERVICE UNTIL 1400 EST"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def received(wire: Wire) -> list[tuple[int, str, str]]:
    """(seq, key, text) of each DT since the last take."""
    return [(seq, m.mke, m.text) for seq, m in wire.deliveries()]


def nj_behind_a_window_of_one(journal_dir: Path | None = None) -> tuple[Harness, Wire]:
    """NJ's control terminal with AM 1 in flight and AMs 2 and 3 waiting for the window (on
    a SQLite journal in ``journal_dir``, else in memory)."""
    harness = Harness(journal_dir, window=1)
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    nj.take()
    for number in (1, 2, 3):
        harness.send(ny, f"AM.NY0303000.NJ.TXT\r\nAM {number}".encode())
    assert received(nj) == [(1, "AM", "AM 1")]
    return harness, nj


def acknowledge_all(harness: Harness, wire: Wire, last: int) -> list[tuple[int, str, str]]:
    """Acknowledge seqs 1 to ``last`` one by one; what arrived in the meantime."""
    texts = []
    for seq in range(1, last + 1):
        harness.ack(wire, seq)
        texts += received(wire)
    return texts


def test_out_of_service_text_is_nlets_and_checks_its_time_and_zone() -> None:
    assert out_of_service("1400", "EST") == OUTAGE
    assert IN_SERVICE == "NLETS IN SERVICE"
    for until, zone in (("2400", "EST"), ("14:00", "EST"), ("1400", "est"), ("1400", "")):
        with pytest.raises(ValueError, match="is not"):
            out_of_service(until, zone)


def test_outage_goes_to_every_lines_control_terminal_and_is_stored_for_one_away() -> None:
    harness = Harness()
    nj = harness.logon("NJNLETS00")
    nj.take()
    sent = harness.switch.operator_status(OUTAGE, harness.now)
    harness.flush()
    controls = {line.control_ori for line in harness.directory.lines.values()} - {"NL0000000"}
    assert sorted(controls) == sent
    assert received(nj) == [(1, "SM", OUTAGE)]
    pa = harness.logon("PANLETS00")
    assert received(pa) == [(1, "SM", OUTAGE)]
    assert harness.switch.counters()[("NL", "input")] == 1


def test_sm_goes_ahead_of_deliveries_waiting_for_the_window() -> None:
    harness, nj = nj_behind_a_window_of_one()
    harness.switch.operator_status(OUTAGE, harness.now)
    harness.flush()
    harness.switch.operator_status(IN_SERVICE, harness.now)
    harness.flush()
    assert acknowledge_all(harness, nj, 5) == [
        (2, "SM", OUTAGE),
        (3, "SM", IN_SERVICE),
        (4, "AM", "AM 2"),
        (5, "AM", "AM 3"),
    ]
    harness.restart()  # the journal agrees: nothing pending is left, and no seq twice
    assert harness.journal.pending("NJNLETS00", 5) == []


def test_sm_goes_ahead_of_messages_stored_for_an_ori_that_is_away() -> None:
    harness = Harness()
    ny = harness.logon("NY0303000")
    harness.send(ny, b"AM.NY0303000.NJ.TXT\r\nSTORED FIRST")
    harness.send(ny, b"AM.NY0303000.NJ.TXT\r\nSTORED SECOND")
    harness.switch.operator_status(OUTAGE, harness.now)
    harness.flush()
    nj = harness.logon("NJNLETS00")
    assert received(nj) == [
        (1, "SM", OUTAGE),
        (2, "AM", "STORED FIRST"),
        (3, "AM", "STORED SECOND"),
    ]


def test_sm_to_a_sender_jumps_its_backlog_too() -> None:
    """The SM .02. answering a message goes ahead of what waits for the sender's window."""
    harness = Harness(window=1)
    nj = harness.logon("NJNLETS00")
    ny = harness.logon("NY0303000")
    ny.take()
    nj.take()
    for number in (1, 2):
        harness.send(nj, f"AM.NJNLETS00.NY0303000.TXT\r\nTO NY {number}".encode())
    harness.send(ny, b"AM.NY0303000.PA0010000.TXT\r\nSTORE IT")  # nobody on PA: SM .02.
    seen = []
    for seq in (1, 2, 3):
        seen += [(s, mke) for s, mke, _ in received(ny)]
        harness.ack(ny, seq)
    assert seen == [(1, "AM"), (2, "SM"), (3, "AM")]


def test_stored_operator_sm_expires_silently() -> None:
    harness = Harness(store_expiry=timedelta(hours=1))
    harness.switch.operator_status(OUTAGE, harness.now)
    harness.flush()
    assert harness.switch.next_deadline() == harness.now + timedelta(hours=1)
    harness.switch.tick(harness.now + timedelta(hours=1))
    harness.flush()
    assert harness.switch.next_deadline() is None
    nj = harness.logon("NJNLETS00")
    assert [f for f in nj.take() if f.kind is FrameKind.DT] == []


def test_outage_and_in_service_through_the_cli_and_the_admin_socket(tmp_path: Path) -> None:
    with running_switch(tmp_path, "--tz", "America/New_York") as port:
        code, output = run("outage", "--data-dir", str(tmp_path), "--until", "1400")
        assert code == 0, output
        assert output.endswith(
            "control terminals: NLETS TEMPORARILY OUT OF SERVICE UNTIL 1400 EST\n"
        )
        code, output = run(
            "outage", "--data-dir", str(tmp_path), "--until", "0930", "--tz", "America/Phoenix"
        )
        assert output.endswith("UNTIL 0930 MST\n")
        code, output = run("outage", "--data-dir", str(tmp_path), "--end")
        assert (code, output.split(": ", 1)[1]) == (0, "NLETS IN SERVICE\n")
        login = ["--to", f"127.0.0.1:{port}", "--ori", "NJNLETS00", "--key", "K-NJNLETS00"]
        code, output = run("receive", *login, "--wait", "0.5")
        assert code == 0
        assert output.splitlines() == [
            "SM.NL0000000",
            "08:00 01/01/2026 00001",
            "08:00 01/01/2026 00001 NJNLETS00",
            "TXT",
            "NLETS TEMPORARILY OUT OF SERVICE UNTIL 1400 EST",
            "SM.NL0000000",
            "08:00 01/01/2026 00002",
            "08:00 01/01/2026 00002 NJNLETS00",
            "TXT",
            "NLETS TEMPORARILY OUT OF SERVICE UNTIL 0930 MST",
            "SM.NL0000000",
            "08:00 01/01/2026 00003",
            "08:00 01/01/2026 00003 NJNLETS00",
            "TXT",
            "NLETS IN SERVICE",
        ]
        code, output = run("outage", "--data-dir", str(tmp_path), "--until", "2500")
        assert (code, output) == (1, "Error: '2500' is not a 24-hour time HHMM, e.g. 1400\n")


@pytest.mark.parametrize(
    "args",
    [(), ("--until", "1400", "--end"), ("--end", "--tz", "EST")],
)
def test_outage_needs_until_or_end(tmp_path: Path, args: tuple[str, ...]) -> None:
    code, output = run("outage", "--data-dir", str(tmp_path), *args)
    assert code == 2
    assert "--until" in output.splitlines()[-1]


def test_counters_from_the_config_file_and_flags(tmp_path: Path) -> None:
    config = tmp_path / "switch.toml"
    config.write_text("[switch.input_counters]\nAZ = 1231\n[switch.output_counters]\nAZ = 1235\n")
    loaded = load_config(config, {"output_counters": {"NY": 7}})
    assert (loaded.input_counters, loaded.output_counters) == ({"AZ": 1231}, {"NY": 7})
    for bad in ({"AZ": 0}, {"AZ": 100_000}, {"AZZ": 1}, {"AZ": "1"}, {"AZ": True}, [1]):
        with pytest.raises(ConfigError):
            checked_counters("input_counters", bad)


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("--input-counter=AZ", "counter 'AZ' is not LINE=NUMBER, e.g. AZ=1231"),
        ("--output-counter=AZ=0", "output_counters: AZ = 0 is not between 1 and 99999"),
        ("--input-counter=ZQ=5", "counters for lines not in the directory: ZQ"),
    ],
)
def test_bad_counters_are_one_clear_sentence(tmp_path: Path, flag: str, message: str) -> None:
    code, output = run("serve", "--data-dir", str(tmp_path), "--port", "0", flag)
    assert code in (1, 2)
    assert output.splitlines()[-1].endswith(message)


def test_a_batch_the_full_disk_refuses_leaves_the_backlog_an_sm_reordered_as_it_was(
    tmp_path: Path,
) -> None:
    """Disk full while an SM jumps a backlog: the batch is rolled back, the backlog keeps its
    order and seqs; once there is room again the SM is sent and everything arrives once."""
    with small_disk(tmp_path / "disk", "4m") as disk:
        harness, nj = nj_behind_a_window_of_one(disk)
        fill(disk / "filler")
        harness.switch.operator_status(OUTAGE + " " * 4000, harness.now)
        harness.flush()
        assert received(nj) == []
        assert [p.seq for p in harness.switch.sessions["NJNLETS00"].backlog] == [2, 3]
        (disk / "filler").unlink()
        harness.switch.operator_status(OUTAGE, harness.now)
        harness.flush()
        assert acknowledge_all(harness, nj, 4) == [
            (2, "SM", OUTAGE),
            (3, "AM", "AM 2"),
            (4, "AM", "AM 3"),
        ]
