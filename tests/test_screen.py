"""Batch screening (``nlets-sim screen``): a CSV list through the real switch to the LESC."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import sys
from datetime import date
from pathlib import Path

import pytest

from lesc_daemon.daemon import LescDaemon
from nlets_sim.switch.server import SwitchServer
from nlets_sim.tools.screen import BadRow, Defaults, Row, ScreenError, answered_lines, read_rows

TODAY = date(2026, 1, 1)
LIST = """id,nam,dob,sex,pob,arn,notes
A1,"DOE, JOHN A",1980-01-15,M,MX,012345678,x
A2,"SAMPLE, CITIZEN",19750303,F,VT,,
A3,"WANTED, WALTER",07/07/1970,M,HD,,
A4,"NOBODY, NEMO",19990909,M,MM,,
A5,"SAMPLE, RESIDENT",19821345,M,GT,,
A6,"sample,  citizen",1975-03-03,f,vt,,
A7,"SAMPLE, RESIDENT",19820614,M,ZZ,,
A8,"TWIN, A",19850505,M,EL,,
"""


def test_rows_become_iaqs_and_bad_rows_say_why_by_line() -> None:
    rows = list(read_rows(io.StringIO(LIST), Defaults(atn="OPS J DOE"), TODAY))
    assert [(r.line, type(r).__name__) for r in rows] == [
        (1, "BadRow"), (2, "Row"), (3, "Row"), (4, "Row"), (5, "Row"), (6, "BadRow"),
        (7, "Row"), (8, "BadRow"), (9, "Row"),
    ]  # fmt: skip
    first = rows[1]
    assert isinstance(first, Row)
    assert first.iaq.build() == (
        "PUR/C.ATN/OPS J DOE.PHN/2025550100.NAM/DOE, JOHN A.DOB/19800115.SEX/M.POB/MX.CUS/N."
        "OFF/0399.ARN/012345678"
    )
    bad = {r.line: r.reason for r in rows if isinstance(r, BadRow)}
    assert bad == {
        1: "columns ignored: NOTES",
        6: ".05. DOB INVALID or MISSING DOB/19821345",
        8: "POB/ZZ IS NOT AN NCIC PLACE OF BIRTH CODE",
    }
    same = [r for r in rows if isinstance(r, Row) and r.line in (3, 7)]
    assert same[0].person_key == same[1].person_key  # case, spaces and DOB form do not matter


def test_a_list_without_the_needed_columns_is_refused_whole() -> None:
    with pytest.raises(ScreenError, match="no column NAM \\(or LAST and FIRST\\), POB"):
        list(read_rows(io.StringIO("last,dob,sex\nDOE,19800115,M\n"), Defaults(), TODAY))
    rows = list(
        read_rows(
            io.StringIO("last,first,dob,sex,pob\nDOE,JOHN,19800115,M,MX,9\n"), Defaults(), TODAY
        )
    )
    assert rows == [BadRow(2, "", "more fields than the header names")]


def test_a_results_file_cut_short_keeps_its_whole_rows() -> None:
    text = (
        "line,id,nam,dob,status,qrn,res,fap,a_number,fbi,nic,detail\n"
        '2,A1,"DOE, JOHN A",19800115,ANSWERED,L260101000002,RM,,012345678,,,STATUS: X\n'
        '3,A2,"SAMPLE, CIT'
    )
    assert list(answered_lines(text)) == [2]


async def screen(*args: str, port: int) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nlets_sim", "screen", "--to", f"127.0.0.1:{port}",
        "--ori", "DCUSSS000", "--key", "K-DCUSSS000", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def results(text: str) -> dict[str, dict[str, str]]:
    return {row["id"]: row for row in csv.DictReader(io.StringIO(text))}


@pytest.mark.usefixtures("nlets_lesc")
async def test_screen_answers_good_rows_skips_bad_ones_and_copies_duplicates(
    nlets_switch: SwitchServer, tmp_path: Path
) -> None:
    (tmp_path / "persons.csv").write_text(LIST)
    code, out, err = await screen(str(tmp_path / "persons.csv"), port=nlets_switch.port)
    assert code == 0, err
    got = results(out)
    assert {k: (v["line"], v["status"], v["res"]) for k, v in got.items()} == {
        "A1": ("2", "ANSWERED", "RM"),
        "A2": ("3", "ANSWERED", "US"),
        "A3": ("4", "ANSWERED", "WT"),
        "A4": ("5", "ANSWERED", "NR"),
        "A5": ("6", "BAD ROW", ""),
        "A6": ("7", "DUPLICATE", "US"),
        "A7": ("8", "BAD ROW", ""),
        "A8": ("9", "ANSWERED", "PI"),
    }
    assert (got["A1"]["a_number"], got["A3"]["nic"]) == ("012345678", "W000000001")
    assert got["A6"]["qrn"] == got["A2"]["qrn"]
    assert got["A6"]["detail"] == "DUPLICATE OF LINE 3"
    assert got["A2"]["qrn"].startswith("L")
    assert got["A5"]["detail"] == ".05. DOB INVALID or MISSING DOB/19821345"
    lines = err.splitlines()
    assert "line 6: .05. DOB INVALID or MISSING DOB/19821345" in lines
    assert "line 8: POB/ZZ IS NOT AN NCIC PLACE OF BIRTH CODE" in lines
    assert lines[-1] == (
        "screened 8 row(s), 5 answered, 2 bad row, 1 duplicate; RES NR:1 PI:1 RM:1 US:2 WT:1"
    )


async def test_an_interrupted_screen_resumes_without_asking_twice(
    nlets_switch: SwitchServer, nlets_lesc: LescDaemon, tmp_path: Path
) -> None:
    """kill -9 after three answers; ``--resume`` asks only the rest: every line once."""
    names = [f"NOBODY{chr(65 + i // 26)}{chr(65 + i % 26)}, NEMO" for i in range(30)]
    source = tmp_path / "persons.csv"
    source.write_text("nam,dob,sex,pob\n" + "".join(f'"{n}",19990909,M,MM\n' for n in names))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nlets_sim", "screen", "--to", f"127.0.0.1:{nlets_switch.port}",
        "--ori", "DCOPM0000", "--key", "K-DCOPM0000", "--in-flight", "1", str(source),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    first = [await asyncio.wait_for(process.stdout.readline(), 30) for _ in range(4)]
    process.kill()
    await process.wait()
    output = tmp_path / "results.csv"
    output.write_bytes(b"".join(first))
    asked_before = len(nlets_lesc.store.audit_rows())
    assert asked_before <= 4  # three answered, at most one more in flight
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nlets_sim", "screen", "--to", f"127.0.0.1:{nlets_switch.port}",
        "--ori", "DCOPM0000", "--key", "K-DCOPM0000", "--output", str(output), "--resume",
        str(source), stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err
    rows = list(csv.DictReader(io.StringIO(output.read_text())))
    assert sorted(int(row["line"]) for row in rows) == list(range(2, 32))
    assert {row["res"] for row in rows} == {"NR"}
    assert output.read_text().count("line,id,") == 1
    assert err.decode().splitlines()[-1] == (
        "screened 30 row(s), 27 answered, 3 already in the results file (--resume); RES NR:27"
    )
    assert len(nlets_lesc.store.audit_rows()) - asked_before == 27


@pytest.mark.usefixtures("nlets_lesc")
async def test_a_progress_bar_goes_to_stderr_on_a_terminal(
    nlets_switch: SwitchServer, tmp_path: Path
) -> None:
    source = tmp_path / "persons.csv"
    source.write_text('nam,dob,sex,pob\n"SAMPLE, CITIZEN",19750303,F,VT\n')
    leader, follower = os.openpty()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "nlets_sim", "screen", "--to", f"127.0.0.1:{nlets_switch.port}",
            "--ori", "DCUSSS000", "--key", "K-DCUSSS000", str(source),
            stdout=asyncio.subprocess.PIPE, stderr=follower,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(process.communicate(), 60)
    finally:
        os.close(follower)
    seen = b""
    with contextlib.suppress(OSError):  # the terminal's end reads EIO once all is read
        while chunk := os.read(leader, 4096):
            seen += chunk
    os.close(leader)
    assert process.returncode == 0
    assert b"screening" in seen
    assert b"100%" in seen
    assert b"screening" not in out  # the results stay clean


def test_usual_column_names_are_taken() -> None:
    text = "Last_Name,First Name,Date-of-Birth,Gender,Place of Birth,A_Number\n"
    text += "DOE,JOHN,1980-01-15,M,MX,012345678\n"
    (row,) = read_rows(io.StringIO(text), Defaults(), TODAY)
    assert isinstance(row, Row)
    assert (row.iaq.nam, row.iaq.dob, row.iaq.arn) == ("DOE, JOHN", "19800115", "012345678")


@pytest.mark.usefixtures("nlets_lesc")
async def test_resume_appends_to_the_file_standard_output_goes_to(
    nlets_switch: SwitchServer, tmp_path: Path
) -> None:
    """``--resume`` with ``>> results.csv``: the rows already there are skipped, a last line
    cut short by the interruption is dropped, the header is not written again."""
    source = tmp_path / "persons.csv"
    source.write_text(
        'nam,dob,sex,pob\n"SAMPLE, CITIZEN",19750303,F,VT\n"NOBODY, NEMO",19990909,M,MM\n'
        '"WANTED, WALTER",19700707,M,HD\n'
    )
    results = tmp_path / "results.csv"
    results.write_text(
        "line,id,nam,dob,status,qrn,res,fap,a_number,fbi,nic,detail\n"
        '2,,"SAMPLE, CITIZEN",19750303,ANSWERED,L260101000009,US,,,,,STATUS: X\n'
        '3,,"NOBODY, NE'
    )
    with results.open("a") as appended:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "nlets_sim", "screen", "--to", f"127.0.0.1:{nlets_switch.port}",
            "--ori", "DCUSSS000", "--key", "K-DCUSSS000", "--resume", str(source),
            stdout=appended, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err
    rows = list(csv.DictReader(io.StringIO(results.read_text())))
    assert [(r["line"], r["res"]) for r in rows] == [("2", "US"), ("3", "NR"), ("4", "WT")]
    assert err.decode().splitlines()[-1] == (
        "screened 3 row(s), 2 answered, 1 already in the results file (--resume); RES NR:1 WT:1"
    )
