"""``nlets-sim terminal``: an interactive terminal for operators and trainers.

On a terminal it is built on prompt_toolkit: a prompt with line editing, a history of the
messages typed kept across sessions (``--history``), deliveries printed above the line being
typed, multi-line messages (Enter on an empty line sends, Alt-Enter sends at once), a link that
comes back by itself after the switch went away, with what was typed meanwhile sent after the
logon, and Ctrl-C or Ctrl-D to log off and leave. From a pipe it reads lines (for scripts):
an empty line sends the lines before it.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import click
from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.patch_stdout import patch_stdout

from nlets_sim.console.errors import OUTPUT_FILE, UserError, link_failure
from nlets_sim.console.message_file import prepare
from nlets_sim.link.terminal import LinkClosed, LogonRejected, SessionTakenOver, Terminal
from nlets_sim.tools.cli_traffic import Link, link_options, show

HELP = """\
Type or paste a message, then an empty line to send it, e.g.
  AM.NY0303000.NJ.*A1.TXT
  HELLO FROM ALBANY
  <empty line>
Deliveries are printed as they arrive. Commands:
  /history   the messages sent in this session, numbered
  /again N   send message N of the history again (a new message, a new seq)
  /help      this screen
  /quit      log off and leave (Ctrl-D or Ctrl-C do the same)
"""
RECONNECT_MAX_S = 5.0


def default_history() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "nlets-sim" / "terminal-history"


class Session:
    """One operator's session: what a command or a typed message does, and the link kept up
    (deliveries shown, reconnects) while they type. ``say`` prints a line for the operator."""

    def __init__(self, terminal: Terminal, say: Callable[[str], None]) -> None:
        self.terminal = terminal
        self.say = say
        self.sent: list[bytes] = []
        self.up = asyncio.Event()  # logged on now
        self.ended: str | None = None  # why the session cannot go on (displaced, refused)
        self.on_end: Callable[[], None] = lambda: None

    async def handle(self, text: str) -> bool:
        """A typed message or command; False when the operator leaves."""
        text = text.strip("\n")
        if not text.strip():
            return True
        if text.startswith("/") and "\n" not in text:
            return await self._command(*text.partition(" ")[::2])
        try:
            ascii_text = text.encode("ascii")
        except UnicodeEncodeError as error:
            self.say(f"-- not sent: {text[error.start]!r} is not ASCII (Nlets text is ASCII)")
            return True
        await self._send(prepare(ascii_text))
        return True

    async def _command(self, command: str, argument: str) -> bool:
        if command == "/quit":
            return False
        if command == "/history":
            for number, sent in enumerate(self.sent, start=1):
                self.say(f"{number}: {sent.decode('ascii').splitlines()[0]}")
            if not self.sent:
                self.say("-- nothing sent yet in this session")
        elif command == "/again":
            if not argument.isdigit() or not 0 < int(argument) <= len(self.sent):
                self.say(f"-- /again takes a number from /history (1 to {len(self.sent)})")
            else:
                await self._send(self.sent[int(argument) - 1], again=True)
        elif command == "/help":
            self.say(HELP.rstrip("\n"))
        else:
            self.say(f"-- unknown command {command}; /help lists the commands")
        return True

    async def _send(self, message: bytes, *, again: bool = False) -> None:
        if not again:
            self.sent.append(message)
        if not self.up.is_set():
            self.terminal.post(message)
            self.say("-- the link is down: the message is kept and goes out after the logon")
            return
        try:
            seq = await self.terminal.send(message)
        except LinkClosed:
            self.terminal.post(message)
            self.say("-- the link is down: the message is kept and goes out after the logon")
            return
        self.say(f"-- sent again as seq {seq}" if again else f"-- sent seq {seq}")

    async def start(self) -> None:
        lst = await self.terminal.connect()
        self.up.set()
        self.say(f"logged on as {self.terminal.ori}, LST {lst:08d}. /help for help.")

    async def follow(self) -> None:
        """Print deliveries as they come; when the link drops, log on again (with a growing
        pause) unless the switch said another terminal took the session over."""
        while True:
            try:
                delivery = await self.terminal.receive(timeout=None)
            except LinkClosed as closed:
                self.up.clear()
                if isinstance(closed, SessionTakenOver):
                    self._end(str(closed))
                    return
                self.say(f"-- link closed: {closed.reason}; logging on again")
                if not await self._reconnect():
                    return
                continue
            self.say(f"-- delivery seq {delivery.seq}\n{show(delivery)}\n--")

    async def _reconnect(self) -> bool:
        pause = 0.2
        while True:
            await self.terminal.abort()
            try:
                lst = await self.terminal.connect()
            except LogonRejected as rejected:
                self._end(f"the switch refused the logon: {rejected.reason}")
                return False
            except (OSError, LinkClosed, TimeoutError):
                await asyncio.sleep(pause)  # a backoff, not a wait for an event
                pause = min(pause * 2, RECONNECT_MAX_S)
                continue
            self.up.set()
            self.say(f"-- logged on again, LST {lst:08d}")
            return True

    def _end(self, reason: str) -> None:
        self.ended = reason
        self.say(f"-- {reason}")
        self.on_end()

    async def close(self, follower: asyncio.Task[None]) -> None:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
        await self.terminal.close()


async def _typed_on_a_tty(session: Session, history: Path) -> None:
    """Messages from prompt_toolkit's prompt until /quit, Ctrl-D, Ctrl-C or the end."""
    history.parent.mkdir(parents=True, exist_ok=True)
    prompt: PromptSession[str] = PromptSession(
        history=FileHistory(str(history)),
        multiline=True,
        key_bindings=_keys(),
        prompt_continuation=lambda width, _line, _soft: "." * (width - 1) + " ",
    )

    def end_prompt() -> None:
        if prompt.app.is_running:
            prompt.app.exit(exception=EOFError())

    session.on_end = end_prompt
    with patch_stdout(raw=True):
        while session.ended is None:
            try:
                text = await prompt.prompt_async(f"{session.terminal.ori}> ")
            except (EOFError, KeyboardInterrupt):
                return
            if not await session.handle(text):
                return


