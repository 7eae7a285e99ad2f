"""Message envelopes: the input form a terminal sends (§2.1) and the output form the switch
delivers (§2.2). Only the header is interpreted; the text is carried as it is, with bare LF line
ends made CR LF.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime

from formats.codes import ErCode
from formats.errors import LocalProtocolError, MessageRejected
from formats.value_types import value_type

CRLF = "\r\n"
ORI_PATTERN = re.compile(r"[A-Z0-9]{9}")
LINE_CODE_PATTERN = re.compile(r"[A-Z0-9]{2}")
MKE_PATTERN = re.compile(r"[A-Z]{2,3}")
CONTROL_PATTERN = re.compile(r"[A-Z0-9]{1,10}")
_TEXT_CHARACTERS = re.compile(r"[\x20-\x7e\r\n]*")
_TEXT_BYTES = bytes(range(0x20, 0x7F)) + b"\r\n"
_DESTINATION_PATTERN = re.compile(f"{LINE_CODE_PATTERN.pattern}|{ORI_PATTERN.pattern}")
_BARE_LF = re.compile(r"(?<!\r)\n")
_LOOKS_LIKE_HEADER = re.compile(r"[A-Z0-9]{1,4}\.")
_DEL_AFTER_TXT = re.compile(r"\r?\n?\x7f")
STAMP_FORMAT = "%H:%M %m/%d/%Y"
COUNTER_MODULUS = 99_999


def normalize_line_ends(text: str) -> str:
    """Bare LF becomes CR LF; CR LF stays. Text that has no bare LF comes back as it is,
    found by counting, several times cheaper than the substitution (BENCHMARKS.md)."""
    if text.count("\n") == text.count(CRLF):
        return text
    return _BARE_LF.sub(CRLF, text)


def is_destination(value: str) -> bool:
    """A 2-character line code or a 9-character ORI."""
    return _DESTINATION_PATTERN.fullmatch(value) is not None


_DESTINATION = r"(?:[A-Z0-9]{9}|[A-Z0-9]{2})"
_INPUT_HEADER = re.compile(
    rf"([A-Z]{{2,3}})\.([A-Z0-9]{{9}})\.({_DESTINATION}(?:,{_DESTINATION})*)"
    r"(?:\.\*([A-Z0-9]{1,10}))?\.TXT(\r\n?|\n)?"
)
"""A well-formed input header and its line end, read (or checked, when built) in one match;
any other text takes the field-by-field path that names what is wrong (``tests/test_envelope.py``
proves the two agree)."""


@value_type
class InputMessage:
    """A message as a terminal sends it: ``MKE.SENDER.DEST[,DEST].[*CONTROL.]TXT`` + text."""

    mke: str
    sender: str
    destinations: tuple[str, ...]
    text: str
    control: str | None = None
    crlf_after_txt: bool = True

    def header(self) -> str:
        control = f".*{self.control}" if self.control else ""
        return f"{self.mke}.{self.sender}.{','.join(self.destinations)}{control}.TXT"

    def build(self) -> bytes:
        header = self.header()
        checked = _INPUT_HEADER.fullmatch(header)  # one match for a header that is right
        if (
            checked is None
            or self.control == ""
            or checked[3].count(",") != len(self.destinations) - 1  # no comma in a destination
        ):
            self._check_fields()
        separator = CRLF if self.crlf_after_txt else ""
        return f"{header}{separator}{self.text}".encode("ascii")

    def _check_fields(self) -> None:
        """Raise ``LocalProtocolError`` naming the field that is wrong."""
        if not MKE_PATTERN.fullmatch(self.mke) or not ORI_PATTERN.fullmatch(self.sender):
            raise LocalProtocolError(f"bad input header {self.mke}.{self.sender}")
        if not self.destinations or not all(map(is_destination, self.destinations)):
            raise LocalProtocolError(f"bad destinations {self.destinations}")
        if self.control is not None and not CONTROL_PATTERN.fullmatch(self.control):
            raise LocalProtocolError(f"bad control field {self.control!r}")


def decode_text(raw: bytes) -> str:
    """The message as text, or ER 0 when it is not 7-bit printable ASCII with CR LF."""
    if not raw.translate(None, _TEXT_BYTES):  # nothing left once the allowed bytes go
        return raw.decode("ascii")
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as error:
        raise MessageRejected(
            ErCode.STRUCTURE, f"NON-ASCII BYTE AT POSITION {error.start + 1}"
        ) from None
    valid = _TEXT_CHARACTERS.match(text)
    position = valid.end() if valid else 0
    raise MessageRejected(ErCode.STRUCTURE, f"CONTROL CHARACTER AT POSITION {position + 1}")


def _find_txt(text: str) -> int:
    """Where ``.TXT`` ends the header: the first one on the first line that has at least a key,
    a sender and a destination before it (an ORI may itself start with ``TXT``); -1 if none."""
    line_end = text.find("\n")
    first_line = text if line_end < 0 else text[:line_end]
    position = first_line.find(".TXT")
    while position >= 0:
        if first_line.count(".", 0, position) >= 2:
            return position
        position = first_line.find(".TXT", position + 1)
    return first_line.find(".TXT")


_PEEK = re.compile(
    rb"[A-Z]{2,3}\.(?P<sender>[A-Z0-9]{9})\.[^\r\n]*?(?:\.\*(?P<control>[A-Z0-9]{1,10}))?\.TXT"
)


def peek_header(raw: bytes) -> tuple[str | None, str | None]:
    """(sender ORI, control field) read from the start of a message that may not parse, to
    address the ER that rejects it; None for what cannot be read."""
    match = _PEEK.match(raw)
    if match is None:
        sender = re.match(rb"[A-Z]{2,3}\.([A-Z0-9]{9})\.", raw)
        return (sender.group(1).decode() if sender else None), None
    control = match["control"]
    return match["sender"].decode(), control.decode() if control else None


def _drop_del_after_txt(raw: bytes) -> bytes:
    """``raw`` with the "CR, LF, DEL" Nlets places after ``TXT`` (each optional, in that
    order) read as the one line end after the header; a DEL anywhere else is ER 0 at its
    position as received."""
    text = raw.decode("latin-1")  # one character per byte: positions stay those of ``raw``
    end = _find_txt(text)
    match = _DEL_AFTER_TXT.match(text, end + 4) if end >= 0 else None
    if match is None:
        return raw  # decode_text reports the DEL
    at = match.end() - 1
    decode_text(raw[:at] + b" " + raw[at + 1 :])  # ER 0 for any other DEL, at its own position
    return raw[: match.start()] + b"\r\n" + raw[match.end() :]  # the text starts after DEL


def parse_input(raw: bytes) -> InputMessage:
    """Parse and check the header of an input message; the errors are the switch's ``ER``s.
    A DEL right after ``TXT`` (and its optional CR LF) is accepted and dropped (§2.1)."""
    if b"\x7f" in raw:
        raw = _drop_del_after_txt(raw)
    text = decode_text(raw)
    header = _INPUT_HEADER.match(text)
    if header is None:
        return _parse_input_slowly(text)
    mke, sender, destinations, control, line_end = header.groups()
    body = text[header.end() :]
    if "\n" in body:
        body = normalize_line_ends(body)
    return InputMessage(
        mke, sender, tuple(destinations.split(",")), body, control, line_end is not None
    )


def _parse_input_slowly(text: str) -> InputMessage:
    """``parse_input`` field by field, each check with its own ``ER``."""
    end = _find_txt(text)
    if end < 0:
        if not _LOOKS_LIKE_HEADER.match(text):
            raise MessageRejected(ErCode.STRUCTURE, "NO MESSAGE HEADER")
        raise MessageRejected(ErCode.NO_TXT)
    parts = text[:end].split(".")
    rest = text[end + 4 :]
    # the header's line end: an optional CR, then an optional LF (§2.1); a lone CR is one too
    crlf = rest.startswith(("\r", "\n"))
    body = rest[2:] if rest.startswith("\r\n") else rest[1:] if crlf else rest
    if "\n" in body:
        body = normalize_line_ends(body)
    mke = parts[0]
    if not MKE_PATTERN.fullmatch(mke):
        raise MessageRejected(ErCode.HEADER, f"INVALID MESSAGE KEY {mke}")
    if len(parts) < 3:
        raise MessageRejected(ErCode.HEADER, "HEADER MUST BE MKE.ORI.DESTINATION[.*CONTROL].TXT")
    if len(parts) > 4:
        raise MessageRejected(ErCode.HEADER, f"UNEXPECTED HEADER FIELD {parts[4]}")
    sender = parts[1]
    if not ORI_PATTERN.fullmatch(sender):
        raise MessageRejected(ErCode.HEADER, f"INVALID SENDER ORI {sender}")
    control = None
    if len(parts) == 4:
        field = parts[3]
        if not field.startswith("*") or not CONTROL_PATTERN.fullmatch(field[1:]):
            raise MessageRejected(ErCode.HEADER, f"INVALID CONTROL FIELD {field}")
        control = field[1:]
    destinations = tuple(parts[2].split(","))
    for destination in destinations:
        if not is_destination(destination):
            raise MessageRejected(ErCode.DESTINATION_INVALID, f"INVALID DESTINATION {destination}")
    return InputMessage(mke, sender, destinations, body, control, crlf)


@functools.lru_cache(maxsize=256)
def stamp(moment: datetime) -> str:
    """``HH:MM MM/DD/CCYY``; cached, since a busy switch stamps the same minute many times."""
    return moment.strftime(STAMP_FORMAT)


@functools.lru_cache(maxsize=256)
def parse_stamp(text: str) -> datetime:
    """The inverse of ``stamp``; cached like it."""
    return datetime.strptime(text, STAMP_FORMAT)  # noqa: DTZ007 - switch-local, no zone


@value_type
class OutputMessage:
    """A message as the switch delivers it (§2.2).

    Times are switch-local and carried to the minute; the numbers are the input counter of the
    sending line and the output counter of the receiving line, 1 to 99999.
    """

    mke: str
    originator: str
    received_at: datetime
    input_number: int
    sent_at: datetime
    output_number: int
    destination: str
    text: str
    control: str | None = None

    def build(self) -> bytes:
        input_number, output_number = self.input_number, self.output_number
        if not (0 <= input_number <= COUNTER_MODULUS and 0 <= output_number <= COUNTER_MODULUS):
            bad = output_number if 0 <= input_number <= COUNTER_MODULUS else input_number
            raise LocalProtocolError(f"counter out of range: {bad}")
        if not _is_ori(self.destination):
            raise LocalProtocolError(f"bad destination ORI {self.destination!r}")
        control = f".*{self.control}" if self.control else ""
        return (
            f"{self.mke}.{self.originator}{control}\r\n"
            f"{stamp(self.received_at)} {input_number:05d}\r\n"
            f"{stamp(self.sent_at)} {output_number:05d} {self.destination}\r\nTXT\r\n{self.text}"
        ).encode("ascii")


@functools.lru_cache(maxsize=4096)  # the destinations of a run are few: the directory's ORIs
def _is_ori(value: str) -> bool:
    return ORI_PATTERN.fullmatch(value) is not None


_OUTPUT_HEADER = re.compile(
    r"(?P<mke>[A-Z]{2,3})\.(?P<originator>[A-Z0-9]{9})(?:\.\*(?P<control>[A-Z0-9]{1,10}))?\r\n"
    r"(?P<received>\d\d:\d\d \d\d/\d\d/\d{4}) (?P<input>\d{5})\r\n"
    r"(?P<sent>\d\d:\d\d \d\d/\d\d/\d{4}) (?P<output>\d{5}) (?P<destination>[A-Z0-9]{9})\r\n"
    r"TXT\r\n"
)


def parse_output(raw: bytes) -> OutputMessage:
    """Parse a delivered message; terminals and tests use it to read what the switch sent."""
    text = decode_text(raw)
    match = _OUTPUT_HEADER.match(text)
    if match is None:
        raise MessageRejected(ErCode.STRUCTURE, "NOT AN OUTPUT HEADER")
    mke, originator, control, received, input_number, sent, output_number, destination = (
        match.groups()
    )
    try:
        received_at, sent_at = parse_stamp(received), parse_stamp(sent)
    except ValueError:
        raise MessageRejected(ErCode.STRUCTURE, "INVALID TIME STAMP") from None
    return OutputMessage(
        mke,
        originator,
        received_at,
        int(input_number),
        sent_at,
        int(output_number),
        destination,
        text[match.end() :],
        control,
    )


def next_counter(value: int) -> int:
    """The 5-digit input/output counters run 00001 to 99999 and wrap to 00001."""
    return 1 if value >= COUNTER_MODULUS else value + 1
