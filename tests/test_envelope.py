"""Input and output envelopes (PROTOCOL §2.1, §2.2) and the header errors of §2.3."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from formats.codes import ErCode
from formats.envelope import (
    ORI_PATTERN,
    InputMessage,
    OutputMessage,
    _parse_input_slowly,
    next_counter,
    normalize_line_ends,
    parse_input,
    parse_output,
    peek_header,
)
from formats.errors import LocalProtocolError, MessageRejected, RemoteProtocolError
from tests.strategies import controls, counters, destinations, message_texts, minutes, mkes, oris

INPUT_GOLDEN = [
    (b"RQ.AZNLETS20.AZ.TXT", InputMessage("RQ", "AZNLETS20", ("AZ",), "", None, False)),
    (
        b"YQ.AZNLETS20.AZ0000000.TXT",
        InputMessage("YQ", "AZNLETS20", ("AZ0000000",), "", None, False),
    ),
    (
        b"AM.AZNLETS20.NLNLEUPDT.TXT",
        InputMessage("AM", "AZNLETS20", ("NLNLEUPDT",), "", None, False),
    ),
    (
        b"AM.NY0303000.NJ,PA,CT.*B1234.TXT",
        InputMessage("AM", "NY0303000", ("NJ", "PA", "CT"), "", "B1234", False),
    ),
    (b"IAQ.NY0303000.AX.*Q77.TXT", InputMessage("IAQ", "NY0303000", ("AX",), "", "Q77", False)),
    (
        b"IAQ.NY0303000.AX.*Q77.TXT\r\nPUR/C.ATN/DET J SMITH.PHN/5185551212.NAM/DOE, JOHN A."
        b"DOB/19800115.SEX/M.POB/MX.CUS/Y.OFF/0399.ARN/012345678",
        InputMessage(
            "IAQ",
            "NY0303000",
            ("AX",),
            "PUR/C.ATN/DET J SMITH.PHN/5185551212.NAM/DOE, JOHN A.DOB/19800115.SEX/M.POB/MX."
            "CUS/Y.OFF/0399.ARN/012345678",
            "Q77",
            True,
        ),
    ),
]


@pytest.mark.parametrize(("wire", "message"), INPUT_GOLDEN)
def test_protocol_input_examples_parse_and_build_back(wire: bytes, message: InputMessage) -> None:
    assert parse_input(wire) == message
    assert message.build() == wire


def test_lf_after_txt_and_bare_lf_in_text_become_cr_lf() -> None:
    message = parse_input(b"AM.NY0303000.NJ.TXT\nLINE 1\nLINE 2\r\nLINE 3")
    assert message.text == "LINE 1\r\nLINE 2\r\nLINE 3"
    assert message.crlf_after_txt


def test_text_may_follow_txt_directly() -> None:
    assert parse_input(b"AM.NY0303000.NJ.TXTHELLO").text == "HELLO"


def test_a_lone_cr_after_txt_is_the_optional_cr_not_text() -> None:
    """§2.1: after TXT an optional CR, LF, DEL; a CR alone ends the header line too, so the
    delivered text does not start with a bare CR."""
    message = parse_input(b"AM.NY0303000.NJ.TXT\rHELLO\r\nWORLD")
    assert message.text == "HELLO\r\nWORLD"
    assert message.crlf_after_txt


def test_an_ori_starting_with_txt_is_a_destination_not_the_end_of_the_header() -> None:
    message = parse_input(b"AM.NY0303000.TXT000000.TXT\r\nHI")
    assert message.destinations == ("TXT000000",)
    assert message.text == "HI"


HELP_EXAMPLE = (
    b"AM.NLNLEHELP\r\n10:01 08/22/2011 35048\r\n10:01 08/22/2011 08374 AZNLETS20\r\nTXT\r\n"
    b"NEW HELP MESSAGE"
)


def test_protocol_output_example_builds_exactly_and_parses_back() -> None:
    message = OutputMessage(
        mke="AM",
        originator="NLNLEHELP",
        received_at=datetime(2011, 8, 22, 10, 1),
        input_number=35048,
        sent_at=datetime(2011, 8, 22, 10, 1),
        output_number=8374,
        destination="AZNLETS20",
        text="NEW HELP MESSAGE",
    )
    assert message.build() == HELP_EXAMPLE
    assert parse_output(HELP_EXAMPLE) == message


def test_output_header_ends_line_one_with_the_control_field() -> None:
    message = OutputMessage(
        "IAR",
        "VTINS07S0",
        datetime(2026, 1, 1, 8, 0),
        1,
        datetime(2026, 1, 1, 8, 2),
        7,
        "NY0303000",
        "QRN/L260101000001.TYP/ACK.",
        "Q77",
    )
    assert message.build() == (
        b"IAR.VTINS07S0.*Q77\r\n08:00 01/01/2026 00001\r\n08:02 01/01/2026 00007 NY0303000\r\n"
        b"TXT\r\nQRN/L260101000001.TYP/ACK."
    )


def test_counters_wrap_from_99999_to_00001() -> None:
    assert next_counter(0) == 1
    assert next_counter(41) == 42
    assert next_counter(99_999) == 1


@pytest.mark.parametrize(
    ("wire", "code", "detail"),
    [
        (b"\xffAM.NY0303000.NJ.TXT", ErCode.STRUCTURE, "NON-ASCII BYTE AT POSITION 1"),
        (b"AM.NY0303000.NJ.TXT\x07", ErCode.STRUCTURE, "CONTROL CHARACTER AT POSITION 20"),
        (b"HELLO WORLD", ErCode.STRUCTURE, "NO MESSAGE HEADER"),
        (b"AM.NY0303000.NJ\r\nHELLO", ErCode.NO_TXT, None),
        (b"AM.NY0303000.NJ HELLO.TX", ErCode.NO_TXT, None),
        (b"A1.NY0303000.NJ.TXT", ErCode.HEADER, "INVALID MESSAGE KEY A1"),
        (b"AM.NY0303000.TXT", ErCode.HEADER, "HEADER MUST BE MKE.ORI.DESTINATION[.*CONTROL].TXT"),
        (b"AM.NY03030.NJ.TXT", ErCode.HEADER, "INVALID SENDER ORI NY03030"),
        (b"AM.NY0303000.NJ.B1.TXT", ErCode.HEADER, "INVALID CONTROL FIELD B1"),
        (b"AM.NY0303000.NJ.*ABCDEFGHIJK.TXT", ErCode.HEADER, "INVALID CONTROL FIELD *ABCDEFGHIJK"),
        (b"AM.NY0303000.NJ.*B1.X.TXT", ErCode.HEADER, "UNEXPECTED HEADER FIELD X"),
        (b"AM.NY0303000.NJ,PAX.TXT", ErCode.DESTINATION_INVALID, "INVALID DESTINATION PAX"),
        (b"AM.NY0303000.NJ,.TXT", ErCode.DESTINATION_INVALID, "INVALID DESTINATION "),
    ],
)
def test_bad_input_headers_get_their_er_code(wire: bytes, code: ErCode, detail: str | None) -> None:
    with pytest.raises(MessageRejected) as raised:
        parse_input(wire)
    assert raised.value.code is code
    assert raised.value.details == ((detail,) if detail is not None else ())


def test_building_a_bad_envelope_is_a_local_error() -> None:
    with pytest.raises(LocalProtocolError):
        InputMessage("AM", "SHORT", ("NJ",), "").build()
    for bad in [(), ("NJ,NY",), ("NJ", "")]:
        with pytest.raises(LocalProtocolError, match="bad destinations"):
            InputMessage("AM", "NY0303000", bad, "").build()
    with pytest.raises(LocalProtocolError, match="bad control field"):
        InputMessage("AM", "NY0303000", ("NJ",), "", control="").build()
    with pytest.raises(LocalProtocolError):
        OutputMessage(
            "AM",
            "NL0000000",
            datetime(2026, 1, 1),
            100_000,
            datetime(2026, 1, 1),
            1,
            "NY0303000",
            "",
        ).build()


@given(
    mkes,
    oris,
    st.lists(destinations, min_size=1, max_size=5),
    message_texts,
    controls,
    st.booleans(),
)
def test_any_input_message_round_trips(
    mke: str, sender: str, dests: list[str], text: str, control: str | None, crlf: bool
) -> None:
    assume(crlf or not text.startswith("\r\n"))  # else the CR LF reads as the optional one
    message = InputMessage(mke, sender, tuple(dests), text, control, crlf)
    assert parse_input(message.build()) == message


@given(mkes, oris, minutes, counters, minutes, counters, oris, message_texts, controls)
def test_any_output_message_round_trips(
    mke: str,
    originator: str,
    received: datetime,
    number_in: int,
    sent: datetime,
    number_out: int,
    destination: str,
    text: str,
    control: str | None,
) -> None:
    message = OutputMessage(
        mke, originator, received, number_in, sent, number_out, destination, text, control
    )
    assert parse_output(message.build()) == message


@given(st.binary(max_size=300))
def test_arbitrary_bytes_into_the_envelope_parser_raise_only_remote_errors(data: bytes) -> None:
    for parse in (parse_input, parse_output):
        with contextlib.suppress(RemoteProtocolError):
            parse(data)


@given(st.binary(max_size=120))
def test_peek_header_reads_what_it_can_and_never_raises(raw: bytes) -> None:
    sender, control = peek_header(raw)
    assert sender is None or ORI_PATTERN.fullmatch(sender)
    assert control is None or sender is not None


def test_peek_header_agrees_with_the_parser_and_survives_a_bad_body() -> None:
    assert peek_header(b"AM.NY0303000.NJ,PA.*B1234.TXT\r\nX") == ("NY0303000", "B1234")
    assert peek_header(b"IAQ.NY0303000.NY.TXT\r\nPUR/C") == ("NY0303000", None)
    assert peek_header(b"AM.NY0303000.NJ\r\nno TXT") == ("NY0303000", None)
    assert peek_header(b"HELLO") == (None, None)


@given(st.text("A\r\n", max_size=30))
def test_bare_line_feeds_become_cr_lf_and_nothing_else_changes(text: str) -> None:
    normalized = normalize_line_ends(text)
    # every LF has its CR, and taking the CRs added back out gives the text again
    assert normalized.count("\n") == normalized.count("\r\n")
    assert normalized.replace("\r\n", "\n") == text.replace("\r\n", "\n")
    assert normalized.count("\r") == text.count("\r") + text.count("\n") - text.count("\r\n")


@given(
    mkes,
    oris,
    st.lists(destinations, min_size=1, max_size=5),
    message_texts,
    controls,
    st.sampled_from([b"\r\n\x7f", b"\n\x7f", b"\x7f", b"\r\x7f"]),
)
def test_a_del_after_txt_is_dropped_and_the_message_reads_as_without_it(
    mke: str, sender: str, dests: list[str], text: str, control: str | None, after: bytes
) -> None:
    """§2.1: Nlets' CR, LF, DEL after TXT: the text starts after the DEL."""
    header = InputMessage(mke, sender, tuple(dests), "", control, crlf_after_txt=False).build()
    parsed = parse_input(header + after + text.encode())
    assert parsed.text == text
    assert (parsed.mke, parsed.sender, parsed.destinations, parsed.control) == (
        mke,
        sender,
        tuple(dests),
        control,
    )


