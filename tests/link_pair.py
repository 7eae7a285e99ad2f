"""A terminal link and a switch link talking in memory, on a pinned clock in milliseconds.

``LinkPair`` carries each side's bytes to the other and plays the switch's decisions the way
the switch core makes them for a well-behaved terminal: it accepts the logon with its ``lst``,
stores and acknowledges each DT, and closes after an LO, a protocol violation or a timeout.
``advance(ms)`` moves the clock, calling each link's ``tick`` at each of its deadlines on the
way. ``wire`` is every frame, with the millisecond it crossed and its direction (``">"``
terminal to switch, ``"<"`` switch to terminal), so a test reads like the link's transcript.
A side can be made mute (its bytes lost) to play a peer that died without closing.
"""

from __future__ import annotations

from formats.frames import EMPTY_KINDS_FROM_SWITCH, Frame, FrameKind, FrameReader, build_frame
from nlets_sim.link.protocol import (
    DataReceived,
    HeartbeatDue,
    LinkEvent,
    LogoffReceived,
    LogonRequested,
    LogonTimedOut,
    PeerSilent,
    ProtocolViolation,
    SwitchLink,
    TimerEvent,
    accepted,
)
from nlets_sim.link.terminal_link import TerminalEvent, TerminalLink

ORI, KEY = "NY0303000", "S3CRET"


def delivery(seq: int, text: str = "HELLO") -> bytes:
    """A DT frame of an output message for the pair's terminal."""
    payload = f"AM.NJ0010000\r\n08:00 01/01/2026 {seq:05d}\r\n08:00 01/01/2026 {seq:05d} {ORI}\r\n"
    return build_frame(Frame(FrameKind.DT, seq, f"{payload}TXT\r\n{text}".encode()))


class LinkPair:
    def __init__(
        self,
        *,
        heartbeat_s: int = 30,
        logon_timeout_s: float = 10.0,
        terminal_timeout_s: float = 10.0,
        lst: int = 0,
        window: int = 64,
        auto_ack: bool = True,
    ) -> None:
        self.ms = 0
        self.heartbeat_s, self.lst = heartbeat_s, lst
        self.logon_timeout_s = logon_timeout_s  # the switch's, for the first frame
        self.terminal_timeout_s = terminal_timeout_s  # the terminal's, for LA or LJ
        self.terminal = TerminalLink(ORI, KEY, window=window, auto_ack=auto_ack)
        self.switch = SwitchLink(now=0.0)
        self.switch.close()  # no connection yet
        self.connected = False
        self.answer_logon = True  # accept each LI (False: the switch says nothing)
        self.acknowledge = True  # AK each DT as the switch stores it
        self.terminal_mute = self.switch_mute = False
        self.wire: list[tuple[int, str, Frame]] = []
        self.events: list[TerminalEvent] = []  # the terminal link's
        self.switch_events: list[LinkEvent | TimerEvent] = []
        self.stored: list[tuple[int, bytes]] = []  # the DTs the switch took, in order
        self._up = FrameReader()
        self._down = FrameReader(empty_kinds=EMPTY_KINDS_FROM_SWITCH)

    @property
    def now(self) -> float:
        return self.ms / 1000

    def connect(self, *, reset: bool = False) -> None:
        """A new connection; the terminal logs on (and the pair runs until quiet)."""
        self.switch = SwitchLink(
            now=self.now, heartbeat_s=self.heartbeat_s, logon_timeout_s=self.logon_timeout_s
        )
        self._up, self._down = FrameReader(), FrameReader(empty_kinds=EMPTY_KINDS_FROM_SWITCH)
        self.connected = True
        self.terminal.connect(self.now, reset=reset, timeout_s=self.terminal_timeout_s)
        self.run()

    def run(self) -> None:
        """Carry the terminal's queued bytes to the switch until it has nothing more."""
        while data := self.terminal.data_to_send(self.now):
            if self.connected and not self.terminal_mute:
                self.wire += [(self.ms, ">", frame) for frame in self._up.feed(data)]
                self._switch_takes(self.switch.receive_data(data, self.now))

    def from_switch(self, data: bytes) -> None:
        """The switch writes ``data`` to the terminal."""
        if not self.connected:
            return
        self.switch.sent(self.now)
        if self.switch_mute:
            return
        self.wire += [(self.ms, "<", frame) for frame in self._down.feed(data)]
        self.events += self.terminal.receive_data(data, self.now)
        self.run()
        if self.terminal.closed:
            self.drop()

    def drop(self) -> None:
        """The connection ends (either side closed it)."""
        if self.connected:
            self.connected = False
            self.switch.close()
            self.events += self.terminal.connection_lost()

    def advance(self, ms: int) -> None:
        """Move the clock ``ms`` on, ticking each link at each of its deadlines on the way."""
        target = self.ms + ms
        while True:
            deadlines = [self.terminal.next_deadline()]
            if self.connected:
                deadlines.append(self.switch.next_deadline())
            due = min((d for d in deadlines if d is not None), default=None)
            if due is None or due * 1000 > target:
                break
            self.ms = max(self.ms, round(due * 1000))
            if due > self.now:  # rounded below the deadline: the next millisecond
                self.ms += 1
            self.events += self.terminal.tick(self.now)
            self.run()
            if self.terminal.closed:
                self.drop()
            if self.connected:
                self._switch_takes(self.switch.tick(self.now))
        self.ms = target

    def sent_by(self, direction: str) -> list[tuple[int, FrameKind]]:
        """(millisecond, kind) of the frames sent one way."""
        return [(ms, frame.kind) for ms, way, frame in self.wire if way == direction]

    def _switch_takes(self, events: list[LinkEvent] | list[TimerEvent]) -> None:
        for event in events:
            self.switch_events.append(event)
            match event:
                case LogonRequested(ori) if self.answer_logon:
                    self.switch.activate(ori, self.now)
                    self.from_switch(accepted(self.lst, self.heartbeat_s))
                case DataReceived(seq, payload):
                    if seq > self.lst:
                        self.stored.append((seq, payload))
                        self.lst = seq
                    if self.acknowledge:
                        self.from_switch(SwitchLink.ack(self.lst))
                case HeartbeatDue(frame):
                    self.from_switch(frame)
                case ProtocolViolation(_, reply) | LogonTimedOut(reply):
                    self.from_switch(reply)
                    self.drop()
                case LogoffReceived() | PeerSilent():
                    self.drop()
                case _:
                    pass
