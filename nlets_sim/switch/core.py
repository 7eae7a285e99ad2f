"""The switch core: sessions, sequence numbers, routing, delivery, store-and-forward.

No sockets and no clock: the server calls ``logon``, ``receive``, ``acknowledged``, ``refused``,
``logoff``, ``disconnected`` and ``tick`` with the connection's id and ``now``, then ``flush``.
``flush`` commits the journal and only then returns the frames to write and the connections to
close, so that nothing leaves the switch (an ``AK``, a delivery) before it is durable.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from formats.codes import SmCode
from formats.envelope import CRLF, InputMessage, OutputMessage, next_counter, peek_header
from formats.errors import MessageRejected
from formats.notices import SWITCH_ORI, ErrorNotice, StatusNotice, echo
from nlets_sim.bus.events import Event
from nlets_sim.link.protocol import (
    BAD_KEY,
    DEFAULT_HEARTBEAT_S,
    DEFAULT_WINDOW,
    NOT_ALLOWED,
    UNKNOWN_ORI,
    LogonRequested,
    SwitchLink,
    accepted,
)
from nlets_sim.link.protocol import rejected as rejected_frame
from nlets_sim.switch import help_files
from nlets_sim.switch.cluster.bodies import (
    delivery_body,
    expiry_of,
    input_body,
    outgoing_of,
    received_of,
)
from nlets_sim.switch.cluster.forwards import Forwards
from nlets_sim.switch.directory import Directory, HelpAddress
from nlets_sim.switch.faults import OUTBOUND, FaultTable, InjectedStatus, injected_rejection
from nlets_sim.switch.journal_faults import JournalDamaged, JournalUnavailable
from nlets_sim.switch.journal_port import CoreJournal, QueuedRow
from nlets_sim.switch.keys import AML_CAVEAT, check_message
from nlets_sim.switch.limits import check_text_size, deliverable
from nlets_sim.switch.routing import HelpRequest, Route, authorize, check_help_maintainer, resolve
from nlets_sim.switch.state import (
    Close,
    Command,
    Outgoing,
    Peer,
    Pending,
    Received,
    Session,
    Write,
    put_first,
    seq_ahead,
    writes_of,
)

DEFAULT_HELD_PER_ORI = 2_000
DEFAULT_STORE_EXPIRY = timedelta(hours=72)


QUEUE_UNREADABLE = "SWITCH CANNOT READ THE QUEUE OF THIS ORI - CALL THE OPERATOR"  # LJ text


def cannot_store(reason: str) -> str:
    """The NK text for a DT or logon the journal could not store (PROTOCOL §1.1: NK carries
    a reason; the terminal keeps the DT and sends it again after its next logon)."""
    detail = reason.upper().encode("ascii", "replace").decode("ascii")
    return f"SWITCH CANNOT STORE MESSAGES NOW ({detail}) - SEND AGAIN LATER"


class Switch:
    def __init__(
        self,
        directory: Directory,
        journal: CoreJournal,
        *,
        window: int = DEFAULT_WINDOW,
        heartbeat_s: int = DEFAULT_HEARTBEAT_S,
        store_expiry: timedelta = DEFAULT_STORE_EXPIRY,
        next_numbers: Mapping[tuple[str, str], int] | None = None,
        held_per_ori: int = DEFAULT_HELD_PER_ORI,
    ) -> None:
        """``next_numbers``: (line, ``input`` or ``output``) -> the number the line's next
        message gets, replacing the journal's counter (to reproduce recorded traffic)."""
        self.directory = directory
        self.journal = journal
        self.window = window
        self.heartbeat_s = heartbeat_s
        self.store_expiry = store_expiry
        self.held_per_ori = held_per_ori  # deliveries a session holds in memory, at most
        self._now: datetime | None = None  # the last time an event brought, for read-backs
        self.sessions: dict[str, Session] = {}
        self._conn_ori: dict[int, str] = {}
        self._peers = {ori: Peer(*state) for ori, state in journal.peers().items()}
        self._counters = journal.counters()
        self._dirty_counters: set[tuple[str, str]] = set()
        for key, number in (next_numbers or {}).items():
            self._counters[key] = number - 1
            self._dirty_counters.add(key)
        self.help = journal.help_files()
        self.removed = journal.removed()
        # Deliveries stored unbuilt that expire: row id -> when, and the same in a heap
        # (entries of rows built or expired since are skipped when they come to the top).
        self._expiries: dict[int, datetime] = {}
        self._deadlines: list[tuple[datetime, int]] = []
        self._load_expiries()
        self._dirty_peers: set[str] = set()
        self._outbox: dict[int, list[bytes | float]] = {}  # a float: pause, in seconds
        self.faults = FaultTable()
        self.unreadable: dict[str, str] = {}  # ORI -> the error of its damaged journal pages
        self._ack_due: set[int] = set()
        self._closing: list[int] = []
        self._closing_ori: dict[int, str] = {}  # connections closing, for their last AK
        # What a batch did, to undo it when its commit fails: the first DT seq routed from
        # each connection, the connections logged on (their LA leads the batch's outbox), and
        # each touched session as it was.
        self._first_dt: dict[int, int] = {}
        self._logged_on: set[int] = set()
        self._undo: dict[str, tuple[list[int], int, list[Pending]]] = {}
        self.events: list[Event] | None = None  # a list: collect events for the bus
        self.events_with_text = False  # message text in them (--events-with-text)
        self._backlog_before: dict[str, deque[Pending]] = {}  # before an SM reordered it
        self.cluster: Forwards | None = None  # a switch node: forwards to the other nodes
        self._spilled_before: dict[str, bool] = {}  # before the batch changed it

    # Events from connections -----------------------------------------------------------

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
                self._expiries.pop(row.id, None)
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

    def receive(self, conn: int, seq: int, payload: bytes, now: datetime) -> None:
        """A DT from a logged-on connection."""
        ori = self._conn_ori.get(conn)
        if ori is None:
            return
        self._now = now
        peer = self._peer(ori)
        if seq > peer.lst + 1:  # NK and close; no AK: nothing new was stored
            self._out(conn, SwitchLink.nak(seq, f"SEQUENCE GAP EXPECTED {peer.lst + 1}"))
            self._drop(conn)
            return
        self._ack_due.add(conn)
        if seq <= peer.lst:
            return  # a duplicate: acknowledged again, not routed again
        fault = self.faults.pick_inbound(payload) if self.faults.faults else None
        if fault is not None and fault.kind == "drop":
            return  # as if it never arrived: not stored, not acknowledged
        if fault is not None and fault.kind == "close":
            self._drop(conn)
            return
        peer.lst = seq
        self._dirty_peers.add(ori)
        if conn not in self._first_dt:
            self._first_dt[conn] = seq
        number = self._count(self.directory.agencies[ori].line, "input")
        received = Received(ori, payload, now, number)
        if fault is not None:  # reply with the ER or SM the rule gives
            self._reject(received, seq, injected_rejection(fault, payload))
            return
        self._route(received, seq)

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

    def tick(self, now: datetime) -> None:
        """Expire stored messages whose time has come (SM .07. to whoever sent them); a
        damaged page leaves them for the next tick."""
        self._now = now
        deadline = self.next_deadline()
        if deadline is None or deadline > now:
            return
        try:
            due = self.journal.due_for_expiry(now)
        except JournalDamaged as damaged:
            self.unreadable["(expiry)"] = damaged.reason
            return
        for expired in due:
            self._expiries.pop(expired.id, None)
            self.journal.expire(expired.id)
            addressed, notify = expired.addressed_ori, expired.notify_ori
            self.note("expired", expired.ori, to=addressed, seq=expired.seq, notify=notify)
            if notify:
                notice = StatusNotice(SmCode.EXPIRED, addressed, echo(expired.raw)).build()
                control = peek_header(expired.raw)[1]  # returned in every reply (§2.1)
                outgoing = Outgoing("SM", SWITCH_ORI, control, notice, now, 0, None)
                self._to_ori(notify, outgoing, now)

    def next_deadline(self) -> datetime | None:
        """When the next stored delivery expires (from memory: no journal read)."""
        deadlines, expiries = self._deadlines, self._expiries
        while deadlines:
            at, row_id = deadlines[0]
            if expiries.get(row_id) == at:
                return at
            heapq.heappop(deadlines)
        return None

    def _load_expiries(self) -> None:
        """The expiry times of the deliveries stored unbuilt, as the journal holds them."""
        try:
            stored = self.journal.expiring()
        except JournalDamaged as damaged:
            self.unreadable["(expiry)"] = damaged.reason
            stored = []
        self._expiries = {row_id: at for at, row_id in stored}
        self._deadlines = stored
        heapq.heapify(self._deadlines)

    # Operator actions ----------------------------------------------------------------

    def operator_status(self, text: str, now: datetime) -> list[str]:
        """An operator's status message (§2.4: ``NLETS TEMPORARILY OUT OF SERVICE UNTIL ...``,
        ``NLETS IN SERVICE``): an SM from ``NL0000000`` to every line's control terminal,
        ahead of what is queued for it; stored for one that is not logged on. It takes the
        next input number of line NL; returns the control terminals. A switch node tells only
        the control terminals of its own lines: each node is asked, as by ``replay``."""
        lines = list(self.directory.lines.values())
        if self.cluster is not None:  # each node tells its own lines' (the operator asks all)
            lines = [line for line in lines if self.cluster.remote_node(line.code) is None]
        controls = sorted({line.control_ori for line in lines} - {SWITCH_ORI})
        number = self._count(SWITCH_ORI[:2], "input")  # line NL, the switch's own
        message_id = self.journal.record_message(
            now,
            SWITCH_ORI,
            0,
            number,
            text.encode("ascii"),
            sender_ori=SWITCH_ORI,
            mke="SM",
            destinations=",".join(controls),
        )
        outgoing = Outgoing("SM", SWITCH_ORI, None, text, now, number, message_id)
        for ori in controls:
            self._deliver(ori, ori, outgoing, now, expires=now + self.store_expiry)
        return controls

    def set_removed(self, line: str, mke: str, removed: bool) -> None:
        self.journal.set_removed(line, mke, removed)
        if self.events is not None:
            self.events.append(("removed" if removed else "restored", line, {"mke": mke}))
        if removed:
            self.removed.add((line, mke))
        else:
            self.removed.discard((line, mke))

    # The batch boundary ----------------------------------------------------------------

    def flush(self) -> list[Command]:
        """Commit the batch; return what may now be written and closed."""
        for dirty in self._dirty_peers:
            peer = self._peers[dirty]
            self.journal.save_peer(dirty, peer.lst, peer.next_out, peer.acked)
        for line, kind in self._dirty_counters:
            self.journal.save_counter(line, kind, self._counters[(line, kind)])
        self._dirty_peers.clear()
        self._dirty_counters.clear()
        if self.cluster is not None:
            self.cluster.save()
        try:
            self.journal.commit()
        except JournalUnavailable as failure:
            return self._refuse_batch(failure.reason)
        self._first_dt.clear()
        self._undo.clear()
        self._backlog_before.clear()
        self._spilled_before.clear()
        commands: list[Command] = []
        for conn in self._ack_due:
            ori = self._conn_ori.get(conn) or self._closing_ori.get(conn)
            if ori is not None:
                ack = SwitchLink.ack(self._peers[ori].lst)
                at = 1 if conn in self._logged_on else 0  # an AK goes first, after any LA
                self._outbox.setdefault(conn, []).insert(at, ack)
        self._ack_due.clear()
        self._logged_on.clear()
        for conn, frames in self._outbox.items():
            commands.extend(writes_of(conn, frames))
        self._outbox.clear()
        commands.extend(Close(conn) for conn in self._closing)
        self._closing.clear()
        self._closing_ori.clear()
        return commands

    def _refuse_batch(self, reason: str) -> list[Command]:
        """The journal could not store the batch: nothing of it is acknowledged or delivered.
        The state returns to what the journal holds; each connection whose DT or logon was
        in the batch gets ``NK`` and is closed (its terminal sends the DT again after a new
        logon); every other session is put back as it was, its link untouched."""
        journal = self.journal
        if self.events:
            self.events.clear()  # they told of what the journal did not store
        if self.cluster is not None:
            self.cluster.reload()
        self._peers = {ori: Peer(*state) for ori, state in journal.peers().items()}
        self._counters = journal.counters()
        self.help = journal.help_files()
        self.removed = journal.removed()
        self._load_expiries()
        commands: list[Command] = []
        for conn, frames in self._outbox.items():  # refusals stand; AK, LA and DT do not
            kept: list[bytes | float] = [
                f for f in frames if isinstance(f, bytes) and f[3:5] in (b"NK", b"LJ", b"LO")
            ]
            commands.extend(writes_of(conn, kept))
        text = cannot_store(reason)
        for conn in self._first_dt.keys() | self._logged_on:
            commands.append(Write(conn, SwitchLink.nak(self._first_dt.get(conn, 0), text)))
            self._drop(conn)
        for ori, (in_flight, backlog_length, pumped) in self._undo.items():
            session = self.sessions.get(ori)
            if session is not None:
                session.in_flight = deque(in_flight)
                restored = itertools.chain(pumped, session.backlog)
                session.backlog = deque(itertools.islice(restored, backlog_length))
        for ori, backlog in self._backlog_before.items():
            session = self.sessions.get(ori)
            if session is not None:
                session.backlog = backlog
        for ori, spilled in self._spilled_before.items():
            session = self.sessions.get(ori)
            if session is not None:
                session.spilled = spilled
        commands.extend(Close(conn) for conn in self._closing)
        for pending in (
            self._outbox,
            self._first_dt,
            self._undo,
            self._backlog_before,
            self._spilled_before,
            self._closing_ori,
        ):
            pending.clear()
        self._ack_due.clear()
        self._logged_on.clear()
        self._closing.clear()
        return commands

    def _touch(self, session: Session) -> None:
        """Keep how a session was before this batch changed it (once per batch)."""
        if session.ori not in self._undo:
            self._undo[session.ori] = (list(session.in_flight), len(session.backlog), [])

    def _keep_backlog(self, session: Session) -> None:
        """Before an SM reorders a session's backlog (once per batch): keep the backlog as it
        was when the batch began, which ``_undo``'s length and pumped list cannot rebuild."""
        if session.ori not in self._backlog_before:
            _in_flight, length, pumped = self._undo[session.ori]
            before = itertools.islice(itertools.chain(pumped, session.backlog), length)
            self._backlog_before[session.ori] = deque(before)

    # Routing ---------------------------------------------------------------------------

    def _checked(self, received: Received) -> InputMessage:
        """The input, parsed and checked (raises ``MessageRejected``)."""
        directory, logon_ori = self.directory, received.logon_ori
        return check_message(
            received.raw,
            received.at.date(),
            lambda message, rule: authorize(directory, logon_ori, message, rule),
        ).message

    def _journal_input(self, received: Received, seq: int, message: InputMessage) -> Received:
        return self._journaled(
            received,
            seq,
            sender_ori=message.sender,
            mke=message.mke,
            destinations=",".join(message.destinations),
            control=message.control,
        )

    def _route(self, received: Received, seq: int) -> None:
        directory = self.directory
        try:
            message = self._checked(received)
            check_text_size(message.text)
            routes = resolve(directory, message)
            for route in routes:
                if isinstance(route, HelpRequest):
                    check_help_maintainer(message.sender, route.address, directory)
        except MessageRejected as rejected:
            self._reject(received, seq, rejected)
            return
        received = self._journal_input(received, seq, message)
        if self.events is not None:
            fields = {
                "sender": message.sender,
                "mke": message.mke,
                "dest": list(message.destinations),
                "msg": received.message_id,
            }
            self.event("accepted", received.logon_ori, fields, message.text)
        self._dispatch(received, seq, message, routes)

    def _dispatch(
        self,
        received: Received,
        seq: int,
        message: InputMessage,
        routes: list[Route],
        *,
        forward: bool = True,
    ) -> None:
        """Carry out the routes served here; with ``forward``, send the input once to each
        other node that serves a route (a switch node; it carries out its own)."""
        text = message.text
        if message.mke == "AML":
            text = f"{AML_CAVEAT}{CRLF}{text}"
        outgoing = received.outgoing(message.mke, message.sender, message.control, text)
        remote: set[str] = set()
        for route in routes:
            node = self._node_of_route(route)
            if node is not None:
                remote.add(node)
            elif isinstance(route, HelpRequest):
                self._help(received, message, route.address)
            else:
                self._deliver_message(received, outgoing, route.ori)
        if forward and self.cluster is not None:
            for node in sorted(remote):
                self.cluster.send(node, input_body(received, seq))

    def _node_of_route(self, route: Route) -> str | None:
        if self.cluster is None:
            return None
        if isinstance(route, HelpRequest):
            return self.cluster.remote_node(route.address.line)
        return self._remote(route.ori)

    def _remote(self, ori: str) -> str | None:
        """The node serving ``ori``'s line when that is another node (a switch node)."""
        if self.cluster is None or ori == SWITCH_ORI:
            return None
        return self.cluster.remote_node(self.directory.agencies[ori].line)

    def apply_forward(self, node: str, n: int, body: dict[str, Any], now: datetime) -> None:
        """Forward ``n`` from ``node``: routed or delivered here, once, in order."""
        assert self.cluster is not None
        if not self.cluster.arrived(node, n):
            return
        if body["k"] != "in":
            outgoing, expires, notify = outgoing_of(body), expiry_of(body), body["notify"]
            if body["k"] == "to":
                self._to_ori(body["to"], outgoing, now, expires=expires, notify=notify)
            else:
                self._deliver(
                    body["session"], body["to"], outgoing, now, expires=expires, notify=notify
                )
            return
        received, seq = received_of(body)
        try:  # the sending node checked it with the same directory: this only parses
            message = self._checked(received)
        except MessageRejected:
            return
        received = self._journal_input(received, seq, message)
        self._dispatch(received, seq, message, resolve(self.directory, message), forward=False)

    def _help(self, received: Received, message: InputMessage, address: HelpAddress) -> None:
        name = address.file_ori
        current = self.help.get(name, "")
        content = help_files.apply(address, current, message.text)
        if len(content) > help_files.MAX_HELP_BYTES and address.verb != "HELP":
            reply = help_files.refusal(address, len(content), current)
        else:
            if address.verb != "HELP":
                self.help[name] = content
                self.journal.set_help(name, content)
            reply = help_files.reading(address, content)
        answer = received.outgoing("AM", name, message.control, reply)
        self._deliver(received.logon_ori, message.sender, answer, received.at)

    def _deliver_message(self, received: Received, outgoing: Outgoing, target: str) -> None:
        agency = self.directory.agencies[target]
        status = None
        if (agency.line, outgoing.mke) in self.removed:
            status = SmCode.WILL_NOT_FORWARD
        elif not agency.accepts_key(outgoing.mke):
            status = SmCode.DOES_NOT_RESPOND
        elif target == SWITCH_ORI:
            return  # the switch's own mailbox: the journal holds it
        elif self._to_ori(
            target,
            outgoing,
            received.at,
            expires=received.at + self.store_expiry,
            notify=received.logon_ori,
        ):
            status = SmCode.WILL_FORWARD
        if status is not None:
            notice = StatusNotice(status, target, echo(received.raw)).build()
            answer = received.outgoing("SM", SWITCH_ORI, outgoing.control, notice)
            self._deliver(received.logon_ori, outgoing.originator, answer, received.at)

    def _journaled(self, received: Received, seq: int, **fields: str | None) -> Received:
        """Record the input in the journal; the same input, with its journal number."""
        message_id = self.journal.record_message(
            received.at, received.logon_ori, seq, received.input_number, received.raw, **fields
        )
        return Received(
            received.logon_ori, received.raw, received.at, received.input_number, message_id
        )

    def _reject(self, received: Received, seq: int, rejected: MessageRejected) -> None:
        received = self._journaled(received, seq, error=rejected.code.line(rejected.mke))
        if isinstance(rejected, InjectedStatus):
            mke, code = "SM", rejected.status.number
            text = StatusNotice(rejected.status, rejected.destination, echo(received.raw)).build()
        else:
            mke, code = "ER", rejected.code.number
            text = ErrorNotice(
                rejected.code, rejected.details, echo(received.raw), rejected.mke
            ).build()
        if self.events is not None:
            fields = {"answer": mke, "code": code, "msg": received.message_id}
            raw = received.raw.decode("ascii", "replace")
            self.event("rejected", received.logon_ori, fields, raw)
        sender, control = peek_header(received.raw)
        if sender is None or not self.directory.may_send_as(received.logon_ori, sender):
            sender = received.logon_ori
        answer = received.outgoing(mke, SWITCH_ORI, control, text)
        self._deliver(received.logon_ori, sender, answer, received.at)

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
                self._expiries[row_id] = expires
                heapq.heappush(self._deadlines, (expires, row_id))
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

    # State helpers ---------------------------------------------------------------------

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

    def note(self, kind: str, ori: str, **fields: object) -> None:
        """An event about ``ori`` for the bus, when events are being collected."""
        self.event(kind, ori, fields)

    def event(self, kind: str, ori: str, fields: dict[str, Any], text: str | None = None) -> None:
        """``note`` for the busy paths (a dict made by the caller, once it knows events are
        collected); ``text`` is added only with ``events_with_text``."""
        events = self.events
        if events is None:
            return
        agency = self.directory.agencies.get(ori)
        fields["ori"] = ori
        if text is not None and self.events_with_text:
            fields["text"] = text
        events.append((kind, agency.line if agency else "-", fields))

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

    def _out(self, conn: int, frame: bytes | float) -> None:
        self._outbox.setdefault(conn, []).append(frame)

    def _drop(self, conn: int) -> None:
        """End a connection's session now; it closes after the next flush."""
        ori = self._conn_ori.pop(conn, None)
        if ori is not None:
            self._closing_ori[conn] = ori
            if ori in self.sessions and self.sessions[ori].conn == conn:
                del self.sessions[ori]
        self._closing.append(conn)

    def closing(self, conn: int) -> bool:
        """The connection is to be closed at the next flush: read nothing more from it."""
        return conn in self._closing

    def _session(self, conn: int) -> Session | None:
        ori = self._conn_ori.get(conn)
        return self.sessions.get(ori) if ori is not None else None

    def _peer(self, ori: str) -> Peer:
        peer = self._peers.get(ori)
        if peer is None:
            peer = self._peers[ori] = Peer()
        return peer

    def _count(self, line: str, kind: str) -> int:
        key = (line, kind)
        value = next_counter(self._counters.get(key, 0))
        self._counters[key] = value
        self._dirty_counters.add(key)
        return value

    def online(self) -> dict[str, int]:
        """Logged-on ORIs and the DT frames each has in flight."""
        return {ori: len(session.in_flight) for ori, session in sorted(self.sessions.items())}

    def counters(self) -> dict[tuple[str, str], int]:
        return dict(self._counters)
