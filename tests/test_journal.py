"""The journal's own behaviour: batched writes and the background checkpoint."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from nlets_sim.journal import Journal

NOW = datetime(2026, 1, 1, 8, 0)


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
