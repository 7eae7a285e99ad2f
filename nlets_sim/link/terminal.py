"""An async terminal for the switch (PROTOCOL §1): the CLI, the LESC daemon, the tests and
users' own test suites connect through it.

``Terminal`` is a thin asyncio shell over ``TerminalLink`` (``terminal_link``), which holds the
protocol: logon, numbering, the window, re-sends after a reconnect, acknowledgements and
de-duplication of deliveries by seq, heartbeats and the dead-peer timer. The shell moves bytes
between a socket and the link (all the frames of one read handled together, what they call for
written at once), arms one timer at the link's next deadline, keeps the inbox, and lets its
user wait: for the logon, for room in the window, for a delivery, for the link to close. It
matches replies to a request by its control field.

An application that must store a delivery before the switch may forget it (the LESC daemon)
creates the terminal with ``auto_ack=False`` and calls ``ack(seq)`` once it has committed; to
carry on after a restart it gives the terminal what it stored before ``connect()``
(``last_processed``, ``acked``, ``resume``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Generic, TypeVar, overload

from formats.envelope import parse_input
from formats.errors import NletsError
from formats.frames import DEFAULT_MAX_PAYLOAD
from nlets_sim.link.deadline_timer import DeadlineTimer
from nlets_sim.link.protocol import DEFAULT_LOGON_TIMEOUT_S, DEFAULT_WINDOW
from nlets_sim.link.switch_address import client_tls_context, parse_address
from nlets_sim.link.terminal_link import (
    LOGON_TIMED_OUT,
    Delivery,
    LinkDown,
    TerminalEvent,
    TerminalLink,
    TerminalState,
)

__all__ = [
    "Delivery",
    "LinkClosed",
    "LogonRejected",
    "SessionTakenOver",
    "Terminal",
    "client_tls_context",
    "parse_address",
]

T = TypeVar("T")


class LinkClosed(NletsError):
    """The connection ended; ``reason`` says how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LogonRejected(LinkClosed):
    """The switch answered the logon with ``LJ`` (a wrong key, an unknown ORI): logging on
    again with the same identity gets the same answer."""


class SessionTakenOver(LinkClosed):
    """Another terminal logged on as this ORI and the switch ended this session (``LO`` with
    a reason). ``connect()`` refuses to take the session back unless told to."""


Match = Callable[[Delivery], bool]

LOGOFF_WAIT_S = 5.0  # how long close() waits for the switch to answer LO by closing


class _OfLink(Generic[T]):
    """An attribute of the terminal that its link holds (read and written through)."""

    def __set_name__(self, _owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, terminal: None, _owner: type) -> _OfLink[T]: ...
    @overload
    def __get__(self, terminal: Terminal, _owner: type) -> T: ...
    def __get__(self, terminal: Terminal | None, _owner: type) -> _OfLink[T] | T:
        if terminal is None:
            return self
        value: T = getattr(terminal.link, self.name)
        return value

    def __set__(self, terminal: Terminal, value: T) -> None:
        setattr(terminal.link, self.name, value)


class _Socket(asyncio.Protocol):
    """One connection's transport events, handed to the terminal."""

    def __init__(self, terminal: Terminal, reset: bool, timeout: float) -> None:
        self.terminal = terminal
        self.reset, self.timeout = reset, timeout
        self.transport: asyncio.Transport | None = None
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.terminal._connected(self)

    def data_received(self, data: bytes) -> None:
        if self.terminal._socket is self:
            self.terminal._received(data)

    def eof_received(self) -> bool:
        return False  # close our end too: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)
        if self.terminal._socket is self:
            self.terminal._lost(exc)


