"""``nlets-sim up --nodes N``: a broker, N switch nodes with the directory's lines split among
them, and the LESC, in one process, with the demo data of ``nlets-sim up``."""

from __future__ import annotations

from pathlib import Path

import click

from lesc_daemon.delays import DEFAULT_DELAY
from lesc_daemon.oris import LESC_ORI
from nlets_sim.bus.broker import LocalBroker, free_port
from nlets_sim.switch.cluster.plan import Node, Plan
from nlets_sim.switch.config import default_directory
from nlets_sim.switch.directory import load_directory
from nlets_sim.tools.cli_serve import wait_for_signal
from nlets_sim.tools.cluster_run import running_cluster

DEMO_TERMINALS = {
    "NY0303000": "ALBANY PD, key S3CRET",
    "NJNLETS00": "NEW JERSEY control terminal",
    "CA0010000": "A CALIFORNIA AGENCY",
    LESC_ORI: "the ICE LESC (logged on by the daemon)",
}


def split_lines(count: int, host: str, port: int) -> Plan:
    """``count`` nodes, ``node1``..., on ``port``, ``port + 1``... (0: free ports); the
    directory's lines dealt out in turn."""
    lines = sorted(load_directory(default_directory()).lines)
    nodes = {}
    for index in range(count):
        name = f"node{index + 1}"
        served = tuple(lines[index::count])
        nodes[name] = Node(name, host, port + index if port else free_port(), served)
    return Plan(nodes)


async def run_nodes(
    data_dir: Path, host: str, port: int, count: int, *, broker_port: int, persons: int
) -> None:
    """Run until Ctrl-C; ``persons``: how many the demo store (``data_dir/lesc.sqlite3``)
    holds."""
    broker = LocalBroker(data_dir / "broker", broker_port or None)
    broker.start()
    try:
        plan = split_lines(count, host, port)
        async with running_cluster(
            data_dir, plan, broker.url, lesc_delay=DEFAULT_DELAY, lesc_db=data_dir / "lesc.sqlite3"
        ) as (_, mapping):
            click.echo(f"broker {broker.url} (state in {broker.data_dir})")
            for node in mapping.plan.nodes.values():
                click.echo(f"node {node.name} listening on {node.address}: {len(node.lines)} lines")
            click.echo(f"cluster file {data_dir / 'cluster.toml'}; store holds {persons:,} persons")
            click.echo("\nDemo terminals log on at:")
            for ori, who in DEMO_TERMINALS.items():
                node = mapping.node_of(ori)
                click.echo(f"  {ori}  {node.name} {node.address}  ({who})")
            click.echo(f"\nWatch the traffic: nlets-sim watch --mqtt {broker.url}")
            click.echo(f"Every node: nlets-sim status --cluster {data_dir / 'cluster.toml'}")
            click.echo("Ctrl-C stops all.")
            await wait_for_signal()
    finally:
        broker.stop()
        click.echo("stopped")
