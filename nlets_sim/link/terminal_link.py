"""The terminal's side of one link connection (PROTOCOL §1.1, §1.2), without I/O.

``connect`` starts a logon, ``receive_data`` takes what the switch sent and returns events,
``send``, ``post``, ``ack`` and ``logoff`` queue frames; ``data_to_send`` hands over the bytes to
write. Time is passed in (``now``, seconds on a monotonic clock): the link exposes its next
deadline (``next_deadline``) and the shell calls ``tick`` when it comes: the logon timeout,
heartbeats after HBI without sending, the dead peer after 3 x HBI without receiving.

What the link does for its user without being asked: it numbers messages from ``LST``, re-sends
its un-acknowledged DTs after a logon, keeps at most ``window`` DTs un-acknowledged (the rest wait
in ``backlog``, in order), acknowledges deliveries (at once with ``auto_ack``, else up to
``ack(seq)``), drops a delivery whose seq it has processed, and refuses (``NK``) a delivery that
is not an output message. The frames it accepts in each state are a table; a frame missing from
it is the switch's protocol error: ``NK`` with seq 0, then the link closes.
"""

from __future__ import annotations

import enum
from collections import OrderedDict, deque
from collections.abc import Callable

from formats.envelope import OutputMessage, parse_output
from formats.errors import FrameError, FrameTooLong, MessageRejected
from formats.frames import (
    DEFAULT_MAX_PAYLOAD,
    EMPTY_KINDS_FROM_SWITCH,
    Frame,
    FrameKind,
    FrameReader,
    build_frame,
    shown,
)
from formats.tagged import TaggedFieldsError, as_mapping, parse_fields
from formats.value_types import value_type
from nlets_sim.link.protocol import (
    DEAD_AFTER_INTERVALS,
    DEFAULT_HEARTBEAT_S,
    DEFAULT_LOGON_TIMEOUT_S,
    DEFAULT_WINDOW,
    TAKEN_OVER,
    Liveness,
)

SILENT_SWITCH = f"nothing from the switch for {DEAD_AFTER_INTERVALS} x HBI; link closed"
LOGON_TIMED_OUT = "no answer to the logon"


class TerminalState(enum.Enum):
    IDLE = "idle"  # no connection yet
    LOGGING_ON = "logging-on"  # LI sent; the switch answers LA or LJ
    ACTIVE = "active"  # logged on
    CLOSED = "closed"

    __hash__ = object.__hash__  # singletons: identity hash, in C (see FrameKind)


# (state, frame kind received) -> state after it. Anything else is the switch's protocol error.
TRANSITIONS: dict[tuple[TerminalState, FrameKind], TerminalState] = {
    (TerminalState.LOGGING_ON, FrameKind.LA): TerminalState.ACTIVE,
    (TerminalState.LOGGING_ON, FrameKind.LJ): TerminalState.CLOSED,
    (TerminalState.LOGGING_ON, FrameKind.NK): TerminalState.CLOSED,  # the LI itself refused
    (TerminalState.ACTIVE, FrameKind.DT): TerminalState.ACTIVE,
    (TerminalState.ACTIVE, FrameKind.AK): TerminalState.ACTIVE,
    (TerminalState.ACTIVE, FrameKind.NK): TerminalState.ACTIVE,  # the switch closes after it
    (TerminalState.ACTIVE, FrameKind.HB): TerminalState.ACTIVE,
    (TerminalState.ACTIVE, FrameKind.LO): TerminalState.CLOSED,
}


@value_type
class Delivery:
    """A message the switch delivered: its seq, the bytes and the parsed output form."""

    seq: int
    raw: bytes
    message: OutputMessage


@value_type
class LoggedOn:
    lst: int
    heartbeat_s: int


@value_type
class LinkDown:
    """The link closed; ``reason`` says how (also in ``closed_reason``; an LJ's text also in
    ``refusal``)."""

    reason: str


TerminalEvent = Delivery | LoggedOn | LinkDown


def _ignore(_seq: int) -> None:
    """No one listens to acknowledgements."""


def _frame(kind: FrameKind, seq: int = 0, payload: bytes = b"") -> bytes:
    return build_frame(Frame(kind, seq, payload))


