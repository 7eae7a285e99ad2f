"""``nlets-sim serve``: run the switch."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import ssl
from pathlib import Path
from typing import Any

import click

from nlets_sim.bus.address import parse_broker_url
from nlets_sim.bus.events import check_node_name
from nlets_sim.console.errors import BadSetting, writable_directory
from nlets_sim.console.logging_setup import configure_logging, log_options
from nlets_sim.link.protocol import DEFAULT_HEARTBEAT_S, DEFAULT_WINDOW
from nlets_sim.switch.cluster.plan import ClusterFileError, load_plan
from nlets_sim.switch.config import Config, ConfigError, DataDirInUse, load_config, parse_counter
from nlets_sim.switch.directory import DirectoryError
from nlets_sim.switch.faults import FaultError, make_fault
from nlets_sim.switch.journal_faults import JournalDamaged
from nlets_sim.switch.server import SwitchServer, serve


async def wait_for_signal() -> None:
    """Return on SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    await stop.wait()


def cannot_listen(host: str, port: int, error: OSError) -> str:
    return f"cannot listen on {host}:{port}: {error.strerror or error} (is a switch running?)"


def announce(server: SwitchServer) -> None:
    click.echo(f"nlets-sim listening on {server.config.host}:{server.port}")


def checked_config(config_file: Path | None, overrides: dict[str, Any]) -> Config:
    """The whole configuration checked before anything starts: values, fault rules, and a
    data directory that can be written."""
    where = f"{config_file}: " if config_file else ""
    try:
        config = load_config(config_file, overrides)
        for rule in config.faults:
            make_fault(dict(rule))
        if config.mqtt is not None:
            parse_broker_url(config.mqtt, config.mqtt_ca)
        check_node_name(config.node)
    except FaultError as error:
        raise BadSetting(f"{where}[[fault]]: {error}") from None
    except ValueError as error:
        message = str(error)
        raise BadSetting(message if message.startswith(where) else where + message) from None
    try:
        config.tls_context()  # a certificate or key that cannot be used is said now
    except (OSError, ssl.SSLError) as error:
        raise BadSetting(f"TLS: cannot use {config.tls_cert}: {error}") from None
    writable_directory(config.data_dir, "data directory")
    return config


@click.command("serve")
@click.option("--host", help="Address to listen on [default: 127.0.0.1].")
@click.option(
    "--port", type=click.IntRange(0, 65_535), help="TCP port; 0 picks a free one [default: 7700]."
)
@click.option("--data-dir", type=click.Path(path_type=Path), help="Journal and admin socket.")
@click.option(
    "--directory",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Directory TOML.",
)
@click.option("--config", "config_file", type=click.Path(exists=True, path_type=Path))
@click.option("--tz", help="Time zone of output headers [default: UTC].")
@click.option("--clock", help="Pin the switch's clock, e.g. 2026-01-01T08:00 (for tests).")
@click.option(
    "--clock-rate",
    type=float,
    help="With --clock: the clock runs from there, this many simulated seconds per second.",
)
@click.option(
    "--clock-origin",
    type=float,
    help="With --clock-rate: the Unix time at which the clock reads --clock [default: now].",
)
@click.option(
    "--heartbeat", "heartbeat_s", type=int, help=f"HBI in seconds [default: {DEFAULT_HEARTBEAT_S}]."
)
@click.option(
    "--window",
    type=int,
    help=f"Un-acknowledged DT frames per terminal [default: {DEFAULT_WINDOW}].",
)
@click.option(
    "--tls-cert", type=click.Path(exists=True, path_type=Path), help="PEM certificate: serve TLS."
)
@click.option(
    "--tls-key",
    type=click.Path(exists=True, path_type=Path),
    help="Its PEM key (if not in the certificate file).",
)
@click.option(
    "--tls-client-ca",
    type=click.Path(exists=True, path_type=Path),
    help="Require terminals' certificates signed by this PEM CA.",
)
@click.option("--mqtt", help="Publish events to this broker, e.g. mqtt://127.0.0.1:1883.")
@click.option("--mqtt-ca", type=click.Path(exists=True, path_type=Path), help="CA for mqtts://.")
@click.option("--node", help="This switch's name on the bus [default: main].")
@click.option(
    "--events-with-text",
    is_flag=True,
    default=None,
    help="Put names, DOBs, identifiers and message text in events.",
)
@click.option("--event-buffer", type=int, help="Events held while the broker is away.")
@click.option(
    "--input-counter",
    "input_counters",
    multiple=True,
    metavar="LINE=N",
    help="Number the next message from LINE gets (line 2 of the header); repeatable.",
)
@click.option(
    "--output-counter",
    "output_counters",
    multiple=True,
    metavar="LINE=N",
    help="Number the next message to LINE gets (line 3 of the header); repeatable.",
)
@click.option(
    "--cluster",
    type=click.Path(exists=True, path_type=Path),
    help="Cluster file: run as the node --node of it (its port, unless --port).",
)
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@log_options
def serve_command(
    *,
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    directory: Path | None,
    config_file: Path | None,
    tz: str | None,
    clock: str | None,
    clock_rate: float | None,
    clock_origin: float | None,
    heartbeat_s: int | None,
    window: int | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    tls_client_ca: Path | None,
    mqtt: str | None,
    mqtt_ca: Path | None,
    node: str | None,
    events_with_text: bool | None,
    event_buffer: int | None,
    input_counters: tuple[str, ...],
    output_counters: tuple[str, ...],
    cluster: Path | None,
    verbose: bool,
    log_format: str | None,
    log_with_text: bool,
    quiet: bool,
) -> None:
    """Run the switch until Ctrl-C or SIGTERM."""
    try:
        counters = {
            name: dict(map(parse_counter, given)) if given else None
            for name, given in (
                ("input_counters", input_counters),
                ("output_counters", output_counters),
            )
        }
    except ConfigError as error:
        raise click.UsageError(str(error)) from None
    overrides = {
        **counters,
        "host": host,
        "port": port,
        "data_dir": data_dir,
        "directory": directory,
        "tz": tz,
        "clock": clock,
        "clock_rate": clock_rate,
        "clock_origin": clock_origin,
        "heartbeat_s": heartbeat_s,
        "window": window,
        "tls_cert": tls_cert,
        "tls_key": tls_key,
        "tls_client_ca": tls_client_ca,
        "mqtt": mqtt,
        "mqtt_ca": mqtt_ca,
        "node": node,
        "events_with_text": events_with_text,
        "log_with_text": log_with_text or None,
        "event_buffer": event_buffer,
        "cluster": cluster,
    }
    config = checked_config(config_file, overrides)
    if config.cluster is not None and port is None:
        try:
            member = load_plan(config.cluster).nodes.get(config.node)
        except ValueError as error:
            raise BadSetting(str(error)) from None
        if member is not None and member.port:
            config = dataclasses.replace(config, host=member.host, port=member.port)
    configure_logging(
        verbose=verbose, quiet=quiet, log_format=log_format, with_text=config.log_with_text
    )
    try:
        asyncio.run(serve(config, wait_for_signal, announce))
    except OSError as error:
        raise click.ClickException(cannot_listen(config.host, config.port, error)) from None
    except (DataDirInUse, ConfigError, JournalDamaged) as error:
        raise click.ClickException(str(error)) from None
    except ssl.SSLError as error:
        raise click.ClickException(f"TLS: {error}") from None
    except ClusterFileError as error:
        raise click.ClickException(str(error)) from None
    except DirectoryError as error:
        path = config.directory_path
        raise click.ClickException("\n".join(f"{path}: {p}" for p in error.problems)) from None
