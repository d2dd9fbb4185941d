"""Means with 95% intervals, and seeds pooled into one estimate (see :mod:`hybrid.report`)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Estimate:
    """A mean with its 95% interval over ``n`` paths (``low``/``high`` NaN when unknown)."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half(self) -> float:
        """Half the interval's width."""
        return (self.high - self.low) / 2

    @property
    def has_ci(self) -> bool:
        """Whether the interval is known."""
        return math.isfinite(self.low) and math.isfinite(self.high)

    @property
    def excludes_zero(self) -> bool:
        """Whether the interval is known and lies wholly above or below zero."""
        return self.has_ci and (self.low > 0 or self.high < 0)


#: Nothing known: no paths, no mean, no interval.
NO_ESTIMATE = Estimate(math.nan, math.nan, math.nan, 0)


def _t975(dof: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.975, dof))


def finite(x: Any) -> bool:
    """Whether ``x`` is a finite number (``None``, NaN and text are not)."""
    return isinstance(x, int | float) and math.isfinite(x)


def pool(parts: Iterable[tuple[Any, Any, int]]) -> Estimate:
    """Pool ``(mean, [low, high], n)`` estimates of disjoint path sets into one (module docstring)."""
    rows = [(float(m), ci, int(n)) for m, ci, n in parts if finite(m) and n and n > 0]
    if not rows:
        return NO_ESTIMATE
    total = sum(n for _, _, n in rows)
    mean = sum(n * m for m, _, n in rows) / total
    within, known = 0.0, True
    for _m, ci, n in rows:
        if n < 2:
            continue
        if not (ci and len(ci) == 2 and finite(ci[0]) and finite(ci[1])):
            known = False
            continue
        std = (ci[1] - ci[0]) / 2 / _t975(n - 1) * math.sqrt(n)
        within += (n - 1) * std**2
    between = sum(n * (m - mean) ** 2 for m, _, n in rows)
    if total < 2 or not known:
        return Estimate(mean, math.nan, math.nan, total)
    half = _t975(total - 1) * math.sqrt((within + between) / (total - 1) / total)
    return Estimate(mean, mean - half, mean + half, total)


def t_interval(values: Sequence[float]) -> Estimate:
    """Mean and Student-t 95% interval of a few values (e.g. one per seed)."""
    values = [v for v in values if finite(v)]
    n = len(values)
    if n == 0:
        return NO_ESTIMATE
    mean = sum(values) / n
    if n < 2:
        return Estimate(mean, math.nan, math.nan, n)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = _t975(n - 1) * std / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, n)
