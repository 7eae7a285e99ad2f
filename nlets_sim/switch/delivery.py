"""Delivery: a message to an ORI is sent to its session when it is logged on (within the
window, SMs ahead of what waits), to its line's control terminal when that is, else stored for
it; a session holds at most ``held_per_ori`` deliveries in memory and reads the rest back from
the journal as its window frees.
"""

from __future__ import annotations

from datetime import datetime

from formats.codes import SmCode
from formats.envelope import OutputMessage, peek_header
from formats.notices import SWITCH_ORI, StatusNotice, echo
from nlets_sim.link.protocol import SwitchLink
from nlets_sim.switch.cluster.bodies import delivery_body
from nlets_sim.switch.faults import OUTBOUND
from nlets_sim.switch.journal_faults import JournalDamaged
from nlets_sim.switch.journal_port import QueuedRow
from nlets_sim.switch.limits import deliverable
from nlets_sim.switch.state import Outgoing, Pending, Session, put_first, seq_ahead
from nlets_sim.switch.switch_state import SwitchState


class Delivery(SwitchState):
    """Queues, sends and reads back deliveries."""

    __slots__ = ()

    def _to_ori(
        self,
        target: str,
        outgoing: Outgoing,
        now: datetime,
        *,
        expires: datetime | None = None,
        notify: str | None = None,
    ) -> bool:
        """Deliver to ``target``'s session, else its line's control terminal, else store it in
        ``target``'s queue. True when stored. (A switch node forwards for another node's.)"""
        if (node := self._remote(target)) is not None:
            assert self.cluster is not None
            self.cluster.send(
                node, delivery_body("to", target, target, outgoing, expires=expires, notify=notify)
            )
            return False
        session_ori = target
        if target not in self.sessions:
            control_ori = self.directory.line_of(target).control_ori
            if control_ori in self.sessions:
                session_ori = control_ori
        self._deliver(session_ori, target, outgoing, now, expires=expires, notify=notify)
        return session_ori not in self.sessions

    def _deliver(
        self,
        session_ori: str,
        addressed: str,
        outgoing: Outgoing,
        now: datetime,
        *,
        expires: datetime | None = None,
        notify: str | None = None,
    ) -> None:
        """Queue a delivery to ``session_ori``'s session, sending it now when it is logged on.
        An SM goes ahead of everything queued that has not gone out yet (§2.4: SM has the
        highest priority): it takes the first such seq and the others move up by one."""
        if (node := self._remote(session_ori)) is not None:
            assert self.cluster is not None
            body = delivery_body(
                "dl", session_ori, addressed, outgoing, expires=expires, notify=notify
            )
            self.cluster.send(node, body)
            return
        peer = self._peer(session_ori)
        peer.next_out += 1
        self._dirty_peers.add(session_ori)
        session = self._holding(session_ori)
        first = outgoing.mke == "SM"
        seq = self._sm_seq(session_ori, session) if first else peer.next_out
        if session is None:
            row = self._row(session_ori, seq, addressed, outgoing, None)
            self._note_queued(row, False, outgoing.message_id)
            row_id = self.journal.enqueue(
                outgoing.message_id, row, notify_ori=notify, expires_at=expires
            )
            if expires is not None:
                self.deadlines.add(row_id, expires)
            spilled = self.sessions.get(session_ori)
            if spilled is not None:
                self._pump(spilled)  # reads it back if the session holds little now
            return
        self._touch(session)
        number = self._count(self.directory.agencies[session_ori].line, "output")
        payload = self._build(outgoing, addressed, number, now)
        row = self._row(session_ori, seq, addressed, outgoing, payload)
        self._note_queued(row, True, outgoing.message_id)
        self.journal.enqueue(outgoing.message_id, row, output_number=number, sent_at=now)
        fault = None
        if self.faults.faults:
            fault = self.faults.pick(OUTBOUND, outgoing.mke, outgoing.originator, (addressed,))
        if fault is None:
            pending = Pending(seq, payload, first=first)
        elif fault.kind == "duplicate":
            pending = Pending(seq, payload, copies=2, first=first)
        else:
            pending = Pending(seq, payload, self.faults.delay_of(fault), first=first)
        if first and seq != peer.next_out:
            self._keep_backlog(session)
            session.backlog = put_first(session.backlog, pending)
        else:
            session.backlog.append(pending)
        self._pump(session)

    def _sm_seq(self, ori: str, session: Session | None) -> int:
        """The seq a new SM to ``ori`` takes: the first of those not gone out yet, in the
        session's memory or else in the journal (which moves them up by one); else the next."""
        peer = self._peers[ori]
        if session is not None:
            ahead = seq_ahead(session.backlog)
        else:
            ahead = self.journal.first_unsent(ori, peer.acked)
        if ahead is None:
            return peer.next_out
        self.journal.make_room(ori, ahead)
        return ahead

    def _holding(self, ori: str) -> Session | None:
        """The session a new delivery to ``ori`` is held in memory by; None when ``ori`` is
        not logged on, or holds ``held_per_ori`` already (the delivery waits in the journal
        and the session is ``spilled`` until it has read everything back)."""
        session = self.sessions.get(ori)
        if session is not None and (session.spilled or len(session.backlog) >= self.held_per_ori):
            self._spilled_before.setdefault(ori, session.spilled)
            session.spilled = True
            return None
        return session

    @staticmethod
    def _row(
        session_ori: str, seq: int, addressed: str, outgoing: Outgoing, payload: bytes | None
    ) -> QueuedRow:
        """The queue row of a delivery (``payload``: its output message, once built)."""
        return QueuedRow(
            0,
            session_ori,
            seq,
            addressed,
            outgoing.mke,
            outgoing.originator,
            outgoing.control,
            outgoing.received_at,
            outgoing.input_number,
            outgoing.text,
            payload,
        )

    @staticmethod
    def _build(
        message: QueuedRow | Outgoing, addressed: str, output_number: int, now: datetime
    ) -> bytes:
        """The output message of a delivery to ``addressed``, stamped ``now``."""
        return OutputMessage(
            mke=message.mke,
            originator=message.originator,
            received_at=message.received_at,
            input_number=message.input_number,
            sent_at=now,
            output_number=output_number,
            destination=addressed,
            text=message.text,
            control=message.control,
        ).build()

    def _note_queued(self, row: QueuedRow, sent: bool, message_id: int | None) -> None:
        if self.events is not None:
            fields = {
                "to": row.addressed_ori,
                "mke": row.mke,
                "sender": row.originator,
                "seq": row.seq,
                "msg": message_id,
            }
            self.event("delivered" if sent else "stored", row.ori, fields, row.text)

    def _pump(self, session: Session) -> None:
        if len(session.in_flight) >= self.window:
            return
        if session.spilled and len(session.backlog) <= self.held_per_ori // 2:
            self._read_back(session)
        if not session.backlog:
            return
        self._touch(session)
        pumped = self._undo[session.ori][2]
        dead: list[int] = []
        while session.backlog and len(session.in_flight) < self.window:
            pending = session.backlog.popleft()
            pumped.append(pending)
            if not deliverable(pending.payload):  # dead-lettered: never handed to anyone
                dead.append(pending.seq)
                continue
            session.in_flight.append(pending.seq)
            if pending.delay_s:
                self._outbox.setdefault(session.conn, []).append(pending.delay_s)
            frame = SwitchLink.data(pending.seq, pending.payload)
            for _ in range(pending.copies):
                self._out(session.conn, frame)
        for seq in dead:  # after the loop: telling a sender may pump another session
            self._dead_letter(session.ori, seq, self._now or datetime.now())  # noqa: DTZ005 - never: an event set it

    def _dead_letter(self, ori: str, seq: int, now: datetime) -> None:
        """The delivery ``seq`` to ``ori`` is refused for good. Its sender gets ``SM`` .08.
        (DESTINATION the addressed ORI, the input's first 100 bytes, its control field),
        unless the switch sent it (an ER, an SM) or its input came from ``ori`` itself."""
        try:
            letter = self.journal.refused_delivery(ori, seq)
        except JournalDamaged as damaged:
            self.unreadable["(dead letter)"] = damaged.reason
            letter = None
        self.journal.settle_one(ori, seq, "refused")
        if letter is None or SWITCH_ORI in (letter.originator, letter.logon_ori):
            return
        if letter.logon_ori == ori:
            return
        notice = StatusNotice(SmCode.REFUSED, letter.addressed_ori, echo(letter.raw)).build()
        control = peek_header(letter.raw)[1]  # returned in every reply (§2.1)
        outgoing = Outgoing("SM", SWITCH_ORI, control, notice, now, 0, None)
        self._to_ori(letter.logon_ori, outgoing, now)

    def _hold(self, session: Session, rows: list[QueuedRow], now: datetime) -> None:
        """Take deliveries read from the journal into a session's memory (building those
        that were stored unbuilt), up to ``held_per_ori``; with more, it is ``spilled``."""
        room = self.held_per_ori - len(session.backlog)
        ori = session.ori
        self._spilled_before.setdefault(ori, session.spilled)
        session.spilled = len(rows) > room
        for row in rows[:room]:
            payload = row.payload
            if payload is None:
                number = self._count(self.directory.agencies[ori].line, "output")
                payload = self._build(row, row.addressed_ori, number, now)
                self.journal.mark_sent(row.id, number, now, payload)
                self.deadlines.discard(row.id)
                self.note("forwarded", ori, to=row.addressed_ori, mke=row.mke, seq=row.seq)
            session.backlog.append(Pending(row.seq, payload, first=row.mke == "SM"))

    def _read_back(self, session: Session) -> None:
        """A spilled session's window frees: hold the next deliveries waiting in the journal
        (those above every seq held here)."""
        self._touch(session)
        held = [*session.in_flight, *(pending.seq for pending in session.backlog)]
        after = max(held, default=self._peers[session.ori].acked)
        room = self.held_per_ori - len(session.backlog)
        rows = self.journal.pending(session.ori, after, room + 1)
        self._hold(session, rows, self._now or datetime.now())  # noqa: DTZ005 - never: a logon set it
