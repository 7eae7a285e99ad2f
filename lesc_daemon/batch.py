"""A batch of deliveries answered in one store transaction (group commit), each message's
writes a unit of their own; and the outbox's answers posted when they fall due.

The transaction holds every message's writes (query numbers, detainers, leads, the inbox, the
audit, the outbox of answers due later), the ledger's record of the answers due now and of the
last delivery seq. Each message is a savepoint inside it: a message that fails halfway leaves
none of its writes and none of its bus events, and the others of the batch are kept. A store
that cannot write now (a full disk, an I/O error) undoes the whole batch: the error is raised
and nothing may be acknowledged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from formats.envelope import OutputMessage
from lesc_daemon.ledger import Ledger
from lesc_daemon.lesc import Lesc
from lesc_daemon.store import Store
from lesc_daemon.store_faults import cannot_write_now


@dataclass(slots=True)
class BatchAnswered:
    """What a committed batch did."""

    immediate: list[bytes] = field(default_factory=list)  # to post now, in this order
    scheduled: int = 0  # answers written to the outbox for later
    answered: list[tuple[OutputMessage, int]] = field(default_factory=list)  # with its replies
    failed: list[tuple[OutputMessage, Exception]] = field(default_factory=list)


def answer_batch(
    store: Store,
    ledger: Ledger,
    responder: Lesc,
    deliveries: Sequence[tuple[int, OutputMessage]],
    *,
    now: datetime,
    draw_delay: Callable[[], timedelta],
    first_post_seq: int,
    switch_acked: int,
) -> BatchAnswered:
    """Answer ``deliveries`` (seq, message) in one transaction with the ledger's record of
    them: the answers due now carry ``first_post_seq`` onwards, the last seq is recorded as
    delivered, and what the switch acknowledged (``switch_acked``) is settled. Raises the
    store's error when it cannot write now (nothing of the batch was kept)."""
    done = BatchAnswered()
    events = responder.events
    if events:
        events.clear()  # from an attempt that did not commit
    with store.transaction():
        for _, message in deliveries:
            events_mark = len(events) if events is not None else 0
            try:
                with store.message_unit():
                    replies = responder.handle(message, now, draw_delay())
                    later = [reply for reply in replies if reply.due > now]
                    for reply in later:
                        store.schedule(reply.due, reply.message)
            except Exception as error:  # one bad message must not stop the LESC
                if cannot_write_now(error):
                    raise
                if events is not None:
                    del events[events_mark:]
                done.failed.append((message, error))
                continue
            done.immediate += [reply.message for reply in replies if reply.due <= now]
            done.scheduled += len(later)
            done.answered.append((message, len(replies)))
        ledger.record_posted(first_post_seq, done.immediate)
        ledger.set_delivered(deliveries[-1][0])
        ledger.settle(switch_acked)
    return done


def post_due(store: Store, ledger: Ledger, now: datetime, first_post_seq: int) -> list[bytes]:
    """The outbox's answers due at ``now``, in the order they fell due, moved to the ledger
    (carrying ``first_post_seq`` onwards) in one transaction: to post, behind the answers
    already posted, once it has committed (a sender that waited for an empty backlog could
    wait for ever under load)."""
    due = store.due(now)
    if not due:
        return []
    messages = [message for _, message in due]
    with store.transaction():
        ledger.record_posted(first_post_seq, messages)
        for outbox_id, _ in due:
            store.mark_sent(outbox_id)
    return messages
