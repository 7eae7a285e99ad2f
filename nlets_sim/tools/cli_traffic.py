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
from formats.frames import DEFAULT_MAX_PAYLOAD
from nlets_sim.console.errors import HOST_PORT, ORI, UserError, ascii_text, link_failure
from nlets_sim.console.message_file import prepare
from nlets_sim.console.tls import tls_options
from nlets_sim.link.terminal import Delivery, LinkClosed, Terminal

_wait = click.option(
    "--wait", default=2.0, show_default=True, help="Seconds to collect what comes back."
)
_timeout = click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds to wait for the logon's answer and the message's acknowledgement.",
)


@dataclass(frozen=True, slots=True)
class Link:
    """How a command reaches the switch, from the common options."""

    switch: tuple[str, int]
    ori: str
    key: str
    tls: ssl.SSLContext | None = None
    max_bytes: int = DEFAULT_MAX_PAYLOAD  # the largest delivery this terminal takes

    @property
    def address(self) -> str:
        return "{}:{}".format(*self.switch)

    def terminal(self) -> Terminal:
        host, port = self.switch
        return Terminal(host, port, self.ori, self.key, tls=self.tls, max_payload=self.max_bytes)


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
    @click.option("--ori", required=True, type=ORI, help="The ORI to log on as.")
    @click.option(
        "--key",
        required=True,
        callback=lambda _ctx, _param, key: ascii_text(key, "the key"),
        help="Its logon key.",
    )
    @click.option(
        "--max-bytes",
        type=click.IntRange(min=1),
        default=DEFAULT_MAX_PAYLOAD,
        show_default=True,
        help="The largest delivery this terminal takes; a larger one is refused with NK.",
    )
    @tls_options
    @functools.wraps(command)
    def with_link(
        *,
        switch: tuple[str, int],
        ori: str,
        key: str,
        max_bytes: int,
        tls: ssl.SSLContext | None,
        **rest: Any,
    ) -> None:
        command(link=Link(switch, ori, key, tls, max_bytes), **rest)

    return with_link


def show(delivery: Delivery) -> str:
    """A delivery for a person's screen: CR LF as line ends, a byte that is not ASCII as
    ``\\xNN``."""
    return delivery.raw.decode("ascii", "backslashreplace").replace("\r\n", "\n")


class NoAnswer(Exception):
    """The switch did not answer in time; the text says what it did not do."""


async def exchange(
    terminal: Terminal,
    message: bytes | None,
    wait: float,
    timeout: float,
    on_delivery: Callable[[Delivery], None],
) -> list[Delivery]:
    """Log on, send ``message`` (if any), hand each delivery to ``on_delivery`` as it comes
    for ``wait`` seconds, log off; the deliveries. ``NoAnswer`` when the logon or the
    message's acknowledgement takes over ``timeout``."""
    try:
        await terminal.connect(timeout=timeout)
    except TimeoutError:
        raise NoAnswer(f"no answer to the logon within {timeout:g} s") from None
    try:
        if message is not None:
            await terminal.send(message)
            try:
                await terminal.drain(timeout)
            except TimeoutError:
                raise NoAnswer(
                    f"no acknowledgement from the switch within {timeout:g} s: the message"
                    " was not taken; send it again"
                ) from None
        replies: list[Delivery] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while (left := deadline - loop.time()) > 0:
            try:
                replies.append(await terminal.receive(timeout=left))
            except TimeoutError:
                break
            on_delivery(replies[-1])
        return replies
    finally:
        await terminal.close()


def print_delivery(delivery: Delivery) -> None:
    click.echo(show(delivery))


def refusal(seq: int, reason: str) -> str:
    """What this terminal did with a delivery it could not take, and what becomes of it."""
    return (
        f"refused delivery {seq} with NK ({reason}); the switch keeps it as a dead letter"
        " (nlets-sim status, journal show) and does not send it again"
    )


def run_exchange(link: Link, message: bytes | None, wait: float, timeout: float) -> None:
    """Print each delivery as it comes; exit 1 on an ER or a refused delivery."""
    terminal = link.terminal()
    try:
        replies = asyncio.run(exchange(terminal, message, wait, timeout, print_delivery))
    except (LinkClosed, OSError, NoAnswer) as error:
        if terminal.refused:  # the refusal closed the link: it is what happened
            raise UserError(f"{link.address}: {refusal(*terminal.refused[-1])}") from None
        raise UserError(f"{link.address}: {link_failure(error)}") from None
    for seq, reason in terminal.refused:
        click.echo(f"Error: {link.address}: {refusal(seq, reason)}", err=True)
    if terminal.refused or any(reply.message.mke == "ER" for reply in replies):
        sys.exit(1)


@click.command("send")
@link_options
@_wait
@_timeout
@click.argument("source", type=click.File("rb"), default="-")
def send_command(link: Link, wait: float, timeout: float, source: BinaryIO) -> None:
    """Log on, send one message from SOURCE (a file or -), print every message that comes back
    within --wait seconds. Exits 1 when the switch answered with ER."""
    run_exchange(link, prepare(source.read()), wait, timeout)


@click.command("am")
@link_options
@_wait
@_timeout
@click.option("--control", help="Control field, returned in replies.")
@click.option("--aml", is_flag=True, help="Send AML (law enforcement only) instead of AM.")
@click.argument("destinations", nargs=-1, required=True)
@click.argument("text")
def am_command(
    *,
    link: Link,
    wait: float,
    timeout: float,
    control: str | None,
    destinations: tuple[str, ...],
    text: str,
    aml: bool,
) -> None:
    """Send an administrative message to DESTINATIONS (line codes, regions, ORIs) without
    writing the header by hand."""
    destinations = tuple(part for item in destinations for part in item.split(","))
    if not text.strip():
        raise UserError("the message text is empty: give the text to send")
    ascii_text(text, "the message text")
    message = InputMessage(
        "AML" if aml else "AM", link.ori, destinations, text.replace("\n", "\r\n"), control
    )
    try:
        raw = message.build()
    except LocalProtocolError as error:
        raise click.UsageError(str(error)) from None
    run_exchange(link, raw, wait, timeout)


@click.command("receive")
@link_options
@_wait
@_timeout
def receive_command(link: Link, wait: float, timeout: float) -> None:
    """Log on, print what is queued for the ORI and what arrives within --wait seconds."""
    run_exchange(link, None, wait, timeout)
