"""An async terminal for the switch (PROTOCOL §1): the CLI, the LESC daemon, the tests and
users' own test suites connect through it.

``Terminal`` logs on, numbers and sends messages inside the window, resends what the switch has
not acknowledged after a reconnect, acknowledges and de-duplicates deliveries by seq, answers
heartbeats, and matches replies to a request by its control field.

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
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from formats.envelope import OutputMessage, parse_input, parse_output
from formats.errors import FrameError, FrameTooLong, MessageRejected, NletsError
from formats.frames import (
    DEFAULT_MAX_PAYLOAD,
    EMPTY_KINDS_FROM_SWITCH,
    Frame,
    FrameKind,
    FrameReader,
    build_frame,
    shown,
)
from formats.tagged import as_mapping, parse_fields
from formats.value_types import value_type
from nlets_sim.link.protocol import DEFAULT_HEARTBEAT_S, DEFAULT_WINDOW

DEAD_AFTER_INTERVALS = 3  # PROTOCOL 1.2: close after 3 x HBI without a frame
READ_BYTES = 65_536  # bytes asked of the socket per read
# The reason of the LO the switch sends a connection whose session another logon took over
# (docs/protocol-decisions.md).
TAKEN_OVER = b"SESSION TAKEN OVER"


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


@value_type
class Delivery:
    """A message the switch delivered: its seq, the bytes and the parsed output form."""

    seq: int
    raw: bytes
    message: OutputMessage


Match = Callable[[Delivery], bool]


def _ignore(_seq: int) -> None:
    """No one listens to acknowledgements."""


MAX_PORT = 65_535


def parse_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``:PORT``) to a pair; a ``ValueError`` that says what is wrong."""
    host, colon, port = address.rpartition(":")
    if not colon:
        raise ValueError(f"{address!r} has no port: write HOST:PORT, e.g. 127.0.0.1:7700")
    if not port.isdigit() or not 0 < int(port) <= MAX_PORT:
        raise ValueError(f"{address!r}: the port must be a number from 1 to {MAX_PORT}")
    return host.strip("[]") or "127.0.0.1", int(port)


def client_tls_context(
    ca: Path | None, cert: Path | None = None, key: Path | None = None
) -> ssl.SSLContext | None:
    """A terminal's TLS context: trust ``ca`` (else the system's), present ``cert`` if given;
    None when neither is given (plain TCP)."""
    if ca is None and cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    if cert is not None:
        context.load_cert_chain(cert, key)
    return context


