"""Sessions: a logon accepted or refused (with what waits for the ORI), AK and NK of
deliveries, logoff, a peer's protocol violation, a closed connection.
"""

from __future__ import annotations

from datetime import datetime

from formats.notices import SWITCH_ORI
from nlets_sim.link.protocol import (
    BAD_KEY,
    NOT_ALLOWED,
    UNKNOWN_ORI,
    LogonRequested,
    SwitchLink,
    accepted,
)
from nlets_sim.link.protocol import rejected as rejected_frame
from nlets_sim.switch.journal_faults import JournalDamaged
from nlets_sim.switch.journal_port import QueuedRow
from nlets_sim.switch.state import Session
from nlets_sim.switch.switch_notices import SwitchNotices

QUEUE_UNREADABLE = "SWITCH CANNOT READ THE QUEUE OF THIS ORI - CALL THE OPERATOR"  # LJ text


class Sessions(SwitchNotices):
    """The events of a connection's link."""

    __slots__ = ()

    def logon(
        self, conn: int, request: LogonRequested, now: datetime, refusal: str | None = None
    ) -> bool:
        """Accept or refuse a logon; True when accepted. ``refusal``: the LJ text the server
        has already decided on (a lockout, a certificate for another ORI)."""
        reason = refusal or self.logon_refusal(request)
        if reason is None:
            try:
                next_out, stored = self._stored_for(request)
            except JournalDamaged as damaged:  # that ORI only; every other is still served
                self.unreadable[request.ori] = damaged.reason
                reason = QUEUE_UNREADABLE
        if reason is not None:
            self.note("closed", request.ori, reason=f"logon refused: {reason}")
            self._out(conn, rejected_frame(reason))
            self._closing.append(conn)
            return False
        ori = request.ori
        previous = self.sessions.pop(ori, None)
        if previous is not None:  # taken over: its last AK, LO with the reason, then close
            self._conn_ori.pop(previous.conn, None)
            self._closing_ori[previous.conn] = ori
            self._out(previous.conn, SwitchLink.taken_over())
            self._closing.append(previous.conn)
            self.note("takeover", ori)
        self.note("logon", ori, reset=request.reset)
        peer = self._peer(ori)
        if next_out is not None:  # RST/Y
            peer.lst = 0
            peer.next_out = next_out
            peer.acked = 0
            self._dirty_peers.add(ori)
        self.unreadable.pop(ori, None)
        session = Session(ori, conn)
        self.sessions[ori] = session
        self._conn_ori[conn] = ori
        self._out(conn, accepted(peer.lst, self.heartbeat_s))
        self._logged_on.add(conn)
        self._now = now
        self._hold(session, stored, now)
        self._pump(session)
        return True

    def _stored_for(self, request: LogonRequested) -> tuple[int | None, list[QueuedRow]]:
        """The deliveries waiting for an ORI that logs on (renumbered from 1 by ``RST/Y``,
        then the new ``next_out`` comes first, else None). Raises ``JournalDamaged``."""
        acked, most = self._peer(request.ori).acked, self.held_per_ori + 1
        if not request.reset:
            return None, self.journal.pending(request.ori, acked, most)
        next_out = self.journal.renumber(request.ori, acked)
        return next_out, self.journal.pending(request.ori, 0, most)

    def logon_refusal(self, request: LogonRequested, *, check_key: bool = True) -> str | None:
        """The LJ text for a logon, None when it may go ahead; without ``check_key`` a known
        ORI passes whatever its key."""
        if request.ori == SWITCH_ORI:
            return NOT_ALLOWED
        if request.ori not in self.directory.agencies:
            return UNKNOWN_ORI
        if check_key and not self.directory.key_matches(request.ori, request.key):
            return BAD_KEY
        if self.cluster is not None:
            return self.cluster.elsewhere(self.directory.agencies[request.ori].line)
        return None

    def acknowledged(self, conn: int, seq: int) -> None:
        """AK: deliveries up to ``seq`` that were sent leave the queue; an AK beyond what was
        sent settles nothing more."""
        session = self._session(conn)
        if session is None:
            return
        self._touch(session)
        settled = 0
        while session.in_flight and session.in_flight[0] <= seq:
            settled = session.in_flight.popleft()
        if settled:
            self._peers[session.ori].acked = settled
            self._dirty_peers.add(session.ori)
        self._pump(session)

    def refused(self, conn: int, seq: int, now: datetime) -> None:
        """The terminal sent NK for a delivery: it leaves the queue as refused, and when it
        was in flight its sender is told (SM .08.)."""
        session = self._session(conn)
        if session is None:
            return
        self._now = now
        self._touch(session)
        if seq in session.in_flight:
            session.in_flight.remove(seq)
            self._dead_letter(session.ori, seq, now)
        else:
            self.journal.settle_one(session.ori, seq, "refused")
        self._pump(session)

    def logoff(self, conn: int) -> None:
        """LO: acknowledge what arrived, then close."""
        self.note("logoff", self._conn_ori.get(conn, ""))
        self._ack_due.add(conn)
        self._drop(conn)

    def violation(self, conn: int, reply: bytes) -> None:
        """The peer broke the link protocol: send ``reply`` (NK or LJ), then close."""
        self._out(conn, reply)
        self._drop(conn)

    def disconnected(self, conn: int) -> None:
        ori = self._conn_ori.pop(conn, None)
        session = self.sessions.get(ori) if ori is not None else None
        if session is not None and session.conn == conn:
            del self.sessions[session.ori]
        self._outbox.pop(conn, None)
        self._ack_due.discard(conn)
