"""The LESC daemon: logs on to the switch as a terminal of line AX and answers what arrives.

Answers due at once are posted to the terminal; later ones are written to the store's outbox
with the time they are due and posted when due. A posted message waits in the terminal for
room in the window, stays there until the switch acknowledges it, and goes out again after a
reconnect. When the switch goes away the daemon retries the logon with a
growing pause (up to ``reconnect_max_s``) until it comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog

from formats.envelope import CRLF, InputMessage, OutputMessage
from lesc_daemon.delays import DEFAULT_DELAY, Delay
from lesc_daemon.responder import HELP_TEXT, Responder
from lesc_daemon.rules import load_rules
from lesc_daemon.seed import seed_store
from lesc_daemon.store import Store
from nlets_sim.client import LinkClosed, Terminal

log = structlog.get_logger("lesc_daemon")

OUTBOX_POLL_S = 1.0
# Deliveries answered per store transaction. Bounded so that answering never runs long ahead
# of sending: with all waiting deliveries in one batch, a busy LESC answered thousands while
# the switch sat idle, then sent their answers while it sat idle itself.
BATCH_MAX = 32
HELP_FILE = "AXADMHELP"
LESC_ORIS = frozenset({"VTINS07S0", "VTICE0900"})


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    host: str = "127.0.0.1"
    port: int = 7700
    ori: str = "VTINS07S0"
    key: str = "K-VTINS07S0"
    db: Path = Path("data/lesc.sqlite3")
    rules: Path | None = None  # None: the rules shipped in the package
    delay: Delay = DEFAULT_DELAY  # processing delay of an IAQ response (delays.py)
    seed: int | None = None  # for the delay draws
    tz: str = "UTC"
    clock: datetime | None = None  # start the LESC's clock here (it then runs); None: real time
    reconnect_max_s: float = 5.0
    oris: frozenset[str] = field(default=LESC_ORIS)
    tls: ssl.SSLContext | None = None  # None: plain TCP to the switch


class LescDaemon:
    def __init__(self, config: DaemonConfig) -> None:
        self.config = config
        self.store = Store(config.db)
        self.responder = Responder(self.store, load_rules(config.rules), config.oris)
        self.terminal = Terminal(config.host, config.port, config.ori, config.key, tls=config.tls)
        self.random = random.Random(config.seed)  # noqa: S311 - delays, not secrets
        self._started = time.monotonic()
        self._wake = asyncio.Event()
        self.connected = asyncio.Event()
        self.help_published = asyncio.Event()  # the switch answered the AXADMUPDT
        self.answered = 0
        self.log = log.bind()  # for a line per message: cheaper than the module's lazy proxy

    def now(self) -> datetime:
        if self.config.clock is not None:
            return self.config.clock + timedelta(seconds=time.monotonic() - self._started)
        return datetime.now(ZoneInfo(self.config.tz)).replace(tzinfo=None)

    def delay(self) -> timedelta:
        return timedelta(seconds=self.config.delay.draw(self.random))

    async def run(self) -> None:
        """Serve until cancelled."""
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
                    log.warning("link lost", ori=self.config.ori, reason=str(reason))
                self.connected.clear()
                await self.terminal.abort()
        finally:
            await self.terminal.abort()
            self.store.close()

    async def _connect(self) -> None:
        pause = 0.1
        while True:
            try:
                await self.terminal.connect()
            except (OSError, LinkClosed, TimeoutError) as error:
                log.info("switch not reachable", error=str(error), retry_s=pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.config.reconnect_max_s)
                continue
            log.info("logged on", ori=self.config.ori, lst=self.terminal.lst)
            self.connected.set()
            return

    async def _publish_help(self) -> None:
        text = CRLF.join(HELP_TEXT)
        message = InputMessage("AM", self.config.ori, ("AXADMUPDT",), text).build()
        self.store.schedule(self.now(), message)
        self._wake.set()

    async def _receive(self) -> None:
        """Answer what arrives, up to ``BATCH_MAX`` deliveries per store transaction; answers
        due now are posted to the terminal (sent as the window allows, without waiting for
        it), later ones go to the outbox."""
        while True:
            batch = [await self.terminal.receive(timeout=None)]
            while self.terminal.inbox and len(batch) < BATCH_MAX:
                batch.append(self.terminal.inbox.popleft())
            now = self.now()
            immediate: list[bytes] = []
            with self.store.transaction():
                for delivery in batch:
                    try:
                        immediate += self._answer(delivery.message, now)
                    except Exception:  # one bad message must not stop the LESC
                        log.exception(
                            "message not answered",
                            mke=delivery.message.mke,
                            requester=delivery.message.originator,
                        )
            self.terminal.post(*immediate)
            await asyncio.sleep(0)  # let the link read acknowledgements and deliveries

    def _answer(self, message: OutputMessage, now: datetime) -> list[bytes]:
        if message.originator == HELP_FILE:
            self.help_published.set()
        replies = self.responder.handle(message, now, self.delay())
        immediate = []
        for reply in replies:
            if reply.due <= now:
                immediate.append(reply.message)
            else:
                self.store.schedule(reply.due, reply.message)
                self._wake.set()
        if replies:
            self.answered += 1
            self.log.debug(
                "answered",
                mke=message.mke,
                requester=message.originator,
                control=message.control,
                replies=len(replies),
            )
        elif message.mke in {"ER", "SM"}:
            log.warning("switch notice", mke=message.mke, line=message.text.split(CRLF, 1)[0])
        return immediate

    def _post_due(self) -> None:
        """Post the outbox's answers that are due, behind the answers already posted (a
        sender that waited for an empty backlog could wait for ever under load)."""
        for outbox_id, message in self.store.due(self.now()):
            self.terminal.post(message)
            self.store.mark_sent(outbox_id)

    async def _send(self) -> None:
        while True:
            self._post_due()
            self._wake.clear()
            next_due = self.store.next_due()
            timeout = OUTBOX_POLL_S  # operators' CLI replies arrive through the store
            if next_due is not None:
                timeout = min(timeout, max(0.0, (next_due - self.now()).total_seconds()))
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
