"""The event publisher: a bounded buffer in front of a link to the broker that mends itself.

``offer`` never blocks and never fails: it numbers and stamps the events and buffers them, or
counts them as dropped when the buffer is full (the broker away long enough, or slower than
the switch). ``run`` keeps a connection to the broker (a stable client id and a session that
outlives a broker restart), reconnecting with backoff, and drains the buffer: everything
buffered is taken at once and sent as one QoS 1 publish per topic (at most ``MAX_PER_PUBLISH``
events each), all in flight together; the next drain takes what arrived meanwhile. So the
busier the switch, the more events ride in each publish. Events leave the buffer only when
the broker has acknowledged them: after a broken link they are published again (a subscriber
may see an ``n`` twice, never a gap that ``dropped`` does not count).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import aiomqtt
import structlog
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from nlets_sim.bus.address import BrokerAddress
from nlets_sim.bus.events import Batch, Event, publishes
from nlets_sim.bus.health import LinkHealth

log = structlog.get_logger("nlets_sim.bus")

DEFAULT_CAPACITY = 100_000  # events buffered while the broker is away or behind
MAX_PER_PUBLISH = 2000
SESSION_EXPIRY_S = 24 * 3600  # how long the broker keeps a node's session while it is away
BACKOFF_FIRST_S = 0.1
BACKOFF_MAX_S = 5.0
PUBLISH_TIMEOUT_S = 10.0
LINGER_S = 0.05  # how long a drain waits for more events before publishing


def client(address: BrokerAddress, identifier: str, *, persistent: bool = True) -> aiomqtt.Client:
    """An MQTT 5 client for ``address``; with ``persistent`` the broker keeps its session (and
    what it subscribed to) for ``SESSION_EXPIRY_S`` while it is away."""
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    if persistent:
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
    return aiomqtt.Client(
        address.host,
        address.port,
        username=address.username,
        password=address.password,
        identifier=identifier,
        protocol=aiomqtt.ProtocolVersion.V5,
        clean_start=not persistent,
        properties=properties,
        tls_context=address.tls_context(),
        keepalive=10,
        timeout=PUBLISH_TIMEOUT_S,
        max_inflight_messages=1000,
    )


STOP_WAIT_S = 15.0  # a link that will not close by then is left to the process's exit


async def cancel_and_wait(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait for it, at most ``STOP_WAIT_S``: closing a link to a broker
    that has gone quiet can take aiomqtt's whole timeout, and an error on the way out could
    turn the cancellation into one more reconnect; stopping must not hang on either."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=STOP_WAIT_S)
    if not done:
        log.warning("broker link did not close in time")
    elif not task.cancelled() and task.exception() is not None:
        log.warning("broker link closed with an error", error=str(task.exception()))


async def watch_link(mqtt: aiomqtt.Client) -> None:
    """Raise ``MqttError`` as soon as the connection breaks (the message iterator does)."""
    async for _ in mqtt.messages:
        pass


class EventPublisher:
    def __init__(
        self,
        address: BrokerAddress,
        node: str,
        *,
        client_id: str,
        capacity: int = DEFAULT_CAPACITY,
        with_text: bool = False,
    ) -> None:
        self.address = address
        self.node = node
        self.client_id = client_id
        self.capacity = capacity
        self.with_text = with_text
        self._batches: list[Batch] = []  # each flush's events, oldest first
        self.buffered = 0  # events in them
        self._next = 1  # the number of the next event offered
        self._wake = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()
        self.connected = False
        self.published = 0  # events the broker acknowledged (a re-send counts again)
        self.dropped = 0  # events never published: the buffer was full
        self._task: asyncio.Task[None] | None = None
        self.stopping = False  # set by stop: a broken link is then not mended
        self._up = asyncio.Event()
        self._down = asyncio.Event()
        self._down.set()
        self.health = LinkHealth(address, "events")

    def start(self) -> None:
        """Run in the background until ``stop``."""
        self._task = asyncio.create_task(self.run())

    async def stop(self, drain_s: float = 0.0) -> None:
        """Give buffered events up to ``drain_s`` to reach the broker, then stop."""
        if self._task is None:
            return
        await self.drained(drain_s)
        self.stopping = True
        await cancel_and_wait(self._task)
        self._task = None

    def offer(self, events: list[Event], at: str) -> None:
        """Buffer ``events`` (of one flush, at ``at``: switch-local ISO time) as one batch;
        never blocks. Their fields are completed in place when published."""
        room = self.capacity - self.buffered
        if room < len(events):  # the newest are dropped, numbered all the same (a gap)
            kept = max(room, 0)
            self.dropped += len(events) - kept
            self._next += len(events) - kept
            events = events[:kept]
        if events:
            self._batches.append((at, self._next, events[:]))
            self._next += len(events)
            self.buffered += len(events)
            self._empty.clear()
            self._wake.set()

    def status(self) -> dict[str, Any]:
        return {
            "broker": str(self.address),
            "connected": self.connected,
            "problem": None if self.connected else self.health.problem,
            "published": self.published,
            "buffered": self.buffered,
            "dropped": self.dropped,
        }

    async def run(self) -> None:
        """Publish until cancelled, reconnecting whenever the broker goes away."""
        backoff = BACKOFF_FIRST_S
        while True:
            try:
                async with client(self.address, self.client_id) as mqtt:
                    self._link(up=True)
                    backoff = BACKOFF_FIRST_S
                    async with asyncio.TaskGroup() as group:
                        group.create_task(self._drain(mqtt))
                        group.create_task(watch_link(mqtt))
            except* (aiomqtt.MqttError, OSError) as errors:
                self._link(up=False, error=errors.exceptions[0])
            if self.stopping:
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _link(self, *, up: bool, error: BaseException | None = None) -> None:
        if up:
            self.health.up(node=self.node)
        elif error is not None and not self.stopping:
            self.health.down(error, node=self.node)
        self.connected = up
        (self._up if up else self._down).set()
        (self._down if up else self._up).clear()

    async def wait_link(self, *, up: bool = True) -> None:
        """Return once the link to the broker is up (or down, with ``up=False``)."""
        await (self._up if up else self._down).wait()

    async def _drain(self, mqtt: aiomqtt.Client) -> None:
        while True:
            if not self._batches:
                self._wake.clear()
                await self._wake.wait()
            # let several flushes' events gather: with a topic per node, kind and line, one
            # flush's events span many topics, and each publish costs the switch's loop
            await asyncio.sleep(LINGER_S)
            taken = self._batches[:]
            async with asyncio.TaskGroup() as group:
                for name, data in self.publishes(taken):
                    group.create_task(mqtt.publish(name, data, qos=1))
            self.settled(taken)

    def publishes(self, batches: list[Batch]) -> Iterator[tuple[str, bytes]]:
        """The publishes carrying ``batches``, their events numbered and stamped."""
        return publishes(self.node, batches, MAX_PER_PUBLISH, with_text=self.with_text)

    def take(self) -> list[Batch]:
        """Everything buffered, to publish (it stays buffered until ``settled``)."""
        return self._batches[:]

    def settled(self, batches: list[Batch]) -> None:
        """The broker acknowledged ``batches``, the first buffered."""
        del self._batches[: len(batches)]  # offer only appends: these are still the first
        count = sum(len(events) for _, _, events in batches)
        self.buffered -= count
        self.published += count
        if not self._batches:
            self._empty.set()

    async def drained(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the buffer to empty while connected; True if empty."""
        if self.connected:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await self._empty.wait()
        return not self._batches
