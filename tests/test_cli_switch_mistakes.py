"""Mistakes and mishaps against a running switch, through the real command line: each is one
sentence on standard error that says what happened, and nothing is lost in silence."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from nlets_sim.tools.cli import main
from tests.cli_run import mistake
from tests.switch_process import running_switch


@pytest.fixture(scope="module")
def switch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A switch process: its address and its data directory."""
    data_dir = tmp_path_factory.mktemp("switch")
    with running_switch(data_dir) as port:
        yield f"127.0.0.1:{port}", str(data_dir)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def logged_on(ori: str, key: str, address: str) -> tuple[str, ...]:
    return ("--to", address, "--ori", ori, "--key", key, "--wait", "0.3")


def test_a_dropped_message_says_it_was_not_acknowledged_and_fault_remove_takes_one_rule(
    switch: tuple[str, str],
) -> None:
    address, data = switch
    added = run("fault", "add", "--data-dir", data, "drop", "--mke", "AM", "--count", "1")
    assert added.output == "1. drop mke=AM count=1 applied=0\n"
    albany = logged_on("NY0303000", "S3CRET", address)
    line = mistake(main, "am", *albany, "--timeout", "0.5", "NJ0010000", "DROPPED 1")
    assert line == (
        f"Error: {address}: no acknowledgement from the switch within 0.5 s: the message was"
        " not taken; send it again"
    )
    journal = run("journal", "search", "--data-dir", data, "--text", "DROPPED 1")
    assert journal.output == "no messages found\n"  # truly not taken
    run("fault", "add", "--data-dir", data, "delay", "--mke", "AML", "--delay-s", "0")
    listed = run("fault", "list", "--data-dir", data)
    assert listed.output.splitlines() == [
        "1. drop mke=AM count=1 applied=1",
        "2. delay mke=AML delay_s=0.0 applied=0",
    ]
    removed = run("fault", "remove", "--data-dir", data, "1")
    assert (removed.exit_code, removed.output) == (0, "2. delay mke=AML delay_s=0.0 applied=0\n")
    line = mistake(main, "fault", "remove", "--data-dir", data, "1")
    assert line == "Error: no fault rule 1: the rules in force are 2"
    line = mistake(main, "fault", "remove", "--data-dir", data, "0")
    assert line == "Error: main fault remove: Invalid value for 'ID': 0 is not in the range x>=1."
    assert run("fault", "clear", "--data-dir", data).output == "no fault rules\n"
    sent = run("am", *albany, "NJ0010000", "SENT AGAIN")
    assert sent.exit_code == 0, sent.output


def test_a_delivery_too_large_for_receive_is_refused_and_dead_lettered_not_lost(
    switch: tuple[str, str],
) -> None:
    address, data = switch
    albany = logged_on("NY0303000", "S3CRET", address)
    run("am", *albany, "--control", "BIG", "AZ0010000", "BIG " + "B" * 400)
    run("am", *albany, "--control", "SMALL", "AZ0010000", "SMALL AFTER")
    phoenix = logged_on("AZ0010000", "K-AZ0010000", address)
    line = mistake(main, "receive", *phoenix, "--max-bytes", "300")
    header = "AM.NY0303000.*BIG\r\n08:00 01/01/2026 00001\r\n08:00 01/01/2026 00001 AZ0010000\r\n"
    big = len(header + "TXT\r\nBIG ") + 400
    assert line == (
        f"Error: {address}: refused delivery 1 with NK (FRAME TOO LONG {big} > 300); the switch"
        " keeps it as a dead letter (nlets-sim status, journal show) and does not send it again"
    )
    again = run("receive", *phoenix, "--max-bytes", "300")
    assert again.exit_code == 0
    assert again.output.splitlines()[0] == "AM.NY0303000.*SMALL"
    assert again.output.splitlines()[-1] == "SMALL AFTER"
    status = run("status", "--data-dir", data).output.splitlines()
    assert status[status.index("dead letters, refused for good (1):") + 1] == "  AZ0010000  1"


@pytest.mark.parametrize(
    ("option", "says"),
    [
        (
            ("--since", "yesterday"),
            "Invalid value for '--since': 'yesterday': not a date and time: write the switch's"
            " local time in ISO 8601, e.g. 2026-11-23 or 2026-11-23T08:00",
        ),
        (
            ("--since", "2026-13-45"),
            "Invalid value for '--since': '2026-13-45': month must be in 1..12: write the"
            " switch's local time in ISO 8601, e.g. 2026-11-23 or 2026-11-23T08:00",
        ),
        (
            ("--until", "2026-01-01T08:00+01:00"),
            "Invalid value for '--until': '2026-01-01T08:00+01:00' has a time zone: write the"
            " switch's local time in ISO 8601, e.g. 2026-11-23 or 2026-11-23T08:00",
        ),
        (("--mke", "am"), "Invalid value for '--mke': 'am': message keys are upper case: AM"),
        (
            ("--mke", "XQ"),
            "Invalid value for '--mke': unknown message key 'XQ': one of AM, AML, RQ, RR, IAQ,"
            " IAR, YQ, YR, ER, SM",
        ),
        (
            ("--ori", "ny0303000"),
            "Invalid value for '--ori': 'ny0303000': ORIs are upper case: NY0303000",
        ),
        (("--limit", "0"), "Invalid value for '--limit': 0 is not in the range x>=1."),
    ],
)
def test_journal_search_refuses_what_would_match_nothing(
    switch: tuple[str, str], option: tuple[str, str], says: str
) -> None:
    _, data = switch
    line = mistake(main, "journal", "search", "--data-dir", data, *option)
    assert line == f"Error: main journal search: {says}"


