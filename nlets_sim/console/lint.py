"""What ``nlets-sim lint`` reports for one message: OK, or the switch's ER."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from formats.envelope import CRLF, OutputMessage, normalize_line_ends, peek_header
from formats.errors import MessageRejected
from formats.iaq import Iaq, content_problems
from formats.keys import check_message
from formats.notices import SWITCH_ORI, ErrorNotice, echo

UNKNOWN_DESTINATION = "XXXXXXXXX"


@dataclass(frozen=True, slots=True)
class LintReport:
    ok: bool
    output: str
    warnings: tuple[str, ...] = ()


def prepare(raw: bytes) -> bytes:
    """A message as typed in a file: one final line end dropped, LF made CR LF."""
    if raw.endswith(b"\r\n"):
        raw = raw[:-2]
    elif raw.endswith(b"\n"):
        raw = raw[:-1]
    try:
        return normalize_line_ends(raw.decode("ascii")).encode("ascii")
    except UnicodeDecodeError:
        return raw


def rejection(raw: bytes, rejected: MessageRejected, now: datetime, destination: str) -> bytes:
    """The ER the switch returns for ``raw``, with counters 00000 (no switch numbered it)."""
    notice = ErrorNotice(rejected.code, rejected.details, echo(raw), rejected.mke)
    return OutputMessage(
        mke="ER",
        originator=SWITCH_ORI,
        received_at=now,
        input_number=0,
        sent_at=now,
        output_number=0,
        destination=destination,
        text=notice.build(),
    ).build()


def lint_message(raw: bytes, now: datetime) -> LintReport:
    raw = prepare(raw)
    try:
        checked = check_message(raw, now.date())
    except MessageRejected as rejected:
        destination = peek_header(raw)[0] or UNKNOWN_DESTINATION
        text = rejection(raw, rejected, now, destination).decode("ascii")
        return LintReport(False, text + CRLF)
    warnings: tuple[str, ...] = ()
    if isinstance(checked.body, Iaq):
        problems = content_problems(checked.body)
        warnings = tuple(f"LESC WILL REJECT: {problem}" for problem in problems)
    message = checked.message
    line = f"OK {message.mke} {message.sender} -> {','.join(message.destinations)}\n"
    return LintReport(True, line, warnings)
