"""The switch's policy for each message key (PROTOCOL §2.5): the access category a sender
needs, how many destinations of which kind, who may send it, and the checks the switch makes
on a message before it looks at the directory. ``formats`` parses the envelope and the body;
the rules of who may send what live here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from formats.codes import ErCode
from formats.envelope import ORI_PATTERN, InputMessage, parse_input
from formats.errors import MessageRejected
from formats.keys import Body, parse_body
from formats.notices import SWITCH_ORI
from formats.value_types import value_type

LESC_LINE = "AX"  # the line an IAQ goes to, exactly (PROTOCOL §2.5)
AML_CAVEAT = "FOR LAW ENFORCEMENT DISSEMINATION ONLY"  # the switch's first line of an AML


@dataclass(frozen=True, slots=True)
class KeyRule:
    """How the switch treats one message key.

    ``access``: the directory access category a sender needs. ``destinations``: ``any`` (line
    codes, region codes or ORIs; regions for AM and AML only), ``ori`` (9-character ORIs
    only) or ``lesc`` (exactly ``AX``).
    """

    mke: str
    access: str
    max_destinations: int
    destinations: str
    switch_only: bool = False


KEYS = {
    rule.mke: rule
    for rule in (
        KeyRule("AM", "A", 5, "any"),
        KeyRule("AML", "A", 5, "any"),
        KeyRule("RQ", "D", 1, "any"),
        KeyRule("RR", "D", 1, "ori"),
        KeyRule("IAQ", "C", 1, "lesc"),
        KeyRule("IAR", "C", 1, "ori"),
        KeyRule("YQ", "C", 3, "ori"),
        KeyRule("YR", "C", 3, "ori"),
        KeyRule("ER", "A", 1, "ori", switch_only=True),
        KeyRule("SM", "A", 1, "ori", switch_only=True),
    )
}


def rule_for(message: InputMessage) -> KeyRule:
    """The key's rule; ``.01.`` for a key the switch does not know or reserves for itself."""
    rule = KEYS.get(message.mke)
    if rule is None:
        raise MessageRejected(ErCode.HEADER, f"UNKNOWN MESSAGE KEY {message.mke}")
    if rule.switch_only and message.sender != SWITCH_ORI:
        raise MessageRejected(
            ErCode.HEADER, f"MESSAGE KEY {message.mke} IS SENT BY {SWITCH_ORI} ONLY"
        )
    return rule


def check_destinations(rule: KeyRule, destinations: tuple[str, ...]) -> None:
    if rule.destinations == "lesc" and destinations != (LESC_LINE,):
        raise MessageRejected(
            ErCode.DESTINATION_NOT_ALLOWED, f"{rule.mke} GOES TO {LESC_LINE} ONLY"
        )
    if rule.destinations == "ori":
        for destination in destinations:
            if not ORI_PATTERN.fullmatch(destination):
                raise MessageRejected(
                    ErCode.DESTINATION_NOT_ALLOWED,
                    f"{rule.mke} GOES TO 9-CHARACTER ORIS ONLY, NOT {destination}",
                )
    if len(destinations) > rule.max_destinations:
        raise MessageRejected(
            ErCode.DESTINATION_INVALID,
            f"TOO MANY DESTINATIONS: {len(destinations)}, "
            f"{rule.mke} ALLOWS {rule.max_destinations}",
        )
    repeated = sorted({d for d in destinations if destinations.count(d) > 1})
    if repeated:
        raise MessageRejected(ErCode.DESTINATION_INVALID, f"REPEATED DESTINATION {repeated[0]}")


@value_type
class CheckedMessage:
    """A message that passed the directory-free checks, with its parsed body."""

    message: InputMessage
    rule: KeyRule
    body: Body


def check_message(
    raw: bytes, today: date, authorize: Callable[[InputMessage, KeyRule], None] | None = None
) -> CheckedMessage:
    """Everything the switch checks without its directory: the header, the key, the kind and
    number of destinations, and the body of the key. ``authorize`` (the switch's directory
    checks of the sender) runs after the header checks and before the body's. Raises
    ``MessageRejected``."""
    message = parse_input(raw)
    rule = rule_for(message)
    check_destinations(rule, message.destinations)
    if authorize is not None:
        authorize(message, rule)
    return CheckedMessage(message, rule, parse_body(message.mke, message.text, today))
