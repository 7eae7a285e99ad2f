"""The Immigration Alien Query body (PROTOCOL §3.1)."""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import date

from formats.codes import ErCode
from formats.dates import parse_dob
from formats.errors import MessageRejected
from formats.ncic import offense_codes, place_of_birth_codes, sex_codes
from formats.tagged import TaggedFieldsError, build_fields, duplicates, parse_fields
from formats.value_types import value_type

REQUIRED = ("PUR", "ATN", "PHN", "NAM", "DOB", "SEX", "POB", "CUS", "OFF")
OPTIONAL = ("ARN", "FBI", "SID", "OLN", "SOC", "REM")
ORDER = REQUIRED + OPTIONAL
PURPOSES = {"C": "CRIMINAL JUSTICE", "F": "FIREARMS (BRADY ACT)"}
MAX_ATN = 30
NAME_PATTERN = re.compile(r"[A-Z][A-Z '\-]*, ?[A-Z][A-Z '\-]*")
_PHONE_CHARACTERS = re.compile(r"[0-9 ()\-./X]{10,20}")
ARN_PATTERN = re.compile(r"\d{8,9}")
FBI_PATTERN = re.compile(r"[A-Z0-9]{1,9}")
SOC_PATTERN = re.compile(r"\d{9}")
_OFF = re.compile(r"\d{4}")
_ATTRIBUTES = frozenset(ORDER)  # the fields an Iaq holds, in its attributes' order
_REQUIRED = frozenset(REQUIRED)


@value_type
class Iaq:
    """An IAQ's fields, as sent (``dob`` in the sender's form: ``mmddyy`` or ``ccyymmdd``)."""

    pur: str
    atn: str
    phn: str
    nam: str
    dob: str
    sex: str
    pob: str
    cus: str
    off: str
    arn: str | None = None
    fbi: str | None = None
    sid: str | None = None
    oln: str | None = None
    soc: str | None = None
    rem: str | None = None

    def build(self) -> str:
        """The body in the canonical field order of §3.1."""
        values = {field.name.upper(): getattr(self, field.name) for field in fields(self)}
        return build_fields((tag, values[tag]) for tag in ORDER if values[tag] is not None)

    @property
    def surname(self) -> str:
        return self.nam.split(",", 1)[0].strip()

    @property
    def given_names(self) -> str:
        return self.nam.split(",", 1)[1].strip() if "," in self.nam else ""

    def birth_date(self, today: date) -> date | None:
        return parse_dob(self.dob, today)


def _format_error(*details: str) -> MessageRejected:
    return MessageRejected(ErCode.FORMAT, *details, f"1. {', '.join(REQUIRED)}", mke="IAQ")


def parse_iaq(text: str, today: date) -> Iaq:
    """Parse an IAQ body with the switch's checks (§3.1): ``.22.`` for a body that is not a set
    of tagged fields or repeats an IAQ field, ``.14.`` for missing required fields, ``.05.``
    for a missing or bad DOB, ``.16.`` for a bad ATN. A tagged field §3.1 does not list is
    passed on unchanged (Nlets' table was not visible past ``OLN``). The LESC's checks of the
    other values are ``content_problems``."""
    try:
        parsed = parse_fields(text)
    except TaggedFieldsError as error:
        raise _format_error(str(error)) from None
    values = {tag: value for tag, value in reversed(parsed) if tag in _ATTRIBUTES}  # firsts
    if len(values) < len(parsed):  # a field repeated, or one §3.1 does not list
        repeated = [tag for tag in duplicates(parsed) if tag in _ATTRIBUTES]
        if repeated:
            raise _format_error(f"FIELDS REPEATED: {', '.join(repeated)}")
    if not _REQUIRED.issubset(values):
        missing = [tag for tag in REQUIRED if tag not in values]
        if missing == ["DOB"]:
            raise MessageRejected(ErCode.DOB, "MISSING: DOB")
        raise MessageRejected(ErCode.FIELDS_MISSING, f"MISSING: {', '.join(missing)}")
    if parse_dob(values["DOB"], today) is None:
        raise MessageRejected(ErCode.DOB, f"DOB/{values['DOB']}")
    if not 1 <= len(values["ATN"]) <= MAX_ATN:
        raise MessageRejected(ErCode.ATN, f"ATN MUST BE 1 TO {MAX_ATN} CHARACTERS")
    return Iaq(*map(values.__getitem__, REQUIRED), *map(values.get, OPTIONAL))


def content_problems(iaq: Iaq) -> tuple[str, ...]:
    """What the LESC rejects in an IAQ the switch passed (``TYP/REJ`` reasons), each naming its
    field; empty when the query can be answered."""
    problems: list[str] = []
    if iaq.pur not in PURPOSES:
        problems.append(f"PUR/{iaq.pur} MUST BE C OR F")
    digits = sum(character.isdigit() for character in iaq.phn)
    if not _PHONE_CHARACTERS.fullmatch(iaq.phn) or digits < 10:
        problems.append(f"PHN/{iaq.phn} MUST BE 10 TO 20 CHARACTERS WITH 10 DIGITS")
    if len(iaq.nam) > 30 or not NAME_PATTERN.fullmatch(iaq.nam):
        problems.append(f"NAM/{iaq.nam} MUST BE LAST, FIRST MIDDLE IN 30 CHARACTERS")
    if iaq.sex not in sex_codes():
        problems.append(f"SEX/{iaq.sex} IS NOT AN NCIC SEX CODE")
    if iaq.pob not in place_of_birth_codes():
        problems.append(f"POB/{iaq.pob} IS NOT AN NCIC PLACE OF BIRTH CODE")
    if iaq.cus not in ("Y", "N"):
        problems.append(f"CUS/{iaq.cus} MUST BE Y OR N")
    if not _OFF.fullmatch(iaq.off) or iaq.off not in offense_codes():
        problems.append(f"OFF/{iaq.off} IS NOT AN NCIC OFFENSE CODE")
    if iaq.arn is not None and not ARN_PATTERN.fullmatch(iaq.arn):
        problems.append(f"ARN/{iaq.arn} MUST BE 8 OR 9 DIGITS")
    if iaq.fbi is not None and not FBI_PATTERN.fullmatch(iaq.fbi):
        problems.append(f"FBI/{iaq.fbi} MUST BE 1 TO 9 LETTERS OR DIGITS")
    if iaq.soc is not None and not SOC_PATTERN.fullmatch(iaq.soc):
        problems.append(f"SOC/{iaq.soc} MUST BE 9 DIGITS")
    return tuple(problems)
