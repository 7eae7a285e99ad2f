"""The log: one info line per message the switch takes in and per message the LESC answers,
as JSON or for people (``--log-format``), names, DOBs, identifiers and message text taken out
unless ``--log-with-text``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from nlets_sim.bus.events import PRIVATE_FIELDS
from nlets_sim.console.logging_setup import PRIVATE_LOG_FIELDS, configure_logging
from nlets_sim.link.terminal import Terminal
from tests.switch_process import ready_port, serve_command

AM = b"AM.NY0303000.NJ0010000.*L1.TXT\r\nLOOK FOR WANTED, WALTER DOB 19700707 SOC 123456789"
REFUSED = b"AM.NY0303000.NJ0010000.*L2.TXT\r\nCAF\xc3\x89"
IAQ = (
    b"IAQ.NY0303000.AX.*L3.TXT\r\nPUR/C.ATN/DET J SMITH.PHN/5185551212.NAM/DOE, JOHN A."
    b"DOB/19800115.SEX/M.POB/MX.CUS/Y.OFF/0399.ARN/012345678"
)
PRIVATE = ("WALTER", "19700707", "123456789", "CAF", "DOE", "19800115", "012345678")


@contextlib.contextmanager
def process(command: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A daemon for the length of a ``with``, its standard error into ``log``; stopped with
    SIGTERM, so that every line it wrote is in the file afterwards."""
    with log.open("wb") as stderr:
        running = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr)
    try:
        yield running
    finally:
        running.terminate()
        running.wait(timeout=30)
        if running.stdout is not None:
            running.stdout.close()


def json_lines(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


async def talk(port: int) -> None:
    """An AM routed, a message refused (ER 0), an IAQ answered by the LESC (ACK and RSP)."""
    async with Terminal("127.0.0.1", port, "NY0303000", "S3CRET") as terminal:
        await terminal.request(AM)
        await terminal.send(REFUSED)
        assert b"NON-ASCII BYTE" in (await terminal.receive(timeout=10)).raw
        await terminal.request(IAQ, count=2, timeout=30)


def run_both(tmp_path: Path, *options: str) -> tuple[Path, Path]:
    """A switch and a LESC, each its own process with ``options``; the two logs."""
    switch_log, lesc_log = tmp_path / "switch.log", tmp_path / "lesc.log"
    with process(serve_command(tmp_path / "switch", *options), switch_log) as switch:
        assert switch.stdout is not None
        port = ready_port(switch.stdout.readline())
        lesc = [sys.executable, "-m", "lesc_daemon", "run", "--switch", f"127.0.0.1:{port}"]
        lesc += ["--db", str(tmp_path / "lesc.sqlite3"), "--delay", "0", *options]
        with process(lesc, lesc_log):
            asyncio.run(talk(port))
    return switch_log, lesc_log


def test_one_redacted_json_line_per_message_taken_in_and_answered(tmp_path: Path) -> None:
    switch_log, lesc_log = run_both(tmp_path, "--log-format", "json")
    for log in (switch_log, lesc_log):
        text = log.read_text()
        assert not [word for word in PRIVATE if word in text], text
    switch_lines = json_lines(switch_log)
    for line in switch_lines:
        assert set(line) >= {"event", "level", "timestamp"}
    taken_in = [
        {key: line.get(key) for key in ("event", "level", "ori", "sender", "mke", "dest", "code")}
        for line in switch_lines
        if line["event"] in ("accepted", "rejected") and line["ori"] == "NY0303000"
    ]
    assert taken_in == [
        {
            "event": "accepted",
            "level": "info",
            "ori": "NY0303000",
            "sender": "NY0303000",
            "mke": "AM",
            "dest": ["NJ0010000"],
            "code": None,
        },
        {
            "event": "rejected",
            "level": "info",
            "ori": "NY0303000",
            "sender": None,
            "mke": None,
            "dest": None,
            "code": "0",
        },
        {
            "event": "accepted",
            "level": "info",
            "ori": "NY0303000",
            "sender": "NY0303000",
            "mke": "IAQ",
            "dest": ["AX"],
            "code": None,
        },
    ]
    answers = [line for line in json_lines(lesc_log) if line["event"] == "answered"]
    assert [
        {key: line[key] for key in ("level", "mke", "requester", "control", "replies")}
        for line in answers
        if line["requester"] == "NY0303000"
    ] == [{"level": "info", "mke": "IAQ", "requester": "NY0303000", "control": "L3", "replies": 2}]


def test_log_with_text_keeps_the_message_text(tmp_path: Path) -> None:
    switch_log, lesc_log = run_both(tmp_path, "--log-format", "json", "--log-with-text")
    accepted = [line for line in json_lines(switch_log) if line.get("msg") and "text" in line]
    assert AM.decode().split("\r\n")[1] in [line["text"] for line in accepted]
    answered = [line for line in json_lines(lesc_log) if line["event"] == "answered"]
    assert any("NAM/DOE, JOHN A" in line["text"] for line in answered)


def test_quiet_leaves_out_the_line_per_message_and_keeps_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--quiet`` (for load tests): the same traffic, no info line from either daemon; a
    warning still reaches the log."""
    switch_log, lesc_log = run_both(tmp_path, "--log-format", "json", "--quiet")
    assert [line for line in json_lines(switch_log) if line["level"] == "info"] == []
    assert [line for line in json_lines(lesc_log) if line["level"] == "info"] == []
    configure_logging(quiet=True, log_format="json")
    try:
        structlog.get_logger("t").info("accepted", ori="NY0303000")
        structlog.get_logger("t").warning("journal unavailable", reason="disk full")
        (line,) = capsys.readouterr().err.splitlines()
    finally:
        structlog.reset_defaults()
    assert {k: v for k, v in json.loads(line).items() if k != "timestamp"} == {
        "event": "journal unavailable",
        "reason": "disk full",
        "level": "warning",
    }


@pytest.mark.parametrize(("log_format", "is_json"), [("console", False), ("json", True)])
def test_log_format_chooses_json_or_console_lines(
    log_format: str, *, is_json: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(log_format=log_format)
    try:
        structlog.get_logger("t").info("accepted", ori="NY0303000", text="DOE, JOHN A")
        structlog.get_logger("t").debug("delivered", ori="NY0303000")
        (line,) = capsys.readouterr().err.splitlines()
    finally:
        structlog.reset_defaults()
    assert "DOE" not in line
    if is_json:
        stamp = json.loads(line)["timestamp"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamp), stamp
        assert {k: v for k, v in json.loads(line).items() if k != "timestamp"} == {
            "ori": "NY0303000",
            "event": "accepted",
            "level": "info",
        }
    else:
        assert line.endswith("[info     ] accepted                       ori=NY0303000")


def test_the_log_takes_out_at_least_what_the_event_stream_keeps_private() -> None:
    assert PRIVATE_FIELDS <= PRIVATE_LOG_FIELDS
