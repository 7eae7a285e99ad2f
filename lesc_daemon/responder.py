"""The LESC's answers (PROTOCOL §3): a delivered message in, the messages to send out, each
with the time it is due. Time is passed in; the only I/O is the store.

* IAQ: an acknowledgement at once (``TYP/ACK``), then the response (``TYP/RSP``) after the
  processing delay; content the switch does not check (POB, OFF, ...) gets ``TYP/REJ``.
* YQ to a LESC ORI: a YR inside the 10-minute (urgent) or 1-hour (routine) window from the
  switch's receive time; an absconder record is answered ``CON/P`` first, then confirmed.
* AM to the LESC: filed in the operator inbox, with an AM reply naming the inbox number.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from formats.dates import slash_date
from formats.envelope import CRLF, InputMessage, OutputMessage
from formats.errors import MessageRejected
from formats.hit_confirmation import HitConfirmation, parse_hit_confirmation
from formats.iaq import PURPOSES, Iaq, content_problems, parse_iaq
from formats.iar import Firearms, Iar, IarType, Result
from formats.notices import SWITCH_ORI
from formats.tagged import build_fields
from formats.value_types import value_type
from lesc_daemon.matching import Identity, Outcome, Subject, identify, near_dobs
from lesc_daemon.names import name_keys, surname_keys, unaccented
from lesc_daemon.ncic_desk import LATE_MARK, cancelled
from lesc_daemon.oris import LESC_ORI
from lesc_daemon.persons import NCIC_TYPES, STATUS_TEXT, Person
from lesc_daemon.rules import Decision, Facts, Rules
from lesc_daemon.store import Store, candidate_dobs
from nlets_sim.bus.events import Event

RESPONDER_NAME = "LESC DUTY OFFICER"
RESPONDER_AGENCY = "ICE LESC WILLISTON VT"
RESPONDER_PHONE = "8025550100"  # a 555 number: fictional by design
PENDING_TYPES = frozenset({"ABSCONDER"})  # records confirmed only after a file review

FIREARMS_TEXT = {
    Firearms.P1: "PROHIBITED - ALIEN ILLEGALLY OR UNLAWFULLY IN THE UNITED STATES",
    Firearms.P2: "PROHIBITED - NONIMMIGRANT VISA HOLDER, NO EXCEPTION ON RECORD",
    Firearms.NP: "NOT PROHIBITED BY IMMIGRATION STATUS",
    Firearms.UD: "UNDETERMINED - THE LESC WILL CONTACT THE ATN",
}

HELP_TEXT = (
    f"ICE LAW ENFORCEMENT SUPPORT CENTER (SIMULATED), LINE AX, ORI {LESC_ORI}",
    "IAQ: SEND TO AX. REQUIRED PUR ATN PHN NAM DOB SEX POB CUS OFF; OPTIONAL ARN FBI SID OLN"
    " SOC REM.",
    "EVERY IAQ IS ACKNOWLEDGED AT ONCE (TYP/ACK); THE RESPONSE (TYP/RSP) FOLLOWS.",
    f"YQ: SEND TO {LESC_ORI} WITH THE NIC OF THE ICE RECORD. URGENT 10 MINUTES, ROUTINE 1 HOUR.",
    f"AM: SEND TO {LESC_ORI} FOR THE DUTY OFFICER.",
    "ALL DATA IS SYNTHETIC.",
)


@value_type
class Reply:
    """A message to send when ``due`` comes."""

    due: datetime
    message: bytes


class Responder:
    def __init__(self, store: Store, rules: Rules, lesc_oris: frozenset[str]) -> None:
        self.store = store
        self.rules = rules
        self.lesc_oris = lesc_oris
        self.events: list[Event] | None = None  # a list: collect events for the bus

    def note(self, kind: str, requester: str, **fields: object) -> None:
        """An event for the bus; its line is the requester's state (an ORI's first letters)."""
        if self.events is not None:
            self.events.append((kind, requester[:2], {"requester": requester, **fields}))

    def handle(self, message: OutputMessage, now: datetime, delay: timedelta) -> list[Reply]:
        """What the LESC sends for one delivered message (nothing for notices it only logs)."""
        if message.originator == SWITCH_ORI or message.originator in self.lesc_oris:
            return []
        match message.mke:
            case "IAQ":
                return self.on_iaq(message, now, delay)
            case "YQ" if message.destination in self.lesc_oris:
                return self.on_yq(message, now, delay)
            case "AM" | "AML" if not message.originator.endswith("HELP"):
                return self.on_am(message, now)
            case _:
                return []

    # IAQ -------------------------------------------------------------------------------

    def on_iaq(self, message: OutputMessage, now: datetime, delay: timedelta) -> list[Reply]:
        today = now.date()
        qrn = self.store.next_query_number(today)
        sender = message.destination if message.destination in self.lesc_oris else LESC_ORI

        def iar(body: Iar) -> bytes:
            return _message("IAR", sender, message.originator, message.control, body.build())

        ack = Iar(qrn, IarType.ACK, ("QUERY RECEIVED. A RESPONSE WILL FOLLOW.",))
        try:
            iaq = parse_iaq(message.text, today)
        except MessageRejected as rejected:
            problems: tuple[str, ...] = (rejected.code.line("IAQ"), *rejected.details)
        else:
            problems = content_problems(iaq)
        if problems:
            self.store.audit(
                "IAQ", now, message.originator, "REJ", reference=qrn, control=message.control
            )
            rejection = Iar(qrn, IarType.REJ, ("QUERY CANNOT BE PROCESSED:", *problems))
            self.note("query-answered", message.originator, qrn=qrn, res="REJ", elapsed_ms=0)
            return [Reply(now, iar(ack)), Reply(now, iar(rejection))]
        response = self.respond(iaq, qrn, message.originator, now)
        self.note(
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
        return [Reply(now, iar(ack)), Reply(now + delay, iar(response))]

    def respond(
        self, iaq: Iaq, qrn: str, requester: str, now: datetime, *, act: bool = True
    ) -> Iar:
        """The response to a valid IAQ. With ``act`` false nothing is stored: no detainer, no
        lead, no audit (``lesc-daemon query``)."""
        today = now.date()
        dob = iaq.birth_date(today)
        assert dob is not None  # parse_iaq refused a bad DOB
        identity = self.identify(Subject(iaq.nam, dob, iaq.sex, iaq.arn, iaq.fbi, iaq.pob))
        decision = self.rules.decide(facts(identity, iaq, today))
        if not act:
            planned = [
                text
                for text, due in (
                    ("DETAINER WOULD BE LODGED.", decision.detainer),
                    ("LEAD WOULD BE REFERRED.", decision.lead),
                )
                if due
            ]
            return Iar(
                qrn,
                IarType.RSP,
                narrative(iaq, identity, decision, today, planned),
                decision.res,
                decision.fap,
            )
        actions = self._act(identity.person, decision, qrn, requester, now)
        lines = narrative(iaq, identity, decision, today, actions)
        self.store.audit(
            "IAQ",
            now,
            requester,
            decision.res.value + (f"/{decision.fap.value}" if decision.fap else ""),
            reference=qrn,
            atn=iaq.atn,
            purpose=iaq.pur,
            subject=iaq.nam,
        )
        return Iar(qrn, IarType.RSP, lines, decision.res, decision.fap)

    def identify(self, subject: Subject) -> Identity:
        """Search the store for the subject: identifiers; then, until one gives a match, the
        blocks of the surname's parts with the DOB (a match needs the DOB exact: most queries
        end here, with a candidate or two); the blocks of every name part with the DOB, day
        and month swapped and the year off by one (swapped names, a misspelt surname, near
        misses); and, when still nobody is found, the surname's blocks with the dates one
        digit off (rarer and costlier: it could add candidates to a possible identity, never
        make a match)."""
        by_identifier = self.store.by_identifiers(subject.arn, subject.fbi)
        surname = surname_keys(subject.name)
        found = self.store.name_candidates(surname, (subject.dob,))
        identity = identify(subject, by_identifier, found)
        if identity.outcome is not Outcome.MATCH:
            near = candidate_dobs(subject.dob)
            found = self.store.name_candidates(name_keys(subject.name), near)
            identity = identify(subject, by_identifier, found)
        if identity.outcome is Outcome.NONE:
            found += self.store.name_candidates(surname, near_dobs(subject.dob))
            identity = identify(subject, by_identifier, found)
        return identity

    def _act(
        self, person: Person | None, decision: Decision, qrn: str, requester: str, now: datetime
    ) -> list[str]:
        if person is None:
            return []
        done = []
        basis = STATUS_TEXT[person.status.code] if person.status else "NCIC RECORD"
        if decision.res is Result.WT:
            basis = ", ".join(f"NIC/{r.nic}" for r in person.active_ncic)
        if decision.detainer:
            number = self.store.lodge_detainer(person.id, qrn, requester, now, basis)
            done.append(f"DETAINER D{number:08d} LODGED WITH {requester}.")
            self.note("detainer-lodged", requester, qrn=qrn, detainer=f"D{number:08d}")
        if decision.lead:
            number = self.store.refer_lead(person.id, qrn, requester, now, basis)
            done.append(f"LEAD {number:08d} REFERRED TO THE ICE FIELD OFFICE.")
            self.note("lead-referred", requester, qrn=qrn, lead=f"{number:08d}")
        return done

    # YQ --------------------------------------------------------------------------------

    def on_yq(self, message: OutputMessage, now: datetime, delay: timedelta) -> list[Reply]:
        try:
            yq = parse_hit_confirmation("YQ", message.text, now.date())
        except MessageRejected:
            return []  # the switch checks YQ bodies; nothing valid to answer
        deadline = message.received_at + timedelta(seconds=yq.window_s)
        due = min(now + delay, deadline - timedelta(minutes=1))
        due = max(due, now)
        found = self.store.ncic_record(yq.value("NIC"))
        record = found[0] if found else None

        def yr(confirmation: str, at: datetime, remark: str, cbt: str | None = None) -> Reply:
            body = _yr_fields(yq, confirmation, remark, cbt)
            return Reply(
                at, _message("YR", message.destination, message.originator, message.control, body)
            )

        request = {"1": "", "2": "SECOND REQUEST. ", "3": "THIRD REQUEST. "}[yq.value("RNO")]
        if record is None or not record.active:
            reason = "NO SUCH ICE RECORD"
            if record is not None:
                reason = (
                    "RECORD CANCELLED" if cancelled(self.store.db, record.nic) else "RECORD CLEARED"
                )
            answer = [yr("N", due, f"{request}NOT CONFIRMED: {reason}")]
        elif record.type in PENDING_TYPES:
            cbt = deadline.strftime("%H%M")
            answer = [
                yr("P", due, f"{request}FILE REVIEW IN PROGRESS", cbt),
                yr(
                    "Y",
                    max(due, deadline - timedelta(minutes=1)),
                    f"{request}CONFIRMED: {NCIC_TYPES[record.type]} ORI/{record.ori}",
                ),
            ]
        else:
            answer = [
                yr("Y", due, f"{request}CONFIRMED: {NCIC_TYPES[record.type]} ORI/{record.ori}")
            ]
        final = "N" if record is None or not record.active else "Y"
        # answered after the window closed (a backlog after an outage): counted by the report
        late = f"{LATE_MARK}{yq.value('PRI')}" if now > deadline else ""
        self.note(
            "hit-confirmation-answered",
            message.originator,
            con=final,
            request=yq.value("RNO"),
            window_s=yq.window_s,
            on_time=answer[-1].due <= deadline,
            nic=yq.value("NIC"),
        )
        self.store.audit(
            "YQ",
            now,
            message.originator,
            f"CON/{final}{late}",
            reference=yq.value("NIC"),
            control=message.control,
        )
        return answer

    # AM --------------------------------------------------------------------------------

    def on_am(self, message: OutputMessage, now: datetime) -> list[Reply]:
        number = self.store.file_message(now, message.originator, message.control, message.text)
        self.store.audit(
            "AM",
            now,
            message.originator,
            f"INBOX {number}",
            reference=str(number),
            control=message.control,
        )
        text = (
            f"ICE LESC RECEIVED YOUR MESSAGE. INBOX NUMBER {number:06d}.{CRLF}"
            "A DUTY OFFICER WILL REPLY."
        )
        sender = message.destination if message.destination in self.lesc_oris else LESC_ORI
        return [Reply(now, _message("AM", sender, message.originator, message.control, text))]


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


def narrative(
    iaq: Iaq, identity: Identity, decision: Decision, today: date, actions: list[str]
) -> tuple[str, ...]:
    dob = iaq.birth_date(today)
    lines = [
        f"ATN/{iaq.atn} PHN/{iaq.phn} PUR/{iaq.pur} {PURPOSES.get(iaq.pur, '')}".rstrip(),
        f"SUBJECT: {iaq.nam} DOB {slash_date(dob) if dob else iaq.dob} SEX {iaq.sex} POB {iaq.pob}",
        f"SEARCHED: {', '.join(identity.searched)}",
    ]
    if identity.variants and decision.res is not Result.NR:
        label = "CLOSEST CANDIDATE" if decision.res is Result.PI else "MATCHED ON"
        lines.append(f"{label}: {', '.join(identity.variants)}")
    person = identity.person
    match decision.res:
        case Result.NR:
            lines.append("NO RECORD FOUND IN ANY INDEX SEARCHED.")
        case Result.PI:
            count = len(identity.candidates)
            lines.append(
                f"POSSIBLE IDENTITY: {count} CANDIDATE RECORD(S); IDENTIFIERS INSUFFICIENT."
            )
            lines.append("THE LESC WILL CONTACT THE ATN.")
        case _ if person is not None:
            lines.extend(_person_lines(person, decision, today))
    if decision.fap is not None:
        lines.append(f"FIREARMS: {decision.fap.value} {FIREARMS_TEXT[decision.fap]}")
    lines.append("ACTION: " + (" ".join(actions) if actions else "NONE"))
    return tuple(lines)


def _person_lines(person: Person, decision: Decision, today: date) -> list[str]:
    ids = " ".join(
        filter(None, (person.arn and f"A-NUMBER {person.arn}", person.fbi and f"FBI {person.fbi}"))
    )
    lines = [f"RECORD: {unaccented(person.names[0])} DOB {slash_date(person.dob)} {ids}".rstrip()]
    status = person.status
    if status is not None:
        text = STATUS_TEXT[status.code]
        if status.klass:
            text += f" CLASS {status.klass}"
        if status.until:
            expired = status.until < today
            text += f" {'EXPIRED' if expired else 'VALID UNTIL'} {slash_date(status.until)}"
        lines.append(f"STATUS: {text}")
    if decision.res is Result.WT:
        lines.extend(
            f"NCIC: NIC/{record.nic} ORI/{record.ori} {NCIC_TYPES[record.type]}. CONFIRM WITH YQ."
            for record in person.active_ncic
        )
    return lines


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
