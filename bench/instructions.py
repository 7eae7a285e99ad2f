"""Instructions per unit of work, counted by valgrind's callgrind: the same count for the same
code and inputs whatever else this noisy machine is doing, so that two versions can be compared
when their timings cannot.

    python -m bench.instructions            # both measures
    python -m bench.instructions responder  # the LESC daemon's core: per IAQ
    python -m bench.instructions switch     # the switch core: per message routed
    python -m bench.instructions switch-iaq # the switch core: per IAQ with its two IARs

Each measure runs twice under callgrind, with a small and a large amount of work after the same
set-up; the difference of the two totals over the difference of the work is the count per unit.
The responder measure needs the benchmark store (``python -m bench.bench_lesc`` builds it).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bench import bench_core
from bench.bench_lesc import answer_in_batches, delivered, sample_queries
from lesc_daemon.responder import Responder
from lesc_daemon.rules import load_rules
from lesc_daemon.store import Store

STORE = Path("data/bench/lesc-1m.sqlite3")
SAMPLED = 600  # IAQs sampled in every run, used or not, so that sampling cancels out
WORK = {"responder": (100, 500), "switch": (640, 3200), "switch-iaq": (200, 1000)}
_COLLECTED = re.compile(r"Collected : (\d+)")


def responder_work(count: int) -> None:
    """``count`` IAQs through ``Responder.handle`` in the daemon's batches; everything before
    (sampling, building the deliveries) is the same whatever ``count``."""
    store = Store(STORE)
    queries = sample_queries(store, SAMPLED, seed=123)
    responder = Responder(store, load_rules(), frozenset({"VTINS07S0"}))
    answer_in_batches(store, responder, delivered(queries)[:count])
    store.close()


def switch_work(count: int) -> None:
    bench_core.one_run(count)


def switch_iaq_work(count: int) -> None:
    bench_core.iaq_run(count)


WORKERS = {"responder": responder_work, "switch": switch_work, "switch-iaq": switch_iaq_work}


def counted(measure: str, count: int) -> int:
    """Instructions callgrind counts for one run of ``measure`` with ``count`` units."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "bench.instructions",
        "--work",
        measure,
        str(count),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    found = _COLLECTED.search(done.stderr)
    if found is None:
        raise SystemExit(f"no count from callgrind:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("measures", nargs="*", help=f"{', '.join(WORK)} (default: all)")
    parser.add_argument("--work", nargs=2, metavar=("MEASURE", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.work:
        measure, count = args.work
        WORKERS[measure](int(count))
        return
    unknown = set(args.measures) - set(WORK)
    if unknown:
        parser.error(f"unknown measure {', '.join(sorted(unknown))}: choose from {', '.join(WORK)}")
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    units = {"responder": "IAQ", "switch": "message routed", "switch-iaq": "IAQ round trip"}
    for measure in args.measures or WORK:
        small, large = WORK[measure]
        per_unit = (counted(measure, large) - counted(measure, small)) / (large - small)
        print(f"{measure}: {per_unit:,.0f} instructions per {units[measure]}")


if __name__ == "__main__":
    main()
