"""The switch's side of one link connection (PROTOCOL §1.1, §1.2), without I/O.

``receive_data`` takes bytes and returns events; the methods that answer return the bytes to
write. The logon state machine is a table: a (state, frame kind) pair missing from it is the
peer's protocol error. Time is passed in (``now``, seconds on a monotonic clock): the link says
when its next timer is due (``next_deadline``) and ``tick`` returns what is due then: the logon
timeout, a heartbeat after HBI without sending (the shell reports each write with ``sent``), a
dead peer after 3 x HBI without receiving. The terminal's side is ``terminal_link``.
"""

from __future__ import annotations

import enum
from collections import deque

from formats.errors import FrameError
from formats.frames import (
    DEFAULT_MAX_PAYLOAD,
    Frame,
    FrameKind,
    FrameReader,
    build_frame,
    logoff,
)
from formats.tagged import TaggedFieldsError, as_mapping, duplicates, parse_fields
from formats.value_types import value_type

LOGON_REQUIRED = "LOGON REQUIRED"
UNKNOWN_ORI = "UNKNOWN ORI"
BAD_KEY = "BAD KEY"
NOT_ALLOWED = "ORI NOT ALLOWED ON THIS LINK"
# The payload of the LO sent to a connection whose session a newer logon took over.
TAKEN_OVER = "SESSION TAKEN OVER"

# PROTOCOL 1.2's defaults, for both ends.
DEFAULT_WINDOW = 64  # un-acknowledged DT frames in each direction
# HBI: the switch announces it in LA, a terminal assumes it until then; a side that sent
# nothing for this long sends HB
DEFAULT_HEARTBEAT_S = 30
DEAD_AFTER_INTERVALS = 3  # a side that received nothing for 3 x HBI closes the link
DEFAULT_LOGON_TIMEOUT_S = 10.0  # the first frame must be LI within this


class Liveness:
    """When a logged-on link sends a heartbeat and when it gives its peer up (PROTOCOL 1.2), the
    same at both ends: ``HB`` after HBI without sending, dead after 3 x HBI without receiving.
    Times in seconds on the clock the link is given."""

    __slots__ = ("heartbeat_s", "last_received", "last_sent")

    def __init__(self, heartbeat_s: float, now: float) -> None:
        self.heartbeat_s = heartbeat_s
        self.last_received = self.last_sent = now

    def deadline(self) -> float:
        interval = self.heartbeat_s
        return min(self.last_sent + interval, self.last_received + DEAD_AFTER_INTERVALS * interval)

    def dead(self, now: float) -> bool:
        return now >= self.last_received + DEAD_AFTER_INTERVALS * self.heartbeat_s

    def heartbeat_due(self, now: float) -> bool:
        return now >= self.last_sent + self.heartbeat_s


class LinkState(enum.Enum):
    AWAIT_LOGON = "await-logon"  # connected; the first frame must be LI
    LOGGING_ON = "logging-on"  # LI received; the switch decides
    ACTIVE = "active"  # logged on
    CLOSED = "closed"

    __hash__ = object.__hash__  # singletons: identity hash, in C (see FrameKind)


# (state, frame kind received) -> state after it. Anything else is a protocol error.
TRANSITIONS: dict[tuple[LinkState, FrameKind], LinkState] = {
    (LinkState.AWAIT_LOGON, FrameKind.LI): LinkState.LOGGING_ON,
    (LinkState.ACTIVE, FrameKind.DT): LinkState.ACTIVE,
    (LinkState.ACTIVE, FrameKind.AK): LinkState.ACTIVE,
    (LinkState.ACTIVE, FrameKind.NK): LinkState.ACTIVE,
    (LinkState.ACTIVE, FrameKind.HB): LinkState.ACTIVE,
    (LinkState.ACTIVE, FrameKind.LO): LinkState.CLOSED,
}


@value_type
class LogonRequested:
    ori: str
    key: str
    reset: bool


@value_type
class DataReceived:
    seq: int
    payload: bytes


@value_type
class AckReceived:
    seq: int


@value_type
class NakReceived:
    seq: int
    reason: str


@value_type
class HeartbeatReceived:
    pass


@value_type
class LogoffReceived:
    pass


@value_type
class ProtocolViolation:
    """The peer broke the link protocol; ``reply`` is the NK or LJ to send before closing."""

    reason: str
    reply: bytes


@value_type
class LogonTimedOut:
    """No LI in time: ``reply`` (``LJ LOGON REQUIRED``) to send before closing."""

    reply: bytes


@value_type
class PeerSilent:
    """Nothing received for 3 x HBI: the link is dead; close without a word."""


@value_type
class HeartbeatDue:
    """Nothing sent for HBI: send ``frame``."""

    frame: bytes


LinkEvent = (
    LogonRequested
    | DataReceived
    | AckReceived
    | NakReceived
    | HeartbeatReceived
    | LogoffReceived
    | ProtocolViolation
)
TimerEvent = LogonTimedOut | PeerSilent | HeartbeatDue


def parse_logon(payload: bytes) -> LogonRequested | None:
    """``ORI/<9>.KEY/<secret>[.RST/Y]``; None when the payload is not that."""
    try:
        parsed = parse_fields(payload.decode("ascii"), free_text=())
    except (UnicodeDecodeError, TaggedFieldsError):
        return None
    if duplicates(parsed):  # two ORIs (or keys): which one logs on is not the switch's guess
        return None
    fields = as_mapping(parsed)
    ori, key = fields.get("ORI"), fields.get("KEY")
    if ori is None or key is None or set(fields) - {"ORI", "KEY", "RST"}:
        return None
    return LogonRequested(ori, key, fields.get("RST") == "Y")


