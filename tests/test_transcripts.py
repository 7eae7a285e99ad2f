"""Transcripts: the format, replay of every fixture, a readable diff when one is wrong, record,
the CLI and the pytest plugin's helper."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from nlets_sim.link.terminal import Terminal
from nlets_sim.tools.cli import main
from nlets_sim.tools.record import with_placeholders
from nlets_sim.tools.replay import Player, TranscriptResult, embedded, replay
from nlets_sim.tools.transcript import (
    Expect,
    Logon,
    Operator,
    Outage,
    Send,
    Transcript,
    TranscriptError,
    diff,
    matches,
    parse_transcript,
    render,
)
from tests.switch_process import running_switch

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "transcripts"
WRONG = """\
# the response is not what this transcript says
logon NY0303000
send NY0303000
IAQ.NY0303000.AX.*Q1.TXT
PUR/C.ATN/DET J SMITH.PHN/5185551212.NAM/SAMPLE, CITIZEN.DOB/19750303.SEX/F.POB/VT.CUS/N.OFF/0399
end
expect NY0303000 within 5
IAR.VTINS07S0.*Q1
{TIME} {DATE} {SEQ}
{TIME} {DATE} {SEQ} NY0303000
TXT
QRN/{QRN}.TYP/ACK.
QUERY RECEIVED. A RESPONSE WILL FOLLOW.
next
IAR.VTINS07S0.*Q1
{TIME} {DATE} {SEQ}
{TIME} {DATE} {SEQ} NY0303000
TXT
QRN/{QRN}.TYP/RSP.RES/LS.
{ANY}
end
"""


def test_format_parses_steps_with_options_and_comments() -> None:
    transcript = parse_transcript(
        "# comment\nlogon NY0303000 S3CRET  # trailing comment\nsend NY0303000\n"
        "AM.NY0303000.NJ.TXT\n# not a comment inside a message\nend\n"
        "expect NJNLETS00 unordered within 2.5\nA\nnext\nB\nend\n",
        "t",
    )
    assert transcript.steps == (
        Logon(2, "NY0303000", "S3CRET"),
        Send(3, "NY0303000", "AM.NY0303000.NJ.TXT\r\n# not a comment inside a message"),
        Expect(7, "NJNLETS00", ("A", "B"), unordered=True, within_s=2.5),
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("hello", "t:1: expected logon, logoff, send, expect, remove, restore or outage"),
        ("send NY0303000\nAM", "t:1: message not ended by a line 'end'"),
        ("expect NY0303000 sometimes\nA\nend", "t:1: unknown expect option 'sometimes'"),
        ("expect NY0303000 within soon\nA\nend", "t:1: within SECONDS"),
        ("send NY0303000\nend", "t:2: empty message"),
    ],
)
def test_format_errors_name_the_line(text: str, error: str) -> None:
    with pytest.raises(TranscriptError, match=error):
        parse_transcript(text, "t")


def test_placeholders_and_literal_braces() -> None:
    assert matches("{TIME} {DATE} {SEQ} NY0303000", "08:00 01/01/2026 00001 NY0303000")
    assert not matches("{TIME} {DATE} {SEQ}", "08:00 01/01/2026 1")
    assert matches("QRN/{QRN}.X", "QRN/L260101000001.X")
    assert matches("A {/[0-9]+/} B", "A 123 B")
    assert matches("{{BRACES}}", "{BRACES}")
    assert matches("FIRST{ANY}", "FIRST AND MORE")
    assert not matches("ONE", "ONE\r\nTWO")


def test_diff_shows_only_the_lines_that_differ() -> None:
    expected = "IAR.X\r\n{TIME} {DATE} {SEQ}\r\nRES/LS."
    received = "IAR.X\r\n08:00 01/01/2026 00002\r\nRES/US."
    assert diff(expected, received) == (
        "--- expected\n+++ received\n@@ -1,3 +1,3 @@\n IAR.X\n 08:00 01/01/2026 00002\n"
        "-RES/LS.\n+RES/US."
    )


lines = st.lists(
    st.from_regex(r"[A-Z0-9 ./,]{1,20}", fullmatch=True).filter(
        lambda line: line.strip() not in {"end", "next"}
    ),
    min_size=1,
    max_size=4,
)


@given(
    st.lists(
        st.one_of(
            st.builds(Logon, st.just(0), st.just("NY0303000")),
            st.builds(Send, st.just(0), st.just("NY0303000"), lines.map("\r\n".join)),
            st.builds(
                Expect,
                st.just(0),
                st.just("NJNLETS00"),
                st.lists(lines.map("\r\n".join), min_size=1, max_size=3).map(tuple),
                st.booleans(),
                st.sampled_from([10.0, 2.5]),
            ),
        ),
        min_size=1,  # a transcript without steps is refused: nothing to replay
        max_size=5,
    )
)
def test_render_and_parse_round_trip(steps: list[Logon | Send | Expect]) -> None:
    parsed = parse_transcript(render(Transcript("t", tuple(steps))), "t")
    assert [(type(s), s.ori) for s in parsed.steps] == [(type(s), s.ori) for s in steps]
    assert [getattr(s, "messages", None) for s in parsed.steps] == [
        getattr(s, "messages", None) for s in steps
    ]


def test_record_inserts_placeholders() -> None:
    message = (
        "IAR.VTINS07S0.*Q1\r\n08:00 01/01/2026 00002\r\n08:00 01/01/2026 00001 NY0303000\r\n"
        "TXT\r\nQRN/L260101000001.TYP/ACK.\r\n{X}"
    )
    assert with_placeholders(message) == (
        "IAR.VTINS07S0.*Q1\r\n{TIME} {DATE} {SEQ}\r\n{TIME} {DATE} {SEQ} NY0303000\r\n"
        "TXT\r\nQRN/{QRN}.TYP/ACK.\r\n{{X}}"
    )


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.txt")), ids=lambda p: p.stem)
async def test_every_fixture_transcript_replays(path: Path) -> None:
    result = await replay(parse_transcript(path.read_text("ascii"), path.name))
    assert result.passed, result.report()


async def test_a_wrong_transcript_fails_with_a_readable_diff() -> None:
    result = await replay(parse_transcript(WRONG, "wrong.txt"))
    assert not result.passed
    assert result.report().splitlines()[:5] == [
        "FAIL wrong.txt",
        "  ok   line 2: logon NY0303000",
        "  ok   line 3: send NY0303000",
        "  FAIL line 7: expect NY0303000",
        "       --- expected",
    ]
    assert "       -QRN/{QRN}.TYP/RSP.RES/LS." in result.report().splitlines()
    assert "       +QRN/L260101000001.TYP/RSP.RES/US." in result.report().splitlines()


def test_replay_cli_exit_status_counts_failures_and_writes_junit(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.txt"
    wrong.write_text(WRONG)
    junit = tmp_path / "report.xml"
    good = FIXTURES / "aml_caveat.txt"
    result = CliRunner().invoke(
        main, ["replay", str(good), str(wrong), str(wrong), "--junit", str(junit), "-q"]
    )
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == "1 passed, 2 failed"
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("3", "2")
    assert len(suite.findall("testcase/failure")) == 2


def test_record_then_replay_against_a_running_switch(tmp_path: Path) -> None:
    async def talk(port: int) -> None:
        async with Terminal("127.0.0.1", port, "NY0303000", "S3CRET") as terminal:
            await terminal.request(b"AM.NY0303000.NY9999999.*R1.TXT\r\nWHO")

    with running_switch(tmp_path) as port:
        asyncio.run(talk(port))
        recorded = CliRunner().invoke(
            main, ["record", "--ori", "NY0303000", "--data-dir", str(tmp_path)]
        )
        assert recorded.exit_code == 0
        assert "{TIME} {DATE} {SEQ} NY0303000" in recorded.output
        path = tmp_path / "recorded.txt"
        path.write_text(recorded.output)
        replayed = CliRunner().invoke(main, ["replay", "--to", f"127.0.0.1:{port}", str(path)])
    assert replayed.exit_code == 0, replayed.output
    assert replayed.output.splitlines()[-1] == "1 passed, 0 failed"


async def test_embedded_switch_serves_the_lesc_help_file() -> None:
    async with embedded() as switch:
        assert switch.switch.help["AXADMHELP"].startswith("ICE LAW ENFORCEMENT SUPPORT CENTER")


async def test_plugin_replay_helper(
    nlets_replay: Callable[[str | Path], Awaitable[TranscriptResult]],
) -> None:
    result = await nlets_replay(FIXTURES / "iaq_us_np_citizen.txt")
    assert result.passed
    with pytest.raises(pytest.fail.Exception, match="FAIL transcript"):
        await nlets_replay(WRONG)


def test_operator_steps_parse_and_need_the_admin_socket_against_a_running_switch() -> None:
    transcript = parse_transcript("remove NJ AM\nrestore NJ AM\n", "t")
    assert transcript.steps == (Operator(1, "NJ", "AM", True), Operator(2, "NJ", "AM", False))
    assert render(transcript) == "remove NJ AM\n\nrestore NJ AM\n"

    async def without_admin() -> str:
        return (await Player("127.0.0.1", 1).run(transcript)).report()

    assert asyncio.run(without_admin()).splitlines()[1:3] == [
        "  FAIL line 1: remove NJ AM",
        "       operator steps need the switch's admin socket (--data-dir)",
    ]


def test_outage_steps_parse_and_render_back() -> None:
    text = "outage 1400 EST\n\noutage end\n"
    transcript = parse_transcript(text, "t")
    assert transcript.steps == (Outage(1, "1400", "EST"), Outage(3, None))
    assert render(transcript) == text
    with pytest.raises(TranscriptError, match="t:1: expected"):
        parse_transcript("outage 14:00 EST\n", "t")