def _keys() -> KeyBindings:
    keys = KeyBindings()

    @keys.add("enter")
    def _enter(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        document = buffer.document
        command = buffer.text.startswith("/") and "\n" not in buffer.text
        at_end_on_empty_line = document.is_cursor_at_the_end and not document.current_line
        if command or at_end_on_empty_line or not buffer.text.strip():
            buffer.text = buffer.text.rstrip("\n")
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n")

    @keys.add("escape", "enter")
    def _send_now(event: KeyPressEvent) -> None:
        event.current_buffer.validate_and_handle()

    return keys


async def _typed_in_a_pipe(session: Session) -> None:
    """Lines from a pipe: an empty line (or the end) sends the lines before it."""
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def read() -> None:  # a daemon thread: leaving never waits for a line
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line.rstrip("\r\n"))
        loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read, daemon=True).start()
    message: list[str] = []
    while (line := await lines.get()) is not None:
        if not message and line.startswith("/"):
            if not await session.handle(line):
                return
        elif line:
            message.append(line)
        elif message:
            await session.handle("\n".join(message))
            message = []
    if message:
        await session.handle("\n".join(message))


async def interactive(terminal: Terminal, history: Path | None = None) -> str | None:
    """Run the terminal; returns why it ended if not by the operator's choice."""
    session = Session(terminal, lambda text: print(text, flush=True))  # noqa: T201
    await session.start()
    follower = asyncio.create_task(session.follow())
    try:
        if history is not None:
            await _typed_on_a_tty(session, history)
        else:
            await _typed_in_a_pipe(session)
    finally:
        await session.close(follower)
    return session.ended


@click.command("terminal")
@link_options
@click.option(
    "--history",
    type=OUTPUT_FILE,
    envvar="NLETS_SIM_HISTORY",
    help="Where typed messages are kept across sessions [default: ~/.local/state/nlets-sim/"
    "terminal-history].",
)
def terminal_command(link: Link, history: Path | None) -> None:
    """An interactive terminal: type or paste messages, see deliveries as they arrive."""
    on_a_tty = sys.stdin.isatty() and sys.stdout.isatty()
    try:
        ended = asyncio.run(
            interactive(link.terminal(), (history or default_history()) if on_a_tty else None)
        )
    except KeyboardInterrupt:
        ended = None
    except LogonRejected as rejected:
        raise UserError(
            f"{link.address}: the switch refused the logon: {rejected.reason}"
        ) from None
    except (LinkClosed, OSError) as error:
        raise UserError(f"{link.address}: {link_failure(error)}") from None
    if ended is not None:
        raise UserError(ended)
    click.echo("logged off")
