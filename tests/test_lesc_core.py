"""The LESC's core decides from values, with no database: the matcher's search asks for the
persons it needs and is sent them; the responder takes the query, the records and the numbers
the store gives, and returns the replies and the writes as values."""

from __future__ import annotations

import ast
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from formats.envelope import OutputMessage, parse_input
from formats.iaq import Iaq
from formats.iar import parse_iar
from lesc_daemon.answers import Audit, Detainer, Filed, Lead, Numbers
from lesc_daemon.matching import (
    Identity,
    NameLookup,
    Outcome,
    Search,
    Subject,
    candidate_dobs,
    near_dobs,
    search,
)
from lesc_daemon.names import name_keys, surname_keys
from lesc_daemon.persons import NcicRecord, Person, Status, StatusCode
from lesc_daemon.responder import (
    Found,
    am_answer,
    facts,
    iaq_answer,
    read_iaq,
    read_yq,
    subject_of,
    yq_answer,
)
from lesc_daemon.rules import load_rules

PACKAGE = Path(__file__).resolve().parent.parent / "lesc_daemon"
CORE = (
    "answers",
    "matching",
    "names",
    "narrative",
    "oris",
    "persons",
    "responder",
    "rules",
    "scoring",
)
NOW = datetime(2026, 11, 23, 9, 30)
DELAY = timedelta(seconds=2)
DOE = Person(
    "T000001",
    ("DOE, JOHN A",),
    date(1980, 1, 15),
    "M",
    "MX",
    arn="012345678",
    status=Status(StatusCode.EWI),
)
IAQ_TEXT = (
    "PUR/C.ATN/DET J SMITH.PHN/5185551212.NAM/DOE, JOHN A.DOB/19800115.SEX/M.POB/MX.CUS/Y.OFF/0399"
)


def finished(steps: Search, persons: list[Person]) -> Identity:
    """What the search decides once sent the persons of its last lookup."""
    with pytest.raises(StopIteration) as stopped:
        steps.send(persons)
    identity: Identity = stopped.value.value
    return identity


def delivered(mke: str, text: str, control: str = "Q1") -> OutputMessage:
    return OutputMessage(mke, "NY0303000", NOW, 1, NOW, 1, "VTINS07S0", text, control)


def test_the_core_imports_no_store_no_database_and_no_event_loop() -> None:
    core = {f"lesc_daemon.{name}" for name in CORE}
    for name in CORE:
        tree = ast.parse((PACKAGE / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "lesc_daemon":
                imported = [f"lesc_daemon.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported = [node.module]
            elif isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            else:
                continue
            for module in imported:
                assert module.split(".")[0] not in {"sqlite3", "asyncio", "socket"}, (name, module)
                if module.startswith("lesc_daemon"):
                    assert module in core, f"lesc_daemon.{name} imports {module}"


def test_the_search_asks_for_the_surnames_blocks_first_and_stops_at_a_match() -> None:
    subject = Subject("DOE, JOHN A", date(1980, 1, 15), "M")
    steps = search(subject, [])
    assert next(steps) == NameLookup(surname_keys("DOE, JOHN A"), (date(1980, 1, 15),))
    identity = finished(steps, [DOE])
    assert (identity.outcome, identity.person) == (Outcome.MATCH, DOE)


def test_with_nobody_found_the_search_widens_to_every_name_part_then_to_near_dates() -> None:
    dob = date(1980, 1, 15)
    steps = search(Subject("DOE, JOHN A", dob, "M"), [])
    next(steps)
    wider = steps.send([])
    assert wider == NameLookup(name_keys("DOE, JOHN A"), tuple(candidate_dobs(dob)))
    nearest = steps.send([])
    assert nearest == NameLookup(surname_keys("DOE, JOHN A"), tuple(near_dobs(dob)))
    identity = finished(steps, [])
    assert (identity.outcome, identity.searched) == (Outcome.NONE, ("NAME/DOB",))


def test_an_iaq_answer_lodges_with_the_numbers_it_is_given_and_lists_its_writes() -> None:
    message = delivered("IAQ", IAQ_TEXT)
    iaq = read_iaq(message, NOW.date())
    assert isinstance(iaq, Iaq)
    steps = search(subject_of(iaq, NOW.date()), [])
    next(steps)
    identity = finished(steps, [DOE])
    decision = load_rules().decide(facts(identity, iaq, NOW.date()))
    found = Found(identity, decision, Numbers(detainer=7, lead=9))
    answer = iaq_answer(message, "VTINS07S0", "L261123000042", iaq, found, now=NOW, delay=DELAY)

    basis = "ENTERED WITHOUT INSPECTION"
    assert answer.writes == [
        Detainer(7, "T000001", "L261123000042", "NY0303000", NOW, basis),
        Lead(9, "T000001", "L261123000042", "NY0303000", NOW, basis),
        Audit(
            "IAQ",
            NOW,
            "NY0303000",
            "RM",
            reference="L261123000042",
            atn="DET J SMITH",
            purpose="C",
            subject="DOE, JOHN A",
        ),
    ]
    ack, response = answer.replies
    assert (ack.due, response.due) == (NOW, NOW + DELAY)
    iar = parse_iar(parse_input(response.message).text)
    assert iar.lines[-1] == (
        "ACTION: DETAINER D00000007 LODGED WITH NY0303000. "
        "LEAD 00000009 REFERRED TO THE ICE FIELD OFFICE."
    )
    assert [kind for kind, _, _ in answer.events] == [
        "detainer-lodged",
        "lead-referred",
        "query-answered",
    ]


def test_a_yq_on_a_cancelled_record_is_not_confirmed_and_audited() -> None:
    message = delivered(
        "YQ",
        "RTY/WP.RNO/2.PRI/U.OCA/NY-1.NIC/W000000003.NAM/WANTED, WALTER.DOB/19700707."
        "RNA/J SMITH.RAG/ALBANY PD",
        "H1",
    )
    yq = read_yq(message, NOW.date())
    assert yq is not None
    record = NcicRecord("W000000003", "CRIM_WARRANT", "VTINS07S0", None, False, None)
    answer = yq_answer(message, yq, record, cancelled=True, now=NOW, delay=DELAY)
    (reply,) = answer.replies
    assert reply.due == NOW + DELAY
    assert b".CON/N." in reply.message
    assert b"REM/SECOND REQUEST. NOT CONFIRMED: RECORD CANCELLED" in reply.message
    assert answer.writes == [
        Audit("YQ", NOW, "NY0303000", "CON/N", reference="W000000003", control="H1")
    ]


def test_an_am_is_filed_under_the_number_it_is_given() -> None:
    answer = am_answer(delivered("AM", "PLEASE CALL", "M1"), 12, NOW, "VTINS07S0")
    assert [reply.message for reply in answer.replies] == [
        b"AM.VTINS07S0.NY0303000.*M1.TXT\r\nICE LESC RECEIVED YOUR MESSAGE. INBOX NUMBER 000012."
        b"\r\nA DUTY OFFICER WILL REPLY."
    ]
    assert answer.writes == [
        Filed(12, NOW, "NY0303000", "M1", "PLEASE CALL"),
        Audit("AM", NOW, "NY0303000", "INBOX 12", reference="12", control="M1"),
    ]
