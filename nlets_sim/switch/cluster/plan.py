"""The cluster file: which node serves which lines, and where its terminals connect.

    broker = "mqtt://127.0.0.1:1883"     # optional: --mqtt wins

    [[node]]
    name = "east"
    port = 7701                          # optional; host defaults to 127.0.0.1
    lines = ["NY", "NJ", "CT"]

    [[node]]
    name = "west"
    port = 7702
    lines = ["*"]                        # every line no other node names

Every node reads the same directory; every line of it is served by exactly one node.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from nlets_sim.bus.events import check_node_name
from nlets_sim.switch.directory import Directory

REST = "*"


class ClusterFileError(ValueError):
    """The cluster file cannot be used; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    host: str
    port: int | None
    lines: tuple[str, ...]  # as written: line codes, or "*"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}" if self.port else self.host


@dataclass(frozen=True, slots=True)
class Plan:
    nodes: dict[str, Node]
    broker: str | None = None

    def node_of_line(self, directory: Directory) -> dict[str, str]:
        """Each line code of ``directory`` and the node that serves it."""
        named = {line: node.name for node in self.nodes.values() for line in node.lines}
        rest = named.pop(REST, None)
        unknown = sorted(set(named) - set(directory.lines))
        if unknown:
            raise ClusterFileError(f"the cluster names lines not in the directory: {unknown}")
        served = {}
        for line in directory.lines:
            node = named.get(line, rest)
            if node is None:
                raise ClusterFileError(f"no node serves line {line} (give one node lines = ['*'])")
            served[line] = node
        return served


def load_plan(path: Path) -> Plan:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ClusterFileError(f"{path}: {error}") from None
    nodes: dict[str, Node] = {}
    try:
        for table in data.get("node", []):
            name = check_node_name(str(table["name"]))
            lines = tuple(str(line) for line in table.get("lines", []))
            if name in nodes:
                raise ClusterFileError(f"node {name} is named twice")
            port = table.get("port")
            nodes[name] = Node(name, str(table.get("host", "127.0.0.1")), port, lines)
    except (KeyError, TypeError, ValueError) as error:
        raise ClusterFileError(f"{path}: bad [[node]] table: {error}") from None
    if not nodes:
        raise ClusterFileError(f"{path}: no [[node]] tables")
    seen: dict[str, str] = {}
    for node in nodes.values():
        for line in node.lines:
            if line in seen:
                raise ClusterFileError(
                    f"{path}: line {line} is served by {seen[line]} and {node.name}"
                )
            seen[line] = node.name
    broker = data.get("broker")
    return Plan(nodes, str(broker) if broker is not None else None)


def write_plan(path: Path, nodes: list[Node], broker: str | None = None) -> None:
    """A cluster file for ``nodes`` (what ``nlets-sim up --nodes`` writes)."""
    out = [f'broker = "{broker}"', ""] if broker else []
    for node in nodes:
        out += ["[[node]]", f'name = "{node.name}"', f'host = "{node.host}"']
        if node.port:
            out.append(f"port = {node.port}")
        out += ["lines = [" + ", ".join(f'"{line}"' for line in node.lines) + "]", ""]
    path.write_text("\n".join(out), "utf-8")
