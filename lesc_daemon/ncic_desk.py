"""The NCIC record desk: the LESC's NCIC section enters, modifies, clears, cancels and validates
ICE's records in NCIC (``lesc-daemon ncic ...``).

Every change is a row of ``ncic_changes`` (the NIC, the action, the operator, the time and what
changed), written in the same transaction as the change. The daemon reads the ``ncic`` table
for every YQ and IAQ, so a change is seen by the next query without a restart.

* ``ENTER``: a new active record on a person of the store (the NIC given, or the next free
  ``I`` + 9 digits).
* ``MODIFY``: type, ORI or OCA of an active record.
* ``CLEAR``: the subject was apprehended or the record is otherwise satisfied; the record
  stops being active (a YQ on it gets ``CON/N``).
* ``CANCEL``: the record should never have been (entered in error, warrant withdrawn); it stops
  being active.
* ``VALIDATE``: the record's originating agency confirmed it is still accurate and active.

Validation: NCIC requires every record to be validated periodically; the desk uses NCIC's
annual cycle: an active record is due ``VALIDATION_PERIOD`` (365 days) after its entry or its
last validation, whichever is later, and past due the day after.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from formats.envelope import ORI_PATTERN
from lesc_daemon.persons import NCIC_TYPES, NcicRecord
from lesc_daemon.responder import LATE_MARK
from lesc_daemon.store import Store

VALIDATION_PERIOD = timedelta(days=365)
NIC_PATTERN = re.compile(r"[A-Z]\d{9}")
DESK_PREFIX = "I"  # NICs the desk assigns: I + 9 digits
ACTIONS = ("ENTER", "MODIFY", "CLEAR", "CANCEL", "VALIDATE")


class DeskError(ValueError):
    """An operator's request the desk cannot carry out; the message says why, in one sentence."""


@dataclass(frozen=True, slots=True)
class Change:
    nic: str
    action: str
    operator: str
    at: str  # ISO time
    detail: str


@dataclass(frozen=True, slots=True)
class DeskRecord:
    record: NcicRecord
    person_id: str
    state: str  # ACTIVE, CLEARED, CANCELLED, or INACTIVE (imported inactive)
    validated: date | None  # the last validation, or the entry date
    history: tuple[Change, ...]

    @property
    def validation_due(self) -> date | None:
        return None if self.validated is None else self.validated + VALIDATION_PERIOD


