"""Switch benchmark: terminal pairs exchanging 250-byte AMs through a separate switch process
with its journal on.

Two runs: (1) throughput: every sender keeps its window full; delivered messages per second;
(2) latency at an offered rate (default 5,000 messages/s): p50 and p99 from send to delivery.
Each message carries its send time (``time.perf_counter_ns``, same machine) in its text.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from nlets_sim.link.terminal import Terminal
from nlets_sim.switch.directory import demo_key
from tests.switch_process import start_switch

MESSAGE_BYTES = 250


def am(sender: str, receiver: str, sent_ns: int) -> bytes:
    head = f"AM.{sender}.{receiver}.TXT\r\nT{sent_ns:020d} "
    return (head + "X" * (MESSAGE_BYTES - len(head) - 0)).encode()[:MESSAGE_BYTES]


def sent_time(delivery_text: str) -> int:
    return int(delivery_text[1:21])


async def _pairs(port: int, count: int) -> list[tuple[Terminal, Terminal]]:
    senders = [f"{state}0010000" for state in ("NY", "NJ", "PA", "CT", "MA", "VT", "ME", "NH")]
    receivers = [f"{state}0020000" for state in ("NY", "NJ", "PA", "CT", "MA", "VT", "ME", "NH")]
    pairs = [
        (
            Terminal("127.0.0.1", port, senders[i], demo_key(senders[i])),
            Terminal("127.0.0.1", port, receivers[i], demo_key(receivers[i])),
        )
        for i in range(count)
    ]
    for sender, receiver in pairs:
        await sender.connect(reset=True)
        await receiver.connect(reset=True)
    return pairs


async def _collect(receiver: Terminal, count: int, latencies: list[float]) -> None:
    for _ in range(count):
        delivery = await receiver.receive(timeout=60)
        latencies.append((time.perf_counter_ns() - sent_time(delivery.message.text)) / 1e6)


async def throughput(port: int, pairs_count: int, per_pair: int) -> tuple[float, list[float]]:
    pairs = await _pairs(port, pairs_count)
    latencies: list[float] = []

    async def send_all(sender: Terminal, receiver: Terminal) -> None:
        for _ in range(per_pair):
            await sender.send(am(sender.ori, receiver.ori, time.perf_counter_ns()))

    start = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for sender, receiver in pairs:
            group.create_task(send_all(sender, receiver))
            group.create_task(_collect(receiver, per_pair, latencies))
    elapsed = time.perf_counter() - start
    for sender, receiver in pairs:
        await sender.close()
        await receiver.close()
    return pairs_count * per_pair / elapsed, latencies


async def offered(port: int, pairs_count: int, rate: int, seconds: float) -> list[float]:
    """Send at ``rate`` messages/s in 10 ms ticks, round-robin over the pairs."""
    pairs = await _pairs(port, pairs_count)
    latencies: list[float] = []
    total = int(rate * seconds)
    per_tick = max(1, rate // 100)
    per_receiver = [
        total // pairs_count + (1 if i < total % pairs_count else 0) for i in range(pairs_count)
    ]

    async def pace() -> None:
        start = time.perf_counter()
        for index in range(total):
            if index % per_tick == 0:
                due = start + index / rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            sender, receiver = pairs[index % pairs_count]
            await sender.send(am(sender.ori, receiver.ori, time.perf_counter_ns()))

    async with asyncio.TaskGroup() as group:
        group.create_task(pace())
        for (_, receiver), count in zip(pairs, per_receiver, strict=True):
            group.create_task(_collect(receiver, count, latencies))
    for sender, receiver in pairs:
        await sender.close()
        await receiver.close()
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        process, port = await start_switch(Path(data_dir))
        try:
            rates, p50s, p99s = [], [], []
            for _ in range(args.repeats):
                per_second, latencies = await throughput(port, args.pairs, args.messages)
                rates.append(per_second)
                p50s.append(percentile(latencies, 0.5))
                p99s.append(percentile(latencies, 0.99))
            print(
                f"throughput, {args.pairs} pairs x {args.messages:,} AMs of {MESSAGE_BYTES} bytes, "
                f"window full, median of {args.repeats}:"
            )
            print(f"  delivered {statistics.median(rates):>9,.0f} messages/s   target 20,000")
            p50, p99 = statistics.median(p50s), statistics.median(p99s)
            print(f"  latency p50 {p50:.1f} ms  p99 {p99:.1f} ms")
            latencies = await offered(port, args.pairs, args.rate, args.seconds)
            p99 = percentile(latencies, 0.99)
            print(f"offered {args.rate:,} messages/s for {args.seconds:.0f} s:")
            print(
                f"  latency p50 {percentile(latencies, 0.5):.1f} ms  p99 {p99:.1f} ms"
                f"   target p99 < 50 ms: {'met' if p99 < 50 else 'MISSED'}"
            )
        finally:
            process.terminate()
            await process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--messages", type=int, default=10_000, help="per pair, per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rate", type=int, default=5_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    asyncio.run(run(parser.parse_args()))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
