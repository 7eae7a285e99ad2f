"""CPU time of other processes on this machine (Linux ``/proc``), so that a load run can print
the switch's and the LESC's CPU per exchange beside its own, measured over the same run."""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid`` (and its waited-for children
    not counted); ``OSError`` when it is gone or not readable."""
    stat = Path(f"/proc/{pid}/stat").read_text("ascii")
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (name) "
    return (int(fields[11]) + int(fields[12])) / _TICKS


class CpuWatch:
    """CPU seconds of named processes since the watch started."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.start = {name: process_cpu_s(pid) for name, pid in pids.items()}

    def used(self) -> dict[str, float]:
        used = {}
        for name, pid in self.pids.items():
            try:
                used[name] = process_cpu_s(pid) - self.start[name]
            except OSError:
                continue
        return used
