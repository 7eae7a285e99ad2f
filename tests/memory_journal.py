"""The switch core's journal in memory (``CoreJournal``), for tests of the core without a
database file.

It keeps what the SQLite journal keeps, in dicts: the state each batch ends with is what a
switch started over it reads back. ``commit`` keeps the batch; ``crash`` forgets what was
written since the last commit; ``refuse_commits`` makes every commit fail as a full disk does
(the batch is forgotten and ``JournalUnavailable`` raised) until it is set back to None.
"""

# ruff: noqa: ARG002 - it takes every argument of CoreJournal, and keeps what the core reads back

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from formats.value_types import value_type
from nlets_sim.switch.journal_faults import JournalUnavailable
from nlets_sim.switch.journal_port import Expired, QueuedRow, RefusedDelivery


@value_type
class Queued:
    """A queue row with what the core never reads back: its state, expiry and notice."""

    row: QueuedRow
    state: str = "pending"  # 'pending', 'acked', 'refused' or 'expired'
    notify_ori: str | None = None
    expires_at: datetime | None = None
    message_id: int | None = None


@dataclass
class Tables:
    """What the journal holds. Rows are replaced, never changed, so a copy of each dict is
    a snapshot."""

    peers: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    counters: dict[tuple[str, str], int] = field(default_factory=dict)
    help: dict[str, str] = field(default_factory=dict)
    removed: set[tuple[str, str]] = field(default_factory=set)
    messages: dict[int, tuple[str, bytes]] = field(default_factory=dict)  # id -> (logon, raw)
    queue: dict[int, Queued] = field(default_factory=dict)  # row id -> the row

    def copy(self) -> Tables:
        return Tables(
            dict(self.peers),
            dict(self.counters),
            dict(self.help),
            set(self.removed),
            dict(self.messages),
            dict(self.queue),
        )


