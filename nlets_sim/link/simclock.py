"""A simulated clock that runs faster than the real one, shared by separate processes.

``--clock START --clock-rate R``: the clock reads START at the origin (a Unix time: by
default when the process starts; pass the same ``--clock-origin`` to the switch, the LESC and
the load generator and they agree to the second) and then runs R simulated seconds per real
second. ``--compress 365d:10m`` on ``nlets-sim load`` is a rate of 52,560.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class SimulatedClock:
    start: datetime  # what the clock reads at the origin (naive, local to its user)
    rate: float  # simulated seconds per real second
    origin: float  # the Unix time at which it reads ``start``

    def at(self, unix: float) -> datetime:
        return self.start + timedelta(seconds=(unix - self.origin) * self.rate)

    def now(self) -> datetime:
        return self.at(time.time())

    def real_seconds(self, simulated: timedelta) -> float:
        """How long a stretch of simulated time lasts on the real clock."""
        return simulated.total_seconds() / self.rate


def clock_rate(value: float | None) -> float | None:
    """A ``--clock-rate``: a positive number (None stays None); ``ValueError`` says why."""
    if value is not None and not value > 0:
        raise ValueError(
            f"a clock rate is a positive number of simulated seconds per second, not {value}"
        )
    return value
