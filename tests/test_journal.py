"""The journal's own behaviour: batched writes and the background checkpoint."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from nlets_sim.switch.journal import Journal
from nlets_sim.switch.journal_port import QueuedRow

NOW = datetime(2026, 1, 1, 8, 0)
MEMORY = Path(":memory:")

optional_text = st.none() | st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,.", min_size=1)


def test_background_checkpoint_moves_committed_pages_into_the_database(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.checkpoint_in_background(every_s=0.01)
    checkpointer = journal.checkpointer
    assert checkpointer is not None
    assert journal._db.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    for seq in range(1, 200):
        journal.record_message(NOW, "NY0303000", seq, seq, b"AM.NY0303000.NJ.TXT\r\nX" * 10)
    journal.commit()
    for _ in range(2):  # one full interval after the commit
        checkpointer.ran.clear()
        assert checkpointer.ran.wait(5)
    # the rows (about 45 kB) are in the database file itself, not only in the WAL
    assert (tmp_path / "journal.sqlite3").stat().st_size > 40_000
    outside = sqlite3.connect(tmp_path / "journal.sqlite3")
    assert outside.execute("SELECT COUNT(*) FROM messages").fetchone() == (199,)
    outside.close()
    journal.close()
    assert not checkpointer._thread.is_alive()


def test_a_batch_of_any_size_is_written_whole_and_in_order(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    for seq in range(1, 101):  # written as statements of 64, 32 and 4 rows
        journal.record_message(NOW, "NY0303000", seq, seq, b"AM.NY0303000.NJ.TXT\r\n%d" % seq)
    journal.commit()
    records = journal.search(limit=1000)
    assert [(r.id, r.in_seq, r.raw) for r in records] == [
        (seq, seq, b"AM.NY0303000.NJ.TXT\r\n%d" % seq) for seq in range(1, 101)
    ]
    journal.close()


def test_a_journal_from_before_the_acked_mark_gains_it(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE peers (ori TEXT PRIMARY KEY, lst INTEGER NOT NULL, next_out INTEGER NOT NULL)"
    )
    old.execute("INSERT INTO peers VALUES ('NY0303000', 7, 3)")
    old.commit()
    old.close()
    journal = Journal(path)
    assert journal.peers() == {"NY0303000": (7, 3, 0)}
    journal.close()


@given(st.binary(min_size=1), optional_text, optional_text, optional_text, optional_text)
def test_a_message_comes_back_as_recorded_with_its_nulls_and_bytes(
    raw: bytes, sender: str | None, mke: str | None, control: str | None, error: str | None
) -> None:
    """Values bound as '' or text for speed are stored as NULL and BLOB, bytes for bytes."""
    journal = Journal(MEMORY)
    number = journal.record_message(
        NOW, "NY0303000", 3, 7, raw, sender_ori=sender, mke=mke, control=control, error=error
    )
    journal.commit()
    record = journal.message(number)
    assert record is not None
    assert (record.raw, record.sender_ori, record.mke, record.control, record.error) == (
        raw,
        sender,
        mke,
        control,
        error,
    )
    assert record.outcome == ("rejected" if error else "routed")
    kinds = journal._db.execute(
        "SELECT typeof(raw), typeof(sender_ori), typeof(error) FROM messages"
    ).fetchone()
    assert kinds == ("blob", "text" if sender else "null", "text" if error else "null")


@given(
    st.none() | st.integers(1, 10**6),
    optional_text,
    st.none() | st.binary(min_size=1),
    st.booleans(),
)
def test_a_delivery_comes_back_as_queued_with_its_nulls_and_bytes(
    message_id: int | None, control: str | None, payload: bytes | None, stored: bool
) -> None:
    journal = Journal(MEMORY)
    row = QueuedRow(
        0, "NJ0020000", 1, "NJ0020000", "AM", "NY0303000", control, NOW, 5, "HI", payload
    )
    if stored:
        row_id = journal.enqueue(
            message_id, row, notify_ori="NY0303000", expires_at=NOW + timedelta(hours=1)
        )
    else:
        row_id = journal.enqueue(message_id, row, output_number=9, sent_at=NOW)
    journal.commit()
    # the text is kept only until the payload is built; the row given is left as it was
    assert row.id == 0
    expected = replace(row, id=row_id, text="" if payload else "HI")
    assert journal.pending("NJ0020000", 0) == [expected]
    stored_as = journal._db.execute(
        "SELECT message_id, typeof(control), typeof(payload), notify_ori, typeof(expires_at),"
        " output_number, typeof(sent_at) FROM queue"
    ).fetchone()
    assert stored_as == (
        message_id,
        "null" if control is None else "text",
        "null" if payload is None else "blob",
        "NY0303000" if stored else None,
        "text" if stored else "null",
        None if stored else 9,
        "null" if stored else "text",
    )
