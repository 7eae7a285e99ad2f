"""Every RES and FAP outcome, from the catalogue of test identities loaded through the import
format (fixtures/LESC_IDENTITIES.md)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formats.iaq import Iaq
from formats.iar import Result
from lesc_daemon.lesc import Lesc
from lesc_daemon.person_json import PersonJsonError, parse_person, person_to_json
from lesc_daemon.persons import Person, Status, StatusCode
from lesc_daemon.rules import Facts, RulesError, load_rules, parse_rules
from lesc_daemon.seed import catalogue
from lesc_daemon.store import Store
from tests.lesc_fixtures import CATALOGUE, catalogue_store

NOW = datetime(2026, 11, 23, 9, 30)

CASES = [
    # NAM, DOB, SEX, POB, ARN, CUS -> RES, FAP
    ("DOE, JOHN A", "19800115", "M", "MX", "012345678", "Y", "RM", "P1"),
    ("SAMPLE, CITIZEN", "19750303", "F", "VT", None, "N", "US", "NP"),
    ("SAMPLE, RESIDENT", "19820614", "M", "GT", None, "N", "LS", "NP"),
    ("SAMPLE, VISITOR", "19900909", "F", "RC", None, "N", "LS", "P2"),
    ("SAMPLE, HUNTER", "19881130", "M", "CD", None, "N", "LS", "NP"),
    ("SAMPLE, OVERSTAY", "19790220", "M", "PI", None, "N", "RM", "P1"),
    ("WANTED, WALTER", "19700707", "M", "HD", None, "Y", "WT", "P1"),
    ("TWIN, A", "19850505", "M", "EL", None, "N", "PI", "UD"),
    ("DOE, JOHN", "19810115", "M", "MX", None, "N", "PI", "UD"),
    ("NOBODY, NEMO", "19990909", "M", "MM", None, "N", "NR", "UD"),
    ("RUNNER, ROSA", "19830812", "F", "HT", None, "N", "WT", "P1"),
]


@pytest.fixture
def responder(tmp_path: Path) -> Lesc:
    return Lesc(catalogue_store(tmp_path / "lesc.db"), load_rules(), frozenset({"VTINS07S0"}))


def iaq(nam: str, dob: str, sex: str, pob: str, arn: str | None, cus: str, pur: str) -> Iaq:
    return Iaq(pur, "DET SMITH", "5185551212", nam, dob, sex, pob, cus, "0399", arn=arn)


@pytest.mark.parametrize(("nam", "dob", "sex", "pob", "arn", "cus", "res", "fap"), CASES)
def test_catalogue_identity_gets_its_documented_outcome(
    responder: Lesc,
    nam: str,
    dob: str,
    sex: str,
    pob: str,
    arn: str | None,
    cus: str,
    res: str,
    fap: str,
) -> None:
    criminal = responder.respond(
        iaq(nam, dob, sex, pob, arn, cus, "C"), "L261123000001", "NY0303000", NOW
    )
    firearms = responder.respond(
        iaq(nam, dob, sex, pob, arn, cus, "F"), "L261123000002", "NY0303000", NOW
    )
    assert (criminal.res.value if criminal.res else None, criminal.fap) == (res, None)
    assert firearms.fap is not None
    assert firearms.fap.value == fap


def test_detainer_and_lead_for_cus_y_with_rm_or_wt(responder: Lesc) -> None:
    response = responder.respond(
        iaq("DOE, JOHN A", "19800115", "M", "MX", "012345678", "Y", "C"),
        "L261123000001",
        "NY0303000",
        NOW,
    )
    assert response.lines[-1] == (
        "ACTION: DETAINER D00000001 LODGED WITH NY0303000. "
        "LEAD 00000001 REFERRED TO THE ICE FIELD OFFICE."
    )
    assert responder.store.detainers() == [
        (1, "T000001", "L261123000001", "NY0303000", NOW.isoformat(), "ENTERED WITHOUT INSPECTION")
    ]
    responder.respond(
        iaq("SAMPLE, OVERSTAY", "19790220", "M", "PI", None, "N", "C"),
        "L261123000002",
        "NY0303000",
        NOW,
    )
    assert len(responder.store.detainers()) == 1  # CUS/N: no detainer


def test_niv_expires_after_until(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.add_persons(
        [
            Person(
                "P1",
                ("VISA, VERA",),
                datetime(1990, 1, 1).date(),
                "F",
                status=Status(StatusCode.NIV, "B2", None, NOW.date()),
            )
        ]
    )
    responder = Lesc(store, load_rules(), frozenset({"VTINS07S0"}))
    query = iaq("VISA, VERA", "19900101", "F", "RC", None, "N", "F")
    assert responder.respond(query, "L261123000001", "X", NOW).res is Result.LS  # until today
    later = NOW.replace(day=24)
    assert responder.respond(query, "L261124000001", "X", later).res is Result.RM


def test_rules_file_overrides_and_errors(tmp_path: Path) -> None:
    rules = parse_rules(
        '[[result]]\nif = {}\nres = "NR"\n[[firearms]]\nif = {}\nfap = "UD"\n[[action]]\nif = {}\n'
    )
    assert rules.decide({"identity": "match", "purpose": "F"}).res.value == "NR"
    with pytest.raises(RulesError, match="missing \\[\\[firearms\\]\\] rules"):
        parse_rules('[[result]]\nif = {}\nres = "NR"\n')
    with pytest.raises(RulesError, match="bad outcome"):
        parse_rules(
            '[[result]]\nif = {}\nres = "XX"\n[[firearms]]\nif = {}\nfap = "UD"\n'
            "[[action]]\nif = {}\n"
        )
    path = tmp_path / "r.toml"
    path.write_text("[[result]]\nres = 1\n")
    with pytest.raises(RulesError, match="needs an `if` table"):
        load_rules(path)


facts_of_queries = st.fixed_dictionaries(
    {
        "identity": st.sampled_from(["match", "possible", "none"]),
        "status": st.sampled_from(
            [*(code.value for code in StatusCode), "NIV_VALID", "NIV_EXPIRED", "NONE"]
        ),
        "active_ncic": st.booleans(),
        "firearms_exception": st.booleans(),
        "purpose": st.sampled_from(["C", "F"]),
        "cus": st.sampled_from(["Y", "N"]),
    }
)
SHARED_RULES = load_rules()


@given(st.lists(facts_of_queries, min_size=1, max_size=20))
def test_remembered_decisions_are_the_decisions_of_fresh_rules(facts: list[Facts]) -> None:
    """Rules remember what they decided for a set of facts; a long-lived Rules object decides
    every sequence of queries as new Rules would decide each one."""
    for one in facts:
        assert SHARED_RULES.decide(one) == load_rules().decide(one)


def test_catalogue_file_is_what_the_seed_module_writes() -> None:
    assert CATALOGUE.read_text() == "".join(person_to_json(p) + "\n" for p in catalogue())


names = st.from_regex(r"[A-Z]{2,8}, [A-Z]{2,8}", fullmatch=True)


@given(
    st.builds(
        Person,
        id=st.from_regex(r"P[0-9]{6}", fullmatch=True),
        names=st.lists(names, min_size=1, max_size=3).map(tuple),
        dob=st.dates(),
        sex=st.sampled_from([None, "M", "F", "U"]),
        arn=st.none() | st.from_regex(r"[0-9]{9}", fullmatch=True),
        firearms_exception=st.booleans(),
        status=st.none()
        | st.builds(
            Status, st.sampled_from(StatusCode), st.none(), st.none(), st.none() | st.dates()
        ),
    )
)
def test_import_format_round_trips(person: Person) -> None:
    assert parse_person(person_to_json(person)) == person


@given(st.text(max_size=200))
def test_import_parser_raises_only_record_errors(line: str) -> None:
    with contextlib.suppress(PersonJsonError):
        parse_person(line)
