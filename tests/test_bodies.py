"""IAQ, IAR, YQ and YR bodies (PROTOCOL §3)."""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from formats.codes import ErCode
from formats.dates import parse_dob, slash_date
from formats.errors import LocalProtocolError, MessageRejected, RemoteProtocolError
from formats.hit_confirmation import parse_hit_confirmation
from formats.iaq import Iaq, content_problems, parse_iaq
from formats.iar import Firearms, Iar, IarFormatError, IarType, Result, parse_iar
from formats.ncic import offense_codes, place_of_birth_codes, sex_codes
from formats.tagged import build_fields
from tests.strategies import PRINTABLE

TODAY = date(2026, 11, 23)
IAQ_EXAMPLE = (
    "PUR/C.ATN/DET J SMITH.PHN/5185551212.NAM/DOE, JOHN A.DOB/19800115.SEX/M.POB/MX.CUS/Y."
    "OFF/0399.ARN/012345678"
)
IAQ_OBJECT = Iaq(
    pur="C",
    atn="DET J SMITH",
    phn="5185551212",
    nam="DOE, JOHN A",
    dob="19800115",
    sex="M",
    pob="MX",
    cus="Y",
    off="0399",
    arn="012345678",
)


def test_protocol_iaq_example_parses_and_builds_back() -> None:
    iaq = parse_iaq(IAQ_EXAMPLE, TODAY)
    assert iaq == IAQ_OBJECT
    assert iaq.build() == IAQ_EXAMPLE
    assert (iaq.surname, iaq.given_names) == ("DOE", "JOHN A")
    assert iaq.birth_date(TODAY) == date(1980, 1, 15)
    assert content_problems(iaq) == ()


def test_iaq_fields_in_any_order_and_remarks_to_the_end() -> None:
    text = "REM/STOPPED AT I-87. NO ID.\r\nSAYS BORN IN MX."
    reordered = "OFF/0399.CUS/N.POB/MX.SEX/M.DOB/011580.NAM/DOE, JOHN.PHN/5185551212.ATN/X.PUR/F."
    iaq = parse_iaq(reordered + text, TODAY)
    assert iaq.rem == "STOPPED AT I-87. NO ID.\r\nSAYS BORN IN MX"
    assert iaq.birth_date(TODAY) == date(1980, 1, 15)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("011580", date(1980, 1, 15)),
        ("011525", date(2025, 1, 15)),
        ("112326", date(2026, 11, 23)),
        ("112426", date(1926, 11, 24)),
        ("20261123", date(2026, 11, 23)),
        ("20261124", None),
        ("19800230", None),
        ("1980011", None),
        ("ABCDEF", None),
    ],
)
def test_dob_forms_and_the_not_in_the_future_rule(value: str, expected: date | None) -> None:
    assert parse_dob(value, TODAY) == expected


@given(st.dates(date(1000, 1, 1)))
def test_slash_date_is_mm_dd_ccyy(day: date) -> None:
    assert slash_date(day) == day.strftime("%m/%d/%Y")


def test_iaq_fields_not_listed_in_3_1_are_passed_not_refused() -> None:
    iaq = parse_iaq(IAQ_EXAMPLE + ".DLS/NY.XYZ/1", TODAY)
    assert iaq == IAQ_OBJECT


def test_iaq_without_dob_is_05_and_with_other_fields_missing_14() -> None:
    with pytest.raises(MessageRejected) as raised:
        parse_iaq(IAQ_EXAMPLE.replace("DOB/19800115.", ""), TODAY)
    assert (raised.value.code, raised.value.details) == (ErCode.DOB, ("MISSING: DOB",))
    with pytest.raises(MessageRejected) as raised:
        parse_iaq(IAQ_EXAMPLE.replace("DOB/19800115.", "").replace("SEX/M.", ""), TODAY)
    assert raised.value.code is ErCode.FIELDS_MISSING


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("PUR/C", "PUR/X"), "PUR/X MUST BE C OR F"),
        (
            ("PHN/5185551212", "PHN/555-1212"),
            "PHN/555-1212 MUST BE 10 TO 20 CHARACTERS WITH 10 DIGITS",
        ),
        (
            ("NAM/DOE, JOHN A", "NAM/DOE JOHN"),
            "NAM/DOE JOHN MUST BE LAST, FIRST MIDDLE IN 30 CHARACTERS",
        ),
        (("SEX/M", "SEX/X"), "SEX/X IS NOT AN NCIC SEX CODE"),
        (("POB/MX", "POB/ZZ"), "POB/ZZ IS NOT AN NCIC PLACE OF BIRTH CODE"),
        (("CUS/Y", "CUS/MAYBE"), "CUS/MAYBE MUST BE Y OR N"),
        (("OFF/0399", "OFF/0398"), "OFF/0398 IS NOT AN NCIC OFFENSE CODE"),
        (("OFF/0399", "OFF/39"), "OFF/39 IS NOT AN NCIC OFFENSE CODE"),
        (("ARN/012345678", "ARN/12AB"), "ARN/12AB MUST BE 8 OR 9 DIGITS"),
        (("ARN/012345678", "FBI/1234567890"), "FBI/1234567890 MUST BE 1 TO 9 LETTERS OR DIGITS"),
        (("ARN/012345678", "SOC/12345"), "SOC/12345 MUST BE 9 DIGITS"),
    ],
)
def test_lesc_content_problems_name_the_field(change: tuple[str, str], problem: str) -> None:
    iaq = parse_iaq(IAQ_EXAMPLE.replace(*change), TODAY)
    assert content_problems(iaq) == (problem,)


