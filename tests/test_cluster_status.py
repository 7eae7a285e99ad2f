"""``nlets-sim status --cluster FILE``: every node, its link to the broker and the forwards
waiting, with the nodes and the broker in their own processes; through a kill -9 of the broker
and a node that stopped."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nlets_sim.tools.cluster_status import cluster_status
from tests.test_cluster_faults import Cluster, cluster_of, message


async def status_cli(cluster: Cluster, *extra: str) -> tuple[int, str, str]:
    """``nlets-sim status --cluster FILE`` as a user runs it: exit code, output, errors."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "nlets_sim", "status", "--cluster", str(cluster.file), *extra),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def wait_nodes(
    cluster: Cluster, predicate: Callable[[dict[str, dict[str, Any]]], bool]
) -> dict[str, dict[str, Any]]:
    """Every node's status once ``predicate`` holds of them."""
    async with asyncio.timeout(30):
        while not predicate(statuses := await cluster_status(cluster.plan, cluster.tmp_path)):
            await asyncio.sleep(0.05)  # polling the nodes' own answers: nothing to wait on
    return statuses


def links(statuses: dict[str, dict[str, Any]]) -> set[bool]:
    return {status["cluster"]["connected"] for status in statuses.values()}


async def test_status_shows_every_node_its_broker_link_and_forwards_waiting(
    tmp_path: Path,
) -> None:
    async with cluster_of(tmp_path) as cluster:
        broker = cluster.broker.url
        lines = {name: ",".join(node.lines) for name, node in cluster.plan.nodes.items()}
        await wait_nodes(cluster, lambda statuses: links(statuses) == {True})
        code, out, _ = await status_cli(cluster)
        assert code == 0
        text = out.splitlines()
        assert text[0] == f"cluster {cluster.file}: 2 nodes"
        assert text[1].startswith("node a: up ")
        assert text[1].endswith(" s, 1 logged on, 0 queued for delivery, journal ok")
        assert text[2].startswith("  cluster: node a (lines AK,AL,")
        assert text[2].endswith(f", broker {broker} connected, forwards waiting: none")
        assert text[3].startswith(f"  events: node a, broker {broker} connected, published ")
        assert text[4].startswith("node b: up ")
        assert text[5] == (
            f"  cluster: node b (lines {lines['b']}), broker {broker} connected, "
            "forwards waiting: none"
        )

        cluster.broker.kill()
        await wait_nodes(cluster, lambda statuses: links(statuses) == {False})
        ny = cluster.terminals["NY0303000"]
        ny.post(*(message("NY0303000", number) for number in range(3)))
        await ny.drain()  # AK'd: journaled at node a, waiting for the broker
        code, out, _ = await status_cli(cluster)
        assert code == 0
        assert f"broker {broker} AWAY, forwards waiting: b 3\n" in out
        assert f"  why: nothing listens at {broker}\n" in out
        code, out, _ = await status_cli(cluster, "--json")
        assert json.loads(out)["a"]["cluster"]["waiting"] == {"b": 3}

        cluster.broker.start()
        await cluster.take("NJNLETS00", 3)
        await wait_nodes(cluster, lambda statuses: not statuses["a"]["cluster"]["waiting"])

        await cluster.kill("b")
        code, out, err = await status_cli(cluster, "--data-dir", str(tmp_path))
        assert code == 1
        assert "\nnode b: NOT ANSWERING: no switch is running with admin socket " in out
        assert out.startswith(f"cluster {cluster.file}: 2 nodes\nnode a: up ")
        assert err == "Error: 1 of 2 nodes did not answer: b\n"
