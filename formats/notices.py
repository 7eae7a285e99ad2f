"""The text of the switch's ``ER`` and ``SM`` messages (§2.3, §2.4).

Layout: the numbered error or status line, detail lines (for SM: ``DESTINATION <ORI>``), the
line ``ORIGINAL MESSAGE``, then the first 100 bytes of the input as received. Bytes outside
printable ASCII, CR and LF are shown as ``?`` so that the echo stays 7-bit ASCII text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from formats.codes import ErCode, SmCode
from formats.envelope import CRLF

SWITCH_ORI = "NL0000000"
ECHO_BYTES = 100
ORIGINAL_MESSAGE = "ORIGINAL MESSAGE"
_UNPRINTABLE = re.compile(rb"[^\x20-\x7e\r\n]")
IN_SERVICE = "NLETS IN SERVICE"
_HHMM = re.compile(r"([01]\d|2[0-3])[0-5]\d")
_ZONE = re.compile(r"[A-Z]{1,5}")


def out_of_service(until: str, zone: str) -> str:
    """``NLETS TEMPORARILY OUT OF SERVICE UNTIL HHMM ZZZ`` (§2.4, Nlets' text): ``until`` is
    24-hour ``HHMM``, ``zone`` the operator's time zone (``EST``, ``UTC``)."""
    if not _HHMM.fullmatch(until):
        raise ValueError(f"{until!r} is not a 24-hour time HHMM, e.g. 1400")
    if not _ZONE.fullmatch(zone):
        raise ValueError(f"{zone!r} is not a time zone abbreviation of 1 to 5 letters, e.g. EST")
    return f"NLETS TEMPORARILY OUT OF SERVICE UNTIL {until} {zone}"


def echo(raw: bytes) -> str:
    """The first 100 bytes of a rejected input, as text."""
    return _UNPRINTABLE.sub(b"?", raw[:ECHO_BYTES]).decode("ascii")


@dataclass(frozen=True, slots=True)
class ErrorNotice:
    """The text of an ``ER``."""

    code: ErCode
    details: tuple[str, ...]
    original: str
    mke: str = ""

    def build(self) -> str:
        return CRLF.join((self.code.line(self.mke), *self.details, ORIGINAL_MESSAGE)) + (
            CRLF + self.original
        )


@dataclass(frozen=True, slots=True)
class StatusNotice:
    """The text of an ``SM``."""

    code: SmCode
    destination: str
    original: str

    def build(self) -> str:
        return CRLF.join(
            (self.code.line(), f"DESTINATION {self.destination}", ORIGINAL_MESSAGE, self.original)
        )


_ER_LINE = re.compile(r"(?P<number>0|\.\d\d\.) (?P<text>[^\r\n]*)")
_FORMAT_TEXT = re.compile(
    r"INVALID MESSAGE FORMAT - REFER TO (?P<mke>[A-Z]{2,3}) MKE OPTIONS BELOW"
)


class NoticeFormatError(ValueError):
    """Text that is not an ER or SM body."""


def _split(text: str) -> tuple[list[str], str]:
    marker = f"{CRLF}{ORIGINAL_MESSAGE}{CRLF}"
    head, found, original = text.partition(marker)
    if not found:
        raise NoticeFormatError("no ORIGINAL MESSAGE line")
    return head.split(CRLF), original


def parse_error_notice(text: str) -> ErrorNotice:
    lines, original = _split(text)
    match = _ER_LINE.fullmatch(lines[0])
    if match is None:
        raise NoticeFormatError(f"not an error line: {lines[0]!r}")
    mke = ""
    format_match = _FORMAT_TEXT.fullmatch(match["text"])
    if format_match:
        mke = format_match["mke"]
    for code in ErCode:
        if code.line(mke) == lines[0]:
            return ErrorNotice(code, tuple(lines[1:]), original, mke)
    raise NoticeFormatError(f"unknown error line: {lines[0]!r}")


def parse_status_notice(text: str) -> StatusNotice:
    lines, original = _split(text)
    if len(lines) != 2 or not lines[1].startswith("DESTINATION "):
        raise NoticeFormatError("an SM has a status line and a DESTINATION line")
    for code in SmCode:
        if code.line() == lines[0]:
            return StatusNotice(code, lines[1].removeprefix("DESTINATION "), original)
    raise NoticeFormatError(f"unknown status line: {lines[0]!r}")
