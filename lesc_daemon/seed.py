"""A deterministic, obviously synthetic population for the LESC's stores, and the catalogue of
test identities with fixed outcomes (``fixtures/lesc_identities.jsonl``, documented in
``fixtures/LESC_IDENTITIES.md``).

Generated surnames are invented syllable strings that start with Q, X, Y or Z (5% of them
compound: two such parts joined by a space or a hyphen), given names come from ``GIVEN``;
catalogue persons have given names outside it, so no generated person scores as a test
identity.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

from lesc_daemon.oris import LESC_ORI, OPERATIONS_ORI
from lesc_daemon.person_json import person_to_json
from lesc_daemon.persons import NcicRecord, Person, Status, StatusCode
from lesc_daemon.store import Store

FIRST_LETTERS = "QXYZ"
SYLLABLES = ("AR", "OV", "EN", "IK", "UL", "AM", "OR", "ET", "IS", "AN", "EL", "OK", "UR", "AZ")
GIVEN = (
    "ALEX",
    "BRIN",
    "CARO",
    "DANA",
    "EMIL",
    "FARA",
    "GRAY",
    "HANA",
    "IVAN",
    "JODI",
    "KAI",
    "LENA",
    "MIRO",
    "NOVA",
    "OREN",
    "PIA",
    "RENE",
    "SAMI",
    "TORI",
    "UMA",
    "VERA",
    "WREN",
)
COUNTRIES = ("MM", "GT", "HD", "EL", "RC", "II", "PI", "RV", "CC", "HT", "BZ", "PU", "VZ", "NG")
STATES = ("NY", "NJ", "PA", "TX", "CA", "FL", "IL", "AZ", "VT", "MA")
# (status, share of the population): a realistic mix, roughly the LESC's
STATUS_MIX = (
    ("USC", 30),
    ("LPR", 24),
    ("NIV_VALID", 10),
    ("NIV_EXPIRED", 8),
    ("REF", 4),
    ("ASY", 4),
    ("TPS", 4),
    ("EWI", 9),
    ("FO", 4),
    ("REM", 3),
)
COMPOUND_SHARE = 0.05  # of persons with a compound surname: two parts, a space or a hyphen
NCIC_SHARE = 0.04  # of non-citizens with an ICE record in NCIC
NCIC_TYPES = ("ADMIN_WARRANT", "CRIM_WARRANT", "DEPORTED_FELON", "ABSCONDER", "NSEERS")


def _surname(rng: random.Random) -> str:
    return rng.choice(FIRST_LETTERS) + "".join(
        rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))
    )


def _status(kind: str, rng: random.Random, today: date) -> Status:
    since = today - timedelta(days=rng.randint(200, 9000))
    if kind == "NIV_VALID":
        return Status(
            StatusCode.NIV,
            rng.choice(("B2", "F1", "H1B")),
            since,
            today + timedelta(days=rng.randint(30, 900)),
        )
    if kind == "NIV_EXPIRED":
        return Status(
            StatusCode.NIV,
            rng.choice(("B2", "F1", "H1B")),
            since,
            today - timedelta(days=rng.randint(30, 3000)),
        )
    return Status(StatusCode(kind), None, since)


def population(count: int, seed: int, today: date) -> Iterator[Person]:
    """``count`` synthetic persons, the same for the same ``seed`` and ``today``."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    # compound surnames from a stream of their own: the rest is as it was before they came
    compounds = random.Random(seed * 7919 + 1)  # noqa: S311
    kinds = [kind for kind, share in STATUS_MIX for _ in range(share)]
    for index in range(1, count + 1):
        kind = rng.choice(kinds)
        surname, given = _surname(rng), rng.choice(GIVEN)
        if compounds.random() < COMPOUND_SHARE:
            surname += compounds.choice(" -") + _surname(compounds)
        names = [f"{surname}, {given} {rng.choice(GIVEN)[0]}"]
        if rng.random() < 0.2:
            names.append(f"{_surname(rng)}, {given}")
        citizen = kind == "USC"
        ncic: tuple[NcicRecord, ...] = ()
        if not citizen and rng.random() < NCIC_SHARE:
            ncic = (
                NcicRecord(
                    f"Z{index:09d}",
                    rng.choice(NCIC_TYPES),
                    LESC_ORI,
                    f"ICE-{index:07d}",
                    rng.random() < 0.9,
                    today - timedelta(days=rng.randint(10, 3000)),
                ),
            )
        yield Person(
            id=f"P{index:07d}",
            names=tuple(names),
            dob=date(1940, 1, 1) + timedelta(days=rng.randint(0, 68 * 365)),
            sex=rng.choice("MF"),
            pob=rng.choice(STATES) if citizen else rng.choice(COUNTRIES),
            citizenship="US" if citizen else rng.choice(COUNTRIES),
            arn=None if citizen else f"1{index:08d}",
            fbi=f"{index:07d}Q{rng.randint(0, 9)}" if rng.random() < 0.3 else None,
            firearms_exception=kind == "NIV_VALID" and rng.random() < 0.2,
            status=_status(kind, rng, today),
            ncic=ncic,
        )


