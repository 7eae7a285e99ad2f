"""What the switch core keeps between events, and the small moves every part of it makes:
sessions and sequence state, counters, the outbox of each connection, the batch's undo
record, events for the bus. The layers above (``delivery``, ``switch_notices``, ``sessions``,
``dispatch``, ``core``) each add one job to it.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from formats.envelope import next_counter
from formats.notices import SWITCH_ORI
from nlets_sim.bus.events import Event
from nlets_sim.link.protocol import DEFAULT_HEARTBEAT_S, DEFAULT_WINDOW
from nlets_sim.switch.cluster.forwards import Forwards
from nlets_sim.switch.directory import Directory
from nlets_sim.switch.faults import FaultTable
from nlets_sim.switch.journal_faults import JournalDamaged
from nlets_sim.switch.journal_port import CoreJournal
from nlets_sim.switch.state import Deadlines, Peer, Pending, Session

DEFAULT_HELD_PER_ORI = 2_000
DEFAULT_STORE_EXPIRY = timedelta(hours=72)


class SwitchState:
    """The core's state, loaded from its journal at start. Slotted: the core reads its
    attributes for every message, and an instance of 30 attributes or more would otherwise
    lose the shared-key dictionary that makes those reads cheap (CPython 3.11)."""

    __slots__ = (
        "_ack_due",
        "_backlog_before",
        "_closing",
        "_closing_ori",
        "_conn_ori",
        "_counters",
        "_dirty_counters",
        "_dirty_peers",
        "_first_dt",
        "_logged_on",
        "_now",
        "_outbox",
        "_peers",
        "_spilled_before",
        "_undo",
        "cluster",
        "deadlines",
        "directory",
        "events",
        "events_with_text",
        "faults",
        "heartbeat_s",
        "held_per_ori",
        "help",
        "journal",
        "removed",
        "sessions",
        "store_expiry",
        "unreadable",
        "window",
    )

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
        self.deadlines = Deadlines()  # of the deliveries stored unbuilt
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

    def _load_expiries(self) -> None:
        """The expiry times of the deliveries stored unbuilt, as the journal holds them."""
        try:
            stored = self.journal.expiring()
        except JournalDamaged as damaged:
            self.unreadable["(expiry)"] = damaged.reason
            stored = []
        self.deadlines = Deadlines(stored)

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

    def _remote(self, ori: str) -> str | None:
        """The node serving ``ori``'s line when that is another node (a switch node)."""
        if self.cluster is None or ori == SWITCH_ORI:
            return None
        return self.cluster.remote_node(self.directory.agencies[ori].line)

    def online(self) -> dict[str, int]:
        """Logged-on ORIs and the DT frames each has in flight."""
        return {ori: len(session.in_flight) for ori, session in sorted(self.sessions.items())}

    def counters(self) -> dict[tuple[str, str], int]:
        return dict(self._counters)
