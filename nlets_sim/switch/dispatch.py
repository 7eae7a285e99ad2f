"""A DT received: its sequence checked, the message checked and journaled, then answered
with an ER or delivered to each ORI and HELP file it names (or forwarded to the switch node
that serves them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from formats.codes import SmCode
from formats.envelope import CRLF, InputMessage, peek_header
from formats.errors import MessageRejected
from formats.notices import SWITCH_ORI, ErrorNotice, StatusNotice, echo
from nlets_sim.link.protocol import SwitchLink
from nlets_sim.switch import help_files
from nlets_sim.switch.cluster.bodies import expiry_of, input_body, outgoing_of, received_of
from nlets_sim.switch.directory import HelpAddress
from nlets_sim.switch.faults import InjectedStatus, injected_rejection
from nlets_sim.switch.keys import AML_CAVEAT, check_message
from nlets_sim.switch.limits import check_text_size
from nlets_sim.switch.routing import HelpRequest, Route, authorize, check_help_maintainer, resolve
from nlets_sim.switch.sessions import Sessions
from nlets_sim.switch.state import Outgoing, Received


class Dispatch(Sessions):
    """Receives, checks and routes messages."""

    __slots__ = ()

    def receive(self, conn: int, seq: int, payload: bytes, now: datetime) -> None:
        """A DT from a logged-on connection."""
        ori = self._conn_ori.get(conn)
        if ori is None:
            return
        self._now = now
        peer = self._peer(ori)
        if seq > peer.lst + 1:  # NK and close; no AK: nothing new was stored
            self._out(conn, SwitchLink.nak(seq, f"SEQUENCE GAP EXPECTED {peer.lst + 1}"))
            self._drop(conn)
            return
        self._ack_due.add(conn)
        if seq <= peer.lst:
            return  # a duplicate: acknowledged again, not routed again
        fault = self.faults.pick_inbound(payload) if self.faults.faults else None
        if fault is not None and fault.kind == "drop":
            return  # as if it never arrived: not stored, not acknowledged
        if fault is not None and fault.kind == "close":
            self._drop(conn)
            return
        peer.lst = seq
        self._dirty_peers.add(ori)
        if conn not in self._first_dt:
            self._first_dt[conn] = seq
        number = self._count(self.directory.agencies[ori].line, "input")
        received = Received(ori, payload, now, number)
        if fault is not None:  # reply with the ER or SM the rule gives
            self._reject(received, seq, injected_rejection(fault, payload))
            return
        self._route(received, seq)

    def _checked(self, received: Received) -> InputMessage:
        """The input, parsed and checked (raises ``MessageRejected``)."""
        directory, logon_ori = self.directory, received.logon_ori
        return check_message(
            received.raw,
            received.at.date(),
            lambda message, rule: authorize(directory, logon_ori, message, rule),
        ).message

    def _journal_input(self, received: Received, seq: int, message: InputMessage) -> Received:
        return self._journaled(
            received,
            seq,
            sender_ori=message.sender,
            mke=message.mke,
            destinations=",".join(message.destinations),
            control=message.control,
        )

    def _route(self, received: Received, seq: int) -> None:
        directory = self.directory
        try:
            message = self._checked(received)
            check_text_size(message.text)
            routes = resolve(directory, message)
            for route in routes:
                if isinstance(route, HelpRequest):
                    check_help_maintainer(message.sender, route.address, directory)
        except MessageRejected as rejected:
            self._reject(received, seq, rejected)
            return
        received = self._journal_input(received, seq, message)
        if self.events is not None:
            fields = {
                "sender": message.sender,
                "mke": message.mke,
                "dest": list(message.destinations),
                "msg": received.message_id,
            }
            self.event("accepted", received.logon_ori, fields, message.text)
        self._dispatch(received, seq, message, routes)

    def _dispatch(
        self,
        received: Received,
        seq: int,
        message: InputMessage,
        routes: list[Route],
        *,
        forward: bool = True,
    ) -> None:
        """Carry out the routes served here; with ``forward``, send the input once to each
        other node that serves a route (a switch node; it carries out its own)."""
        text = message.text
        if message.mke == "AML":
            text = f"{AML_CAVEAT}{CRLF}{text}"
        outgoing = received.outgoing(message.mke, message.sender, message.control, text)
        remote: set[str] = set()
        for route in routes:
            node = self._node_of_route(route)
            if node is not None:
                remote.add(node)
            elif isinstance(route, HelpRequest):
                self._help(received, message, route.address)
            else:
                self._deliver_message(received, outgoing, route.ori)
        if forward and self.cluster is not None:
            for node in sorted(remote):
                self.cluster.send(node, input_body(received, seq))

    def _node_of_route(self, route: Route) -> str | None:
        if self.cluster is None:
            return None
        if isinstance(route, HelpRequest):
            return self.cluster.remote_node(route.address.line)
        return self._remote(route.ori)

    def apply_forward(self, node: str, n: int, body: dict[str, Any], now: datetime) -> None:
        """Forward ``n`` from ``node``: routed or delivered here, once, in order."""
        assert self.cluster is not None
        if not self.cluster.arrived(node, n):
            return
        if body["k"] != "in":
            outgoing, expires, notify = outgoing_of(body), expiry_of(body), body["notify"]
            if body["k"] == "to":
                self._to_ori(body["to"], outgoing, now, expires=expires, notify=notify)
            else:
                self._deliver(
                    body["session"], body["to"], outgoing, now, expires=expires, notify=notify
                )
            return
        received, seq = received_of(body)
        try:  # the sending node checked it with the same directory: this only parses
            message = self._checked(received)
        except MessageRejected:
            return
        received = self._journal_input(received, seq, message)
        self._dispatch(received, seq, message, resolve(self.directory, message), forward=False)

    def _help(self, received: Received, message: InputMessage, address: HelpAddress) -> None:
        name = address.file_ori
        current = self.help.get(name, "")
        content = help_files.apply(address, current, message.text)
        if len(content) > help_files.MAX_HELP_BYTES and address.verb != "HELP":
            reply = help_files.refusal(address, len(content), current)
        else:
            if address.verb != "HELP":
                self.help[name] = content
                self.journal.set_help(name, content)
            reply = help_files.reading(address, content)
        answer = received.outgoing("AM", name, message.control, reply)
        self._deliver(received.logon_ori, message.sender, answer, received.at)

    def _deliver_message(self, received: Received, outgoing: Outgoing, target: str) -> None:
        agency = self.directory.agencies[target]
        status = None
        if (agency.line, outgoing.mke) in self.removed:
            status = SmCode.WILL_NOT_FORWARD
        elif not agency.accepts_key(outgoing.mke):
            status = SmCode.DOES_NOT_RESPOND
        elif target == SWITCH_ORI:
            return  # the switch's own mailbox: the journal holds it
        elif self._to_ori(
            target,
            outgoing,
            received.at,
            expires=received.at + self.store_expiry,
            notify=received.logon_ori,
        ):
            status = SmCode.WILL_FORWARD
        if status is not None:
            notice = StatusNotice(status, target, echo(received.raw)).build()
            answer = received.outgoing("SM", SWITCH_ORI, outgoing.control, notice)
            self._deliver(received.logon_ori, outgoing.originator, answer, received.at)

    def _journaled(self, received: Received, seq: int, **fields: str | None) -> Received:
        """Record the input in the journal; the same input, with its journal number."""
        message_id = self.journal.record_message(
            received.at, received.logon_ori, seq, received.input_number, received.raw, **fields
        )
        return Received(
            received.logon_ori, received.raw, received.at, received.input_number, message_id
        )

    def _reject(self, received: Received, seq: int, rejected: MessageRejected) -> None:
        received = self._journaled(received, seq, error=rejected.code.line(rejected.mke))
        if isinstance(rejected, InjectedStatus):
            mke, code = "SM", rejected.status.number
            text = StatusNotice(rejected.status, rejected.destination, echo(received.raw)).build()
        else:
            mke, code = "ER", rejected.code.number
            text = ErrorNotice(
                rejected.code, rejected.details, echo(received.raw), rejected.mke
            ).build()
        if self.events is not None:
            fields = {"answer": mke, "code": code, "msg": received.message_id}
            raw = received.raw.decode("ascii", "replace")
            self.event("rejected", received.logon_ori, fields, raw)
        sender, control = peek_header(received.raw)
        if sender is None or not self.directory.may_send_as(received.logon_ori, sender):
            sender = received.logon_ori
        answer = received.outgoing(mke, SWITCH_ORI, control, text)
        self._deliver(received.logon_ori, sender, answer, received.at)
