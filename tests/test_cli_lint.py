"""``nlets-sim lint``: OK and exit 0, or the switch's ER and exit 1; and the CLI basics."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from lesc_daemon.cli import main as lesc_main
from nlets_sim.tools.cli import main

IAQ = (
    "IAQ.NY0303000.AX.*Q77.TXT\n"
    "PUR/C.ATN/DET J SMITH.PHN/5185551212.NAM/DOE, JOHN A.DOB/19800115.SEX/M.POB/MX.CUS/Y."
    "OFF/0399\n"
)


def test_a_good_message_from_a_file_prints_ok_and_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "am.txt"
    path.write_text("AM.NY0303000.NJ,PA,CT.*B1234.TXT\nMEETING AT 10.\n")
    result = CliRunner().invoke(main, ["lint", str(path)])
    assert result.exit_code == 0
    assert result.output == "OK AM NY0303000 -> NJ,PA,CT\n"


def test_a_good_iaq_from_standard_input() -> None:
    result = CliRunner().invoke(main, ["lint", "-"], input=IAQ)
    assert (result.exit_code, result.output) == (0, "OK IAQ NY0303000 -> AX\n")


def test_a_bad_message_prints_the_er_the_switch_would_return_and_exits_1() -> None:
    bad = IAQ.replace("19800115", "19800230")
    result = CliRunner().invoke(main, ["lint", "-"], input=bad)
    assert result.exit_code == 1
    echo = bad.rstrip("\n").replace("\n", "\r\n")[:100]
    stamp = rb"\d\d:\d\d \d\d/\d\d/\d{4}"
    pattern = (
        rb"ER\.NL0000000\.\*Q77\r\n"
        + stamp
        + rb" 00000\r\n"
        + stamp
        + rb" 00000 NY0303000\r\nTXT\r\n"
        rb".05. DOB INVALID or MISSING\r\nDOB/19800230\r\nORIGINAL MESSAGE\r\n"
        + re.escape(echo.encode())
        + rb"\r\n"
    )
    assert re.fullmatch(pattern, result.stdout_bytes), result.stdout_bytes


def test_an_er_for_an_unreadable_sender_goes_to_a_placeholder_ori() -> None:
    result = CliRunner().invoke(main, ["lint", "-"], input="HELLO\n")
    assert result.exit_code == 1
    assert result.stdout_bytes.endswith(
        b" 00000 XXXXXXXXX\r\nTXT\r\n0 MESSAGE FORMAT/STRUCTURE ERROR\r\nNO MESSAGE HEADER\r\n"
        b"ORIGINAL MESSAGE\r\nHELLO\r\n"
    )


def test_lesc_content_problems_are_warned_on_standard_error() -> None:
    result = CliRunner().invoke(main, ["lint", "-"], input=IAQ.replace("POB/MX", "POB/ZZ"))
    assert result.exit_code == 0
    assert result.stdout == "OK IAQ NY0303000 -> AX\n"
    assert result.stderr == "LESC WILL REJECT: POB/ZZ IS NOT AN NCIC PLACE OF BIRTH CODE\n"


def test_version_and_help() -> None:
    for command, name in ((main, "nlets-sim"), (lesc_main, "lesc-daemon")):
        version = CliRunner().invoke(command, ["--version"])
        assert version.exit_code == 0
        assert version.output.startswith(f"{name}, version ")
        assert CliRunner().invoke(command, ["--help"]).exit_code == 0
