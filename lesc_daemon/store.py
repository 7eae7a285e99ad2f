"""The LESC's stores: one SQLite file with persons, names, immigration status history, ICE
records in NCIC, detainers, leads, the query audit, the operator inbox and the outbox of
responses not yet sent."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jellyfish

from lesc_daemon.names import name_keys
from lesc_daemon.persons import (
    KNOWN_SEXES,
    NcicRecord,
    Person,
    Status,
    StatusCode,
    split_name,
)
from lesc_daemon.store_faults import StoreDamaged, is_damaged

SCHEMA = """
CREATE TABLE IF NOT EXISTS persons (
    id TEXT PRIMARY KEY, dob TEXT NOT NULL, sex TEXT, pob TEXT, citizenship TEXT,
    arn TEXT, fbi TEXT, sid TEXT, soc TEXT, firearms_exception INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS persons_arn ON persons (arn) WHERE arn IS NOT NULL;
CREATE INDEX IF NOT EXISTS persons_fbi ON persons (fbi) WHERE fbi IS NOT NULL;
CREATE TABLE IF NOT EXISTS names (
    person_id TEXT NOT NULL, name TEXT NOT NULL, surname TEXT NOT NULL,
    soundex TEXT NOT NULL, nysiis TEXT NOT NULL, dob TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS names_soundex ON names (soundex, dob);
CREATE INDEX IF NOT EXISTS names_nysiis ON names (nysiis, dob);
CREATE INDEX IF NOT EXISTS names_person ON names (person_id);
-- The matcher's blocks (names.py): one row per part of every name, with the person's DOB.
CREATE TABLE IF NOT EXISTS name_keys (
    key TEXT NOT NULL, dob TEXT NOT NULL, person_id TEXT NOT NULL,
    PRIMARY KEY (key, dob, person_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS status_history (
    person_id TEXT NOT NULL, code TEXT NOT NULL, class TEXT, since TEXT, until TEXT
);
-- A person's statuses in the order of ``since``: the latest is read from the index's end, with
-- no sort (a sort per person had cost more than the rest of the lookup).
CREATE INDEX IF NOT EXISTS status_latest ON status_history (person_id, since);
DROP INDEX IF EXISTS status_person;
CREATE TABLE IF NOT EXISTS ncic (
    nic TEXT PRIMARY KEY, person_id TEXT NOT NULL, type TEXT NOT NULL, ori TEXT NOT NULL,
    oca TEXT, active INTEGER NOT NULL, entered TEXT
);
CREATE INDEX IF NOT EXISTS ncic_person ON ncic (person_id);
-- The NCIC desk's changes to records (ncic_desk.py): who did what, when.
CREATE TABLE IF NOT EXISTS ncic_changes (
    id INTEGER PRIMARY KEY, nic TEXT NOT NULL, action TEXT NOT NULL, operator TEXT NOT NULL,
    at TEXT NOT NULL, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ncic_changes_nic ON ncic_changes (nic);
CREATE TABLE IF NOT EXISTS detainers (
    number INTEGER PRIMARY KEY, person_id TEXT NOT NULL, qrn TEXT NOT NULL,
    requester TEXT NOT NULL, lodged_at TEXT NOT NULL, basis TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS leads (
    number INTEGER PRIMARY KEY, person_id TEXT NOT NULL, qrn TEXT NOT NULL,
    requester TEXT NOT NULL, created_at TEXT NOT NULL, reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, reference TEXT, received_at TEXT NOT NULL,
    requester TEXT NOT NULL, control TEXT, atn TEXT, purpose TEXT, subject TEXT,
    answer TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_time ON audit (received_at);
CREATE TABLE IF NOT EXISTS query_numbers (day TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS inbox (
    number INTEGER PRIMARY KEY, received_at TEXT NOT NULL, sender TEXT NOT NULL,
    control TEXT, text TEXT NOT NULL, replied_at TEXT, reply TEXT
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, due TEXT NOT NULL, message BLOB NOT NULL, sent INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (sent, due);
"""

MMAP_BYTES = 1 << 30
QUERY_NUMBER_BLOCK = 64
QUERY_NUMBERS_PER_DAY = 999_999


def phonetic(surname: str) -> tuple[str, str]:
    """(Soundex, NYSIIS) of a surname; names that share either sound alike."""
    letters = "".join(c for c in surname if c.isalpha()) or surname
    return jellyfish.soundex(letters), jellyfish.nysiis(letters)


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
        person_rows: list[tuple[object, ...]] = []
        name_rows: list[tuple[object, ...]] = []
        status_rows: list[tuple[object, ...]] = []
        ncic_rows: list[tuple[object, ...]] = []
        key_rows: set[tuple[str, str, str]] = set()
        for person in persons:
            dob = person.dob.isoformat()
            person_rows.append(
                (
                    person.id,
                    dob,
                    person.sex,
                    person.pob,
                    person.citizenship,
                    person.arn,
                    person.fbi,
                    person.sid,
                    person.soc,
                    int(person.firearms_exception),
                )
            )
            for name in person.names:
                surname, _ = split_name(name)
                name_rows.append((person.id, name, surname, *phonetic(surname), dob))
            key_rows.update((key, dob, person.id) for key in _person_keys(person.names))
            if person.status is not None:
                status = person.status
                status_rows.append(
                    (
                        person.id,
                        status.code.value,
                        status.klass,
                        status.since.isoformat() if status.since else None,
                        status.until.isoformat() if status.until else None,
                    )
                )
            ncic_rows.extend(
                (
                    r.nic,
                    person.id,
                    r.type,
                    r.ori,
                    r.oca,
                    int(r.active),
                    r.entered.isoformat() if r.entered else None,
                )
                for r in person.ncic
            )
        with self.transaction():
            db = self.db
            db.executemany("INSERT INTO persons VALUES (?,?,?,?,?,?,?,?,?,?)", person_rows)
            db.executemany("INSERT INTO names VALUES (?,?,?,?,?,?)", name_rows)
            db.executemany("INSERT INTO name_keys VALUES (?,?,?)", sorted(key_rows))
            db.executemany("INSERT INTO status_history VALUES (?,?,?,?,?)", status_rows)
            db.executemany("INSERT INTO ncic VALUES (?,?,?,?,?,?,?)", ncic_rows)
        return len(person_rows)

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
            f" AND dob IN ({marks}){_GIVEN_INITIAL if initial else ''})"
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
            for key in _person_keys((name,))
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
            f"{_PERSON_SELECT} WHERE {where} ORDER BY p.id",
            parameters,
        )
        return [_person(row) for row in rows]

    def ncic_record(self, nic: str) -> tuple[NcicRecord, str] | None:
        """An ICE record by NIC, with its person's id."""
        row = self.db.execute(
            "SELECT nic, type, ori, oca, active, entered, person_id FROM ncic WHERE nic = ?",
            (nic,),
        ).fetchone()
        if row is None:
            return None
        return NcicRecord(row[0], row[1], row[2], row[3], bool(row[4]), _day(row[5])), row[6]

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

    def lodge_detainer(
        self, person_id: str, qrn: str, requester: str, at: datetime, basis: str
    ) -> int:
        cursor = self.db.execute(
            "INSERT INTO detainers (person_id, qrn, requester, lodged_at, basis)"
            " VALUES (?,?,?,?,?)",
            (person_id, qrn, requester, at.isoformat(), basis),
        )
        return int(cursor.lastrowid or 0)

    def refer_lead(
        self, person_id: str, qrn: str, requester: str, at: datetime, reason: str
    ) -> int:
        cursor = self.db.execute(
            "INSERT INTO leads (person_id, qrn, requester, created_at, reason) VALUES (?,?,?,?,?)",
            (person_id, qrn, requester, at.isoformat(), reason),
        )
        return int(cursor.lastrowid or 0)

    def detainers(self) -> list[tuple[object, ...]]:
        return list(self.db.execute("SELECT * FROM detainers ORDER BY number"))

    def leads(self) -> list[tuple[object, ...]]:
        return list(self.db.execute("SELECT * FROM leads ORDER BY number"))

    def audit_rows(self) -> list[tuple[object, ...]]:
        self._write_audit()
        return list(self.db.execute("SELECT * FROM audit ORDER BY id"))

    # The inbox -----------------------------------------------------------------------

    def file_message(self, at: datetime, sender: str, control: str | None, text: str) -> int:
        cursor = self.db.execute(
            "INSERT INTO inbox (received_at, sender, control, text) VALUES (?,?,?,?)",
            (at.isoformat(), sender, control, text),
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


# A person row with its names as [[rowid, name], ...], its latest status as [code, class,
# since, until] and its NCIC records as [[nic, type, ori, oca, active, entered], ...], in JSON
# (the aggregates' order is not defined, so rows carry what they are sorted by).
_PERSON_SELECT = """
SELECT p.id, p.dob, p.sex, p.pob, p.citizenship, p.arn, p.fbi, p.sid, p.soc,
    p.firearms_exception,
    (SELECT json_group_array(json_array(n.rowid, n.name)) FROM names n WHERE n.person_id = p.id),
    (SELECT json_array(s.code, s.class, s.since, s.until) FROM status_history s
        WHERE s.person_id = p.id ORDER BY s.since DESC, s.rowid DESC LIMIT 1),
    (SELECT json_group_array(json_array(c.nic, c.type, c.ori, c.oca, c.active, c.entered))
        FROM ncic c WHERE c.person_id = p.id)
FROM persons p"""


# The first letter of a names row's given names: ``split_name`` in SQL for stored names,
# which are upper case with spaces only ("LAST, FIRST MIDDLE").
_GIVEN_INITIAL = " AND substr(ltrim(substr(name, instr(name, ',') + 1)), 1, 1) = ?"


def _person_keys(person_names: Iterable[str]) -> set[str]:
    return {key for name in person_names for key in name_keys(name)}


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _person(row: tuple[Any, ...]) -> Person:
    names, status, records = row[10], row[11], row[12]
    code = klass = since = until = None
    if status is not None:
        code, klass, since, until = json.loads(status)
    return Person(
        id=row[0],
        names=tuple(name for _, name in sorted(json.loads(names))),
        dob=date.fromisoformat(row[1]),
        sex=row[2],
        pob=row[3],
        citizenship=row[4],
        arn=row[5],
        fbi=row[6],
        sid=row[7],
        soc=row[8],
        firearms_exception=bool(row[9]),
        status=None if code is None else Status(StatusCode(code), klass, _day(since), _day(until)),
        ncic=()
        if records == "[]"  # most persons: no JSON to decode
        else tuple(
            NcicRecord(nic, kind, ori, oca, bool(active), _day(entered))
            for nic, kind, ori, oca, active, entered in sorted(json.loads(records))
        ),
    )


def candidate_dobs(dob: date) -> list[date]:
    """The birth date, and the near misses matching looks at: day and month swapped, one year
    off either way."""
    dates = [dob]
    if dob.day <= 12 and dob.day != dob.month:
        with contextlib.suppress(ValueError):
            dates.append(dob.replace(month=dob.day, day=dob.month))
    for years in (-1, 1):
        try:
            dates.append(dob.replace(year=dob.year + years))
        except ValueError:
            dates.append(dob.replace(year=dob.year + years, day=28))
    return dates
