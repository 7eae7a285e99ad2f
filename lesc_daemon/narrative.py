"""The lines of an IAQ response (PROTOCOL §3.3), from the query, the identity found, the
decision of the rules and the actions taken; pure."""

from __future__ import annotations

from datetime import date

from formats.dates import slash_date
from formats.iaq import PURPOSES, Iaq
from formats.iar import Firearms, Result
from lesc_daemon.matching import Identity
from lesc_daemon.names import unaccented
from lesc_daemon.persons import NCIC_TYPES, STATUS_TEXT, Person
from lesc_daemon.rules import Decision

FIREARMS_TEXT = {
    Firearms.P1: "PROHIBITED - ALIEN ILLEGALLY OR UNLAWFULLY IN THE UNITED STATES",
    Firearms.P2: "PROHIBITED - NONIMMIGRANT VISA HOLDER, NO EXCEPTION ON RECORD",
    Firearms.NP: "NOT PROHIBITED BY IMMIGRATION STATUS",
    Firearms.UD: "UNDETERMINED - THE LESC WILL CONTACT THE ATN",
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