def accepted(lst: int, heartbeat_s: int) -> bytes:
    """``LA`` with ``LST/<8 digits>.HBI/<seconds>``."""
    payload = f"LST/{lst:08d}.HBI/{heartbeat_s}".encode("ascii")
    return build_frame(Frame(FrameKind.LA, 0, payload))


def rejected(reason: str) -> bytes:
    return build_frame(Frame(FrameKind.LJ, 0, reason.encode("ascii")))


class SwitchLink:
    """One connection's link state, as the switch sees it.

    Frames that arrive behind an ``LI`` (in the same write, or before the switch has decided
    the logon) wait: ``receive_data`` stops at the ``LogonRequested`` and, once the switch
    has called ``activate``, ``receive_data(b"")`` returns the events of the frames that
    waited (``waiting`` says there are some)."""

    def __init__(
        self,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        *,
        now: float = 0.0,
        heartbeat_s: float = DEFAULT_HEARTBEAT_S,
        logon_timeout_s: float = DEFAULT_LOGON_TIMEOUT_S,
    ) -> None:
        self.state = LinkState.AWAIT_LOGON
        self.ori: str | None = None
        self._reader = FrameReader(max_payload)
        self._held: deque[Frame] = deque()
        self._failure: FrameError | None = None  # a bad frame behind the held ones
        self._logon_deadline = now + logon_timeout_s
        self._alive = Liveness(heartbeat_s, now)

    @property
    def waiting(self) -> bool:
        """Received frames (or a frame error) wait for the logon to be decided."""
        return not self.closed and (bool(self._held) or self._failure is not None)

    def receive_data(self, data: bytes, now: float) -> list[LinkEvent]:
        if self.state is LinkState.CLOSED:
            return []
        if data:
            self._alive.last_received = now
        if data and self._failure is None:
            try:
                self._held.extend(self._reader.feed(data))
            except FrameError as error:
                self._failure = error
            else:
                self._failure = self._reader.failed
        events: list[LinkEvent] = []
        while self._held and self.state is not LinkState.LOGGING_ON:
            events.append(self._on_frame(self._held.popleft()))
            if self.closed:
                self._held.clear()
                return events
        failure = self._failure
        if failure is not None and not self._held and self.state is not LinkState.LOGGING_ON:
            self.state = LinkState.CLOSED
            events.append(ProtocolViolation(failure.reason, self.nak(0, failure.reason)))
        return events

    def _on_frame(self, frame: Frame) -> LinkEvent:
        next_state = TRANSITIONS.get((self.state, frame.kind))
        if next_state is None:
            return self._violation(frame)
        self.state = next_state
        match frame.kind:
            case FrameKind.LI:
                logon = parse_logon(frame.payload)
                if logon is None:
                    self.state = LinkState.CLOSED
                    return ProtocolViolation(UNKNOWN_ORI, self.reject(UNKNOWN_ORI))
                return logon
            case FrameKind.DT:
                return DataReceived(frame.seq, frame.payload)
            case FrameKind.AK:
                return AckReceived(frame.seq)
            case FrameKind.NK:
                return NakReceived(frame.seq, frame.payload.decode("ascii", "replace"))
            case FrameKind.HB:
                return HeartbeatReceived()
            case _:
                return LogoffReceived()

    def _violation(self, frame: Frame) -> ProtocolViolation:
        awaiting = self.state is LinkState.AWAIT_LOGON
        self.state = LinkState.CLOSED
        if awaiting:
            return ProtocolViolation(LOGON_REQUIRED, self.reject(LOGON_REQUIRED))
        reason = f"UNEXPECTED {frame.kind.value}"
        return ProtocolViolation(reason, self.nak(0, reason))

    # Time ----------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When ``tick`` has something to do, or None (a logon being decided, a closed link)."""
        if self.state is LinkState.ACTIVE:
            return self._alive.deadline()
        if self.state is LinkState.AWAIT_LOGON:
            return self._logon_deadline
        return None

    def tick(self, now: float) -> list[TimerEvent]:
        """What is due at ``now``."""
        if self.state is LinkState.AWAIT_LOGON:
            if now >= self._logon_deadline:
                return [LogonTimedOut(self.reject(LOGON_REQUIRED))]
        elif self.state is LinkState.ACTIVE:
            if self._alive.dead(now):
                self.close()
                return [PeerSilent()]
            if self._alive.heartbeat_due(now):
                self._alive.last_sent = now
                return [HeartbeatDue(self.heartbeat())]
        return []

    def sent(self, now: float) -> None:
        """The shell wrote to this link's connection at ``now``."""
        self._alive.last_sent = now

    # What the switch sends ------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.state is LinkState.CLOSED

    def activate(self, ori: str, now: float) -> None:
        """The switch accepted the logon at ``now``; its ``LA`` is the next frame out (no
        heartbeat may go before it, however long the logon took)."""
        self.state = LinkState.ACTIVE
        self.ori = ori
        self._alive.last_sent = now

    def reject(self, reason: str) -> bytes:
        self.close()
        return rejected(reason)

    def close(self) -> None:
        self.state = LinkState.CLOSED
        self._held.clear()

    @staticmethod
    def data(seq: int, payload: bytes) -> bytes:
        return build_frame(Frame(FrameKind.DT, seq, payload))

    @staticmethod
    def ack(seq: int) -> bytes:
        return build_frame(Frame(FrameKind.AK, seq))

    @staticmethod
    def nak(seq: int, reason: str) -> bytes:
        return build_frame(Frame(FrameKind.NK, seq, reason.encode("ascii", "replace")))

    @staticmethod
    def taken_over() -> bytes:
        """``LO`` with the reason ``SESSION TAKEN OVER``, to a displaced connection."""
        return logoff(TAKEN_OVER)

    @staticmethod
    def heartbeat() -> bytes:
        return build_frame(Frame(FrameKind.HB))
