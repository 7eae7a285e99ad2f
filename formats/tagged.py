"""Nlets tagged fields (PROTOCOL §1.3): ``ABC/value.`` repeated; the last period optional.

A field starts with three capital letters and ``/``; it ends at the next period that is followed
(after any CR and LF, which are ignored between fields) by another field's prefix, or at the end
of the text. A value may therefore hold periods, as in ``REM/SEE A.B.``. Free-text fields, such
as ``REM``, run to the end of the text, whatever follows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, lru_cache

from formats.errors import LocalProtocolError

TAG_PATTERN = re.compile(r"[A-Z]{3}/")
_BOUNDARY = re.compile(r"\.[\r\n]*(?=[A-Z]{3}/)")

Fields = tuple[tuple[str, str], ...]


class TaggedFieldsError(ValueError):
    """The text is not a sequence of tagged fields; the message says where."""


@cache
def _free_text_start(free_text: frozenset[str]) -> re.Pattern[str]:
    """Where the first free-text field starts: at the beginning, or after a field's period."""
    tags = "|".join(sorted(free_text)) or "(?!)"
    return re.compile(rf"(?:^|\.[\r\n]*)(?=(?:{tags})/)")


def parse_fields(text: str, free_text: Iterable[str] = ("REM",)) -> Fields:
    """Split ``text`` into (prefix, value) pairs in order; duplicates are kept."""
    text = text.lstrip("\r\n")
    free = _free_text_start(frozenset(free_text)).search(text)
    head, tail = (text[: free.start()], text[free.end() :]) if free else (text, "")
    pieces = _BOUNDARY.split(head) if head else []
    if tail:
        pieces.append(tail)
    if not pieces:
        return ()
    pieces[-1] = _strip_end(pieces[-1])
    fields = []
    for piece in pieces:
        if not TAG_PATTERN.match(piece):
            raise TaggedFieldsError(f"FIELD PREFIX EXPECTED AT {piece[:20]!r}")
        fields.append((piece[:3], piece[4:]))
    return tuple(fields)


def _strip_end(value: str) -> str:
    """The last field: drop trailing line ends, then its optional closing period."""
    return value.rstrip("\r\n").removesuffix(".")


@lru_cache(maxsize=4096)
def _is_tag(tag: str) -> bool:
    return TAG_PATTERN.fullmatch(f"{tag}/") is not None


def build_fields(fields: Iterable[tuple[str, str]], *, final_period: bool = False) -> str:
    """``ABC/x.DEF/y``; ``final_period`` adds the optional period after the last value."""
    parts = []
    for tag, value in fields:
        if not _is_tag(tag):
            raise LocalProtocolError(f"bad field prefix {tag!r}")
        parts.append(f"{tag}/{value}")
    text = ".".join(parts)
    return f"{text}." if final_period and parts else text


def as_mapping(fields: Fields) -> dict[str, str]:
    """The fields as a dict; a later duplicate does not replace the first."""
    result: dict[str, str] = {}
    for tag, value in fields:
        result.setdefault(tag, value)
    return result


def duplicates(fields: Fields) -> list[str]:
    """Prefixes that occur more than once, in order of their second occurrence."""
    seen: set[str] = set()
    repeated: list[str] = []
    for tag, _ in fields:
        if tag in seen and tag not in repeated:
            repeated.append(tag)
        seen.add(tag)
    return repeated
