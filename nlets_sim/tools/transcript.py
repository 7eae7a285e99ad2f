"""Transcripts: conversations with the switch written as text, to replay and check (pure).

A transcript is a list of steps; a step starts with a directive line:

    # comment (outside messages)
    logon ORI [KEY]                   log a terminal on (KEY: the ORI's demo key)
    logoff ORI                        log it off
    send ORI                          send the message that follows, up to a line "end"
    expect ORI [unordered] [within SECONDS]
                                      the next deliveries to ORI are the messages that
                                      follow, separated by lines "next", ended by "end"
    remove LINE MKE / restore LINE MKE
                                      an operator puts a line in "remove" status for a key
                                      (SM .04.), or back in service (needs the admin socket)
    outage HHMM ZONE / outage end     the operator's SM to every line's control terminal:
                                      NLETS TEMPORARILY OUT OF SERVICE UNTIL HHMM ZONE, or
                                      NLETS IN SERVICE (needs the admin socket)

A message is written as it travels, one line per line (CR LF on the wire). In expected
messages, placeholders stand for what varies: {TIME} (HH:MM), {DATE} (MM/DD/CCYY), {SEQ} (a
5-digit input or output number), {QRN} (an LESC query number), {ANY} (the rest of anything on
the line) and {/REGEX/} (a regular expression); {{ and }} are literal braces.

A transcript is ASCII text. In a message to send, {0xHH} stands for the byte HH (two hex
digits), so that bytes a switch must refuse (non-ASCII text, control characters) can be sent
and a recorded message replays byte for byte; elsewhere in a send, braces are literal.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from formats.envelope import CRLF

PLACEHOLDERS = {
    "TIME": r"\d\d:\d\d",
    "DATE": r"\d\d/\d\d/\d{4}",
    "SEQ": r"\d{5}",
    "QRN": r"L\d{12}",
    "ANY": r".*?",
}
_TOKEN = re.compile(r"\{\{|\}\}|\{/(?P<regex>.+?)/\}|\{(?P<name>[A-Z]+)\}")
_BYTE = re.compile(r"\{0x(?P<hex>[0-9A-Fa-f]{2})\}")
_PLAIN = re.compile(rb"[\x20-\x7a\x7c-\x7e]+")  # printable ASCII but an opening brace
DEFAULT_WITHIN_S = 10.0


class TranscriptError(ValueError):
    """A transcript that cannot be read; the message names the line."""


@dataclass(frozen=True, slots=True)
class Logon:
    line: int
    ori: str
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Logoff:
    line: int
    ori: str


@dataclass(frozen=True, slots=True)
class Operator:
    """``remove LINE MKE`` (``removed``) or ``restore LINE MKE``."""

    line: int
    ori: str  # the line code, so that every step names what it acts on
    mke: str
    removed: bool


@dataclass(frozen=True, slots=True)
class Send:
    line: int
    ori: str
    message: str  # lines joined with CR LF


@dataclass(frozen=True, slots=True)
class Expect:
    line: int
    ori: str
    messages: tuple[str, ...]
    unordered: bool = False
    within_s: float = DEFAULT_WITHIN_S


@dataclass(frozen=True, slots=True)
class Outage:
    """``outage HHMM ZONE`` or ``outage end`` (``until`` None): an operator status message."""

    line: int
    until: str | None
    zone: str | None = None
    ori: str = "NL0000000"  # every step names what it acts on: the switch sends it


Step = Logon | Logoff | Send | Expect | Operator | Outage


@dataclass(frozen=True, slots=True)
class Transcript:
    name: str
    steps: tuple[Step, ...] = field(default=())


def line_pattern(expected: str) -> re.Pattern[str]:
    """The regular expression one expected line stands for."""
    parts: list[str] = []
    position = 0
    for token in _TOKEN.finditer(expected):
        parts.append(re.escape(expected[position : token.start()]))
        text = token.group(0)
        if text in ("{{", "}}"):
            parts.append(re.escape(text[0]))
        elif token["regex"] is not None:
            parts.append(f"(?:{token['regex']})")
        elif token["name"] in PLACEHOLDERS:
            parts.append(PLACEHOLDERS[token["name"]])
        else:
            parts.append(re.escape(text))
        position = token.end()
    parts.append(re.escape(expected[position:]))
    return re.compile("".join(parts))


def matches(expected: str, received: str) -> bool:
    expected_lines, received_lines = expected.split(CRLF), received.split(CRLF)
    return len(expected_lines) == len(received_lines) and all(
        line_pattern(e).fullmatch(r) for e, r in zip(expected_lines, received_lines, strict=True)
    )


def diff(expected: str, received: str) -> str:
    """A unified diff; expected lines whose placeholders fit show as received, so only real
    differences remain."""
    expected_lines, received_lines = expected.split(CRLF), received.split(CRLF)
    shown = [
        received_lines[i]
        if i < len(received_lines) and line_pattern(line).fullmatch(received_lines[i])
        else line
        for i, line in enumerate(expected_lines)
    ]
    return "\n".join(
        difflib.unified_diff(shown, received_lines, "expected", "received", lineterm="")
    )


def message_bytes(message: str) -> bytes:
    """A ``send`` step's message as it goes on the wire: CR LF line ends, ``{0xHH}`` as the
    byte HH."""
    return _BYTE.sub(lambda byte: chr(int(byte["hex"], 16)), message).encode("latin-1")


def escaped(raw: bytes) -> str:
    """``raw`` written as a ``send`` step's message: lines split at CR LF, each byte that is not
    printable ASCII (and each opening brace) as ``{0xHH}``, and a line that would read ``end`` or
    ``next`` with its first letter so written; ``message_bytes`` gives ``raw`` back."""
    lines = []
    for line in raw.split(b"\r\n"):
        parts, position = [], 0
        for plain in _PLAIN.finditer(line):
            parts += [f"{{0x{byte:02X}}}" for byte in line[position : plain.start()]]
            parts.append(plain.group(0).decode("ascii"))
            position = plain.end()
        parts += [f"{{0x{byte:02X}}}" for byte in line[position:]]
        written = "".join(parts)
        if written.strip() in ("end", "next"):
            first = len(written) - len(written.lstrip())
            written = f"{written[:first]}{{0x{ord(written[first]):02X}}}{written[first + 1 :]}"
        lines.append(written)
    return CRLF.join(lines)


def decode_transcript(data: bytes, name: str = "transcript") -> Transcript:
    """A transcript file's bytes, which must be ASCII (the error names the line and byte)."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as error:
        byte, line = data[error.start], data.count(b"\n", 0, error.start) + 1
        raise TranscriptError(
            f"{name}:{line}: byte 0x{byte:02X} is not ASCII: a transcript is ASCII text "
            f"(in a message to send, write a byte as {{0x{byte:02X}}})"
        ) from None
    return parse_transcript(text, name)


