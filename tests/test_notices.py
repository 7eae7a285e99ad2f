"""ER and SM texts (PROTOCOL §2.3, §2.4) and the switch's check of each ER code."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from formats.codes import ErCode, SmCode
from formats.errors import MessageRejected
from formats.notices import (
    ErrorNotice,
    NoticeFormatError,
    StatusNotice,
    echo,
    parse_error_notice,
    parse_status_notice,
)
from nlets_sim.switch.keys import check_message
from nlets_sim.tools.lint import rejection
from tests.strategies import PRINTABLE, oris

TODAY = date(2026, 11, 23)

# The input of §2.3's example: a stolen-security YQ without RNO/, longer than the 100 bytes
# the echo keeps.
YQ_WITHOUT_RNO = (
    b"YQ.AZNLETS20.AZ0000000.TXT\r\nRTY/SS.PRI/R.OCA/10000000000.NIC/A111110000.\r\n"
    b"SER/110011001100.DEN/12345.RNA/J SMITH.RAG/AZ DPS"
)
ER_EXAMPLE = (
    b"ER.NL0000000\r\n"
    b"08:00 01/01/2010 01231\r\n"
    b"08:00 01/01/2010 01235 AZNLETS20\r\n"
    b"TXT\r\n"
    b".22. INVALID MESSAGE FORMAT - REFER TO YQ MKE OPTIONS BELOW\r\n"
    b"1. RTY, RNO, PRI, OCA, NIC, TYP, SER, RNA, RAG\r\n"
    b"ORIGINAL MESSAGE\r\n"
    b"YQ.AZNLETS20.AZ0000000.TXT\r\n"
    b"RTY/SS.PRI/R.OCA/10000000000.NIC/A111110000.\r\n"
    b"SER/110011001100.DEN/12345"
)


def test_protocol_er_example_is_reproduced_byte_for_byte() -> None:
    with pytest.raises(MessageRejected) as raised:
        check_message(YQ_WITHOUT_RNO, TODAY)
    notice = ErrorNotice(raised.value.code, raised.value.details, echo(YQ_WITHOUT_RNO), "YQ")
    assert notice.build().encode() == ER_EXAMPLE.split(b"\r\nTXT\r\n", 1)[1]
    assert parse_error_notice(notice.build()) == notice


def test_echo_keeps_100_bytes_counting_cr_lf_as_two() -> None:
    assert echo(YQ_WITHOUT_RNO) == ER_EXAMPLE.split(b"ORIGINAL MESSAGE\r\n")[1].decode()
    assert len(echo(YQ_WITHOUT_RNO)) == 100


def test_echo_shows_bytes_outside_printable_ascii_as_question_marks() -> None:
    assert echo(b"AM.\xff\x00X\r\n") == "AM.??X\r\n"


def test_status_notice_layout() -> None:
    notice = StatusNotice(SmCode.WILL_FORWARD, "NJ0000000", "AM.NY0303000.NJ0000000.TXT\r\nHI")
    text = notice.build()
    assert text == (
        ".02. USER OUT OF SERVICE FOR MSG TYPE, NLETS WILL FORWARD\r\n"
        "DESTINATION NJ0000000\r\n"
        "ORIGINAL MESSAGE\r\n"
        "AM.NY0303000.NJ0000000.TXT\r\nHI"
    )
    assert parse_status_notice(text) == notice


@pytest.mark.parametrize(
    ("code", "line"),
    [
        (SmCode.DOES_NOT_RESPOND, ".01. USER DOES NOT RESPOND TO MSG TYPE, NLETS WILL NOT FORWARD"),
        (SmCode.WILL_FORWARD, ".02. USER OUT OF SERVICE FOR MSG TYPE, NLETS WILL FORWARD"),
        (SmCode.WILL_NOT_FORWARD, ".04. USER OUT OF SERVICE FOR MSG TYPE, NLETS WILL NOT FORWARD"),
        (SmCode.EXPIRED, ".07. MESSAGE EXPIRED UNDELIVERED"),
    ],
)
def test_status_lines_are_exact(code: SmCode, line: str) -> None:
    assert code.line() == line


IAQ = (
    "IAQ.NY0303000.AX.*Q77.TXT\r\nPUR/C.ATN/DET J SMITH.PHN/5185551212.NAM/DOE, JOHN A."
    "DOB/19800115.SEX/M.POB/MX.CUS/Y.OFF/0399"
)

# One message for each ER code, with the exact error line and detail lines it gets.
TRIGGERS = [
    (
        b"\x80AM.NY0303000.NJ.TXT",
        "0 MESSAGE FORMAT/STRUCTURE ERROR",
        ("NON-ASCII BYTE AT POSITION 1",),
    ),
    (b"ZZ.NY0303000.NJ.TXT", ".01. INVALID HEADER INFORMATION", ("UNKNOWN MESSAGE KEY ZZ",)),
    (
        b"ER.NY0303000.NJ0000000.TXT",
        ".01. INVALID HEADER INFORMATION",
        ("MESSAGE KEY ER IS SENT BY NL0000000 ONLY",),
    ),
    (
        IAQ.replace(".AX.", ".NY.").encode(),
        ".02. MESSAGE TYPE NOT ALLOWED TO DESTINATION",
        ("IAQ GOES TO AX ONLY",),
    ),
    (
        b"YQ.NY0303000.AZ.TXT",
        ".02. MESSAGE TYPE NOT ALLOWED TO DESTINATION",
        ("YQ GOES TO 9-CHARACTER ORIS ONLY, NOT AZ",),
    ),
    (b"AM.NY0303000.NJ HELLO", ".03. TXT NOT FOUND OR IMPROPERLY FORMED XML", ()),
    (
        IAQ.replace("19800115", "19801332").encode(),
        ".05. DOB INVALID or MISSING",
        ("DOB/19801332",),
    ),
    (
        IAQ.replace("19800115", "20991231").encode(),
        ".05. DOB INVALID or MISSING",
        ("DOB/20991231",),
    ),
    (
        IAQ.replace("CUS/Y.", "").replace("ATN/DET J SMITH.", "").encode(),
        ".14. FIELDS MISSING",
        ("MISSING: ATN, CUS",),
    ),
    (
        IAQ.replace("CUS/Y.", "").replace("DOB/19800115.", "").encode(),
        ".14. FIELDS MISSING",
        ("MISSING: DOB, CUS",),
    ),
    (
        IAQ.replace("DET J SMITH", "").encode(),
        ".16. ATN FIELD INVALID",
        ("ATN MUST BE 1 TO 30 CHARACTERS",),
    ),
    (
        IAQ.replace("DET J SMITH", "D" * 31).encode(),
        ".16. ATN FIELD INVALID",
        ("ATN MUST BE 1 TO 30 CHARACTERS",),
    ),
    (b"AM.NY0303000.NJ,P!.TXT", ".19. INVALID DESTINATION ORIs", ("INVALID DESTINATION P!",)),
    (
        b"AM.NY0303000.NJ,PA,CT,DE,MD,VA.TXT",
        ".19. INVALID DESTINATION ORIs",
        ("TOO MANY DESTINATIONS: 6, AM ALLOWS 5",),
    ),
    (
        b"YQ.NY0303000.AZ0000000,AZ0000000.TXT",
        ".19. INVALID DESTINATION ORIs",
        ("REPEATED DESTINATION AZ0000000",),
    ),
    (
        IAQ.replace("DOB/19800115.", "").encode(),
        ".05. DOB INVALID or MISSING",
        ("MISSING: DOB",),
    ),
    (
        b"RQ.AZNLETS20.AZ.TXT\r\nLIC/123456.LIY/20X0.LIT/PC",
        ".10. A YEAR FIELD IS INVALID or MISSING",
        ("LIY/20X0",),
    ),
    (
        b"YQ.NY0303000.AZ0000000.TXT\r\nRTY/SP.RNO/1.PRI/U.OCA/1.NIC/P1.SER/X1.VYR/99.RNA/A.RAG/B",
        ".10. A YEAR FIELD IS INVALID or MISSING",
        ("VYR/99",),
    ),
    (
        b"RQ.AZNLETS20.AZ.TXT\r\nLIC/123456.LIT/PC",
        ".22. INVALID MESSAGE FORMAT - REFER TO RQ MKE OPTIONS BELOW",
        ("1. LIC, LIY, LIT",),
    ),
    (
        (IAQ + ".SEX/F").encode(),
        ".22. INVALID MESSAGE FORMAT - REFER TO IAQ MKE OPTIONS BELOW",
        ("FIELDS REPEATED: SEX", "1. PUR, ATN, PHN, NAM, DOB, SEX, POB, CUS, OFF"),
    ),
    (
        YQ_WITHOUT_RNO,
        ".22. INVALID MESSAGE FORMAT - REFER TO YQ MKE OPTIONS BELOW",
        ("1. RTY, RNO, PRI, OCA, NIC, TYP, SER, RNA, RAG",),
    ),
]


@pytest.mark.parametrize(("wire", "line", "details"), TRIGGERS)
def test_each_er_code_has_a_message_that_triggers_it(
    wire: bytes, line: str, details: tuple[str, ...]
) -> None:
    with pytest.raises(MessageRejected) as raised:
        check_message(wire, TODAY)
    assert raised.value.code.line(raised.value.mke) == line
    assert raised.value.details == details


def test_every_er_code_is_covered_by_a_trigger() -> None:
    covered = {line.split(" ")[0] for _, line, _ in TRIGGERS}
    assert covered == {code.number for code in ErCode}


def test_the_full_er_message_has_the_output_header() -> None:
    with pytest.raises(MessageRejected) as raised:
        check_message(YQ_WITHOUT_RNO, TODAY)
    wire = rejection(YQ_WITHOUT_RNO, raised.value, datetime(2010, 1, 1, 8, 0))
    assert wire == ER_EXAMPLE.replace(b"01231", b"00000").replace(b"01235", b"00000")


def test_text_that_is_not_a_notice_is_an_error() -> None:
    with pytest.raises(NoticeFormatError):
        parse_error_notice(".22. X\r\nno marker")
    with pytest.raises(NoticeFormatError):
        parse_error_notice(".99. NOT A CODE\r\nORIGINAL MESSAGE\r\nX")
    with pytest.raises(NoticeFormatError):
        parse_status_notice(".02. X\r\nORIGINAL MESSAGE\r\nX")


@given(
    st.sampled_from(list(ErCode)),
    # a detail line that is the marker itself would be ambiguous; the switch writes none
    st.lists(
        st.text(PRINTABLE, min_size=1, max_size=40).filter(lambda d: d != "ORIGINAL MESSAGE"),
        max_size=3,
    ),
    st.text(PRINTABLE + "\r\n", max_size=100),
    st.sampled_from(["AM", "IAQ", "YQ"]),
)
def test_any_error_notice_round_trips(
    code: ErCode, details: list[str], original: str, mke: str
) -> None:
    notice = ErrorNotice(code, tuple(details), original, mke if code is ErCode.FORMAT else "")
    assert parse_error_notice(notice.build()) == notice


@given(st.sampled_from(list(SmCode)), oris, st.text(PRINTABLE + "\r\n", max_size=100))
def test_any_status_notice_round_trips(code: SmCode, destination: str, original: str) -> None:
    notice = StatusNotice(code, destination, original)
    assert parse_status_notice(notice.build()) == notice
