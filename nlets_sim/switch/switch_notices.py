"""What the switch sends of its own accord: SM .07. when a stored delivery expires
(``tick``, at the deadline ``next_deadline`` gives), an operator's status SM to every line's
control terminal, and a line's message key taken out of service or back.
"""

from __future__ import annotations

from datetime import datetime

from formats.codes import SmCode
from formats.envelope import peek_header
from formats.notices import SWITCH_ORI, StatusNotice, echo
from nlets_sim.switch.delivery import Delivery
from nlets_sim.switch.journal_faults import JournalDamaged
from nlets_sim.switch.state import Outgoing


class SwitchNotices(Delivery):
    """Expiry and the operator's actions."""

    __slots__ = ()

    def tick(self, now: datetime) -> None:
        """Expire stored messages whose time has come (SM .07. to whoever sent them); a
        damaged page leaves them for the next tick."""
        self._now = now
        deadline = self.next_deadline()
        if deadline is None or deadline > now:
            return
        try:
            due = self.journal.due_for_expiry(now)
        except JournalDamaged as damaged:
            self.unreadable["(expiry)"] = damaged.reason
            return
        for expired in due:
            self.deadlines.discard(expired.id)
            self.journal.expire(expired.id)
            addressed, notify = expired.addressed_ori, expired.notify_ori
            self.note("expired", expired.ori, to=addressed, seq=expired.seq, notify=notify)
            if notify:
                notice = StatusNotice(SmCode.EXPIRED, addressed, echo(expired.raw)).build()
                control = peek_header(expired.raw)[1]  # returned in every reply (§2.1)
                outgoing = Outgoing("SM", SWITCH_ORI, control, notice, now, 0, None)
                self._to_ori(notify, outgoing, now)

    def next_deadline(self) -> datetime | None:
        """When the next stored delivery expires (from memory: no journal read)."""
        return self.deadlines.first()

    def operator_status(self, text: str, now: datetime) -> list[str]:
        """An operator's status message (§2.4: ``NLETS TEMPORARILY OUT OF SERVICE UNTIL ...``,
        ``NLETS IN SERVICE``): an SM from ``NL0000000`` to every line's control terminal,
        ahead of what is queued for it; stored for one that is not logged on. It takes the
        next input number of line NL; returns the control terminals. A switch node tells only
        the control terminals of its own lines: each node is asked, as by ``replay``."""
        lines = list(self.directory.lines.values())
        if self.cluster is not None:  # each node tells its own lines' (the operator asks all)
            lines = [line for line in lines if self.cluster.remote_node(line.code) is None]
        controls = sorted({line.control_ori for line in lines} - {SWITCH_ORI})
        number = self._count(SWITCH_ORI[:2], "input")  # line NL, the switch's own
        message_id = self.journal.record_message(
            now,
            SWITCH_ORI,
            0,
            number,
            text.encode("ascii"),
            sender_ori=SWITCH_ORI,
            mke="SM",
            destinations=",".join(controls),
        )
        outgoing = Outgoing("SM", SWITCH_ORI, None, text, now, number, message_id)
        for ori in controls:
            self._deliver(ori, ori, outgoing, now, expires=now + self.store_expiry)
        return controls

    def set_removed(self, line: str, mke: str, removed: bool) -> None:
        self.journal.set_removed(line, mke, removed)
        if self.events is not None:
            self.events.append(("removed" if removed else "restored", line, {"mke": mke}))
        if removed:
            self.removed.add((line, mke))
        else:
            self.removed.discard((line, mke))
