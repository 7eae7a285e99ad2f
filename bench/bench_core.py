"""The switch core alone (no sockets, no event loop), journal on: messages routed per CPU
second by ``Switch.receive`` + ``flush`` in batches of 64, the receiver acknowledging each
batch. CPU time (``time.process_time``) rather than wall time, because this machine's neighbours
move wall-clock figures by a third. Median of 5 runs of 20,000 messages."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.bench_switch import am
from fixtures.make_directory import demo_key
from nlets_sim.config import PINNED_CLOCK, default_directory
from nlets_sim.directory import load_directory
from nlets_sim.journal import Journal
from nlets_sim.link import LogonRequested
from nlets_sim.switch import Switch

COUNT, BATCH = 20_000, 64


def one_run(count: int = COUNT) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        journal = Journal(Path(scratch) / "journal.sqlite3")
        switch = Switch(load_directory(default_directory()), journal)
        for conn, ori in ((1, "NJ0020000"), (2, "NY0010000")):
            switch.logon(conn, LogonRequested(ori, demo_key(ori), reset=False), PINNED_CLOCK)
        switch.flush()
        message = am("NY0010000", "NJ0020000", 0)
        started = time.process_time()
        seq = 0
        for _ in range(count // BATCH):
            for _ in range(BATCH):
                seq += 1
                switch.receive(2, seq, message, PINNED_CLOCK)
            switch.flush()
            switch.acknowledged(1, seq)
            switch.flush()
        elapsed = time.process_time() - started
        journal.close()
    return seq / elapsed


def main() -> None:
    rates = [one_run() for _ in range(5)]
    median = statistics.median(rates)
    print(f"switch core, journal on, batches of {BATCH}, median of 5 runs of {COUNT:,}:")
    print(f"  {median:,.0f} messages per CPU-second routed ({1e6 / median:.0f} us per message)")


if __name__ == "__main__":
    main()
