"""``nlets-sim up`` (what ``make run`` runs): the switch and the LESC in one process, with the
default directory and a seeded demo store in a data directory."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
from datetime import datetime
from pathlib import Path

import click

from lesc_daemon.daemon import DaemonConfig, LescDaemon
from lesc_daemon.oris import LESC_ORI
from lesc_daemon.seed import seed_store
from lesc_daemon.store import Store
from nlets_sim.bus.broker import BrokerUnavailable, LocalBroker
from nlets_sim.console.errors import writable_directory
from nlets_sim.console.logging_setup import configure_logging, log_options
from nlets_sim.switch.config import Config, DataDirInUse
from nlets_sim.switch.keys import LESC_LINE
from nlets_sim.switch.server import SwitchServer
from nlets_sim.tools.cli_serve import cannot_listen, wait_for_signal
from nlets_sim.tools.up_nodes import run_nodes

DEMO_PERSONS = 10_000
READY_IAQ = (
    "IAQ.NY0303000.AX.*Q77.TXT\n"
    "PUR/C.ATN/DET J SMITH.PHN/5185551212.NAM/DOE, JOHN A.DOB/19800115.SEX/M.POB/MX.CUS/Y."
    "OFF/0399.ARN/012345678"
)


def command_name() -> str:
    """``nlets-sim`` when the shell finds this one, else its path (``.venv/bin/nlets-sim`` after
    ``make run`` in a shell without the virtual environment)."""
    script = Path(sys.executable).with_name("nlets-sim")
    if not script.exists() or shutil.which("nlets-sim") == str(script):
        return "nlets-sim"
    return os.path.relpath(script) if script.is_relative_to(Path.cwd()) else str(script)


def seed_demo_store(path: Path, clock: datetime | None = None) -> int:
    """Seed the store once (as of the clock's day, or today); returns how many persons it
    holds."""
    store = Store(path)
    try:
        if not store.count_persons():
            today = clock.date() if clock is not None else datetime.now().astimezone().date()
            seed_store(store, DEMO_PERSONS, 1, today)
        return store.count_persons()
    finally:
        store.close()


async def run_demo(
    data_dir: Path,
    host: str,
    port: int,
    clock: datetime | None = None,
    broker_port: int | None = None,
    *,
    log_with_text: bool = False,
) -> None:
    """The switch and the LESC until Ctrl-C. ``clock``: the switch's clock pinned there, the
    LESC's started there; ``broker_port`` (0: a free one): a broker too, to which both publish
    their events; ``log_with_text``: the switch's log lines keep message text."""
    with contextlib.ExitStack() as stack:
        url = None
        if broker_port is not None:  # first: a port in use is said before the seeding
            broker = LocalBroker(data_dir / "broker", broker_port or None)
            broker.start()
            stack.callback(broker.stop)
            url = broker.url
        persons = seed_demo_store(data_dir / "lesc.sqlite3", clock)
        config = Config(
            host=host,
            port=port,
            data_dir=data_dir / "switch",
            clock=clock,
            mqtt=url,
            log_with_text=log_with_text,
        )
        await _run_demo(config, data_dir, persons=persons)


async def _run_demo(config: Config, data_dir: Path, *, persons: int) -> None:
    host, clock, url = config.host, config.clock, config.mqtt
    switch = SwitchServer(config)
    try:
        await switch.start()
    except OSError:
        await switch.stop()
        raise
    daemon = LescDaemon(
        DaemonConfig(
            host, switch.port, db=data_dir / "lesc.sqlite3", seed=None, clock=clock, mqtt=url
        )
    )
    task = asyncio.create_task(daemon.run())
    try:
        async with asyncio.timeout(15):
            await daemon.connected.wait()
        address = f"{host}:{switch.port}"
        click.echo(f"nlets-sim listening on {address}")
        click.echo(
            f"LESC logged on as {LESC_ORI} (line {LESC_LINE}); store {data_dir}/lesc.sqlite3 holds "
            f"{persons:,} synthetic persons (test identities: fixtures/LESC_IDENTITIES.md)"
        )
        click.echo("\nTry, in another shell (Albany PD, demo key S3CRET):\n")
        command = command_name()
        click.echo(f"  {command} send --to {address} --ori NY0303000 --key S3CRET - <<'END'")
        click.echo(f"{READY_IAQ}\nEND\n")
        click.echo(f"  {command} terminal --to {address} --ori NY0303000 --key S3CRET")
        if url is not None:
            click.echo(f"\nbroker {url} (state in {data_dir / 'broker'}); watch the traffic:")
            click.echo(f"\n  {command} watch --mqtt {url}")
        click.echo("\nCtrl-C stops both.")
        await wait_for_signal()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await switch.stop()
        click.echo("stopped")


@click.command("up")
@click.option(
    "--data-dir", type=click.Path(path_type=Path), default=Path("data"), show_default=True
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    type=click.IntRange(0, 65_535),
    default=7700,
    show_default=True,
    envvar="NLETS_SIM_PORT",
    show_envvar=True,
    help="TCP port of the switch (make run PORT=7701 sets it).",
)
@click.option("--nodes", default=0, help="Run N switch nodes and a broker instead of one switch.")
@click.option(
    "--events", is_flag=True, help="Run a broker too, and publish the switch's and LESC's events."
)
@click.option(
    "--broker-port", default=1883, show_default=True, help="With --nodes or --events (0: free)."
)
@click.option(
    "--clock",
    type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]),
    help="Pin the switch's clock and start the LESC's there, e.g. 2026-11-23T08:24.",
)
@log_options
def up_command(
    *,
    data_dir: Path,
    host: str,
    port: int,
    nodes: int,
    broker_port: int,
    clock: datetime | None,
    events: bool,
    log_format: str | None,
    log_with_text: bool,
    quiet: bool,
) -> None:
    """Start the switch and the LESC with demo data (what `make run` runs): the switch's
    journal in DATA_DIR/switch, the LESC's store in DATA_DIR/lesc.sqlite3."""
    writable_directory(data_dir / "switch", "data directory")
    configure_logging(quiet=quiet, log_format=log_format, with_text=log_with_text)
    if nodes < 0 or nodes == 1:
        raise click.BadParameter("give 2 or more nodes (or none: one switch)", param_hint="--nodes")
    if nodes and clock is not None:
        raise click.UsageError("--clock runs with one switch, not with --nodes")
    try:
        if nodes:
            persons = seed_demo_store(data_dir / "lesc.sqlite3")
            asyncio.run(
                run_nodes(data_dir, host, port, nodes, broker_port=broker_port, persons=persons)
            )
            return
        broker = broker_port if events else None
        asyncio.run(run_demo(data_dir, host, port, clock, broker, log_with_text=log_with_text))
    except BrokerUnavailable as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(cannot_listen(host, port, error)) from None
    except DataDirInUse as error:
        raise click.ClickException(str(error)) from None
