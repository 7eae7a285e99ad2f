"""Identity matching (pure): which person an IAQ is about, if any.

1. ``ARN/`` or ``FBI/`` equal to a person's: that person.
2. Otherwise name and DOB: a surname equal or phonetically equal (Soundex or NYSIIS, aliases
   count), the first-name initial equal, the DOB equal; sex, when both are known, must agree.
3. Exactly one candidate: a match. Several, or only near misses (the name matching, the DOB
   with day and month swapped or one year off): a possible identity.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date

from formats.records import record
from lesc_daemon.persons import KNOWN_SEXES, Person, split_name
from lesc_daemon.store import candidate_dobs, phonetic


class Outcome(enum.Enum):
    MATCH = "match"
    POSSIBLE = "possible"
    NONE = "none"


@record
class Subject:
    """What an IAQ says about the person asked about."""

    name: str  # LAST, FIRST MIDDLE
    dob: date
    sex: str | None = None
    arn: str | None = None
    fbi: str | None = None


@record
class Identity:
    outcome: Outcome
    person: Person | None = None
    candidates: tuple[Person, ...] = ()
    searched: tuple[str, ...] = ()  # the indexes searched, for the IAR narrative
    by_identifier: bool = False


def _sounds_alike(a: str, b: str) -> bool:
    if a == b:
        return True
    code_a, code_b = phonetic(a), phonetic(b)
    return code_a[0] == code_b[0] or code_a[1] == code_b[1]


def name_matches(subject: Subject, person: Person) -> bool:
    surname, given = split_name(subject.name)
    initial = given[:1]
    for name in person.names:
        other_surname, other_given = split_name(name)
        if other_given[:1] == initial and _sounds_alike(surname, other_surname):
            return True
    return False


def sex_agrees(subject: Subject, person: Person) -> bool:
    return not (
        subject.sex in KNOWN_SEXES and person.sex in KNOWN_SEXES and subject.sex != person.sex
    )


def searched(subject: Subject) -> tuple[str, ...]:
    indexes = ["NAME/DOB"]
    if subject.arn:
        indexes.append(f"ARN {subject.arn}")
    if subject.fbi:
        indexes.append(f"FBI {subject.fbi}")
    return tuple(indexes)


def identify(
    subject: Subject, by_identifier: Sequence[Person], by_name: Sequence[Person]
) -> Identity:
    """Decide from the persons the store found by identifier and by name (with the candidate
    birth dates of ``candidate_dobs``)."""
    indexes = searched(subject)
    if by_identifier:
        if len(by_identifier) == 1:
            return Identity(Outcome.MATCH, by_identifier[0], searched=indexes, by_identifier=True)
        return Identity(Outcome.POSSIBLE, candidates=tuple(by_identifier), searched=indexes)
    named = [p for p in by_name if name_matches(subject, p) and sex_agrees(subject, p)]
    exact = [p for p in named if p.dob == subject.dob]
    near_dates = set(candidate_dobs(subject.dob)[1:])
    near = [p for p in named if p.dob in near_dates]
    if len(exact) == 1:
        return Identity(Outcome.MATCH, exact[0], searched=indexes)
    if exact or near:
        return Identity(Outcome.POSSIBLE, candidates=tuple(exact or near), searched=indexes)
    return Identity(Outcome.NONE, searched=indexes)