_DIRECTIVE = re.compile(r"(?P<verb>logon|logoff|send|expect)\s+(?P<ori>[A-Z0-9]{9})(?P<rest>.*)")
_OPERATOR = re.compile(r"(?P<verb>remove|restore)\s+(?P<code>[A-Z0-9]{2})\s+(?P<mke>[A-Z]{2,3})")
_OUTAGE = re.compile(r"outage\s+(?:end|(?P<until>\d{4})\s+(?P<zone>[A-Z]{1,5}))")


def parse_transcript(text: str, name: str = "transcript") -> Transcript:
    if not text.isascii():
        at = next(i for i, character in enumerate(text) if not character.isascii())
        raise TranscriptError(
            f"{name}:{text.count(chr(10), 0, at) + 1}: {text[at]!r} is not ASCII: a transcript "
            f"is ASCII text (in a message to send, write a byte as {{0xHH}})"
        )
    steps = _steps(text.splitlines(), name)
    if not steps:  # an empty file, or comments only: it would pass while testing nothing
        raise TranscriptError(f"{name}: no steps (logon, send, expect ...): nothing to replay")
    return Transcript(name, tuple(steps))


def _steps(lines: list[str], name: str) -> list[Step]:
    steps: list[Step] = []
    index = 0
    while index < len(lines):
        number, raw = index + 1, lines[index]
        index += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        command = stripped.split(" #", 1)[0].strip()
        operator = _OPERATOR.fullmatch(command)
        if operator is not None:
            removed = operator["verb"] == "remove"
            steps.append(Operator(number, operator["code"], operator["mke"], removed))
            continue
        outage = _OUTAGE.fullmatch(command)
        if outage is not None:
            steps.append(Outage(number, outage["until"], outage["zone"]))
            continue
        directive = _DIRECTIVE.fullmatch(command)
        if directive is None:
            raise TranscriptError(
                f"{name}:{number}: expected logon, logoff, send, expect, remove, restore or outage"
            )
        verb, ori, rest = directive["verb"], directive["ori"], directive["rest"].split()
        if verb == "logon":
            if len(rest) > 1:
                raise TranscriptError(f"{name}:{number}: logon ORI [KEY]")
            steps.append(Logon(number, ori, rest[0] if rest else None))
        elif verb == "logoff":
            steps.append(Logoff(number, ori))
        else:
            messages, index = _messages(lines, index, name, number, allow_next=verb == "expect")
            if verb == "send":
                steps.append(Send(number, ori, messages[0]))
            else:
                unordered, within = _expect_options(rest, name, number)
                steps.append(Expect(number, ori, tuple(messages), unordered, within))
    return steps


