"""Compute 95% confidence intervals for proportions and their differences (standard library only).

docs/metrics.md ("Experiments") states the method and its formulas:

- one proportion ``x / n``: the **Wilson score interval**;
- the difference of two independent proportions ``x1 / n1 - x2 / n2``: **Newcombe's hybrid
  score interval** (Newcombe 1998, method 10), built from the two Wilson intervals. Unlike
  the Wald interval it stays inside [-1, 1], never has zero width at 0% or 100%, and keeps
  close to its nominal 95% coverage with small arms.

Floats are fine here: an interval is an estimate shown to two decimal places, not money.
"""

from __future__ import annotations

import dataclasses
import math
import statistics

CONFIDENCE = 0.95
# The two-sided standard normal quantile: 1.959963984540054 for 95%.
Z = statistics.NormalDist().inv_cdf(1 - (1 - CONFIDENCE) / 2)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Interval:
    """Hold an estimate and its confidence interval."""

    estimate: float
    lower: float
    upper: float

    def excludes_zero(self) -> bool:
        """Return whether the interval lies wholly above or below zero."""
        return self.lower > 0 or self.upper < 0


class EmptySample(ValueError):
    """A proportion needs at least one trial."""


def _check(successes: int, trials: int) -> None:
    if trials <= 0:
        raise EmptySample("a proportion needs at least one trial")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes ({successes}) must lie between 0 and trials ({trials})")


def wilson(successes: int, trials: int, *, z: float = Z) -> Interval:
    """Return the Wilson score interval of ``successes / trials``.

    ``(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)``. Raises ``EmptySample`` for
    no trials.
    """
    _check(successes, trials)
    n = float(trials)
    p = successes / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    denominator = 1 + z2 / n
    # Exactly 0 and 1 at the ends, whatever the rounding.
    lower = 0.0 if successes == 0 else (centre - spread) / denominator
    upper = 1.0 if successes == trials else (centre + spread) / denominator
    return Interval(estimate=p, lower=lower, upper=upper)


def newcombe(
    successes: int, trials: int, base_successes: int, base_trials: int, *, z: float = Z
) -> Interval:
    """Return Newcombe's hybrid score interval of ``successes/trials - base_successes/base_trials``.

    With the Wilson intervals ``(l1, u1)`` of the first proportion ``p1`` and ``(l2, u2)``
    of the second ``p2``, and ``d = p1 - p2``:
    ``lower = d - sqrt((p1 - l1)² + (u2 - p2)²)``,
    ``upper = d + sqrt((u1 - p1)² + (p2 - l2)²)``. Raises ``EmptySample`` when either side
    has no trials.
    """
    first = wilson(successes, trials, z=z)
    second = wilson(base_successes, base_trials, z=z)
    p1, p2 = first.estimate, second.estimate
    difference = p1 - p2
    lower = difference - math.sqrt((p1 - first.lower) ** 2 + (second.upper - p2) ** 2)
    upper = difference + math.sqrt((first.upper - p1) ** 2 + (p2 - second.lower) ** 2)
    return Interval(estimate=difference, lower=lower, upper=upper)
