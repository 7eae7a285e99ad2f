"""Bus benchmark: the single switch with its event stream off and on, and two switch nodes
with cross-node pairs against the same nodes with local pairs; each a separate process, the
journal on, a real Mosquitto broker.

Runs alternate (off, on, off, on...; local, cross, local, cross...) so that the machine's
noise falls on both sides alike; medians are printed. CPU per delivered message is the user +
system CPU the switch processes (and, shown apart, the broker) used during the run, divided by
the messages delivered.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.bench_switch import MESSAGE_BYTES, am, percentile, sent_time
from bench.timing import cpu_seconds
from nlets_sim.bus.broker import LocalBroker
from nlets_sim.link.terminal import Terminal
from nlets_sim.switch.cluster.plan import write_plan
from nlets_sim.switch.directory import demo_key
from nlets_sim.tools.cluster_run import split_plan
from tests.switch_process import start_switch

SENDERS = ("NY", "NJ", "PA", "CT")
FAR = ("MA", "VT", "ME", "NH")  # receivers' lines on the other node


@dataclass
class Run:
    rate: float  # delivered messages/s
    p50_ms: float
    p99_ms: float
    cpu_us: float  # switch processes' CPU per delivered message
    broker_cpu_us: float


async def exchange(
    ports: tuple[int, int], receivers: tuple[str, ...], per_pair: int, pids: list[int], broker: int
) -> Run:
    pairs = []
    for state, far in zip(SENDERS, receivers, strict=True):
        sender = Terminal("127.0.0.1", ports[0], f"{state}0010000", demo_key(f"{state}0010000"))
        ori = f"{far}0020000"
        receiver = Terminal("127.0.0.1", ports[1], ori, demo_key(ori))
        await sender.connect(reset=True)
        await receiver.connect(reset=True)
        pairs.append((sender, receiver))
    latencies: list[float] = []

    async def send_all(sender: Terminal, receiver: Terminal) -> None:
        for _ in range(per_pair):
            await sender.send(am(sender.ori, receiver.ori, time.perf_counter_ns()))

    async def collect(receiver: Terminal) -> None:
        for _ in range(per_pair):
            delivery = await receiver.receive(timeout=120)
            latencies.append((time.perf_counter_ns() - sent_time(delivery.message.text)) / 1e6)

    cpu_before = sum(cpu_seconds(pid) for pid in pids)
    broker_before = cpu_seconds(broker) if broker else 0.0
    start = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for sender, receiver in pairs:
            group.create_task(send_all(sender, receiver))
            group.create_task(collect(receiver))
    elapsed = time.perf_counter() - start
    delivered = len(pairs) * per_pair
    cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before
    broker_cpu = (cpu_seconds(broker) - broker_before) if broker else 0.0
    for sender, receiver in pairs:
        await sender.close()
        await receiver.close()
    return Run(
        delivered / elapsed,
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
        cpu / delivered * 1e6,
        broker_cpu / delivered * 1e6,
    )


def summary(name: str, runs: list[Run]) -> Run:
    median = Run(
        statistics.median(r.rate for r in runs),
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
        statistics.median(r.cpu_us for r in runs),
        statistics.median(r.broker_cpu_us for r in runs),
    )
    broker = f", broker {median.broker_cpu_us:5.1f} us" if median.broker_cpu_us else ""
    print(
        f"  {name:<28} {median.rate:>8,.0f} msg/s  p50 {median.p50_ms:6.1f} ms  p99 "
        f"{median.p99_ms:6.1f} ms  switch CPU {median.cpu_us:5.1f} us/msg{broker}"
    )
    return median


async def events_on_off(base: Path, broker: LocalBroker, repeats: int, per_pair: int) -> None:
    runs: dict[bool, list[Run]] = {False: [], True: []}
    for index in range(2 * repeats):
        events = index % 2 == 1
        extra = ("--mqtt", broker.url, "--node", f"bench{index}") if events else ()
        process, port = await start_switch(base / f"single{index}", *extra)
        try:
            pid = [process.pid]
            run = await exchange((port, port), SENDERS, per_pair, pid, broker.process_id())
            runs[events].append(run)
        finally:
            process.terminate()
            await process.wait()
    print(f"single switch, {len(SENDERS)} pairs x {per_pair:,} AMs of {MESSAGE_BYTES} bytes:")
    off = summary("event stream off", runs[False])
    on = summary("event stream on", runs[True])
    ratios = [b.rate / a.rate for a, b in zip(runs[False], runs[True], strict=True)]
    cost = 1 - statistics.median(ratios)
    print(
        f"  event stream cost: {cost:.1%} of throughput (median of paired runs; target <= 10%),"
        f" CPU {on.cpu_us / off.cpu_us - 1:+.1%}"
    )


async def cross_node(base: Path, broker: LocalBroker, repeats: int, per_pair: int) -> None:
    plan = split_plan(["a", "b"], [["*"], list(FAR)])
    path = base / "cluster.toml"
    write_plan(path, list(plan.nodes.values()))
    processes = []
    for name, node in plan.nodes.items():
        process, _ = await start_switch(
            base / name,
            *("--port", str(node.port), "--node", name, "--cluster", str(path)),
            *("--mqtt", broker.url),
        )
        processes.append(process)
    a, b = (node.port or 0 for node in plan.nodes.values())
    pids = [process.pid for process in processes]
    runs: dict[bool, list[Run]] = {False: [], True: []}
    try:
        for index in range(2 * repeats):
            far = index % 2 == 1
            if far:
                run = await exchange((a, b), FAR, per_pair, pids, broker.process_id())
            else:
                run = await exchange((a, a), SENDERS, per_pair, pids, broker.process_id())
            runs[far].append(run)
    finally:
        for process in processes:
            process.terminate()
            await process.wait()
    print(f"two switch nodes and the broker, {len(SENDERS)} pairs x {per_pair:,} AMs:")
    local = summary("local pairs (one node)", runs[False])
    far_run = summary("cross-node pairs", runs[True])
    whole = (far_run.cpu_us + far_run.broker_cpu_us) / local.cpu_us
    print(
        f"  CPU of a cross-node message: {far_run.cpu_us / local.cpu_us:.2f}x a local one in the "
        f"switches, {whole:.2f}x with the broker (target <= 2.5x)"
    )


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        broker = LocalBroker(base / "broker")
        broker.start()
        try:
            if args.only in {None, "events"}:
                await events_on_off(base, broker, args.repeats, args.messages)
            if args.only in {None, "nodes"}:
                await cross_node(base, broker, args.repeats, args.messages)
        finally:
            broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5_000, help="per pair, per run")
    parser.add_argument("--repeats", type=int, default=3, help="paired runs of each kind")
    parser.add_argument(
        "--only", choices=("events", "nodes"), help="only the event stream on/off, or the nodes"
    )
    asyncio.run(run(parser.parse_args()))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
