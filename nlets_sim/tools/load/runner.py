"""The asyncio shell of ``nlets-sim load``: terminals log on, send what the profile gives at
the schedule's pace (or keep a window full), and hand every AK and delivery to the correlator.

Open loop: requests are posted when due (``Terminal.post`` never waits), latency counts from
the moment each was due, so a slow switch shows as latency, not as a slower schedule. Closed
loop: each terminal keeps ``window`` requests in flight and sends the next as one finishes.
Once a second the runner expires requests past their timeout, takes the second's figures and
checks that the generator itself kept up (its CPU, its lag behind the schedule).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import os
import random
import ssl
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from nlets_sim.link.terminal import Delivery, LinkClosed, Terminal
from nlets_sim.tools.load.correlate import Correlator, Pending
from nlets_sim.tools.load.cpu import CpuWatch
from nlets_sim.tools.load.profiles import Draw, Sampler
from nlets_sim.tools.load.schedule import Schedule

SATURATED = 0.9  # share of one CPU above which the generator is the bottleneck
BEHIND_S = 0.25  # lag behind the schedule above which it is too
TICK_S = 0.005  # the open loop's longest sleep between sends
_CONTROL_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def base36(number: int) -> str:
    digits = ""
    while True:
        number, digit = divmod(number, 36)
        digits = _CONTROL_DIGITS[digit] + digits
        if not number:
            return digits


@dataclass(frozen=True, slots=True)
class LoadConfig:
    host: str
    port: int
    credentials: Sequence[tuple[str, str]]  # (ORI, key) of each terminal
    profile: Sampler
    schedule: Schedule | None  # None: closed loop
    window: int | None = None  # requests in flight per terminal (closed loop)
    duration_s: float | None = 10.0
    count: int | None = None
    warmup_s: float = 0.0
    timeout_s: float = 10.0  # a request without all its replies by then is unanswered
    linger_s: float = 1.0  # after the last request ended, listen this long for late replies
    seed: int = 0
    clock: datetime | None = None  # the simulated start of the run (placeholders); None: now
    clock_rate: float = 1.0  # simulated seconds per wall second
    clock_origin: float | None = None  # Unix time at which the clock reads ``clock``: the run
    # waits for it and starts there, in step with a switch and a LESC given the same origin
    tls: ssl.SSLContext | None = None
    live: Callable[[str], None] | None = None  # gets the live line each second
    watch_pids: dict[str, int] = field(default_factory=dict)  # e.g. {"switch": pid}: their CPU
    warn: Callable[[str], None] = print


@dataclass(slots=True)
class LoadResult:
    summary: dict[str, Any]
    seconds: list[dict[str, float]] = field(default_factory=list)


class LoadRun:
    def __init__(self, config: LoadConfig) -> None:
        self.config = config
        self.correlator = Correlator(config.timeout_s)
        self.rng = random.Random(config.seed)  # noqa: S311 - traffic, not secrets
        self.prefix = base36(int.from_bytes(os.urandom(2)) % 1296).rjust(2, "0")
        self.terminals = [
            Terminal(config.host, config.port, ori, key, tls=config.tls)
            for ori, key in config.credentials
        ]
        self.oris = [ori for ori, _ in config.credentials]
        self.sequences: list[deque[tuple[int, str]]] = [deque() for _ in self.terminals]
        self.outgoing: dict[int, list[tuple[bytes, str]]] = {}  # made, not yet posted
        self.sent = 0
        self.reconnects = 0
        self.repeated = 0  # deliveries the terminals dropped as repeats, counted so far
        self.stopping = False
        self.done = asyncio.Event()
        self.seconds: list[dict[str, float]] = []
        self.lag_s = 0.0  # the worst lag behind the schedule in this second
        self.loop = asyncio.get_running_loop()
        self.started = self.loop.time()
        self.clock = config.clock or datetime.now().astimezone().replace(tzinfo=None)
        self.warnings = {"saturated": 0, "behind": 0}

    def elapsed(self) -> float:
        return self.loop.time() - self.started

    def simulated(self, elapsed: float) -> datetime:
        return self.clock + timedelta(seconds=elapsed * self.config.clock_rate)

    # Sending --------------------------------------------------------------------------

    def send(self, index: int, due: float) -> None:
        """Post terminal ``index``'s next request, due at ``due`` (seconds into the run)."""
        number = self.sent
        self.sent += 1
        control = self.prefix + base36(number)
        request = self.config.profile.request(
            Draw(self.rng, self.oris, index, control, number, self.simulated(due))
        )
        if request.sender is not None:
            index = request.sender
        counted = due >= self.config.warmup_s
        self.correlator.sent(
            control, due, request.expected, index, counted=counted, expect_res=request.expect_res
        )
        self.outgoing.setdefault(index, []).append((request.message, control))

    def flush(self) -> None:
        """Post what ``send`` made, each terminal's in one write."""
        for index, items in self.outgoing.items():
            seqs = self.terminals[index].post(*(message for message, _ in items))
            self.sequences[index].extend(zip(seqs, (control for _, control in items), strict=True))
        self.outgoing.clear()

    def more(self) -> bool:
        """Whether the run may send another request."""
        config = self.config
        if self.stopping or (config.count is not None and self.sent >= config.count):
            return False
        return config.duration_s is None or self.elapsed() < config.duration_s

    async def open_loop(self, schedule: Schedule) -> None:
        """Send each request when it is due, up to ``count`` or those due before the end of
        ``duration`` (all of them, however late the loop wakes near the end)."""
        config = self.config
        limit = config.count if config.count is not None else math.inf
        if config.duration_s is not None:
            limit = min(limit, math.ceil(schedule.due(config.duration_s)))
        while not self.stopping and self.sent < limit:
            elapsed = self.elapsed()
            first = True
            while self.sent < limit:
                moment = schedule.moment(self.sent)
                if moment > elapsed:
                    break
                if first:
                    self.lag_s = max(self.lag_s, elapsed - moment)
                    first = False
                self.send(self.sent % len(self.terminals), moment)
            self.flush()
            wait = schedule.moment(self.sent) - self.elapsed()
            await asyncio.sleep(min(TICK_S, max(0.0, wait)))
        self.stopping = True

    def closed_loop_start(self, window: int) -> None:
        for _ in range(window):
            for index in range(len(self.terminals)):
                if self.more():
                    self.send(index, self.elapsed())
        self.flush()

    def finished(self, request: Pending) -> None:
        """A request ended (answered or not): in the closed loop its terminal sends again."""
        if self.config.window is not None and self.more():
            self.send(request.terminal, self.elapsed())
        if self.stopping or not self.more():
            self.stopping = True
            if not self.correlator.in_flight:
                self.done.set()

    # Receiving ------------------------------------------------------------------------

    def acknowledged(self, index: int, seq: int) -> None:
        now = self.elapsed()
        sequence = self.sequences[index]
        while sequence and sequence[0][0] <= seq:
            self.correlator.acked(sequence.popleft()[1], now)

    async def receive(self, index: int) -> None:
        terminal = self.terminals[index]
        while True:
            try:
                arrived = [await terminal.receive(timeout=None), *terminal.inbox]
            except LinkClosed:
                await self.reconnect(terminal)
                continue
            terminal.inbox.clear()  # all that arrived together, taken together
            for delivery in arrived:
                self.delivered(delivery)
            self.flush()

    def delivered(self, delivery: Delivery) -> None:
        message = delivery.message
        ended = self.correlator.reply(
            message.control, message.mke, message.text, delivery.raw, self.elapsed()
        )
        if ended is not None:
            self.finished(ended)

    async def reconnect(self, terminal: Terminal) -> None:
        """Log on again (the terminal re-sends what the switch had not acknowledged)."""
        await terminal.abort()
        pause = 0.05
        while True:
            try:
                await terminal.connect()
            except (OSError, LinkClosed, TimeoutError):
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)
                continue
            self.reconnects += 1
            return

    # Each second ----------------------------------------------------------------------

    async def ticker(self) -> None:
        cpu, wall = time.process_time(), time.monotonic()
        while True:
            await asyncio.sleep(1.0)
            now_cpu, now_wall = time.process_time(), time.monotonic()
            busy = (now_cpu - cpu) / max(1e-9, now_wall - wall)
            cpu, wall = now_cpu, now_wall
            self.count_repeats()
            for request in self.correlator.expire(self.elapsed()):
                self.finished(request)
            self.flush()
            self.second(busy)

    def count_repeats(self) -> None:
        """Deliveries the terminals received twice (same seq) count as duplicated."""
        seen = sum(terminal.repeated for terminal in self.terminals)
        if seen > self.repeated:
            self.correlator.interval.counts["duplicated"] += seen - self.repeated
            if self.elapsed() >= self.config.warmup_s:
                self.correlator.total.counts["duplicated"] += seen - self.repeated
            self.repeated = seen

    def second(self, busy: float) -> None:
        tally = self.correlator.end_second()
        counts = tally.counts
        row = {
            "second": float(len(self.seconds) + 1),
            "offered": float(counts["sent"]),
            "completed": float(counts["matched"] + counts["errors"]),
            "errors": float(counts["errors"]),
            "unanswered": float(counts["unanswered"]),
            "in_flight": float(self.correlator.in_flight),
            "p50_ms": tally.percentile_ms("last", 50),
            "p99_ms": tally.percentile_ms("last", 99),
            "ak_p99_ms": tally.percentile_ms("ak", 99),
            "cpu_percent": round(busy * 100, 1),
            "lag_ms": round(self.lag_s * 1000, 1),
        }
        self.seconds.append(row)
        self.lag_s = 0.0
        if busy > SATURATED:
            self.warnings["saturated"] += 1
            self.config.warn(
                f"WARNING: THE GENERATOR IS THE BOTTLENECK: its CPU was {busy:.0%} busy in "
                f"second {len(self.seconds)}; these figures measure the generator, not the switch"
            )
        if row["lag_ms"] > BEHIND_S * 1000:
            self.warnings["behind"] += 1
            self.config.warn(
                f"WARNING: THE GENERATOR IS THE BOTTLENECK: it fell {row['lag_ms']:.0f} ms behind "
                f"its schedule in second {len(self.seconds)}; the rate offered is below the target"
            )
        if self.config.live is not None:
            self.config.live(live_line(row))

    # The run --------------------------------------------------------------------------

    async def run(self) -> LoadResult:
        await asyncio.gather(*(terminal.connect() for terminal in self.terminals))
        for index, terminal in enumerate(self.terminals):
            terminal.on_acknowledged = functools.partial(self.acknowledged, index)
        watch = CpuWatch(self.config.watch_pids)
        cpu_start = time.process_time()
        self.started = self.loop.time()
        if self.config.clock_origin is not None:
            await asyncio.sleep(max(0.0, self.config.clock_origin - time.time()))
            self.started = self.loop.time() - (time.time() - self.config.clock_origin)
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self.receive(i)) for i in range(len(self.terminals))]
                tasks.append(group.create_task(self.ticker()))
                if self.config.schedule is not None:
                    await self.open_loop(self.config.schedule)
                else:
                    self.closed_loop_start(self.config.window or 1)
                    while self.more():
                        await asyncio.sleep(0.05)
                    self.stopping = True
                if self.correlator.in_flight:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.config.timeout_s + 1.5):
                            await self.done.wait()
                self.correlator.expire_all(self.elapsed())
                await asyncio.sleep(self.config.linger_s)  # late and duplicated replies
                self.count_repeats()
                for task in tasks:
                    task.cancel()
        finally:
            for terminal in self.terminals:
                await terminal.abort()
        summary = self.summary(time.process_time() - cpu_start, watch.used())
        return LoadResult(summary, self.seconds)

    def summary(self, cpu_s: float, others: dict[str, float]) -> dict[str, Any]:
        summary = self.correlator.total.summary()
        counts = summary["counts"]
        config = self.config
        measured_s = max(1e-9, self.last_send_s() - config.warmup_s)
        summary["rate"] = counts["matched"] / measured_s
        summary["offered_rate"] = counts["sent"] / measured_s
        summary["terminals"] = len(self.terminals)
        summary["profile"] = config.profile.name
        summary["reconnects"] = self.reconnects
        sent = getattr(config.profile, "sent", None)
        if callable(sent):  # lesc-year: what it sent, by kind
            summary["profile_sent"] = sent()
        summary["generator"] = {
            "cpu_s": round(cpu_s, 3),
            "seconds_saturated": self.warnings["saturated"],
            "seconds_behind": self.warnings["behind"],
        }
        # per exchange: per request of the run (warm-up too, as the CPU is), with its replies
        # whenever they came, so that a saturated switch does not inflate the figures
        summary["cpu_us_per_exchange"] = {
            name: round(seconds / self.sent * 1e6, 1) if self.sent else 0.0
            for name, seconds in {"generator": cpu_s, **others}.items()
        }
        return summary

    def last_send_s(self) -> float:
        if self.config.schedule is not None and self.sent:
            return self.config.schedule.moment(self.sent - 1) if self.sent > 1 else 1e-9
        return self.config.duration_s or self.elapsed()


def live_line(row: dict[str, float]) -> str:
    return (
        f"{row['second']:>5.0f}s  offered {row['offered']:>6.0f}/s  "
        f"completed {row['completed']:>6.0f}/s  in flight {row['in_flight']:>6.0f}  "
        f"p50 {row['p50_ms']:>7.1f} ms  p99 {row['p99_ms']:>7.1f} ms  "
        f"errors {row['errors']:>4.0f}  cpu {row['cpu_percent']:>3.0f}%"
    )


async def run_load(config: LoadConfig) -> LoadResult:
    return await LoadRun(config).run()
