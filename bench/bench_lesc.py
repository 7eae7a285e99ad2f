"""LESC benchmark over a 1,000,000-person store.

1. Lookup: matching + rules for one IAQ in process (``Lesc.respond``, nothing stored),
   median and p99 over random queries for persons of the store.
2. Round trips: terminals send IAQs through a switch process to a LESC daemon process
   (``--delay 0-0``); a round trip is complete when the response IAR arrives. Completed round
   trips per second and p99 (send to response).

The store is built once and kept (``--store``, default ``data/bench/lesc-1m.sqlite3``).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bench.timing import cpu_seconds
from formats.envelope import OutputMessage
from formats.iaq import Iaq
from lesc_daemon.daemon import BATCH_MAX, DaemonConfig
from lesc_daemon.ledger import Ledger
from lesc_daemon.lesc import Lesc
from lesc_daemon.oris import LESC_ORI
from lesc_daemon.rules import load_rules
from lesc_daemon.seed import catalogue, seed_store
from lesc_daemon.store import Store
from nlets_sim.link.terminal import Terminal
from nlets_sim.switch.directory import demo_key
from tests.switch_process import start_switch

NOW = datetime(2026, 11, 23, 9, 0)


def build_store(path: Path, persons: int) -> Store:
    store = Store(path)
    have = store.count_persons()
    if have < persons:
        if have:
            raise SystemExit(f"{path} holds {have:,} persons; remove it or pick another --store")
        print(f"building a {persons:,}-person store at {path} (once)...", flush=True)
        seed_store(store, persons, 1, NOW.date())
    return store


def sample_queries(store: Store, count: int, seed: int) -> list[Iaq]:
    rng = random.Random(seed)  # noqa: S311 - sampling, not secrets
    total = store.count_persons() - len(catalogue())
    queries = []
    for _ in range(count):
        person_id = f"P{rng.randint(1, total):07d}"
        person = store.person(person_id)
        assert person is not None
        surname, given = person.names[0].split(", ")
        queries.append(
            Iaq(
                rng.choice("CF"),
                "BENCH",
                "5185551212",
                f"{surname}, {given.split()[0]}",
                person.dob.strftime("%Y%m%d"),
                person.sex or "U",
                person.pob or "MM",
                "N",
                "0399",
            )
        )
    return queries


def lookup_latencies(store: Store, queries: list[Iaq]) -> list[float]:
    responder = Lesc(store, load_rules(), frozenset({LESC_ORI}))
    latencies = []
    for query in queries:
        start = time.perf_counter()
        responder.respond(query, "L261123000000", "NY0303000", NOW, act=False)
        latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def responder_cpu(store: Store, queries: list[Iaq], repeats: int = 3) -> float:
    """CPU time per IAQ of the daemon's core alone, median of ``repeats`` runs over different
    queries (a person asked about again would find the store's pages in the CPU's caches):
    ``Lesc.handle`` on delivered IAQs, batches of 32 in one store transaction, as the
    daemon runs them (audit, query numbers, detainers and leads written), no sockets."""
    responder = Lesc(store, load_rules(), frozenset({LESC_ORI}))
    deliveries = delivered(queries)
    share = len(deliveries) // repeats
    runs = []
    for run in range(repeats):
        mine = deliveries[run * share : (run + 1) * share]
        start = time.process_time()
        answer_in_batches(store, responder, mine)
        runs.append((time.process_time() - start) / len(mine) * 1e6)
    return statistics.median(runs)


def delivered(queries: list[Iaq]) -> list[OutputMessage]:
    """The queries as the switch delivers them to the LESC, at ``NOW``."""
    return [
        OutputMessage("IAQ", "NY0303000", NOW, 1, NOW, 1, "VTINS07S0", query.build(), f"C{n}")
        for n, query in enumerate(queries)
    ]


def forget_the_link(path: Path) -> None:
    """No link state in the store: each run meets a new switch, which would take what the
    last daemon left (``lesc_daemon/ledger.py``) for a session it lost."""
    store = Store(path)
    ledger = Ledger(store.db, DaemonConfig().ori)
    with store.transaction():
        ledger.forget()
    store.close()


def answer_in_batches(store: Store, responder: Lesc, deliveries: list[OutputMessage]) -> None:
    """Answer deliveries as the daemon does: ``BATCH_MAX`` per store transaction."""
    for first in range(0, len(deliveries), BATCH_MAX):
        with store.transaction():
            for delivery in deliveries[first : first + BATCH_MAX]:
                with store.message_unit():
                    responder.handle(delivery, NOW, timedelta(0))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass(frozen=True, slots=True)
class RoundTrips:
    rate: float  # completed round trips per second
    latencies_ms: list[float]
    cpu_us: dict[str, float]  # CPU time per round trip by process: switch, lesc, terminals


async def round_trips(
    store_path: Path, queries: list[Iaq], terminals: int, outstanding: int
) -> RoundTrips:
    forget_the_link(store_path)
    with tempfile.TemporaryDirectory() as data_dir:
        switch, port = await start_switch(Path(data_dir))
        daemon = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "lesc_daemon",
            "run",
            "--switch",
            f"127.0.0.1:{port}",
            "--db",
            str(store_path),
            "--delay",
            "0-0",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            oris = [f"{state}0010000" for state in ("NY", "NJ", "PA", "CT", "MA", "VT", "ME", "NH")]
            clients = [Terminal("127.0.0.1", port, ori, demo_key(ori)) for ori in oris[:terminals]]
            for client in clients:
                await client.connect(reset=True)
            # wait until the LESC answers one query (it may log on after the switch is up)
            warm = clients[0]
            await warm.send(_iaq(warm.ori, queries[0], "W"))
            await warm.receive(lambda d: ".TYP/RSP." in d.message.text[:40], timeout=60)
            for client in clients:
                client.inbox.clear()
            latencies: list[float] = []
            share = len(queries) // len(clients)

            pids = {"switch": switch.pid, "lesc": daemon.pid}
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            own_before = time.process_time()
            begin = time.perf_counter()
            async with asyncio.TaskGroup() as group:
                for number, client in enumerate(clients):
                    mine = queries[number * share : (number + 1) * share]
                    group.create_task(drive(client, mine, outstanding, latencies))
            elapsed = time.perf_counter() - begin
            done = share * len(clients)
            cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
            cpu["terminals"] = time.process_time() - own_before
            for client in clients:
                await client.close()
            per_trip = {name: seconds / done * 1e6 for name, seconds in cpu.items()}
            return RoundTrips(done / elapsed, latencies, per_trip)
        finally:
            daemon.terminate()
            switch.terminate()
            await daemon.wait()
            await switch.wait()


async def drive(
    client: Terminal, queries: list[Iaq], outstanding: int, latencies: list[float]
) -> None:
    """One terminal's queries, at most ``outstanding`` waiting for their response at a time;
    the latency of each round trip (send to response) in ms goes to ``latencies``. Whatever
    arrived together is taken together (acknowledgements too, so that none pile up in the
    inbox), and the queries that replace the completed ones are posted together: one write,
    each query still its own DT frame."""
    started: dict[str, float] = {}
    sent = 0

    def post(count: int) -> None:
        nonlocal sent
        now = time.perf_counter()
        batch = []
        for index in range(sent, min(sent + count, len(queries))):
            control = f"B{index}"
            started[control] = now
            batch.append(_iaq(client.ori, queries[index], control))
        sent += len(batch)
        client.post(*batch)

    post(outstanding)
    done = 0
    while done < len(queries):
        arrived = [await client.receive(timeout=60), *client.inbox]
        client.inbox.clear()
        now = time.perf_counter()
        completed = 0
        for delivery in arrived:
            if ".TYP/RSP." in delivery.message.text[:40]:
                control = delivery.message.control or ""
                latencies.append((now - started.pop(control)) * 1000)
                completed += 1
        done += completed
        post(completed)


def _iaq(ori: str, query: Iaq, control: str) -> bytes:
    return f"IAQ.{ori}.AX.*{control}.TXT\r\n{query.build()}".encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, default=Path("data/bench/lesc-1m.sqlite3"))
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2_000)
    parser.add_argument("--queries", type=int, default=8_000)
    parser.add_argument("--terminals", type=int, default=8)
    parser.add_argument(
        "--outstanding",
        type=int,
        default=64,
        help="queries each terminal keeps waiting for their response (a closed loop)",
    )
    args = parser.parse_args()
    store = build_store(args.store, args.persons)
    queries = sample_queries(store, max(4 * args.lookups, args.queries), seed=7)
    latencies = lookup_latencies(store, queries[: args.lookups])
    print(f"lookup (match + rules) on {store.count_persons():,} persons, {args.lookups:,} queries:")
    median, p99 = statistics.median(latencies), percentile(latencies, 0.99)
    print(f"  median {median:.2f} ms  p99 {p99:.2f} ms   target well under 10 ms")
    cpu = responder_cpu(store, queries[args.lookups : 4 * args.lookups])
    print(f"  responder alone (handle an IAQ, acting, no sockets): {cpu:.0f} us CPU per IAQ")
    store.close()
    trips = asyncio.run(
        round_trips(args.store, queries[: args.queries], args.terminals, args.outstanding)
    )
    print(
        f"IAQ -> IAR round trips, {args.terminals} terminals with up to {args.outstanding}"
        f" queries outstanding each, {args.queries:,} queries, switch and LESC in their own"
        " processes:"
    )
    print(f"  completed {trips.rate:,.0f} /s   target 5,000 /s")
    p50, p99 = percentile(trips.latencies_ms, 0.5), percentile(trips.latencies_ms, 0.99)
    print(f"  latency p50 {p50:.1f} ms  p99 {p99:.1f} ms")
    shares = "  ".join(f"{name} {us:.0f}" for name, us in trips.cpu_us.items())
    print(f"  CPU per round trip, us: {shares}  total {sum(trips.cpu_us.values()):.0f}")


if __name__ == "__main__":
    main()
