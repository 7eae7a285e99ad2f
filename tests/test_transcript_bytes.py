"""Transcripts and bytes that are not ASCII text: written as {0xHH} in a message to send, a
recorded refusal that replays, and a transcript file with such bytes reported as that file's
error while the others still run. Replay prints each result as its transcript finishes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from nlets_sim.link.terminal import Terminal
from nlets_sim.tools.cli import main
from nlets_sim.tools.transcript import (
    Send,
    Transcript,
    TranscriptError,
    decode_transcript,
    escaped,
    message_bytes,
    parse_transcript,
    render,
)
from tests.switch_process import running_switch

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "transcripts"
CAFE = b"AM.NY0303000.NJ0010000.*C1.TXT\r\nCAF\xc3\x89 AU LAIT"


@given(st.binary(max_size=200))
def test_any_bytes_escape_to_ascii_and_back(raw: bytes) -> None:
    written = escaped(raw)
    assert written.isascii()
    assert message_bytes(written) == raw


@given(st.binary(min_size=1, max_size=200))
def test_an_escaped_message_survives_render_and_parse(raw: bytes) -> None:
    text = render(Transcript("t", (Send(0, "NY0303000", escaped(raw)),)))
    (step,) = parse_transcript(text, "t").steps
    assert isinstance(step, Send)
    assert message_bytes(step.message) == raw


def test_escapes_are_exact() -> None:
    assert escaped(b"CAF\xc3\x89 {0x41}\r\nend\r\n next\r\nA\tB\rC") == (
        "CAF{0xC3}{0x89} {0x7B}0x41}\r\n{0x65}nd\r\n {0x6E}ext\r\nA{0x09}B{0x0D}C"
    )
    assert message_bytes("CAF{0xc3}{0x89} {x} {0x4") == b"CAF\xc3\x89 {x} {0x4"


def test_a_non_ascii_transcript_names_its_line_and_byte() -> None:
    with pytest.raises(TranscriptError) as raised:
        decode_transcript(b"logon NY0303000\nsend NY0303000\nCAF\xc3\x89\nend\n", "cafe.txt")
    assert str(raised.value) == (
        "cafe.txt:3: byte 0xC3 is not ASCII: a transcript is ASCII text "
        "(in a message to send, write a byte as {0xC3})"
    )
    with pytest.raises(TranscriptError, match=r"^t:2: 'É' is not ASCII"):
        parse_transcript("logon NY0303000\nÉ\n", "t")


def test_replay_reports_a_non_ascii_file_and_still_runs_the_others(tmp_path: Path) -> None:
    directory = tmp_path / "transcripts"
    directory.mkdir()
    good = (FIXTURES / "aml_caveat.txt").read_bytes()
    (directory / "a_good.txt").write_bytes(good)
    (directory / "b_cafe.txt").write_bytes(b"logon NY0303000\n# caf\xc3\xa9\n")
    (directory / "c_good.txt").write_bytes(good)
    junit = tmp_path / "report.xml"
    result = CliRunner().invoke(main, ["replay", str(directory), "--junit", str(junit)])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert f"PASS {directory / 'a_good.txt'}" in lines
    assert f"PASS {directory / 'c_good.txt'}" in lines
    assert f"FAIL {directory / 'b_cafe.txt'}" in lines
    assert (
        f"  FAIL not read: {directory / 'b_cafe.txt'}:2: byte 0xC3 is not ASCII: a transcript "
        "is ASCII text (in a message to send, write a byte as {0xC3})"
    ) in lines
    assert lines[-1] == "2 passed, 1 failed"
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("3", "1")
    (failure,) = suite.findall("testcase/failure")
    assert "b_cafe.txt:2: byte 0xC3 is not ASCII" in (failure.text or "")


def test_a_recorded_refusal_of_non_ascii_text_replays(tmp_path: Path) -> None:
    async def talk(port: int) -> bytes:
        async with Terminal("127.0.0.1", port, "NY0303000", "S3CRET") as terminal:
            await terminal.send(CAFE)
            return (await terminal.receive(timeout=10)).raw

    with running_switch(tmp_path) as port:
        answer = asyncio.run(talk(port))
        assert answer.split(b"\r\n")[4:6] == [
            b"0 MESSAGE FORMAT/STRUCTURE ERROR",
            b"NON-ASCII BYTE AT POSITION 36",
        ]
        recorded = CliRunner().invoke(
            main, ["record", "--ori", "NY0303000", "--data-dir", str(tmp_path)]
        )
        assert recorded.exit_code == 0, recorded.output
        assert recorded.output.isascii()
        assert "\nCAF{0xC3}{0x89} AU LAIT\nend\n" in recorded.output
        path = tmp_path / "recorded.txt"
        path.write_text(recorded.output, "ascii")
        replayed = CliRunner().invoke(main, ["replay", "--to", f"127.0.0.1:{port}", str(path)])
    assert replayed.exit_code == 0, replayed.output
    assert replayed.output.splitlines()[-1] == "1 passed, 0 failed"


def test_replay_prints_each_result_as_its_transcript_finishes(tmp_path: Path) -> None:
    """The first result is out while the second transcript still waits for a minute."""
    first = tmp_path / "a.txt"
    first.write_bytes((FIXTURES / "aml_caveat.txt").read_bytes())
    waits = tmp_path / "b.txt"
    waits.write_text("logon NY0303000\nexpect NY0303000 within 60\nNOTHING COMES\nend\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "nlets_sim", "replay", str(first), str(waits)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == f"PASS {first}\n".encode()
        assert process.poll() is None
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
