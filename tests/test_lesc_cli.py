"""The LESC operators' command line."""

from __future__ import annotations

import struct
from datetime import date, datetime
from pathlib import Path

from click.testing import CliRunner

from lesc_daemon.cli import main
from lesc_daemon.report import last_months, monthly_table
from lesc_daemon.store import Store
from tests.lesc_fixtures import CATALOGUE

GOOD = CATALOGUE.read_text().splitlines()[0]


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.output


def test_import_reports_bad_lines_and_loads_the_rest(tmp_path: Path) -> None:
    source = tmp_path / "persons.jsonl"
    source.write_text("\n".join([GOOD, "{not json", '{"id": "P2", "names": []}']) + "\n")
    db = tmp_path / "lesc.db"
    code, output = run("import", "--db", str(db), str(source))
    assert code == 1
    assert output.splitlines() == [
        "line 2: not JSON: Expecting property name enclosed in double quotes at column 2",
        "line 3: names: expected a non-empty list",
        "loaded 1 person(s), skipped 2 bad line(s)",
    ]
    assert Store(db).count_persons() == 1


def test_strict_import_loads_nothing_when_a_line_is_bad(tmp_path: Path) -> None:
    source = tmp_path / "persons.jsonl"
    source.write_text(GOOD + "\n" + GOOD.replace('"dob": "1980-01-15"', '"dob": "1980-13-45"'))
    db = tmp_path / "lesc.db"
    code, output = run("import", "--db", str(db), "--strict", str(source))
    assert code == 1
    assert "line 2: dob: not a date: '1980-13-45'" in output
    assert "nothing loaded (--strict)" in output
    assert Store(db).count_persons() == 0


def test_seed_is_deterministic_and_query_runs_locally(tmp_path: Path) -> None:
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    assert run("seed", "--db", str(first), "--persons", "500", "--seed", "7")[0] == 0
    assert run("seed", "--db", str(second), "--persons", "500", "--seed", "7")[0] == 0
    dump = "SELECT * FROM persons ORDER BY id"
    assert Store(first).db.execute(dump).fetchall() == Store(second).db.execute(dump).fetchall()
    code, output = run("seed", "--db", str(first))
    assert code == 1
    assert "already holds persons" in output
    query = (
        "IAQ.NY0303000.AX.*Q1.TXT\nPUR/F.ATN/DET SMITH.PHN/5185551212.NAM/SAMPLE, VISITOR."
        "DOB/19900909.SEX/F.POB/RC.CUS/N.OFF/0399\n"
    )
    code, output = run("query", "--db", str(first), "-", stdin=query)
    assert code == 0
    assert output.splitlines()[0].endswith(".TYP/RSP.RES/LS.FAP/P2.")
    assert Store(first).audit_rows() == []  # a local query stores nothing
    code, output = run("query", "--db", str(first), "-", stdin=query.replace("POB/RC", "POB/ZZ"))
    assert code == 1
    assert "TYP/REJ: POB/ZZ IS NOT AN NCIC PLACE OF BIRTH CODE" in output


def test_inbox_list_show_and_reply(tmp_path: Path) -> None:
    db = tmp_path / "lesc.db"
    store = Store(db)
    store.file_message(datetime(2026, 11, 23, 9, 0), "NY0303000", "M1", "PLEASE CALL\r\nTODAY")
    assert run("inbox", "list", "--db", str(db))[1] == (
        "000001 2026-11-23T09:00:00 NY0303000 open    PLEASE CALL\n"
    )
    assert "TODAY" in run("inbox", "show", "--db", str(db), "1")[1]
    code, output = run("inbox", "reply", "--db", str(db), "1", "CALLED YOU")
    assert (code, output) == (0, "reply to NY0303000 queued\n")
    ((_, message),) = store.due(datetime(2100, 1, 1))
    assert message == b"AM.VTINS07S0.NY0303000.*M1.TXT\r\nCALLED YOU"
    assert "replied" in run("inbox", "list", "--db", str(db))[1]
    assert run("inbox", "show", "--db", str(db), "9")[0] == 1


def test_report_table_counts_every_iaq_and_draws_the_chart(tmp_path: Path) -> None:
    db = tmp_path / "lesc.db"
    store = Store(db)
    for month, purpose, requester in (
        ("01", "C", "NY0303000"),
        ("01", "F", "NJ0010000"),
        ("02", "C", "NY0303000"),
        ("02", None, "TX0010000"),  # rejected: no usable purpose
    ):
        store.audit("IAQ", datetime(2026, int(month), 5), requester, "NR", purpose=purpose)
    store.close()
    png = tmp_path / "chart.png"
    code, output = run("report", "--db", str(db), "--png", str(png), "--month", "2026-02")
    assert code == 0
    assert output.splitlines()[:3] == [
        "month    PUR/C  PUR/F  other  total  by state",
        "2026-01      1      1      0      2  NJ:1 NY:1",
        "2026-02      1      0      1      2  NY:1 TX:1",
    ]
    assert "total IAQs: 4" in output
    assert output.splitlines()[-1] == f"chart written to {png}"
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1100, 850)
    assert monthly_table([]) == "month    PUR/C  PUR/F  other  total  by state\n(no queries yet)"


def test_the_chart_shows_the_twelve_months_ending_with_the_one_asked() -> None:
    assert last_months(date(2026, 2, 14)) == [
        "2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08",
        "2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02",
    ]  # fmt: skip


def test_report_refuses_a_chart_it_cannot_write(tmp_path: Path) -> None:
    db = tmp_path / "lesc.db"
    Store(db).close()
    chart = tmp_path / "no" / "c.png"
    code, output = run("report", "--db", str(db), "--png", str(chart))
    assert code == 2  # refused before the report is made
    assert output == (
        f"Error: main report: Invalid value for '--png': '{chart}': there is no directory"
        f" '{chart.parent}'\n"
    )


def test_run_refuses_a_bad_rules_file_or_delay(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[result]]\nif = {}\nres = "XX"\n')
    code, output = run("run", "--rules", str(rules), "--db", str(tmp_path / "l.db"))
    assert code == 2
    assert "missing [[firearms]] rules" in output or "bad outcome" in output
    code, output = run("run", "--delay", "soon", "--db", str(tmp_path / "l.db"))
    assert code == 2
    assert "delay 'soon': expected SECONDS, MIN-MAX or lognormal:MU,SIGMA" in output