def test_code_tables_are_shipped_as_package_data() -> None:
    assert offense_codes()["0399"] == "IMMIGRATION"
    assert place_of_birth_codes()["MX"] == "MEXICO (STATE AND MEXICO CITY)"
    assert set(sex_codes()) == {"M", "F", "U"}
    assert len(offense_codes()) == 464
    assert len(place_of_birth_codes()) == 379


codes = st.sampled_from
iaqs = st.builds(
    Iaq,
    pur=codes(["C", "F"]),
    atn=st.text("ABCDEFGHIJ XYZ", min_size=1, max_size=30).filter(lambda s: s.strip() == s),
    phn=st.text("0123456789", min_size=10, max_size=10),
    nam=st.from_regex(r"[A-Z]{1,12}, [A-Z]{1,10}", fullmatch=True),
    dob=st.dates(date(1900, 1, 1), TODAY).map(lambda d: d.strftime("%Y%m%d")),
    sex=codes(["M", "F", "U"]),
    pob=codes(sorted(place_of_birth_codes())),
    cus=codes(["Y", "N"]),
    off=codes(sorted(offense_codes())),
    arn=st.none() | st.from_regex(r"\d{8,9}", fullmatch=True),
    fbi=st.none() | st.from_regex(r"[A-Z0-9]{1,9}", fullmatch=True),
    soc=st.none() | st.from_regex(r"\d{9}", fullmatch=True),
    rem=st.none() | st.text(PRINTABLE, min_size=1, max_size=40).filter(lambda s: s.strip(".") == s),
)


@given(iaqs)
def test_any_valid_iaq_round_trips_and_passes_the_lesc_checks(iaq: Iaq) -> None:
    assert parse_iaq(iaq.build(), TODAY) == iaq
    assert content_problems(iaq) == ()


@given(st.text(PRINTABLE + "\r\n", max_size=200))
def test_arbitrary_text_into_the_iaq_parser_raises_only_remote_errors(text: str) -> None:
    with contextlib.suppress(RemoteProtocolError):
        parse_iaq(text, TODAY)


# IAR -------------------------------------------------------------------------------------


def test_iar_acknowledgement_and_response_layout() -> None:
    ack = Iar("L261123000001", IarType.ACK, ("QUERY RECEIVED. A RESPONSE FOLLOWS.",))
    assert ack.build() == "QRN/L261123000001.TYP/ACK.\r\nQUERY RECEIVED. A RESPONSE FOLLOWS."
    rsp = Iar("L261123000001", IarType.RSP, ("SUBJECT: DOE, JOHN A",), Result.RM, Firearms.P1)
    assert rsp.build() == "QRN/L261123000001.TYP/RSP.RES/RM.FAP/P1.\r\nSUBJECT: DOE, JOHN A"
    assert parse_iar(rsp.build()) == rsp
    assert parse_iar(ack.build()) == ack


@pytest.mark.parametrize(
    "iar",
    [
        Iar("X1", IarType.ACK),
        Iar("L261123000001", IarType.ACK, res=Result.NR),
        Iar("L261123000001", IarType.RSP),
        Iar("L261123000001", IarType.REJ, fap=Firearms.UD),
    ],
)
def test_building_an_inconsistent_iar_is_a_local_error(iar: Iar) -> None:
    with pytest.raises(LocalProtocolError):
        iar.build()


