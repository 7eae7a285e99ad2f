"""What a load run leaves: the summary table, the per-second CSV, the summary as JSON, and a
PNG of rate and latency over time (matplotlib, without a display)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nlets_sim.tools.load.tally import LATENCIES

CSV_COLUMNS = (
    "second",
    "offered",
    "completed",
    "errors",
    "unanswered",
    "in_flight",
    "p50_ms",
    "p99_ms",
    "ak_p99_ms",
    "cpu_percent",
    "lag_ms",
)
_LATENCY_NAMES = {"ak": "to AK", "first": "to first reply", "last": "to last reply"}


def summary_table(summary: dict[str, Any]) -> str:
    counts = summary["counts"]
    lines = [
        f"profile {summary['profile']}, {summary['terminals']} terminals: "
        f"offered {summary['offered_rate']:.1f}/s, matched {summary['rate']:.1f}/s",
        "",
        "latency (ms)         p50      p90      p99    p99.9      max    count",
    ]
    for name in LATENCIES:
        row = summary["latency"][name]
        lines.append(
            f"{_LATENCY_NAMES[name]:<16}"
            + "".join(f"{row[key]:>9.2f}" for key in ("p50", "p90", "p99", "p999", "max"))
            + f"{row['count']:>9}"
        )
    lines.append("")
    lines.append(
        "requests  "
        + "  ".join(f"{name} {counts[name]}" for name in ("sent", "acked", "matched", "errors"))
        + f"  unanswered {counts['unanswered']}"
    )
    lines.append(
        "replies   "
        + "  ".join(f"{name} {counts[name]}" for name in ("replies", "late", "duplicated", "stray"))
        + f"  (unmatched {counts['unmatched']}: unanswered + stray)"
    )
    if summary["codes"]:
        lines.append("codes     " + "  ".join(f"{k}: {v}" for k, v in summary["codes"].items()))
    generator = summary["generator"]
    cpu = "  ".join(f"{k} {v:.0f}" for k, v in summary["cpu_us_per_exchange"].items())
    lines.append(
        f"CPU per exchange (us): {cpu}; generator saturated {generator['seconds_saturated']} s,"
        f" behind schedule {generator['seconds_behind']} s; reconnects {summary['reconnects']}"
    )
    return "\n".join(lines)


def write_csv(path: Path, seconds: Sequence[dict[str, float]]) -> None:
    with path.open("w", newline="", encoding="ascii") as handle:
        writer = csv.DictWriter(handle, CSV_COLUMNS)
        writer.writeheader()
        for row in seconds:
            writer.writerow({key: row[key] for key in CSV_COLUMNS})


def write_json(path: Path, summary: dict[str, Any]) -> None:
    path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", "ascii")


def write_plot(path: Path, seconds: Sequence[dict[str, float]], title: str) -> None:
    """Rate (offered, completed) above latency (p50, p99) against seconds of the run."""
    import matplotlib as mpl  # noqa: PLC0415 - slow to import; only when a plot is asked for

    mpl.use("Agg")
    from matplotlib import pyplot as plt  # noqa: PLC0415

    x = [row["second"] for row in seconds]
    figure, (rates, latency) = plt.subplots(2, 1, sharex=True, figsize=(9, 6))
    try:
        rates.plot(x, [row["offered"] for row in seconds], label="offered/s")
        rates.plot(x, [row["completed"] for row in seconds], label="completed/s")
        rates.set_ylabel("requests per second")
        rates.legend(loc="lower right")
        rates.set_title(title)
        latency.plot(x, [row["p50_ms"] for row in seconds], label="p50")
        latency.plot(x, [row["p99_ms"] for row in seconds], label="p99")
        latency.set_ylabel("latency to last reply (ms)")
        latency.set_xlabel("second of the run")
        latency.legend(loc="upper right")
        figure.tight_layout()
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)
