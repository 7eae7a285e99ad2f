"""The store's persons as rows: the rows a person is written as, and the one statement that
reads persons back whole (names, latest status, NCIC records)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import jellyfish

from lesc_daemon.names import name_keys
from lesc_daemon.persons import NcicRecord, Person, Status, StatusCode, split_name


def phonetic(surname: str) -> tuple[str, str]:
    """(Soundex, NYSIIS) of a surname; names that share either sound alike."""
    letters = "".join(c for c in surname if c.isalpha()) or surname
    return jellyfish.soundex(letters), jellyfish.nysiis(letters)


@dataclass(slots=True)
class PersonRows:
    """The rows of ``persons``, ``names``, ``name_keys``, ``status_history`` and ``ncic`` that
    hold some persons."""

    persons: list[tuple[object, ...]] = field(default_factory=list)
    names: list[tuple[object, ...]] = field(default_factory=list)
    keys: set[tuple[str, str, str]] = field(default_factory=set)
    statuses: list[tuple[object, ...]] = field(default_factory=list)
    ncic: list[tuple[object, ...]] = field(default_factory=list)

    @classmethod
    def of(cls, persons: Iterable[Person]) -> PersonRows:
        rows = cls()
        person_rows, name_rows, key_rows = rows.persons, rows.names, rows.keys
        status_rows, ncic_rows = rows.statuses, rows.ncic
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
            key_rows.update((key, dob, person.id) for key in person_keys(person.names))
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
        return rows


# A person row with its names as [[rowid, name], ...], its latest status as [code, class,
# since, until] and its NCIC records as [[nic, type, ori, oca, active, entered], ...], in JSON
# (the aggregates' order is not defined, so rows carry what they are sorted by).
PERSON_SELECT = """
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
GIVEN_INITIAL = " AND substr(ltrim(substr(name, instr(name, ',') + 1)), 1, 1) = ?"


def person_keys(person_names: Iterable[str]) -> set[str]:
    return {key for name in person_names for key in name_keys(name)}


def day_or_none(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def person_from_row(row: tuple[Any, ...]) -> Person:
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
        status=None
        if code is None
        else Status(StatusCode(code), klass, day_or_none(since), day_or_none(until)),
        ncic=()
        if records == "[]"  # most persons: no JSON to decode
        else tuple(
            NcicRecord(nic, kind, ori, oca, bool(active), day_or_none(entered))
            for nic, kind, ori, oca, active, entered in sorted(json.loads(records))
        ),
    )
