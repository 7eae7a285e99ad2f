"""A batch of deliveries in one store transaction, each message's writes one unit: a message
that fails halfway leaves none of its writes behind, and the rest of the batch is kept."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from formats.envelope import OutputMessage
from lesc_daemon.batch import BatchAnswered, answer_batch
from lesc_daemon.ledger import Ledger
from lesc_daemon.lesc import Lesc
from lesc_daemon.rules import load_rules
from lesc_daemon.store import Store
from tests.lesc_fixtures import catalogue_store

NOW = datetime(2026, 11, 23, 9, 30)
DELAY = timedelta(seconds=90)
# DOE, JOHN A: removable, in custody: a detainer and a lead, in that order
IAQ_TEXT = (
    "PUR/C.ATN/DET J SMITH.PHN/5185551212.NAM/DOE, JOHN A.DOB/19800115.SEX/M.POB/MX.CUS/Y."
    "OFF/0399.ARN/012345678"
)
# Leads referred for NY0303000 fail inside SQLite, after the message's detainer is written.
NO_LEADS_FOR_NY = (
    "CREATE TRIGGER no_leads_for_ny BEFORE INSERT ON leads WHEN NEW.requester = 'NY0303000'"
    " BEGIN SELECT RAISE(ABORT, 'leads for NY0303000 refused'); END"
)


def delivered(mke: str, originator: str, text: str, control: str) -> OutputMessage:
    return OutputMessage(mke, originator, NOW, 1, NOW, 1, "VTINS07S0", text, control)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return catalogue_store(tmp_path / "lesc.db")


def answer(
    store: Store,
    responder: Lesc,
    ledger: Ledger,
    messages: list[OutputMessage],
    *,
    first_seq: int = 1,
    first_post_seq: int = 1,
) -> BatchAnswered:
    """The messages delivered with seqs from ``first_seq``, nothing yet acknowledged."""
    return answer_batch(
        store,
        ledger,
        responder,
        list(enumerate(messages, start=first_seq)),
        now=NOW,
        draw_delay=lambda: DELAY,
        first_post_seq=first_post_seq,
        switch_acked=first_post_seq - 1,
    )


def test_a_message_failing_halfway_leaves_none_of_its_writes_and_the_batch_keeps_the_rest(
    store: Store,
) -> None:
    store.db.execute(NO_LEADS_FOR_NY)
    ledger = Ledger(store.db, "VTINS07S0")
    responder = Lesc(store, load_rules(), frozenset({"VTINS07S0"}))
    responder.events = []
    failing = delivered("IAQ", "NY0303000", IAQ_TEXT, "Q1")
    done = answer(
        store,
        responder,
        ledger,
        [
            delivered("AM", "NJ0000000", "CALL ME", "M1"),
            failing,
            delivered("IAQ", "PA0000000", IAQ_TEXT, "Q2"),
        ],
    )

    ((message, error),) = done.failed
    assert message is failing
    assert isinstance(error, sqlite3.IntegrityError)
    assert str(error) == "leads for NY0303000 refused"
    # Nothing of the failed message: its detainer (written before the lead failed), its query
    # number, its audit row, its answer for later and its events are gone.
    assert store.detainers() == [
        (1, "T000001", "L261123000001", "PA0000000", NOW.isoformat(), "ENTERED WITHOUT INSPECTION")
    ]
    assert [row[:4] for row in store.leads()] == [(1, "T000001", "L261123000001", "PA0000000")]
    assert [(row[1], row[2], row[4], row[9]) for row in store.audit_rows()] == [
        ("AM", "1", "NJ0000000", "INBOX 1"),
        ("IAQ", "L261123000001", "PA0000000", "RM"),
    ]
    due = store.due(NOW + DELAY)
    assert [raw.split(b"\r\n", 1)[0] for _, raw in due] == [b"IAR.VTINS07S0.PA0000000.*Q2.TXT"]
    assert [(item.number, item.sender) for item in store.inbox()] == [(1, "NJ0000000")]
    assert {requester for _, requester, _ in responder.events} == {"PA"}
    assert [kind for kind, _, _ in responder.events] == [
        "detainer-lodged",
        "lead-referred",
        "query-answered",
    ]
    # The answers due now of the other two, recorded in the ledger with their seqs.
    assert done.immediate == [
        b"AM.VTINS07S0.NJ0000000.*M1.TXT\r\nICE LESC RECEIVED YOUR MESSAGE. INBOX NUMBER 000001."
        b"\r\nA DUTY OFFICER WILL REPLY.",
        b"IAR.VTINS07S0.PA0000000.*Q2.TXT\r\n"
        b"QRN/L261123000001.TYP/ACK.\r\nQUERY RECEIVED. A RESPONSE WILL FOLLOW.",
    ]
    assert ledger.pending() == list(enumerate(done.immediate, start=1))
    assert ledger.delivered() == 3
    assert [(m.originator, replies) for m, replies in done.answered] == [
        ("NJ0000000", 1),
        ("PA0000000", 2),
    ]
    assert done.scheduled == 1
    assert not store.db.in_transaction

    # The store carries on: once leads can be written, the same query is answered whole.
    store.db.execute("DROP TRIGGER no_leads_for_ny")
    again = answer(store, responder, ledger, [failing], first_seq=4, first_post_seq=3)
    assert again.failed == []
    assert ledger.delivered() == 4
    assert [seq for seq, _ in ledger.pending()] == [3]  # 1 and 2 acknowledged, settled
    assert [(row[0], row[3]) for row in store.detainers()] == [(1, "PA0000000"), (2, "NY0303000")]
    assert [(row[0], row[3]) for row in store.leads()] == [(1, "PA0000000"), (2, "NY0303000")]
