"""A switch server as a node of a cluster: the forwards' bookkeeping in its core, their link
to the broker, and what the server does with each (the asyncio side of ``forwards``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from nlets_sim.bus.address import parse_broker_url
from nlets_sim.switch.cluster.forwards import Forwards
from nlets_sim.switch.cluster.link import ClusterLink
from nlets_sim.switch.cluster.plan import ClusterFileError, Plan, load_plan
from nlets_sim.switch.directory import Directory
from nlets_sim.switch.shell import SwitchShell


def checked_plan(path: Path, node: str, directory: Directory, url: str | None) -> Plan:
    """The cluster file, checked for this node and directory; raises ``ClusterFileError``."""
    plan = load_plan(path)
    if node not in plan.nodes:
        names = ", ".join(sorted(plan.nodes))
        raise ClusterFileError(f"{path}: no node {node!r} (it names {names}); give --node")
    plan.node_of_line(directory)
    if (url or plan.broker) is None:
        raise ClusterFileError(f"{path}: a switch node needs a broker: --mqtt URL or broker = ...")
    return plan


class NodeShell:
    def __init__(self, server: SwitchShell, plan: Plan) -> None:
        config = server.config
        self.server = server
        url = config.mqtt or plan.broker
        assert url is not None
        self.forwards = Forwards(
            config.node,
            plan.node_of_line(server.switch.directory),
            server.journal,
            {node.name: node.address for node in plan.nodes.values()},
        )
        server.switch.cluster = self.forwards
        self.link = ClusterLink(
            parse_broker_url(url, config.mqtt_ca),
            config.node,
            on_forwards=self._forwards,
            on_ack=self._ack,
            on_connected=self._connected,
        )

    def _forwards(self, source: str, forwards: list[tuple[int, dict[str, Any]]]) -> None:
        server = self.server
        now = server.config.now()
        for n, body in forwards:
            server.switch.apply_forward(source, n, body, now)
        server.schedule_flush()

    def _ack(self, source: str, upto: int) -> None:
        self.forwards.acknowledged(source, upto)
        self.server.schedule_flush()

    def _connected(self) -> None:
        for node, forwards in self.forwards.due_again(time.monotonic(), everything=True).items():
            self.link.send(node, forwards)

    def after_commit(self) -> None:
        """Publish the committed batch's forwards and acknowledgements."""
        for node, forwards in self.forwards.take_outbox(time.monotonic()).items():
            self.link.send(node, forwards)
        for node, upto in self.forwards.take_acks().items():
            self.link.ack(node, upto)

    def check(self, now: float) -> None:
        for node, forwards in self.forwards.due_again(now).items():
            self.link.send(node, forwards)

    def status(self) -> dict[str, Any]:
        return {
            "node": self.forwards.me,
            "broker": str(self.link.address),
            "connected": self.link.connected,
            "problem": None if self.link.connected else self.link.health.problem,
            "waiting": self.forwards.waiting(),
            "lines": sorted(
                line
                for line, node in self.forwards.node_of_line.items()
                if node == self.forwards.me
            ),
        }
