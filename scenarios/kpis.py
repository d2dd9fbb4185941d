"""KPIs of a run, each a mean over sample paths with a 95% confidence interval.

Per path, over the measured periods (after the warm-up):

* ``cost_per_period`` -- total cost net of revenue, per period; and each part.
* ``fill_rate`` -- share of demand served at once from stock.
* ``cycle_service_level`` -- share of (period, demand stream) pairs in which
  demand was met in full from stock.
* ``stockout_frequency`` -- share of (period, stream) pairs ending with no stock.
* ``backorders`` -- external backlog at the end of a period (units).
* ``lost_sales`` -- units lost per period.
* ``average_inventory`` -- units on hand at the end of a period, all nodes.
* ``turnover`` -- units sold per period over the average inventory.
* ``waste`` -- units expired or refused for lack of space, per period.
* ``bullwhip`` -- variance of orders placed on external supply over the
  variance of external demand (Lee, Padmanabhan & Whang 1997).
* ``discounted_cost`` -- total cost discounted by the spec's factor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from scenarios.simulator import COST_PARTS, Run

__all__ = ["json_safe", "Estimate", "estimate", "kpis", "per_path", "paired_difference", "KPI_NAMES"]

KPI_NAMES = ("cost_per_period", "fill_rate", "cycle_service_level", "stockout_frequency",
             "backorders", "lost_sales", "average_inventory", "turnover", "waste", "bullwhip",
             "discounted_cost")


@dataclass(frozen=True)
class Estimate:
    """A mean over ``n`` paths with its Student-t 95% confidence interval."""

    mean: float
    low: float
    high: float
    std: float
    n: int

    @property
    def half_width(self) -> float:
        """Half the width of the 95% interval."""
        return (self.high - self.low) / 2

    def to_dict(self) -> dict[str, float | list[float]]:
        """``{"mean": m, "ci95": [low, high]}``."""
        return {"mean": self.mean, "ci95": [self.low, self.high]}

    def __str__(self) -> str:
        """``mean ± half-width``, both to the precision of the CI (two significant digits of its half-width).

        >>> str(Estimate(-0.0005769, -0.0012269, 0.0000731, 0.003, 100))
        '-0.00058 ± 0.00065'
        >>> str(Estimate(1234.4, 1078.2, 1390.6, 780.0, 100))
        '1234 ± 156'
        """
        hw = self.half_width
        if not (np.isfinite(hw) and hw > 0 and np.isfinite(self.mean)):
            return f"{self.mean:.4g} ± {hw:.2g}"
        decimals = max(0, 1 - int(np.floor(np.log10(hw))))
        return f"{self.mean:.{decimals}f} ± {hw:.{decimals}f}"


def estimate(values: np.ndarray) -> Estimate:
    """Mean and 95% CI of per-path values ``(paths,)`` (NaNs, e.g. no demand, are dropped)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    n = len(values)
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), float("nan"), 0)
    mean = float(values.mean())
    std = float(values.std(ddof=1)) if n > 1 else 0.0
    half = float(stats.t.ppf(0.975, n - 1) * std / np.sqrt(n)) if n > 1 else float("inf")
    return Estimate(mean, mean - half, mean + half, std, n)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def per_path(run: Run) -> dict[str, np.ndarray]:
    """Every KPI and cost part per path ``(paths,)``, over the measured periods."""
    w = run.warmup
    f = {k: v[:, w:] for k, v in run.flows.items()}
    T = f["demand"].shape[1]
    streams = max(len(run.spec.demands), 1)
    total = run.total_cost[:, w:]
    out = {
        "cost_per_period": total.mean(1),
        "fill_rate": _ratio(f["filled"].sum(1), f["demand"].sum(1)),
        "cycle_service_level": 1 - f["short_streams"].sum(1) / (T * streams),
        "stockout_frequency": f["empty_streams"].sum(1) / (T * streams),
        "backorders": f["backlog"].mean(1),
        "lost_sales": f["lost"].mean(1),
        "average_inventory": f["stock"].mean(1),
        "turnover": _ratio(f["sold"].mean(1), f["stock"].mean(1)),
        "waste": f["waste"].mean(1),
        "bullwhip": _ratio(f["external_orders"].var(1, ddof=1), f["demand"].var(1, ddof=1))
        if T > 1 else np.full(total.shape[0], np.nan),
        "discounted_cost": (total * run.spec.discount ** np.arange(T)).sum(1),
    }
    for part in COST_PARTS:
        out[f"cost.{part}"] = run.costs[part][:, w:].mean(1)
    return out


def kpis(run: Run) -> dict[str, Estimate]:
    """Every KPI of ``run`` as an :class:`Estimate`; cost parts under ``cost.<part>``."""
    return {k: estimate(v) for k, v in per_path(run).items()}


def paired_difference(run: Run, reference: Run) -> Estimate:
    """Cost per period of ``run`` minus ``reference``, path by path (common random numbers).

    A 95% interval that excludes zero means the difference is significant.
    """
    a, b = run.total_cost[:, run.warmup:].mean(1), reference.total_cost[:, reference.warmup:].mean(1)
    if a.shape != b.shape:
        raise ValueError("paired runs need the same sample paths")
    return estimate(a - b)


def json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities (an empty KPI, a one-path CI) as ``None``, recursively.

    >>> json_safe({"mean": float("nan"), "ci95": [1.0, float("inf")]})
    {'mean': None, 'ci95': [1.0, None]}
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
