"""Switch nodes run together in one process (``nlets-sim up --nodes``, ``replay --cluster``,
tests), and where a transcript's terminals log on among them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from lesc_daemon.daemon import DaemonConfig, running
from lesc_daemon.delays import NO_DELAY, Delay
from nlets_sim.bus.broker import free_port
from nlets_sim.switch.cluster.plan import Node, Plan, load_plan, write_plan
from nlets_sim.switch.config import Config
from nlets_sim.switch.directory import Directory, load_directory
from nlets_sim.switch.keys import LESC_LINE
from nlets_sim.switch.server import SwitchServer


class PlanMap:
    """Where each ORI logs on, and each line's admin socket, in a cluster ``plan``."""

    def __init__(self, plan: Plan, directory: Directory, data_dirs: dict[str, Path]) -> None:
        self.plan = plan
        self.directory = directory
        self.node_of_line = plan.node_of_line(directory)
        self.data_dirs = data_dirs

    def node_of(self, ori: str) -> Node:
        return self.plan.nodes[self.node_of_line[self.directory.agencies[ori].line]]

    def address(self, ori: str) -> tuple[str, int]:
        node = self.node_of(ori)
        if not node.port:
            raise ValueError(f"the cluster file gives node {node.name} no port")
        return node.host, node.port

    def admin(self, line: str) -> Path | None:
        data_dir = self.data_dirs.get(self.node_of_line.get(line, ""))
        return Config(data_dir=data_dir).admin_path if data_dir else None

    def admins(self) -> list[Path | None]:
        """Every node's admin socket (None for a node whose data directory is not known)."""
        return [
            Config(data_dir=self.data_dirs[name]).admin_path if name in self.data_dirs else None
            for name in self.plan.nodes
        ]


def split_plan(names: list[str], lines: list[list[str]], host: str = "127.0.0.1") -> Plan:
    """A plan of nodes ``names`` on free ports; node ``i`` serves ``lines[i]`` (``["*"]``: the
    rest)."""
    nodes = {
        name: Node(name, host, free_port(), tuple(served))
        for name, served in zip(names, lines, strict=True)
    }
    return Plan(nodes)


@contextlib.asynccontextmanager
async def running_cluster(
    base: Path,
    plan: Plan,
    broker_url: str,
    *,
    clock: datetime | None = None,
    lesc_delay: Delay = NO_DELAY,
    lesc_db: Path | None = None,
    directory: Path | None = None,
) -> AsyncIterator[tuple[dict[str, SwitchServer], PlanMap]]:
    """Every node of ``plan`` (its file written to ``base/cluster.toml``) and the LESC logged
    on at the node serving line AX, for as long as the ``async with`` lasts."""
    base.mkdir(parents=True, exist_ok=True)
    path = base / "cluster.toml"
    write_plan(path, list(plan.nodes.values()), broker_url)
    plan = load_plan(path)
    config = Config(clock=clock, mqtt=broker_url, cluster=path, directory=directory)
    servers: dict[str, SwitchServer] = {}
    data_dirs = {name: base / name for name in plan.nodes}
    mapping = PlanMap(plan, load_directory(config.directory_path), data_dirs)
    try:
        for name, node in plan.nodes.items():
            assert node.port is not None
            server = SwitchServer(
                replace(config, node=name, host=node.host, port=node.port, data_dir=data_dirs[name])
            )
            servers[name] = server
            await server.start()
        lesc_node = plan.nodes[mapping.node_of_line[LESC_LINE]]
        lesc = DaemonConfig(
            lesc_node.host,
            servers[lesc_node.name].port,
            db=lesc_db or base / "lesc.sqlite3",
            delay=lesc_delay,
            seed=1,
            clock=clock,
        )
        async with running(lesc):
            yield servers, mapping
    finally:
        for server in servers.values():
            await server.stop()