class TerminalLink:
    """One terminal's link state, across its connections: what it sent and what it processed
    outlive a connection, so that the next logon carries on."""

    def __init__(
        self,
        ori: str,
        key: str,
        *,
        window: int = DEFAULT_WINDOW,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        auto_ack: bool = True,
    ) -> None:
        self.ori, self.key = ori, key
        self.window = window
        self.max_payload = max_payload
        self.state = TerminalState.IDLE
        self._alive = Liveness(DEFAULT_HEARTBEAT_S, 0.0)  # HBI from each LA
        self.lst = 0
        self.next_seq = 1
        self.last_processed = 0  # highest delivery seq handed to the user
        # With auto_ack false, deliveries are acknowledged only by ack(): ``acked`` is the
        # highest seq the application has acknowledged.
        self.auto_ack = auto_ack
        self.acked = 0
        # Called with LST after each LA, before anything is sent again: an application that
        # keeps the terminal's state in its own store can check it against the switch's.
        self.on_logon: Callable[[int], None] | None = None
        self.on_acknowledged: Callable[[int], None] = _ignore  # called with each AK's seq
        self.unacked: OrderedDict[int, bytes] = OrderedDict()
        self.backlog: deque[bytes] = deque()  # posted, waiting for room in the window
        self.naks: list[tuple[int, str]] = []  # (seq, reason) of the switch's NKs
        self.refused: list[tuple[int, str]] = []  # (seq, reason) of deliveries this end NK'd
        self.repeated = 0  # deliveries received again with a seq already processed (dropped)
        self.closed_reason: str | None = "not connected"
        self.displaced: str | None = None  # the switch's LO reason once another logon took over
        self.refusal: str | None = None  # the LJ (or NK) text that refused the last logon
        self._reset = False
        self._reader = FrameReader(max_payload, EMPTY_KINDS_FROM_SWITCH)
        self._out: list[bytes] = []
        self._logon_deadline = 0.0
        self._nak: str | None = None  # the NK of this connection: the switch closes after it

    # The connection ---------------------------------------------------------------------

    def connect(
        self, now: float, *, reset: bool = False, timeout_s: float = DEFAULT_LOGON_TIMEOUT_S
    ) -> None:
        """A new connection: queue the ``LI``; no answer within ``timeout_s`` closes it."""
        self.state = TerminalState.LOGGING_ON
        self._reset = reset
        self._reader = FrameReader(self.max_payload, EMPTY_KINDS_FROM_SWITCH)
        self._out.clear()
        self._nak = self.refusal = None
        self._logon_deadline = now + timeout_s
        self._alive.last_received = now
        fields = f"ORI/{self.ori}.KEY/{self.key}" + (".RST/Y" if reset else "")
        self._out.append(_frame(FrameKind.LI, 0, fields.encode("ascii")))

    @property
    def heartbeat_s(self) -> float:
        """HBI, as the last LA said."""
        return self._alive.heartbeat_s

    @property
    def active(self) -> bool:
        return self.state is TerminalState.ACTIVE

    @property
    def closed(self) -> bool:
        return self.state is TerminalState.CLOSED

    def connection_lost(self, error: str | None = None) -> list[TerminalEvent]:
        """The connection ended under the link (end of file, or ``error``)."""
        if self.state in (TerminalState.IDLE, TerminalState.CLOSED):
            return []
        if error is not None:
            reason = f"connection error: {error}"
        elif self.state is TerminalState.LOGGING_ON:
            reason = "switch closed the connection during logon"
        elif self._nak is not None:  # the switch sends NK only before it closes
            reason = f"switch sent NK {self._nak}"
        else:
            reason = "switch closed the connection"
        return [self._close(reason)]

    def abort(self, reason: str = "closed by this terminal") -> None:
        """This end drops the connection."""
        if self.state is TerminalState.LOGGING_ON or self.state is TerminalState.ACTIVE:
            self._close(reason)

    def _close(self, reason: str) -> LinkDown:
        """The link is down; ``closed_reason`` keeps the first reason of a logged-on link."""
        if self.state is TerminalState.LOGGING_ON or self.closed_reason is None:
            self.closed_reason = reason
        self.state = TerminalState.CLOSED
        return LinkDown(reason)

    # Time ----------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When ``tick`` has something to do, or None."""
        if self.state is TerminalState.ACTIVE:
            return self._alive.deadline()
        if self.state is TerminalState.LOGGING_ON:
            return self._logon_deadline
        return None

    def tick(self, now: float) -> list[TerminalEvent]:
        """What is due at ``now``: a logon timeout, a dead switch, or a heartbeat to send."""
        if self.state is TerminalState.LOGGING_ON:
            if now >= self._logon_deadline:
                return [self._close(LOGON_TIMED_OUT)]
        elif self.state is TerminalState.ACTIVE:
            if self._alive.dead(now):
                return [self._close(SILENT_SWITCH)]
            if self._alive.heartbeat_due(now) and not self._out:
                self._out.append(_frame(FrameKind.HB))
        return []

    def data_to_send(self, now: float) -> bytes:
        """The bytes queued since the last call, in one piece (sent at ``now``)."""
        if not self._out:
            return b""
        self._alive.last_sent = now
        data = b"".join(self._out)
        self._out.clear()
        return data

    # Receiving -------------------------------------------------------------------------

    def receive_data(self, data: bytes, now: float) -> list[TerminalEvent]:
        """What the switch sent: the events of its frames, in order. What they call for (an
        AK for the deliveries, posted messages an AK made room for) is queued in one piece."""
        state = self.state
        if state is TerminalState.IDLE or state is TerminalState.CLOSED:
            return []
        self._alive.last_received = now
        failure: FrameError | None
        try:
            frames = self._reader.feed(data)
        except FrameError as error:
            frames, failure = [], error
        else:
            failure = self._reader.failed
        events: list[TerminalEvent] = []
        highest = 0  # the highest delivery seq to acknowledge for this read
        acknowledged = False
        for frame in frames:
            kind = frame.kind
            next_state = TRANSITIONS.get((self.state, kind))
            if next_state is None:
                failure = FrameError(f"UNEXPECTED {kind.value}")
                break
            self.state = next_state
            if kind is FrameKind.DT:
                highest = max(highest, self._on_data(frame, events))
            elif kind is FrameKind.AK:
                self._settle(frame.seq)
                acknowledged = True
            elif kind is not FrameKind.HB:
                self._on_control(frame, events)
                if self.state is TerminalState.CLOSED:
                    return events
        if highest:
            done = self.last_processed if self.auto_ack else self.acked
            self._out.append(_frame(FrameKind.AK, done))
        if acknowledged:
            self._pump()
        if failure is not None:
            events.append(self._failed(failure))
        return events

    def _on_data(self, frame: Frame, events: list[TerminalEvent]) -> int:
        """A delivery: new, to the events (or refused); seen before, dropped. Returns its seq
        when it is to be acknowledged now, else 0."""
        seq = frame.seq
        if seq <= self.last_processed:
            self.repeated += 1
        else:
            delivery = self._deliver(frame)
            if delivery is not None:
                events.append(delivery)
        return seq if self.auto_ack or seq <= self.acked else 0

    def _on_control(self, frame: Frame, events: list[TerminalEvent]) -> None:
        """LA, LJ, NK or LO."""
        kind = frame.kind
        if kind is FrameKind.LA:
            events.append(self._logged_on(frame.payload))
        elif kind is FrameKind.LO:
            events.append(self._logged_off(frame.payload))
        elif self.state is TerminalState.ACTIVE:  # an NK: the switch closes after it
            reason = frame.payload.decode("ascii", "replace")
            self.naks.append((frame.seq, reason))
            self._nak = reason
        else:  # LJ, or NK, to the logon
            self.refusal = frame.payload.decode("ascii", "replace")
            events.append(self._close(self.refusal))

    def _deliver(self, frame: Frame) -> Delivery | None:
        """A new delivery, or, when it is not an output message, None and an NK."""
        self.last_processed = frame.seq
        try:
            message = parse_output(frame.payload)
        except MessageRejected as rejected:  # refuse it, keep the link
            reason = f"NOT AN OUTPUT MESSAGE: {' '.join(rejected.details)}"
            self._out.append(_frame(FrameKind.NK, frame.seq, reason.encode("ascii")))
            self.refused.append((frame.seq, reason))
            return None
        return Delivery(frame.seq, frame.payload, message)

    def _settle(self, seq: int) -> None:
        """An AK: the switch has stored this terminal's messages up to ``seq``."""
        unacked = self.unacked
        while unacked and next(iter(unacked)) <= seq:  # in seq order: settle from the front
            unacked.popitem(last=False)
        self.on_acknowledged(seq)

    def _failed(self, error: FrameError) -> LinkDown:
        """A frame this end cannot take: NK (with the DT's seq when it was only too long),
        then close."""
        seq = error.seq if isinstance(error, FrameTooLong) and error.kind == "DT" else 0
        self._out.append(_frame(FrameKind.NK, seq, error.reason.encode("ascii", "replace")))
        if seq:
            self.refused.append((seq, error.reason))
        return self._close(f"bad frame from switch: {error.reason}")

    def _logged_on(self, payload: bytes) -> TerminalEvent:
        try:
            values = as_mapping(parse_fields(payload.decode("ascii"), free_text=()))
            lst, heartbeat_s = int(values["LST"]), int(values["HBI"])
        except (UnicodeDecodeError, TaggedFieldsError, KeyError, ValueError):
            lst = heartbeat_s = -1
        if lst < 0 or heartbeat_s <= 0:
            reason = f"BAD LOGON ANSWER {shown(payload)}"
            self._out.append(_frame(FrameKind.NK, 0, reason.encode("ascii")))
            return self._close(f"bad frame from switch: {reason}")
        self.lst, self._alive.heartbeat_s = lst, heartbeat_s
        if self._reset:
            self.last_processed = self.acked = 0
        if self.on_logon is not None:
            self.on_logon(lst)
        self._renumber()
        self.closed_reason = self.displaced = None
        resent = self.unacked.items()
        self._out.extend(_frame(FrameKind.DT, seq, payload) for seq, payload in resent)
        self._pump()
        return LoggedOn(lst, heartbeat_s)

    def _renumber(self) -> None:
        """After LA: drop what the switch has (seq <= LST), number the rest from LST + 1."""
        unacked, lst = self.unacked, self.lst
        if self._reset or (unacked and next(iter(unacked)) > lst + 1):
            # Renumbered after LST: a reset, or a switch that lost what it had acknowledged
            # (sending the old seqs would only get SEQUENCE GAP at every logon).
            pending = list(unacked.values())
            unacked.clear()
            for seq, payload in enumerate(pending, start=lst + 1):
                unacked[seq] = payload
        for seq in [seq for seq in unacked if seq <= lst]:
            del unacked[seq]
        while len(unacked) > self.window:  # resumed: the rest wait, keeping their seqs
            self.backlog.appendleft(unacked.popitem()[1])
        self.next_seq = max(lst, *unacked.keys(), 0) + 1

    def _logged_off(self, payload: bytes) -> LinkDown:
        """The switch's LO; its reason, if any, goes into ``closed_reason``."""
        reason = shown(payload)
        if payload == TAKEN_OVER.encode("ascii"):
            self.displaced = reason
        return self._close("switch logged off" + (f": {reason}" if reason else ""))

    # Sending ---------------------------------------------------------------------------

    @property
    def has_room(self) -> bool:
        """A message sent now goes out at once: nothing posted waits, the window has room."""
        return not self.backlog and len(self.unacked) < self.window

    def send(self, message: bytes) -> int:
        """Number one message (a DT payload) and queue it; returns its seq. The caller waits
        for ``has_room`` first."""
        seq = self.next_seq
        self.next_seq = seq + 1
        self.unacked[seq] = message
        self._out.append(_frame(FrameKind.DT, seq, message))
        return seq

    def post(self, messages: tuple[bytes, ...]) -> range:
        """Queue messages behind those posted before: out at once while the window has room,
        the rest as AKs make room (after a reconnect too). Returns the seqs they carry."""
        first = self.next_post_seq
        self.backlog.extend(messages)
        self._pump()
        return range(first, first + len(messages))

    def _pump(self) -> None:
        """Send posted messages while the window has room and the link is up."""
        if self.state is not TerminalState.ACTIVE:
            return
        room = min(len(self.backlog), self.window - len(self.unacked))
        backlog, send = self.backlog, self.send
        for _ in range(room):
            send(backlog.popleft())

    def ack(self, seq: int) -> None:
        """With ``auto_ack`` false: every delivery up to ``seq`` is stored; acknowledge them
        (now, or at the next logon's first delivery when the link is down)."""
        if seq <= self.acked:
            return
        self.acked = seq
        if self.state is TerminalState.ACTIVE:
            self._out.append(_frame(FrameKind.AK, seq))

    def logoff(self) -> None:
        """Queue ``LO``; the switch answers by closing."""
        if self.state is TerminalState.ACTIVE:
            self._out.append(_frame(FrameKind.LO))

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
        """Before a logon, after a restart: the messages this terminal's user stored as posted
        and not known to be acknowledged, (seq, message) in seq order with no gap. The logon
        drops those the switch has (seq <= LST) and sends the rest, a window at once."""
        self.unacked = OrderedDict(pending)
        self.backlog.clear()
        self.next_seq = pending[-1][0] + 1 if pending else 1
