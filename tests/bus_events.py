"""A subscriber for tests: every event on the bus, checked against the schema file."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiomqtt
import jsonschema

from nlets_sim.bus.address import parse_broker_url
from nlets_sim.bus.events import unpack
from nlets_sim.bus.publisher import client

SCHEMA = json.loads((Path(__file__).parent.parent / "docs" / "events.schema.json").read_text())
_ids = itertools.count(1)


def gapless(events: list[dict[str, Any]]) -> bool:
    """Every number from 1 to the highest seen, each once (the order across topics varies)."""
    numbers = sorted(event["n"] for event in events)
    return numbers == list(range(1, len(numbers) + 1))


class Collector:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.changed = asyncio.Condition()
        self.error: Exception | None = None

    async def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(lambda: self.error is not None or predicate(self.events))
        if self.error is not None:
            raise self.error
        return self.events

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["kind"] == kind]


@contextlib.asynccontextmanager
async def collecting(
    url: str, topic: str = "nlets/v2/#", ca: Path | None = None
) -> AsyncIterator[Collector]:
    """Subscribe to ``topic`` (subscribed when entered); every payload must match the schema.
    ``ca``: the CA of an ``mqtts://`` broker."""
    collector = Collector()
    address = parse_broker_url(url, ca)
    async with client(address, f"test-{next(_ids)}", persistent=False) as mqtt:
        await mqtt.subscribe(topic, qos=1)

        async def read() -> None:
            async for message in mqtt.messages:
                assert isinstance(message.payload, bytes)
                body = json.loads(message.payload)
                async with collector.changed:
                    try:
                        jsonschema.validate(body, SCHEMA)
                    except jsonschema.ValidationError as error:
                        collector.error = error
                    else:
                        collector.events.extend(unpack(message.payload))
                    collector.changed.notify_all()

        task = asyncio.create_task(read())
        try:
            yield collector
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await task
