"""The switch's journal: one SQLite file in WAL mode holding every message received, every
delivery queued, the per-ORI sequence state, counters, HELP files and remove statuses.

Writes collect in one open transaction; ``commit`` ends it. The switch commits once per batch
of work and only then sends the acknowledgements and deliveries that depend on it (group
commit). ``synchronous=NORMAL`` in WAL mode survives a crash of the process (``kill -9``); a
power cut may lose the last batches, as with any WAL database in that mode.
"""

from __future__ import annotations

import functools
import itertools
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from nlets_sim.switch.checkpoint import Checkpointer
from nlets_sim.switch.journal_faults import (
    JournalDamaged,
    JournalUnavailable,
    WriteFailure,
    reading,
    storage_error,
)
from nlets_sim.switch.journal_port import Expired, QueuedRow, RefusedDelivery

DEFAULT_WAL_LIMIT_BYTES = 64 << 20
WAL_CHECK_EVERY_S = 0.25
PROBE_ROOM_BYTES = 1 << 20  # free space that, with a write that goes through, ends a failure

SCHEMA = """
CREATE TABLE IF NOT EXISTS peers (
    ori TEXT PRIMARY KEY,
    lst INTEGER NOT NULL,          -- highest DT seq stored from this ORI
    next_out INTEGER NOT NULL,     -- last seq given to a message for this ORI
    acked INTEGER NOT NULL DEFAULT 0  -- highest seq this ORI acknowledged (see queue.state)
);
CREATE TABLE IF NOT EXISTS counters (
    line TEXT NOT NULL,
    kind TEXT NOT NULL,            -- 'input' or 'output'
    value INTEGER NOT NULL,
    PRIMARY KEY (line, kind)
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    received_at TEXT NOT NULL,     -- switch-local, ISO 8601
    logon_ori TEXT NOT NULL,
    in_seq INTEGER NOT NULL,
    input_number INTEGER NOT NULL,
    sender_ori TEXT,
    mke TEXT,
    destinations TEXT,
    control TEXT,
    outcome TEXT NOT NULL,         -- 'routed' or 'rejected'
    error TEXT,                    -- the ER line when rejected
    raw BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_time ON messages (received_at);
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY,
    message_id INTEGER,            -- the input that caused it
    ori TEXT NOT NULL,             -- the session it goes to
    seq INTEGER NOT NULL,
    addressed_ori TEXT NOT NULL,   -- the ORI on line 3 of the output header
    mke TEXT NOT NULL,
    originator TEXT NOT NULL,
    control TEXT,
    received_at TEXT NOT NULL,
    input_number INTEGER NOT NULL,
    text TEXT NOT NULL,            -- the text, kept until the payload is built ('' after)
    notify_ori TEXT,               -- who hears of expiry (store-and-forward only)
    expires_at TEXT,               -- store-and-forward only
    output_number INTEGER,
    sent_at TEXT,
    payload BLOB,                  -- the output message, once built
    state TEXT NOT NULL            -- 'pending', 'acked', 'refused', 'expired'; a 'pending' row
                                   -- at or below its ORI's peers.acked is acknowledged (an AK
                                   -- moves that mark instead of updating every row it covers)
);
CREATE INDEX IF NOT EXISTS queue_pending ON queue (ori, state, seq);
CREATE INDEX IF NOT EXISTS queue_message ON queue (message_id);  -- retention, journal show
DROP INDEX IF EXISTS queue_expiry;
CREATE INDEX IF NOT EXISTS queue_unsent ON queue (expires_at)
    WHERE state = 'pending' AND sent_at IS NULL AND expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS help_files (name TEXT PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS removed (line TEXT NOT NULL, mke TEXT NOT NULL, PRIMARY KEY (line, mke));
CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, data BLOB);  -- see Journal.probe
"""


