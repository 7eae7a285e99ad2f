"""What the switch core keeps per ORI and session, what it routes, and the commands it returns
to the asyncio shell."""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime

from formats.value_types import value_type


@value_type
class Write:
    """A command to the shell: write ``data`` to connection ``conn`` (a transcript's ``send``
    step is another thing: ``nlets_sim.tools.transcript.Send``)."""

    conn: int
    data: bytes
    delay_s: float = 0.0  # write after this pause (fault injection); later writes wait too


def writes_of(conn: int, pieces: list[bytes | float]) -> list[Write]:
    """The outbox of a connection as writes: frames joined, split where a pause comes."""
    writes: list[Write] = []
    frames: list[bytes] = []
    pause = 0.0
    for piece in pieces:
        if isinstance(piece, bytes):
            frames.append(piece)
            continue
        if frames:
            writes.append(Write(conn, b"".join(frames), pause))
        frames, pause = [], piece
    if frames:
        writes.append(Write(conn, b"".join(frames), pause))
    return writes


@value_type
class Pending:
    """A delivery waiting for the window, with what fault injection asks of it."""

    seq: int
    payload: bytes
    delay_s: float = 0.0
    copies: int = 1
    first: bool = False  # an SM: goes ahead of every other delivery waiting (§2.4)


def _first_place(backlog: deque[Pending]) -> int | None:
    """Where an SM goes in a session's backlog: before the first delivery waiting that is not
    an SM (SMs keep their order among themselves); None when every one is an SM."""
    return next((index for index, pending in enumerate(backlog) if not pending.first), None)


def seq_ahead(backlog: deque[Pending]) -> int | None:
    """The seq an SM takes in a session's backlog (see ``put_first``); None: the next one."""
    index = _first_place(backlog)
    return None if index is None else backlog[index].seq


def put_first(backlog: deque[Pending], pending: Pending) -> deque[Pending]:
    """The backlog with ``pending``, an SM that took the seq ``seq_ahead`` gave, in its place;
    the deliveries from there on move up by one seq each, as the journal's ``make_room``
    moves their rows."""
    index = _first_place(backlog)
    if index is None:
        return deque([*backlog, pending])
    waiting = list(backlog)
    moved = (replace(later, seq=later.seq + 1) for later in waiting[index:])
    return deque([*waiting[:index], pending, *moved])


@value_type
class Close:
    conn: int


Command = Write | Close


@dataclass(slots=True)
class Peer:
    """An ORI's sequence state: the last DT seq stored from it, the last seq given to it and
    the last seq it acknowledged."""

    lst: int = 0
    next_out: int = 0
    acked: int = 0


@dataclass(slots=True)
class Session:
    ori: str
    conn: int
    in_flight: deque[int] = field(default_factory=deque)  # seqs sent, not acknowledged
    backlog: deque[Pending] = field(default_factory=deque)  # waiting for the window
    spilled: bool = False  # more deliveries wait in the journal, above those held here


@value_type
class Outgoing:
    """A message to deliver, before its output header is stamped."""

    mke: str
    originator: str
    control: str | None
    text: str
    received_at: datetime
    input_number: int
    message_id: int | None  # the journal row of the input it comes from


@value_type
class Received:
    """An input being routed: who sent it and its receive stamp."""

    logon_ori: str
    raw: bytes
    at: datetime
    input_number: int
    message_id: int | None = None

    def outgoing(self, mke: str, originator: str, control: str | None, text: str) -> Outgoing:
        """A message caused by this input: it carries the input's receive stamp."""
        return Outgoing(mke, originator, control, text, self.at, self.input_number, self.message_id)


class Deadlines:
    """When each delivery stored unbuilt expires, by row id, the earliest first. A heap, whose
    entries for rows built or expired since are dropped when they come to the top."""

    def __init__(self, stored: list[tuple[datetime, int]] | None = None) -> None:
        """``stored``: (expiry time, row id) of each, as the journal holds them."""
        self._when = {row_id: at for at, row_id in stored or ()}
        self._heap = list(stored or ())
        heapq.heapify(self._heap)

    def add(self, row_id: int, at: datetime) -> None:
        self._when[row_id] = at
        heapq.heappush(self._heap, (at, row_id))

    def discard(self, row_id: int) -> None:
        """The delivery was built (sent) or expired: it has no deadline any more."""
        self._when.pop(row_id, None)

    def first(self) -> datetime | None:
        heap, when = self._heap, self._when
        while heap:
            at, row_id = heap[0]
            if when.get(row_id) == at:
                return at
            heapq.heappop(heap)
        return None
