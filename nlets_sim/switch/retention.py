"""Journal retention: the oldest messages leave the journal with their settled deliveries, by
age (received before a cutoff) or by size (while the pages in use exceed a limit, the oldest
whatever their age). A message with a delivery still queued or sent and not acknowledged
stays, and so does that delivery.

Retention keeps pace with writing. Once a turn (a second) the switch decides how far it may
go (``turn``) and looks at a fixed number of message ids; and with each batch (``with_batch``)
it looks at ``PER_MESSAGE`` ids for each message the journal recorded since the last batch, so
that whatever the rate the journal is written at, removal outruns it while there is something
to remove, and each batch pays in proportion to its own writes (never a long stall).
Everything is written with the batch: it commits, or is refused, with the rest of it.
"""

from __future__ import annotations

from datetime import datetime

from nlets_sim.switch.journal import Journal
from nlets_sim.switch.journal_faults import reading

PER_TURN = 10_000  # message ids looked at each turn, whatever the traffic (catching up)
PER_MESSAGE = 2  # and with each batch, ids looked at per message recorded since the last

_SETTLED = (
    "NOT (state = 'pending' AND seq > COALESCE((SELECT acked FROM peers"
    " WHERE peers.ori = queue.ori), 0))"
)


class Retention:
    """Where retention has looked (a cursor over message ids) and how far it may go."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self.next_id = 0  # the next message id to look at (0: from the oldest)
        self._limit = 0  # ids below this may be removed, as decided at the last turn (0: none)
        self._to_newest = False  # over the size limit: up to the newest message, whatever it is
        self._seen_written = journal.next_message_id  # batches look per message since this

    def turn(self, older_than: datetime | None, over_size: bool, chunk: int = PER_TURN) -> None:
        """Decide how far retention may go: messages received before ``older_than``, or with
        ``over_size`` every message there is. Remove the switch's own notices (deliveries
        caused by no message) received before ``older_than``, and look at ``chunk`` ids."""
        journal = self._journal
        self._to_newest, self._limit = over_size, 0
        if older_than is not None and not over_size:
            with reading(journal.path):
                ((newer,),) = journal.read(
                    "SELECT MIN(id) FROM messages WHERE received_at >= ?",
                    (older_than.isoformat(),),
                )
            self._limit = newer if isinstance(newer, int) else journal.next_message_id
        if older_than is not None:
            journal.write(
                f"DELETE FROM queue WHERE message_id IS NULL AND received_at < ? AND {_SETTLED}",  # noqa: S608
                (older_than.isoformat(),),
            )
        self._look(chunk)

    def with_batch(self, per_message: int = PER_MESSAGE) -> None:
        """Before a batch commits: look at ``per_message`` ids for each message recorded
        since the last call, up to where the last turn said retention may go."""
        written = self._journal.next_message_id
        recorded, self._seen_written = written - self._seen_written, written
        if recorded > 0:
            self._look(per_message * recorded)

    def _look(self, chunk: int) -> None:
        """Remove what may go among the next ``chunk`` messages from the cursor on. Having
        reached the limit, the cursor goes back to the oldest and waits for the next turn."""
        journal = self._journal
        limit = journal.next_message_id if self._to_newest else self._limit
        start = self.next_id
        if limit <= start:
            self.next_id, self._limit, self._to_newest = 0, 0, False
            return
        with reading(journal.path):  # ids already removed take no share of the chunk
            after = journal.read(
                "SELECT id FROM messages WHERE id >= ? AND id < ? ORDER BY id LIMIT 1 OFFSET ?",
                (start, limit, chunk),
            )
        end = after[0][0] if after and isinstance(after[0][0], int) else limit
        if end >= limit:
            self.next_id, self._limit, self._to_newest = 0, 0, False
        else:
            self.next_id = end
        journal.write(
            f"DELETE FROM queue WHERE message_id >= ? AND message_id < ? AND {_SETTLED}",  # noqa: S608
            (start, end),
        )
        journal.write(
            "DELETE FROM messages WHERE id >= ? AND id < ? AND NOT EXISTS"
            " (SELECT 1 FROM queue WHERE queue.message_id = messages.id)",
            (start, end),
        )
