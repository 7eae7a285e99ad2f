"""The responder: a delivered message in, the LESC's messages out with their due times."""

from __future__ import annotations

import random
import statistics
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from formats.envelope import OutputMessage, parse_input
from formats.hit_confirmation import parse_hit_confirmation
from formats.iar import parse_iar
from lesc_daemon.delays import Delay, parse_delay
from lesc_daemon.lesc import Lesc
from lesc_daemon.rules import load_rules
from tests.lesc_fixtures import catalogue_store

NOW = datetime(2026, 11, 23, 9, 30)
DELAY = timedelta(seconds=1.5)
IAQ_TEXT = (
    "PUR/C.ATN/DET J SMITH.PHN/5185551212.NAM/DOE, JOHN A.DOB/19800115.SEX/M.POB/MX.CUS/Y."
    "OFF/0399.ARN/012345678"
)


@pytest.fixture
def responder(tmp_path: Path) -> Lesc:
    return Lesc(
        catalogue_store(tmp_path / "lesc.db"), load_rules(), frozenset({"VTINS07S0", "VTICE0900"})
    )


def delivered(
    mke: str,
    text: str,
    *,
    to: str = "VTINS07S0",
    control: str | None = "Q77",
    originator: str = "NY0303000",
    received: datetime = NOW,
) -> OutputMessage:
    return OutputMessage(mke, originator, received, 1, received, 1, to, text, control)


def test_iaq_gets_ack_at_once_then_response_after_the_delay(responder: Lesc) -> None:
    ack, response = responder.handle(delivered("IAQ", IAQ_TEXT), NOW, DELAY)
    assert ack.due == NOW
    assert ack.message == (
        b"IAR.VTINS07S0.NY0303000.*Q77.TXT\r\n"
        b"QRN/L261123000001.TYP/ACK.\r\nQUERY RECEIVED. A RESPONSE WILL FOLLOW."
    )
    assert response.due == NOW + DELAY
    message = parse_input(response.message)
    assert (message.mke, message.destinations, message.control) == ("IAR", ("NY0303000",), "Q77")
    iar = parse_iar(message.text)
    assert (iar.qrn, iar.typ.value, iar.res and iar.res.value) == ("L261123000001", "RSP", "RM")
    assert iar.lines[1] == "SUBJECT: DOE, JOHN A DOB 01/15/1980 SEX M POB MX"


def test_query_numbers_are_unique_per_day(responder: Lesc) -> None:
    first = responder.handle(delivered("IAQ", IAQ_TEXT), NOW, DELAY)[0]
    second = responder.handle(delivered("IAQ", IAQ_TEXT), NOW, DELAY)[0]
    next_day = responder.handle(delivered("IAQ", IAQ_TEXT), NOW + timedelta(days=1), DELAY)[0]
    numbers = [parse_iar(parse_input(r.message).text).qrn for r in (first, second, next_day)]
    assert numbers == ["L261123000001", "L261123000002", "L261124000001"]


def test_content_the_switch_does_not_check_gets_typ_rej(responder: Lesc) -> None:
    text = IAQ_TEXT.replace("POB/MX", "POB/ZZ").replace("OFF/0399", "OFF/9999")
    ack, rejection = responder.handle(delivered("IAQ", text), NOW, DELAY)
    assert parse_iar(parse_input(ack.message).text).typ.value == "ACK"
    assert rejection.due == NOW
    assert parse_input(rejection.message).text == (
        "QRN/L261123000001.TYP/REJ.\r\nQUERY CANNOT BE PROCESSED:\r\n"
        "POB/ZZ IS NOT AN NCIC PLACE OF BIRTH CODE\r\nOFF/9999 IS NOT AN NCIC OFFENSE CODE"
    )


def yq(nic: str, *, pri: str = "U", rno: str = "1") -> str:
    return (
        f"RTY/WP.RNO/{rno}.PRI/{pri}.OCA/NY-1.NIC/{nic}.NAM/WANTED, WALTER.DOB/19700707."
        "RNA/J SMITH.RAG/ALBANY PD"
    )


def yr_fields(message: bytes) -> dict[str, str]:
    parsed = parse_hit_confirmation("YR", parse_input(message).text, NOW.date())
    return dict(parsed.fields)


