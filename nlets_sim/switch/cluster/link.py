"""A node's link to the other nodes through the broker (the asyncio shell of ``forwards``).

Topics: ``nlets/v1/cluster/<to node>/forward`` carries ``{"v": 1, "from": NODE, "forwards":
[[n, body], ...]}``, ``nlets/v1/cluster/<to node>/ack`` carries ``{"v": 1, "from": NODE,
"upto": n}``. QoS 1 and a persistent session (client id ``nlets-sim-<node>-cluster``), so the
broker keeps what arrives for a node while it is down; but nothing rests on the broker: a
forward is published again until its acknowledgement comes, and a publish that fails is
simply lost.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiomqtt
import structlog

from nlets_sim.bus.address import BrokerAddress
from nlets_sim.bus.health import LinkHealth
from nlets_sim.bus.publisher import BACKOFF_FIRST_S, BACKOFF_MAX_S, cancel_and_wait, client

log = structlog.get_logger("nlets_sim.cluster")

MAX_PER_PUBLISH = 500


CLUSTER_ROOT = "nlets/v1/cluster"  # its own version: the event stream's is apart


def node_topic(node: str, what: str) -> str:
    return f"{CLUSTER_ROOT}/{node}/{what}"


class ClusterLink:
    def __init__(
        self,
        address: BrokerAddress,
        node: str,
        *,
        on_forwards: Callable[[str, list[tuple[int, dict[str, Any]]]], None],
        on_ack: Callable[[str, int], None],
        on_connected: Callable[[], None],
    ) -> None:
        self.address = address
        self.node = node
        self._on_forwards = on_forwards
        self._on_ack = on_ack
        self._on_connected = on_connected
        self._mqtt: aiomqtt.Client | None = None
        self._sends: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self.connected = False
        self.stopping = False  # set by stop: a broken link is then not mended
        self.health = LinkHealth(address, "cluster")

    def start(self) -> None:
        self._task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        self.stopping = True
        if self._task is not None:
            await cancel_and_wait(self._task)
        for task in list(self._sends):
            task.cancel()

    # Sending (never waits; a lost publish is re-sent by the forwards' own timer) -------

    def send(self, node: str, forwards: list[tuple[int, str]]) -> None:
        for start in range(0, len(forwards), MAX_PER_PUBLISH):
            items = ",".join(
                f"[{n},{body}]" for n, body in forwards[start : start + MAX_PER_PUBLISH]
            )
            data = f'{{"v":1,"from":"{self.node}","forwards":[{items}]}}'
            self._publish(node_topic(node, "forward"), data.encode())

    def ack(self, node: str, upto: int) -> None:
        data = f'{{"v":1,"from":"{self.node}","upto":{upto}}}'
        self._publish(node_topic(node, "ack"), data.encode())

    def _publish(self, topic: str, data: bytes) -> None:
        mqtt = self._mqtt
        if mqtt is None:
            return
        task = asyncio.create_task(self._send(mqtt, topic, data))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    @staticmethod
    async def _send(mqtt: aiomqtt.Client, topic: str, data: bytes) -> None:
        try:
            await mqtt.publish(topic, data, qos=1)
        except aiomqtt.MqttError as error:
            log.debug("forward publish lost", topic=topic, error=str(error))

    # Receiving -------------------------------------------------------------------------

    async def run(self) -> None:
        backoff = BACKOFF_FIRST_S
        while True:
            try:
                async with client(self.address, f"nlets-sim-{self.node}-cluster") as mqtt:
                    await mqtt.subscribe(node_topic(self.node, "+"), qos=1)
                    self._mqtt, self.connected = mqtt, True
                    backoff = BACKOFF_FIRST_S
                    self.health.up(node=self.node)
                    self._on_connected()
                    async for message in mqtt.messages:
                        self._arrived(str(message.topic), message.payload)
            except (aiomqtt.MqttError, OSError) as error:
                if self.stopping:
                    return
                self.health.down(error, node=self.node)
                self._mqtt, self.connected = None, False
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _arrived(self, topic: str, payload: object) -> None:
        if not isinstance(payload, bytes):
            return
        try:
            body = json.loads(payload)
            source = str(body["from"])
            if topic.endswith("/forward"):
                forwards = [(int(n), item) for n, item in body["forwards"]]
                self._on_forwards(source, forwards)
            elif topic.endswith("/ack"):
                self._on_ack(source, int(body["upto"]))
        except (ValueError, KeyError, TypeError) as error:
            log.warning("bad cluster message", topic=topic, error=str(error))
