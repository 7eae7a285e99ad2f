"""``lesc-daemon report``: IAQs per month by purpose and by state, as a table and a PNG chart.

The chart is drawn with matplotlib (its Agg backend: no display needed): "queries processed in
the past 12 months" by month, criminal justice (``PUR/C``) and firearms (``PUR/F``) stacked,
with a second panel of the same months by requesting state. An IAQ without a usable purpose (a
rejected query) is counted as "other": in the totals, by state and in the chart.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes

Row = tuple[str, str | None, str, int]  # month YYYY-MM, purpose, state, count

PURPOSES = (("C", "criminal justice (PUR/C)"), ("F", "firearms (PUR/F)"), ("?", "other (rejected)"))
COLOURS = {"C": "#1f77b4", "F": "#ff7f0e", "?": "#9e9e9e"}
MONTHS = 12


def _purpose(purpose: str | None) -> str:
    return purpose if purpose in {"C", "F"} else "?"


def monthly_table(rows: Sequence[Row]) -> str:
    by_month: dict[str, Counter[str]] = defaultdict(Counter)
    by_state: dict[str, Counter[str]] = defaultdict(Counter)
    for month, purpose, state, count in rows:
        by_month[month][_purpose(purpose)] += count
        by_state[month][state] += count
    lines = ["month    PUR/C  PUR/F  other  total  by state"]
    for month in sorted(by_month):
        counts = by_month[month]
        states = " ".join(f"{s}:{n}" for s, n in sorted(by_state[month].items()))
        c, f, other = counts["C"], counts["F"], counts["?"]
        lines.append(f"{month}  {c:>5}  {f:>5}  {other:>5}  {c + f + other:>5}  {states}")
    if len(lines) == 1:
        lines.append("(no queries yet)")
    return "\n".join(lines)


def last_months(last: date, count: int = MONTHS) -> list[str]:
    """The ``count`` months ending with ``last``'s, oldest first, as YYYY-MM."""
    index = last.year * 12 + last.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


def write_chart(rows: Sequence[Row], path: Path, last: date) -> None:
    """Two panels: the 12 months ending with ``last``'s by purpose, and those months' queries
    by requesting state."""
    import matplotlib  # noqa: PLC0415 - only this command needs it (about 0.3 s to import)

    matplotlib.use("Agg")
    from matplotlib import pyplot  # noqa: PLC0415
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    months = last_months(last)
    by_month: dict[str, Counter[str]] = defaultdict(Counter)
    by_state: dict[str, Counter[str]] = defaultdict(Counter)
    for month, purpose, state, count in rows:
        if month in months:
            by_month[_purpose(purpose)][month] += count
            by_state[_purpose(purpose)][state] += count
    states = sorted(
        {state for counts in by_state.values() for state in counts},
        key=lambda state: (-sum(by_state[p][state] for p, _ in PURPOSES), state),
    )
    figure, (monthly, statewise) = pyplot.subplots(2, 1, figsize=(11, 8.5), dpi=100)
    labels = [date(int(m[:4]), int(m[5:]), 1).strftime("%b\n%Y") for m in months]
    _stacked(monthly, labels, [[by_month[p][m] for m in months] for p, _ in PURPOSES])
    first, final = date.fromisoformat(months[0] + "-01"), date.fromisoformat(months[-1] + "-01")
    monthly.set_title(
        f"Queries processed in the past 12 months ({first:%B %Y} to {final:%B %Y})",
        fontweight="bold",
    )
    monthly.set_xlabel("month received")
    monthly.set_ylabel("IAQs")
    _stacked(statewise, states, [[by_state[p][s] for s in states] for p, _ in PURPOSES])
    statewise.set_title("The same months by requesting state", fontweight="bold")
    statewise.set_xlabel("state of the requesting agency (first two letters of its ORI)")
    statewise.set_ylabel("IAQs")
    if not states:
        statewise.text(
            0.5, 0.5, "no queries in these months", ha="center", transform=statewise.transAxes
        )
    for axes in (monthly, statewise):
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(axis="y", alpha=0.3)
        axes.set_axisbelow(True)
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, format="png")
    pyplot.close(figure)


def _stacked(axes: Axes, labels: list[str], layers: list[list[int]]) -> None:
    """Stacked bars, one layer per purpose, with each bar's total on top."""
    bottoms = [0] * len(labels)
    positions = range(len(labels))
    for (purpose, name), heights in zip(PURPOSES, layers, strict=True):
        if purpose == "?" and not any(heights):
            continue  # no "other" in the legend when there is none
        axes.bar(positions, heights, bottom=bottoms, color=COLOURS[purpose], label=name, width=0.7)
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    for position, total in zip(positions, bottoms, strict=True):
        if total:
            axes.annotate(f"{total:,}", (position, total), ha="center", va="bottom", fontsize=8)
    axes.set_xticks(list(positions), labels, fontsize=8)
    axes.set_ylim(0, max(bottoms, default=0) * 1.15 or 1)
