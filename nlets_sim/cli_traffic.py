"""``nlets-sim send``, ``am`` and ``terminal``: people talking to a switch."""

from __future__ import annotations

import asyncio
import sys
from typing import BinaryIO

import click

from formats.envelope import InputMessage
from formats.errors import LocalProtocolError
from nlets_sim.client import Delivery, LinkClosed, Terminal, parse_address
from nlets_sim.lint import prepare

_address = click.option(
    "--to", "address", default="127.0.0.1:7700", show_default=True, help="The switch, HOST:PORT."
)
_ori = click.option("--ori", required=True, help="The ORI to log on as.")
_key = click.option("--key", required=True, help="Its logon key.")
_wait = click.option(
    "--wait", default=2.0, show_default=True, help="Seconds to collect what comes back."
)


def show(delivery: Delivery) -> str:
    """A delivery for a person's screen: CR LF as line ends."""
    return delivery.raw.decode("ascii").replace("\r\n", "\n")


async def exchange(terminal: Terminal, message: bytes | None, wait: float) -> list[Delivery]:
    """Log on, send ``message`` (if any), collect deliveries for ``wait`` seconds, log off."""
    await terminal.connect()
    try:
        if message is not None:
            await terminal.send(message)
            await terminal.drain()
        replies: list[Delivery] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while (left := deadline - loop.time()) > 0:
            try:
                replies.append(await terminal.receive(timeout=left))
            except TimeoutError:
                break
        return replies
    finally:
        await terminal.close()


def run_exchange(address: str, ori: str, key: str, message: bytes | None, wait: float) -> None:
    host, port = parse_address(address)
    try:
        replies = asyncio.run(exchange(Terminal(host, port, ori, key), message, wait))
    except (LinkClosed, OSError, TimeoutError) as error:
        raise click.ClickException(f"{address}: {error or 'timed out'}") from None
    for reply in replies:
        click.echo(show(reply))
    if any(reply.message.mke == "ER" for reply in replies):
        sys.exit(1)


@click.command("send")
@_ori
@_key
@_address
@_wait
@click.argument("source", type=click.File("rb"), default="-")
def send_command(ori: str, key: str, address: str, wait: float, source: BinaryIO) -> None:
    """Log on, send one message from SOURCE (a file or -), print every message that comes back
    within --wait seconds. Exits 1 when the switch answered with ER."""
    run_exchange(address, ori, key, prepare(source.read()), wait)


@click.command("am")
@_ori
@_key
@_address
@_wait
@click.option("--control", help="Control field, returned in replies.")
@click.option("--aml", is_flag=True, help="Send AML (law enforcement only) instead of AM.")
@click.argument("destinations", nargs=-1, required=True)
@click.argument("text")
def am_command(
    *,
    ori: str,
    key: str,
    address: str,
    wait: float,
    control: str | None,
    destinations: tuple[str, ...],
    text: str,
    aml: bool,
) -> None:
    """Send an administrative message to DESTINATIONS (line codes, regions, ORIs) without
    writing the header by hand."""
    destinations = tuple(part for item in destinations for part in item.split(","))
    message = InputMessage(
        "AML" if aml else "AM", ori, destinations, text.replace("\n", "\r\n"), control
    )
    try:
        raw = message.build()
    except LocalProtocolError as error:
        raise click.UsageError(str(error)) from None
    run_exchange(address, ori, key, raw, wait)


@click.command("receive")
@_ori
@_key
@_address
@_wait
def receive_command(ori: str, key: str, address: str, wait: float) -> None:
    """Log on, print what is queued for the ORI and what arrives within --wait seconds."""
    run_exchange(address, ori, key, None, wait)
