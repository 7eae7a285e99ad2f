"""What the LESC has committed of its link to the switch, in its store, so that a restart (a
``kill -9`` at any moment) neither loses nor repeats a message (PROTOCOL §1.2):

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
CREATE TABLE IF NOT EXISTS link_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS posted (seq INTEGER PRIMARY KEY, message BLOB NOT NULL);
"""


class Ledger:
    """The link's state in the store's connection; every write joins the caller's
    transaction. Made outside a transaction (creating the tables commits one)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.executescript(SCHEMA)
        # What this process last settled, so that a batch with no new AK writes nothing (a
        # settle rolled back with its batch is done again by a later one, or by the logon).
        self._settled = -1

    def _value(self, name: str) -> int:
        row = self.db.execute("SELECT value FROM link_state WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def _set(self, name: str, value: int) -> None:
        self.db.execute(
            "INSERT INTO link_state (name, value) VALUES (?1, ?2)"
            " ON CONFLICT (name) DO UPDATE SET value = ?2",
            (name, value),
        )

    def delivered(self) -> int:
        return self._value("delivered")

    def set_delivered(self, seq: int) -> None:
        self._set("delivered", seq)

    def sent_through(self) -> int:
        return self._value("sent_through")

    def pending(self) -> list[tuple[int, bytes]]:
        """The posted messages not known to be acknowledged, in seq order."""
        return [(int(seq), bytes(raw)) for seq, raw in self.db.execute(_PENDING)]

    def record_posted(self, first_seq: int, messages: list[bytes]) -> None:
        """Messages about to be posted, carrying ``first_seq``, ``first_seq`` + 1, ..."""
        if messages:
            self.db.executemany(
                "INSERT INTO posted (seq, message) VALUES (?, ?)",
                zip(range(first_seq, first_seq + len(messages)), messages, strict=True),
            )

    def settle(self, acknowledged: int) -> None:
        """The switch has acknowledged every seq up to ``acknowledged``: forget those."""
        if acknowledged > self._settled:
            self.db.execute("DELETE FROM posted WHERE seq <= ?", (acknowledged,))
            self._set("sent_through", max(acknowledged, self.sent_through()))
            self._settled = acknowledged

    def replace(self, outgoing: list[tuple[int, bytes]], acknowledged: int) -> None:
        """After a logon that renumbered the terminal's messages: store its numbering."""
        self.db.execute("DELETE FROM posted")
        self.db.executemany("INSERT INTO posted (seq, message) VALUES (?, ?)", outgoing)
        self._set("sent_through", acknowledged)
        self._settled = acknowledged

    def forget(self) -> None:
        """No session at all: for a store that will meet a new switch (the benchmarks)."""
        self.db.execute("DELETE FROM posted")
        self.db.execute("DELETE FROM link_state")
        self._settled = -1


_PENDING = "SELECT seq, message FROM posted ORDER BY seq"
