"""Median rates over repeated timed runs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from nlets_sim.tools.load.cpu import process_cpu_s


def rate(work: Callable[[], object], count: int, repeats: int = 7) -> float:
    """Median operations per second of ``work`` called ``count`` times, over ``repeats`` runs."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(count):
            work()
        rates.append(count / (time.perf_counter() - start))
    return statistics.median(rates)


def report(name: str, per_second: float, target: float | None = None) -> None:
    verdict = ""
    if target is not None:
        verdict = f"  target {target:>9,.0f}  {'met' if per_second >= target else 'MISSED'}"
    print(f"{name:<44} {per_second:>11,.0f} /s{verdict}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a live process has used so far (Linux ``/proc``; 0.0 elsewhere)."""
    try:
        return process_cpu_s(pid)
    except OSError:
        return 0.0
