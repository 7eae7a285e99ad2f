"""Fault and latency injection: rules that make the switch misbehave on purpose, so that
testers can exercise their terminals' retry and timeout logic.

A rule has a kind and a filter (message key, sender ORI, destination), and applies to the
first ``count`` matching messages or to each with ``probability`` (seeded, so runs repeat).

Kinds, and where they act:

* ``drop``: a matching DT from a terminal is discarded before it is stored or acknowledged;
  the terminal must send it again (its next message is a sequence gap, so the switch closes
  the link and the terminal resends after logging on again).
* ``close``: the switch closes the sender's connection instead of taking the message.
* ``reply``: the message is not routed; the sender gets the ``ER`` (``code`` ``.01.`` … ``0``)
  or ``SM`` (``code`` ``SM.02.`` …) given.
* ``delay``: a matching delivery waits ``delay_s`` seconds (or a lognormal draw with
  ``mu``/``sigma``, in seconds) before it is written; later frames to that terminal wait too.
* ``duplicate``: a matching delivery is written twice with the same seq.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

from formats.codes import ErCode, SmCode
from formats.envelope import parse_input
from formats.errors import MessageRejected

KINDS = ("drop", "close", "reply", "delay", "duplicate")
INBOUND = frozenset({"drop", "close", "reply"})


class FaultError(ValueError):
    """A fault rule that cannot be used."""


@dataclass(slots=True)
class Fault:
    kind: str
    mke: str | None = None
    sender: str | None = None
    destination: str | None = None
    count: int | None = None  # apply to this many matches, then stop
    probability: float | None = None  # apply to each match with this chance
    delay_s: float | None = None
    mu: float | None = None  # lognormal delay: the log of seconds has mean mu, deviation sigma
    sigma: float | None = None
    code: str | None = None  # for reply: an ER number (".02.", "0") or "SM.02." etc.
    applied: int = 0
    id: int = 0  # given by the table when added: 1, 2, ... never reused (``fault remove ID``)

    def matches(self, mke: str, sender: str, destinations: tuple[str, ...]) -> bool:
        return (
            (self.mke is None or self.mke == mke)
            and (self.sender is None or self.sender == sender)
            and (self.destination is None or self.destination in destinations)
        )

    def describe(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


def reply_code(code: str) -> ErCode | SmCode:
    """``.02.`` or ``0`` names an ER code; ``SM.02.`` an SM code."""
    if code.startswith("SM"):
        for status in SmCode:
            if status.number == code[2:]:
                return status
    for error in ErCode:
        if error.number == code:
            return error
    raise FaultError(f"unknown reply code {code!r}: an ER number such as .02. or SM.02.")


_TYPES: dict[str, type | tuple[type, ...]] = {
    "kind": str,
    "mke": str,
    "sender": str,
    "destination": str,
    "code": str,
    "count": int,
    "probability": (int, float),
    "delay_s": (int, float),
    "mu": (int, float),
    "sigma": (int, float),
}
_TYPE_NAMES = {str: "text", int: "a whole number", (int, float): "a number"}


def make_fault(data: dict[str, Any]) -> Fault:
    """A rule from its fields (a config table or an admin request); ``FaultError`` says what
    is wrong."""
    unknown = sorted(set(data) - set(_TYPES))
    if unknown:
        raise FaultError(f"unknown fault fields: {', '.join(unknown)}")
    for name, value in data.items():
        expected = _TYPES[name]
        if value is not None and (isinstance(value, bool) or not isinstance(value, expected)):
            raise FaultError(f"{name} must be {_TYPE_NAMES[expected]}, not {value!r}")
    if "kind" not in data:
        raise FaultError(f"a rule needs a kind: one of {', '.join(KINDS)}")
    fault = Fault(**data)
    if fault.kind not in KINDS:
        raise FaultError(f"kind must be one of {', '.join(KINDS)}, not {fault.kind!r}")
    if fault.count is not None and fault.probability is not None:
        raise FaultError("give count or probability, not both")
    if fault.probability is not None and not 0 <= fault.probability <= 1:
        raise FaultError("probability is between 0 and 1")
    if (
        fault.kind == "delay"
        and fault.delay_s is None
        and (fault.mu is None or fault.sigma is None)
    ):
        raise FaultError("a delay needs delay_s, or mu and sigma for a lognormal delay")
    if fault.kind == "reply":
        if fault.code is None:
            raise FaultError("a reply needs a code, e.g. .02. or SM.02.")
        reply_code(fault.code)
    return fault


@dataclass
class FaultTable:
    faults: list[Fault] = field(default_factory=list)
    random: random.Random = field(default_factory=lambda: random.Random(0))  # noqa: S311

    last_id: int = 0  # the id given to the last rule added

    def add(self, fault: Fault) -> None:
        self.last_id += 1
        fault.id = self.last_id
        self.faults.append(fault)

    def remove(self, fault_id: int) -> None:
        """Take out the rule with this id; ``FaultError`` when there is none."""
        for fault in self.faults:
            if fault.id == fault_id:
                self.faults.remove(fault)
                return
        ids = ", ".join(str(fault.id) for fault in self.faults) or "none"
        raise FaultError(f"no fault rule {fault_id}: the rules in force are {ids}")

    def clear(self) -> None:
        self.faults.clear()

    def pick(
        self, kinds: frozenset[str], mke: str, sender: str, destinations: tuple[str, ...]
    ) -> Fault | None:
        """The first rule of ``kinds`` that matches and fires for this message, counted."""
        for fault in self.faults:
            if fault.kind not in kinds or not fault.matches(mke, sender, destinations):
                continue
            if fault.count is not None and fault.applied >= fault.count:
                continue
            if fault.probability is not None and self.random.random() >= fault.probability:
                continue
            fault.applied += 1
            return fault
        return None

    def pick_inbound(self, payload: bytes) -> Fault | None:
        return pick_inbound(self, payload)

    def delay_of(self, fault: Fault) -> float:
        if fault.delay_s is not None:
            return fault.delay_s
        assert fault.mu is not None
        assert fault.sigma is not None
        return self.random.lognormvariate(fault.mu, fault.sigma)


OUTBOUND = frozenset({"delay", "duplicate"})
INJECTED = "FAULT INJECTED BY TEST RULE"


def _header(payload: bytes) -> tuple[str, str, tuple[str, ...]] | None:
    try:
        message = parse_input(payload)
    except MessageRejected:
        return None
    return message.mke, message.sender, message.destinations


def pick_inbound(table: FaultTable, payload: bytes) -> Fault | None:
    header = _header(payload)
    return None if header is None else table.pick(INBOUND, *header)


def injected_rejection(fault: Fault, payload: bytes) -> MessageRejected:
    """The rejection a ``reply`` rule gives: its ER code, or its SM code (``SmNotice``)."""
    assert fault.code is not None
    code = reply_code(fault.code)
    if isinstance(code, SmCode):
        header = _header(payload)
        destination = header[2][0] if header else "XXXXXXXXX"
        return InjectedStatus(code, destination)
    return MessageRejected(code, INJECTED)


class InjectedStatus(MessageRejected):
    """A ``reply`` rule with an SM code: the switch answers with that SM."""

    def __init__(self, status: SmCode, destination: str) -> None:
        super().__init__(ErCode.STRUCTURE, INJECTED)
        self.status = status
        self.destination = destination
