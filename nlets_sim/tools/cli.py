"""``nlets-sim``: the switch's command line."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import BinaryIO

import click

from nlets_sim import __version__
from nlets_sim.console.errors import FriendlyGroup
from nlets_sim.tools.cli_admin import (
    directory_group,
    fault_group,
    journal_group,
    outage_command,
    remove_command,
    status_command,
)
from nlets_sim.tools.cli_bus import broker_command, watch_command
from nlets_sim.tools.cli_load import load_command
from nlets_sim.tools.cli_replay import record_command, replay_command
from nlets_sim.tools.cli_screen import screen_command
from nlets_sim.tools.cli_serve import serve_command
from nlets_sim.tools.cli_terminal import terminal_command
from nlets_sim.tools.cli_traffic import am_command, receive_command, send_command
from nlets_sim.tools.lint import lint_message
from nlets_sim.tools.up import up_command


@click.group(cls=FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nlets-sim")
def main() -> None:
    """A simulated Nlets message switch for testing law-enforcement message software."""


@main.command()
@click.argument("source", type=click.File("rb"), default="-")
def lint(source: BinaryIO) -> None:
    """Check one message (a DT payload) before sending it.

    SOURCE is a file or - for standard input; CR LF, LF or CR line ends; one final line end
    is dropped. Prints "OK <MKE> <SENDER> -> <DEST,...>" and exits 0, or prints the ER text
    the switch would return (the NK, for a message too large for its frames) and exits 1.
    Problems the LESC would reject an IAQ for are printed to standard error after the OK line.
    """
    raw: bytes = source.read()
    report = lint_message(raw, datetime.now().astimezone().replace(tzinfo=None))
    click.echo(report.output, nl=False)
    for warning in report.warnings:
        click.echo(warning, err=True)
    sys.exit(0 if report.ok else 1)


for _command in (
    serve_command,
    send_command,
    receive_command,
    am_command,
    terminal_command,
    status_command,
    remove_command,
    outage_command,
    journal_group,
    directory_group,
    fault_group,
    replay_command,
    record_command,
    up_command,
    screen_command,
    broker_command,
    watch_command,
    load_command,
):
    main.add_command(_command)
