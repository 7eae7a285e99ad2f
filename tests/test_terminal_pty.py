"""``nlets-sim terminal`` driven as a person drives it: in a real pseudo-terminal, against a
real switch in its own process."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from click.testing import CliRunner

from nlets_sim.tools.cli import main
from tests.switch_process import running_switch

ESCAPES = re.compile(rb"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07]*\x07|[()][0-9A-Za-z]|[=>78])")
ENTER, CTRL_C, CTRL_D, CTRL_U, UP = b"\r", b"\x03", b"\x04", b"\x15", b"\x1b[A"
AM_TO_ALBANY = ("am", "--ori", "NJ0010000", "--key", "K-NJ0010000", "--wait", "0.5")


class Screen:
    """The terminal process on a pty: what it has written so far (escape codes removed)."""

    def __init__(self, process: subprocess.Popen[bytes], master: int) -> None:
        self.process, self.master = process, master
        self.raw = b""

    @property
    def text(self) -> str:
        return ESCAPES.sub(b"", self.raw).replace(b"\r", b"").decode("ascii", "replace")

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def wait_for(self, pattern: str, timeout: float = 20.0, after: int = 0) -> int:
        """Read until ``pattern`` (a regular expression) is on the screen after position
        ``after``; returns where it ends."""
        deadline = time.monotonic() + timeout
        while (found := re.search(pattern, self.text[after:])) is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{pattern!r} not on the screen:\n{self.text[after:]}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                with contextlib.suppress(OSError):  # the process closed its side
                    self.raw += os.read(self.master, 65536)
        return after + found.end()

    def wait_exit(self, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                with contextlib.suppress(OSError):
                    self.raw += os.read(self.master, 65536)
            assert time.monotonic() < deadline, f"still running:\n{self.text}"
        return self.process.returncode


@contextlib.contextmanager
def terminal_on_a_pty(port: int, history: Path, ori: str = "NY0303000") -> Iterator[Screen]:
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1", "COLUMNS": "100"}
    key = "S3CRET" if ori == "NY0303000" else f"K-{ori}"
    command = [sys.executable, "-m", "nlets_sim", "terminal", "--to", f"127.0.0.1:{port}"]
    with subprocess.Popen(
        [*command, "--ori", ori, "--key", key, "--history", str(history)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    ) as process:
        os.close(slave)
        try:
            yield Screen(process, master)
        finally:
            if process.poll() is None:
                process.kill()
            os.close(master)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_prompt_deliveries_above_the_typed_line_history_and_ctrl_d(tmp_path: Path) -> None:
    history = tmp_path / "history"
    with running_switch(tmp_path / "switch") as port:
        with terminal_on_a_pty(port, history) as screen:
            at = screen.wait_for(r"logged on as NY0303000, LST \d{8}\. /help for help\.")
            at = screen.wait_for(r"NY0303000>", after=at)
            screen.type(b"AM.NY0303000.NJ0010000.*T1.TXT" + ENTER + b"FIRST LINE" + ENTER)
            at = screen.wait_for(r"\.+ FIRST LINE", after=at)  # a continuation line
            screen.type(ENTER)
            at = screen.wait_for(r"-- sent seq 1\n", after=at)
            at = screen.wait_for(r"-- delivery seq \d+\nSM\.NL0000000\.\*T1", after=at)
            screen.type(b"PARTLY TYPED")  # a delivery arrives while this is typed
            at = screen.wait_for(r"PARTLY TYPED", after=at)
            sent = CliRunner().invoke(
                main, [*AM_TO_ALBANY, "--to", f"127.0.0.1:{port}", "NY0303000", "HELLO ALBANY"]
            )
            assert sent.exit_code == 0, sent.output
            at = screen.wait_for(
                r"AM\.NJ0010000\n[^\n]*\n[^\n]*\nTXT\nHELLO ALBANY\n--\n", after=at
            )
            screen.wait_for(r"NY0303000>\s*PARTLY TYPED", after=at)  # redrawn below, kept whole
            screen.type(CTRL_U + b"/nonsense" + ENTER)
            at = screen.wait_for(
                r"-- unknown command /nonsense; /help lists the commands", after=at
            )
            at = screen.wait_for(r"NY0303000>", after=at)  # the next prompt reads keys raw;
            screen.type(CTRL_D)  # typed between two prompts, the tty itself would take it
            assert screen.wait_exit() == 0
            assert "logged off" in screen.text[at:]
            assert "Traceback" not in screen.text
        assert "AM.NY0303000.NJ0010000.*T1.TXT\n+FIRST LINE" in history.read_text()
        with terminal_on_a_pty(port, history) as again:  # a new session recalls the message
            at = again.wait_for(r"NY0303000>")
            again.type(UP * 2)
            again.wait_for(r"AM\.NY0303000\.NJ0010000\.\*T1\.TXT", after=at)
            again.type(CTRL_C)
            assert again.wait_exit() == 0
            assert "switch closed" not in again.text
            assert "Traceback" not in again.text


def test_the_link_comes_back_after_a_switch_restart_with_the_unsent_message(
    tmp_path: Path,
) -> None:
    """The switch goes away: the terminal says so and keeps logging on again; a message typed
    meanwhile is kept and goes out after the logon; Ctrl-C then leaves cleanly."""
    port, data = free_port(), tmp_path / "switch"
    with contextlib.ExitStack() as first_switch:
        first_switch.enter_context(running_switch(data, "--port", str(port)))
        screen = terminal_on_a_pty(port, tmp_path / "history")
        with screen as typed:
            at = typed.wait_for(r"NY0303000>")
            first_switch.close()  # the switch stops; the terminal stays
            at = typed.wait_for(r"-- link closed: [^\n]*; logging on again\n", after=at)
            typed.type(b"AM.NY0303000.NJ0010000.*R1.TXT" + ENTER + b"WHILE DOWN" + ENTER + ENTER)
            at = typed.wait_for(
                r"-- the link is down: the message is kept and goes out after the logon", after=at
            )
            with running_switch(data, "--port", str(port)):
                at = typed.wait_for(r"-- logged on again, LST \d{8}\n", after=at)
                at = typed.wait_for(r"-- delivery seq \d+\nSM\.NL0000000\.\*R1\n", after=at)
                at = typed.wait_for(r"NY0303000>", after=at)  # keys go to the prompt again
                typed.type(CTRL_C)
                assert typed.wait_exit() == 0
            assert "logged off" in typed.text[at:]
            assert "Traceback" not in typed.text