@pytest.mark.parametrize(
    "text", ["HELLO", "QRN/L261123000001.TYP/XXX.", "QRN/L1.TYP/ACK.", "QRN/L261123000001.ZZZ/1."]
)
def test_text_that_is_not_an_iar_is_an_error(text: str) -> None:
    with pytest.raises(IarFormatError):
        parse_iar(text)


@given(
    st.from_regex(r"L\d{12}", fullmatch=True),
    st.sampled_from(list(IarType)),
    st.lists(st.text(PRINTABLE, max_size=50), max_size=4),
    st.sampled_from(list(Result)),
    st.none() | st.sampled_from(list(Firearms)),
)
def test_any_iar_round_trips(
    qrn: str, typ: IarType, lines: list[str], res: Result, fap: Firearms | None
) -> None:
    assume(lines != [""])
    iar = Iar(
        qrn,
        typ,
        tuple(lines),
        res if typ is IarType.RSP else None,
        fap if typ is IarType.RSP else None,
    )
    assert parse_iar(iar.build()) == iar


# YQ / YR ---------------------------------------------------------------------------------

YQ_WP = (
    "RTY/WP.RNO/1.PRI/U.OCA/AZ12345.NIC/W123456789.NAM/DOE, JOHN.DOB/19800115."
    "RNA/J SMITH.RAG/AZ DPS"
)


def test_wanted_person_yq_parses_and_builds_back() -> None:
    yq = parse_hit_confirmation("YQ", YQ_WP, TODAY)
    assert yq.build() == YQ_WP
    assert yq.request_type.code == "WP"
    assert yq.window_s == 600
    assert yq.value("NIC") == "W123456789"
    assert yq.get("SEX") is None


def test_optional_fields_of_the_type_and_phone_and_remarks_are_accepted() -> None:
    text = YQ_WP + ".SEX/M.PHO/6025551212.REM/HELD AT DESK. CALL."
    assert parse_hit_confirmation("YQ", text, TODAY).get("REM") == "HELD AT DESK. CALL"


YQ_COMMON = "RNO/1.PRI/R.OCA/OCA1.NIC/N123456789"


@pytest.mark.parametrize(
    ("rty", "data"),
    [
        ("SV", "VIN/1HGCM82633A004352.VYR/2003.VMA/HOND"),
        ("SV", "LIC/ABC123.LIY/2026.LIT/PC"),
        ("WP", "NAM/DOE, JOHN.DOB/19800115.SEX/M"),
        ("PO", "NAM/DOE, JANE.DOB/19850202"),
        ("MP", "NAM/DOE, JUNE.DOB/20100303.SEX/F"),
        ("SL", "LIC/ABC123.LIS/AZ.LIY/2026.LIT/PC"),
        ("SG", "SER/G12345.MAK/COLT.CAL/45"),
        ("SA", "TYP/TELEVIS.SER/TV991"),
        ("SS", "TYP/CD.SER/110011001100.DEN/123456789"),
        ("SB", "REG/AZ1234AB"),
        ("SP", "SER/ENG778.VMA/FORD.VYR/1999"),
    ],
)
def test_every_request_type_nlets_lists_is_accepted_with_its_data_set(rty: str, data: str) -> None:
    text = f"RTY/{rty}.{YQ_COMMON}.{data}.RNA/J SMITH.RAG/AZ DPS.PHO/6025551212"
    assert parse_hit_confirmation("YQ", text, TODAY).request_type.code == rty


@pytest.mark.parametrize(
    ("text", "code", "details"),
    [
        (YQ_WP.replace("19800115", "19801301"), ErCode.DOB, ("DOB/19801301",)),
        (
            f"RTY/SL.{YQ_COMMON}.LIC/ABC123.LIS/AZ.LIY/20X0.RNA/A.RAG/B",
            ErCode.YEAR,
            ("LIY/20X0",),
        ),
        (f"RTY/SV.{YQ_COMMON}.VIN/V1.VYR/03.RNA/A.RAG/B", ErCode.YEAR, ("VYR/03",)),
        (
            f"RTY/SV.{YQ_COMMON}.LIC/ABC123.LIS/AZ.RNA/A.RAG/B",
            ErCode.FORMAT,
            (
                "1. RTY, RNO, PRI, OCA, NIC, VIN, RNA, RAG",
                "2. RTY, RNO, PRI, OCA, NIC, LIC, RNA, RAG",
            ),
        ),
    ],
)
def test_bad_dob_is_05_bad_year_is_10_and_lis_is_for_sl_only(
    text: str, code: ErCode, details: tuple[str, ...]
) -> None:
    with pytest.raises(MessageRejected) as raised:
        parse_hit_confirmation("YQ", text, TODAY)
    assert (raised.value.code, raised.value.details) == (code, details)


