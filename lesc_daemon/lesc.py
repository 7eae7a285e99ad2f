"""The LESC at its desk: for one delivered message, the store gives the records the core
needs (the query number, the persons of the matcher's lookups, an ICE record, the numbers of
what is lodged or filed), the core decides (``responder.py``, ``matching.py``, ``rules.py``:
pure), and the store carries out the writes it returns. Run it inside the store's
``message_unit`` so that those writes stay or go together (``batch.py``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from formats.envelope import OutputMessage
from formats.iaq import Iaq
from formats.iar import Iar
from lesc_daemon.answers import Answer, Numbers, Reply
from lesc_daemon.matching import Identity, Subject, search
from lesc_daemon.ncic_desk import cancelled
from lesc_daemon.responder import (
    Found,
    am_answer,
    facts,
    iaq_answer,
    kind_of,
    lodges,
    read_iaq,
    read_yq,
    rejected_iaq,
    respond,
    sender_for,
    subject_of,
    yq_answer,
)
from lesc_daemon.rules import Rules
from lesc_daemon.store import Store
from nlets_sim.bus.events import Event

NOTHING = Answer([], [], [])


class Lesc:
    def __init__(self, store: Store, rules: Rules, lesc_oris: frozenset[str]) -> None:
        self.store = store
        self.rules = rules
        self.lesc_oris = lesc_oris
        self.events: list[Event] | None = None  # a list: collect events for the bus

    def handle(self, message: OutputMessage, now: datetime, delay: timedelta) -> list[Reply]:
        """What the LESC sends for one delivered message (nothing for notices it only logs),
        its writes carried out."""
        answer = self.answer(message, now, delay)
        if answer.writes:
            self.store.carry_out(answer.writes)
        if self.events is not None:
            self.events.extend(answer.events)
        return answer.replies

    def answer(self, message: OutputMessage, now: datetime, delay: timedelta) -> Answer:
        """The core's answer to one message, from the records the store holds; nothing is
        written yet."""
        today = now.date()
        match kind_of(message, self.lesc_oris):
            case "IAQ":
                qrn = self.store.next_query_number(today)
                sender = sender_for(message, self.lesc_oris)
                iaq = read_iaq(message, today)
                if not isinstance(iaq, Iaq):
                    return rejected_iaq(message, sender, qrn, iaq, now)
                found = self.find(iaq, now, act=True)
                return iaq_answer(message, sender, qrn, iaq, found, now=now, delay=delay)
            case "YQ":
                yq = read_yq(message, today)
                if yq is None:
                    return NOTHING
                nic = yq.value("NIC")
                stored = self.store.ncic_record(nic)
                record = stored[0] if stored else None
                was_cancelled = (
                    record is not None and not record.active and cancelled(self.store.db, nic)
                )
                return yq_answer(message, yq, record, cancelled=was_cancelled, now=now, delay=delay)
            case "AM":
                number = self.store.next_number("inbox")
                return am_answer(message, number, now, sender_for(message, self.lesc_oris))
            case _:
                return NOTHING

    def respond(
        self, iaq: Iaq, qrn: str, requester: str, now: datetime, *, act: bool = True
    ) -> Iar:
        """The response to a valid IAQ. With ``act`` false nothing is stored: no detainer, no
        lead, no audit (``lesc-daemon query``)."""
        response, writes, _ = respond(iaq, qrn, requester, now, self.find(iaq, now, act=act))
        self.store.carry_out(writes)
        return response

    def find(self, iaq: Iaq, now: datetime, *, act: bool) -> Found:
        """Who the query is about, what the rules decide, and, when it ``act``s, the numbers of
        the detainer and the lead it lodges."""
        today = now.date()
        identity = self.identify(subject_of(iaq, today))
        decision = self.rules.decide(facts(identity, iaq, today))
        if not act:
            return Found(identity, decision, None)
        detainer, lead = lodges(identity, decision)
        return Found(
            identity,
            decision,
            Numbers(
                self.store.next_number("detainers") if detainer else None,
                self.store.next_number("leads") if lead else None,
            ),
        )

    def identify(self, subject: Subject) -> Identity:
        """The matcher's search (``matching.search``), its lookups answered by the store."""
        steps = search(subject, self.store.by_identifiers(subject.arn, subject.fbi))
        lookup = next(steps)
        try:
            while True:
                lookup = steps.send(self.store.name_candidates(lookup.keys, lookup.dobs))
        except StopIteration as done:
            identity: Identity = done.value
            return identity
