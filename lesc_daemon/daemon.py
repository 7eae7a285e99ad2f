"""The LESC daemon: logs on to the switch as a terminal of line AX and answers what arrives.

Answers due at once are posted to the terminal; later ones are written to the store's outbox
with the time they are due and posted when due. A posted message waits in the terminal for
room in the window, stays there until the switch acknowledges it, and goes out again after a
reconnect. When the switch goes away the daemon retries the logon with a
growing pause (up to ``reconnect_max_s``) until it comes back.

Nothing is acknowledged or sent before it is committed (``ledger.py``): a batch of deliveries,
their answers and the seqs those carry are one transaction; the deliveries are acknowledged and
the answers posted after it commits. A store that cannot write (a full disk) leaves the batch
unacknowledged: the daemon stays logged on, says so in its log and tries again until it can.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import structlog

from formats.envelope import CRLF, InputMessage, OutputMessage
from lesc_daemon.batch import BatchAnswered, answer_batch, post_due
from lesc_daemon.delays import DEFAULT_DELAY, Delay, parse_delay
from lesc_daemon.ledger import Ledger
from lesc_daemon.lesc import Lesc
from lesc_daemon.oris import LESC_KEY, LESC_ORI, LESC_ORIS
from lesc_daemon.responder import HELP_TEXT
from lesc_daemon.rules import load_rules
from lesc_daemon.seed import seed_store
from lesc_daemon.store import Store
from lesc_daemon.store_faults import cannot_write_now, damaged_text, is_damaged
from nlets_sim.bus.address import parse_broker_url
from nlets_sim.bus.publisher import EventPublisher
from nlets_sim.console.config_file import checked_values, merged, read_toml
from nlets_sim.link.simclock import SimulatedClock
from nlets_sim.link.terminal import (
    Delivery,
    LinkClosed,
    LogonRejected,
    SessionTakenOver,
    Terminal,
    client_tls_context,
)

log = structlog.get_logger("lesc_daemon")

OUTBOX_POLL_S = 1.0
# Deliveries answered per store transaction. Bounded so that answering never runs long ahead
# of sending: with all waiting deliveries in one batch, a busy LESC answered thousands while
# the switch sat idle, then sent their answers while it sat idle itself.
BATCH_MAX = 32
HELP_FILE = "AXADMHELP"
STORE_RETRY_S = (0.1, 5.0)  # the first pause after a failed write, and the longest


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    host: str = "127.0.0.1"
    port: int = 7700
    ori: str = LESC_ORI
    key: str = LESC_KEY
    db: Path = Path("data/lesc.sqlite3")
    rules: Path | None = None  # None: the rules shipped in the package
    delay: Delay = DEFAULT_DELAY  # processing delay of an IAQ response (delays.py)
    seed: int | None = None  # for the delay draws
    tz: str = "UTC"
    clock: datetime | None = None  # start the LESC's clock here (it then runs); None: real time
    clock_rate: float = 1.0  # simulated seconds per real second of that clock (simclock.py)
    clock_origin: float | None = None  # Unix time at which it reads ``clock``; None: at start
    reconnect_max_s: float = 5.0
    oris: frozenset[str] = field(default=LESC_ORIS)
    tls_ca: Path | None = None  # PEM CA to trust: connect with TLS (None and no cert: plain TCP)
    tls_cert: Path | None = None  # PEM client certificate to present (connects with TLS)
    tls_key: Path | None = None  # its PEM key, if not in the certificate file
    mqtt: str | None = field(default=None, repr=False)  # publish events to this broker URL
    mqtt_ca: Path | None = None  # PEM CA of an mqtts:// broker (default: the system's)
    node: str = "lesc"  # the LESC's name on the bus
    events_with_text: bool = False  # names, DOBs and identifiers in events too

    def tls_context(self) -> ssl.SSLContext | None:
        """The terminal's TLS context, or None for plain TCP."""
        return client_tls_context(self.tls_ca, self.tls_cert, self.tls_key)


def load_daemon_config(path: Path | None, overrides: dict[str, Any]) -> DaemonConfig:
    """Defaults, then the file's ``[lesc]`` table (or top level), then non-None overrides
    (``lesc-daemon run --config FILE``); the names are ``DaemonConfig``'s fields. Raises
    ``ValueError`` saying which value and why."""
    values: dict[str, Any] = {}
    if path is not None:
        data = read_toml(path)
        values.update(data.get("lesc", data))
    values = merged(values, overrides)
    if isinstance(values.get("delay"), str):
        values["delay"] = parse_delay(values["delay"])
    if isinstance(values.get("oris"), list):
        values["oris"] = frozenset(values["oris"])
    return DaemonConfig(**checked_values(DaemonConfig, values))


