"""Tagged fields (PROTOCOL §1.3)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formats.errors import LocalProtocolError
from formats.tagged import TaggedFieldsError, build_fields, parse_fields
from tests.strategies import LETTERS, field_values


def test_logon_example_parses_and_builds_back() -> None:
    text = "ORI/NY0303000.KEY/S3CRET.RST/Y"
    fields = (("ORI", "NY0303000"), ("KEY", "S3CRET"), ("RST", "Y"))
    assert parse_fields(text) == fields
    assert build_fields(fields) == text


def test_last_period_is_optional_and_cr_lf_between_fields_is_ignored() -> None:
    assert parse_fields("RTY/SS.PRI/R.\r\nSER/1100.\r\n") == (
        ("RTY", "SS"),
        ("PRI", "R"),
        ("SER", "1100"),
    )


def test_a_value_may_hold_periods_not_followed_by_a_prefix() -> None:
    assert parse_fields("NAM/DOE, J.R..DOB/19800115") == (("NAM", "DOE, J.R."), ("DOB", "19800115"))


def test_remarks_run_to_the_end_whatever_they_hold() -> None:
    assert parse_fields("PUR/C.REM/SEE ABC/123. AND\r\nMORE.") == (
        ("PUR", "C"),
        ("REM", "SEE ABC/123. AND\r\nMORE"),
    )


def test_empty_text_has_no_fields() -> None:
    assert parse_fields("\r\n") == ()


@pytest.mark.parametrize("text", ["HELLO", "AB/C", "\r\nX"])
def test_text_that_is_not_fields_is_an_error_naming_where(text: str) -> None:
    with pytest.raises(TaggedFieldsError, match="FIELD PREFIX EXPECTED"):
        parse_fields(text)


def test_building_a_bad_prefix_is_a_local_error() -> None:
    with pytest.raises(LocalProtocolError):
        build_fields([("ab", "x")])


@given(
    st.lists(st.tuples(st.text(LETTERS, min_size=3, max_size=3), field_values), max_size=8),
    st.booleans(),
)
def test_fields_round_trip(fields: list[tuple[str, str]], final_period: bool) -> None:
    fields = [(tag, value) for tag, value in fields if tag != "REM"]
    text = build_fields(fields, final_period=final_period)
    assert parse_fields(text) == tuple(fields)


def _split_by_pieces(text: str, free_text: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """The rule of §1.3 as first written, piece by piece: the reference ``parse_fields``'s
    faster split must agree with."""
    text = text.lstrip("\r\n")
    tags = "|".join(sorted(free_text)) or "(?!)"
    free = re.search(rf"(?:^|\.[\r\n]*)(?=(?:{tags})/)", text)
    head, tail = (text[: free.start()], text[free.end() :]) if free else (text, "")
    pieces = re.split(r"\.[\r\n]*(?=[A-Z]{3}/)", head) if head else []
    if tail:
        pieces.append(tail)
    if not pieces:
        return ()
    pieces[-1] = pieces[-1].rstrip("\r\n").removesuffix(".")
    for piece in pieces:
        if not re.match(r"[A-Z]{3}/", piece):
            raise TaggedFieldsError(f"FIELD PREFIX EXPECTED AT {piece[:20]!r}")
    return tuple((piece[:3], piece[4:]) for piece in pieces)


# text made of the pieces that matter to the split: prefixes, periods, line ends, slashes
_FIELDISH = st.lists(
    st.sampled_from(["PUR/", "REM/", "NAM/", "AB/", "ab/", ".", "\r", "\n", "/", "X", "9", " "]),
    max_size=20,
).map("".join)


@given(_FIELDISH | st.text(max_size=40), st.sampled_from([(), ("REM",), ("REM", "NAM")]))
def test_parse_fields_agrees_with_the_piece_by_piece_rule(text: str, free: tuple[str, ...]) -> None:
    try:
        expected: object = _split_by_pieces(text, frozenset(free))
    except TaggedFieldsError as error:
        expected = str(error)
    try:
        got: object = parse_fields(text, free_text=free)
    except TaggedFieldsError as error:
        got = str(error)
    assert got == expected
