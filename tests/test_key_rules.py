"""The switch's key policy (``nlets_sim.switch.keys``) over the formats' body parsers
(``formats.keys``): one route down into formats and back, no callback from formats up."""

from __future__ import annotations

from datetime import date

import pytest

from formats import keys as bodies
from formats.codes import ErCode
from formats.envelope import InputMessage
from formats.errors import MessageRejected
from nlets_sim.switch import keys as policy

TODAY = date(2026, 1, 1)
BAD_IAQ = b"IAQ.NY0303000.AX.*Q1.TXT\r\nNOT AN IAQ"


def test_every_key_the_switch_routes_has_a_body_parser_and_no_other() -> None:
    assert tuple(policy.KEYS) == bodies.KEYS


def test_a_malformed_body_is_rejected_naming_its_key() -> None:
    with pytest.raises(MessageRejected) as caught:
        bodies.parse_body("IAQ", "NOT AN IAQ", TODAY)
    assert caught.value.mke == "IAQ"


def test_the_sender_is_authorized_before_the_body_is_parsed() -> None:
    """A sender the directory refuses hears that, not what is wrong with the body."""
    seen: list[tuple[str, str]] = []

    def refuse(message: InputMessage, rule: policy.KeyRule) -> None:
        seen.append((message.sender, rule.access))
        raise MessageRejected(ErCode.HEADER, "NOT ALLOWED")

    with pytest.raises(MessageRejected) as caught:
        policy.check_message(BAD_IAQ, TODAY, refuse)
    assert seen == [("NY0303000", "C")]
    assert caught.value.details == ("NOT ALLOWED",)
    with pytest.raises(MessageRejected) as body_fault:
        policy.check_message(BAD_IAQ, TODAY)
    assert body_fault.value.mke == "IAQ"
    assert body_fault.value.details != ("NOT ALLOWED",)
