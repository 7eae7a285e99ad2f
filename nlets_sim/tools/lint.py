"""What ``nlets-sim lint`` reports for one message: OK, or what the switch would answer.

Lint applies the switch's own checks, with the switch's code and default limits: the frame
size its link reader takes (``NK FRAME TOO LONG``), ``check_message`` and the text size a
delivery can carry (``ER``). It is a tool: it reads the switch's limits, above the switch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from formats.envelope import CRLF, OutputMessage, peek_header
from formats.errors import FrameError, LocalProtocolError, MessageRejected
from formats.frames import HEADER_BYTES, Frame, FrameKind, build_frame, parse_header
from formats.iaq import Iaq, content_problems
from formats.notices import SWITCH_ORI, ErrorNotice, echo
from nlets_sim.console.message_file import prepare
from nlets_sim.switch.config import Config
from nlets_sim.switch.keys import check_message
from nlets_sim.switch.limits import MAX_TEXT_BYTES, check_text_size

UNKNOWN_DESTINATION = "XXXXXXXXX"


@dataclass(frozen=True, slots=True)
class LintReport:
    ok: bool
    output: str
    warnings: tuple[str, ...] = ()


def frame_refusal(payload: bytes, max_frame_bytes: int) -> str | None:
    """The ``NK`` reason the switch's link reader gives a DT carrying ``payload``, or None."""
    try:
        header = build_frame(Frame(FrameKind.DT, 1, payload))[:HEADER_BYTES]
        parse_header(header, max_frame_bytes)
    except (FrameError, LocalProtocolError) as error:
        return str(error)
    return None


def rejection(raw: bytes, rejected: MessageRejected, now: datetime) -> bytes:
    """The ER the switch returns for ``raw``, to its sender with its control field (as far
    as they can be read), with counters 00000 (no switch numbered it)."""
    sender, control = peek_header(raw)
    notice = ErrorNotice(rejected.code, rejected.details, echo(raw), rejected.mke)
    return OutputMessage(
        mke="ER",
        originator=SWITCH_ORI,
        received_at=now,
        input_number=0,
        sent_at=now,
        output_number=0,
        destination=sender or UNKNOWN_DESTINATION,
        text=notice.build(),
        control=control,
    ).build()


def lint_message(raw: bytes, now: datetime) -> LintReport:
    raw = prepare(raw)
    max_frame_bytes = Config().max_frame_bytes
    refused = frame_refusal(raw, max_frame_bytes)
    if refused is not None:
        return LintReport(
            False,
            f"NK 00000000 {refused}\n",
            (
                f"the switch refuses a message over {max_frame_bytes} bytes with this NK and"
                f" closes the link; a message's text may be at most {MAX_TEXT_BYTES} bytes",
            ),
        )
    try:
        checked = check_message(raw, now.date())
        check_text_size(checked.message.text)
    except MessageRejected as rejected:
        text = rejection(raw, rejected, now).decode("ascii")
        return LintReport(False, text + CRLF)
    warnings: tuple[str, ...] = ()
    if isinstance(checked.body, Iaq):
        problems = content_problems(checked.body)
        warnings = tuple(f"LESC WILL REJECT: {problem}" for problem in problems)
    message = checked.message
    line = f"OK {message.mke} {message.sender} -> {','.join(message.destinations)}\n"
    return LintReport(True, line, warnings)
