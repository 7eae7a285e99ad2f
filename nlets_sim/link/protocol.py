"""The switch's side of one link connection (PROTOCOL §1.1, §1.2), without I/O.

``receive_data`` takes bytes and returns events; the methods that answer return the bytes to
write. The logon state machine is a table: a (state, frame kind) pair missing from it is the
peer's protocol error.
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

DEFAULT_WINDOW = 64  # un-acknowledged DT frames in each direction (PROTOCOL §1.2)
DEFAULT_HEARTBEAT_S = 30  # HBI: the switch announces it in LA, a terminal assumes it until then
LOGON_REQUIRED = "LOGON REQUIRED"
UNKNOWN_ORI = "UNKNOWN ORI"
BAD_KEY = "BAD KEY"
NOT_ALLOWED = "ORI NOT ALLOWED ON THIS LINK"
# The payload of the LO sent to a connection whose session a newer logon took over.
TAKEN_OVER = "SESSION TAKEN OVER"


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


LinkEvent = (
    LogonRequested
    | DataReceived
    | AckReceived
    | NakReceived
    | HeartbeatReceived
    | LogoffReceived
    | ProtocolViolation
)


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

    def __init__(self, max_payload: int = DEFAULT_MAX_PAYLOAD) -> None:
        self.state = LinkState.AWAIT_LOGON
        self.ori: str | None = None
        self._reader = FrameReader(max_payload)
        self._held: deque[Frame] = deque()
        self._failure: FrameError | None = None  # a bad frame behind the held ones

    @property
    def waiting(self) -> bool:
        """Received frames (or a frame error) wait for the logon to be decided."""
        return not self.closed and (bool(self._held) or self._failure is not None)

    def receive_data(self, data: bytes) -> list[LinkEvent]:
        if self.state is LinkState.CLOSED:
            return []
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

    # What the switch sends ------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.state is LinkState.CLOSED

    def activate(self, ori: str) -> None:
        """The switch accepted the logon."""
        self.state = LinkState.ACTIVE
        self.ori = ori

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
