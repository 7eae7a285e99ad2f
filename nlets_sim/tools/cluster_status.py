"""``nlets-sim status --cluster FILE``: every node of a cluster, each asked at its own admin
socket (so a node whose broker is away still answers), and the lines ``status`` prints about a
switch's links to the broker."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from nlets_sim.switch.admin import AdminError, admin_request
from nlets_sim.switch.cluster.plan import Plan
from nlets_sim.switch.config import Config

ASK_TIMEOUT_S = 5.0  # a node that does not answer by then is shown as not answering


def node_data_dir(base: Path, node: str) -> Path:
    """Where node ``node`` keeps its data: ``BASE/<node>`` (as ``up --nodes`` and ``replay
    --cluster --data-dir`` lay them out)."""
    return base / node


async def ask_node(data_dir: Path) -> dict[str, Any]:
    """A node's status, or ``{"error": sentence}`` when it does not answer."""
    try:
        async with asyncio.timeout(ASK_TIMEOUT_S):
            return await admin_request(Config(data_dir=data_dir).admin_path, {"command": "status"})
    except AdminError as error:
        return {"error": str(error)}
    except TimeoutError:
        return {"error": f"no answer from the switch in {data_dir} within {ASK_TIMEOUT_S:g} s"}


async def cluster_status(plan: Plan, base: Path) -> dict[str, dict[str, Any]]:
    """Every node's status (or its error), in the cluster file's order."""
    names = list(plan.nodes)
    answers = await asyncio.gather(*(ask_node(node_data_dir(base, name)) for name in names))
    return dict(zip(names, answers, strict=True))


def link_lines(status: dict[str, Any]) -> list[str]:
    """What a switch's status says of its links to the broker: the cluster link (a node) and
    the event stream, each with why it is down when it is."""
    lines = []
    cluster = status.get("cluster")
    if cluster is not None:
        waiting = ", ".join(f"{node} {n}" for node, n in cluster["waiting"].items()) or "none"
        lines.append(
            f"cluster: node {cluster['node']} (lines {','.join(cluster['lines'])}), broker "
            f"{cluster['broker']} {_link(cluster)}, forwards waiting: {waiting}"
        )
        lines += _problem(cluster)
    events = status.get("events")
    if events is not None:
        lines.append(
            f"events: node {events['node']}, broker {events['broker']} {_link(events)}, "
            f"published {events['published']}, buffered {events['buffered']}, "
            f"dropped {events['dropped']}"
        )
        lines += _problem(events)
    return lines


def describe_cluster(path: Path, statuses: dict[str, dict[str, Any]]) -> list[str]:
    """``status --cluster``: a block per node."""
    out = [f"cluster {path}: {len(statuses)} nodes"]
    for name, status in statuses.items():
        if "error" in status:
            out.append(f"node {name}: NOT ANSWERING: {status['error']}")
            continue
        queued = sum(status["queues"].values())
        out.append(
            f"node {name}: up {status['uptime_s']} s, {len(status['online'])} logged on, "
            f"{queued} queued for delivery, {_journal(status['journal'])}"
        )
        out += [f"  {line}" for line in link_lines(status)]
    return out


def _link(link: dict[str, Any]) -> str:
    return "connected" if link["connected"] else "AWAY"


def _problem(link: dict[str, Any]) -> list[str]:
    problem = link.get("problem")
    return [f"  why: {problem}"] if problem and not link["connected"] else []


def _journal(health: dict[str, Any]) -> str:
    return "journal ok" if health["ok"] else "journal CANNOT STORE"