@given(message_texts, st.integers(0, 40))
def test_a_del_anywhere_else_is_er_0_at_its_position(text: str, at: int) -> None:
    raw = b"AM.NY0303000.NJ.TXT\r\n" + text.encode()
    at = min(at, len(raw))
    assume(at not in (19, 20, 21))  # after TXT, TXT CR, TXT CR LF: where a DEL may be
    with pytest.raises(MessageRejected) as raised:
        parse_input(raw[:at] + b"\x7f" + raw[at:])
    assert raised.value.code is ErCode.STRUCTURE
    assert raised.value.details == (f"CONTROL CHARACTER AT POSITION {at + 1}",)


_HEADERISH = st.lists(
    st.sampled_from(
        ["AM", "IAQ", "X", ".", "NY0303000", "NJ", ",", "*", "B1", "TXT", "\r", "\n", "a", " "]
    ),
    max_size=14,
).map("".join)


@given(_HEADERISH, st.sampled_from(["", "\r\n", "\r", "\n", "HELLO", "\r\nA\nB"]))
def test_the_one_match_header_path_agrees_with_the_field_by_field_one(
    header: str, after: str
) -> None:
    text = header + after

    def outcome(parse: Callable[[], InputMessage]) -> object:
        try:
            return parse()
        except MessageRejected as rejected:
            return (rejected.code, rejected.details)

    assert outcome(lambda: parse_input(text.encode("ascii"))) == outcome(
        lambda: _parse_input_slowly(text)
    )
