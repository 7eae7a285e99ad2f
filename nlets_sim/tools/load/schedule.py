"""The open-loop schedule: how many requests are due by a given moment of the run.

A rate spec is a constant (``500``), a ramp (``100:2000:60s``: from 100/s to 2,000/s over 60
seconds, then 2,000/s) or steps (``100@10s,500@10s,1000``: each rate for its time, the last
one held). The schedule is the integral of the rate: request ``k`` (from 0) is due at the
moment the integral reaches ``k``, so latency can be measured from when a request was due, not
from when a late generator got round to sending it.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field

_NUMBER = r"\d+(?:\.\d+)?"
_DURATION = re.compile(rf"({_NUMBER})(ms|s|m|h|d)?")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


class RateError(ValueError):
    """A rate or duration the user wrote that cannot be used; the text says why."""


def parse_duration(text: str) -> float:
    """``10``, ``10s``, ``250ms``, ``5m``, ``2h``, ``365d`` to seconds."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise RateError(f"{text!r} is not a duration (write e.g. 10s, 250ms, 5m, 2h, 365d)")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        raise RateError(f"{text!r} is not a rate in requests per second") from None
    if not math.isfinite(rate) or rate <= 0:
        raise RateError(f"a rate must be a positive number of requests per second, not {text!r}")
    return rate


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of the run: the rate goes linearly from ``start`` to ``end`` per second over
    ``seconds`` (``inf`` for the last, held, stretch)."""

    start: float
    end: float
    seconds: float

    def count(self, t: float) -> float:
        """Requests due in the first ``t`` seconds of this segment."""
        t = min(t, self.seconds)
        if math.isinf(self.seconds):
            return self.start * t
        return self.start * t + (self.end - self.start) * t * t / (2 * self.seconds)

    def moment(self, n: float) -> float:
        """The time into the segment at which ``n`` requests are due (``n <= count``)."""
        slope = 0.0 if math.isinf(self.seconds) else (self.end - self.start) / self.seconds
        if abs(slope) < 1e-12:
            return n / self.start
        # slope/2 t^2 + start t - n = 0, the root that is not negative
        return (-self.start + math.sqrt(self.start**2 + 2 * slope * n)) / slope


@dataclass(frozen=True, slots=True)
class Schedule:
    segments: tuple[Segment, ...]  # the last one is held (its seconds are infinite)
    # Where each segment starts, in seconds and in requests: found by bisection, so that a
    # year of hourly segments costs no more per request than one constant rate.
    _starts: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _counts: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        starts, counts = [0.0], [0.0]
        for segment in self.segments[:-1]:
            starts.append(starts[-1] + segment.seconds)
            counts.append(counts[-1] + segment.count(segment.seconds))
        object.__setattr__(self, "_starts", tuple(starts))
        object.__setattr__(self, "_counts", tuple(counts))

    def due(self, elapsed: float) -> float:
        """How many requests are due in the first ``elapsed`` seconds."""
        if elapsed <= 0:
            return 0.0
        index = bisect.bisect_right(self._starts, elapsed) - 1
        return self._counts[index] + self.segments[index].count(elapsed - self._starts[index])

    def moment(self, index: int) -> float:
        """When request ``index`` (0, 1, 2 ...) is due, in seconds from the start."""
        at = bisect.bisect_right(self._counts, index) - 1
        return self._starts[at] + self.segments[at].moment(index - self._counts[at])

    def rate_at(self, elapsed: float) -> float:
        index = max(0, bisect.bisect_right(self._starts, elapsed) - 1)
        segment = self.segments[index]
        if math.isinf(segment.seconds):
            return segment.start
        into = min(elapsed - self._starts[index], segment.seconds)
        return segment.start + (segment.end - segment.start) * into / segment.seconds


def parse_rate(text: str) -> Schedule:
    """A ``--rate`` spec to its schedule; ``RateError`` says what is wrong."""
    text = text.strip()
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise RateError(f"a ramp is FROM:TO:DURATION, e.g. 100:2000:60s, not {text!r}")
        start, end, seconds = _rate(parts[0]), _rate(parts[1]), parse_duration(parts[2])
        if seconds <= 0:
            raise RateError(f"a ramp needs a duration above zero, not {parts[2]!r}")
        return Schedule((Segment(start, end, seconds), Segment(end, end, math.inf)))
    steps = text.split(",")
    segments = []
    for index, step in enumerate(steps):
        rate_text, at, duration_text = step.partition("@")
        rate = _rate(rate_text)
        last = index == len(steps) - 1
        if not at:
            if not last:
                raise RateError(f"each step but the last needs @DURATION, e.g. 100@10s: {step!r}")
            segments.append(Segment(rate, rate, math.inf))
            continue
        seconds = parse_duration(duration_text)
        if seconds <= 0:
            raise RateError(f"a step needs a duration above zero: {step!r}")
        segments.append(Segment(rate, rate, seconds))
        if last:
            segments.append(Segment(rate, rate, math.inf))
    return Schedule(tuple(segments))


def parse_compress(text: str) -> tuple[float, float]:
    """``--compress 365d:10m``: (simulated seconds, real seconds), e.g. (31,536,000, 600): the
    simulated clock runs 52,560 times faster than the real one."""
    simulated, colon, real = text.partition(":")
    if not colon:
        raise RateError(f"--compress is SIMULATED:REAL, e.g. 365d:10m, not {text!r}")
    span, wall = parse_duration(simulated), parse_duration(real)
    if span <= 0 or wall <= 0:
        raise RateError(f"both times of --compress must be above zero: {text!r}")
    return span, wall
