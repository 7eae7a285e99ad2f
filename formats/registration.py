"""The vehicle registration query body (RQ, PROTOCOL §2.5): ``LIC/``, ``LIY/`` and ``LIT/``.

Nlets' first quoted ER is an RQ without ``LIY``: ``.22.`` with the one valid set,
``1. LIC, LIY, LIT``. A ``LIY`` that is not a year is ``.10.``.
"""

from __future__ import annotations

from datetime import date

from formats.codes import ErCode
from formats.dates import is_year
from formats.errors import MessageRejected
from formats.tagged import TaggedFieldsError, as_mapping, duplicates, parse_fields

RQ_FIELDS = ("LIC", "LIY", "LIT")


def parse_registration_query(text: str, _today: date) -> str:
    """Check an RQ body; the text goes on unchanged."""
    listing = f"1. {', '.join(RQ_FIELDS)}"
    try:
        parsed = parse_fields(text)
    except TaggedFieldsError as error:
        raise MessageRejected(ErCode.FORMAT, str(error), listing, mke="RQ") from None
    values = as_mapping(parsed)
    if set(values) != set(RQ_FIELDS) or duplicates(parsed):
        raise MessageRejected(ErCode.FORMAT, listing, mke="RQ")
    if not is_year(values["LIY"]):
        raise MessageRejected(ErCode.YEAR, f"LIY/{values['LIY']}")
    return text