class LescDaemon:
    def __init__(self, config: DaemonConfig) -> None:
        self.config = config
        self.store = Store(config.db)
        self.ledger = Ledger(self.store.db, config.ori)
        self.lesc = Lesc(self.store, load_rules(config.rules), config.oris)
        self.terminal = Terminal(
            config.host,
            config.port,
            config.ori,
            config.key,
            tls=config.tls_context(),
            auto_ack=False,
        )
        # Carry on where the last run committed: deliveries stored, answers not yet
        # acknowledged by the switch.
        self.terminal.last_processed = self.terminal.acked = self.ledger.delivered()
        self.terminal.resume(self.ledger.pending())
        self.terminal.on_logon = self._check_session
        self.random = random.Random(config.seed)  # noqa: S311 - delays, not secrets
        self.clock = None
        if config.clock is not None:
            origin = config.clock_origin if config.clock_origin is not None else time.time()
            self.clock = SimulatedClock(config.clock, config.clock_rate, origin)
        self._wake = asyncio.Event()
        self.connected = asyncio.Event()
        self.help_published = asyncio.Event()  # the switch answered the AXADMUPDT
        self.log = log.bind()  # for a line per message: cheaper than the module's lazy proxy
        self.publisher: EventPublisher | None = None
        if config.mqtt is not None:
            self.publisher = EventPublisher(
                parse_broker_url(config.mqtt, config.mqtt_ca),
                config.node,
                client_id=f"lesc-daemon-{config.node}-events",
                with_text=config.events_with_text,
            )
            self.lesc.events = []

    def now(self) -> datetime:
        if self.clock is not None:
            return self.clock.now()
        return datetime.now(ZoneInfo(self.config.tz)).replace(tzinfo=None)

    def delay(self) -> timedelta:
        return timedelta(seconds=self.config.delay.draw(self.random))

    async def run(self) -> None:
        """Serve until cancelled."""
        if self.publisher is not None:
            self.publisher.start()
        try:
            published = False
            while True:
                await self._connect()
                if not published:
                    await self._publish_help()
                    published = True
                try:
                    async with asyncio.TaskGroup() as group:
                        group.create_task(self._receive())
                        group.create_task(self._send())
                except* LinkClosed as closed:
                    reason = closed.exceptions[0]
                    if isinstance(reason, SessionTakenOver):
                        raise reason from None  # another LESC has the session: stop, not fight
                    log.warning("link lost", ori=self.config.ori, reason=str(reason))
                self.connected.clear()
                await self.terminal.abort()
        finally:
            if self.publisher is not None:
                await self.publisher.stop()
            await self.terminal.abort()
            self.store.close()

    async def _connect(self) -> None:
        pause = 0.1
        while True:
            try:
                await self.terminal.connect()
            except LogonRejected:
                raise  # a wrong key or ORI: the same answer every time
            except (OSError, LinkClosed, TimeoutError) as error:
                log.info("switch not reachable", error=str(error), retry_s=pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.config.reconnect_max_s)
                continue
            log.info("logged on", ori=self.config.ori, lst=self.terminal.lst)
            self._after_logon()
            self.connected.set()
            return

    def _check_session(self, lst: int) -> None:
        """At a logon, before anything is sent again: a switch whose LST is below what it
        acknowledged before has lost (or reset) this LESC's session. Its deliveries start
        again from 1, and the answers still waiting belong to the session it lost: they are
        dropped, not sent into the new one."""
        terminal, ledger = self.terminal, self.ledger
        before = ledger.sent_through()
        if lst >= before:
            return
        dropped = len(terminal.outgoing())
        log.warning(
            "the switch lost this LESC's session; starting afresh",
            lst=lst,
            acknowledged_before=before,
            answers_dropped=dropped,
        )
        terminal.last_processed = terminal.acked = 0
        terminal.resume([])
        try:
            with self.store.transaction():
                ledger.set_delivered(0)
                ledger.replace([], lst)
        except sqlite3.Error as error:
            self._store_trouble(error, 0.0)

    def _after_logon(self) -> None:
        """Bring the ledger up to the logon: forget what the switch has (seq <= LST), and
        store the terminal's numbering if the logon changed it. Runs before the link's first
        delivery is read."""
        terminal, ledger = self.terminal, self.ledger
        try:
            with self.store.transaction():
                ledger.settle(terminal.switch_acked)
                outgoing = terminal.outgoing()
                if outgoing != ledger.pending():
                    ledger.replace(outgoing, terminal.switch_acked)
        except sqlite3.Error as error:  # the next batch settles; a restart re-reads LST
            self._store_trouble(error, 0.0)

    async def _publish_help(self) -> None:
        text = CRLF.join(HELP_TEXT)
        message = InputMessage("AM", self.config.ori, ("AXADMUPDT",), text).build()
        self.store.schedule(self.now(), message)
        self._wake.set()

    async def _receive(self) -> None:
        """Answer what arrives, up to ``BATCH_MAX`` deliveries per store transaction; answers
        due now are posted to the terminal (sent as the window allows, without waiting for
        it), later ones go to the outbox."""
        terminal = self.terminal
        while True:
            batch = [await terminal.receive(timeout=None)]
            while terminal.inbox and len(batch) < BATCH_MAX:
                batch.append(terminal.inbox.popleft())
            pause = STORE_RETRY_S[0]
            while (immediate := self._commit(batch)) is None:
                await asyncio.sleep(pause)  # the link stays up: heartbeats, no AK
                pause = min(pause * 2, STORE_RETRY_S[1])
            if pause > STORE_RETRY_S[0]:
                log.info("LESC store writable again", db=str(self.config.db))
            terminal.post(*immediate)
            terminal.ack(batch[-1].seq)
            events = self.lesc.events
            if events and self.publisher is not None:  # events of the committed batch only
                self.publisher.offer(events, self.now().isoformat(timespec="seconds"))
                events.clear()
            await asyncio.sleep(0)  # let the link read acknowledgements and deliveries

    def _commit(self, batch: list[Delivery]) -> list[bytes] | None:
        """Answer a batch in one transaction with the ledger's record of it (``batch.py``);
        the answers due now, to post once it has committed, or None when the store could not
        write."""
        now = self.now()
        try:
            done = answer_batch(
                self.store,
                self.ledger,
                self.lesc,
                [(delivery.seq, delivery.message) for delivery in batch],
                now=now,
                draw_delay=self.delay,
                first_post_seq=self.terminal.next_post_seq,
                switch_acked=self.terminal.switch_acked,
            )
        except sqlite3.Error as error:
            if not cannot_write_now(error):
                raise
            self._store_trouble(error, STORE_RETRY_S[0])
            return None
        self._committed(batch, done)
        return done.immediate

    def _committed(self, batch: list[Delivery], done: BatchAnswered) -> None:
        """Tell what a committed batch did: in the log, to the outbox's sender, to whoever
        waits for the HELP file."""
        if done.scheduled:
            self._wake.set()
        if any(delivery.message.originator == HELP_FILE for delivery in batch):
            self.help_published.set()
        for message, error in done.failed:
            self._not_answered(message, error)
        for message, replies in done.answered:
            if replies:
                self.log.info(
                    "answered",
                    mke=message.mke,
                    requester=message.originator,
                    control=message.control,
                    replies=replies,
                    text=message.text,  # taken out by the log's redaction unless --log-with-text
                )
            elif message.mke in {"ER", "SM"}:
                log.warning("switch notice", mke=message.mke, line=message.text.split(CRLF, 1)[0])

    def _not_answered(self, message: OutputMessage, error: Exception) -> None:
        if is_damaged(error):
            log.error(
                "message not answered",
                mke=message.mke,
                requester=message.originator,
                problem=damaged_text(self.config.db, str(error)),
            )
            return
        log.error(
            "message not answered", mke=message.mke, requester=message.originator, exc_info=error
        )

    def _store_trouble(self, error: sqlite3.Error, retry_s: float) -> None:
        log.error(
            "LESC store cannot write; nothing is acknowledged until it can",
            db=str(self.config.db),
            error=str(error),
            retry_s=retry_s,
        )

    def _post_due(self) -> None:
        """Post the outbox's answers that are due, once moved to the ledger (``batch.py``)."""
        self.terminal.post(
            *post_due(self.store, self.ledger, self.now(), self.terminal.next_post_seq)
        )

    async def _send(self) -> None:
        while True:
            try:
                self._post_due()
            except sqlite3.Error as error:
                if not cannot_write_now(error):
                    raise
                self._store_trouble(error, OUTBOX_POLL_S)
            self._wake.clear()
            next_due = self.store.next_due()
            timeout = OUTBOX_POLL_S  # operators' CLI replies arrive through the store
            if next_due is not None:
                wait = (next_due - self.now()).total_seconds() / self.config.clock_rate
                timeout = min(timeout, max(0.0, wait))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()


@contextlib.asynccontextmanager
async def running(config: DaemonConfig, ready_s: float = 10.0) -> AsyncIterator[LescDaemon]:
    """A LESC daemon serving for as long as the ``async with`` lasts; entered once it is
    logged on and its HELP file is published. Its store gets the test identities if empty."""
    store = Store(config.db)
    if not store.count_persons():
        seed_store(store, 0, 1, (config.clock or datetime.now(UTC)).date())
    store.close()
    daemon = LescDaemon(config)
    task = asyncio.create_task(daemon.run())
    try:
        async with asyncio.timeout(ready_s):
            await daemon.help_published.wait()
        yield daemon
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