class Terminal:
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
        self.window = window
        self.max_payload = max_payload
        self.heartbeat_s = DEFAULT_HEARTBEAT_S  # until the switch's LA says its HBI
        self.lst = 0
        self.next_seq = 1
        self.last_processed = 0  # highest delivery seq handed to the inbox
        # With auto_ack false, deliveries are acknowledged only by ack(): ``acked`` is the
        # highest seq the application has acknowledged.
        self.auto_ack = auto_ack
        self.acked = 0
        # Called with LST after each LA, before anything is sent again: an application that
        # keeps the terminal's state in its own store can check it against the switch's.
        self.on_logon: Callable[[int], None] | None = None
        self.unacked: OrderedDict[int, bytes] = OrderedDict()
        self.backlog: deque[bytes] = deque()  # posted, waiting for room in the window
        self.naks: list[tuple[int, str]] = []
        self.refused: list[tuple[int, str]] = []  # (seq, reason) of deliveries this end NK'd
        self.repeated = 0  # deliveries received again with a seq already processed (dropped)
        self.on_acknowledged: Callable[[int], None] = _ignore  # called with each AK's seq
        self.inbox: deque[Delivery] = deque()
        self.closed_reason: str | None = "not connected"
        self.displaced: str | None = None  # the switch's LO reason once another logon took over
        self._changed = asyncio.Condition()
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None

    # Connection ------------------------------------------------------------------------

    async def connect(
        self, *, reset: bool = False, timeout: float = 10.0, take_over: bool = False
    ) -> int:
        """Log on; returns LST. Un-acknowledged messages above LST are sent again. After the
        switch ended this terminal's session because another logon took it over, this raises
        ``SessionTakenOver`` instead, unless ``take_over`` (taking it back on purpose)."""
        if self.displaced is not None and not take_over:
            raise SessionTakenOver(self._displaced_sentence())
        reader, writer = await asyncio.open_connection(self.host, self.port, ssl=self.tls)
        fields = f"ORI/{self.ori}.KEY/{self.key}" + (".RST/Y" if reset else "")
        writer.write(build_frame(Frame(FrameKind.LI, 0, fields.encode("ascii"))))
        frames = FrameReader(self.max_payload, EMPTY_KINDS_FROM_SWITCH)
        try:
            received = await self._logon_answer(reader, frames, timeout)
        except BaseException:
            writer.close()
            raise
        answer = received[0]
        if answer.kind is not FrameKind.LA:
            writer.close()
            raise LogonRejected(answer.payload.decode("ascii", "replace"))
        values = as_mapping(parse_fields(answer.payload.decode("ascii"), free_text=()))
        self.lst = int(values["LST"])
        self.heartbeat_s = int(values["HBI"])
        if reset:
            self.last_processed = self.acked = 0
        if self.on_logon is not None:
            self.on_logon(self.lst)
        if reset or (self.unacked and next(iter(self.unacked)) > self.lst + 1):
            # Renumbered after LST: a reset, or a switch that lost what it had acknowledged
            # (sending the old seqs would only get SEQUENCE GAP at every logon).
            pending = list(self.unacked.values())
            self.unacked.clear()
            for seq, payload in enumerate(pending, start=self.lst + 1):
                self.unacked[seq] = payload
        for seq in [seq for seq in self.unacked if seq <= self.lst]:
            del self.unacked[seq]
        while len(self.unacked) > self.window:  # resumed: the rest wait, keeping their seqs
            self.backlog.appendleft(self.unacked.popitem()[1])
        self.next_seq = max(self.lst, *self.unacked.keys(), 0) + 1
        self._writer = writer
        self.closed_reason = None
        self.displaced = None
        for seq, payload in self.unacked.items():
            writer.write(build_frame(Frame(FrameKind.DT, seq, payload)))
        self._pump()
        self._reader_task = asyncio.create_task(self._read(reader, frames, received[1:]))
        return self.lst

    @staticmethod
    async def _logon_answer(
        reader: asyncio.StreamReader, frames: FrameReader, timeout: float
    ) -> list[Frame]:
        """The frames of the first chunk that completes one (LA or LJ, and what follows)."""
        async with asyncio.timeout(timeout):
            while True:
                chunk = await reader.read(READ_BYTES)
                if not chunk:
                    raise LinkClosed("switch closed the connection during logon")
                received = frames.feed(chunk)
                if received:
                    return received

    async def close(self) -> None:
        """Log off: LO, then wait for the switch to close."""
        if self._writer is not None and self.closed_reason is None:
            self._writer.write(build_frame(Frame(FrameKind.LO)))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await self._wait(lambda: self.closed_reason is not None)
        await self.abort()

    async def abort(self) -> None:
        """Drop the connection without logging off."""
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task
        self._writer = None
        self._reader_task = None
        await self._set_closed(self.closed_reason or "closed by this terminal")

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
        if self.backlog or len(self.unacked) >= self.window:
            await self._wait(
                lambda: (
                    (not self.backlog and len(self.unacked) < self.window)
                    or self.closed_reason is not None
                )
            )
        self._check_open()
        return self._transmit(message)

    def post(self, *messages: bytes) -> range:
        """Send messages without waiting: at once while the window has room (in one write),
        the rest as ``AK``s make room, in the order posted. Posted messages wait across a
        reconnect and go out after the logon's re-sends. Returns the seqs they carry (as
        ``next_post_seq`` foretold)."""
        first = self.next_post_seq
        self.backlog.extend(messages)
        self._pump()
        return range(first, first + len(messages))

    @property
    def next_post_seq(self) -> int:
        """The seq the next message posted will carry, unless a logon renumbers (the switch's
        ``LST`` is not what this terminal sent: a reset, or a switch that lost its state)."""
        return self.next_seq + len(self.backlog)

    @property
    def switch_acked(self) -> int:
        """The highest seq of this terminal's own messages the switch has acknowledged."""
        return next(iter(self.unacked)) - 1 if self.unacked else self.next_seq - 1

    def outgoing(self) -> list[tuple[int, bytes]]:
        """The messages not yet acknowledged, sent or posted, with the seqs they carry."""
        waiting = enumerate(self.backlog, start=self.next_seq)
        return [*self.unacked.items(), *waiting]

    def resume(self, pending: list[tuple[int, bytes]]) -> None:
        """Before ``connect()``, after a restart: the messages this terminal's user stored as
        posted and not known to be acknowledged, (seq, message) in seq order with no gap. The
        logon drops those the switch has (seq <= LST) and sends the rest, a window at once."""
        self.unacked = OrderedDict(pending)
        self.backlog.clear()
        self.next_seq = pending[-1][0] + 1 if pending else 1

    def ack(self, seq: int) -> None:
        """With ``auto_ack`` false: the application has stored every delivery up to ``seq``;
        acknowledge them to the switch (now, or after the next logon when the link is down)."""
        if seq <= self.acked:
            return
        self.acked = seq
        if self._writer is not None and self.closed_reason is None:
            self._writer.write(build_frame(Frame(FrameKind.AK, seq)))

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until the switch has acknowledged everything sent and posted."""
        async with asyncio.timeout(timeout):
            await self._wait(
                lambda: (not self.unacked and not self.backlog) or self.closed_reason is not None
            )
        self._check_open()

    def send_raw(self, frame: bytes) -> None:
        """Write bytes as they are (for tests of the switch's protocol checks)."""
        self._check_open()
        assert self._writer is not None
        self._writer.write(frame)

    # Receiving -------------------------------------------------------------------------

    async def receive(self, match: Match | None = None, timeout: float | None = 10.0) -> Delivery:
        """The first delivery (matching ``match``) in arrival order, waiting for it."""
        found: list[Delivery] = []

        def take() -> bool:
            for delivery in self.inbox:
                if match is None or match(delivery):
                    self.inbox.remove(delivery)
                    found.append(delivery)
                    return True
            return self.closed_reason is not None

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
            await self._wait(lambda: self.closed_reason is not None)
        return self.closed_reason or ""

    # Internals -------------------------------------------------------------------------

    def _transmit(self, message: bytes) -> int:
        assert self._writer is not None
        self._writer.write(self._numbered(message))
        return self.next_seq - 1

    def _numbered(self, message: bytes) -> bytes:
        """The DT frame of the next seq, kept until acknowledged."""
        seq = self.next_seq
        self.next_seq += 1
        self.unacked[seq] = message
        return build_frame(Frame(FrameKind.DT, seq, message))

    def _pump(self) -> None:
        """Send posted messages while the window has room and the link is up, in one write."""
        if self._writer is None or self.closed_reason is not None:
            return
        frames = self._posted()
        if frames:
            self._writer.write(frames)

    def _posted(self) -> bytes:
        """The DT frames of the posted messages the window has room for, numbered."""
        room = min(len(self.backlog), self.window - len(self.unacked))
        if room <= 0:
            return b""
        backlog = self.backlog
        return b"".join([self._numbered(backlog.popleft()) for _ in range(room)])

    def _check_open(self) -> None:
        if self.displaced is not None:
            raise SessionTakenOver(self._displaced_sentence())
        if self.closed_reason is not None:
            raise LinkClosed(self.closed_reason)

    def _logged_off(self, payload: bytes) -> None:
        """The switch's LO; its reason, if any, goes into ``closed_reason``."""
        reason = shown(payload)
        if payload == TAKEN_OVER:
            self.displaced = reason
        self.closed_reason = "switch logged off" + (f": {reason}" if reason else "")

    def _displaced_sentence(self) -> str:
        return (
            f"another terminal logged on as {self.ori} and the switch ended this session "
            f"({self.displaced}); not logging on again"
        )

    async def _wait(self, predicate: Callable[[], bool]) -> None:
        async with self._changed:
            await self._changed.wait_for(predicate)

    async def _set_closed(self, reason: str) -> None:
        async with self._changed:
            if self.closed_reason is None:
                self.closed_reason = reason
            self._changed.notify_all()

    async def _read(
        self, reader: asyncio.StreamReader, frames: FrameReader, early: list[Frame]
    ) -> None:
        assert self._writer is not None
        writer = self._writer
        reason = "switch closed the connection"
        pending = early
        silent = 0  # heartbeat intervals in a row with nothing from the switch
        try:
            while True:
                if pending:
                    await self._handle(pending, writer)
                    if self.closed_reason is not None:
                        return
                if frames.failed is not None:  # a bad frame came with the last good ones
                    raise frames.failed
                try:
                    async with asyncio.timeout(self.heartbeat_s):
                        chunk = await reader.read(READ_BYTES)
                except TimeoutError:
                    silent += 1
                    if silent >= DEAD_AFTER_INTERVALS:
                        reason = f"nothing from the switch for {silent} x HBI; link closed"
                        writer.close()
                        break
                    writer.write(build_frame(Frame(FrameKind.HB)))
                    pending = []
                    continue
                silent = 0
                if not chunk:
                    if self.naks:  # the switch sends NK only before it closes
                        reason = f"switch sent NK {self.naks[-1][1]}"
                    break
                pending = frames.feed(chunk)
        except FrameTooLong as error:  # refused by its seq: the switch will not send it again
            if error.kind == FrameKind.DT.value:
                writer.write(build_frame(Frame(FrameKind.NK, error.seq, error.reason.encode())))
                self.refused.append((error.seq, error.reason))
            writer.close()
            reason = f"bad frame from switch: {error.reason}"
        except FrameError as error:
            reason = f"bad frame from switch: {error.reason}"
        except OSError as error:
            reason = f"connection error: {error}"
        await self._set_closed(reason)

    def _deliver(self, frame: Frame, writer: asyncio.StreamWriter) -> None:
        """A new delivery to the inbox, or, when it is not an output message, an NK."""
        self.last_processed = frame.seq
        try:
            message = parse_output(frame.payload)
        except MessageRejected as rejected:  # refuse it, keep the link
            reason = f"NOT AN OUTPUT MESSAGE: {' '.join(rejected.details)}"
            writer.write(build_frame(Frame(FrameKind.NK, frame.seq, reason.encode("ascii"))))
            self.refused.append((frame.seq, reason))
            return
        self.inbox.append(Delivery(frame.seq, frame.payload, message))

    async def _handle(self, frames: list[Frame], writer: asyncio.StreamWriter) -> None:
        """One chunk's frames; what they call for (an AK for the deliveries, the posted
        messages an AK made room for) goes out in one write."""
        highest = 0  # the highest delivery seq to acknowledge in this chunk
        acknowledged = False
        async with self._changed:
            for frame in frames:
                match frame.kind:
                    case FrameKind.DT:
                        self.repeated += frame.seq <= self.last_processed
                        if self.auto_ack or frame.seq <= self.acked:
                            highest = max(highest, frame.seq)
                        if frame.seq > self.last_processed:
                            self._deliver(frame, writer)
                    case FrameKind.AK:  # unacked is in seq order: settle from the front
                        unacked = self.unacked
                        while unacked and next(iter(unacked)) <= frame.seq:
                            unacked.popitem(last=False)
                        acknowledged = True
                        self.on_acknowledged(frame.seq)
                    case FrameKind.NK:
                        self.naks.append((frame.seq, frame.payload.decode("ascii", "replace")))
                    case FrameKind.LO:
                        self._logged_off(frame.payload)
                    case _:
                        pass
            done = self.last_processed if self.auto_ack else self.acked
            replies = build_frame(Frame(FrameKind.AK, done)) if highest else b""
            if acknowledged and self.closed_reason is None:
                replies += self._posted()
            if replies:
                writer.write(replies)
            if self.closed_reason is not None:
                writer.close()
            self._changed.notify_all()
