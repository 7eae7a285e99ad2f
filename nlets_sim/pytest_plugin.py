"""pytest fixtures for testing terminals and message software against a real switch.

Installed with the project (entry point ``pytest11``), so a user's suite gets:

* ``nlets_config``: the switch's ``Config``: a free port, a temporary data directory, the clock
  pinned to 2026-01-01 08:00 (override the fixture to change any of it);
* ``nlets_switch``: a running ``SwitchServer`` on that configuration;
* ``nlets_terminal``: an async factory, ``await nlets_terminal("NY0303000")``, returning a
  logged-on ``Terminal`` with the ORI's demo key; every terminal is closed after the test.

The async fixtures need pytest-asyncio; without it the module provides only ``nlets_config``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path

import pytest

from fixtures.make_directory import demo_key
from nlets_sim.client import Terminal
from nlets_sim.config import Config
from nlets_sim.server import SwitchServer

PINNED_CLOCK = datetime(2026, 1, 1, 8, 0)  # noqa: DTZ001 - switch-local time, no zone

TerminalFactory = Callable[..., Awaitable[Terminal]]


@pytest.fixture
def nlets_config(tmp_path: Path) -> Config:
    return Config(port=0, data_dir=tmp_path / "switch", clock=PINNED_CLOCK)


try:
    import pytest_asyncio

    HAVE_PYTEST_ASYNCIO = True
except ImportError:  # pragma: no cover - the fixtures below need it
    HAVE_PYTEST_ASYNCIO = False

if HAVE_PYTEST_ASYNCIO:

    @pytest_asyncio.fixture
    async def nlets_switch(nlets_config: Config) -> AsyncIterator[SwitchServer]:
        server = SwitchServer(nlets_config)
        await server.start()
        try:
            yield server
        finally:
            await server.stop()

    @pytest_asyncio.fixture
    async def nlets_terminal(nlets_switch: SwitchServer) -> AsyncIterator[TerminalFactory]:
        opened: list[Terminal] = []

        async def connect(ori: str, key: str | None = None, **options: object) -> Terminal:
            terminal = Terminal(
                nlets_switch.config.host,
                nlets_switch.port,
                ori,
                key or demo_key(ori),
                **options,  # type: ignore[arg-type]
            )
            await terminal.connect()
            opened.append(terminal)
            return terminal

        yield connect
        for terminal in opened:
            await terminal.abort()