def test_journal_search_shows_the_newest_and_says_how_many_more(
    switch: tuple[str, str],
) -> None:
    address, data = switch
    albany = logged_on("NY0303000", "S3CRET", address)
    for number in range(1, 4):
        run("am", *albany, "--control", f"L{number}", "NJ0020000", f"LIMITED {number}")
    found = run("journal", "search", "--data-dir", data, "--text", "LIMITED", "--limit", "2")
    assert [line.split()[2:] for line in found.stdout.splitlines()] == [
        ["AM", "NY0303000", "->", "NJ0020000"]
    ] * 2
    first, second = (int(line.split()[0]) for line in found.stdout.splitlines())
    assert first == second + 1  # newest first
    assert found.stderr == "... and 1 more (--limit 3 shows them all)\n"
    oldest = run("journal", "search", "--data-dir", data, "--text", "LIMITED", "--oldest-first")
    numbers = [int(line.split()[0]) for line in oldest.stdout.splitlines()]
    assert numbers == [second - 1, second, first]
    assert oldest.stderr == ""
    since = run("journal", "search", "--data-dir", data, "--since", "2026-01-01", "--text", "LIM")
    assert len(since.stdout.splitlines()) == 3  # a date alone is midnight
    until = run("journal", "search", "--data-dir", data, "--until", "2026-01-01T08:00")
    assert (until.stdout, until.stderr) == ("", "no messages found\n")


def test_admin_commands_given_the_data_dir_of_up_find_the_switch_in_it(tmp_path: Path) -> None:
    """`nlets-sim up --data-dir D` keeps the switch's files in D/switch: D works as well."""
    with running_switch(tmp_path / "switch"):
        status = run("status", "--data-dir", str(tmp_path))
        assert status.exit_code == 0
        assert status.output.startswith("uptime ")
        assert run("journal", "check", "--data-dir", str(tmp_path)).output == (
            f"{tmp_path / 'switch' / 'journal.sqlite3'}: OK\n"
        )
    elsewhere = tmp_path / "elsewhere"
    line = mistake(main, "journal", "search", "--data-dir", str(elsewhere))
    assert line == (
        f"Error: no journal at {elsewhere / 'journal.sqlite3'} (nor at"
        f" {elsewhere / 'switch' / 'journal.sqlite3'}, where `nlets-sim up --data-dir"
        f" {elsewhere}` keeps it): give --data-dir the switch's data directory"
    )
    line = mistake(main, "status", "--data-dir", str(elsewhere))
    assert line.startswith(f"Error: no switch is running with admin socket {elsewhere}/admin.sock")


def test_record_refuses_an_ori_not_in_the_directory_or_without_traffic(
    switch: tuple[str, str],
) -> None:
    _, data = switch
    line = mistake(main, "record", "--data-dir", data, "--ori", "ZZ0010000")
    assert line.startswith("Error: ZZ0010000 is not an ORI of the directory ")
    line = mistake(main, "record", "--data-dir", data, "--ori", "WY0020000")
    assert line == (
        f"Error: {data}/journal.sqlite3 holds no message sent by WY0020000: nothing to record"
    )
    line = mistake(
        main, "record", "--data-dir", data, "--ori", "NY0303000", "--since", "2027-01-01"
    )
    assert line == (
        f"Error: {data}/journal.sqlite3 holds no message sent by NY0303000 since"
        " 2027-01-01T00:00:00: nothing to record"
    )
    line = mistake(main, "record", "--data-dir", data, "--ori", "NY0303000", "--since", "soon")
    assert line.startswith("Error: main record: Invalid value for '--since': 'soon': not a date")


def test_lint_gives_a_too_long_text_the_switchs_own_er(switch: tuple[str, str]) -> None:
    address, _ = switch
    message = "AM.NY0303000.NJ0020000.*LONG.TXT\n" + "X" * 65_407 + "\n"
    linted = CliRunner().invoke(main, ["lint", "-"], input=message)
    sent = run_send(address, message)
    assert (linted.exit_code, sent.exit_code) == (1, 1)
    stamps = re.compile(r"\d\d:\d\d \d\d/\d\d/\d{4} \d{5}")
    assert stamps.sub("STAMP", linted.stdout).replace("\r\n", "\n") == stamps.sub(
        "STAMP", sent.stdout
    )
    assert "MESSAGE TOO LONG: TEXT OF 65407 BYTES, AT MOST 65406" in sent.stdout


def run_send(address: str, message: str) -> Result:
    login = logged_on("NY0303000", "S3CRET", address)
    return CliRunner().invoke(main, ["send", *login, "-"], input=message)
