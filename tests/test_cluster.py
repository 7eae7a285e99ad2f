"""Switch nodes on a real broker: to a terminal, a cluster is one switch. Cross-node traffic
gets the headers, counters, SMs and store-and-forward of one switch; a terminal at the wrong
node gets LJ naming the right one; the shipped transcripts pass with their terminals spread
over two nodes."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from nlets_sim.bus.broker import LocalBroker
from nlets_sim.link.terminal import LogonRejected, Terminal
from nlets_sim.switch.cluster.plan import Plan
from nlets_sim.switch.config import PINNED_CLOCK, default_directory
from nlets_sim.switch.directory import demo_key, load_directory
from nlets_sim.switch.server import SwitchServer
from nlets_sim.tools.cluster_run import PlanMap, running_cluster, split_plan
from nlets_sim.tools.replay import Player
from nlets_sim.tools.transcript import Logon, parse_transcript

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "transcripts"
_clusters = itertools.count(1)
Cluster = tuple[dict[str, SwitchServer], PlanMap]


def two_nodes(second_lines: list[str]) -> Plan:
    """Node ``<k>a`` serves every line but ``second_lines``, node ``<k>b`` those (names new
    per test: the broker is shared and keeps sessions)."""
    k = next(_clusters)
    return split_plan([f"c{k}a", f"c{k}b"], [["*"], second_lines])


@pytest_asyncio.fixture
async def cluster(tmp_path: Path, nlets_broker: LocalBroker) -> AsyncIterator[Cluster]:
    plan = two_nodes(["NJ", "AX"])  # NY on a, NJ and the LESC on b
    async with running_cluster(tmp_path, plan, nlets_broker.url, clock=PINNED_CLOCK) as running:
        yield running


async def logon(mapping: PlanMap, ori: str) -> Terminal:
    terminal = Terminal(*mapping.address(ori), ori, demo_key(ori))
    await terminal.connect()
    return terminal


AM = b"AM.NY0303000.NJNLETS00.*B1.TXT\r\nHELLO"


async def test_cross_node_am_has_the_headers_of_one_switch(cluster: Cluster) -> None:
    servers, mapping = cluster
    ny, nj = await logon(mapping, "NY0303000"), await logon(mapping, "NJNLETS00")
    assert mapping.node_of("NY0303000") != mapping.node_of("NJNLETS00")
    await ny.send(AM)
    delivery = await nj.receive()
    assert delivery.raw == (
        b"AM.NY0303000.*B1\r\n08:00 01/01/2026 00001\r\n08:00 01/01/2026 00001 NJNLETS00\r\n"
        b"TXT\r\nHELLO"
    )
    await ny.close()
    await nj.close()
    counters = {name: server.status()["counters"] for name, server in servers.items()}
    sender, receiver = (counters[mapping.node_of(ori).name] for ori in ("NY0303000", "NJNLETS00"))
    assert (sender, receiver["NJ/output"]) == ({"NY/input": 1}, 1)  # each line's on its node
    assert "NY/input" not in receiver


async def test_a_terminal_at_the_wrong_node_gets_lj_naming_the_right_one(
    cluster: Cluster,
) -> None:
    _, mapping = cluster
    right = mapping.node_of("NJNLETS00")
    wrong = mapping.node_of("NY0303000")
    terminal = Terminal(wrong.host, wrong.port or 0, "NJNLETS00", demo_key("NJNLETS00"))
    with pytest.raises(LogonRejected) as rejected:
        await terminal.connect()
    assert rejected.value.reason == f"ORI SERVED BY NODE {right.name} AT {right.address}"


async def test_stored_at_the_receiving_node_sm_back_then_forwarded_on_logon(
    cluster: Cluster,
) -> None:
    servers, mapping = cluster
    ny = await logon(mapping, "NY0303000")
    (sm,) = await ny.request(AM)  # NJ is not logged on: its node stores it, answers SM .02.
    assert sm.raw == (
        b"SM.NL0000000.*B1\r\n08:00 01/01/2026 00001\r\n08:00 01/01/2026 00001 NY0303000\r\n"
        b"TXT\r\n.02. USER OUT OF SERVICE FOR MSG TYPE, NLETS WILL FORWARD\r\n"
        b"DESTINATION NJNLETS00\r\nORIGINAL MESSAGE\r\n" + AM
    )
    nj = await logon(mapping, "NJNLETS00")
    delivery = await nj.receive()
    assert delivery.raw.startswith(b"AM.NY0303000.*B1\r\n08:00 01/01/2026 00001\r\n")
    await ny.close()
    await nj.close()
    status = servers[mapping.node_of("NY0303000").name].status()["cluster"]
    assert status["connected"] is True
    assert "NY" in status["lines"]


async def test_an_operators_outage_reaches_each_control_terminal_once(cluster: Cluster) -> None:
    """As from one switch: each SM once, numbered on line NL's counter, the control terminals
    of another node's lines included (replay asks every node; each tells its own lines)."""
    servers, mapping = cluster
    outages = parse_transcript("outage 1400 EST\n\noutage end\n", "outages")
    result = await Player("127.0.0.1", 0, cluster=mapping).run(outages)
    assert result.passed, result.report()
    async with asyncio.timeout(30):  # every forward settled: acknowledged after its commit
        while any(server.status()["cluster"]["waiting"] for server in servers.values()):
            await asyncio.sleep(0.05)  # polling the nodes' own state: nothing to wait on
    for ori in ("NJNLETS00", "NYNLETS00"):  # on node b, on node a
        assert servers[mapping.node_of(ori).name].status()["queues"][ori] == 2
    nj = await logon(mapping, "NJNLETS00")
    texts = [(await nj.receive()).raw.split(b"\r\n") for _ in range(2)]
    await nj.close()
    assert [(lines[1][-5:], lines[-1]) for lines in texts] == [
        (b"00001", b"NLETS TEMPORARILY OUT OF SERVICE UNTIL 1400 EST"),
        (b"00002", b"NLETS IN SERVICE"),
    ]


def transcripts() -> list[Path]:
    return sorted(FIXTURES.glob("*.txt"))


@pytest.mark.parametrize("path", transcripts(), ids=lambda path: path.stem)
async def test_transcript_passes_against_a_cluster(
    path: Path, tmp_path: Path, nlets_broker: LocalBroker
) -> None:
    transcript = parse_transcript(path.read_text("ascii"), str(path))
    directory = load_directory(default_directory())
    lines = list(
        dict.fromkeys(
            directory.agencies[step.ori].line
            for step in transcript.steps
            if isinstance(step, Logon)
        )
    )
    # the first terminal's line on node a, every other logged-on line (and the LESC) on b
    plan = two_nodes([*(line for line in lines[1:] if line != "AX"), "AX"])
    async with running_cluster(tmp_path, plan, nlets_broker.url, clock=PINNED_CLOCK) as (
        _,
        mapping,
    ):
        result = await Player("127.0.0.1", 0, cluster=mapping).run(transcript)
    assert result.passed, result.report()
    if len(lines) > 1:
        assert len({mapping.node_of_line[line] for line in lines}) == 2
