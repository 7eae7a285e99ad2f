"""The LESC's processing delay before an IAQ response: a distribution, chosen on the command
line as ``SECONDS``, ``MIN-MAX`` (uniform) or ``lognormal:MU,SIGMA`` (the log of the seconds
is normal with mean MU and deviation SIGMA)."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Delay:
    kind: str  # "uniform" or "lognormal"
    first: float  # uniform: the least seconds; lognormal: MU
    second: float  # uniform: the most seconds; lognormal: SIGMA

    def draw(self, rng: random.Random) -> float:
        if self.kind == "lognormal":
            return rng.lognormvariate(self.first, self.second)
        return rng.uniform(self.first, self.second)


DEFAULT_DELAY = Delay("uniform", 0.0, 2.0)
NO_DELAY = Delay("uniform", 0.0, 0.0)


def parse_delay(text: str) -> Delay:
    """``1.5``, ``0-2`` or ``lognormal:0,0.5``; ``ValueError`` naming the forms otherwise."""
    forms = "SECONDS, MIN-MAX or lognormal:MU,SIGMA"
    try:
        if text.startswith("lognormal:"):
            mu, sigma = (float(part) for part in text.removeprefix("lognormal:").split(","))
            delay = Delay("lognormal", mu, sigma)
        else:
            low, _, high = text.partition("-")
            delay = Delay("uniform", float(low), float(high or low))
    except ValueError:
        raise ValueError(f"delay {text!r}: expected {forms}") from None
    if delay.kind == "lognormal" and delay.second < 0:
        raise ValueError(f"delay {text!r}: SIGMA is not negative")
    if delay.kind == "uniform" and not 0 <= delay.first <= delay.second:
        raise ValueError(f"delay {text!r}: MIN-MAX with 0 <= MIN <= MAX")
    return delay
