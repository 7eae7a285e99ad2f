"""Scaffolding the test files share: the in-memory switch harness, a switch ``Config`` and a
LESC ``DaemonConfig`` with a test's few changes, and a hand-written switch on a loopback port.
(The pytest plugin's fixtures, ``nlets_switch`` and the rest, come from the installed
package.)"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from lesc_daemon.daemon import DaemonConfig
from lesc_daemon.delays import NO_DELAY
from nlets_sim.switch.config import PINNED_CLOCK, Config
from tests.switch_harness import Harness

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
def harness() -> Harness:
    """The switch core wired to in-memory connections, on a journal in memory."""
    return Harness()


@pytest.fixture
def switch_config(tmp_path: Path) -> Callable[..., Config]:
    """``switch_config(heartbeat_s=1)``: the plugin's ``nlets_config`` (a free port, a data
    directory under ``tmp_path``, the pinned clock) with a test's changes."""
    base = Config(port=0, data_dir=tmp_path / "switch", clock=PINNED_CLOCK)

    def make(**changes: Any) -> Config:
        return dataclasses.replace(base, **changes)

    return make


@pytest.fixture
def lesc_config(tmp_path: Path) -> Callable[..., DaemonConfig]:
    """``lesc_config(port=switch.port)``: a LESC answering at once on the pinned clock, its
    store under ``tmp_path``, with a test's changes."""
    base = DaemonConfig(db=tmp_path / "lesc.db", delay=NO_DELAY, clock=PINNED_CLOCK)

    def make(**changes: Any) -> DaemonConfig:
        return dataclasses.replace(base, **changes)

    return make


@pytest_asyncio.fixture
async def fake_switch() -> AsyncIterator[Callable[[Handler], Awaitable[int]]]:
    """``port = await fake_switch(handler)``: a hand-written switch (one coroutine per
    connection) on a loopback port, closed after the test."""
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> int:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        port: int = server.sockets[0].getsockname()[1]
        return port

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()