@pytest.mark.parametrize(
    ("mke", "text", "details"),
    [
        (
            "YQ",
            YQ_WP.replace("RTY/WP", "RTY/XX"),
            ("RTY MUST BE ONE OF: SV, WP, PO, MP, SL, SG, SA, SS, SB, SP",),
        ),
        (
            "YQ",
            YQ_WP.replace(".DOB/19800115", ""),
            ("1. RTY, RNO, PRI, OCA, NIC, NAM, DOB, RNA, RAG",),
        ),
        ("YQ", YQ_WP + ".LIC/ABC123", ("1. RTY, RNO, PRI, OCA, NIC, NAM, DOB, RNA, RAG",)),
        (
            "YQ",
            YQ_WP.replace("RNO/1", "RNO/4"),
            ("RNO/4 MUST BE 1, 2 OR 3", "1. RTY, RNO, PRI, OCA, NIC, NAM, DOB, RNA, RAG"),
        ),
        (
            "YQ",
            YQ_WP.replace("PRI/U", "PRI/X"),
            ("PRI/X MUST BE U OR R", "1. RTY, RNO, PRI, OCA, NIC, NAM, DOB, RNA, RAG"),
        ),
        (
            "YQ",
            "RTY/SV.RNO/1.PRI/R.OCA/1.NIC/V1.RNA/X.RAG/Y",
            (
                "1. RTY, RNO, PRI, OCA, NIC, VIN, RNA, RAG",
                "2. RTY, RNO, PRI, OCA, NIC, LIC, RNA, RAG",
            ),
        ),
        ("YR", YQ_WP, ("1. RTY, RNO, PRI, OCA, NIC, CON, RNA, RAG",)),
        (
            "YR",
            YQ_WP + ".CON/P",
            (
                "CBT/HHMM GOES WITH CON/P AND ONLY THERE",
                "1. RTY, RNO, PRI, OCA, NIC, CON, RNA, RAG",
            ),
        ),
        (
            "YR",
            YQ_WP + ".CON/P.CBT/2460",
            ("CBT/2460 MUST BE HHMM", "1. RTY, RNO, PRI, OCA, NIC, CON, RNA, RAG"),
        ),
        (
            "YR",
            YQ_WP + ".CON/Q",
            ("CON/Q MUST BE Y, N OR P", "1. RTY, RNO, PRI, OCA, NIC, CON, RNA, RAG"),
        ),
        ("YQ", "NOT FIELDS", ("FIELD PREFIX EXPECTED AT 'NOT FIELDS'",)),
    ],
)
def test_field_sets_and_values_that_do_not_fit_are_22_with_the_valid_sets(
    mke: str, text: str, details: tuple[str, ...]
) -> None:
    with pytest.raises(MessageRejected) as raised:
        parse_hit_confirmation(mke, text, TODAY)
    assert raised.value.code is ErCode.FORMAT
    assert raised.value.mke == mke
    assert raised.value.details == details


def test_a_yr_confirms_with_con_and_may_give_a_time() -> None:
    yr = parse_hit_confirmation("YR", YQ_WP + ".CON/P.CBT/0915.PHO/8028721000", TODAY)
    assert (yr.value("CON"), yr.value("CBT")) == ("P", "0915")


@given(
    st.sampled_from(["1", "2", "3"]),
    st.sampled_from(["U", "R"]),
    st.from_regex(r"[A-Z0-9]{1,20}", fullmatch=True),
    st.from_regex(r"[A-Z0-9]{10}", fullmatch=True),
    st.sampled_from(["Y", "N"]),
)
def test_any_yq_and_its_yr_round_trip(rno: str, pri: str, oca: str, nic: str, con: str) -> None:
    leading = [("RTY", "SS"), ("RNO", rno), ("PRI", pri), ("OCA", oca), ("NIC", nic)]
    trailing = [("RNA", "J SMITH"), ("RAG", "AZ DPS")]
    yq_text = build_fields([*leading, ("TYP", "BOND"), ("SER", "1100"), *trailing])
    yr_text = build_fields([*leading, ("CON", con), *trailing])
    assert parse_hit_confirmation("YQ", yq_text, TODAY).build() == yq_text
    assert parse_hit_confirmation("YR", yr_text, TODAY).build() == yr_text
