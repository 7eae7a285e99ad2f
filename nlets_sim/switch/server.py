"""The asyncio shell around the switch core: TCP connections, timers, the admin socket.

Each connection's bytes go through its ``SwitchLink`` to events, the events to the ``Switch``;
one flush per turn of the event loop commits the journal and writes what the core returns
(group commit: all the messages that arrived in one turn share one transaction).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import structlog

from nlets_sim.bus.address import parse_broker_url
from nlets_sim.bus.events import Event
from nlets_sim.bus.publisher import EventPublisher
from nlets_sim.link.deadline_timer import DeadlineTimer
from nlets_sim.link.protocol import (
    AckReceived,
    DataReceived,
    HeartbeatDue,
    HeartbeatReceived,
    LinkEvent,
    LinkState,
    LogoffReceived,
    LogonRequested,
    LogonTimedOut,
    NakReceived,
    PeerSilent,
    ProtocolViolation,
    SwitchLink,
)
from nlets_sim.switch.admin import AdminServer
from nlets_sim.switch.cluster.node import NodeShell, checked_plan
from nlets_sim.switch.config import Config, ConfigError, lock_data_dir
from nlets_sim.switch.core import Switch
from nlets_sim.switch.directory import load_directory
from nlets_sim.switch.door import Door
from nlets_sim.switch.faults import make_fault
from nlets_sim.switch.journal import Journal
from nlets_sim.switch.journal_faults import JournalDamaged
from nlets_sim.switch.refusal_log import RefusalLog
from nlets_sim.switch.retention import Retention
from nlets_sim.switch.state import Close, Write
from nlets_sim.switch.tls_names import certificate_names

log = structlog.get_logger("nlets_sim.server")
LINGER_S = 2.0  # how long a closing connection waits for the peer's end of file

STOP_DRAIN_S = 2.0  # on stop, how long buffered events may take to reach the broker
ROUTED = frozenset({"accepted", "rejected"})  # events logged at info: one per message taken in


def log_events(logger: Any, events: list[Event]) -> None:
    """One info line per message the switch took in (``accepted`` or ``rejected``), debug
    lines for the rest; what may name a person is taken out by the log's own redaction."""
    info = logger.info
    debug = logger.debug if logger.is_enabled_for(logging.DEBUG) else None
    for kind, line, fields in events:
        if kind in ROUTED:
            info(kind, line=line, **fields)
        elif debug is not None:
            debug(kind, line=line, **fields)


