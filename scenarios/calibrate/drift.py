"""Drift: does recent demand still follow the scenario's processes? One test per node and SKU.

Each observed demand ``y_t`` is mapped through its process's distribution at that period
(mean ``mean * factor(t)``, times the lift on promoted days) to a probability integral transform
(PIT), randomised for the discrete families: ``u_t = F(y_t - 1) + V (F(y_t) - F(y_t - 1))`` with
``V ~ U(0, 1)`` (Czado, Gneiting & Held 2009; the normal's mass at 0 from clipping is treated the
same way). If the process is right, the ``u_t`` are iid uniform whatever the season, trend or
family, and the Kolmogorov-Smirnov test against U(0, 1) says how surprising they are. A stream
drifts when its p-value is below ``alpha / streams`` (Bonferroni: ``alpha`` bounds the chance
of any false alarm over all streams). Without promotion flags, a period's distribution is the
mixture of promoted (with the process's chance of a promotion) and not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from scenarios.calibrate.history import History
from scenarios.errors import SpecError
from scenarios.processes import DemandProcess
from scenarios.spec import Spec

__all__ = ["DriftReport", "StreamDrift", "drift", "pit"]


@dataclass(frozen=True)
class StreamDrift:
    """The drift test of one node and SKU.

    :param node: node id.
    :param sku: SKU id.
    :param periods: periods tested.
    :param statistic: the KS statistic of the PITs against U(0, 1).
    :param p_value: its p-value.
    :param drifted: ``p_value < threshold`` of the report.
    :param observed_mean: mean demand observed.
    :param expected_mean: mean demand the process expects over the same periods.
    """

    node: str
    sku: str
    periods: int
    statistic: float
    p_value: float
    drifted: bool
    observed_mean: float
    expected_mean: float


@dataclass(frozen=True)
class DriftReport:
    """Every stream's test; ``threshold = alpha / streams``."""

    alpha: float
    threshold: float
    streams: tuple[StreamDrift, ...]

    @property
    def drifted(self) -> list[str]:
        """``node/sku`` of the streams that drifted: recalibrate when any did."""
        return [f"{s.node}/{s.sku}" for s in self.streams if s.drifted]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report."""
        return {"test": "KS of randomised PITs against U(0,1), Bonferroni over streams",
                "alpha": self.alpha, "threshold": self.threshold, "drifted": self.drifted,
                "streams": [s.__dict__ for s in self.streams]}


def _cdf(process: DemandProcess, y: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``P(D <= y)`` at per-period mean ``mean`` (``scale`` = everything multiplying the base mean)."""
    if process.kind == "poisson":
        return stats.poisson.cdf(y, mean)
    if process.kind == "negative-binomial":
        n = process.mean**2 / (process.std**2 - process.mean)
        return stats.nbinom.cdf(y, n, n / (n + mean))
    if process.kind == "normal":  # clipped at 0: P(D <= y) = P(X <= y) for y >= 0
        sd = np.maximum(process.std * scale, 1e-12)
        return np.where(y < 0, 0.0, stats.norm.cdf(y, mean, sd))
    history = np.sort(np.asarray(process.history))
    return np.searchsorted(history, y / np.maximum(scale, 1e-12), side="right") / history.size


def pit(process: DemandProcess, demand: np.ndarray, periods: np.ndarray, promoted: np.ndarray | None,
        rng: np.random.Generator) -> np.ndarray:
    """Randomised PITs ``(n,)`` of ``demand`` observed at scenario periods ``periods`` under ``process``.

    :param promoted: ``(n,)`` bool promotion flags, or ``None`` (then the promotion mixture).
    """
    factor = process.factor(int(periods.max()) + 1)[periods]
    promo = process.promotion
    if promo is None:
        cases = [(1.0, np.ones_like(factor))]
    elif promoted is not None:
        cases = [(1.0, np.where(promoted, promo.lift, 1.0))]
    else:
        q = 1 - (1 - promo.probability) ** promo.duration
        cases = [(1 - q, np.ones_like(factor)), (q, np.full_like(factor, promo.lift))]
    unit = 1.0 if process.kind == "empirical" else process.mean
    below = np.zeros_like(factor)
    upto = np.zeros_like(factor)
    for weight, lift in cases:
        scale = factor * lift
        discrete = process.integer
        below += weight * (_cdf(process, demand - 1, unit * scale, scale) if discrete
                           else np.where(demand <= 0, 0.0, _cdf(process, demand, unit * scale, scale)))
        upto += weight * _cdf(process, demand, unit * scale, scale)
    return below + rng.random(demand.shape) * (upto - below)


def drift(spec: Spec, history: History, start_period: int = 0, alpha: float = 0.01,
          seed: int = 0) -> DriftReport:
    """Test every stream of ``history`` against its process in ``spec``.

    :param spec: the scenario (e.g. calibrated on older history).
    :param history: recent demand; its period 0 is the scenario's period ``start_period`` (a
        calibrated scenario's period 0 is the period after the history it was fitted to).
    :param alpha: family-wise false-alarm rate over the streams.
    :param seed: seed of the PIT randomisation.
    :raises SpecError: a stream the scenario has no process for, a bad ``alpha`` or ``start_period``.
    """
    if not 0 < alpha < 1:
        raise SpecError("alpha", f"must be in (0, 1), got {alpha}")
    if start_period < 0:
        raise SpecError("start_period", f"must be >= 0, got {start_period}")
    processes = {(d.node, d.sku): d.process for d in spec.demands}
    threshold = alpha / len(history.streams)
    rng = np.random.default_rng(seed)
    out = []
    for s in history.streams:
        if (s.node, s.sku) not in processes:
            raise SpecError(f"{history.source} row {history.rows[s.node, s.sku]}, node",
                            f"{s.node}/{s.sku} has no demand process in {spec.name!r}")
        process = processes[s.node, s.sku]
        periods = start_period + s.start + np.arange(s.demand.size)
        u = pit(process, s.demand, periods, s.promotion, rng)
        test = stats.kstest(u, "uniform")
        expected = float(process.mean_at(int(periods.max()) + 1)[periods].mean())
        out.append(StreamDrift(s.node, s.sku, int(s.demand.size), float(test.statistic), float(test.pvalue),
                               bool(test.pvalue < threshold), float(s.demand.mean()), expected))
    return DriftReport(alpha, threshold, tuple(out))
