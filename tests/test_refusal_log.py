"""The log of refused peers is bounded: a few lines per period, the rest counted."""

from __future__ import annotations

from typing import Any

from nlets_sim.switch.refusal_log import RefusalLog


class Lines:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def info(self, event: str, **fields: Any) -> None:
        self.lines.append((event, fields))


def test_past_the_quota_lines_are_counted_and_reported_with_the_next_period() -> None:
    now = [100.0]
    out = Lines()
    refusals = RefusalLog(out, lines=2, period_s=10.0, clock=lambda: now[0])
    written = [refusals.log("protocol violation", peer=str(n)) for n in range(5)]
    assert written == [True, True, False, False, False]
    now[0] = 109.9
    assert not refusals.log("protocol violation", peer="5")
    now[0] = 110.0
    assert refusals.log("logon refused", peer="6")
    assert out.lines == [
        ("protocol violation", {"peer": "0"}),
        ("protocol violation", {"peer": "1"}),
        ("logon refused", {"peer": "6", "suppressed": 4}),
    ]
    assert refusals.suppressed == 0