class Connection(asyncio.Protocol):
    def __init__(self, server: SwitchServer, conn: int) -> None:
        self.server = server
        self.conn = conn
        self.loop = asyncio.get_running_loop()
        config = server.config
        self.link = SwitchLink(
            config.max_frame_bytes,
            now=self.loop.time(),
            heartbeat_s=config.heartbeat_s,
            logon_timeout_s=config.logon_timeout_s,
        )
        # the logon timeout, heartbeats and the dead peer: one timer at the link's deadline
        self.timer = DeadlineTimer(self.loop, self.link.next_deadline, self._tick)
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.close_reason = ""  # why the switch closed it (for the bus's "closed" event)
        self.held: deque[tuple[float, bytes]] = deque()  # writes waiting for a delay
        self._half_closed = False
        self.address = ""  # the peer's IP address, for logon throttling
        self.certificate: frozenset[str] | None = None  # client certificate's names, if required
        # bound once: a call through the module's lazy proxy costs several times more
        self.log = log.bind()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peername = transport.get_extra_info("peername")
        self.peer = str(peername)
        self.address = str(peername[0]) if isinstance(peername, tuple) else self.peer
        if self.server.config.tls_client_ca is not None:
            self.certificate = certificate_names(transport.get_extra_info("peercert"))
        self.server.connections[self.conn] = self
        self.timer.arm()

    def data_received(self, data: bytes) -> None:
        now = self.server.config.now()
        self._handle(self.link.receive_data(data, self.loop.time()), now)
        self._serve_held(now)
        self.server.schedule_flush()
        self.timer.arm()

    def _serve_held(self, now: datetime) -> None:
        """The frames that arrived behind the LI, once the logon is accepted."""
        while self.link.state is LinkState.ACTIVE and self.link.waiting:
            self._handle(self.link.receive_data(b"", self.loop.time()), now)

    def _tick(self) -> None:
        """The link's timer: the logon timeout, a heartbeat to send, a dead peer."""
        for event in self.link.tick(self.loop.time()):
            match event:
                case HeartbeatDue(frame):
                    self.write(frame)
                case LogonTimedOut(reply):
                    self.write(reply)
                    self.close()
                case PeerSilent():
                    log.info("dead peer", ori=self.link.ori, peer=self.peer)
                    self.close_reason = "dead peer"
                    self.close(linger=False)

    def _handle(self, events: list[LinkEvent], now: datetime) -> None:
        switch = self.server.switch
        for event in events:
            if switch.closing(self.conn):  # e.g. after a sequence gap: the rest goes unread
                self.link.close()
                return
            match event:
                case DataReceived(seq, payload):
                    self.log.debug("DT", ori=self.link.ori, seq=seq, bytes=len(payload))
                    switch.receive(self.conn, seq, payload, now)
                case AckReceived(seq):
                    switch.acknowledged(self.conn, seq)
                case HeartbeatReceived():
                    pass
                case LogonRequested():
                    self.server.door.logon(self, event, now)
                case NakReceived(seq, reason):
                    switch.refused(self.conn, seq, now)
                    log.info("delivery refused", ori=self.link.ori, seq=seq, reason=reason)
                case LogoffReceived():
                    self.close_reason = "logoff"
                    switch.logoff(self.conn)
                case ProtocolViolation(reason, reply):
                    self.close_reason = f"protocol violation: {reason}"
                    switch.violation(self.conn, reply)
                    self.server.refusals.log(
                        "protocol violation", ori=self.link.ori, peer=self.peer, reason=reason
                    )

    def logon_decided(self, now: datetime) -> None:
        """The door has answered a logon that waited for its key check."""
        self._serve_held(now)
        self.server.schedule_flush()
        self.timer.arm()

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing() and not self._half_closed:
            self.transport.write(data)
            self.link.sent(self.loop.time())

    def send(self, data: bytes, delay_s: float) -> None:
        """Write now, or after ``delay_s``; while a write is held, later ones wait behind it
        so that the terminal still sees its deliveries in seq order."""
        if delay_s <= 0 and not self.held:
            self.write(data)
            return
        self.held.append((delay_s, data))
        if len(self.held) == 1:
            self._release()

    def _release(self) -> None:
        while self.held:
            delay_s, data = self.held[0]
            if delay_s > 0:
                self.held[0] = (0.0, data)
                self.loop.call_later(delay_s, self._release)
                return
            self.held.popleft()
            self.write(data)

    def close(self, *, linger: bool = True) -> None:
        """Close after what was written. With ``linger``, over TCP: half-close, drop what still
        arrives, and close on the peer's end of file or after ``LINGER_S``, so that the peer
        reads the last frame (an NK, an LJ) instead of a reset for bytes it sent after it."""
        self.link.close()
        self.timer.cancel()
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if linger and transport.can_write_eof():
            if not self._half_closed:
                self._half_closed = True
                transport.write_eof()
                self.loop.call_later(LINGER_S, transport.close)
            return
        transport.close()

    def connection_lost(self, _exc: Exception | None) -> None:
        self.link.close()
        self.timer.cancel()
        self.server.connections.pop(self.conn, None)
        self.server.switch.disconnected(self.conn)
        self.server.schedule_flush()
        if self.link.ori:
            reason = self.close_reason or "connection lost"
            self.server.switch.note("closed", self.link.ori, reason=reason)
            log.info("disconnected", ori=self.link.ori, peer=self.peer)


