"""Imports point down the rooms of DESIGN.md, never up, and never round in a circle.

Bottom to top: ``formats``; the link and the terminal library (``nlets_sim.link``) and the
event bus (``nlets_sim.bus``); what both command lines share (``nlets_sim.console``); the
switch (``nlets_sim.switch``) beside the LESC (``lesc_daemon``), neither importing the other;
the tools (``nlets_sim.tools``) above both; and on top the entry points that users name
(``python -m nlets_sim``, the pytest plugin) and the two paths the README first documented
(``nlets_sim.client``, ``nlets_sim.config``), which no package code imports. Any room may
read the package's version from ``nlets_sim`` itself, which imports nothing. Package code never
imports ``fixtures``.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("formats", "nlets_sim", "lesc_daemon")

_BELOW_DAEMONS = {"formats", "nlets_sim.link", "nlets_sim.bus", "nlets_sim.console"}
_BELOW_TOOLS = _BELOW_DAEMONS | {"nlets_sim.switch", "lesc_daemon"}
# room -> the rooms it may import besides itself
ROOMS: dict[str, frozenset[str]] = {
    "formats": frozenset(),
    "nlets_sim.link": frozenset({"formats"}),
    "nlets_sim.bus": frozenset({"formats"}),
    "nlets_sim.console": frozenset({"formats", "nlets_sim.link"}),
    "nlets_sim.switch": frozenset(_BELOW_DAEMONS),
    "lesc_daemon": frozenset(_BELOW_DAEMONS),
    "nlets_sim.tools": frozenset(_BELOW_TOOLS),
    "nlets_sim.__main__": frozenset({"nlets_sim.tools"}),
    "nlets_sim.pytest_plugin": frozenset(_BELOW_TOOLS | {"nlets_sim.tools"}),
    # the paths the README first documented, kept for users' code; no package code imports them
    "nlets_sim.client": frozenset({"nlets_sim.link"}),
    "nlets_sim.config": frozenset({"nlets_sim.switch"}),
}
VERSION_ONLY = "nlets_sim"  # the package itself: its version, importable from every room


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def room_of(module: str) -> str | None:
    """The most specific room that holds ``module``, or None."""
    best = None
    for room in ROOMS:
        if (module == room or module.startswith(room + ".")) and len(room) > len(best or ""):
            best = room
    return best


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import, at any depth: a function's lazy import counts, and so does one in an
    ``if TYPE_CHECKING:`` block (a cycle of types is a cycle of the design too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def imports_of(module: str, source: str, known: Iterable[str]) -> set[str]:
    """The project modules ``module`` imports (``from package import submodule`` resolved to
    the submodule)."""
    known = set(known)
    is_package = module in {m for m in known if any(k.startswith(m + ".") for k in known)}
    found: set[str] = set()
    for node in _import_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            parts = module.split(".")
            parts = parts if is_package else parts[:-1]
            parts = parts[: len(parts) - node.level + 1]
            base = ".".join([*parts, base] if base else parts)
        for alias in node.names:
            child = f"{base}.{alias.name}"
            found.add(child if child in known else base)
    return {name for name in found if name.split(".")[0] in {*PACKAGES, "fixtures"}}


def wrong_way(graph: Mapping[str, set[str]]) -> list[str]:
    """Each import that leaves its room for a room it may not use, said in one line."""
    problems = []
    for module, imported in sorted(graph.items()):
        room = room_of(module)
        if room is None:
            if module != VERSION_ONLY:
                problems.append(f"{module} is in no room: add it to one (tests/test_layering.py)")
            continue
        for name in sorted(imported):
            if name.split(".")[0] == "fixtures":
                problems.append(f"{module} imports {name}: package code never imports fixtures")
                continue
            target = room_of(name)
            if name == VERSION_ONLY or target == room or target in ROOMS[room]:
                continue
            problems.append(f"{module} ({room}) imports {name} ({target}): an import upward")
    return problems


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@functools.cache
def project_graph() -> dict[str, set[str]]:
    modules = package_modules()
    return {
        module: imports_of(module, path.read_text("utf-8"), modules)
        for module, path in modules.items()
    }


def test_every_import_points_down_the_rooms() -> None:
    graph = project_graph()
    assert len(graph) > 100  # every package file was read
    assert wrong_way(graph) == []


def test_no_import_cycle_between_modules() -> None:
    assert cycles(project_graph()) == []


def test_the_package_root_imports_nothing_of_the_project() -> None:
    """Every room may read ``nlets_sim.__version__`` because the root imports no room."""
    assert project_graph()[VERSION_ONLY] == set()


def test_an_upward_import_a_fixtures_import_and_a_stray_module_are_each_named() -> None:
    known = ["nlets_sim.switch.core", "nlets_sim.tools.up", "fixtures.make_directory"]
    source = "from nlets_sim.tools import up\nimport fixtures.make_directory\n"
    graph = {
        "nlets_sim.switch.core": imports_of("nlets_sim.switch.core", source, known),
        "nlets_sim.stray": set(),
    }
    assert wrong_way(graph) == [
        "nlets_sim.stray is in no room: add it to one (tests/test_layering.py)",
        "nlets_sim.switch.core imports fixtures.make_directory: package code never imports "
        "fixtures",
        "nlets_sim.switch.core (nlets_sim.switch) imports nlets_sim.tools.up (nlets_sim.tools): "
        "an import upward",
    ]


def test_the_switch_and_the_lesc_do_not_import_each_other() -> None:
    graph = {"lesc_daemon.daemon": {"nlets_sim.switch.config"}, "nlets_sim.switch.core": set()}
    graph["nlets_sim.switch.server"] = {"lesc_daemon.store"}
    assert len(wrong_way(graph)) == 2


def test_a_cycle_is_found_also_through_a_type_checking_import() -> None:
    known = ["nlets_sim.switch.server", "nlets_sim.switch.admin"]
    admin = "if TYPE_CHECKING:\n    from nlets_sim.switch.server import S\nimport nlets_sim.bus\n"
    assert imports_of("nlets_sim.switch.admin", admin, known) == {
        "nlets_sim.switch.server",
        "nlets_sim.bus",
    }
    assert cycles({"a.server": {"a.admin"}, "a.admin": {"a.server"}, "a.x": {"a.x"}}) == [
        ["a.admin", "a.server"]
    ]


def test_the_first_documented_paths_still_name_the_same_objects() -> None:
    from nlets_sim import client, config  # noqa: PLC0415
    from nlets_sim.link import terminal  # noqa: PLC0415
    from nlets_sim.switch import config as switch_config  # noqa: PLC0415

    assert client.Terminal is terminal.Terminal
    assert config.Config is switch_config.Config
    assert {name: getattr(client, name) for name in client.__all__} == {
        name: getattr(terminal, name) for name in client.__all__
    }
