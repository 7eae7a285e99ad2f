"""The message keys this project implements (PROTOCOL §2.5) and the parser of each key's body.

Which key may go where, from whom, is the switch's policy (``nlets_sim.switch.keys``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from formats.errors import MessageRejected
from formats.hit_confirmation import HitConfirmation, parse_hit_confirmation
from formats.iaq import Iaq, parse_iaq
from formats.registration import parse_registration_query

Body = str | Iaq | HitConfirmation


def _free_text(text: str, _today: date) -> str:
    """AM, AML and the replies carry free text: nothing to parse."""
    return text


def _yq(text: str, today: date) -> HitConfirmation:
    return parse_hit_confirmation("YQ", text, today)


def _yr(text: str, today: date) -> HitConfirmation:
    return parse_hit_confirmation("YR", text, today)


BODY_PARSERS: dict[str, Callable[[str, date], Body]] = {
    "AM": _free_text,
    "AML": _free_text,
    "RQ": parse_registration_query,
    "RR": _free_text,
    "IAQ": parse_iaq,
    "IAR": _free_text,
    "YQ": _yq,
    "YR": _yr,
    "ER": _free_text,
    "SM": _free_text,
}
KEYS = tuple(BODY_PARSERS)  # in the order of PROTOCOL §2.5


def parse_body(mke: str, text: str, today: date) -> Body:
    """The body of a message of key ``mke`` (one of ``KEYS``), parsed; ``MessageRejected``
    naming the key when it is malformed."""
    try:
        return BODY_PARSERS[mke](text, today)
    except MessageRejected as rejected:
        rejected.mke = rejected.mke or mke
        raise
