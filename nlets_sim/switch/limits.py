"""Size limits that agree end to end: the largest input the switch accepts makes a delivery
that every receiver takes (PROTOCOL §1.1: 65,536 payload bytes, the terminal library's
default and the LESC's).

A delivery is the output header (at most 90 bytes: a 3-letter key, a 9-character originator,
a 10-character control field, two stamp lines and ``TXT``), the AML caveat line when the key
is AML (40 bytes), then the input's text unchanged. So an input whose text is at most
``MAX_TEXT_BYTES`` is delivered in at most ``MAX_DELIVERY_BYTES``; a longer one gets ER ``0``.
"""

from __future__ import annotations

from datetime import datetime

from formats.codes import ErCode
from formats.envelope import CRLF, OutputMessage
from formats.errors import MessageRejected
from formats.frames import DEFAULT_MAX_PAYLOAD
from nlets_sim.switch.keys import AML_CAVEAT

MAX_DELIVERY_BYTES = DEFAULT_MAX_PAYLOAD  # the largest DT payload the switch hands anyone
_WIDEST = datetime(2026, 12, 31, 23, 59)  # noqa: DTZ001 - any time: the stamps are fixed width
OUTPUT_HEADER_MAX_BYTES = len(  # the widest output header with the AML caveat: 130
    OutputMessage(
        mke="AML",
        originator="NY0303000",
        received_at=_WIDEST,
        input_number=99999,
        sent_at=_WIDEST,
        output_number=99999,
        destination="NJNLETS00",
        text=f"{AML_CAVEAT}{CRLF}",
        control="C123456789",
    ).build()
)
MAX_TEXT_BYTES = MAX_DELIVERY_BYTES - OUTPUT_HEADER_MAX_BYTES  # 65,406


def check_text_size(text: str) -> None:
    """ER ``0`` for a text too long to deliver to every receiver."""
    if len(text) > MAX_TEXT_BYTES:
        raise MessageRejected(
            ErCode.STRUCTURE,
            f"MESSAGE TOO LONG: TEXT OF {len(text)} BYTES, AT MOST {MAX_TEXT_BYTES}",
        )


def deliverable(payload: bytes) -> bool:
    """False for a delivery no receiver may be handed (built before the limits agreed, or
    by a switch configured past them): it is dead-lettered instead of sent."""
    return len(payload) <= MAX_DELIVERY_BYTES
