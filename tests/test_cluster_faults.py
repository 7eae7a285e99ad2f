"""What must never happen to cross-node traffic, with real processes and a real broker: each
message a sender got an AK for is delivered exactly once, in order per sender and destination,
through a kill -9 of the broker, a kill -9 of a node, the broker stopped for 30 seconds, and
the broker absent when the nodes start. Every message is counted by the id in its text."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from nlets_sim.bus.broker import LocalBroker
from nlets_sim.link.terminal import Delivery, Terminal
from nlets_sim.switch.cluster.plan import write_plan
from nlets_sim.switch.directory import demo_key
from nlets_sim.tools.cluster_run import split_plan
from tests.switch_process import start_switch

COUNT = 300  # messages each way
SENDERS = {"NY0303000": "NJNLETS00", "NJNLETS00": "NY0303000"}


def message(sender: str, number: int) -> bytes:
    return f"AM.{sender}.{SENDERS[sender]}.*C{number}.TXT\r\nMSG-{sender}-{number:05d}".encode()


class Cluster:
    """Node ``a`` serves NY (and every other line), node ``b`` serves NJ; each a process."""

    def __init__(self, tmp_path: Path, broker: LocalBroker) -> None:
        self.tmp_path = tmp_path
        self.broker = broker
        self.plan = split_plan(["a", "b"], [["*"], ["NJ"]])
        self.file = tmp_path / "cluster.toml"
        write_plan(self.file, list(self.plan.nodes.values()))
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self.terminals: dict[str, Terminal] = {}
        self.received: dict[str, list[Delivery]] = {ori: [] for ori in SENDERS}

    async def start(self, node: str) -> None:
        port = self.plan.nodes[node].port
        process, _ = await start_switch(
            self.tmp_path / node,
            *("--port", str(port), "--node", node, "--cluster", str(self.file)),
            *("--mqtt", self.broker.url),
        )
        self.processes[node] = process

    async def kill(self, node: str) -> None:
        process = self.processes.pop(node)
        process.kill()
        await process.wait()

    async def connect(self, ori: str) -> None:
        terminal = self.terminals.get(ori)
        node = self.plan.nodes["b" if ori.startswith("NJ") else "a"]
        if terminal is None:
            assert node.port is not None
            terminal = self.terminals[ori] = Terminal(node.host, node.port, ori, demo_key(ori))
        await terminal.connect()

    async def take(self, ori: str, count: int, timeout: float = 60) -> None:
        """Read deliveries to ``ori`` until ``count`` of the test's messages have come."""
        terminal = self.terminals[ori]
        async with asyncio.timeout(timeout):
            while len(self.received[ori]) < count:
                delivery = await terminal.receive(timeout=None)
                if delivery.message.text.startswith("MSG-"):
                    self.received[ori].append(delivery)

    async def stop(self) -> None:
        for terminal in self.terminals.values():
            await terminal.abort()
        for node in list(self.processes):
            process = self.processes.pop(node)
            process.terminate()
            await process.wait()

    def check(self) -> None:
        """Each sender's messages arrived once each, in the order sent, under one seq each;
        every node still runs."""
        assert all(process.returncode is None for process in self.processes.values())
        for sender, receiver in SENDERS.items():
            texts = [d.message.text for d in self.received[receiver]]
            assert texts == [f"MSG-{sender}-{n:05d}" for n in range(COUNT)]
            assert len({d.seq for d in self.received[receiver]}) == COUNT


@contextlib.asynccontextmanager
async def cluster_of(tmp_path: Path, *, broker_up: bool = True) -> AsyncIterator[Cluster]:
    broker = LocalBroker(tmp_path / "broker")
    if broker_up:
        broker.start()
    cluster = Cluster(tmp_path, broker)
    try:
        await cluster.start("a")
        await cluster.start("b")
        for ori in SENDERS:
            await cluster.connect(ori)
        yield cluster
    finally:
        await cluster.stop()
        broker.stop()


async def reconnect(cluster: Cluster, ori: str) -> None:
    """Log on again once the node is back (the terminal keeps what it had not got AKs for)."""
    await cluster.terminals[ori].abort()  # the old link, dead with its node
    await cluster.connect(ori)  # start_switch returned once the node listens


async def send_all(cluster: Cluster, numbers: range) -> None:
    for sender, terminal in cluster.terminals.items():
        terminal.post(*(message(sender, n) for n in numbers))


async def drain_all(cluster: Cluster) -> None:
    for terminal in cluster.terminals.values():
        await terminal.drain(timeout=60)


Fault = Callable[[Cluster, random.Random], Awaitable[None]]


async def broker_killed(cluster: Cluster, rng: random.Random) -> None:
    await cluster.take("NJNLETS00", rng.randrange(1, COUNT // 2))
    cluster.broker.kill()
    cluster.broker.start()


async def node_killed(cluster: Cluster, rng: random.Random) -> None:
    await cluster.take("NY0303000", rng.randrange(1, COUNT // 2))
    await cluster.kill("b")
    await cluster.start("b")
    await reconnect(cluster, "NJNLETS00")


@pytest.mark.parametrize(("fault", "seed"), [(broker_killed, 1), (node_killed, 2)])
async def test_kill_9_mid_traffic_loses_nothing_and_repeats_nothing(
    tmp_path: Path, fault: Fault, seed: int
) -> None:
    async with cluster_of(tmp_path) as cluster:
        await send_all(cluster, range(COUNT))
        await fault(cluster, random.Random(seed))
        await drain_all(cluster)
        for ori in SENDERS:
            await cluster.take(ori, COUNT)
        cluster.check()


async def test_broker_stopped_for_30_s_while_both_nodes_go_on_sending(tmp_path: Path) -> None:
    async with cluster_of(tmp_path) as cluster:
        await send_all(cluster, range(COUNT // 3))
        await cluster.take("NJNLETS00", 10)
        cluster.broker.stop()
        loop = asyncio.get_running_loop()
        stopped_at = loop.time()
        batch = range(COUNT // 3, 2 * COUNT // 3)
        for start in range(batch.start, batch.stop, 10):  # ten messages a second each way
            await send_all(cluster, range(start, min(start + 10, batch.stop)))
            await drain_all(cluster)  # each node AKs while the broker is away
            await asyncio.sleep(1.0)  # pacing the senders over the outage, not waiting on them
        await asyncio.sleep(max(0.0, 30 - (loop.time() - stopped_at)))  # the outage lasts 30 s
        cluster.broker.start()
        await send_all(cluster, range(2 * COUNT // 3, COUNT))
        await drain_all(cluster)
        for ori in SENDERS:
            await cluster.take(ori, COUNT, timeout=90)
        cluster.check()


async def test_broker_absent_when_the_nodes_start(tmp_path: Path) -> None:
    async with cluster_of(tmp_path, broker_up=False) as cluster:
        node = cluster.plan.nodes["a"]
        assert node.port is not None
        async with Terminal(node.host, node.port, "NY0010000", demo_key("NY0010000")) as local:
            # each node serves its own lines without a broker, and AKs what goes elsewhere
            await cluster.terminals["NY0303000"].send(b"AM.NY0303000.NY0010000.*L1.TXT\r\nLOCAL")
            delivery = await local.receive()
            assert delivery.message.text == "LOCAL"
            await send_all(cluster, range(COUNT))
            await drain_all(cluster)
            assert not cluster.received["NJNLETS00"]
            cluster.broker.start()  # ... and catches up when the broker comes
            for ori in SENDERS:
                await cluster.take(ori, COUNT)
        cluster.check()
