"""A user's mistakes on either command line: one sentence on standard error, a non-zero exit,
never a traceback, never a quiet wrong answer."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click import Command
from click.testing import CliRunner

from lesc_daemon.cli import main as lesc
from nlets_sim.tools.cli import main as nlets
from tests.cli_run import mistake
from tests.switch_process import running_switch

PERSON = {"id": "P1", "names": ["DOE, JOHN"], "dob": "1980-01-15", "sex": "M"}


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory on a read-only file system (tests run as root: permissions do not stop
    root, a read-only mount does)."""
    path = tmp_path / "ro"
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


LOGIN = ("--ori", "NY0303000", "--key", "S3CRET")


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("localhost", "'localhost' has no port: write HOST:PORT, e.g. 127.0.0.1:7700"),
        ("localhost:70000", "'localhost:70000': the port must be a number from 1 to 65535"),
        ("localhost:x", "'localhost:x': the port must be a number from 1 to 65535"),
    ],
)
@pytest.mark.parametrize(
    ("cli", "command"),
    [
        (nlets, ("send", *LOGIN, "--to", "{}", "-")),
        (nlets, ("receive", *LOGIN, "--to", "{}")),
        (nlets, ("am", *LOGIN, "--to", "{}", "NJ", "HI")),
        (nlets, ("terminal", *LOGIN, "--to", "{}")),
        (nlets, ("replay", "--to", "{}", "fixtures/transcripts")),
        (nlets, ("load", "--to", "{}")),
        (lesc, ("run", "--switch", "{}")),
    ],
)
def test_an_address_without_a_good_port_is_one_sentence(
    cli: Command, command: tuple[str, ...], address: str, says: str
) -> None:
    args = [address if arg == "{}" else arg for arg in command]
    line = mistake(cli, *args)
    option = "--switch" if cli is lesc else "--to"
    assert line == f"Error: {cli.name} {args[0]}: Invalid value for '{option}': {says}"


def test_non_ascii_text_names_the_character() -> None:
    line = mistake(nlets, "am", *LOGIN, "NJ0010000", "CAFÉ AU LAIT")
    assert line == (
        "Error: the message text has 'É' (U+00C9) at character 4: Nlets text is ASCII only"
    )


def test_import_of_a_binary_file_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "persons.jsonl"
    source.write_bytes(b"SQLite format 3\x00\x10\x00\x01\x01\xff")
    line = mistake(lesc, "import", "--db", str(tmp_path / "l.db"), str(source))
    assert line == f"Error: {source} is a binary file: the import takes JSON lines"


