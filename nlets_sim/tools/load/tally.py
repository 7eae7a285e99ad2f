"""What a load run counts: requests and replies by outcome, ER and SM codes, and latency in
HDR histograms (microseconds, 3 significant figures) to the switch's AK, to the first reply
and to the last.

A ``Tally`` is kept for the whole run and one for the current second (reset each second), so
the live line and the per-second CSV have their own percentiles.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hdrh.histogram import HdrHistogram

LOWEST_US, HIGHEST_US, FIGURES = 1, 3_600_000_000, 3  # 1 us to an hour
LATENCIES = ("ak", "first", "last")
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p999": 99.9}
COUNTS = (
    "sent",  # requests offered
    "acked",  # requests the switch acknowledged
    "matched",  # requests that got every reply they expect within the timeout
    "unanswered",  # requests still short of replies when their timeout passed
    "errors",  # requests answered with ER, an IAR REJ, or a RES other than expected
    "replies",  # replies carrying the control field of a request of this run
    "late",  # replies for a request whose timeout had passed
    "duplicated",  # replies beyond those a request expects, or the same delivery twice
    "stray",  # deliveries carrying no control field of this run
)


class Tally:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.codes: Counter[str] = Counter()  # "ER .19.", "SM .02.", "IAR REJ", "RES WT"...
        self.latency = {name: HdrHistogram(LOWEST_US, HIGHEST_US, FIGURES) for name in LATENCIES}

    def record(self, name: str, seconds: float) -> None:
        micros = min(HIGHEST_US, max(LOWEST_US, round(seconds * 1e6)))
        self.latency[name].record_value(micros)

    def add_latencies(self, other: Tally) -> None:
        """Add ``other``'s latency histograms to this one's (bucket by bucket, in C)."""
        for name, histogram in other.latency.items():
            if histogram.get_total_count():
                self.latency[name].add(histogram)

    def percentile_ms(self, name: str, percentile: float) -> float:
        histogram = self.latency[name]
        if not histogram.get_total_count():
            return 0.0
        return float(histogram.get_value_at_percentile(percentile)) / 1000

    @property
    def unmatched(self) -> int:
        """Requests left without their replies, and replies that matched no request."""
        return self.counts["unanswered"] + self.counts["stray"]

    def summary(self) -> dict[str, Any]:
        """Counts, codes and latency percentiles (milliseconds), for JSON and the table."""
        latency: dict[str, dict[str, float]] = {}
        for name, histogram in self.latency.items():
            figures = {key: self.percentile_ms(name, p) for key, p in PERCENTILES.items()}
            count = histogram.get_total_count()
            figures["mean"] = histogram.get_mean_value() / 1000 if count else 0.0
            figures["max"] = histogram.get_max_value() / 1000 if count else 0.0
            figures["count"] = count
            latency[name] = figures
        counts = {name: self.counts[name] for name in COUNTS}
        counts["unmatched"] = self.unmatched
        return {"counts": counts, "codes": dict(sorted(self.codes.items())), "latency": latency}
