"""The vehicle registration query body (RQ, PROTOCOL §2.5)."""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formats.codes import ErCode
from formats.dates import is_year
from formats.errors import MessageRejected, RemoteProtocolError
from formats.registration import parse_registration_query
from tests.strategies import PRINTABLE

TODAY = date(2026, 11, 23)


def test_a_complete_rq_passes_unchanged() -> None:
    text = "LIC/123456.LIY/2010.LIT/PC"
    assert parse_registration_query(text, TODAY) == text


@pytest.mark.parametrize(
    "text",
    [
        "LIC/123456.LIT/PC",  # Nlets' quoted example: no LIY
        "LIY/2010.LIT/PC",
        "LIC/123456.LIY/2010",
        "LIC/123456.LIY/2010.LIT/PC.VIN/X",
        "LIC/123456.LIY/2010.LIT/PC.LIC/9",
        "",
        "NOT FIELDS",
    ],
)
def test_any_other_field_set_is_22_listing_lic_liy_lit(text: str) -> None:
    with pytest.raises(MessageRejected) as raised:
        parse_registration_query(text, TODAY)
    assert raised.value.code is ErCode.FORMAT
    assert raised.value.mke == "RQ"
    assert raised.value.details[-1] == "1. LIC, LIY, LIT"


@pytest.mark.parametrize("year", ["20X0", "10", "201", "20100", "1899", "2100", ""])
def test_liy_that_is_not_a_year_is_10(year: str) -> None:
    with pytest.raises(MessageRejected) as raised:
        parse_registration_query(f"LIC/123456.LIY/{year}.LIT/PC", TODAY)
    assert (raised.value.code, raised.value.details) == (ErCode.YEAR, (f"LIY/{year}",))


@given(st.integers(1900, 2099))
def test_every_four_digit_year_from_1900_to_2099_is_a_year(year: int) -> None:
    assert is_year(str(year))


@given(st.text(PRINTABLE + "\r\n", max_size=60))
def test_arbitrary_text_into_the_rq_parser_raises_only_remote_errors(text: str) -> None:
    with contextlib.suppress(RemoteProtocolError):
        parse_registration_query(text, TODAY)
