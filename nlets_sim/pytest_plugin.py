"""pytest fixtures for testing terminals and message software against a real switch.

Installed with the project (entry point ``pytest11``), so a user's suite gets:

* ``nlets_config``: the switch's ``Config``: a free port, a temporary data directory, the clock
  pinned to 2026-01-01 08:00 (override the fixture to change any of it);
* ``nlets_switch``: a running ``SwitchServer`` on that configuration;
* ``nlets_lesc``: the LESC daemon logged on to that switch as ``VTINS07S0``, its store holding
  the catalogue of test identities (``fixtures/LESC_IDENTITIES.md``), answering at once;
* ``nlets_replay``: ``await nlets_replay(path_or_text)`` replays a transcript against that
  switch and LESC and fails the test with the report (and its diff) when it does not pass;
* ``nlets_terminal``: an async factory, ``await nlets_terminal("NY0303000")``, returning a
  logged-on ``Terminal`` with the ORI's demo key; every terminal is closed after the test;
* ``nlets_broker``: a real Mosquitto broker on a free port for the whole test session (a
  ``LocalBroker``: its ``url`` goes in ``Config(mqtt=...)``); it needs the ``mosquitto``
  program (Debian: ``apt-get install mosquitto``).

The async fixtures need pytest-asyncio; without it the module provides only ``nlets_config``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from lesc_daemon.daemon import DaemonConfig, LescDaemon, running
from lesc_daemon.delays import NO_DELAY
from nlets_sim.bus.broker import BrokerUnavailable, LocalBroker
from nlets_sim.link.terminal import Terminal
from nlets_sim.switch.config import PINNED_CLOCK, Config
from nlets_sim.switch.directory import demo_key
from nlets_sim.switch.server import SwitchServer
from nlets_sim.tools.replay import Player, TranscriptResult
from nlets_sim.tools.transcript import decode_transcript, parse_transcript

TerminalFactory = Callable[..., Awaitable[Terminal]]


@pytest.fixture
def nlets_config(tmp_path: Path) -> Config:
    """The switch's ``Config``: a free port, a data directory under ``tmp_path``, the clock
    pinned to 2026-01-01 08:00. Override the fixture (same name, in your ``conftest.py``) to
    change any of it."""
    return Config(port=0, data_dir=tmp_path / "switch", clock=PINNED_CLOCK)


@pytest.fixture(scope="session")
def nlets_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """A real Mosquitto broker on a free port of 127.0.0.1 for the whole test session (put its
    ``url`` in ``Config(mqtt=...)``); needs the ``mosquitto`` program."""
    broker = LocalBroker(tmp_path_factory.mktemp("broker"))
    try:
        broker.start()
    except BrokerUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    try:
        yield broker
    finally:
        broker.stop()


try:
    import pytest_asyncio

    HAVE_PYTEST_ASYNCIO = True
except ImportError:  # pragma: no cover - the fixtures below need it
    HAVE_PYTEST_ASYNCIO = False

if HAVE_PYTEST_ASYNCIO:

    @pytest_asyncio.fixture
    async def nlets_switch(nlets_config: Config) -> AsyncIterator[SwitchServer]:
        """A running switch (``SwitchServer``) on ``nlets_config``; its address is
        ``nlets_switch.config.host`` and ``nlets_switch.port``. Stopped after the test."""
        server = SwitchServer(nlets_config)
        await server.start()
        try:
            yield server
        finally:
            await server.stop()

    @pytest_asyncio.fixture
    async def nlets_terminal(nlets_switch: SwitchServer) -> AsyncIterator[TerminalFactory]:
        """``await nlets_terminal("NY0303000")``: a ``Terminal`` logged on to ``nlets_switch``
        as that ORI, with its demo key unless given (``nlets_terminal(ori, key, **options)``,
        options as ``Terminal``'s). Every terminal is closed after the test."""
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

    @pytest_asyncio.fixture
    async def nlets_lesc(
        nlets_switch: SwitchServer, nlets_config: Config
    ) -> AsyncIterator[LescDaemon]:
        """The LESC daemon logged on to ``nlets_switch`` as ``VTINS07S0`` (line ``AX``),
        answering at once from a store holding the test identities
        (``fixtures/LESC_IDENTITIES.md``), on the switch's clock."""
        config = DaemonConfig(
            nlets_config.host,
            nlets_switch.port,
            db=nlets_config.data_dir / "lesc.sqlite3",
            delay=NO_DELAY,
            seed=1,
            clock=nlets_config.clock,
        )
        async with running(config) as daemon:
            yield daemon

    @pytest_asyncio.fixture
    async def nlets_replay(
        nlets_switch: SwitchServer, nlets_lesc: LescDaemon
    ) -> AsyncIterator[Callable[[str | Path], Awaitable[TranscriptResult]]]:
        """``await nlets_replay(Path("my.txt"))`` (or the transcript's text): replays a
        transcript against ``nlets_switch`` and ``nlets_lesc``; a transcript that does not
        replay fails the test with its report and diff."""
        del nlets_lesc  # running is all it needs to do

        async def run(source: str | Path) -> TranscriptResult:
            if isinstance(source, Path):
                transcript = decode_transcript(source.read_bytes(), str(source))
            else:
                transcript = parse_transcript(source)
            result = await Player(nlets_switch.config.host, nlets_switch.port).run(transcript)
            if not result.passed:
                pytest.fail(result.report(), pytrace=False)
            return result

        yield run
