"""``lesc-year``: a year of the LESC's traffic, fast (issue 17; the ICE LESC fact sheets).

Volume and mix are FY 2013's: 1.4 million requests a year, of which 126,122 Brady firearms
checks (IAQ ``PUR/F``), 41,560 Secret Service screenings (IAQs from ``DCUSSS000`` when it is
among the terminals), 4,633 NCIC hit confirmations (YQ to ``VTINS07S0``, ``PRI/R``: the hour's
window, since at 52,560 times the real clock the 10 minutes of ``PRI/U`` last 11 ms) and
12,289 detainers (IAQs with ``CUS/Y`` about identities whose expected RES is ``RM`` or ``WT``;
every other IAQ says ``CUS/N``, so lodges none). Each kind is placed by quota, not by chance:
after ``n`` requests a kind of share ``p`` has been sent ``round(n * p)`` times, so any stretch
of the year carries the mix to within a request.

When: the LESC works 24 hours a day, 365 days a year; the rate follows a month, weekday and
hour shape (simulated: lighter nights and weekends, a summer and a December dip), normalized so
that 365 days from the clock's start carry the year's volume.

From where: IAQs from the state terminals in proportion to ``STATE_WEIGHTS`` (simulated: the
larger and border states send more; every other state 1).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lesc_daemon.oris import LESC_ORI
from nlets_sim.tools.load.identities import Identity
from nlets_sim.tools.load.profiles import Draw, ProfileError, Request
from nlets_sim.tools.load.schedule import Schedule, Segment

FY2013 = {
    "requests": 1_400_000,
    "brady": 126_122,
    "secret_service": 41_560,
    "hit_confirmations": 4_633,
    "detainers": 12_289,
}
KINDS = ("hit_confirmations", "brady", "secret_service", "detainers")  # the rest: plain IAQs
USSS_ORI = "DCUSSS000"
LESC_YQ_ORI = LESC_ORI
# January first; Monday first; midnight first. Relative weights (simulated shape).
MONTH = (1.00, 0.96, 1.02, 1.00, 1.04, 1.06, 1.05, 1.07, 1.03, 1.02, 0.98, 0.90)
WEEKDAY = (1.10, 1.12, 1.12, 1.10, 1.06, 0.78, 0.72)
HOUR = (
    0.45, 0.38, 0.33, 0.30, 0.30, 0.35, 0.50, 0.75, 1.00, 1.20, 1.32, 1.38,
    1.38, 1.38, 1.36, 1.32, 1.25, 1.15, 1.05, 0.98, 0.90, 0.80, 0.68, 0.55,
)  # fmt: skip
STATE_WEIGHTS = {
    "CA": 20, "TX": 16, "FL": 9, "NY": 8, "NJ": 5, "IL": 5, "AZ": 4, "GA": 3, "NC": 3,
    "WA": 3, "VA": 3, "MA": 3, "MD": 2, "CO": 2, "NV": 2, "PA": 2, "MI": 2, "OR": 2,
}  # fmt: skip
YEAR = timedelta(days=365)


def factor(moment: datetime) -> float:
    """The relative rate at a simulated moment."""
    return MONTH[moment.month - 1] * WEEKDAY[moment.weekday()] * HOUR[moment.hour]


def year_schedule(start: datetime, rate: float, volume: float = FY2013["requests"]) -> Schedule:
    """The year's requests from ``start`` on the wall clock of a simulated clock running
    ``rate`` times faster: one segment per simulated hour, ``volume`` requests in 365 days."""
    hours = [factor(start + timedelta(hours=h)) for h in range(365 * 24)]
    per_factor = volume / (sum(hours) * 3600)  # requests per simulated second, per unit
    segment_s = 3600 / rate
    segments = [Segment(f * per_factor * rate, f * per_factor * rate, segment_s) for f in hours]
    last = hours[-1] * per_factor * rate
    return Schedule((*segments, Segment(last, last, float("inf"))))


@dataclass(slots=True)
class YearProfile:
    """The sampler of ``lesc-year``: by quota, which kind the ``n``-th request is; by weight,
    which state sends it."""

    identities: Sequence[Identity]
    oris: Sequence[str]
    name: str = "lesc-year"
    counts: Counter[str] = field(default_factory=Counter)  # what was sent, by kind
    _states: list[int] = field(default_factory=list)
    _weights: list[float] = field(default_factory=list)
    _secret_service: int | None = None
    _removable: list[Identity] = field(default_factory=list)

    def __post_init__(self) -> None:
        for index, ori in enumerate(self.oris):
            if ori == USSS_ORI:
                self._secret_service = index
            else:
                self._states.append(index)
                self._weights.append(STATE_WEIGHTS.get(ori[:2], 1))
        if not self._states:
            raise ProfileError("lesc-year needs state terminals to send from")
        self._removable = [i for i in self.identities if i.res in {"RM", "WT"}]
        if not self.identities or not self._removable:
            raise ProfileError("lesc-year needs identities, some with RES RM or WT (detainers)")

    def kind(self, number: int) -> str:
        """The kind of request ``number`` (0, 1, ...): the kind furthest behind its quota."""
        total = FY2013["requests"]
        behind = {k: round((number + 1) * FY2013[k] / total) - self.counts[k] for k in KINDS}
        if self._secret_service is None:
            behind.pop("secret_service")
        chosen = max(behind, key=lambda k: behind[k])
        return chosen if behind[chosen] >= 1 else "iaq"

    def request(self, draw: Draw) -> Request:
        """The year chooses its own sender; its text carries no date."""
        rng, oris, control = draw.rng, draw.oris, draw.control
        kind = self.kind(draw.number)
        self.counts[kind] += 1
        if kind == "secret_service":
            assert self._secret_service is not None
            who = self._secret_service
        else:
            who = rng.choices(self._states, self._weights)[0]
        ori = oris[who]
        if kind == "hit_confirmations":
            text = (
                f"YQ.{ori}.{LESC_YQ_ORI}.*{control}.TXT\r\nRTY/WP.RNO/1.PRI/R.OCA/ICE-0001."
                f"NIC/W000000001.NAM/WANTED, WALTER.DOB/19700707.RNA/LOAD TEST.RAG/{ori}."
                "PHO/5185551212"
            )
            return Request(text.encode("ascii"), 1, sender=who)
        identity = rng.choice(self._removable if kind == "detainers" else self.identities)
        fields = identity.fields()
        text = (
            f"IAQ.{ori}.AX.*{control}.TXT\r\nPUR/{'F' if kind == 'brady' else 'C'}."
            f"ATN/LOAD TEST.PHN/5185551212.NAM/{fields['nam']}.DOB/{fields['dob']}."
            f"SEX/{fields['sex']}.POB/{fields['pob']}.CUS/{'Y' if kind == 'detainers' else 'N'}."
            f"OFF/0399{fields['arn']}"
        )
        return Request(text.encode("ascii"), 2, identity.res, sender=who)

    def sent(self) -> dict[str, int]:
        """What the run sent, as ``lesc-daemon report`` counts it."""
        iaqs = sum(n for kind, n in self.counts.items() if kind != "hit_confirmations")
        return {
            "iaqs": iaqs,
            "brady": self.counts["brady"],
            "secret_service": self.counts["secret_service"],
            "hit_confirmations": self.counts["hit_confirmations"],
            "detainers": self.counts["detainers"],
        }
