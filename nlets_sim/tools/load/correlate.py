"""Matching replies to requests by their control field (PROTOCOL §2.1: the control field is
returned to the sender in every reply), without sockets or a clock: times are passed in.

A request expects a number of replies (an AM: its delivery to the destination; an IAQ: the
acknowledgement IAR and the response IAR). It is *matched* when they have all arrived within
its timeout, *unanswered* when the timeout passes first; an ``ER``, an ``SM`` or an IAR
``TYP/REJ`` ends it at once, except ``SM .02.`` (stored, will forward): the request goes on
waiting for its replies. A reply for a request whose timeout had passed is *late*; a reply
beyond those expected, or the same bytes twice, is *duplicated*; a delivery whose control
field no request of the run carries is *stray*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nlets_sim.tools.load.tally import Tally

_TYP = re.compile(r"TYP/([A-Z]+)")
_RES = re.compile(r"RES/([A-Z]{2})")
FORWARDED = ".02."  # SM .02.: stored, will be delivered later; not an error


@dataclass(slots=True)
class Pending:
    """A request on its way: when it was due, what it waits for, what came."""

    control: str
    due: float  # when the schedule wanted it sent: latency is measured from here
    expected: int  # replies that complete it
    terminal: int  # index of the sending terminal
    counted: bool  # False during the warm-up: kept out of the figures
    expect_res: str | None = None  # the IAR response's RES the profile expects
    replies: int = 0  # those that count towards ``expected`` (not an SM .02.)
    acked: bool = False
    seen: set[int] = field(default_factory=set)  # hashes of the replies' bytes


def reply_code(mke: str, text: str) -> str | None:
    """The code a reply is counted under: ``ER .19.``, ``SM .02.``, ``IAR RSP WT``..."""
    first = text.split("\r\n", 1)[0].strip()
    if mke in {"ER", "SM"}:
        return f"{mke} {first.split(' ', 1)[0]}" if first else mke
    if mke == "IAR":
        typ = _TYP.search(first)
        res = _RES.search(first)
        parts = ["IAR", typ.group(1) if typ else "?"] + ([res.group(1)] if res else [])
        return " ".join(parts)
    return None


class Correlator:
    """``total``: the run's figures (counted requests only); ``interval``: this second's
    (everything), taken by ``end_second``.

    Each latency is recorded once, into the histograms of counted or of warm-up requests since
    the last look, and added from there to ``interval`` and (counted only) ``total`` when
    either is read: a histogram record in Python costs more than the rest of a reply's
    counting, an addition of histograms is one pass in C."""

    def __init__(self, timeout_s: float, total: Tally | None = None) -> None:
        self.timeout_s = timeout_s
        self._total = total or Tally()
        self._interval = Tally()
        self._recent = {True: Tally(), False: Tally()}  # by ``counted``: not yet added
        self._recorded = False  # whether ``_recent`` holds anything
        self.pending: dict[str, Pending] = {}
        # Requests that ended, kept (with when they ended) for ``keep_s``: replies for them are
        # duplicated or late, not stray, and their AKs are still timed.
        self.keep_s = max(60.0, 10 * timeout_s)
        self._finished: dict[str, tuple[float, Pending]] = {}
        self._expired: dict[str, tuple[float, Pending]] = {}

    @property
    def in_flight(self) -> int:
        return len(self.pending)

    @property
    def total(self) -> Tally:
        self._add_recent()
        return self._total

    @property
    def interval(self) -> Tally:
        self._add_recent()
        return self._interval

    def end_second(self) -> Tally:
        """This second's figures; the next second starts empty."""
        self._add_recent()
        ended, self._interval = self._interval, Tally()
        return ended

    def _add_recent(self) -> None:
        if not self._recorded:
            return
        counted, warm_up = self._recent[True], self._recent[False]
        self._total.add_latencies(counted)
        self._interval.add_latencies(counted)
        self._interval.add_latencies(warm_up)
        self._recent = {True: Tally(), False: Tally()}
        self._recorded = False

    def _count(self, request: Pending | None, name: str, amount: int = 1) -> None:
        self._interval.counts[name] += amount
        if request is None or request.counted:
            self._total.counts[name] += amount

    def _latency(self, request: Pending, name: str, now: float) -> None:
        self._recent[request.counted].record(name, max(0.0, now - request.due))
        self._recorded = True

    def _code(self, request: Pending | None, code: str) -> None:
        self._interval.codes[code] += 1
        if request is None or request.counted:
            self._total.codes[code] += 1

    def sent(
        self,
        control: str,
        due: float,
        expected: int,
        terminal: int = 0,
        *,
        counted: bool = True,
        expect_res: str | None = None,
    ) -> None:
        request = Pending(control, due, expected, terminal, counted, expect_res)
        self.pending[control] = request
        self._count(request, "sent")

    def acked(self, control: str, now: float) -> None:
        request = self.pending.get(control)
        if request is None:
            _, request = self._finished.get(control) or self._expired.get(control) or (0, None)
        if request is None or request.acked:
            return
        request.acked = True
        self._count(request, "acked")
        self._latency(request, "ak", now)

    def reply(
        self, control: str | None, mke: str, text: str, raw: bytes, now: float
    ) -> Pending | None:
        """Count one delivery; returns the request when this reply completed it."""
        request = self.pending.get(control) if control is not None else None
        if request is not None and now - request.due > self.timeout_s:
            self._expire(request, now)  # its timeout passed before this reply came
            request = None
        if request is None:
            self._unexpected(control, raw)
            return None
        digest = hash(raw)
        if digest in request.seen:
            self._count(request, "duplicated")
            return None
        request.seen.add(digest)
        request.replies += 1
        self._count(request, "replies")
        if len(request.seen) == 1:
            self._latency(request, "first", now)
        code = reply_code(mke, text)
        if code is not None:
            self._code(request, code)
        if code == f"SM {FORWARDED}":  # stored for the destination: the answer is still to come
            request.replies -= 1
            return None
        failed = mke == "ER" or code == "IAR REJ" or mke == "SM"
        if (
            request.expect_res is not None
            and code is not None
            and code.startswith("IAR RSP")
            and code != f"IAR RSP {request.expect_res}"
        ):
            self._code(request, f"RES not {request.expect_res}")
            failed = True
        if failed or request.replies >= request.expected:
            return self._finish(request, now, failed=failed)
        return None

    def _unexpected(self, control: str | None, raw: bytes) -> None:
        if control is not None and control in self._finished:
            _, request = self._finished[control]
            self._count(request, "duplicated")
        elif control is not None and control in self._expired:
            _, request = self._expired[control]
            self._count(request, "late")
        else:
            self._count(None, "stray")
        del raw

    def _finish(self, request: Pending, now: float, *, failed: bool) -> Pending:
        del self.pending[request.control]
        self._finished[request.control] = (now, request)
        self._count(request, "errors" if failed else "matched")
        self._latency(request, "last", now)
        return request

    def expire(self, now: float) -> list[Pending]:
        """Requests whose timeout has passed: counted unanswered and returned. Requests that
        ended more than ``keep_s`` ago are forgotten (a reply for them is stray)."""
        limit = now - self.timeout_s
        gone = []
        for control, request in self.pending.items():
            if request.due > limit:
                break
            gone.append(control)
        expired = [self.pending[control] for control in gone]
        for request in expired:
            self._expire(request, now)
        forget = now - self.keep_s
        for kept in (self._finished, self._expired):
            stale = []
            for control, (at, _) in kept.items():
                if at > forget:
                    break
                stale.append(control)
            for control in stale:
                del kept[control]
        return expired

    def expire_all(self, now: float) -> list[Pending]:
        """At the end of a run: every request still waiting is unanswered."""
        expired = list(self.pending.values())
        for request in expired:
            self._expire(request, now)
        return expired

    def _expire(self, request: Pending, now: float) -> None:
        del self.pending[request.control]
        self._count(request, "unanswered")
        self._expired[request.control] = (now, request)