class Terminal:
    # What the link holds, read (and some written) as the terminal's own attributes.
    lst: _OfLink[int] = _OfLink()
    heartbeat_s: _OfLink[float] = _OfLink()
    window: _OfLink[int] = _OfLink()
    max_payload: _OfLink[int] = _OfLink()
    next_seq: _OfLink[int] = _OfLink()
    last_processed: _OfLink[int] = _OfLink()
    auto_ack: _OfLink[bool] = _OfLink()
    acked: _OfLink[int] = _OfLink()
    on_logon: _OfLink[Callable[[int], None] | None] = _OfLink()
    on_acknowledged: _OfLink[Callable[[int], None]] = _OfLink()
    unacked: _OfLink[OrderedDict[int, bytes]] = _OfLink()
    backlog: _OfLink[deque[bytes]] = _OfLink()
    naks: _OfLink[list[tuple[int, str]]] = _OfLink()
    refused: _OfLink[list[tuple[int, str]]] = _OfLink()
    repeated: _OfLink[int] = _OfLink()
    closed_reason: _OfLink[str | None] = _OfLink()
    displaced: _OfLink[str | None] = _OfLink()

    def __init__(
        self,
        host: str,
        port: int,
        ori: str,
        key: str,
        *,
        window: int = DEFAULT_WINDOW,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        tls: ssl.SSLContext | None = None,
        auto_ack: bool = True,
    ) -> None:
        self.host, self.port, self.ori, self.key = host, port, ori, key
        self.tls = tls  # None: plain TCP
        self.link = TerminalLink(
            ori, key, window=window, max_payload=max_payload, auto_ack=auto_ack
        )
        self.inbox: deque[Delivery] = deque()
        self._socket: _Socket | None = None
        self._waiters: list[asyncio.Future[None]] = []
        self._timer: DeadlineTimer | None = None  # at the link's next deadline, while connected

    # Connection ------------------------------------------------------------------------

    async def connect(
        self,
        *,
        reset: bool = False,
        timeout: float = DEFAULT_LOGON_TIMEOUT_S,
        take_over: bool = False,
    ) -> int:
        """Log on; returns LST. Un-acknowledged messages above LST are sent again. After the
        switch ended this terminal's session because another logon took it over, this raises
        ``SessionTakenOver`` instead, unless ``take_over`` (taking it back on purpose)."""
        link = self.link
        if link.displaced is not None and not take_over:
            raise SessionTakenOver(self._displaced_sentence())
        if self._socket is not None:  # connected already: that connection is dropped
            await self.abort()
        loop = asyncio.get_running_loop()
        _, socket = await loop.create_connection(
            lambda: _Socket(self, reset, timeout), self.host, self.port, ssl=self.tls
        )
        try:
            await self._wait(lambda: link.state is not TerminalState.LOGGING_ON)
        except BaseException:
            if self._socket is socket:
                link.abort()
                self._drop()
            raise
        if link.active:
            return link.lst
        self._drop()
        if link.refusal is not None:
            raise LogonRejected(link.refusal)
        reason = link.closed_reason or ""
        if reason == LOGON_TIMED_OUT:
            raise TimeoutError(reason)
        raise LinkClosed(reason)

    async def close(self) -> None:
        """Log off: LO, then wait for the switch to close."""
        if self._socket is not None and self.link.active:
            self.link.logoff()
            self._flush()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(LOGOFF_WAIT_S):
                    await self._wait(lambda: not self.link.active)
        await self.abort()

    async def abort(self) -> None:
        """Drop the connection without logging off."""
        socket = self._socket
        self.link.abort()
        self._drop()
        if socket is not None and socket.transport is not None:
            try:
                async with asyncio.timeout(LOGOFF_WAIT_S):
                    await asyncio.shield(socket.lost)
            except TimeoutError:  # a peer that reads nothing: drop what waits to be written
                socket.transport.abort()
                await socket.lost
        self._notify()

    async def __aenter__(self) -> Terminal:
        await self.connect()
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        await self.close()

    # Sending ---------------------------------------------------------------------------

    async def send(self, message: bytes) -> int:
        """Send one message (a DT payload), after any posted before it; waits while the window
        is full. Returns its seq."""
        link = self.link
        if not link.has_room:
            await self._wait(lambda: link.has_room or link.closed_reason is not None)
        self._check_open()
        seq = link.send(message)
        self._flush()
        return seq

    def post(self, *messages: bytes) -> range:
        """Send messages without waiting: at once while the window has room (in one write),
        the rest as ``AK``s make room, in the order posted. Posted messages wait across a
        reconnect and go out after the logon's re-sends. Returns the seqs they carry (as
        ``next_post_seq`` foretold)."""
        seqs = self.link.post(messages)
        self._flush()
        return seqs

    @property
    def next_post_seq(self) -> int:
        """The seq the next message posted will carry, unless a logon renumbers (the switch's
        ``LST`` is not what this terminal sent: a reset, or a switch that lost its state)."""
        return self.link.next_post_seq

    @property
    def switch_acked(self) -> int:
        """The highest seq of this terminal's own messages the switch has acknowledged."""
        return self.link.switch_acked

    def outgoing(self) -> list[tuple[int, bytes]]:
        """The messages not yet acknowledged, sent or posted, with the seqs they carry."""
        return self.link.outgoing()

    def resume(self, pending: list[tuple[int, bytes]]) -> None:
        """Before ``connect()``, after a restart: the messages this terminal's user stored as
        posted and not known to be acknowledged, (seq, message) in seq order with no gap. The
        logon drops those the switch has (seq <= LST) and sends the rest, a window at once."""
        self.link.resume(pending)

    def ack(self, seq: int) -> None:
        """With ``auto_ack`` false: the application has stored every delivery up to ``seq``;
        acknowledge them to the switch (now, or after the next logon when the link is down)."""
        self.link.ack(seq)
        self._flush()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until the switch has acknowledged everything sent and posted."""
        link = self.link
        async with asyncio.timeout(timeout):
            await self._wait(
                lambda: (not link.unacked and not link.backlog) or link.closed_reason is not None
            )
        self._check_open()

    def send_raw(self, frame: bytes) -> None:
        """Write bytes as they are (for tests of the switch's protocol checks)."""
        self._check_open()
        assert self._socket is not None
        assert self._socket.transport is not None
        self._socket.transport.write(frame)

    # Receiving -------------------------------------------------------------------------

    async def receive(self, match: Match | None = None, timeout: float | None = 10.0) -> Delivery:
        """The first delivery (matching ``match``) in arrival order, waiting for it."""
        found: list[Delivery] = []
        inbox = self.inbox

        def take() -> bool:
            if match is None:
                if inbox:
                    found.append(inbox.popleft())
                    return True
            else:
                for delivery in inbox:
                    if match(delivery):
                        inbox.remove(delivery)
                        found.append(delivery)
                        return True
            return self.link.closed_reason is not None

        if not take():
            async with asyncio.timeout(timeout):
                await self._wait(take)
        if not found:
            self._check_open()
        return found[0]

    async def request(
        self, message: bytes, count: int = 1, timeout: float = 10.0
    ) -> list[Delivery]:
        """Send a message with a control field and collect ``count`` replies carrying it."""
        control = parse_input(message).control
        if control is None:
            raise ValueError("request() needs a message with a control field (*XXX)")
        await self.send(message)
        return [
            await self.receive(lambda d: d.message.control == control, timeout)
            for _ in range(count)
        ]

    async def wait_closed(self, timeout: float = 10.0) -> str:
        async with asyncio.timeout(timeout):
            await self._wait(lambda: self.link.closed_reason is not None)
        return self.link.closed_reason or ""

    # The socket side -------------------------------------------------------------------

    def _connected(self, socket: _Socket) -> None:
        """A new connection is up: the link starts its logon."""
        loop = asyncio.get_running_loop()
        self._socket = socket
        self._timer = DeadlineTimer(loop, self.link.next_deadline, self._tick)
        self.link.connect(loop.time(), reset=socket.reset, timeout_s=socket.timeout)
        self._after(())

    def _received(self, data: bytes) -> None:
        self._after(self.link.receive_data(data, asyncio.get_running_loop().time()))

    def _lost(self, error: Exception | None) -> None:
        self._socket = None
        self._after(self.link.connection_lost(None if error is None else str(error)))

    def _tick(self) -> None:
        self._after(self.link.tick(asyncio.get_running_loop().time()))

    def _after(self, events: Sequence[TerminalEvent]) -> None:
        """Carry out what the link's events call for: deliveries to the inbox, its bytes to
        the socket, the socket closed when the link is; then wake whoever waits, and arm the
        timer for the link's next deadline."""
        down = False
        for event in events:
            if type(event) is Delivery:
                self.inbox.append(event)
            elif type(event) is LinkDown:
                down = True
        self._flush()
        if down:
            self._drop()
        self._notify()
        if self._timer is not None:
            self._timer.arm()

    def _flush(self) -> None:
        """Write what the link has queued, in one piece."""
        socket = self._socket
        if socket is not None and socket.transport is not None:
            data = self.link.data_to_send(asyncio.get_running_loop().time())
            if data:
                socket.transport.write(data)

    def _drop(self) -> None:
        """Close the socket after what was written, and forget it."""
        socket, self._socket = self._socket, None
        if socket is not None and socket.transport is not None:
            socket.transport.close()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # Waiting ---------------------------------------------------------------------------

    async def _wait(self, predicate: Callable[[], bool]) -> None:
        loop = asyncio.get_running_loop()
        while not predicate():
            waiter = loop.create_future()
            self._waiters.append(waiter)
            await waiter

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _check_open(self) -> None:
        if self.link.displaced is not None:
            raise SessionTakenOver(self._displaced_sentence())
        if self.link.closed_reason is not None:
            raise LinkClosed(self.link.closed_reason)

    def _displaced_sentence(self) -> str:
        return (
            f"another terminal logged on as {self.ori} and the switch ended this session "
            f"({self.link.displaced}); not logging on again"
        )
