"""Demand forecasts for the rolling-horizon planner.

``mean`` reads the process's mean on the path (``SamplePaths.expected_demand``,
a perfect-knowledge forecast of the *mean*, never of the draw). ``quantile``
maps that mean through the process's distribution. ``moving-average``
treats the process as unknown and averages the demand observed so far.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from scenarios.processes import DemandProcess

__all__ = ["demand_quantile", "FORECASTS"]

FORECASTS = ("mean", "quantile", "moving-average")


def demand_quantile(process: DemandProcess, mean: np.ndarray, q: float) -> np.ndarray:
    """The ``q``-quantile of one period's demand of ``process`` when its mean is ``mean``.

    Approximations: the per-path variability multiplier of domain
    randomisation is taken as 1 and promotions only shift the mean.

    * Poisson: ``Poisson(mean)``.
    * negative binomial: the process's ``n = mean0**2 / (std**2 - mean0)`` held fixed,
      ``p = n / (n + mean)`` (as :func:`scenarios.processes.draw_demand` draws it).
    * normal: ``max(mean + z_q * std * mean / mean0, 0)`` (a constant CV).
    * empirical: the history's ``q``-quantile scaled by ``mean / mean(history)``.

    :param process: the stream's demand process.
    :param mean: expected demand, any shape.
    :param q: the quantile, in (0, 1).
    :return: an array shaped like ``mean``.
    """
    mean = np.asarray(mean, dtype=float)
    if process.kind == "poisson":
        return stats.poisson.ppf(q, mean).astype(float)
    if process.kind == "negative-binomial":
        n = process.mean**2 / (process.std**2 - process.mean)
        return stats.nbinom.ppf(q, n, n / (n + np.maximum(mean, 1e-12))).astype(float)
    if process.kind == "normal":
        scale = mean / process.mean if process.mean > 0 else np.zeros_like(mean)
        return np.maximum(mean + stats.norm.ppf(q) * process.std * scale, 0.0)
    history = np.asarray(process.history, dtype=float)
    level = history.mean()
    scale = mean / level if level > 0 else np.zeros_like(mean)
    return np.quantile(history, q) * scale
