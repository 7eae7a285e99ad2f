"""A year of the LESC in ten minutes (issue 17): ``lesc-year`` at FY 2013 volume against a
switch process and a LESC daemon process on a shared simulated clock.

Pass: every request answered exactly once (the IAQ's ACK and RSP, the YQ's YR), p99 to the
last reply under 1 s, and the switch's and the LESC's memory flat (RSS sampled every 10 s:
growth under 10% after the first minute). The CPU per exchange of the generator, the switch
and the LESC is printed from the same run. IAQs ask about persons of the store (and the test
identities, which give the detainers).

    python -m bench.bench_year                          # the whole year: ten minutes
    python -m bench.bench_year --duration 60            # its first minute (six weeks)
    python -m bench.bench_year --store data/bench/lesc-100k.sqlite3 --persons 100000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench.bench_lesc import build_store
from nlets_sim.switch.config import default_directory
from nlets_sim.tools.cli_load import year_terminals
from nlets_sim.tools.load.identities import Identity, read_identities
from nlets_sim.tools.load.report import summary_table
from nlets_sim.tools.load.runner import LoadConfig, run_load
from nlets_sim.tools.load.schedule import parse_compress
from nlets_sim.tools.load.year import FY2013, YearProfile, year_schedule
from tests.switch_process import start_switch

START = datetime(2012, 10, 1)
SAMPLE = 5_000  # store persons the IAQs ask about
RSS_EVERY_S = 10.0


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text("ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def store_identities(path: Path, persons: int, seed: int = 7) -> list[Identity]:
    """``SAMPLE`` persons of the store (no expected RES: the store decides) and the test
    identities (their expected RES, for the detainers)."""
    store = build_store(path, persons)
    rng = random.Random(seed)  # noqa: S311 - sampling
    sampled = []
    for _ in range(SAMPLE):
        person = store.person(f"P{rng.randint(1, persons):07d}")
        if person is not None:
            dob = person.dob.strftime("%Y%m%d")
            sampled.append(
                Identity(
                    person.names[0], dob, person.sex or "U", person.pob or "MM", person.arn, None
                )
            )
    store.close()
    return sampled + read_identities(None, START)


async def sample_rss(pids: dict[str, int], samples: dict[str, list[int]]) -> None:
    while True:
        for name, pid in pids.items():
            samples[name].append(rss_kib(pid))
        await asyncio.sleep(RSS_EVERY_S)


async def year(args: argparse.Namespace) -> tuple[dict[str, object], dict[str, list[int]]]:
    span, wall = parse_compress(args.compress)
    rate = span / wall
    identities = store_identities(args.store, args.persons)
    origin = time.time() + 20  # both daemons logged on and the terminals up by then
    clock = ["--clock", START.isoformat(), "--clock-rate", str(rate), "--clock-origin", str(origin)]
    with tempfile.TemporaryDirectory() as scratch:
        switch, port = await start_switch(Path(scratch), *clock)  # the last --clock wins
        daemon = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "lesc_daemon", "run", "--switch", f"127.0.0.1:{port}",
            "--db", str(args.store), "--delay", "0-0", *clock,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        pids = {"switch": switch.pid, "lesc": daemon.pid}
        samples: dict[str, list[int]] = {name: [] for name in pids}
        try:
            logons = year_terminals(default_directory())
            profile = YearProfile(identities, [ori for ori, _ in logons])
            config = LoadConfig(
                "127.0.0.1", port, logons, profile,
                year_schedule(START, rate, args.volume), duration_s=args.duration or wall,
                timeout_s=10.0, clock=START, clock_rate=rate, clock_origin=origin,
                warn=print, live=print, watch_pids=pids,
            )  # fmt: skip
            sampler = asyncio.create_task(sample_rss(pids, samples))
            try:
                result = await run_load(config)
            finally:
                sampler.cancel()
            return result.summary, samples
        finally:
            daemon.terminate()
            switch.terminate()
            await daemon.wait()
            await switch.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, default=Path("data/bench/lesc-1m.sqlite3"))
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--compress", default="365d:10m")
    parser.add_argument("--duration", type=float, help="real seconds (default: the whole year)")
    parser.add_argument("--volume", type=float, default=FY2013["requests"])
    args = parser.parse_args()
    summary, samples = asyncio.run(year(args))
    print(summary_table(summary))
    print("sent by kind", summary["profile_sent"])
    counts = summary["counts"]
    assert isinstance(counts, dict)
    latency = summary["latency"]
    assert isinstance(latency, dict)
    once = counts["matched"] == counts["sent"] and not counts["duplicated"] + counts["unmatched"]
    print(f"every request answered exactly once: {'yes' if once else 'NO'}")
    p99 = latency["last"]["p99"]
    print(f"p99 to the last reply {p99:.0f} ms: {'under' if p99 < 1000 else 'NOT under'} 1 s")
    for name, series in samples.items():
        after = series[6:]  # after the first minute
        growth = (max(after) / after[0] - 1) if len(after) > 1 and after[0] else float("nan")
        print(
            f"{name} RSS KiB every {RSS_EVERY_S:.0f} s: {series}; growth after 1 min {growth:.1%}"
        )


if __name__ == "__main__":
    main()