class SwitchServer:
    """A running switch: start, then ``port`` is bound; ``stop`` closes everything."""

    def __init__(self, config: Config) -> None:
        self.config = config
        directory = load_directory(config.directory_path)
        next_numbers = {
            (line, kind): number
            for kind, counters in (
                ("input", config.input_counters),
                ("output", config.output_counters),
            )
            for line, number in counters.items()
        }
        unknown = sorted({line for line, _ in next_numbers} - set(directory.lines))
        if unknown:
            raise ConfigError(f"counters for lines not in the directory: {', '.join(unknown)}")
        plan = None
        if config.cluster is not None:
            plan = checked_plan(config.cluster, config.node, directory, config.mqtt)
        self._lock = lock_data_dir(config.data_dir)
        self.journal = Journal(config.journal_path)
        self.journal.checkpoint_in_background(wal_limit_bytes=config.wal_limit_bytes)
        self.retention = Retention(self.journal)
        self.switch = Switch(
            directory,
            self.journal,
            window=config.window,
            heartbeat_s=config.heartbeat_s,
            store_expiry=config.store_expiry,
            next_numbers=next_numbers,
            held_per_ori=config.held_per_ori,
        )
        for rule in config.faults:
            self.switch.faults.add(make_fault(dict(rule)))
        self.connections: dict[int, Connection] = {}
        self.refusals = RefusalLog(
            log, lines=config.refusal_log_lines, period_s=config.refusal_log_period_s
        )
        self.door = Door(config, self.switch, self.refusals, self.displacing)
        self._ids = itertools.count(1)
        self._flush_scheduled = False
        self._server: asyncio.Server | None = None
        self._admin = AdminServer(self)
        self._watch_task: asyncio.Task[None] | None = None
        self._journal_failed_since: float | None = None
        self.publisher: EventPublisher | None = None
        if config.mqtt is not None:
            self.publisher = EventPublisher(
                parse_broker_url(config.mqtt, config.mqtt_ca),
                config.node,
                client_id=f"nlets-sim-{config.node}-events",
                capacity=config.event_buffer,
                with_text=config.events_with_text,
            )
        self.switch.events = []  # for the log's line per message, and for the bus
        # text in the events for a log that keeps it; the publisher strips it unless its own
        self.switch.events_with_text = config.events_with_text or config.log_with_text
        self.node = NodeShell(self, plan) if plan is not None else None
        self.log = log.bind()  # a line per message: cheaper than the module's lazy proxy
        self.started = time.monotonic()
        self.port = config.port

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: Connection(self, next(self._ids)),
            self.config.host,
            self.config.port,
            ssl=self.config.tls_context(),
        )
        self.port = self._server.sockets[0].getsockname()[1]
        await self._admin.start(self.config.admin_path)
        self._watch_task = asyncio.create_task(self._watch())
        if self.publisher is not None:
            self.publisher.start()
        if self.node is not None:
            self.node.link.start()
        self.switch.tick(self.config.now())
        self.schedule_flush()

    async def stop(self) -> None:
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
        await self._admin.stop()
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections.values()):
            connection.close(linger=False)
        if self._server is not None:
            await self._server.wait_closed()
        self.door.close()
        self._flush()
        if self.node is not None:
            await self.node.link.stop()
        if self.publisher is not None:
            await self.publisher.stop(STOP_DRAIN_S)
        self.journal.close()
        self._lock.close()

    def schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        switch = self.switch
        self._retained(self.retention.with_batch)
        commands = switch.flush()
        self._log_journal_state()
        events = switch.events
        if events:
            log_events(self.log, events)
            if self.publisher is not None:
                self.publisher.offer(events, self.config.now().isoformat())
            events.clear()
        if self.node is not None:
            self.node.after_commit()
        for command in commands:
            connection = self.connections.get(command.conn)
            if connection is None:
                continue
            match command:
                case Write(_, data, delay_s):
                    connection.send(data, delay_s)
                case Close(_):
                    connection.close_reason = connection.close_reason or "closed by the switch"
                    connection.close()

    def _log_journal_state(self) -> None:
        """One log line when the journal stops taking writes, one when it takes them again."""
        failure = self.journal.failure
        if (failure is None) == (self._journal_failed_since is None):
            return
        if failure is not None:
            log.error("journal cannot store: refusing traffic", reason=failure.reason)
            self._journal_failed_since = failure.since
        else:
            log.warning("journal stores again: traffic accepted")
            self._journal_failed_since = None

    def displacing(self, ori: str) -> None:
        """A logon of ``ori`` is coming: its current connection, if any, is being displaced."""
        session = self.switch.sessions.get(ori)
        connection = self.connections.get(session.conn) if session is not None else None
        if connection is not None:
            connection.close_reason = "displaced by a new logon"

    async def _watch(self) -> None:
        """The journal's health and retention, the cluster's re-sends and the store's expiry,
        a few times a second (each link arms its own timer)."""
        period = min(1.0, self.config.heartbeat_s / 4)
        while True:
            await asyncio.sleep(period)
            self.check_timers(time.monotonic())

    def check_timers(self, now: float) -> None:
        config = self.config
        if self.journal.failure is not None:
            self.journal.probe()
            self._log_journal_state()
        else:
            self._retain()
        if self.node is not None:
            self.node.check(now)
        deadline = self.switch.next_deadline()
        switch_now = config.now()
        if deadline is not None and deadline <= switch_now:
            self.switch.tick(switch_now)
            self.schedule_flush()

    def _retain(self) -> None:
        """A turn of journal retention (see ``Retention``), written with the next batch."""
        config = self.config
        older_than = None
        if config.retention_s > 0:
            older_than = config.now() - timedelta(seconds=config.retention_s)

        def turn() -> None:
            over = 0 < config.retention_bytes < self.journal.used_bytes()
            self.retention.turn(older_than, over)

        self._retained(turn)
        self.schedule_flush()

    def _retained(self, step: Callable[[], None]) -> None:
        """A step of retention; a damaged page it meets is shown in ``status``, not raised."""
        if self.journal.failure is not None:
            return  # the batch would be refused anyway; the probe finds when to go on
        try:
            step()
        except JournalDamaged as damaged:
            self.switch.unreadable["(retention)"] = damaged.reason

    def status(self) -> dict[str, Any]:
        unreadable = dict(self.switch.unreadable)
        try:
            queues, dead_letters = self.journal.queue_depths(), self.journal.dead_letters()
        except JournalDamaged as damaged:
            queues, dead_letters, unreadable["(status)"] = {}, {}, damaged.reason
        status = {
            "uptime_s": round(time.monotonic() - self.started, 1),
            "online": self.switch.online(),
            "queues": queues,
            "journal": {**self.journal.health(), "unreadable": unreadable},
            "dead_letters": dead_letters,
            "logons": self.door.status(),
            "counters": {
                f"{line}/{kind}": value
                for (line, kind), value in sorted(self.switch.counters().items())
            },
        }
        if self.node is not None:
            status["cluster"] = self.node.status()
        if self.publisher is not None:
            status["events"] = {"node": self.config.node, **self.publisher.status()}
        return status


async def serve(
    config: Config,
    shutdown_trigger: Callable[[], Awaitable[Any]],
    ready: Callable[[SwitchServer], None] | None = None,
) -> None:
    """Run a switch until ``shutdown_trigger`` returns."""
    server = SwitchServer(config)
    try:
        await server.start()
        if ready is not None:
            ready(server)
        await shutdown_trigger()
    finally:
        await server.stop()
