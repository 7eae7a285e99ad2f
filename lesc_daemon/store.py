"""The LESC's store: one SQLite file (tables in ``store_schema.py``) that the LESC reads the
persons and records its core needs from, and that carries out the writes the core returns
(``answers.py``), each message's in a unit of its own."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from lesc_daemon.answers import Audit, Detainer, Filed, Lead, Write
from lesc_daemon.person_rows import (
    GIVEN_INITIAL,
    PERSON_SELECT,
    PersonRows,
    day_or_none,
    person_from_row,
    person_keys,
    phonetic,
)
from lesc_daemon.persons import KNOWN_SEXES, NcicRecord, Person
from lesc_daemon.store_faults import StoreDamaged, is_damaged
from lesc_daemon.store_schema import SCHEMA

MMAP_BYTES = 1 << 30
QUERY_NUMBER_BLOCK = 64
QUERY_NUMBERS_PER_DAY = 999_999


@dataclass(frozen=True, slots=True)
class InboxItem:
    number: int
    received_at: str
    sender: str
    control: str | None
    text: str
    replied_at: str | None
    reply: str | None


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Owner-only: the store holds names and dates of birth. SQLite gives its -wal and
        # -shm files the database file's mode.
        if str(path) != ":memory:":
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            # Reads through a memory map instead of a read() per page: faster name lookups on
            # a large store (BENCHMARKS.md, "Figures behind choices in the code").
            self.db.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as error:
            self.db.close()
            if is_damaged(error):
                raise StoreDamaged(path, error) from None
            raise
        self._query_numbers: dict[str, deque[int]] = {}  # reserved, not yet used, by day
        self._audit_rows: list[tuple[object, ...]] = []  # written at the transaction's end
        self._index_name_keys()

    def close(self) -> None:
        self.db.close()

    # Loading -----------------------------------------------------------------------

    def add_persons(self, persons: Iterable[Person]) -> int:
        """Insert persons in one transaction; returns how many."""
        rows = PersonRows.of(persons)
        with self.transaction():
            db = self.db
            db.executemany("INSERT INTO persons VALUES (?,?,?,?,?,?,?,?,?,?)", rows.persons)
            db.executemany("INSERT INTO names VALUES (?,?,?,?,?,?)", rows.names)
            db.executemany("INSERT INTO name_keys VALUES (?,?,?)", sorted(rows.keys))
            db.executemany("INSERT INTO status_history VALUES (?,?,?,?,?)", rows.statuses)
            db.executemany("INSERT INTO ncic VALUES (?,?,?,?,?,?,?)", rows.ncic)
        return len(rows.persons)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction; the audit rows made in it are written together at its end. On an
        exception everything is rolled back, the query numbers reserved in it too; so is a
        COMMIT that fails (a full disk)."""
        if self.db.in_transaction:  # a ROLLBACK that failed with the disk
            self.db.execute("ROLLBACK")
        self.db.execute("BEGIN")
        try:
            yield
            self._write_audit()
            self.db.execute("COMMIT")
        except BaseException:
            self._audit_rows.clear()
            self._query_numbers.clear()
            if self.db.in_transaction:  # SQLite may have rolled back already (SQLITE_FULL)
                with contextlib.suppress(sqlite3.Error):  # the first error is the one to tell
                    self.db.execute("ROLLBACK")
            raise

    @contextlib.contextmanager
    def message_unit(self) -> Iterator[None]:
        """One message's writes inside the batch's transaction, as a savepoint: on an exception
        none of them stay (its audit rows and the query numbers reserved since are dropped
        too), and the batch's other messages keep theirs."""
        audit_mark = len(self._audit_rows)
        self.db.execute("SAVEPOINT message")
        try:
            yield
        except BaseException:
            del self._audit_rows[audit_mark:]
            self._query_numbers.clear()  # a block reserved in the savepoint is no longer ours
            if self.db.in_transaction:  # SQLite may have rolled back already (SQLITE_FULL)
                self.db.execute("ROLLBACK TO message")
                self.db.execute("RELEASE message")
            raise
        self.db.execute("RELEASE message")

    def count_persons(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM persons").fetchone()[0])

    def known_person_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` the store already holds."""
        known: set[str] = set()
        wanted = list(ids)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT id FROM persons WHERE id IN ({marks})", chunk)  # noqa: S608 - marks only
            known.update(row[0] for row in rows)
        return known

    # Lookups -----------------------------------------------------------------------

    def by_identifiers(self, arn: str | None, fbi: str | None) -> list[Person]:
        """Persons whose A-number is ``arn`` or whose FBI number is ``fbi``, by id."""
        if not arn and not fbi:
            return []
        return self._persons("p.arn = ? OR p.fbi = ?", (arn or None, fbi or None))

    def by_name(
        self,
        surname: str,
        dobs: Iterable[date],
        initial: str | None = None,
        sex: str | None = None,
    ) -> list[Person]:
        """Persons, by id, with a name that sounds like ``surname`` (and, when ``initial`` is
        given, whose given names start with it) and one of the birth dates; with ``sex`` M or
        F, not persons of the other sex. These are the candidates ``matching.identify`` can
        accept; filtering them here spares fetching the others whole (a third of the
        candidates on the 1,000,000-person store)."""
        soundex, nysiis = phonetic(surname)
        days = [day.isoformat() for day in dobs]
        marks = ",".join("?" * len(days))
        # One OR over both indexes (SQLite's multi-index OR), faster than a UNION of two
        # selects (BENCHMARKS.md, "Figures behind choices in the code").
        where = (
            "p.id IN (SELECT person_id FROM names WHERE (soundex = ? OR nysiis = ?)"  # noqa: S608
            f" AND dob IN ({marks}){GIVEN_INITIAL if initial else ''})"
        )
        parameters: list[object] = [soundex, nysiis, *days]
        if initial:
            parameters.append(initial)
        if sex in KNOWN_SEXES:
            where += f" AND (p.sex IS NULL OR p.sex NOT IN {KNOWN_SEXES} OR p.sex = ?)"
            parameters.append(sex)
        return self._persons(where, tuple(parameters))

    def name_candidates(self, keys: Iterable[str], dobs: Iterable[date]) -> list[Person]:
        """Persons, by id, each whole, with a name part of one of the blocking ``keys``
        (``names.key``) and one of the birth dates."""
        keys, days = sorted(set(keys)), [day.isoformat() for day in dobs]
        if not keys or not days:
            return []
        key_marks, day_marks = ",".join("?" * len(keys)), ",".join("?" * len(days))
        return self._persons(
            f"p.id IN (SELECT person_id FROM name_keys WHERE key IN ({key_marks})"  # noqa: S608
            f" AND dob IN ({day_marks}))",
            (*keys, *days),
        )

    def _index_name_keys(self) -> None:
        """Fill the matcher's blocks of a store made before they existed (once)."""
        if self.db.execute("SELECT 1 FROM name_keys LIMIT 1").fetchone() is not None:
            return
        if self.db.execute("SELECT 1 FROM names LIMIT 1").fetchone() is None:
            return
        rows = {
            (key, dob, pid)
            for pid, name, dob in self.db.execute("SELECT person_id, name, dob FROM names")
            for key in person_keys((name,))
        }
        with self.transaction():
            self.db.executemany("INSERT INTO name_keys VALUES (?,?,?)", sorted(rows))

    def person(self, person_id: str) -> Person | None:
        found = self._persons("p.id = ?", (person_id,))
        return found[0] if found else None

    def _persons(self, where: str, parameters: tuple[object, ...]) -> list[Person]:
        """The persons ``where`` selects, each whole (names, latest status, NCIC records) from
        one statement, about half the cost of four statements per person (BENCHMARKS.md)."""
        rows = self.db.execute(
            f"{PERSON_SELECT} WHERE {where} ORDER BY p.id",
            parameters,
        )
        return [person_from_row(row) for row in rows]

    def ncic_record(self, nic: str) -> tuple[NcicRecord, str] | None:
        """An ICE record by NIC, with its person's id."""
        row = self.db.execute(
            "SELECT nic, type, ori, oca, active, entered, person_id FROM ncic WHERE nic = ?",
            (nic,),
        ).fetchone()
        if row is None:
            return None
        return NcicRecord(row[0], row[1], row[2], row[3], bool(row[4]), day_or_none(row[5])), row[6]

    # Writes made while answering ---------------------------------------------------

    def next_query_number(self, today: date) -> str:
        """``L`` + ``YYMMDD`` + 6 digits, unique per LESC among a day's last 999,999 (after
        999999 the day's numbers start again at 000001: a load test reaches that in minutes).
        Numbers are reserved in the store ``QUERY_NUMBER_BLOCK`` at a time (two processes on
        one store get different blocks); what a process leaves of its block when it stops is
        skipped."""
        day = f"{today.year % 100:02d}{today.month:02d}{today.day:02d}"
        reserved = self._query_numbers.get(day)
        if not reserved:
            (last,) = self.db.execute(
                "INSERT INTO query_numbers (day, last) VALUES (?1, ?2)"
                " ON CONFLICT (day) DO UPDATE SET last = last + ?2 RETURNING last",
                (day, QUERY_NUMBER_BLOCK),
            ).fetchone()
            reserved = deque(range(last - QUERY_NUMBER_BLOCK + 1, last + 1))
            self._query_numbers[day] = reserved
        return f"L{day}{(reserved.popleft() - 1) % QUERY_NUMBERS_PER_DAY + 1:06d}"

    def audit(
        self,
        kind: str,
        received_at: datetime,
        requester: str,
        answer: str,
        *,
        reference: str | None = None,
        control: str | None = None,
        atn: str | None = None,
        purpose: str | None = None,
        subject: str | None = None,
    ) -> None:
        """Audit one query: written at the end of the transaction, or now outside one."""
        self._audit_rows.append(
            (
                kind,
                reference,
                received_at.isoformat(),
                requester,
                control,
                atn,
                purpose,
                subject,
                answer,
            )
        )
        if not self.db.in_transaction:
            self._write_audit()

    def _write_audit(self) -> None:
        if self._audit_rows:
            self.db.executemany(
                "INSERT INTO audit (kind, reference, received_at, requester, control, atn,"
                " purpose, subject, answer) VALUES (?,?,?,?,?,?,?,?,?)",
                self._audit_rows,
            )
            self._audit_rows.clear()

    def next_number(self, table: str) -> int:
        """The number the next row of ``detainers``, ``leads`` or ``inbox`` gets, as SQLite
        would give it. Read in the transaction that writes the row: should another process
        write one first, this transaction's write fails as busy and the batch is tried again."""
        (last,) = self.db.execute(f"SELECT MAX(number) FROM {table}").fetchone()  # noqa: S608 - our names
        return int(last or 0) + 1

    def carry_out(self, writes: Iterable[Write]) -> None:
        """The writes of one message's answer, in order."""
        db = self.db
        for write in writes:
            match write:
                case Audit():
                    self.audit(
                        write.kind,
                        write.received_at,
                        write.requester,
                        write.answer,
                        reference=write.reference,
                        control=write.control,
                        atn=write.atn,
                        purpose=write.purpose,
                        subject=write.subject,
                    )
                case Detainer(number, person_id, qrn, requester, at, basis):
                    db.execute(
                        "INSERT INTO detainers (number, person_id, qrn, requester, lodged_at,"
                        " basis) VALUES (?,?,?,?,?,?)",
                        (number, person_id, qrn, requester, at.isoformat(), basis),
                    )
                case Lead(number, person_id, qrn, requester, at, reason):
                    db.execute(
                        "INSERT INTO leads (number, person_id, qrn, requester, created_at, reason)"
                        " VALUES (?,?,?,?,?,?)",
                        (number, person_id, qrn, requester, at.isoformat(), reason),
                    )
                case Filed(number, at, sender, control, text):
                    self.file_message(at, sender, control, text, number)

    def detainers(self) -> list[tuple[object, ...]]:
        return list(self.db.execute("SELECT * FROM detainers ORDER BY number"))

    def leads(self) -> list[tuple[object, ...]]:
        return list(self.db.execute("SELECT * FROM leads ORDER BY number"))

    def audit_rows(self) -> list[tuple[object, ...]]:
        self._write_audit()
        return list(self.db.execute("SELECT * FROM audit ORDER BY id"))

    # The inbox -----------------------------------------------------------------------

    def file_message(
        self, at: datetime, sender: str, control: str | None, text: str, number: int | None = None
    ) -> int:
        """Into the inbox as ``number``, or the next free one."""
        cursor = self.db.execute(
            "INSERT INTO inbox (number, received_at, sender, control, text) VALUES (?,?,?,?,?)",
            (number, at.isoformat(), sender, control, text),
        )
        return int(cursor.lastrowid or 0)

    def inbox(self) -> list[InboxItem]:
        return [InboxItem(*row) for row in self.db.execute("SELECT * FROM inbox ORDER BY number")]

    def inbox_item(self, number: int) -> InboxItem | None:
        row = self.db.execute("SELECT * FROM inbox WHERE number = ?", (number,)).fetchone()
        return InboxItem(*row) if row else None

    def mark_replied(self, number: int, at: datetime, reply: str) -> None:
        self.db.execute(
            "UPDATE inbox SET replied_at = ?, reply = ? WHERE number = ?",
            (at.isoformat(), reply, number),
        )

    # The outbox: responses scheduled for later ------------------------------------------

    def schedule(self, due: datetime, message: bytes) -> int:
        cursor = self.db.execute(
            "INSERT INTO outbox (due, message, sent) VALUES (?, ?, 0)", (due.isoformat(), message)
        )
        return int(cursor.lastrowid or 0)

    def due(self, now: datetime) -> list[tuple[int, bytes]]:
        return list(
            self.db.execute(
                "SELECT id, message FROM outbox WHERE sent = 0 AND due <= ? ORDER BY due, id",
                (now.isoformat(),),
            )
        )

    def next_due(self) -> datetime | None:
        row = self.db.execute("SELECT MIN(due) FROM outbox WHERE sent = 0").fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def mark_sent(self, outbox_id: int) -> None:
        self.db.execute("UPDATE outbox SET sent = 1 WHERE id = ?", (outbox_id,))

    def queries_by_month(self) -> Iterator[tuple[str, str, str, int]]:
        """(month YYYY-MM, purpose, requester's state, count) of answered IAQs."""
        self._write_audit()
        yield from self.db.execute(
            "SELECT substr(received_at, 1, 7), purpose, substr(requester, 1, 2), COUNT(*)"
            " FROM audit WHERE kind = 'IAQ' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        )
