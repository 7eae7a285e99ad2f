"""One asyncio timer at an I/O-free link's next deadline: what both ends' shells arm.

A link says when it next has something to do (``next_deadline``); the shell calls ``arm``
after anything that may have moved that deadline, and the timer calls ``fire`` (which runs the
link's ``tick`` and arms again). A deadline that moved later leaves the timer where it is: it
fires early, finds nothing due, and arms again; only an earlier deadline re-arms at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class DeadlineTimer:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        deadline: Callable[[], float | None],
        fire: Callable[[], None],
    ) -> None:
        self._loop = loop
        self._deadline = deadline
        self._fire = fire
        self._handle: asyncio.TimerHandle | None = None
        self._at = 0.0

    def arm(self) -> None:
        deadline = self._deadline()
        if deadline is None:
            return
        handle = self._handle
        if handle is not None:
            if self._at <= deadline:
                return
            handle.cancel()
        self._at = deadline
        self._handle = self._loop.call_at(deadline, self._fired)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fired(self) -> None:
        self._handle = None
        self._fire()
        self.arm()
