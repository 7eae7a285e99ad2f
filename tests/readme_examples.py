"""The README's runnable examples: found by their markers, and run as a reader would run them.

A marker is an HTML comment on the line before a fenced code block:

* ``<!-- test: console -->``: a shell session, ``$ command`` lines each followed by the output
  expected byte for byte (standard output and standard error as a terminal shows them); a
  ``$ echo $?`` line prints the exit status of the command before it, and every other command
  must exit 0. ``nlets-sim serve``, ``nlets-sim up`` and ``lesc-daemon run`` keep running in
  the background until the block ends, their first lines of standard output compared.
  ``<!-- test: console after COMMAND -->`` starts COMMAND in the background first, unseen.
* ``<!-- test: file NAME -->``: the block's text is written to NAME, for the examples after it;
* ``<!-- test: pytest -->``: the block is a test module, run by pytest with the installed plugin
  in a scratch project holding the files written so far.

Every block of one README shares one scratch directory, in order.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MARKER = re.compile(r"<!-- test: (?P<kind>[a-z]+)(?: (?P<argument>.+?))? -->")
FENCE = re.compile(r"(?P<fence>```+)(?P<language>\S*)")
KINDS = ("console", "file", "pytest")
LONG_RUNNING = (("nlets-sim", "serve"), ("nlets-sim", "up"), ("lesc-daemon", "run"))
HEREDOC = re.compile(r"<<-?'?(?P<word>[A-Z_]+)'?")
START_TIMEOUT_S = 60.0
COMMAND_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class Example:
    kind: str
    argument: str
    line: int  # of the marker in the README
    text: str  # the block's lines, each ended by a newline


@dataclass(frozen=True, slots=True)
class Command:
    line: int  # in the README
    text: str  # what is typed, heredoc included
    expected: str  # the output shown after it, each line ended by a newline

    @property
    def long_running(self) -> bool:
        words = self.text.split()
        return tuple(words[:2]) in LONG_RUNNING


class ExampleError(ValueError):
    """A marker the README's reader cannot follow; the text names the line."""


def examples(readme: str) -> list[Example]:
    """The marked blocks of ``readme``, in order."""
    lines = readme.splitlines()
    found: list[Example] = []
    for index, line in enumerate(lines):
        marker = MARKER.fullmatch(line.strip())
        if marker is None:
            if line.startswith("<!-- test"):
                raise ExampleError(f"README.md:{index + 1}: a marker is <!-- test: KIND [ARG] -->")
            continue
        if marker["kind"] not in KINDS:
            raise ExampleError(f"README.md:{index + 1}: unknown kind {marker['kind']!r}")
        fence = FENCE.fullmatch(lines[index + 1]) if index + 1 < len(lines) else None
        if fence is None:
            raise ExampleError(f"README.md:{index + 1}: no code block after the marker")
        end = next((i for i in range(index + 2, len(lines)) if lines[i] == fence["fence"]), None)
        if end is None:
            raise ExampleError(f"README.md:{index + 2}: the code block is not closed")
        text = "".join(f"{body}\n" for body in lines[index + 2 : end])
        found.append(Example(marker["kind"], marker["argument"] or "", index + 1, text))
    return found


def commands(example: Example) -> list[Command]:
    """A console block's commands, each with the output shown after it."""
    lines = example.text.splitlines()
    found: list[Command] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        start = example.line + 2 + index
        index += 1
        if not line.startswith("$ "):
            if line.strip():
                raise ExampleError(f"README.md:{start}: output before any command")
            continue
        typed = [line[2:]]
        heredoc = HEREDOC.search(line)
        while heredoc is not None or typed[-1].endswith("\\"):
            if index >= len(lines):
                raise ExampleError(f"README.md:{start}: the command is not finished")
            typed.append(lines[index])
            index += 1
            if heredoc is not None and typed[-1] == heredoc["word"]:
                break
        output: list[str] = []
        while index < len(lines) and not lines[index].startswith("$ "):
            output.append(lines[index])
            index += 1
        while output and not output[-1]:
            output.pop()
        found.append(Command(start, "\n".join(typed), "".join(f"{o}\n" for o in output)))
    return found


class Loopback:
    """Commands run with a loopback of their own (a network namespace, when this process may
    make one), so that the README's fixed port 7700 cannot meet another switch."""

    def __init__(self) -> None:
        self.prefix: list[str] = []
        self._holder: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Loopback:
        try:
            holder = subprocess.Popen(
                ["unshare", "--net", "sh", "-c", "echo ready && exec sleep infinity"],
                stdout=subprocess.PIPE,
            )
        except OSError:
            return self
        assert holder.stdout is not None
        if holder.stdout.readline() != b"ready\n":  # not allowed here: the host's loopback
            holder.wait()
            return self
        self._holder = holder
        self.prefix = ["nsenter", "--target", str(holder.pid), "--net"]
        subprocess.run([*self.prefix, "ip", "link", "set", "lo", "up"], check=True)
        return self

    def __exit__(self, *_: object) -> None:
        if self._holder is not None:
            self._holder.kill()
            self._holder.wait()
            if self._holder.stdout is not None:
                self._holder.stdout.close()


@dataclass(frozen=True, slots=True)
class Outcome:
    command: Command
    output: str
    status: int


class Shell:
    """Runs a console block's commands in ``directory``, as a reader's shell would."""

    def __init__(self, directory: Path, loopback: Loopback) -> None:
        self.directory = directory
        self.loopback = loopback
        bin_dir = str(Path(sys.executable).parent)
        self.env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(directory),
            "NO_COLOR": "1",
            "TERM": "dumb",
        }
        self.env.pop("NLETS_SIM_PORT", None)
        self.background: list[subprocess.Popen[bytes]] = []
        self.last_status = 0

    def run(self, command: Command) -> Outcome:
        if command.text == "echo $?":
            return Outcome(command, f"{self.last_status}\n", 0)
        if command.long_running:
            return Outcome(command, self.start(command.text, command.expected.count("\n")), 0)
        done = subprocess.run(
            [*self.loopback.prefix, "bash", "-c", command.text],
            cwd=self.directory,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
        self.last_status = done.returncode
        return Outcome(command, done.stdout.decode("utf-8", "replace"), done.returncode)

    def start(self, text: str, lines: int) -> str:
        """Start a long-running command; its first ``lines`` lines of standard output (its
        log on standard error goes to a file of the scratch directory)."""
        log = (self.directory / f"background-{len(self.background)}.log").open("wb")
        process = subprocess.Popen(
            [*self.loopback.prefix, "bash", "-c", f"exec {text}"],
            cwd=self.directory,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        self.background.append(process)
        assert process.stdout is not None
        received = b""
        deadline = time.monotonic() + START_TIMEOUT_S
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while received.count(b"\n") < lines and time.monotonic() < deadline:
                if not selector.select(deadline - time.monotonic()):
                    break
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    break
                received += chunk
        return "".join(f"{line}\n" for line in received.decode().splitlines()[:lines])

    def stop(self) -> None:
        """SIGTERM to what runs in the background, as Ctrl-C would end it."""
        for process in self.background:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.background:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        self.background.clear()


@contextlib.contextmanager
def shell(directory: Path, loopback: Loopback) -> Iterator[Shell]:
    session = Shell(directory, loopback)
    try:
        yield session
    finally:
        session.stop()
