"""Files that are not what a command takes: each is refused with one sentence naming the file
and a non-zero exit, never accepted in silence."""

from __future__ import annotations

import socket
from pathlib import Path

from click.testing import CliRunner

from lesc_daemon.cli import main as lesc
from nlets_sim.tools.cli import main
from tests.cli_run import mistake

WHAT_A_DIRECTORY_HAS = "a directory has [[line]] tables, [[ori]] tables and restricted_keys"


def test_replay_of_a_directory_without_transcripts_is_refused(tmp_path: Path) -> None:
    line = mistake(main, "replay", str(tmp_path))
    assert line == f"Error: {tmp_path} holds no transcripts (*.txt files): nothing to replay"
    (tmp_path / "notes.md").write_text("logon NY0303000\n")
    assert mistake(main, "replay", str(tmp_path)) == line
    empty = tmp_path / "empty.txt"
    empty.write_text("# only a comment\n\n")
    result = CliRunner().invoke(main, ["replay", str(empty)])
    assert result.exit_code == 1  # one transcript failed
    assert result.stdout.splitlines() == [
        f"FAIL {empty}",
        f"  FAIL not read: {empty}: no steps (logon, send, expect ...): nothing to replay",
        "0 passed, 1 failed",
    ]


def directory_check(path: Path) -> list[str]:
    """``nlets-sim directory check PATH``, which must fail: the lines it printed."""
    result = CliRunner().invoke(main, ["directory", "check", str(path)])
    assert result.exit_code == 1
    return result.output.splitlines()


def test_directory_check_refuses_an_empty_or_unrelated_toml(tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    assert directory_check(empty) == [
        f"{empty}: line 1: no [[line]] tables: {WHAT_A_DIRECTORY_HAS}",
        f"{empty}: line 1: no [[ori]] tables: {WHAT_A_DIRECTORY_HAS}",
    ]
    unrelated = tmp_path / "pyproject.toml"
    unrelated.write_text('[project]\nname = "x"\n\n[tool.ruff]\nline-length = 99\n')
    assert directory_check(unrelated) == [
        f"{unrelated}: line 1: no [[line]] tables: {WHAT_A_DIRECTORY_HAS}",
        f"{unrelated}: line 1: no [[ori]] tables: {WHAT_A_DIRECTORY_HAS}",
        f"{unrelated}: line 1: unknown key project: {WHAT_A_DIRECTORY_HAS}",
        f"{unrelated}: line 4: unknown key tool: {WHAT_A_DIRECTORY_HAS}",
    ]
    binary = tmp_path / "directory.toml"
    binary.write_bytes(b'[[line]]\ncode = "\xff"\n')
    assert directory_check(binary) == [f"{binary}: line 2: not UTF-8 text: not a directory file"]
    line = mistake(main, "directory", "check", str(tmp_path))
    assert line == (
        f"Error: main directory check: Invalid value for '[PATH]': File '{tmp_path}' is a"
        " directory."
    )


def test_serve_refuses_an_empty_directory_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    result = CliRunner().invoke(
        main, ["serve", "--directory", str(empty), "--data-dir", str(tmp_path), "--port", "0"]
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: {empty}: line 1: no [[line]] tables: {WHAT_A_DIRECTORY_HAS}",
        f"{empty}: line 1: no [[ori]] tables: {WHAT_A_DIRECTORY_HAS}",
    ]


AM = "AM.NY0303000.NJ0010000.*B1.TXT"


def test_lint_applies_the_switchs_frame_limit() -> None:
    """A 200 KB message is refused by the switch's link reader with NK: lint says so."""
    result = CliRunner().invoke(main, ["lint", "-"], input=f"{AM}\n{'X' * 200_000}\n")
    assert result.exit_code == 1
    assert result.stdout == f"NK 00000000 FRAME TOO LONG {len(AM) + 2 + 200_000} > 65536\n"
    assert result.stderr == (
        "the switch refuses a message over 65536 bytes with this NK and closes the link;"
        " a message's text may be at most 65406 bytes\n"
    )


def test_lint_and_send_read_cr_alone_as_a_line_end(tmp_path: Path) -> None:
    """A file with CR-only line ends (old Mac editors) reads as lines, not as one line."""
    path = tmp_path / "am.txt"
    path.write_bytes(f"{AM}\rROAD CLOSED\rAT EXIT 4\r".encode())
    result = CliRunner().invoke(main, ["lint", str(path)])
    assert (result.exit_code, result.output) == (0, "OK AM NY0303000 -> NJ0010000\n")


def test_files_that_are_not_text_or_not_the_right_kind_are_one_sentence(tmp_path: Path) -> None:
    binary = tmp_path / "list.csv"
    binary.write_bytes(b"NAM,DOB\n\xff\xfe\n")
    line = mistake(main, "screen", "--ori", "DCUSSS000", "--key", "K", str(binary))
    assert line == f"Error: {binary}: not UTF-8 text: save the list as UTF-8 CSV"
    line = mistake(main, "load", "--to", "127.0.0.1:9", "--credentials", str(binary))
    assert line == f"Error: {binary}: line 2: byte 0xFF is not UTF-8: this is not a text file"
    plain = tmp_path / "plain.txt"
    plain.write_text("not a directory\n")
    line = mistake(main, "broker", "--data-dir", str(plain))
    assert line == f"Error: data directory {plain} is a file, not a directory"
    line = mistake(main, "serve", "--directory", str(tmp_path))
    assert line == (
        f"Error: main serve: Invalid value for '--directory': File '{tmp_path}' is a directory."
    )
    line = mistake(main, "serve", "--tls-cert", str(plain), "--data-dir", str(tmp_path / "d"))
    assert line.startswith(f"Error: TLS: cannot use {plain}: [SSL] PEM lib")
    assert "is a switch running" not in line
    line = mistake(main, "directory", "hash-key", " ")
    assert line == "Error: the key is empty: give the logon key to hash"


def test_load_against_no_switch_says_so() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line = mistake(main, "load", "--to", f"127.0.0.1:{port}", "--terminals", "1", "--count", "1")
    assert line == f"Error: 127.0.0.1:{port}: connection refused: is a switch running there?"


def test_the_lesc_refuses_a_short_file_as_its_store_and_leaves_it_alone(tmp_path: Path) -> None:
    """SQLite would take a file shorter than its header for an empty database and write over
    it: a note given as --db stays as it was."""
    note = tmp_path / "notes.txt"
    note.write_text("call back\n")
    for command in (("check",), ("seed", "--persons", "1"), ("detainers",)):
        line = mistake(lesc, *command, "--db", str(note))
        assert line == (
            f"Error: {note} is not a LESC store (a file of 10 bytes, not an SQLite database);"
            " give the --db of a store made by lesc-daemon seed or import"
        )
    assert note.read_text() == "call back\n"


def test_the_lesc_refuses_an_empty_import_and_a_negative_population(tmp_path: Path) -> None:
    empty = tmp_path / "persons.jsonl"
    empty.write_text("\n\n")
    db = tmp_path / "l.db"
    line = mistake(lesc, "import", "--db", str(db), str(empty))
    assert line == (f"Error: {empty} holds no persons (one JSON object per line): nothing loaded")
    assert not db.exists()
    line = mistake(lesc, "seed", "--db", str(db), "--persons", "-1")
    assert line == "Error: main seed: Invalid value for '--persons': -1 is not in the range x>=0."
