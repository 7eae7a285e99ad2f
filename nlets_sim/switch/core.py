"""The switch core: sessions, sequence numbers, routing, delivery, store-and-forward.

No sockets and no clock: the server calls ``logon``, ``receive``, ``acknowledged``, ``refused``,
``logoff``, ``disconnected`` and ``tick`` with the connection's id and ``now``, then ``flush``.
``flush`` commits the journal and only then returns the frames to write and the connections to
close, so that nothing leaves the switch (an ``AK``, a delivery) before it is durable.

``Switch`` is built in layers, one job each, every layer calling only those below it:
``switch_state`` (what the core keeps), ``delivery`` (queue, send, read back),
``switch_notices`` (expiry, the operator's actions), ``sessions`` (logon, AK, NK, logoff),
``dispatch`` (a DT checked and routed) and here the batch boundary. The journal is reached
through ``CoreJournal`` (``journal_port``) only.
"""

from __future__ import annotations

import itertools
from collections import deque

from nlets_sim.link.protocol import SwitchLink
from nlets_sim.switch.dispatch import Dispatch
from nlets_sim.switch.journal_faults import JournalUnavailable
from nlets_sim.switch.state import Close, Command, Peer, Write, writes_of


def cannot_store(reason: str) -> str:
    """The NK text for a DT or logon the journal could not store (PROTOCOL §1.1: NK carries
    a reason; the terminal keeps the DT and sends it again after its next logon)."""
    detail = reason.upper().encode("ascii", "replace").decode("ascii")
    return f"SWITCH CANNOT STORE MESSAGES NOW ({detail}) - SEND AGAIN LATER"


class Switch(Dispatch):
    """The switch core: events in, and at each ``flush`` the commands that may now be carried
    out."""

    __slots__ = ()

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
