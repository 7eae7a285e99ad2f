"""Labelled test queries for the LESC's matcher, deterministic by seed.

Each query is an IAQ for a person of a seeded store, spelled or dated the way officers get
it wrong, labelled with that person's id; or, at ``NON_MEMBER_SHARE``, an IAQ for a person who
is not in the store (drawn from the same generator with another seed), labelled ``None``.

The variant classes and their shares of member queries (``VARIANTS``):

| class | share | what changes |
|---|---|---|
| exact | 0.30 | nothing: the primary name without the middle initial, DOB, sex, POB |
| surname sound-alike | 0.12 | one or two letters by sound (``SOUNDS``): first letters |
| | | Q/K/C, X/Z/S, Y/I/J, and K/C/CK, V/W/B, S/Z, F/PH inside |
| surname typo | 0.06 | a vowel changed, or a letter doubled |
| compound part or order | 0.05 | a compound surname by one part, or in the other order |
| alias | 0.05 | the person's other name |
| names swapped | 0.05 | ``GIVEN, SURNAME`` |
| given initial | 0.05 | the given name by its initial |
| given sound-alike | 0.05 | the given name respelled by sound (as the surname above) |
| punctuation | 0.03 | an apostrophe after the first letter, or hyphen/space swapped |
| DOB day and month swapped | 0.05 | (the year off by one when the day is above 12) |
| DOB year off by one | 0.05 | |
| DOB one digit off | 0.05 | one digit of YYYYMMDD changed, still a real past date |
| name and DOB | 0.05 | a sound-alike surname and a DOB near miss together |
| sex unknown | 0.02 | ``SEX/U`` |
| POB wrong | 0.02 | another country |
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from formats.iaq import Iaq
from lesc_daemon.persons import Person
from lesc_daemon.seed import COUNTRIES, population
from lesc_daemon.store import Store

NON_MEMBER_SHARE = 0.10
VARIANTS = (
    ("exact", 0.30),
    ("surname sound-alike", 0.12),
    ("surname typo", 0.06),
    ("compound part or order", 0.05),
    ("alias", 0.05),
    ("names swapped", 0.05),
    ("given initial", 0.05),
    ("given sound-alike", 0.05),
    ("punctuation", 0.03),
    ("DOB day and month swapped", 0.05),
    ("DOB year off by one", 0.05),
    ("DOB one digit off", 0.05),
    ("name and DOB", 0.05),
    ("sex unknown", 0.02),
    ("POB wrong", 0.02),
)
NON_MEMBER = "not in the store"
# (pattern, replacements): sound-alike respellings, first letters first
SOUNDS = (
    (r"^Q", ("K", "C")),
    (r"^X", ("Z", "S")),
    (r"^Z", ("S", "X")),
    (r"^Y(?=[AEIOU])", ("I", "J")),
    (r"^K", ("C", "Q")),
    (r"^C(?=[AOU])", ("K",)),
    (r"^J(?=[AEIOU])", ("Y", "G")),
    (r"^V", ("W", "B")),
    (r"^W", ("V",)),
    (r"^F", ("PH",)),
    (r"(?<=.)K", ("C", "CK")),
    (r"(?<=.)V", ("W", "B")),
    (r"(?<=.)S", ("Z",)),
    (r"(?<=.)Z", ("S",)),
    (r"(?<=.)F", ("PH",)),
    (r"(?<=.)I", ("Y",)),
)
VOWELS = "AEIOU"


@dataclass(frozen=True, slots=True)
class Labelled:
    iaq: Iaq
    person_id: str | None  # None: not in the store
    variant: str


def sound_alike(word: str, rng: random.Random) -> str:
    """``word`` respelled by one or two of ``SOUNDS`` (the first letter's when it has one)."""
    for _ in range(rng.choice((1, 1, 2))):
        options = [(p, r) for p, r in SOUNDS if re.search(p, word)]
        if not options:
            break
        first = [o for o in options if o[0].startswith("^")]
        pattern, replacements = rng.choice(first if first and rng.random() < 0.6 else options)
        spots = [m.start() for m in re.finditer(pattern, word)]
        spot = rng.choice(spots)
        found = re.compile(pattern).match(word, spot)
        assert found is not None
        word = word[:spot] + rng.choice(replacements) + word[found.end() :]
    return word


def typo(word: str, rng: random.Random) -> str:
    vowels = [i for i, c in enumerate(word) if c in VOWELS and i > 0]
    if vowels and rng.random() < 0.6:
        spot = rng.choice(vowels)
        return word[:spot] + rng.choice([v for v in VOWELS if v != word[spot]]) + word[spot + 1 :]
    spot = rng.randrange(1, len(word))
    return word[:spot] + word[spot] + word[spot:]


def near_date(dob: date, kind: str, rng: random.Random, today: date) -> date:
    if kind == "swap" and dob.day <= 12 and dob.day != dob.month:
        return dob.replace(month=dob.day, day=dob.month)
    if kind in {"swap", "year"}:
        year = dob.year + rng.choice((-1, 1))
        return dob.replace(year=year, day=min(dob.day, 28) if dob.month == 2 else dob.day)
    text = dob.strftime("%Y%m%d")
    while True:
        spot = rng.randrange(8)
        digit = rng.choice([d for d in "0123456789" if d != text[spot]])
        changed = text[:spot] + digit + text[spot + 1 :]
        try:
            day = date(int(changed[:4]), int(changed[4:6]), int(changed[6:]))
        except ValueError:
            continue
        if date(1901, 1, 1) <= day <= today:
            return day


def _parts(name: str) -> tuple[str, str]:
    surname, _, given = name.partition(", ")
    return surname, given.split()[0]


def _build(person: Person, surname: str, given: str, dob: date, rng: random.Random) -> Iaq:
    return Iaq(
        rng.choice("CF"),
        "BENCH",
        "5185551212",
        f"{surname}, {given}"[:30],
        dob.strftime("%Y%m%d"),
        person.sex or "U",
        person.pob or "MM",
        "N",
        "0399",
    )


def _surname_sound(surname: str, given: str, rng: random.Random) -> tuple[str, str] | None:
    return sound_alike(surname, rng), given


def _surname_typo(surname: str, given: str, rng: random.Random) -> tuple[str, str] | None:
    return typo(surname, rng), given


def _compound(surname: str, given: str, rng: random.Random) -> tuple[str, str] | None:
    pieces = re.split(r"[ -]", surname)
    if len(pieces) < 2:
        return None
    return rng.choice((pieces[0], pieces[1], f"{pieces[1]} {pieces[0]}")), given


def _swapped(surname: str, given: str, rng: random.Random) -> tuple[str, str] | None:
    del rng
    return given, surname


def _initial(surname: str, given: str, rng: random.Random) -> tuple[str, str] | None:
    del rng
    return surname, given[0]


def _given_sound(surname: str, given: str, rng: random.Random) -> tuple[str, str] | None:
    return surname, sound_alike(given, rng)


def _punctuation(surname: str, given: str, rng: random.Random) -> tuple[str, str] | None:
    del rng
    if " " in surname or "-" in surname:
        return surname.translate(str.maketrans(" -", "- ")), given
    return f"{surname[0]}'{surname[1:]}", given


NameChange = Callable[[str, str, random.Random], tuple[str, str] | None]
NAME_CHANGES: dict[str, NameChange] = {
    "surname sound-alike": _surname_sound,
    "surname typo": _surname_typo,
    "compound part or order": _compound,
    "names swapped": _swapped,
    "given initial": _initial,
    "given sound-alike": _given_sound,
    "punctuation": _punctuation,
    "name and DOB": _surname_sound,
}
DATE_CHANGES = {
    "DOB day and month swapped": "swap",
    "DOB year off by one": "year",
    "DOB one digit off": "digit",
}


def member_query(person: Person, variant: str, rng: random.Random, today: date) -> Iaq | None:
    """The variant's IAQ for ``person``, or None when the person has nothing to vary (no
    compound surname, no alias)."""
    surname, given = _parts(person.names[0])
    if variant == "alias":
        if len(person.names) < 2:
            return None
        surname, given = _parts(person.names[1])
    change = NAME_CHANGES.get(variant)
    if change is not None:
        changed = change(surname, given, rng)
        if changed is None:
            return None
        surname, given = changed
    dob = person.dob
    if variant in DATE_CHANGES:
        dob = near_date(dob, DATE_CHANGES[variant], rng, today)
    elif variant == "name and DOB":
        dob = near_date(dob, rng.choice(("swap", "year", "digit")), rng, today)
    iaq = _build(person, surname, given, dob, rng)
    if variant == "sex unknown":
        iaq = dataclasses.replace(iaq, sex="U")
    if variant == "POB wrong":
        iaq = dataclasses.replace(iaq, pob=rng.choice([c for c in COUNTRIES if c != person.pob]))
    return iaq


def labelled_queries(store: Store, count: int, seed: int, today: date) -> list[Labelled]:
    """``count`` labelled queries over the generated persons of ``store`` (seeded with
    ``lesc-daemon seed``), the same for the same store, seed and day."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    generated = store.count_persons() - _catalogue_size(store)
    strangers = population(count, seed + 1_000_003, today)
    classes = [name for name, _ in VARIANTS]
    weights = [share for _, share in VARIANTS]
    out: list[Labelled] = []
    while len(out) < count:
        if rng.random() < NON_MEMBER_SHARE:
            stranger = next(strangers)
            if not _held(store, stranger):
                surname, given = _parts(stranger.names[0])
                out.append(
                    Labelled(_build(stranger, surname, given, stranger.dob, rng), None, NON_MEMBER)
                )
            continue
        variant = rng.choices(classes, weights)[0]
        iaq: Iaq | None = None
        while iaq is None:
            person = store.person(f"P{rng.randint(1, generated):07d}")
            assert person is not None
            iaq = member_query(person, variant, rng, today)
            person_id = person.id
        out.append(Labelled(iaq, person_id, variant))
    return out


def _held(store: Store, person: Person) -> bool:
    """Whether the store holds somebody of this name and DOB (then not a stranger)."""
    return bool(
        store.db.execute(
            "SELECT 1 FROM names WHERE name = ? AND dob = ?",
            (person.names[0], person.dob.isoformat()),
        ).fetchone()
    )


def _catalogue_size(store: Store) -> int:
    return int(store.db.execute("SELECT COUNT(*) FROM persons WHERE id LIKE 'T%'").fetchone()[0])