# Python's sqlite3 binds str and int as they are, but looks up an adapter for every None and bytes
# value (the cost: BENCHMARKS.md, "Figures behind choices in the code"). The new rows bind '' or 0
# for NULL and ASCII text for a BLOB, which their statements turn back (NULLIF, CAST): nine Nones
# and six BLOBs for each IAQ round trip through the switch.
_INSERT_MESSAGES = (
    "INSERT INTO messages (id, received_at, logon_ori, in_seq, input_number, sender_ori, mke,"
    " destinations, control, outcome, error, raw) VALUES "
)
_MESSAGE_ROW = (
    "(?,?,?,?,?,NULLIF(?,''),NULLIF(?,''),NULLIF(?,''),NULLIF(?,''),?,NULLIF(?,''),CAST(? AS BLOB))"
)
_INSERT_QUEUE_ROWS = (
    "INSERT INTO queue (id, message_id, ori, seq, addressed_ori, mke, originator, control,"
    " received_at, input_number, text, notify_ori, expires_at, output_number, sent_at, payload,"
    " state) VALUES "
)
_QUEUE_ROW = (
    "(?,NULLIF(?,0),?,?,?,?,?,NULLIF(?,''),?,?,?,NULLIF(?,''),NULLIF(?,''),NULLIF(?,0),"
    "NULLIF(?,''),CAST(NULLIF(?,'') AS BLOB),'pending')"
)


def _blob(data: bytes | None) -> str | bytes:
    """A BLOB to bind in a new row: ASCII as text (no adapter lookup), '' for NULL. (A queue
    row's payload is a built output message, never empty, so its NULLIF cannot take one.)"""
    if data is None:
        return ""
    return data.decode("ascii") if data.isascii() else data


@functools.cache
def _values_statement(insert: str, row: str, count: int) -> str:
    """``insert`` followed by ``count`` copies of ``row``."""
    return insert + ",".join([row] * count)


@functools.lru_cache(maxsize=64)
def _iso(moment: datetime) -> str:
    """ISO 8601 text of a time; cached, since a batch stamps many rows with the same time."""
    return moment.isoformat()


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: int
    received_at: str
    logon_ori: str
    in_seq: int
    input_number: int
    sender_ori: str | None
    mke: str | None
    destinations: str | None
    control: str | None
    outcome: str
    error: str | None
    raw: bytes