def test_import_skips_a_utf8_bom_names_duplicates_and_takes_accents(tmp_path: Path) -> None:
    """A BOM is not an error; a duplicate id names its line and the line it repeats; an
    accented name is read without its accent (the matcher's own rule), not refused."""
    source = tmp_path / "persons.jsonl"
    accented = {**PERSON, "id": "P3", "names": ["DOE, JOSÉ"]}
    lines = [PERSON, {**PERSON, "id": "P2"}, PERSON, accented]
    source.write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(p) + "\n" for p in lines).encode())
    db = tmp_path / "l.db"
    result = CliRunner().invoke(lesc, ["import", "--db", str(db), str(source)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["line 3: id P1 already on line 1"]
    assert result.stdout == "loaded 3 person(s), skipped 1 bad line(s)\n"
    again = CliRunner().invoke(lesc, ["import", "--db", str(db), str(source)])
    assert again.stderr.splitlines() == [
        "line 3: id P1 already on line 1",
        f"line 1: id P1 is already in {db}",
        f"line 2: id P2 is already in {db}",
        f"line 4: id P3 is already in {db}",
    ]
    assert again.stdout == "loaded 0 person(s), skipped 4 bad line(s)\n"


@pytest.mark.parametrize("command", [("seed", "--persons", "1"), ("run",)])
def test_a_store_that_cannot_be_written_is_one_sentence(
    command: tuple[str, ...], tmp_path: Path, read_only_dir: Path
) -> None:
    line = mistake(lesc, *command, "--db", str(read_only_dir / "sub" / "l.db"))
    assert line == (
        f"Error: cannot create the store's directory {read_only_dir / 'sub'}: Read-only file system"
    )
    line = mistake(lesc, *command, "--db", str(read_only_dir / "l.db"))
    assert line == (
        f"Error: cannot write to the store's directory {read_only_dir}: "
        "permission denied or read-only"
    )
    (tmp_path / "file").write_text("")
    line = mistake(lesc, *command, "--db", str(tmp_path / "file" / "l.db"))
    assert line == f"Error: the store's directory {tmp_path / 'file'} is a file, not a directory"


@pytest.mark.parametrize("command", [("serve", "--port", "0"), ("up", "--port", "0")])
def test_a_data_directory_that_cannot_be_written_is_not_blamed_on_the_port(
    command: tuple[str, ...], tmp_path: Path, read_only_dir: Path
) -> None:
    target = read_only_dir if command[0] == "serve" else read_only_dir.parent / "ro"
    line = mistake(nlets, *command, "--data-dir", str(target))
    where = target if command[0] == "serve" else target / "switch"
    assert "is a switch running" not in line
    assert line.startswith("Error: cannot ")
    assert str(where) in line
    (tmp_path / "file").write_text("")
    line = mistake(nlets, "serve", "--port", "0", "--data-dir", str(tmp_path / "file"))
    assert line == f"Error: data directory {tmp_path / 'file'} is a file, not a directory"


def test_bad_rules_name_the_file_and_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[[iaq]]\nres = \n")
    line = mistake(lesc, "run", "--rules", str(rules), "--db", str(tmp_path / "l.db"))
    assert line == f"Error: {rules}: Invalid value (at line 2, column 7)"
    rules.write_bytes(b"\xff\xfe\x00binary")
    line = mistake(lesc, "run", "--rules", str(rules), "--db", str(tmp_path / "l.db"))
    assert line == f"Error: {rules}: not a TOML text file (not UTF-8)"


def test_a_bad_config_names_the_file_and_the_line_and_nothing_starts(tmp_path: Path) -> None:
    config = tmp_path / "switch.toml"
    config.write_text("window = 8\nheartbeat_s = \n")
    data = str(tmp_path / "d")
    line = mistake(nlets, "serve", "--config", str(config), "--data-dir", data)
    assert line == f"Error: {config}: not valid TOML: Invalid value (at line 2, column 15)"
    config.write_text('heartbeat_s = "ten"\n')
    result = CliRunner().invoke(nlets, ["serve", "--config", str(config), "--data-dir", data])
    assert result.exit_code == 2
    assert result.stdout == ""  # never "listening"
    assert result.stderr == f"Error: {config}: heartbeat_s must be a whole number, not 'ten'\n"
    config.write_text('[[fault]]\nkind = "drop"\nprobability = 2\n')
    line = mistake(nlets, "serve", "--config", str(config), "--data-dir", data)
    assert line == f"Error: {config}: [[fault]]: probability is between 0 and 1"


def test_an_unknown_time_zone_is_one_sentence(tmp_path: Path) -> None:
    line = mistake(nlets, "serve", "--tz", "Mars/Base", "--data-dir", str(tmp_path))
    assert line == (
        "Error: tz: unknown time zone 'Mars/Base': an IANA name such as UTC or Europe/Paris"
    )


@pytest.mark.parametrize(
    "command",
    [("query", "-"), ("report",), ("detainers",), ("leads",), ("inbox", "list")],
)
def test_read_only_commands_refuse_a_store_that_does_not_exist(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    db = tmp_path / "mistyped.sqlite3"
    line = mistake(lesc, *command[:-1], command[-1], "--db", str(db), stdin=b"")
    assert line == (
        f"Error: no LESC store at {db}; give the --db of a store made by lesc-daemon seed or import"
    )
    assert not db.exists()


LESC_RUN = (sys.executable, "-m", "lesc_daemon", "run")


@contextlib.contextmanager
def lesc_process(port: int, db: Path, *extra: str) -> Iterator[subprocess.Popen[str]]:
    """``lesc-daemon run`` against the switch on ``port``; killed at the end if still running."""
    with subprocess.Popen(
        [*LESC_RUN, "--switch", f"127.0.0.1:{port}", "--db", str(db), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()


def test_a_wrong_key_is_fatal_not_retried(tmp_path: Path) -> None:
    with (
        running_switch(tmp_path / "switch") as port,
        lesc_process(port, tmp_path / "l.db", "--key", "WRONG") as daemon,
    ):
        _, stderr = daemon.communicate(timeout=30)
    assert daemon.returncode == 1
    assert stderr.splitlines()[-1] == (
        "Error: the switch refused the logon as VTINS07S0: BAD KEY (check --ori and --key)"
    )
    assert "Traceback" not in stderr


def test_sigterm_stops_a_daemon_that_is_reconnecting(tmp_path: Path) -> None:
    with running_switch(tmp_path / "switch") as port:
        pass  # the port is now free: nothing listens there
    with lesc_process(port, tmp_path / "l.db") as daemon:
        assert daemon.stderr is not None
        for line in daemon.stderr:  # wait until it is in its reconnect loop
            if "switch not reachable" in line:
                break
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0


def wait_for_line(process: subprocess.Popen[str], text: str) -> None:
    assert process.stderr is not None
    for line in process.stderr:
        if text in line:
            return
    raise AssertionError(f"the daemon ended without logging {text!r}")


def test_a_second_lesc_displaces_the_first_which_stops_with_a_sentence(tmp_path: Path) -> None:
    """The two-LESC fight ends at once: the second logon takes the session over, the switch
    tells the first (LO SESSION TAKEN OVER), the first exits 1 instead of taking it back."""
    with (
        running_switch(tmp_path / "switch") as port,
        lesc_process(port, tmp_path / "first.db") as first,
    ):
        wait_for_line(first, "logged on")
        with lesc_process(port, tmp_path / "second.db") as second:
            wait_for_line(second, "logged on")
            _, rest = first.communicate(timeout=30)
            assert first.returncode == 1
            assert rest.splitlines()[-1] == (
                "Error: another terminal logged on as VTINS07S0 and the switch ended this"
                " session (SESSION TAKEN OVER); not logging on again"
            )
            assert '"logged on"' not in rest  # it never logged on again
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=10) == 0


def test_an_output_file_that_cannot_be_written_is_refused_before_any_work(
    tmp_path: Path, read_only_dir: Path
) -> None:
    """A long replay, load or screening never ends unable to keep its results."""
    transcript = tmp_path / "t.txt"
    transcript.write_text("logon NY0303000\n")
    target = read_only_dir / "report.xml"
    line = mistake(nlets, "replay", "--junit", str(target), str(transcript))
    assert line == (
        f"Error: main replay: Invalid value for '--junit': '{target}': '{read_only_dir}' cannot"
        " be written (read-only?)"
    )
    missing = tmp_path / "no" / "run.csv"
    line = mistake(nlets, "load", "--to", "127.0.0.1:9", "--csv", str(missing))
    assert line == (
        f"Error: main load: Invalid value for '--csv': '{missing}': there is no directory"
        f" '{missing.parent}'"
    )
    line = mistake(lesc, "report", "--db", str(tmp_path / "l.db"), "--png", str(tmp_path))
    assert line == (
        f"Error: main report: Invalid value for '--png': File '{tmp_path}' is a directory."
    )


def test_a_key_or_ori_that_no_switch_takes_is_refused_before_logging_on() -> None:
    line = mistake(nlets, "am", "--ori", "NY0303000", "--key", "SÉCRET", "NJ", "HELLO")
    assert line == "Error: the key has 'É' (U+00C9) at character 2: Nlets text is ASCII only"
    line = mistake(nlets, "am", "--ori", "ny0303000", "--key", "S3CRET", "NJ", "HELLO")
    assert (
        line
        == "Error: main am: Invalid value for '--ori': 'ny0303000': ORIs are upper case: NY0303000"
    )
    line = mistake(nlets, "receive", "--ori", "NY", "--key", "S3CRET")
    assert line == (
        "Error: main receive: Invalid value for '--ori': 'NY' is not an ORI (9 letters and"
        " digits, e.g. NY0303000)"
    )
    line = mistake(nlets, "am", "--ori", "NY0303000", "--key", "S3CRET", "NJ", "  ")
    assert line == "Error: the message text is empty: give the text to send"


def test_text_that_goes_into_nlets_messages_must_be_ascii(tmp_path: Path) -> None:
    """A key, an OCA or a reply with a character Nlets does not carry is refused at once:
    never a traceback, never a record the LESC's answers would carry to the switch."""
    db = str(tmp_path / "l.db")
    line = mistake(lesc, "run", "--db", db, "--key", "SÉ")
    assert line == "Error: --key has 'É' (U+00C9) at character 2: Nlets text is ASCII only"
    line = mistake(
        lesc, "ncic", "enter", "--db", db, "--person", "P1", "--type", "nseers", "--oca", "CASO-Ñ"
    )
    assert line == "Error: --oca has 'Ñ' (U+00D1) at character 6: Nlets text is ASCII only"
    line = mistake(lesc, "inbox", "reply", "--db", db, "1", "GRACIAS, JOSÉ")
    assert line == "Error: TEXT has 'É' (U+00C9) at character 13: Nlets text is ASCII only"
    line = mistake(nlets, "watch", "--ori", "ny0303000")
    assert line == (
        "Error: main watch: Invalid value for '--ori': 'ny0303000': ORIs are upper case: NY0303000"
    )


def test_load_refuses_identities_or_a_scenario_that_are_not_text(tmp_path: Path) -> None:
    binary = tmp_path / "file.bin"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    line = mistake(
        nlets, "load", "--to", "127.0.0.1:9", "--profile", "iaq", "--identities", str(binary)
    )
    assert line == (f"Error: main load: {binary}: not UTF-8 JSON lines (invalid start byte)")
    line = mistake(nlets, "load", "--to", "127.0.0.1:9", "--scenario", str(binary))
    assert line == (
        f"Error: main load: {binary}:1: byte 0xFF is not ASCII: a transcript is ASCII text"
        " (in a message to send, write a byte as {0xFF})"
    )
