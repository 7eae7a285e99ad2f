"""What the LESC's core (``responder.py``) returns for one delivered message: the replies to
send, each with the time it is due, and the writes for the store to carry out, as values."""

from __future__ import annotations

from datetime import datetime

from formats.value_types import value_type
from nlets_sim.bus.events import Event


@value_type
class Reply:
    """A message to send when ``due`` comes."""

    due: datetime
    message: bytes


@value_type
class Audit:
    """One query in the audit."""

    kind: str
    received_at: datetime
    requester: str
    answer: str
    reference: str | None = None
    control: str | None = None
    atn: str | None = None
    purpose: str | None = None
    subject: str | None = None


@value_type
class Detainer:
    number: int
    person_id: str
    qrn: str
    requester: str
    at: datetime
    basis: str


@value_type
class Lead:
    number: int
    person_id: str
    qrn: str
    requester: str
    at: datetime
    reason: str


@value_type
class Filed:
    """An administrative message filed in the operator inbox."""

    number: int
    at: datetime
    sender: str
    control: str | None
    text: str


Write = Audit | Detainer | Lead | Filed


@value_type
class Answer:
    """What the LESC does for one delivered message."""

    replies: list[Reply]
    writes: list[Write]
    events: list[Event]


@value_type
class Numbers:
    """The numbers the store gives the detainer and the lead an IAQ's response lodges."""

    detainer: int | None = None
    lead: int | None = None
