"""What the LESC has committed of its link to the switch, in its store, so that a restart (a
``kill -9`` at any moment) neither loses nor repeats a message (PROTOCOL §1.2). Kept per ORI
the daemon logs on as (two daemons, one per LESC ORI, may share a store):

* ``delivered``: the highest delivery seq whose answers are committed. The daemon acknowledges
  a delivery to the switch only after this commit, and after a restart drops the deliveries
  the switch sends again up to it (acknowledging them again).
* ``posted``: the messages handed to the terminal, each with the seq it carries, kept until the
  switch has acknowledged that seq. They are written in the transaction that made them and
  given to the terminal only after it commits; after a restart the terminal sends again those
  above the ``LST`` of its logon, with the same seqs, so the switch drops any it already has.
* ``sent_through``: the highest of the LESC's own seqs known to be acknowledged; a logon whose
  ``LST`` is lower means the switch has lost (or reset) this LESC's session.
"""

from __future__ import annotations

import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS link_sessions (
    ori TEXT PRIMARY KEY, delivered INTEGER NOT NULL DEFAULT 0,
    sent_through INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS link_posted (
    ori TEXT NOT NULL, seq INTEGER NOT NULL, message BLOB NOT NULL, PRIMARY KEY (ori, seq)
) WITHOUT ROWID;
"""


class Ledger:
    """One ORI's link state in the store's connection; every write joins the caller's
    transaction. Made outside a transaction (creating the tables commits one)."""

    def __init__(self, db: sqlite3.Connection, ori: str) -> None:
        self.db = db
        self.ori = ori
        db.executescript(SCHEMA)
        db.execute("INSERT OR IGNORE INTO link_sessions (ori) VALUES (?)", (ori,))
        # What this process last settled, so that a batch with no new AK writes nothing (a
        # settle rolled back with its batch is done again by a later one, or by the logon).
        self._settled = -1

    def _value(self, column: str) -> int:
        row = self.db.execute(
            f"SELECT {column} FROM link_sessions WHERE ori = ?",  # noqa: S608 - our names
            (self.ori,),
        ).fetchone()
        return int(row[0]) if row else 0

    def delivered(self) -> int:
        return self._value("delivered")

    def set_delivered(self, seq: int) -> None:
        self.db.execute("UPDATE link_sessions SET delivered = ? WHERE ori = ?", (seq, self.ori))

    def sent_through(self) -> int:
        return self._value("sent_through")

    def pending(self) -> list[tuple[int, bytes]]:
        """The posted messages not known to be acknowledged, in seq order."""
        rows = self.db.execute(
            "SELECT seq, message FROM link_posted WHERE ori = ? ORDER BY seq", (self.ori,)
        )
        return [(int(seq), bytes(raw)) for seq, raw in rows]

    def record_posted(self, first_seq: int, messages: list[bytes]) -> None:
        """Messages about to be posted, carrying ``first_seq``, ``first_seq`` + 1, ..."""
        if messages:
            ori = self.ori
            self.db.executemany(
                "INSERT INTO link_posted (ori, seq, message) VALUES (?, ?, ?)",
                [(ori, seq, raw) for seq, raw in enumerate(messages, start=first_seq)],
            )

    def settle(self, acknowledged: int) -> None:
        """The switch has acknowledged every seq up to ``acknowledged``: forget those."""
        if acknowledged > self._settled:
            self.db.execute(
                "DELETE FROM link_posted WHERE ori = ? AND seq <= ?", (self.ori, acknowledged)
            )
            self.db.execute(
                "UPDATE link_sessions SET sent_through = max(sent_through, ?) WHERE ori = ?",
                (acknowledged, self.ori),
            )
            self._settled = acknowledged

    def replace(self, outgoing: list[tuple[int, bytes]], acknowledged: int) -> None:
        """After a logon that renumbered the terminal's messages: store its numbering."""
        ori = self.ori
        self.db.execute("DELETE FROM link_posted WHERE ori = ?", (ori,))
        self.db.executemany(
            "INSERT INTO link_posted (ori, seq, message) VALUES (?, ?, ?)",
            [(ori, seq, raw) for seq, raw in outgoing],
        )
        self.db.execute(
            "UPDATE link_sessions SET sent_through = ? WHERE ori = ?", (acknowledged, ori)
        )
        self._settled = acknowledged

    def forget(self) -> None:
        """No session at all: for a store that will meet a new switch (the benchmarks)."""
        self.db.execute("DELETE FROM link_posted WHERE ori = ?", (self.ori,))
        self.db.execute(
            "UPDATE link_sessions SET delivered = 0, sent_through = 0 WHERE ori = ?", (self.ori,)
        )
        self._settled = -1
