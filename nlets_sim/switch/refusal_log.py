"""At most a few log lines for peers the switch refuses (bad frames, failed logons).

A peer that sends garbage must not be able to fill the log: each refusal writes at most one
line, and past ``lines`` lines in ``period_s`` seconds the rest are only counted; the next line
that is written carries ``suppressed=<n>``. The clock is passed in, so tests need no sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


class RefusalLog:
    def __init__(
        self,
        logger: Any,
        *,
        lines: int = 10,
        period_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self.lines = lines
        self.period_s = period_s
        self.clock = clock
        self._period_start = -float("inf")
        self._written = 0
        self.suppressed = 0  # lines not written since the last one that was

    def log(self, event: str, **fields: Any) -> bool:
        """Write one info line unless this period's quota is spent; True when written."""
        now = self.clock()
        if now - self._period_start >= self.period_s:
            self._period_start, self._written = now, 0
        if self._written >= self.lines:
            self.suppressed += 1
            return False
        self._written += 1
        if self.suppressed:
            fields["suppressed"] = self.suppressed
            self.suppressed = 0
        self._logger.info(event, **fields)
        return True
