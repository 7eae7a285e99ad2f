"""``nlets-sim send``, ``am`` and ``terminal``: people talking to a switch."""

from __future__ import annotations

import asyncio
import functools
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

import click

from formats.envelope import InputMessage
from formats.errors import LocalProtocolError
from nlets_sim.console.errors import HOST_PORT, ascii_text
from nlets_sim.console.lint import prepare
from nlets_sim.console.tls import tls_options
from nlets_sim.link.terminal import Delivery, LinkClosed, Terminal

_wait = click.option(
    "--wait", default=2.0, show_default=True, help="Seconds to collect what comes back."
)


@dataclass(frozen=True, slots=True)
class Link:
    """How a command reaches the switch, from the common options."""

    switch: tuple[str, int]
    ori: str
    key: str
    tls: ssl.SSLContext | None = None

    @property
    def address(self) -> str:
        return "{}:{}".format(*self.switch)

    def terminal(self) -> Terminal:
        host, port = self.switch
        return Terminal(host, port, self.ori, self.key, tls=self.tls)


def link_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--to --ori --key`` and the TLS options, handed to the command as ``link``."""

    @click.option(
        "--to",
        "switch",
        type=HOST_PORT,
        default="127.0.0.1:7700",
        show_default=True,
        help="The switch, HOST:PORT.",
    )
    @click.option("--ori", required=True, help="The ORI to log on as.")
    @click.option("--key", required=True, help="Its logon key.")
    @tls_options
    @functools.wraps(command)
    def with_link(
        *, switch: tuple[str, int], ori: str, key: str, tls: ssl.SSLContext | None, **rest: Any
    ) -> None:
        command(link=Link(switch, ori, key, tls), **rest)

    return with_link


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


def run_exchange(link: Link, message: bytes | None, wait: float) -> None:
    try:
        replies = asyncio.run(exchange(link.terminal(), message, wait))
    except (LinkClosed, OSError, TimeoutError) as error:
        raise click.ClickException(f"{link.address}: {error or 'timed out'}") from None
    for reply in replies:
        click.echo(show(reply))
    if any(reply.message.mke == "ER" for reply in replies):
        sys.exit(1)


@click.command("send")
@link_options
@_wait
@click.argument("source", type=click.File("rb"), default="-")
def send_command(link: Link, wait: float, source: BinaryIO) -> None:
    """Log on, send one message from SOURCE (a file or -), print every message that comes back
    within --wait seconds. Exits 1 when the switch answered with ER."""
    run_exchange(link, prepare(source.read()), wait)


@click.command("am")
@link_options
@_wait
@click.option("--control", help="Control field, returned in replies.")
@click.option("--aml", is_flag=True, help="Send AML (law enforcement only) instead of AM.")
@click.argument("destinations", nargs=-1, required=True)
@click.argument("text")
def am_command(
    *,
    link: Link,
    wait: float,
    control: str | None,
    destinations: tuple[str, ...],
    text: str,
    aml: bool,
) -> None:
    """Send an administrative message to DESTINATIONS (line codes, regions, ORIs) without
    writing the header by hand."""
    destinations = tuple(part for item in destinations for part in item.split(","))
    ascii_text(text, "the message text")
    message = InputMessage(
        "AML" if aml else "AM", link.ori, destinations, text.replace("\n", "\r\n"), control
    )
    try:
        raw = message.build()
    except LocalProtocolError as error:
        raise click.UsageError(str(error)) from None
    run_exchange(link, raw, wait)


@click.command("receive")
@link_options
@_wait
def receive_command(link: Link, wait: float) -> None:
    """Log on, print what is queued for the ORI and what arrives within --wait seconds."""
    run_exchange(link, None, wait)
