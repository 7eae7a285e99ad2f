"""The LESC's answers (PROTOCOL §3), decided from values: a delivered message, the records it
needs and the time in; the messages to send (each with the time it is due), the writes to
make and the bus events out. No I/O: ``lesc.py`` fetches what these functions need from the
store and has the store carry out the writes, one unit per message.

* IAQ: an acknowledgement at once (``TYP/ACK``), then the response (``TYP/RSP``) after the
  processing delay; content the switch does not check (POB, OFF, ...) gets ``TYP/REJ``.
* YQ to a LESC ORI: a YR inside the 10-minute (urgent) or 1-hour (routine) window from the
  switch's receive time; an absconder record is answered ``CON/P`` first, then confirmed.
* AM to the LESC: filed in the operator inbox, with an AM reply naming the inbox number.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from formats.envelope import CRLF, InputMessage, OutputMessage
from formats.errors import MessageRejected
from formats.hit_confirmation import HitConfirmation, parse_hit_confirmation
from formats.iaq import Iaq, content_problems, parse_iaq
from formats.iar import Iar, IarType, Result
from formats.notices import SWITCH_ORI
from formats.tagged import build_fields
from formats.value_types import value_type
from lesc_daemon.answers import Answer, Audit, Detainer, Filed, Lead, Numbers, Reply, Write
from lesc_daemon.matching import Identity, Outcome, Subject
from lesc_daemon.narrative import narrative
from lesc_daemon.oris import LESC_ORI
from lesc_daemon.persons import NCIC_TYPES, STATUS_TEXT, NcicRecord, Person
from lesc_daemon.rules import Decision, Facts
from nlets_sim.bus.events import Event

RESPONDER_NAME = "LESC DUTY OFFICER"
RESPONDER_AGENCY = "ICE LESC WILLISTON VT"
RESPONDER_PHONE = "8025550100"  # a 555 number: fictional by design
PENDING_TYPES = frozenset({"ABSCONDER"})  # records confirmed only after a file review

HELP_TEXT = (
    f"ICE LAW ENFORCEMENT SUPPORT CENTER (SIMULATED), LINE AX, ORI {LESC_ORI}",
    "IAQ: SEND TO AX. REQUIRED PUR ATN PHN NAM DOB SEX POB CUS OFF; OPTIONAL ARN FBI SID OLN"
    " SOC REM.",
    "EVERY IAQ IS ACKNOWLEDGED AT ONCE (TYP/ACK); THE RESPONSE (TYP/RSP) FOLLOWS.",
    f"YQ: SEND TO {LESC_ORI} WITH THE NIC OF THE ICE RECORD. URGENT 10 MINUTES, ROUTINE 1 HOUR.",
    f"AM: SEND TO {LESC_ORI} FOR THE DUTY OFFICER.",
    "ALL DATA IS SYNTHETIC.",
)


# A YQ answered after its window (10 minutes urgent, 1 hour routine, from the switch's receive
# time) is audited with this mark and its priority after the CON/ answer: ``CON/Y LATE PRI/U``.
LATE_MARK = " LATE PRI/"


def kind_of(message: OutputMessage, lesc_oris: frozenset[str]) -> str | None:
    """Which of the LESC's answers a delivered message gets: IAQ, YQ, AM, or None (notices it
    only logs, its own messages, AMs from HELP files)."""
    if message.originator == SWITCH_ORI or message.originator in lesc_oris:
        return None
    match message.mke:
        case "IAQ":
            return "IAQ"
        case "YQ" if message.destination in lesc_oris:
            return "YQ"
        case "AM" | "AML" if not message.originator.endswith("HELP"):
            return "AM"
        case _:
            return None


def event(kind: str, requester: str, **fields: object) -> Event:
    """An event for the bus; its line is the requester's state (an ORI's first letters)."""
    return (kind, requester[:2], {"requester": requester, **fields})


def sender_for(message: OutputMessage, lesc_oris: frozenset[str]) -> str:
    """The LESC ORI an answer comes from: the one the message was sent to."""
    return message.destination if message.destination in lesc_oris else LESC_ORI


# IAQ -----------------------------------------------------------------------------------


def read_iaq(message: OutputMessage, today: date) -> Iaq | tuple[str, ...]:
    """The query, or the lines of its ``TYP/REJ`` (content the switch does not check)."""
    try:
        iaq = parse_iaq(message.text, today)
    except MessageRejected as rejected:
        return (rejected.code.line("IAQ"), *rejected.details)
    return content_problems(iaq) or iaq


def subject_of(iaq: Iaq, today: date) -> Subject:
    dob = iaq.birth_date(today)
    assert dob is not None  # parse_iaq refused a bad DOB
    return Subject(iaq.nam, dob, iaq.sex, iaq.arn, iaq.fbi, iaq.pob)


@value_type
class Found:
    """What the store found for an IAQ, what the rules decided, and the numbers the store gives
    what the response lodges (None: a response that only says what it would lodge)."""

    identity: Identity
    decision: Decision
    numbers: Numbers | None


def lodges(identity: Identity, decision: Decision) -> tuple[bool, bool]:
    """Whether the response lodges a detainer, and whether it refers a lead."""
    found = identity.person is not None
    return found and decision.detainer, found and decision.lead


def _iar_message(message: OutputMessage, sender: str, body: Iar) -> bytes:
    return _message("IAR", sender, message.originator, message.control, body.build())


def _ack(qrn: str) -> Iar:
    return Iar(qrn, IarType.ACK, ("QUERY RECEIVED. A RESPONSE WILL FOLLOW.",))


def rejected_iaq(
    message: OutputMessage, sender: str, qrn: str, problems: tuple[str, ...], now: datetime
) -> Answer:
    rejection = Iar(qrn, IarType.REJ, ("QUERY CANNOT BE PROCESSED:", *problems))
    return Answer(
        [
            Reply(now, _iar_message(message, sender, _ack(qrn))),
            Reply(now, _iar_message(message, sender, rejection)),
        ],
        [Audit("IAQ", now, message.originator, "REJ", reference=qrn, control=message.control)],
        [event("query-answered", message.originator, qrn=qrn, res="REJ", elapsed_ms=0)],
    )


def iaq_answer(
    message: OutputMessage,
    sender: str,
    qrn: str,
    iaq: Iaq,
    found: Found,
    *,
    now: datetime,
    delay: timedelta,
) -> Answer:
    """The acknowledgement now and the response after ``delay``, with its writes and events."""
    response, writes, events = respond(iaq, qrn, message.originator, now, found)
    events.append(
        event(
            "query-answered",
            message.originator,
            qrn=qrn,
            res=response.res.value if response.res else None,
            fap=response.fap.value if response.fap else None,
            purpose=iaq.pur,
            state=message.originator[:2],
            elapsed_ms=round(delay.total_seconds() * 1000),
            subject=iaq.nam,
            dob=iaq.dob,
        )
    )
    replies = [
        Reply(now, _iar_message(message, sender, _ack(qrn))),
        Reply(now + delay, _iar_message(message, sender, response)),
    ]
    return Answer(replies, writes, events)


def respond(
    iaq: Iaq,
    qrn: str,
    requester: str,
    now: datetime,
    found: Found,
) -> tuple[Iar, list[Write], list[Event]]:
    """The response to a valid IAQ, what it writes and its events. With no numbers the
    response only says what it would lodge, and writes nothing (``lesc-daemon query``)."""
    today = now.date()
    identity, decision, numbers = found.identity, found.decision, found.numbers
    writes: list[Write] = []
    events: list[Event] = []
    if numbers is None:
        planned = [
            text
            for text, due in (
                ("DETAINER WOULD BE LODGED.", decision.detainer),
                ("LEAD WOULD BE REFERRED.", decision.lead),
            )
            if due
        ]
        lines = narrative(iaq, identity, decision, today, planned)
        return Iar(qrn, IarType.RSP, lines, decision.res, decision.fap), writes, events
    actions = _act(
        identity.person,
        decision,
        numbers,
        qrn=qrn,
        requester=requester,
        now=now,
        writes=writes,
        events=events,
    )
    lines = narrative(iaq, identity, decision, today, actions)
    writes.append(
        Audit(
            "IAQ",
            now,
            requester,
            decision.res.value + (f"/{decision.fap.value}" if decision.fap else ""),
            reference=qrn,
            atn=iaq.atn,
            purpose=iaq.pur,
            subject=iaq.nam,
        )
    )
    return Iar(qrn, IarType.RSP, lines, decision.res, decision.fap), writes, events


def _act(
    person: Person | None,
    decision: Decision,
    numbers: Numbers,
    *,
    qrn: str,
    requester: str,
    now: datetime,
    writes: list[Write],
    events: list[Event],
) -> list[str]:
    """The detainer and the lead of the decision, written; their lines for ``ACTION:``."""
    if person is None:
        return []
    done = []
    basis = STATUS_TEXT[person.status.code] if person.status else "NCIC RECORD"
    if decision.res is Result.WT:
        basis = ", ".join(f"NIC/{r.nic}" for r in person.active_ncic)
    if decision.detainer:
        assert numbers.detainer is not None  # lodges() asked the store for one
        number = numbers.detainer
        writes.append(Detainer(number, person.id, qrn, requester, now, basis))
        done.append(f"DETAINER D{number:08d} LODGED WITH {requester}.")
        events.append(event("detainer-lodged", requester, qrn=qrn, detainer=f"D{number:08d}"))
    if decision.lead:
        assert numbers.lead is not None
        number = numbers.lead
        writes.append(Lead(number, person.id, qrn, requester, now, basis))
        done.append(f"LEAD {number:08d} REFERRED TO THE ICE FIELD OFFICE.")
        events.append(event("lead-referred", requester, qrn=qrn, lead=f"{number:08d}"))
    return done


# YQ ------------------------------------------------------------------------------------


def read_yq(message: OutputMessage, today: date) -> HitConfirmation | None:
    try:
        return parse_hit_confirmation("YQ", message.text, today)
    except MessageRejected:
        return None  # the switch checks YQ bodies; nothing valid to answer


def yq_answer(
    message: OutputMessage,
    yq: HitConfirmation,
    record: NcicRecord | None,
    *,
    cancelled: bool,
    now: datetime,
    delay: timedelta,
) -> Answer:
    """The YR(s) to a YQ about ``record`` (None: no such ICE record); ``cancelled``: the
    record's latest clear or cancel was a cancel."""
    deadline = message.received_at + timedelta(seconds=yq.window_s)
    due = min(now + delay, deadline - timedelta(minutes=1))
    due = max(due, now)

    def yr(confirmation: str, at: datetime, remark: str, cbt: str | None = None) -> Reply:
        body = _yr_fields(yq, confirmation, remark, cbt)
        return Reply(
            at, _message("YR", message.destination, message.originator, message.control, body)
        )

    request = {"1": "", "2": "SECOND REQUEST. ", "3": "THIRD REQUEST. "}[yq.value("RNO")]
    if record is None or not record.active:
        reason = "NO SUCH ICE RECORD"
        if record is not None:
            reason = "RECORD CANCELLED" if cancelled else "RECORD CLEARED"
        replies = [yr("N", due, f"{request}NOT CONFIRMED: {reason}")]
    elif record.type in PENDING_TYPES:
        cbt = deadline.strftime("%H%M")
        replies = [
            yr("P", due, f"{request}FILE REVIEW IN PROGRESS", cbt),
            yr(
                "Y",
                max(due, deadline - timedelta(minutes=1)),
                f"{request}CONFIRMED: {NCIC_TYPES[record.type]} ORI/{record.ori}",
            ),
        ]
    else:
        replies = [yr("Y", due, f"{request}CONFIRMED: {NCIC_TYPES[record.type]} ORI/{record.ori}")]
    final = "N" if record is None or not record.active else "Y"
    # answered after the window closed (a backlog after an outage): counted by the report
    late = f"{LATE_MARK}{yq.value('PRI')}" if now > deadline else ""
    answered = event(
        "hit-confirmation-answered",
        message.originator,
        con=final,
        request=yq.value("RNO"),
        window_s=yq.window_s,
        on_time=replies[-1].due <= deadline,
        nic=yq.value("NIC"),
    )
    audit = Audit(
        "YQ",
        now,
        message.originator,
        f"CON/{final}{late}",
        reference=yq.value("NIC"),
        control=message.control,
    )
    return Answer(replies, [audit], [answered])


