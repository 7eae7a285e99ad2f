"""How well a person of the store fits what an IAQ says (pure): Fellegi-Sunter weights.

Each piece of evidence is compared at a level; each level has ``m``, the chance of that level
when the person is the one asked about (officers' spelling and DOB errors), and ``u``, the
chance when it is somebody else of the same block; its weight is ``log2(m / u)``. A candidate's
score is the sum: the name (the better of the names as given and with given and family names
swapped, over all the person's names), the DOB, the sex and the place of birth. The ``m`` and
``u`` below are the project's estimates for its synthetic population (about 1 in 25,000 people
share a DOB; 22 given names), documented in ``docs/protocol-decisions.md``; ``make bench``
measures the result against labelled queries.

| evidence | level | m | u | weight |
|---|---|---|---|---|
| surname | exact (after accents and punctuation are stripped) | 0.86 | 0.0008 | +10.1 |
| | sounds alike (the same sound spelling, ``names.sound``) | 0.05 | 0.002 | +4.6 |
| | a compound in part or in the other order | 0.03 | 0.001 | +4.9 |
| | spelled close (Jaro-Winkler of the sound spellings >= 0.88) | 0.04 | 0.01 | +2.0 |
| | different | 0.02 | 0.986 | -5.6 |
| given name | exact | 0.85 | 0.05 | +4.1 |
| | sounds alike | 0.03 | 0.01 | +1.6 |
| | one side an initial; or a prefix, close, or the middle name | 0.06 | 0.04 | +0.6 |
| | absent on one side | | | 0 |
| | different | 0.02 | 0.87 | -5.4 |
| names swapped | given and family name exchanged | | | -1.0 |
| DOB | exact | 0.92 | 1/24,820 | +14.5 |
| | day and month swapped | 0.02 | 1/24,820 | +9.0 |
| | year off by one | 0.03 | 2/24,820 | +8.5 |
| | one digit off | 0.03 | 60/24,820 | +3.6 |
| sex | agrees / differs / unknown | 0.98 / 0.02 | 0.5 / 0.5 | +1.0 / -4.6 / 0 |
| POB | agrees / differs / unknown | 0.95 / 0.05 | 0.12 / 0.88 | +3.0 / -4.1 / 0 |
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

import jellyfish

from formats.value_types import value_type
from lesc_daemon import names
from lesc_daemon.persons import KNOWN_SEXES


def _w(m: float, u: float) -> float:
    return math.log2(m / u)


SURNAME = {
    "EXACT": _w(0.86, 0.0008),
    "SOUND": _w(0.05, 0.002),
    "COMPOUND": _w(0.03, 0.001),
    "CLOSE": _w(0.04, 0.01),
    "DIFFERENT": _w(0.02, 0.986),
}
GIVEN = {
    "EXACT": _w(0.85, 0.05),
    "SOUND": _w(0.03, 0.01),
    "PARTIAL": _w(0.06, 0.04),
    "INITIAL": _w(0.06, 0.04),  # as PARTIAL, but usual enough not to be named a variant
    "ABSENT": 0.0,
    "DIFFERENT": _w(0.02, 0.87),
}
SWAPPED = -1.0
DAYS = 24_820.0  # the population's span of birth dates, in days
DOB = {
    "EXACT": _w(0.92, 1 / DAYS),
    "SWAP": _w(0.02, 1 / DAYS),
    "YEAR": _w(0.03, 2 / DAYS),
    "DIGIT": _w(0.03, 60 / DAYS),
}
SEX = {"AGREE": _w(0.98, 0.5), "DIFFERENT": _w(0.02, 0.5), "UNKNOWN": 0.0}
POB = {"AGREE": _w(0.95, 0.12), "DIFFERENT": _w(0.05, 0.88), "UNKNOWN": 0.0}
CLOSE_SURNAME = 0.88  # Jaro-Winkler of the sound spellings
CLOSE_GIVEN = 0.85

VARIANT_TEXT = {
    ("surname", "SOUND"): "SURNAME SOUNDS ALIKE",
    ("surname", "COMPOUND"): "COMPOUND SURNAME IN PART OR OTHER ORDER",
    ("surname", "CLOSE"): "SURNAME SPELLED CLOSE",
    ("given", "SOUND"): "GIVEN NAME SOUNDS ALIKE",
    ("given", "PARTIAL"): "GIVEN NAME SHORT FORM, MIDDLE NAME OR CLOSE SPELLING",
    ("dob", "SWAP"): "DOB DAY AND MONTH SWAPPED",
    ("dob", "YEAR"): "DOB YEAR OFF BY ONE",
    ("dob", "DIGIT"): "DOB ONE DIGIT OFF",
}


@value_type
class Query:
    """The IAQ's name, prepared once: plain parts and their sound spellings."""

    surname: tuple[str, ...]
    given: tuple[str, ...]
    raw_surname: str
    dob: date
    sex: str | None
    pob: str | None


