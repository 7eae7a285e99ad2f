"""Hit confirmation request (YQ) and response (YR) bodies (PROTOCOL §3.3).

A YQ carries the common fields, then the data set of its request type, then the requester. The
ten request types are Nlets'; the data sets of ``WP``, ``SS`` and ``SL`` are Nlets' too, the
others the project's (``docs/protocol-decisions.md``); each type may have several valid sets,
printed numbered in an ``.22.`` error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from formats.codes import ErCode
from formats.dates import is_year, parse_dob
from formats.errors import MessageRejected
from formats.tagged import (
    Fields,
    TaggedFieldsError,
    as_mapping,
    build_fields,
    duplicates,
    parse_fields,
)

LEADING = ("RTY", "RNO", "PRI", "OCA", "NIC")
TRAILING = ("RNA", "RAG")
OPTIONAL = ("PHO", "REM")
PRIORITIES = {"U": 10 * 60, "R": 60 * 60}  # response window, seconds
REQUEST_NUMBERS = ("1", "2", "3")
CONFIRMATIONS = ("Y", "N", "P")
_HHMM = re.compile(r"([01]\d|2[0-3])[0-5]\d")
YEAR_FIELDS = ("LIY", "VYR", "BEG", "END")  # a bad value: .10.


@dataclass(frozen=True, slots=True)
class RequestType:
    """One ``RTY/`` value: its valid data sets (one is required) and optional data fields."""

    code: str
    meaning: str
    data_sets: tuple[tuple[str, ...], ...]
    optional: tuple[str, ...] = ()


REQUEST_TYPES = {
    rt.code: rt
    for rt in (
        RequestType("SV", "STOLEN VEHICLE", (("VIN",), ("LIC",)), ("LIY", "LIT", "VYR", "VMA")),
        RequestType("WP", "WANTED PERSON", (("NAM", "DOB"),), ("SEX",)),
        RequestType("PO", "PROTECTION ORDER", (("NAM", "DOB"),), ("SEX",)),
        RequestType("MP", "MISSING PERSON", (("NAM", "DOB"),), ("SEX",)),
        RequestType("SL", "STOLEN LICENSE PLATE", (("LIC", "LIS"),), ("LIY", "LIT")),
        RequestType("SG", "STOLEN GUN", (("SER", "MAK"),), ("CAL", "MOD")),
        RequestType("SA", "STOLEN ARTICLE", (("TYP", "SER"),), ("BRA",)),
        RequestType("SS", "STOLEN SECURITY", (("TYP", "SER"),), ("DEN",)),
        RequestType("SB", "STOLEN BOAT", (("REG",), ("BHN",)), ("VYR",)),
        RequestType("SP", "STOLEN PART", (("SER",),), ("VMA", "VYR")),
    )
}


@dataclass(frozen=True, slots=True)
class HitConfirmation:
    """A YQ or YR body: the fields in order, with typed access to the common ones."""

    mke: str
    fields: Fields

    def build(self) -> str:
        return build_fields(self.fields)

    def get(self, tag: str) -> str | None:
        return as_mapping(self.fields).get(tag)

    def value(self, tag: str) -> str:
        found = self.get(tag)
        if found is None:
            raise KeyError(tag)
        return found

    @property
    def request_type(self) -> RequestType:
        return REQUEST_TYPES[self.value("RTY")]

    @property
    def window_s(self) -> int:
        """Seconds allowed for the answer: 600 when urgent, 3600 when routine."""
        return PRIORITIES[self.value("PRI")]


def field_sets(mke: str, request_type: RequestType) -> tuple[tuple[str, ...], ...]:
    """The required fields, in order, of each valid set: a YQ names one of the type's data
    sets; a YR says ``CON`` instead and may repeat the data."""
    if mke == "YR":
        return ((*LEADING, "CON", *TRAILING),)
    return tuple((*LEADING, *data, *TRAILING) for data in request_type.data_sets)


def _allowed(mke: str, request_type: RequestType) -> set[str]:
    allowed = {*LEADING, *TRAILING, *OPTIONAL, *request_type.optional}
    if mke == "YR":
        allowed.update(("CON", "CBT", *(tag for data in request_type.data_sets for tag in data)))
    return allowed


def parse_hit_confirmation(mke: str, text: str, today: date) -> HitConfirmation:
    """Parse a YQ or YR body; any field set or value that does not fit the request type is
    ``.22.`` with the valid sets listed (§2.3's example); a DOB that is not a date is
    ``.05.``, a year field that is not a year ``.10.``."""
    try:
        parsed = parse_fields(text)
    except TaggedFieldsError as error:
        raise MessageRejected(ErCode.FORMAT, str(error), mke=mke) from None
    values = as_mapping(parsed)
    request_type = REQUEST_TYPES.get(values.get("RTY", ""))
    if request_type is None:
        raise MessageRejected(
            ErCode.FORMAT, f"RTY MUST BE ONE OF: {', '.join(REQUEST_TYPES)}", mke=mke
        )
    sets = field_sets(mke, request_type)
    listing = tuple(f"{number}. {', '.join(tags)}" for number, tags in enumerate(sets, start=1))
    present = set(values)
    allowed = _allowed(mke, request_type)
    fits = any(set(tags) <= present <= allowed | set(tags) for tags in sets)
    if not fits or duplicates(parsed):
        raise MessageRejected(ErCode.FORMAT, *listing, mke=mke)
    problem = _value_problem(mke, values)
    if problem:
        raise MessageRejected(ErCode.FORMAT, problem, *listing, mke=mke)
    if "DOB" in values and parse_dob(values["DOB"], today) is None:
        raise MessageRejected(ErCode.DOB, f"DOB/{values['DOB']}")
    for tag in YEAR_FIELDS:
        if tag in values and not is_year(values[tag]):
            raise MessageRejected(ErCode.YEAR, f"{tag}/{values[tag]}")
    return HitConfirmation(mke, parsed)


def _value_problem(mke: str, values: dict[str, str]) -> str | None:
    if values["RNO"] not in REQUEST_NUMBERS:
        return f"RNO/{values['RNO']} MUST BE 1, 2 OR 3"
    if values["PRI"] not in PRIORITIES:
        return f"PRI/{values['PRI']} MUST BE U OR R"
    if mke == "YR":
        if values["CON"] not in CONFIRMATIONS:
            return f"CON/{values['CON']} MUST BE Y, N OR P"
        if (values["CON"] == "P") != ("CBT" in values):
            return "CBT/HHMM GOES WITH CON/P AND ONLY THERE"
        if "CBT" in values and not _HHMM.fullmatch(values["CBT"]):
            return f"CBT/{values['CBT']} MUST BE HHMM"
    return None