class Journal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = path
        # Owner-only: the journal holds names and dates of birth. SQLite gives its -wal and
        # -shm files the database file's mode.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            self._add_missing_columns()
            self._db.execute("SELECT COUNT(*) FROM peers").fetchone()
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise JournalDamaged(path, storage_error(error)) from error
        self._checkpointer: Checkpointer | None = None
        self._in_transaction = False
        self._batch_error: str | None = None  # a write of this batch failed: it will roll back
        self.failure: WriteFailure | None = None  # None while commits succeed
        self._new_messages: list[tuple[object, ...]] = []
        self._new_queue_rows: list[tuple[object, ...]] = []
        self._next_message_id = self._next_id("messages")
        self._wal = path.with_name(path.name + "-wal")
        self._wal_limit_bytes = 0  # 0: not bounded here (no background checkpoints)
        self._wal_check_every_s = WAL_CHECK_EVERY_S
        self._next_wal_check = 0.0
        self.wal_truncations = 0  # TRUNCATE checkpoints run
        self._next_queue_id = self._next_id("queue")

    @property
    def next_message_id(self) -> int:
        """The id the next message recorded gets (ids are given in order of receipt)."""
        return self._next_message_id

    def _add_missing_columns(self) -> None:
        """Journals made before ``peers.acked`` existed gain it."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(peers)")}
        if "acked" not in columns:
            self._db.execute("ALTER TABLE peers ADD COLUMN acked INTEGER NOT NULL DEFAULT 0")

    def _next_id(self, table: str) -> int:
        with reading(self.path):
            row = self._db.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}").fetchone()  # noqa: S608
        return int(row[0])

    def close(self) -> None:
        self.commit()
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self._db.close()

    def checkpoint_in_background(
        self,
        every_s: float = 1.0,
        wal_limit_bytes: int = DEFAULT_WAL_LIMIT_BYTES,
        wal_check_every_s: float = WAL_CHECK_EVERY_S,
    ) -> None:
        """Copy the WAL into the database file from a thread of its own, instead of inside
        the commits of the thread that serves terminals.

        The thread's passive checkpoints never wait, so under constant writes they never
        catch up and the WAL only grows (9.5 GB in 200 s at saturation). So every
        ``wal_check_every_s`` a commit looks at the WAL's size; above ``wal_limit_bytes`` it
        runs a ``TRUNCATE`` checkpoint itself, as the only writer: it copies what the thread
        has not yet copied and empties the WAL, and the next batch waits for that."""
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._db.execute(f"PRAGMA journal_size_limit={int(wal_limit_bytes)}")
        self._wal_limit_bytes = wal_limit_bytes
        self._wal_check_every_s = wal_check_every_s
        self._checkpointer = Checkpointer(self.path, every_s)

    def _bound_wal(self) -> None:
        """After a commit: a TRUNCATE checkpoint when the WAL is above its limit."""
        now = time.monotonic()
        if now < self._next_wal_check:
            return
        self._next_wal_check = now + self._wal_check_every_s
        try:
            if self._wal.stat().st_size > self._wal_limit_bytes:
                busy = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if busy:  # the thread's checkpoint holds the lock: the next commit tries again
                    self._next_wal_check = now
                else:
                    self.wal_truncations += 1
        except (OSError, sqlite3.Error):
            pass  # the next look tries again; the background thread checkpoints meanwhile

    @property
    def checkpointer(self) -> Checkpointer | None:
        return self._checkpointer

    def _begin(self) -> None:
        if not self._in_transaction:
            self._db.execute("BEGIN")
            self._in_transaction = True

    def _write(self, sql: str, parameters: tuple[object, ...]) -> None:
        """Run a write in the batch's transaction. A write the disk refuses (full, I/O error)
        dooms the batch: the rest of its writes are skipped and ``commit`` raises."""
        self._insert_new()
        if self._batch_error is not None:
            return
        try:
            self._begin()
            self._db.execute(sql, parameters)
        except sqlite3.DatabaseError as error:
            self._batch_error = storage_error(error)

    def _read(self, sql: str, parameters: tuple[object, ...] = ()) -> sqlite3.Cursor:
        """A query that sees this batch's writes too (those that were written)."""
        self._insert_new()
        return self._db.execute(sql, parameters)

    def commit(self) -> None:
        """End the batch. Raises ``JournalUnavailable`` when any of its writes or the commit
        failed; the whole batch is then rolled back and nothing of it is stored."""
        self._insert_new()
        wrote = self._in_transaction
        try:
            if self._batch_error is None and wrote:
                self._db.execute("COMMIT")
        except sqlite3.DatabaseError as error:
            self._batch_error = storage_error(error)
        self._in_transaction = False
        if self._batch_error is None:
            if wrote:  # a batch without writes proves nothing about the disk
                self.failure = None
                if self._wal_limit_bytes:
                    self._bound_wal()
            return
        reason, self._batch_error = self._batch_error, None
        if self._db.in_transaction:  # SQLite rolls back by itself after some errors
            self._db.execute("ROLLBACK")
        if self.failure is None:
            self.failure = WriteFailure(reason, time.time())
        else:
            self.failure.reason = reason
            self.failure.batches += 1
        raise JournalUnavailable(reason)

    # Tables kept by other modules (the cluster's forwards), in the same batch transaction --

    def add_tables(self, schema: str) -> None:
        self._db.executescript(schema)

    def write(self, sql: str, parameters: tuple[object, ...] = ()) -> None:
        """A write in this batch (committed, or refused, with the rest of it)."""
        self._write(sql, parameters)

    def read(self, sql: str, parameters: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        return list(self._read(sql, parameters))

    def health(self) -> dict[str, object]:
        """For ``status``: whether the journal takes writes, and if not why and since when."""
        failure = self.failure
        checkpoint_error = self._checkpointer.error if self._checkpointer is not None else None
        if failure is None:
            return {"ok": True, "checkpoint_error": checkpoint_error}
        return {
            "ok": False,
            "error": failure.reason,
            "failing_for_s": round(time.time() - failure.since, 1),
            "refused_batches": failure.batches,
            "checkpoint_error": checkpoint_error,
        }

    def probe(self) -> bool:
        """While commits fail: learn whether the disk has room again. A small write can go
        through on a full disk (into WAL pages already there), so the file system must show
        ``PROBE_ROOM_BYTES`` free first. True (and ``failure`` cleared) when it went through."""
        if shutil.disk_usage(self.path.parent).free < PROBE_ROOM_BYTES:
            return False
        self._write("INSERT OR REPLACE INTO probe (id, data) VALUES (1, randomblob(4096))", ())
        try:
            self.commit()
        except JournalUnavailable:
            return False
        return True

    # State loaded at start ------------------------------------------------------------

    # Each read raises JournalDamaged when a page it needs is damaged.

    def peers(self) -> dict[str, tuple[int, int, int]]:
        """ORI -> (lst, next_out, acked)."""
        with reading(self.path):
            rows = self._db.execute("SELECT ori, lst, next_out, acked FROM peers")
            return {ori: (lst, next_out, acked) for ori, lst, next_out, acked in rows}

    def counters(self) -> dict[tuple[str, str], int]:
        with reading(self.path):
            rows = self._db.execute("SELECT line, kind, value FROM counters")
            return {(line, kind): value for line, kind, value in rows}

    def help_files(self) -> dict[str, str]:
        with reading(self.path):
            return dict(self._db.execute("SELECT name, text FROM help_files"))

    def removed(self) -> set[tuple[str, str]]:
        with reading(self.path):
            return set(self._db.execute("SELECT line, mke FROM removed"))

    # Writes ---------------------------------------------------------------------------

    def save_peer(self, ori: str, lst: int, next_out: int, acked: int) -> None:
        """An ORI's sequence state; ``acked`` settles its deliveries up to that seq."""
        self._write(
            "INSERT INTO peers (ori, lst, next_out, acked) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (ori) DO UPDATE SET lst = excluded.lst, next_out = excluded.next_out,"
            " acked = excluded.acked",
            (ori, lst, next_out, acked),
        )

    def save_counter(self, line: str, kind: str, value: int) -> None:
        self._write(
            "INSERT INTO counters (line, kind, value) VALUES (?, ?, ?) "
            "ON CONFLICT (line, kind) DO UPDATE SET value = excluded.value",
            (line, kind, value),
        )

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
        """Add a received message (written with the batch); returns its number."""
        message_id = self._next_message_id
        self._next_message_id += 1
        self._new_messages.append(
            (
                message_id,
                _iso(received_at),
                logon_ori,
                in_seq,
                input_number,
                sender_ori or "",
                mke or "",
                destinations or "",
                control or "",
                "rejected" if error else "routed",
                error or "",
                _blob(raw),
            )
        )
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
        """Add a delivery to the queue (written with the batch); returns its row id."""
        row_id = self._next_queue_id
        self._next_queue_id += 1
        self._new_queue_rows.append(
            (
                row_id,
                message_id or 0,
                row.ori,
                row.seq,
                row.addressed_ori,
                row.mke,
                row.originator,
                row.control or "",
                _iso(row.received_at),
                row.input_number,
                "" if row.payload is not None else row.text,
                notify_ori or "",
                expires_at.isoformat() if expires_at else "",
                output_number or 0,
                _iso(sent_at) if sent_at else "",
                _blob(row.payload),
            )
        )
        return row_id

    def _insert_new(self) -> None:
        """Write the batch's new messages and queue rows, many rows per statement (dropped
        unwritten once the batch has failed: it rolls back anyway)."""
        try:
            if self._new_messages and self._batch_error is None:
                self._begin()
                self._insert_rows(_INSERT_MESSAGES, _MESSAGE_ROW, self._new_messages)
            if self._new_queue_rows and self._batch_error is None:
                self._begin()
                self._insert_rows(_INSERT_QUEUE_ROWS, _QUEUE_ROW, self._new_queue_rows)
        except sqlite3.DatabaseError as error:
            self._batch_error = storage_error(error)
        self._new_messages.clear()
        self._new_queue_rows.clear()

    def _insert_rows(self, insert: str, row: str, rows: list[tuple[object, ...]]) -> None:
        """One multi-row ``INSERT … VALUES (…), (…)`` per chunk of up to 64 rows (a fifth
        cheaper than ``executemany``); chunks of a power of two keep the statement cache small."""
        start = 0
        while start < len(rows):
            count = 1 << min(6, (len(rows) - start).bit_length() - 1)
            values = list(itertools.chain.from_iterable(rows[start : start + count]))
            self._db.execute(_values_statement(insert, row, count), values)
            start += count

    def mark_sent(self, row_id: int, output_number: int, sent_at: datetime, payload: bytes) -> None:
        self._write(
            "UPDATE queue SET output_number = ?, sent_at = ?, payload = ? WHERE id = ?",
            (output_number, sent_at.isoformat(), payload, row_id),
        )

    def refused_delivery(self, ori: str, seq: int) -> RefusedDelivery | None:
        """The delivery ``seq`` still pending for ``ori``, with the input that caused it;
        None when there is no such delivery or no message caused it."""
        with reading(self.path):
            row = self._read(
                "SELECT q.addressed_ori, q.originator, m.logon_ori, m.raw FROM queue q"
                " JOIN messages m ON m.id = q.message_id"
                " WHERE q.ori = ? AND q.state = 'pending' AND q.seq = ?",
                (ori, seq),
            ).fetchone()
        return RefusedDelivery(row[0], row[1], row[2], bytes(row[3])) if row else None

    def settle_one(self, ori: str, seq: int, state: str) -> None:
        self._write(
            "UPDATE queue SET state = ? WHERE ori = ? AND state = 'pending' AND seq = ?",
            (state, ori, seq),
        )

    def renumber(self, ori: str, acked: int) -> int:
        """Deliveries to ``ori`` acknowledged up to ``acked`` are marked so; the pending ones
        get seq 1, 2, 3 … in order (and ``acked`` is then 0); returns how many are pending."""
        self._write(
            "UPDATE queue SET state = 'acked' WHERE ori = ? AND state = 'pending' AND seq <= ?",
            (ori, acked),
        )
        with reading(self.path):
            ids = [
                row[0]
                for row in self._read(
                    "SELECT id FROM queue WHERE ori = ? AND state = 'pending' ORDER BY seq", (ori,)
                )
            ]
        for seq, row_id in enumerate(ids, start=1):
            self._write("UPDATE queue SET seq = ? WHERE id = ?", (seq, row_id))
        return len(ids)

    def first_unsent(self, ori: str, acked: int) -> int | None:
        """The lowest seq of a delivery stored for ``ori`` that has not gone out (no payload
        built yet) and is not an SM: where a new SM goes (§2.4); None when there is none."""
        row = self._read(
            "SELECT MIN(seq) FROM queue WHERE ori = ? AND state = 'pending' AND seq > ?"
            " AND payload IS NULL AND mke != 'SM'",
            (ori, acked),
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def make_room(self, ori: str, seq: int) -> None:
        """Move ``ori``'s pending deliveries from ``seq`` on up by one seq, freeing ``seq``."""
        self._write(
            "UPDATE queue SET seq = seq + 1 WHERE ori = ? AND state = 'pending' AND seq >= ?",
            (ori, seq),
        )

    def used_bytes(self) -> int:
        """The bytes of the journal's pages in use (freed pages, which SQLite reuses, not
        counted): what retention by size bounds."""
        with reading(self.path):
            pages = self._db.execute("PRAGMA page_count").fetchone()[0]
            free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
            size = self._db.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * size)

    def set_help(self, name: str, text: str) -> None:
        self._write(
            "INSERT INTO help_files (name, text) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET text = excluded.text",
            (name, text),
        )

    def set_removed(self, line: str, mke: str, removed: bool) -> None:
        if removed:
            self._write("INSERT OR IGNORE INTO removed (line, mke) VALUES (?, ?)", (line, mke))
        else:
            self._write("DELETE FROM removed WHERE line = ? AND mke = ?", (line, mke))

    # Reads ----------------------------------------------------------------------------

    def pending(self, ori: str, acked: int, limit: int = -1) -> list[QueuedRow]:
        """Deliveries to ``ori`` above seq ``acked``, not refused or expired, in seq order;
        at most ``limit`` of them (-1: all)."""
        with reading(self.path):
            return self._pending(ori, acked, limit)

    def _pending(self, ori: str, acked: int, limit: int) -> list[QueuedRow]:
        rows = self._read(
            "SELECT id, ori, seq, addressed_ori, mke, originator, control, received_at,"
            " input_number, text, payload FROM queue WHERE ori = ? AND state = 'pending'"
            " AND seq > ? ORDER BY seq LIMIT ?",
            (ori, acked, limit),
        )
        return [
            QueuedRow(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                datetime.fromisoformat(r[7]),
                r[8],
                r[9],
                r[10],
            )
            for r in rows
        ]

    def due_for_expiry(self, now: datetime) -> list[Expired]:
        """Unsent store-and-forward rows past their time, by row id."""
        with reading(self.path):
            rows = self._read(
                "SELECT q.id, q.ori, q.seq, q.addressed_ori, q.notify_ori, m.raw FROM queue q"
                " JOIN messages m ON m.id = q.message_id WHERE q.state = 'pending'"
                " AND q.sent_at IS NULL AND q.expires_at IS NOT NULL AND q.expires_at <= ?"
                " ORDER BY q.id",
                (now.isoformat(),),
            )
            return [Expired(*row) for row in rows]

    def expiring(self) -> list[tuple[datetime, int]]:
        """(expiry time, row id) of every unsent store-and-forward row (the partial index
        ``queue_unsent`` alone answers it)."""
        with reading(self.path):
            rows = self._read(
                "SELECT expires_at, id FROM queue WHERE state = 'pending' AND sent_at IS NULL"
                " AND expires_at IS NOT NULL"
            )
            return [(datetime.fromisoformat(expires_at), row_id) for expires_at, row_id in rows]

    def expire(self, row_id: int) -> None:
        self._write("UPDATE queue SET state = 'expired' WHERE id = ?", (row_id,))

    def queue_depths(self) -> dict[str, int]:
        """ORI -> deliveries waiting for it or for its AK (ORIs with none left out)."""
        with reading(self.path):
            rows = self._read(
                "SELECT p.ori, (SELECT COUNT(*) FROM queue q WHERE q.ori = p.ori"
                " AND q.state = 'pending' AND q.seq > p.acked) AS depth FROM peers p"
                " WHERE depth > 0 ORDER BY p.ori"
            )
            return dict(rows)

    def dead_letters(self) -> dict[str, int]:
        """ORI -> deliveries refused for good: NK'd by the terminal, or too long to hand to
        any (their rows keep ``state = 'refused'``; ``journal show`` lists them)."""
        with reading(self.path):
            rows = self._read(
                "SELECT ori, COUNT(*) FROM queue WHERE state = 'refused' GROUP BY ori ORDER BY ori"
            )
            return dict(rows)

    def search(
        self,
        *,
        ori: str | None = None,
        mke: str | None = None,
        since: str | None = None,
        until: str | None = None,
        text: str | None = None,
        limit: int = 100,
        newest_first: bool = False,
    ) -> list[MessageRecord]:
        """At most ``limit`` received messages that match, by number (``newest_first``: from
        the last)."""
        where, parameters = _message_filter(ori, mke=mke, since=since, until=until, text=text)
        order = "DESC" if newest_first else "ASC"
        found = f"SELECT * FROM messages WHERE {where} ORDER BY id {order} LIMIT ?"  # noqa: S608
        rows = self._read(found, (*parameters, limit))
        return [MessageRecord(*row) for row in rows]

    def count(self, **filters: str | None) -> int:
        """How many received messages match ``search``'s filters (without its limit)."""
        where, parameters = _message_filter(**filters)
        counted = f"SELECT count(*) FROM messages WHERE {where}"  # noqa: S608
        return int(self._read(counted, tuple(parameters)).fetchone()[0])

    def message(self, message_id: int) -> MessageRecord | None:
        row = self._read("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        return MessageRecord(*row) if row else None

    def deliveries_of(self, message_id: int) -> list[tuple[str, str, int, str | None, str]]:
        """(session ORI, addressed ORI, seq, sent_at, state) of each delivery of a message."""
        return list(
            self._read(
                "SELECT q.ori, q.addressed_ori, q.seq, q.sent_at, CASE WHEN q.state = 'pending'"
                " AND q.seq <= COALESCE(p.acked, 0) THEN 'acked' ELSE q.state END"
                " FROM queue q LEFT JOIN peers p ON p.ori = q.ori WHERE q.message_id = ?"
                " ORDER BY q.id",
                (message_id,),
            )
        )

    def answers_to(
        self, ori: str, message_id: int, control: str | None, before: int | None
    ) -> list[str]:
        """What was delivered to ``ori`` in answer to message ``message_id``: deliveries it
        caused, and deliveries of later messages (before message ``before``) that carry its
        control field. Delivered ones only (with a built payload), in seq order."""
        rows = self._read(
            "SELECT q.payload FROM queue q JOIN messages m ON m.id = q.message_id"
            " WHERE q.ori = ? AND q.payload IS NOT NULL AND (m.id = ?"
            " OR (? IS NOT NULL AND m.control = ? AND m.id > ? AND (? IS NULL OR m.id < ?)))"
            " ORDER BY q.seq",
            (ori, message_id, control, control, message_id, before, before),
        )
        return [bytes(row[0]).decode("ascii", "replace") for row in rows]


_FILTERS = {  # a search filter -> its condition on one parameter
    "mke": "mke = ?",
    "since": "received_at >= ?",
    "until": "received_at < ?",
    "text": "instr(CAST(raw AS TEXT), ?) > 0",
}


def _message_filter(ori: str | None = None, **filters: str | None) -> tuple[str, list[str]]:
    """The WHERE clause of a journal search (``ori`` and ``_FILTERS``), and its parameters."""
    clauses, parameters = ["1 = 1"], []
    if ori:
        clauses.append("(sender_ori = ? OR logon_ori = ? OR instr(destinations, ?) > 0)")
        parameters += [ori, ori, ori]
    for name, value in filters.items():
        if value:
            clauses.append(_FILTERS[name])
            parameters.append(value)
    return " AND ".join(clauses), parameters
