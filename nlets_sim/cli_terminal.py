"""``nlets-sim terminal``: an interactive terminal for operators and trainers."""

from __future__ import annotations

import asyncio
import sys

import click

from nlets_sim.cli_traffic import Link, link_options, show
from nlets_sim.client import LinkClosed, Terminal
from nlets_sim.lint import prepare

HELP = """\
Type or paste a message, then an empty line to send it, e.g.
  AM.NY0303000.NJ.*A1.TXT
  HELLO FROM ALBANY
  <empty line>
Deliveries are printed as they arrive. Commands:
  /history   the messages sent in this session, numbered
  /again N   send message N of the history again (a new message, a new seq)
  /help      this screen
  /quit      log off and leave (Ctrl-D does the same)
"""


async def _print_deliveries(terminal: Terminal) -> None:
    while True:
        try:
            delivery = await terminal.receive(timeout=None)
        except LinkClosed as closed:
            click.echo(f"-- link closed: {closed.reason}")
            return
        click.echo(f"\n-- delivery seq {delivery.seq}\n{show(delivery)}\n--")


async def _read_line() -> str | None:
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return line.rstrip("\r\n") if line else None


async def interactive(terminal: Terminal) -> None:
    lst = await terminal.connect()
    click.echo(f"logged on as {terminal.ori}, LST {lst:08d}. /help for help.")
    history: list[bytes] = []
    printer = asyncio.create_task(_print_deliveries(terminal))
    lines: list[str] = []
    try:
        while (line := await _read_line()) is not None:
            if not lines and line.startswith("/"):
                command, _, argument = line.partition(" ")
                if command == "/quit":
                    break
                if command == "/history":
                    for number, sent in enumerate(history, start=1):
                        click.echo(f"{number}: {sent.decode('ascii').splitlines()[0]}")
                elif (
                    command == "/again" and argument.isdigit() and 0 < int(argument) <= len(history)
                ):
                    seq = await terminal.send(history[int(argument) - 1])
                    click.echo(f"-- sent again as seq {seq}")
                else:
                    click.echo(HELP)
                continue
            if line:
                lines.append(line)
                continue
            if lines:
                message = prepare("\n".join(lines).encode("ascii", "replace"))
                lines = []
                history.append(message)
                seq = await terminal.send(message)
                click.echo(f"-- sent seq {seq}")
    finally:
        await terminal.close()
        printer.cancel()


@click.command("terminal")
@link_options
def terminal_command(link: Link) -> None:
    """An interactive terminal: type or paste messages, see deliveries as they arrive."""
    try:
        asyncio.run(interactive(link.terminal()))
    except (LinkClosed, OSError) as error:
        raise click.ClickException(f"{link.address}: {error}") from None
