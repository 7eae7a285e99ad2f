"""``--fail-if "p99>50ms,errors>0,unmatched>0"``: conditions on a run's summary that make the
command exit non-zero, for CI.

A condition is ``METRIC OP VALUE``. Metrics: the latency percentiles ``p50 p90 p99 p999
mean max`` (to the last reply; prefix ``ak_`` or ``first_`` for those latencies, e.g.
``ak_p99``), with a unit ``us``, ``ms`` (the default) or ``s``; the counts of the summary
(``sent matched unmatched unanswered errors late duplicated stray``...); ``rate`` (matched
requests per second). Operators: ``>``, ``>=``, ``<``, ``<=``, ``=``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nlets_sim.tools.load.tally import COUNTS, LATENCIES, PERCENTILES

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "=": operator.eq,
}
_CONDITION = re.compile(r"\s*([a-z0-9_]+)\s*(>=|<=|>|<|=)\s*([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)\s*")
_LATENCY_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "": 1.0}
_STATISTICS = (*PERCENTILES, "mean", "max")
COUNT_METRICS = (*COUNTS, "unmatched")


class FailIfError(ValueError):
    """A condition that cannot be read; the text says why."""


@dataclass(frozen=True, slots=True)
class Condition:
    metric: str
    op: str
    value: float  # milliseconds for a latency
    text: str  # as written

    def holds(self, summary: dict[str, Any]) -> bool:
        return _OPERATORS[self.op](metric_value(summary, self.metric), self.value)


def _latency_metric(metric: str) -> tuple[str, str] | None:
    latency, _, statistic = metric.rpartition("_")
    latency = latency or "last"
    if latency in LATENCIES and statistic in _STATISTICS:
        return latency, statistic
    return None


def metric_value(summary: dict[str, Any], metric: str) -> float:
    """The value of a metric in a summary (``Tally.summary`` plus ``rate``)."""
    latency = _latency_metric(metric)
    if latency is not None:
        return float(summary["latency"][latency[0]][latency[1]])
    if metric == "rate":
        return float(summary["rate"])
    return float(summary["counts"][metric])


def parse_fail_if(text: str) -> tuple[Condition, ...]:
    conditions = []
    for part in text.split(","):
        if not part.strip():
            continue
        match = _CONDITION.fullmatch(part)
        if match is None:
            raise FailIfError(f"cannot read the condition {part.strip()!r}: write e.g. p99>50ms")
        metric, op, number, unit = match.groups()
        value = float(number)
        if _latency_metric(metric) is not None:
            if unit not in _LATENCY_UNITS:
                raise FailIfError(f"{part.strip()!r}: a latency's unit is us, ms or s")
            value *= _LATENCY_UNITS[unit]
        elif metric in COUNT_METRICS or metric == "rate":
            if unit and not (metric == "rate" and unit == "s"):
                raise FailIfError(f"{part.strip()!r}: {metric} takes no unit")
        else:
            known = ", ".join((*_STATISTICS, "ak_p99", "first_p99", *COUNT_METRICS, "rate"))
            raise FailIfError(f"unknown metric {metric!r} in {part.strip()!r}; known: {known}")
        conditions.append(Condition(metric, op, value, part.strip()))
    if not conditions:
        raise FailIfError("--fail-if needs at least one condition, e.g. p99>50ms")
    return tuple(conditions)


def broken(conditions: tuple[Condition, ...], summary: dict[str, Any]) -> list[str]:
    """The conditions that hold (each one a reason to fail), with the measured value."""
    return [
        f"{condition.text} (measured {metric_value(summary, condition.metric):g})"
        for condition in conditions
        if condition.holds(summary)
    ]