def catalogue() -> list[Person]:
    """The test identities (``fixtures/lesc_identities.jsonl``); each gives one documented
    outcome whatever the day."""
    far = date(2099, 12, 31)
    past = date(2015, 7, 1)
    admin = NcicRecord("W000000001", "ADMIN_WARRANT", LESC_ORI, "ICE-0001", True, date(2020, 3, 1))
    absconder = NcicRecord(
        "W000000002", "ABSCONDER", OPERATIONS_ORI, "ICE-0002", True, date(2021, 6, 1)
    )
    cleared = NcicRecord(
        "W000000003", "CRIM_WARRANT", LESC_ORI, "ICE-0003", False, date(2019, 1, 1)
    )
    return [
        Person(
            "T000001",
            ("DOE, JOHN A", "DOE, JUAN"),
            date(1980, 1, 15),
            "M",
            "MX",
            "MX",
            "012345678",
            "123456AB1",
            status=Status(StatusCode.EWI, None, date(2009, 4, 2)),
        ),
        Person(
            "T000002",
            ("SAMPLE, CITIZEN",),
            date(1975, 3, 3),
            "F",
            "VT",
            "US",
            status=Status(StatusCode.USC),
        ),
        Person(
            "T000003",
            ("SAMPLE, RESIDENT",),
            date(1982, 6, 14),
            "M",
            "GT",
            "GT",
            "023456789",
            status=Status(StatusCode.LPR, None, date(2010, 1, 1)),
        ),
        Person(
            "T000004",
            ("SAMPLE, VISITOR",),
            date(1990, 9, 9),
            "F",
            "RC",
            "RC",
            "034567890",
            status=Status(StatusCode.NIV, "B2", date(2024, 1, 1), far),
        ),
        Person(
            "T000005",
            ("SAMPLE, HUNTER",),
            date(1988, 11, 30),
            "M",
            "CD",
            "CD",
            "045678901",
            firearms_exception=True,
            status=Status(StatusCode.NIV, "H1B", date(2023, 1, 1), far),
        ),
        Person(
            "T000006",
            ("SAMPLE, OVERSTAY",),
            date(1979, 2, 20),
            "M",
            "PI",
            "PI",
            "056789012",
            status=Status(StatusCode.NIV, "B2", date(2015, 1, 1), past),
        ),
        Person(
            "T000007",
            ("WANTED, WALTER",),
            date(1970, 7, 7),
            "M",
            "HD",
            "HD",
            "067890123",
            status=Status(StatusCode.FO, None, date(2018, 5, 5)),
            ncic=(admin,),
        ),
        Person(
            "T000008",
            ("TWIN, ALEX",),
            date(1985, 5, 5),
            "M",
            "EL",
            "EL",
            "078901234",
            status=Status(StatusCode.LPR, None, date(2005, 1, 1)),
        ),
        Person(
            "T000009",
            ("TWIN, ANDY",),
            date(1985, 5, 5),
            "M",
            "EL",
            "EL",
            "078901235",
            status=Status(StatusCode.TPS, None, date(2001, 3, 9)),
        ),
        Person(
            "T000010",
            ("RUNNER, ROSA",),
            date(1983, 8, 12),
            "F",
            "HT",
            "HT",
            "089012345",
            status=Status(StatusCode.FO, None, date(2016, 2, 2)),
            ncic=(absconder, cleared),
        ),
        # The matcher's variant classes (fixtures/LESC_IDENTITIES.md, "Spellings")
        Person(
            "T000011",
            ("KARIMOV, YUSUF",),
            date(1977, 4, 21),
            "M",
            "UZ",
            "UZ",
            "090123456",
            status=Status(StatusCode.LPR, None, date(2012, 5, 1)),
        ),
        Person(
            "T000012",
            ("GARCIA LOPEZ, MARIA",),
            date(1991, 2, 3),
            "F",
            "MX",
            "MX",
            status=Status(StatusCode.EWI, None, date(2014, 8, 8)),
        ),
        Person(
            "T000013",
            ("PHILLIPS, GEORGE",),
            date(1966, 10, 4),
            "M",
            "VT",
            "US",
            status=Status(StatusCode.USC),
        ),
        Person(
            "T000014",
            ("WEBER, VIKTOR",),
            date(1983, 7, 9),
            "M",
            "GM",
            "GM",
            "091234567",
            status=Status(StatusCode.TPS, None, date(2019, 3, 3)),
        ),
        Person(
            "T000015",
            ("O'BRIEN-NUNEZ, JOSE", "NÚÑEZ, JOSÉ"),
            date(1972, 12, 25),
            "M",
            "CU",
            "CU",
            "092345678",
            status=Status(StatusCode.ASY, None, date(2001, 6, 6)),
        ),
    ]


def seed_store(
    store: Store,
    persons: int,
    seed: int,
    today: date,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Load the test identities and ``persons`` generated persons into an empty store, in
    transactions of 50,000; returns how many were generated. ``progress`` is told how many
    each transaction added."""
    store.add_persons(catalogue())
    generator = population(persons, seed, today)
    loaded = 0
    while chunk := [person for _, person in zip(range(50_000), generator, strict=False)]:
        added = store.add_persons(chunk)
        loaded += added
        if progress is not None:
            progress(added)
    return loaded


def write_catalogue(path: Path) -> None:
    """Write the catalogue in the import format (``python -m lesc_daemon.seed`` does this)."""
    path.write_text("".join(person_to_json(person) + "\n" for person in catalogue()))


if __name__ == "__main__":
    write_catalogue(Path(__file__).resolve().parent.parent / "fixtures" / "lesc_identities.jsonl")
