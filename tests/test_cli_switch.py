"""The switch's command line for people: send, am, receive, status, remove, journal."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from nlets_sim.tools.cli import main
from tests.switch_process import running_switch


@pytest.fixture(scope="module")
def switch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("switch")
    with running_switch(data_dir) as port:
        yield f"127.0.0.1:{port}", data_dir


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.output


def as_albany(command: str, address: str, *args: str, stdin: str | None = None) -> tuple[int, str]:
    """``nlets-sim COMMAND`` logged on as NY0303000, collecting replies for half a second."""
    login = ["--to", address, "--ori", "NY0303000", "--key", "S3CRET", "--wait", "0.5"]
    return run(command, *login, *args, stdin=stdin)


def test_am_to_an_absent_ori_is_stored_and_received_later(switch: tuple[str, Path]) -> None:
    address, _ = switch
    code, output = as_albany("am", address, "--control", "B1234", "NJ0010000", "ROAD CLOSED")
    assert code == 0
    assert output.splitlines()[:6] == [
        "SM.NL0000000.*B1234",
        "08:00 01/01/2026 00001",
        "08:00 01/01/2026 00001 NY0303000",
        "TXT",
        ".02. USER OUT OF SERVICE FOR MSG TYPE, NLETS WILL FORWARD",
        "DESTINATION NJ0010000",
    ]
    code, output = run(
        "receive", "--to", address, "--ori", "NJ0010000", "--key", "K-NJ0010000", "--wait", "0.5"
    )
    assert code == 0
    assert output.splitlines() == [
        "AM.NY0303000.*B1234",
        "08:00 01/01/2026 00001",
        "08:00 01/01/2026 00001 NJ0010000",
        "TXT",
        "ROAD CLOSED",
    ]


def test_send_exits_1_with_the_er_text(switch: tuple[str, Path]) -> None:
    address, _ = switch
    code, output = as_albany("send", address, "-", stdin="IAQ.NY0303000.NY.*Q7.TXT\nPUR/C\n")
    assert code == 1
    assert output.splitlines()[4:] == [
        ".02. MESSAGE TYPE NOT ALLOWED TO DESTINATION",
        "IAQ GOES TO AX ONLY",
        "ORIGINAL MESSAGE",
        "IAQ.NY0303000.NY.*Q7.TXT",
        "PUR/C",
    ]


def test_bad_key_is_a_clear_error(switch: tuple[str, Path]) -> None:
    address, _ = switch
    code, output = run("am", "--to", address, "--ori", "NY0303000", "--key", "WRONG", "NJ", "X")
    assert code == 1
    assert output == f"Error: {address}: BAD KEY\n"


def test_status_remove_and_journal(switch: tuple[str, Path]) -> None:
    address, data_dir = switch
    code, output = run("remove", "--data-dir", str(data_dir), "--line", "PA", "--mke", "AM")
    assert (code, output) == (0, "removed: PA/AM\n")
    code, output = as_albany("am", address, "PA", "NOT TODAY")
    assert ".04. USER OUT OF SERVICE FOR MSG TYPE, NLETS WILL NOT FORWARD" in output
    code, output = run(
        "remove", "--data-dir", str(data_dir), "--line", "PA", "--mke", "AM", "--clear"
    )
    assert (code, output) == (0, "removed: none\n")
    code, output = run("status", "--data-dir", str(data_dir))
    assert code == 0
    assert "  NY/input  " in output
    code, output = run("journal", "search", "--data-dir", str(data_dir), "--text", "NOT TODAY")
    (line,) = output.splitlines()
    assert line.split()[2:] == ["AM", "NY0303000", "->", "PA"]
    number = line.split()[0]
    code, output = run("journal", "show", "--data-dir", str(data_dir), number)
    assert "NOT TODAY" in output
    deliveries = [line for line in output.splitlines() if "delivery to" in line]
    assert deliveries == [  # remove status: only the SM to the sender was queued
        "  delivery to NY0303000 via NY0303000 seq 3 sent 2026-01-01T08:00:00 acked"
    ]


def test_status_without_a_switch_says_so(tmp_path: Path) -> None:
    code, output = run("status", "--data-dir", str(tmp_path))
    assert code == 1
    assert output.startswith("Error: no switch is running with admin socket")


def test_serve_refuses_a_bad_config_or_directory(tmp_path: Path) -> None:
    config = tmp_path / "switch.toml"
    config.write_text("heartbeat = 5\n")
    code, output = run("serve", "--config", str(config), "--data-dir", str(tmp_path))
    assert code == 2
    assert "unknown configuration keys: heartbeat" in output
    directory = tmp_path / "directory.toml"
    directory.write_text('[[line]]\ncode = "NY"\n')
    code, output = run(
        "serve", "--directory", str(directory), "--data-dir", str(tmp_path), "--port", "0"
    )
    assert code == 1
    assert output.splitlines() == [
        f"Error: {directory}: line 1: missing or non-text field control_ori",
        f"{directory}: line 1: missing or non-text field name",
        f"{directory}: line 1: no [[ori]] tables: a directory has [[line]] tables, [[ori]] tables"
        " and restricted_keys",
    ]


def test_send_to_a_switch_that_is_not_there_says_so() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, output = run(
        "am", "--to", f"127.0.0.1:{port}", "--ori", "NY0303000", "--key", "X", "NJ", "HELLO"
    )
    assert code == 1
    assert output.startswith(f"Error: 127.0.0.1:{port}: ")
    assert "Connect call failed" in output or "refused" in output.lower()


def test_am_with_a_bad_destination_is_a_usage_error() -> None:
    code, output = run("am", "--ori", "NY0303000", "--key", "X", "NEW YORK", "HELLO")
    assert code == 2
    assert "bad destinations ('NEW YORK',)" in output


def test_interactive_terminal_sends_and_keeps_history(switch: tuple[str, Path]) -> None:
    address, _ = switch
    typed = "AM.NY0303000.NJ0020000.*T1.TXT\nFIRST LINE\n\n/history\n/again 1\n/quit\n"
    code, output = run(
        "terminal", "--to", address, "--ori", "NY0303000", "--key", "S3CRET", stdin=typed
    )
    assert code == 0
    lines = output.splitlines()
    assert lines[0].startswith("logged on as NY0303000, LST ")
    sent = [line for line in lines if line.startswith("-- sent")]
    assert len(sent) == 2
    assert sent[1] == f"-- sent again as seq {int(sent[0].split()[-1]) + 1}"
    assert "1: AM.NY0303000.NJ0020000.*T1.TXT" in lines


def test_serve_on_a_port_in_use_says_so(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, output = run("serve", "--port", str(port), "--data-dir", str(tmp_path))
    assert code == 1
    assert output.startswith(f"Error: cannot listen on 127.0.0.1:{port}: ")
    assert output.rstrip().endswith("(is a switch running?)")


def test_status_shows_a_logon_lockout(switch: tuple[str, Path]) -> None:
    """Five bad keys for one ORI lock it out (the default); the sixth try, with the right key,
    still reads BAD KEY, and ``status`` names the lockout."""
    address, data_dir = switch
    for key in ("A", "B", "C", "D", "E", "K-WY0010000"):
        code, output = run("am", "--to", address, "--ori", "WY0010000", "--key", key, "WY", "X")
        assert (code, output) == (1, f"Error: {address}: BAD KEY\n")
    code, output = run("status", "--data-dir", str(data_dir))
    assert code == 0
    lines = output.splitlines()
    assert any(line.startswith("failed logons ") for line in lines)
    assert any(line.startswith("  locked out: WY0010000  ") for line in lines)