# AM ------------------------------------------------------------------------------------


def am_answer(message: OutputMessage, number: int, now: datetime, sender: str) -> Answer:
    """Filed in the inbox as ``number``, with a reply that names it."""
    text = (
        f"ICE LESC RECEIVED YOUR MESSAGE. INBOX NUMBER {number:06d}.{CRLF}"
        "A DUTY OFFICER WILL REPLY."
    )
    return Answer(
        [Reply(now, _message("AM", sender, message.originator, message.control, text))],
        [
            Filed(number, now, message.originator, message.control, message.text),
            Audit(
                "AM",
                now,
                message.originator,
                f"INBOX {number}",
                reference=str(number),
                control=message.control,
            ),
        ],
        [],
    )


def facts(identity: Identity, iaq: Iaq, today: date) -> Facts:
    person = identity.person if identity.outcome is Outcome.MATCH else None
    status = person.status.effective(today) if person and person.status else "NONE"
    return {
        "identity": identity.outcome.value,
        "status": status,
        "active_ncic": bool(person and person.active_ncic),
        "firearms_exception": bool(person and person.firearms_exception),
        "purpose": iaq.pur,
        "cus": iaq.cus,
    }


def _yr_fields(yq: HitConfirmation, confirmation: str, remark: str, cbt: str | None) -> str:
    fields = [(tag, yq.value(tag)) for tag in ("RTY", "RNO", "PRI", "OCA", "NIC")]
    fields.append(("CON", confirmation))
    if cbt is not None:
        fields.append(("CBT", cbt))
    fields += [
        ("RNA", RESPONDER_NAME),
        ("RAG", RESPONDER_AGENCY),
        ("PHO", RESPONDER_PHONE),
        ("REM", remark),
    ]
    return build_fields(fields)


def _message(mke: str, sender: str, destination: str, control: str | None, text: str) -> bytes:
    return InputMessage(mke, sender, (destination,), text, control).build()
