"""``nlets-sim broker`` (a local Mosquitto for the bus) and ``nlets-sim watch`` (its events)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import aiomqtt
import click

from nlets_sim.bus.address import DEFAULT_URL, BadBrokerUrl, BrokerAddress, parse_broker_url
from nlets_sim.bus.broker import (
    DEFAULT_PORT,
    BrokerUnavailable,
    broker_config,
    mosquitto_path,
    write_config,
)
from nlets_sim.bus.events import ENVELOPE, KINDS, in_order, subscription, unpack
from nlets_sim.bus.health import link_problem
from nlets_sim.bus.publisher import BACKOFF_MAX_S, client
from nlets_sim.console.errors import ORI, writable_directory


@click.command("broker")
@click.option(
    "--data-dir", type=click.Path(path_type=Path), default=Path("data/broker"), show_default=True
)
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="Port on 127.0.0.1.")
@click.option("--public-host", help="Also listen on this address (passwords required there).")
@click.option(
    "--password-file",
    type=click.Path(exists=True, path_type=Path),
    help="mosquitto_passwd file for the --public-host listener.",
)
def broker_command(
    data_dir: Path, port: int, public_host: str | None, password_file: Path | None
) -> None:
    """Run a Mosquitto broker for the bus in the foreground (its state kept in DATA_DIR)."""
    writable_directory(data_dir, "data directory")
    try:
        program = mosquitto_path()
        text = broker_config(data_dir, port, public_host=public_host, password_file=password_file)
        config = write_config(data_dir, text)
    except (BrokerUnavailable, ValueError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"nlets-sim broker: mqtt://127.0.0.1:{port} (state in {data_dir})")
    sys.stdout.flush()
    os.execv(program, [program, "-c", str(config)])  # noqa: S606 - mosquitto, from PATH


@click.command("watch")
@click.option("--mqtt", "url", default=DEFAULT_URL, show_default=True, help="The broker.")
@click.option("--mqtt-ca", type=click.Path(exists=True, path_type=Path), help="CA for mqtts://.")
@click.option("--node", help="Only this switch node (or lesc).")
@click.option("--kind", type=click.Choice(KINDS), help="Only this kind of event.")
@click.option("--line", help="Only events about this line.")
@click.option("--ori", type=ORI, help="Only events naming this ORI.")
@click.option("--mke", help="Only events about this message key.")
@click.option("--count", type=int, help="Stop after this many events.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event.")
def watch_command(
    url: str,
    mqtt_ca: Path | None,
    count: int | None,
    *,
    as_json: bool,
    **filters: str | None,
) -> None:
    """Print the bus's live events, one line each, until Ctrl-C."""
    try:
        address = parse_broker_url(url, mqtt_ca)
    except BadBrokerUrl as error:
        raise click.BadParameter(str(error), param_hint="--mqtt") from None
    wanted = {key: value for key, value in filters.items() if value is not None}
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_watch(address, wanted, count, as_json=as_json))


def matches(event: dict[str, Any], wanted: dict[str, str]) -> bool:
    for key, value in wanted.items():
        if key == "ori":
            named = {event.get(k) for k in ("ori", "to", "sender", "notify")}
            named.update(event.get("dest") or ())
            if value not in named:
                return False
        elif str(event.get(key)) != value:
            return False
    return True


def describe(event: dict[str, Any]) -> str:
    """One readable line: time, node, kind, line, then the event's own fields."""
    at = str(event.get("at", ""))[11:19] or "-"
    fields = {"ori": event.get("ori"), **event}  # the ORI first
    rest = " ".join(
        f"{key}={','.join(map(str, value)) if isinstance(value, list) else value}"
        for key, value in fields.items()
        if key not in ENVELOPE and value is not None
    )
    return f"{at} {event.get('node')} {event.get('kind'):<9} {event.get('line')} {rest}".rstrip()


async def _watch(
    address: BrokerAddress, wanted: dict[str, str], count: int | None, *, as_json: bool
) -> None:
    topic = subscription(wanted.get("node"), wanted.get("kind"), wanted.get("line"))
    seen = 0
    connected_once = False
    while True:
        try:
            async with client(address, f"nlets-watch-{os.getpid()}", persistent=False) as mqtt:
                await mqtt.subscribe(topic, qos=1)
                if not connected_once:
                    click.echo(f"watching {topic} on {address}", err=True)
                connected_once = True
                async for message in mqtt.messages:
                    assert isinstance(message.payload, bytes)
                    for event in unpack(message.payload):
                        if not matches(event, wanted):
                            continue
                        click.echo(json.dumps(in_order(event)) if as_json else describe(event))
                        seen += 1
                        if count is not None and seen >= count:
                            return
        except (aiomqtt.MqttError, OSError) as error:
            if not connected_once:
                raise click.ClickException(link_problem(error, address)) from None
            click.echo(f"{link_problem(error, address)}; reconnecting", err=True)
            await asyncio.sleep(BACKOFF_MAX_S / 5)
