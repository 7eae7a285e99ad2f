"""What the switch core asks of its journal, in the core's own terms.

The core decides; the journal stores. ``Journal`` (SQLite, ``journal.py``) carries these
operations out in one transaction per batch; the tests run the whole core on a journal in
memory that does the same with dicts. Writes belong to the batch that ``commit`` ends: it
raises ``JournalUnavailable`` when the batch could not be stored (nothing of it is), and the
core then reloads its state from what ``peers``, ``counters`` … return. Reads see the batch's
own writes. A read of a damaged journal raises ``JournalDamaged``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from formats.value_types import value_type


@value_type
class QueuedRow:
    """One queued delivery, as the core hands it to the journal or reads it back: the text,
    and the output message once it is built (``payload``; None while stored unbuilt)."""

    id: int  # the journal's row number (0 before it is stored)
    ori: str  # the session it goes to
    seq: int
    addressed_ori: str  # the ORI on line 3 of the output header
    mke: str
    originator: str
    control: str | None
    received_at: datetime
    input_number: int
    text: str
    payload: bytes | None


@value_type
class Expired:
    """A stored delivery whose time has come, with the input it came from (for SM .07.)."""

    id: int
    ori: str
    seq: int
    addressed_ori: str
    notify_ori: str
    raw: bytes


@value_type
class RefusedDelivery:
    """A delivery its terminal refused for good, and who sent the input that caused it."""

    addressed_ori: str  # the ORI on line 3 of its output header
    originator: str  # the ORI on its first line
    logon_ori: str  # the session the input arrived on
    raw: bytes  # the input as received


class CoreJournal(Protocol):
    """The journal operations the switch core uses."""

    # State loaded at start, and again after a batch was refused

    def peers(self) -> dict[str, tuple[int, int, int]]:
        """ORI -> (last DT seq stored from it, last seq given to it, last seq it acknowledged)."""

    def counters(self) -> dict[tuple[str, str], int]:
        """(line, ``input`` or ``output``) -> the last number given."""

    def help_files(self) -> dict[str, str]: ...

    def removed(self) -> set[tuple[str, str]]:
        """(line, message key) pairs out of service."""

    def expiring(self) -> list[tuple[datetime, int]]:
        """(expiry time, row id) of every delivery stored unbuilt that expires."""

    # Writes of the batch

    def save_peer(self, ori: str, lst: int, next_out: int, acked: int) -> None:
        """An ORI's sequence state; ``acked`` settles its deliveries up to that seq."""

    def save_counter(self, line: str, kind: str, value: int) -> None: ...

    def record_message(
        self,
        received_at: datetime,
        logon_ori: str,
        in_seq: int,
        input_number: int,
        raw: bytes,
        *,
        sender_ori: str | None = None,
        mke: str | None = None,
        destinations: str | None = None,
        control: str | None = None,
        error: str | None = None,
    ) -> int:
        """Store a received message (rejected when ``error``); returns its number."""

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
        """Queue a delivery (built and sent when ``sent_at``); returns its row id."""

    def mark_sent(self, row_id: int, output_number: int, sent_at: datetime, payload: bytes) -> None:
        """A stored delivery is built and goes out."""

    def settle_one(self, ori: str, seq: int, state: str) -> None:
        """The pending delivery ``seq`` to ``ori`` leaves the queue as ``state`` (refused)."""

    def renumber(self, ori: str, acked: int) -> int:
        """``RST/Y``: deliveries up to ``acked`` are settled, the pending ones get seq 1, 2 …
        in order; returns how many are pending."""

    def make_room(self, ori: str, seq: int) -> None:
        """``ori``'s pending deliveries from ``seq`` on move up by one seq."""

    def expire(self, row_id: int) -> None: ...

    def set_help(self, name: str, text: str) -> None: ...

    def set_removed(self, line: str, mke: str, removed: bool) -> None: ...

    def commit(self) -> None:
        """End the batch (raises ``JournalUnavailable`` when it could not be stored)."""

    # Reads

    def pending(self, ori: str, acked: int, limit: int = -1) -> list[QueuedRow]:
        """Deliveries to ``ori`` above seq ``acked``, not settled, in seq order; at most
        ``limit`` (-1: all)."""

    def first_unsent(self, ori: str, acked: int) -> int | None:
        """The lowest seq above ``acked`` of a delivery to ``ori`` stored unbuilt that is not
        an SM (where a new SM goes, §2.4); None when there is none."""

    def refused_delivery(self, ori: str, seq: int) -> RefusedDelivery | None:
        """The delivery ``seq`` still pending for ``ori``, with the input that caused it;
        None when there is no such delivery or no message caused it."""

    def due_for_expiry(self, now: datetime) -> list[Expired]:
        """Deliveries stored unbuilt whose expiry time is ``now`` or before, by row id."""
