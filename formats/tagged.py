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
_FIELD_START = re.compile(r"\.[\r\n]*([A-Z]{3})/")  # a boundary, its prefix captured

Fields = tuple[tuple[str, str], ...]


class TaggedFieldsError(ValueError):
    """The text is not a sequence of tagged fields; the message says where."""


@cache
def _free_text_start(free_text: frozenset[str]) -> tuple[tuple[str, ...], re.Pattern[str]]:
    """The prefixes of the free-text fields, and where the first one starts: at the
    beginning, or after a field's period."""
    tags = "|".join(sorted(free_text)) or "(?!)"
    prefixes = tuple(f"{tag}/" for tag in sorted(free_text))
    return prefixes, re.compile(rf"(?:^|\.[\r\n]*)(?=(?:{tags})/)")


_REMARKS = frozenset({"REM"})


def parse_fields(text: str, free_text: Iterable[str] = _REMARKS) -> Fields:
    """Split ``text`` into (prefix, value) pairs in order; duplicates are kept."""
    text = text.lstrip("\r\n")
    prefixes, free_start = _free_text_start(
        free_text if isinstance(free_text, frozenset) else frozenset(free_text)
    )
    free = None
    for prefix in prefixes:  # a substring test first: the pattern's search costs more
        if prefix in text:
            free = free_start.search(text)
            break
    head, tail = (text[: free.start()], text[free.end() :]) if free else (text, "")
    fields: list[tuple[str, str]] = []
    if head:
        if not TAG_PATTERN.match(head):
            raise TaggedFieldsError(f"FIELD PREFIX EXPECTED AT {_first_piece(head, tail)[:20]!r}")
        parts = _FIELD_START.split(f".{head}")  # "", prefix, value, prefix, value...
        fields.extend(zip(parts[1::2], parts[2::2], strict=True))
    if tail:
        fields.append((tail[:3], tail[4:]))
    if not fields:
        return ()
    tag, value = fields[-1]
    fields[-1] = (tag, _strip_end(value))
    return tuple(fields)


def _first_piece(head: str, tail: str) -> str:
    """The text up to the first boundary, as the error for text that is not fields names it."""
    pieces = _BOUNDARY.split(head)
    return _strip_end(pieces[0]) if len(pieces) == 1 and not tail else pieces[0]


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
