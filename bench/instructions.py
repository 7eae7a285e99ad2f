"""Instructions per unit of work, counted by valgrind's callgrind: the same count for the same
code and inputs whatever else this noisy machine is doing, so that two versions can be compared
when their timings cannot.

    python -m bench.instructions            # both measures
    python -m bench.instructions responder  # the LESC daemon's core: per IAQ
    python -m bench.instructions lesc-commit  # the same with the daemon's ledger and AKs
    python -m bench.instructions switch     # the switch core: per message routed
    python -m bench.instructions switch-events  # the same with the event stream on
    python -m bench.instructions switch-logged  # the same with the server's log line (JSON)
    python -m bench.instructions switch-iaq # the switch core: per IAQ with its two IARs
    python -m bench.instructions generator  # nlets-sim load's own work: per IAQ exchange
    python -m bench.instructions --reference 65fe715  # each measure at that commit too

Each measure runs twice under callgrind, with a small and a large amount of work after the same
set-up; the difference of the two totals over the difference of the work is the count per unit.
The responder measure needs the benchmark store (``python -m bench.bench_lesc`` builds it).

``--reference COMMIT`` counts the same measures in that commit's code, unpacked with ``git
archive`` into a temporary directory and run with this virtual environment (its own
``bench.instructions``, the benchmark store shared), and prints the two side by side; a measure
the commit does not have is left blank.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import structlog

from bench import bench_core, load_exchange
from bench.bench_lesc import NOW, answer_in_batches, delivered, forget_the_link, sample_queries
from lesc_daemon.daemon import BATCH_MAX, DaemonConfig, LescDaemon
from lesc_daemon.delays import NO_DELAY
from lesc_daemon.lesc import Lesc
from lesc_daemon.oris import LESC_ORI
from lesc_daemon.rules import load_rules
from lesc_daemon.store import Store
from nlets_sim.console.logging_setup import configure_logging
from nlets_sim.link.terminal import Delivery

STORE = Path("data/bench/lesc-1m.sqlite3")
SAMPLED = 600  # IAQs sampled in every run, used or not, so that sampling cancels out
WORK = {
    "responder": (100, 500),
    "lesc-commit": (96, 480),
    "switch": (640, 3200),
    "switch-events": (640, 3200),
    "switch-logged": (640, 3200),
    "switch-iaq": (200, 1000),
    "generator": (200, 1000),
}
UNITS = {
    "responder": "IAQ",
    "lesc-commit": "IAQ",
    "switch": "message routed",
    "switch-events": "message routed, events on",
    "switch-logged": "message routed",
    "switch-iaq": "IAQ round trip",
    "generator": "IAQ exchange",
}
_COLLECTED = re.compile(r"Collected : (\d+)")


def responder_work(count: int) -> None:
    """``count`` IAQs through ``Lesc.handle`` in the daemon's batches; everything before
    (sampling, building the deliveries) is the same whatever ``count``."""
    store = Store(STORE)
    queries = sample_queries(store, SAMPLED, seed=123)
    responder = Lesc(store, load_rules(), frozenset({LESC_ORI}))
    answer_in_batches(store, responder, delivered(queries)[:count])
    store.close()


def lesc_commit_work(count: int) -> None:
    """``count`` IAQs through the daemon's own batch commit (``LescDaemon._commit``: the
    responder, the ledger's record of the answers and the delivery seq, the settling of what
    the switch acknowledged), then posted and acknowledged as after the commit; the switch is
    taken to acknowledge each batch's answers before the next."""
    configure_logging()  # as the daemon runs: its debug lines filtered out
    store = Store(STORE)
    queries = sample_queries(store, SAMPLED, seed=123)
    store.close()
    forget_the_link(STORE)
    daemon = LescDaemon(DaemonConfig(db=STORE, delay=NO_DELAY, clock=NOW))
    terminal = daemon.terminal
    deliveries = [
        Delivery(seq, message.build(), message)
        for seq, message in enumerate(delivered(queries)[:count], start=1)
    ]
    for first in range(0, len(deliveries), BATCH_MAX):
        batch = deliveries[first : first + BATCH_MAX]
        immediate = daemon._commit(batch)
        assert immediate is not None
        terminal.post(*immediate)
        terminal.ack(batch[-1].seq)
        terminal.next_seq += len(terminal.backlog)  # sent and acknowledged
        terminal.backlog.clear()
    daemon.store.close()
    forget_the_link(STORE)


def switch_work(count: int) -> None:
    bench_core.one_run(count)


def switch_events_work(count: int) -> None:
    bench_core.one_run(count, events=True)


def switch_logged_work(count: int) -> None:
    """As ``switch``, each event logged as the server logs it, in JSON (not a terminal)."""
    configure_logging(log_format="json")
    bench_core.one_run(count, logger=structlog.get_logger("nlets_sim.server").bind())


def switch_iaq_work(count: int) -> None:
    bench_core.iaq_run(count)


def generator_work(count: int) -> None:
    asyncio.run(load_exchange.exchanges(count, built=WORK["generator"][1]))


WORKERS = {
    "responder": responder_work,
    "lesc-commit": lesc_commit_work,
    "switch": switch_work,
    "switch-events": switch_events_work,
    "switch-logged": switch_logged_work,
    "switch-iaq": switch_iaq_work,
    "generator": generator_work,
}


def counted(measure: str, count: int, tree: Path | None = None) -> int:
    """Instructions callgrind counts for one run of ``measure`` with ``count`` units, in the
    code of ``tree`` (None: this checkout)."""
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
    done = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, cwd=tree, check=False
    )
    found = _COLLECTED.search(done.stderr)
    if done.returncode or found is None:
        raise SystemExit(f"no count from callgrind:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def per_unit(measure: str, tree: Path | None = None) -> float | None:
    """Instructions per unit of ``measure``; None when ``tree``'s code has no such measure."""
    if tree is not None and f'"{measure}"' not in (tree / "bench/instructions.py").read_text():
        return None
    small, large = WORK[measure]
    return (counted(measure, large, tree) - counted(measure, small, tree)) / (large - small)


def unpacked(commit: str, scratch: Path) -> Path:
    """``commit``'s files in ``scratch``, with this checkout's ``data/`` (the store) beside."""
    git, tar = shutil.which("git") or "git", shutil.which("tar") or "tar"
    archive = subprocess.run([git, "archive", commit], capture_output=True, check=True)  # noqa: S603
    subprocess.run([tar, "-x", "-C", str(scratch)], input=archive.stdout, check=True)  # noqa: S603
    (scratch / "data").symlink_to(Path("data").resolve(), target_is_directory=True)
    return scratch


def side_by_side(measures: list[str], commit: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        tree = unpacked(commit, Path(scratch))
        print(f"| measure (instructions per unit) | {commit} | this checkout | change |")
        print("|---|---:|---:|---:|")
        for measure in measures:
            before, after = per_unit(measure, tree), per_unit(measure)
            assert after is not None
            shown = "" if before is None else f"{before:,.0f}"
            change = "" if before is None else f"{(after - before) / before:+.1%}"
            print(f"| {measure}, per {UNITS[measure]} | {shown} | {after:,.0f} | {change} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("measures", nargs="*", help=f"{', '.join(WORK)} (default: all)")
    parser.add_argument("--reference", metavar="COMMIT", help="count at COMMIT too, side by side")
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
    measures = args.measures or list(WORK)
    if args.reference:
        side_by_side(measures, args.reference)
        return
    for measure in measures:
        count = per_unit(measure)
        assert count is not None
        print(f"{measure}: {count:,.0f} instructions per {UNITS[measure]}")


if __name__ == "__main__":
    main()
