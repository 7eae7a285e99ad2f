"""Dates as Nlets writes them: ``mmddyy`` or ``ccyymmdd``."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

_DIGITS = re.compile(r"\d{6}|\d{8}")


@lru_cache(maxsize=1024)  # a query's DOB is read three times as it is answered
def parse_dob(value: str, today: date) -> date | None:
    """The date ``value`` names, or None when it is not a real date on or before ``today``.

    A 2-digit year is the latest century that does not put the date after ``today``.
    """
    if not _DIGITS.fullmatch(value):
        return None
    try:
        if len(value) == 8:
            result = date(int(value[:4]), int(value[4:6]), int(value[6:]))
        else:
            month, day, year = int(value[:2]), int(value[2:4]), int(value[4:])
            century = today.year // 100 * 100
            result = date(century + year, month, day)
            if result > today:
                result = date(century - 100 + year, month, day)
    except ValueError:
        return None
    return result if result <= today else None


def slash_date(day: date) -> str:
    """``MM/DD/CCYY``; a quarter of ``strftime``'s cost."""
    return f"{day.month:02d}/{day.day:02d}/{day.year:04d}"


_YEAR = re.compile(r"(19|20)\d\d")


def is_year(value: str) -> bool:
    """A year field (``LIY``, ``VYR``, ``BEG``, ``END``): four digits, 1900 to 2099."""
    return _YEAR.fullmatch(value) is not None