def test_yq_for_an_active_record_is_confirmed_inside_the_window(responder: Lesc) -> None:
    (answer,) = responder.handle(delivered("YQ", yq("W000000001")), NOW, DELAY)
    assert answer.due == NOW + DELAY
    assert parse_input(answer.message).header() == "YR.VTINS07S0.NY0303000.*Q77.TXT"
    fields = yr_fields(answer.message)
    assert (fields["CON"], fields["NIC"], fields["OCA"]) == ("Y", "W000000001", "NY-1")
    assert fields["REM"] == "CONFIRMED: ADMINISTRATIVE WARRANT ORI/VTINS07S0"


def test_yq_answer_never_later_than_the_window(responder: Lesc) -> None:
    received = NOW - timedelta(minutes=9, seconds=30)  # urgent: 10 minutes from receipt
    (answer,) = responder.handle(
        delivered("YQ", yq("W000000001"), received=received), NOW, timedelta(minutes=5)
    )
    assert answer.due == NOW  # the deadline has nearly passed: at once


def test_yq_for_a_cleared_or_unknown_record_is_not_confirmed(responder: Lesc) -> None:
    for nic, remark in (("W000000003", "RECORD CLEARED"), ("W999999999", "NO SUCH ICE RECORD")):
        (answer,) = responder.handle(delivered("YQ", yq(nic, rno="2")), NOW, DELAY)
        fields = yr_fields(answer.message)
        assert fields["CON"] == "N"
        assert fields["REM"] == f"SECOND REQUEST. NOT CONFIRMED: {remark}"


def test_absconder_is_pending_with_cbt_then_confirmed(responder: Lesc) -> None:
    pending, confirmed = responder.handle(
        delivered("YQ", yq("W000000002", pri="R"), to="VTICE0900"), NOW, DELAY
    )
    assert yr_fields(pending.message)["CON"] == "P"
    assert yr_fields(pending.message)["CBT"] == "1030"  # routine: one hour from receipt
    assert yr_fields(confirmed.message)["CON"] == "Y"
    assert pending.due == NOW + DELAY
    assert confirmed.due == NOW + timedelta(minutes=59)
    assert parse_input(confirmed.message).sender == "VTICE0900"


def test_am_is_filed_in_the_inbox_with_a_reply(responder: Lesc) -> None:
    (reply,) = responder.handle(delivered("AM", "PLEASE CALL", control="M1"), NOW, DELAY)
    assert reply.message == (
        b"AM.VTINS07S0.NY0303000.*M1.TXT\r\nICE LESC RECEIVED YOUR MESSAGE. INBOX NUMBER 000001."
        b"\r\nA DUTY OFFICER WILL REPLY."
    )
    (item,) = responder.store.inbox()
    assert (item.sender, item.text) == ("NY0303000", "PLEASE CALL")


@pytest.mark.parametrize(
    "message",
    [
        delivered("AM", "HELP FILE TEXT", originator="AXADMHELP"),
        delivered("SM", "STATUS", originator="NL0000000"),
        delivered("YQ", yq("W000000001"), to="NY0010000"),
        delivered("AM", "MY OWN", originator="VTICE0900"),
    ],
)
def test_messages_the_lesc_does_not_answer(responder: Lesc, message: OutputMessage) -> None:
    assert responder.handle(message, NOW, DELAY) == []
    assert responder.store.inbox() == []


@pytest.mark.parametrize(
    ("text", "delay"),
    [
        ("1.5", Delay("uniform", 1.5, 1.5)),
        ("0-2", Delay("uniform", 0.0, 2.0)),
        ("lognormal:0,0.5", Delay("lognormal", 0.0, 0.5)),
    ],
)
def test_delay_distributions(text: str, delay: Delay) -> None:
    assert parse_delay(text) == delay
    draws = [delay.draw(random.Random(seed)) for seed in range(200)]
    assert all(draw >= 0 for draw in draws)
    if delay.kind == "uniform":
        assert all(delay.first <= draw <= delay.second for draw in draws)
    else:
        assert 0.7 < statistics.median(draws) < 1.4  # e**0 = 1


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("soon", "expected SECONDS, MIN-MAX or lognormal:MU,SIGMA"),
        ("3-1", "0 <= MIN <= MAX"),
        ("lognormal:0,-1", "SIGMA is not negative"),
        ("lognormal:1", "expected SECONDS"),
    ],
)
def test_bad_delays_are_refused(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_delay(text)
