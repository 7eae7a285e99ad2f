"""Who the IAQs of a load run ask about, and what the LESC is expected to answer.

Identities are persons in the LESC's import format (``lesc-daemon import``): the test
identities by default, or a JSONL file. Each line may carry ``"res"``, the RES expected; for
the others the expected RES is what the LESC's own rules answer when its store holds exactly
these persons (worked out once, locally, before the run).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from formats.iaq import Iaq
from lesc_daemon.lesc import Lesc
from lesc_daemon.oris import LESC_ORIS
from lesc_daemon.person_json import PersonJsonError, parse_person
from lesc_daemon.persons import Person
from lesc_daemon.rules import load_rules
from lesc_daemon.seed import catalogue
from lesc_daemon.store import Store


@dataclass(frozen=True, slots=True)
class Identity:
    """The fields of an IAQ about one person, and the RES expected (None: not checked)."""

    nam: str
    dob: str  # ccyymmdd
    sex: str
    pob: str
    arn: str | None
    res: str | None

    def fields(self) -> dict[str, str]:
        """Placeholder values of a profile template."""
        return {
            "nam": self.nam,
            "dob": self.dob,
            "sex": self.sex,
            "pob": self.pob,
            "arn": f".ARN/{self.arn}" if self.arn else "",
        }


class IdentitiesError(ValueError):
    """An identities file that cannot be used; the text says where."""


def query_of(person: Person, pur: str = "C") -> Iaq:
    return Iaq(
        pur,
        "LOAD TEST",
        "5185551212",
        person.names[0],
        person.dob.strftime("%Y%m%d"),
        person.sex or "U",
        person.pob or "MM",
        "N",
        "0399",
        arn=person.arn,
    )


def expected_results(persons: list[Person], now: datetime) -> list[str]:
    """The RES the LESC's rules give each person's query when the store holds ``persons``."""
    with tempfile.TemporaryDirectory() as scratch:
        store = Store(Path(scratch) / "expected.sqlite3")
        try:
            store.add_persons(persons)
            responder = Lesc(store, load_rules(), LESC_ORIS)
            answers = []
            for person in persons:
                iar = responder.respond(
                    query_of(person), "L000000000000", "NY0303000", now, act=False
                )
                assert iar.res is not None
                answers.append(iar.res.value)
            return answers
        finally:
            store.close()


def identities_of(persons: list[Person], given: list[str | None], now: datetime) -> list[Identity]:
    expected = expected_results(persons, now)
    return [
        Identity(
            p.names[0], p.dob.strftime("%Y%m%d"), p.sex or "U", p.pob or "MM", p.arn, res or auto
        )
        for p, res, auto in zip(persons, given, expected, strict=True)
    ]


def read_identities(path: Path | None, now: datetime) -> list[Identity]:
    """The identities of a JSONL file, or the test identities when ``path`` is None."""
    if path is None:
        persons = catalogue()
        return identities_of(persons, [None] * len(persons), now)
    persons, given = [], []
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError as error:
        raise IdentitiesError(f"{path}: not UTF-8 JSON lines ({error.reason})") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            persons.append(parse_person(line))
            res = json.loads(line).get("res")
        except PersonJsonError as error:
            raise IdentitiesError(f"{path} line {number}: {error}") from None
        if res is not None and not (isinstance(res, str) and len(res) == 2):
            raise IdentitiesError(f"{path} line {number}: res must be a RES code such as RM")
        given.append(res)
    if not persons:
        raise IdentitiesError(f"{path} holds no identities")
    return identities_of(persons, given, now)
