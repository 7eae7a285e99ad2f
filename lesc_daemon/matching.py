"""Identity matching (pure): which person an IAQ is about, if any.

1. ``ARN/`` or ``FBI/`` equal to a person's: that person.
2. Otherwise the persons the store finds in the name blocks (``names.key`` of any part of the
   name, with the DOB or one of its near misses) are scored (``scoring.score``: Fellegi-Sunter
   weights of name, DOB, sex and POB evidence). A candidate counts when its sex does not
   differ (M against F), its name weight is at least ``NAME_MIN`` and its score at least
   ``POSSIBLE_MIN``.
3. The best candidate is a match when its DOB is exact, its score at least ``MATCH_MIN``, and
   no other candidate comes within ``MARGIN`` of it. Otherwise candidates make a possible
   identity (DOB near misses are weaker evidence: never a match); none make no record.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Generator, Sequence
from datetime import date

from formats.value_types import value_type
from lesc_daemon.names import name_keys, surname_keys
from lesc_daemon.persons import KNOWN_SEXES, Person
from lesc_daemon.scoring import Score, query, score

NAME_MIN = 6.0  # e.g. the surname exact and the given name different (4.6) is not enough
POSSIBLE_MIN = 16.0
MATCH_MIN = 23.0
MARGIN = 6.0  # 2**6: the best candidate 64 times likelier than the next


class Outcome(enum.Enum):
    MATCH = "match"
    POSSIBLE = "possible"
    NONE = "none"


@value_type
class Subject:
    """What an IAQ says about the person asked about."""

    name: str  # LAST, FIRST MIDDLE
    dob: date
    sex: str | None = None
    arn: str | None = None
    fbi: str | None = None
    pob: str | None = None


@value_type
class Identity:
    outcome: Outcome
    person: Person | None = None
    candidates: tuple[Person, ...] = ()
    searched: tuple[str, ...] = ()  # the indexes searched, for the IAR narrative
    by_identifier: bool = False
    variants: tuple[str, ...] = ()  # how the best candidate's name and DOB matched, if not exactly
    score: float | None = None  # the best candidate's score (name and DOB matching)


@value_type
class NameLookup:
    """The persons to fetch: those with a name part in one of the blocks ``keys``
    (``names.key``) and one of the birth dates ``dobs``."""

    keys: set[str]
    dobs: tuple[date, ...]


# The search for one subject: it yields the name blocks to fetch, is sent the persons found
# there, and returns the identity.
Search = Generator[NameLookup, list[Person], Identity]


def search(subject: Subject, by_identifier: Sequence[Person]) -> Search:
    """Decide who the subject is from the persons found by identifier and, until one gives a
    match, those of the blocks of the surname's parts with the DOB (a match needs the DOB
    exact: most queries end here, with a candidate or two); the blocks of every name part
    with the DOB, day and month swapped and the year off by one (swapped names, a misspelt
    surname, near misses); and, when still nobody is found, the surname's blocks with the
    dates one digit off (rarer and costlier: it could add candidates to a possible identity,
    never make a match)."""
    surname = surname_keys(subject.name)
    found = yield NameLookup(surname, (subject.dob,))
    identity = identify(subject, by_identifier, found)
    if identity.outcome is not Outcome.MATCH:
        near = tuple(candidate_dobs(subject.dob))
        found = yield NameLookup(name_keys(subject.name), near)
        identity = identify(subject, by_identifier, found)
    if identity.outcome is Outcome.NONE:
        found = found + (yield NameLookup(surname, tuple(near_dobs(subject.dob))))
        identity = identify(subject, by_identifier, found)
    return identity


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
    """Decide from the persons the store found by identifier and in the name blocks."""
    indexes = searched(subject)
    if by_identifier:
        if len(by_identifier) == 1:
            return Identity(Outcome.MATCH, by_identifier[0], searched=indexes, by_identifier=True)
        return Identity(Outcome.POSSIBLE, candidates=tuple(by_identifier), searched=indexes)
    q = query(subject.name, subject.dob, subject.sex, subject.pob)
    scored: dict[str, tuple[Score, Person]] = {}
    for person in by_name:
        found = score(q, person.names, person.dob, person.sex, person.pob)
        if (
            found is not None
            and found.sex_level != "DIFFERENT"
            and found.name >= NAME_MIN
            and found.total >= POSSIBLE_MIN
        ):
            scored[person.id] = (found, person)
    if not scored:
        return Identity(Outcome.NONE, searched=indexes)
    ranked = sorted(scored.values(), key=lambda pair: (-pair[0].total, pair[1].id))
    best, person = ranked[0]
    clear = len(ranked) == 1 or best.total - ranked[1][0].total >= MARGIN
    if best.dob_level == "EXACT" and best.total >= MATCH_MIN and clear:
        return Identity(
            Outcome.MATCH, person, searched=indexes, variants=best.variants, score=best.total
        )
    return Identity(
        Outcome.POSSIBLE,
        candidates=tuple(p for _, p in ranked),
        searched=indexes,
        variants=best.variants,
        score=best.total,
    )


def near_dobs(dob: date) -> list[date]:
    """The dates one digit of ``YYYYMMDD`` away from ``dob`` (the weakest DOB evidence), in
    order, without those of ``candidate_dobs``."""
    text = dob.strftime("%Y%m%d")
    near = set(candidate_dobs(dob))
    found = []
    for index, digit in enumerate(text):
        for other in "0123456789":
            if other == digit:
                continue
            changed = text[:index] + other + text[index + 1 :]
            try:
                day = date(int(changed[:4]), int(changed[4:6]), int(changed[6:]))
            except ValueError:
                continue
            if day not in near:
                found.append(day)
    return found


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