class MemoryJournal:
    def __init__(self) -> None:
        self.tables = Tables()
        self._committed = Tables()
        self.refuse_commits: str | None = None  # the reason every commit fails with
        self.commits = 0

    def crash(self) -> None:
        """Forget the writes since the last commit, as a process that dies does."""
        self.tables = self._committed.copy()

    def commit(self) -> None:
        if self.refuse_commits is not None:
            self.crash()
            raise JournalUnavailable(self.refuse_commits)
        self.commits += 1
        self._committed = self.tables.copy()

    # State loaded at start

    def peers(self) -> dict[str, tuple[int, int, int]]:
        return dict(self.tables.peers)

    def counters(self) -> dict[tuple[str, str], int]:
        return dict(self.tables.counters)

    def help_files(self) -> dict[str, str]:
        return dict(self.tables.help)

    def removed(self) -> set[tuple[str, str]]:
        return set(self.tables.removed)

    # Writes

    def save_peer(self, ori: str, lst: int, next_out: int, acked: int) -> None:
        self.tables.peers[ori] = (lst, next_out, acked)

    def save_counter(self, line: str, kind: str, value: int) -> None:
        self.tables.counters[(line, kind)] = value

    def record_message(
        self,
        received_at: datetime,
        logon_ori: str,
        in_seq: int,
        input_number: int,
        raw: bytes,
        **fields: str | None,
    ) -> int:
        message_id = len(self.tables.messages) + 1
        self.tables.messages[message_id] = (logon_ori, raw)
        return message_id

    def enqueue(
        self,
        message_id: int | None,
        row: QueuedRow,
        *,
        notify_ori: str | None = None,
        expires_at: datetime | None = None,
        output_number: int | None = None,
        sent_at: datetime | None = None,
    ) -> int:
        row_id = len(self.tables.queue) + 1  # rows are never removed here
        stored = Queued(replace(row, id=row_id), "pending", notify_ori, expires_at, message_id)
        self.tables.queue[row_id] = stored
        return row_id

    def _set(self, row_id: int, **changes: object) -> None:
        self.tables.queue[row_id] = replace(self.tables.queue[row_id], **changes)  # type: ignore[arg-type]

    def _pending(self, ori: str, above: int) -> list[Queued]:
        rows = (q for q in self.tables.queue.values() if q.row.ori == ori and q.state == "pending")
        return sorted((q for q in rows if q.row.seq > above), key=lambda q: q.row.seq)

    def mark_sent(self, row_id: int, output_number: int, sent_at: datetime, payload: bytes) -> None:
        self._set(row_id, row=replace(self.tables.queue[row_id].row, payload=payload))

    def settle_one(self, ori: str, seq: int, state: str) -> None:
        for queued in self._pending(ori, seq - 1):
            if queued.row.seq == seq:
                self._set(queued.row.id, state=state)

    def renumber(self, ori: str, acked: int) -> int:
        for queued in self._pending(ori, 0):
            if queued.row.seq <= acked:
                self._set(queued.row.id, state="acked")
        waiting = self._pending(ori, 0)
        for seq, queued in enumerate(waiting, start=1):
            self._set(queued.row.id, row=replace(queued.row, seq=seq))
        return len(waiting)

    def make_room(self, ori: str, seq: int) -> None:
        for queued in self._pending(ori, seq - 1):
            self._set(queued.row.id, row=replace(queued.row, seq=queued.row.seq + 1))

    def expire(self, row_id: int) -> None:
        self._set(row_id, state="expired")

    def set_help(self, name: str, text: str) -> None:
        self.tables.help[name] = text

    def set_removed(self, line: str, mke: str, removed: bool) -> None:
        if removed:
            self.tables.removed.add((line, mke))
        else:
            self.tables.removed.discard((line, mke))

    # Reads

    def pending(self, ori: str, acked: int, limit: int = -1) -> list[QueuedRow]:
        rows = [queued.row for queued in self._pending(ori, acked)]
        return rows if limit < 0 else rows[:limit]

    def first_unsent(self, ori: str, acked: int) -> int | None:
        unsent = (q.row for q in self._pending(ori, acked) if q.row.payload is None)
        return next((row.seq for row in unsent if row.mke != "SM"), None)

    def _unsent(self) -> list[Queued]:
        """Stored unbuilt, with an expiry time: what may expire."""
        return [
            q
            for q in self.tables.queue.values()
            if q.state == "pending" and q.row.payload is None and q.expires_at is not None
        ]

    def expiring(self) -> list[tuple[datetime, int]]:
        return [(q.expires_at, q.row.id) for q in self._unsent() if q.expires_at is not None]

    def due_for_expiry(self, now: datetime) -> list[Expired]:
        return [
            Expired(
                q.row.id,
                q.row.ori,
                q.row.seq,
                q.row.addressed_ori,
                q.notify_ori or "",
                self.tables.messages[q.message_id or 0][1],
            )
            for q in self._unsent()
            if q.expires_at is not None and q.expires_at <= now
        ]

    def refused_delivery(self, ori: str, seq: int) -> RefusedDelivery | None:
        for queued in self._pending(ori, seq - 1):
            if queued.row.seq == seq and queued.message_id is not None:
                logon_ori, raw = self.tables.messages[queued.message_id]
                return RefusedDelivery(
                    queued.row.addressed_ori, queued.row.originator, logon_ori, raw
                )
        return None

    def dead_letters(self) -> dict[str, int]:
        """ORI -> deliveries refused for good (as ``Journal.dead_letters``)."""
        refused = [q.row.ori for q in self.tables.queue.values() if q.state == "refused"]
        return {ori: refused.count(ori) for ori in sorted(set(refused))}

    def depths(self) -> dict[str, int]:
        """ORI -> deliveries waiting for it or for its AK (as ``Journal.queue_depths``)."""
        depths: dict[str, int] = {}
        for ori, (_lst, _next_out, acked) in self.tables.peers.items():
            if waiting := len(self._pending(ori, acked)):
                depths[ori] = waiting
        return dict(sorted(depths.items()))