class NcicDesk:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    # Reading ---------------------------------------------------------------------------

    def show(self, nic: str) -> DeskRecord:
        found = self.store.ncic_record(nic)
        if found is None:
            raise DeskError(f"no ICE record with NIC {nic}")
        record, person_id = found
        history = tuple(
            Change(*row)
            for row in self.db.execute(
                "SELECT nic, action, operator, at, detail FROM ncic_changes WHERE nic = ?"
                " ORDER BY id",
                (nic,),
            )
        )
        return DeskRecord(
            record, person_id, _state(record, history), _validated(record, history), history
        )

    def records(self, state: str | None = None, person_id: str | None = None) -> list[DeskRecord]:
        """The records, by NIC; only those in ``state``, of ``person_id``, when given."""
        rows = self.db.execute(
            "SELECT nic FROM ncic WHERE ?1 IS NULL OR person_id = ?1 ORDER BY nic", (person_id,)
        )
        found = [self.show(nic) for (nic,) in rows.fetchall()]
        return [r for r in found if state is None or r.state == state]

    def overdue(self, today: date) -> list[DeskRecord]:
        """Active records past their validation date, the most overdue first."""
        due = [
            record
            for record in self.records("ACTIVE")
            if record.validation_due is None or record.validation_due < today
        ]
        return sorted(due, key=lambda r: (r.validation_due or date.min, r.record.nic))

    # Changes ---------------------------------------------------------------------------

    def enter(
        self,
        person_id: str,
        *,
        kind: str,
        ori: str,
        oca: str | None,
        operator: str,
        at: datetime,
        nic: str | None = None,
    ) -> NcicRecord:
        _check_type(kind)
        _check_ori(ori)
        if self.store.person(person_id) is None:
            raise DeskError(f"no person {person_id} in the store")
        with self.store.transaction():
            nic = nic or self._next_nic()
            if not NIC_PATTERN.fullmatch(nic):
                raise DeskError(f"NIC {nic} is not a letter and 9 digits")
            if self.store.ncic_record(nic) is not None:
                raise DeskError(f"NIC {nic} is already in use")
            self.db.execute(
                "INSERT INTO ncic (nic, person_id, type, ori, oca, active, entered)"
                " VALUES (?,?,?,?,?,1,?)",
                (nic, person_id, kind, ori, oca, at.date().isoformat()),
            )
            detail = f"PERSON {person_id} TYPE {kind} ORI {ori}" + (f" OCA {oca}" if oca else "")
            self._log(nic, "ENTER", operator, at, detail)
        return NcicRecord(nic, kind, ori, oca, True, at.date())

    def modify(
        self,
        nic: str,
        operator: str,
        at: datetime,
        *,
        kind: str | None = None,
        ori: str | None = None,
        oca: str | None = None,
    ) -> NcicRecord:
        current = self._active(nic, "modify")
        if kind is not None:
            _check_type(kind)
        if ori is not None:
            _check_ori(ori)
        changes = {
            field: value
            for field, value, old in (
                ("type", kind, current.type),
                ("ori", ori, current.ori),
                ("oca", oca, current.oca),
            )
            if value is not None and value != old
        }
        if not changes:
            raise DeskError(
                f"nothing to change on {nic}: give --type, --ori or --oca with a new value"
            )
        with self.store.transaction():
            for field, value in changes.items():
                self.db.execute(f"UPDATE ncic SET {field} = ? WHERE nic = ?", (value, nic))  # noqa: S608
            detail = " ".join(f"{field.upper()} {value}" for field, value in changes.items())
            self._log(nic, "MODIFY", operator, at, detail)
        found = self.store.ncic_record(nic)
        assert found is not None
        return found[0]

    def clear(self, nic: str, operator: str, at: datetime, reason: str = "") -> None:
        self.deactivate(nic, "CLEAR", operator, at, reason)

    def cancel(self, nic: str, operator: str, at: datetime, reason: str = "") -> None:
        self.deactivate(nic, "CANCEL", operator, at, reason)

    def deactivate(self, nic: str, action: str, operator: str, at: datetime, reason: str) -> None:
        """``CLEAR`` or ``CANCEL`` an active record."""
        self._active(nic, action.lower())
        with self.store.transaction():
            self.db.execute("UPDATE ncic SET active = 0 WHERE nic = ?", (nic,))
            self._log(nic, action, operator, at, reason)

    def validate(self, nic: str, operator: str, at: datetime) -> DeskRecord:
        self._active(nic, "validate")
        with self.store.transaction():
            self._log(nic, "VALIDATE", operator, at, "")
        return self.show(nic)

    # -----------------------------------------------------------------------------------

    def _active(self, nic: str, verb: str) -> NcicRecord:
        desk = self.show(nic)
        if desk.state != "ACTIVE":
            raise DeskError(f"cannot {verb} {nic}: the record is {desk.state.lower()}")
        return desk.record

    def _log(self, nic: str, action: str, operator: str, at: datetime, detail: str) -> None:
        if not operator.strip():
            raise DeskError("every change needs an operator: give --operator NAME")
        self.db.execute(
            "INSERT INTO ncic_changes (nic, action, operator, at, detail) VALUES (?,?,?,?,?)",
            (nic, action, operator.strip().upper(), at.isoformat(timespec="seconds"), detail),
        )

    def _next_nic(self) -> str:
        (last,) = self.db.execute(
            "SELECT MAX(nic) FROM ncic WHERE nic GLOB ?", (DESK_PREFIX + "[0-9]" * 9,)
        ).fetchone()
        number = int(last[1:]) + 1 if last else 1
        return f"{DESK_PREFIX}{number:09d}"


def _check_type(kind: str) -> None:
    if kind not in NCIC_TYPES:
        raise DeskError(f"unknown record type {kind}: use one of {', '.join(NCIC_TYPES)}")


def _check_ori(ori: str) -> None:
    if not ORI_PATTERN.fullmatch(ori):
        raise DeskError(f"ORI {ori} is not 9 letters or digits")


def _state(record: NcicRecord, history: tuple[Change, ...]) -> str:
    if record.active:
        return "ACTIVE"
    for change in reversed(history):
        if change.action == "CLEAR":
            return "CLEARED"
        if change.action == "CANCEL":
            return "CANCELLED"
    return "INACTIVE"


def _validated(record: NcicRecord, history: tuple[Change, ...]) -> date | None:
    days = [date.fromisoformat(c.at[:10]) for c in history if c.action == "VALIDATE"]
    if record.entered is not None:
        days.append(record.entered)
    return max(days, default=None)


def cancelled(db: sqlite3.Connection, nic: str) -> bool:
    """Whether the latest clear or cancel of ``nic`` was a cancel (for the YR's remark)."""
    row = db.execute(
        "SELECT action FROM ncic_changes WHERE nic = ? AND action IN ('CLEAR', 'CANCEL')"
        " ORDER BY id DESC LIMIT 1",
        (nic,),
    ).fetchone()
    return row is not None and row[0] == "CANCEL"


@dataclass(frozen=True, slots=True)
class Confirmations:
    answered: int
    late_urgent: int  # answered after 10 minutes
    late_routine: int  # answered after 1 hour


def hit_confirmations(store: Store) -> Confirmations:
    """How many YQs the LESC answered, and how many of them late, by priority."""
    answered, urgent, routine = store.db.execute(
        "SELECT COUNT(*), COALESCE(SUM(answer LIKE ?), 0), COALESCE(SUM(answer LIKE ?), 0)"
        " FROM audit WHERE kind = 'YQ'",
        (f"%{LATE_MARK}U", f"%{LATE_MARK}R"),
    ).fetchone()
    return Confirmations(int(answered), int(urgent), int(routine))