def query(name: str, dob: date, sex: str | None, pob: str | None) -> Query:
    surname, given = names.split(name)
    return Query(surname, given, name.partition(",")[0].strip().upper(), dob, sex, pob)


@value_type
class Score:
    total: float
    name: float
    dob_level: str
    sex_level: str
    variants: tuple[str, ...]  # what matched other than exactly, for the narrative


def surname_level(asked: tuple[str, ...], held: tuple[str, ...]) -> str:
    if not asked or not held:
        return "DIFFERENT"
    if asked == held:
        return "EXACT"
    asked_sound = [names.sound(p) for p in asked]
    held_sound = [names.sound(p) for p in held]
    if asked_sound == held_sound:
        return "SOUND"
    if set(asked_sound) & set(held_sound):
        return "COMPOUND"
    similarity = jellyfish.jaro_winkler_similarity("".join(asked_sound), "".join(held_sound))
    return "CLOSE" if similarity >= CLOSE_SURNAME else "DIFFERENT"


def given_level(asked: tuple[str, ...], held: tuple[str, ...]) -> str:
    if not asked or not held:
        return "ABSENT"
    first, other = asked[0], held[0]
    if first == other:
        return "EXACT"
    if len(first) == 1 or len(other) == 1:
        return "INITIAL" if first[0] == other[0] else "DIFFERENT"
    first_sound, other_sound = names.sound(first), names.sound(other)
    if first_sound == other_sound:
        return "SOUND"
    if (
        other.startswith(first)
        or first.startswith(other)
        or first in held[1:]
        or jellyfish.jaro_winkler_similarity(first_sound, other_sound) >= CLOSE_GIVEN
    ):
        return "PARTIAL"
    return "DIFFERENT"


def dob_level(asked: date, held: date) -> str | None:
    if asked == held:
        return "EXACT"
    if asked.year == held.year and asked.month == held.day and asked.day == held.month:
        return "SWAP"
    if asked.month == held.month and asked.day == held.day and abs(asked.year - held.year) == 1:
        return "YEAR"
    a, b = asked.strftime("%Y%m%d"), held.strftime("%Y%m%d")
    if sum(x != y for x, y in zip(a, b, strict=True)) == 1:
        return "DIGIT"
    return None


def _name_score(q: Query, name: str) -> tuple[float, list[str]]:
    surname, given = names.split(name)
    best = -math.inf
    variants: list[str] = []
    for held_surname, held_given, swapped in ((surname, given, False), (given, surname, True)):
        s = surname_level(q.surname, held_surname)
        g = given_level(q.given, held_given)
        weight = SURNAME[s] + GIVEN[g] + (SWAPPED if swapped else 0.0)
        if weight > best:
            best = weight
            variants = [
                VARIANT_TEXT[k] for k in (("surname", s), ("given", g)) if k in VARIANT_TEXT
            ]
            if swapped:
                variants.insert(0, "GIVEN AND FAMILY NAMES SWAPPED")
            raw = name.partition(",")[0].strip().upper()
            if s == "EXACT" and not swapped and q.raw_surname != raw:
                variants.append("ACCENTS OR PUNCTUATION IGNORED")
        if s == "EXACT" and g in {"EXACT", "INITIAL", "ABSENT"}:
            break  # swapped could not do better
    return best, variants


def score(
    q: Query, person_names: Sequence[str], dob: date, sex: str | None, pob: str | None
) -> Score | None:
    """The candidate's score, or None when its DOB is none of the near misses."""
    level = dob_level(q.dob, dob)
    if level is None:
        return None
    name_weight, variants = max(
        (_name_score(q, name) for name in person_names), key=lambda found: found[0]
    )
    if q.sex in KNOWN_SEXES and sex in KNOWN_SEXES:
        sex_level = "AGREE" if q.sex == sex else "DIFFERENT"
    else:
        sex_level = "UNKNOWN"
    pob_level = "UNKNOWN" if not q.pob or not pob else ("AGREE" if q.pob == pob else "DIFFERENT")
    if ("dob", level) in VARIANT_TEXT:
        variants.append(VARIANT_TEXT["dob", level])
    total = name_weight + DOB[level] + SEX[sex_level] + POB[pob_level]
    return Score(total, name_weight, level, sex_level, tuple(variants))
