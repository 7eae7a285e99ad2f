"""``lesc-daemon report``: IAQs per month by purpose and by state, as a table and a PNG chart.

The chart is drawn without a plotting library: one stacked bar per month (criminal justice in
blue below, firearms in orange above), scaled to the busiest month, written as an 8-bit RGB
PNG with the standard library's ``zlib``. The table carries the numbers.
"""

from __future__ import annotations

import struct
import zlib
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

Row = tuple[str, str, str, int]  # month, purpose, state, count

BAR_WIDTH, GAP, HEIGHT, MARGIN = 24, 8, 200, 10
COLOURS = {"C": (31, 119, 180), "F": (255, 127, 14)}
BACKGROUND, AXIS = (255, 255, 255), (60, 60, 60)


def monthly_table(rows: Sequence[Row]) -> str:
    by_month: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_state: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for month, purpose, state, count in rows:
        by_month[month][purpose or "?"] += count
        by_state[month][state] += count
    lines = ["month    PUR/C  PUR/F  total  by state"]
    for month in sorted(by_month):
        c, f = by_month[month].get("C", 0), by_month[month].get("F", 0)
        states = " ".join(f"{s}:{n}" for s, n in sorted(by_state[month].items()))
        lines.append(f"{month}  {c:>5}  {f:>5}  {c + f:>5}  {states}")
    if len(lines) == 1:
        lines.append("(no queries yet)")
    return "\n".join(lines)


def chart_pixels(rows: Sequence[Row]) -> list[list[tuple[int, int, int]]]:
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for month, purpose, _state, count in rows:
        totals[month][purpose] += count
    months = sorted(totals)
    width = MARGIN * 2 + max(1, len(months)) * (BAR_WIDTH + GAP)
    image = [[BACKGROUND] * width for _ in range(HEIGHT + MARGIN * 2)]
    peak = max((sum(t.values()) for t in totals.values()), default=1)
    base = HEIGHT + MARGIN  # the row of the axis
    for x in range(MARGIN, width - MARGIN):
        image[base][x] = AXIS
    for index, month in enumerate(months):
        left = MARGIN + GAP // 2 + index * (BAR_WIDTH + GAP)
        top = base
        for purpose in ("C", "F"):
            height = round(totals[month].get(purpose, 0) / peak * (HEIGHT - 1))
            for y in range(top - height, top):
                for x in range(left, left + BAR_WIDTH):
                    image[y][x] = COLOURS[purpose]
            top -= height
    return image


def png_bytes(image: list[list[tuple[int, int, int]]]) -> bytes:
    height, width = len(image), len(image[0])
    raw = b"".join(b"\x00" + bytes(v for pixel in row for v in pixel) for row in image)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def write_chart(rows: Sequence[Row], path: Path) -> None:
    path.write_bytes(png_bytes(chart_pixels(rows)))