def _messages(
    lines: list[str], index: int, name: str, start: int, *, allow_next: bool
) -> tuple[list[str], int]:
    messages: list[str] = []
    current: list[str] = []
    while index < len(lines):
        line = lines[index]
        index += 1
        if line.strip() in ("end", "next") and (line.strip() == "end" or allow_next):
            if not current:
                raise TranscriptError(f"{name}:{index}: empty message")
            messages.append(CRLF.join(current))
            current = []
            if line.strip() == "end":
                return messages, index
            continue
        current.append(line)
    raise TranscriptError(f"{name}:{start}: message not ended by a line 'end'")


def _expect_options(words: list[str], name: str, number: int) -> tuple[bool, float]:
    unordered, within = False, DEFAULT_WITHIN_S
    rest = list(words)
    while rest:
        word = rest.pop(0)
        if word == "unordered":
            unordered = True
        elif word == "within" and rest:
            try:
                within = float(rest.pop(0))
            except ValueError:
                raise TranscriptError(f"{name}:{number}: within SECONDS") from None
        else:
            raise TranscriptError(f"{name}:{number}: unknown expect option {word!r}")
    return unordered, within


def render(transcript: Transcript) -> str:
    """The text form of a transcript (``parse_transcript`` reads it back)."""
    out: list[str] = []
    for step in transcript.steps:
        match step:
            case Logon(_, ori, key):
                out.append(f"logon {ori}" + (f" {key}" if key else ""))
            case Logoff(_, ori):
                out.append(f"logoff {ori}")
            case Operator(_, code, mke, removed):
                out.append(f"{'remove' if removed else 'restore'} {code} {mke}")
            case Outage(_, until, zone):
                out.append(f"outage {until} {zone}" if until else "outage end")
            case Send(_, ori, message):
                out += [f"send {ori}", *message.split(CRLF), "end"]
            case Expect(_, ori, messages, unordered, within):
                options = (" unordered" if unordered else "") + (
                    f" within {within:g}" if within != DEFAULT_WITHIN_S else ""
                )
                out.append(f"expect {ori}{options}")
                for number, message in enumerate(messages):
                    if number:
                        out.append("next")
                    out += message.split(CRLF)
                out.append("end")
        out.append("")
    return "\n".join(out)
