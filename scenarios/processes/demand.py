"""Demand processes and :func:`draw_demand`, the vectorised demand draw of sample paths."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from scenarios.errors import SpecError
from scenarios.processes.regime import DemandRegime, draw_chain
from scenarios.processes.validation import (
    check,
    check_choice,
    check_kind,
    check_sequence,
    check_shape,
    per_path,
    spec_from_dict,
    spec_to_dict,
)

DEMAND_KINDS = ("poisson", "negative-binomial", "normal", "empirical")


@dataclass(frozen=True)
class Seasonality:
    """Multiplicative season factor ``1 + amplitude * sin(2 pi (t + phase) / period)``.

    :param amplitude: relative swing, in [0, 1) so the factor stays positive.
    :param period: season length in periods, ``>= 2``.
    :param phase: shift in periods.
    """

    amplitude: float
    period: int
    phase: float = 0.0

    def __post_init__(self) -> None:
        check(self, "amplitude", "in [0, 1)")
        check(self, "period", ">= 2", integer=True)
        check(self, "phase")


@dataclass(frozen=True)
class Promotion:
    """Random promotion shocks.

    Each period a promotion starts with ``probability``; it covers that period and the
    next ``duration - 1`` and multiplies the mean by ``lift``. Overlaps do not compound.
    Starts are drawn for the ``duration - 1`` periods before period 0 too, so every
    period is promoted with the same chance ``1 - (1 - probability) ** duration``.

    :param probability: chance a promotion starts in a period, in [0, 1].
    :param lift: multiplier on the mean while promoted, ``>= 1``.
    :param duration: periods a promotion lasts, ``>= 1``.
    """

    probability: float
    lift: float
    duration: int = 1

    def __post_init__(self) -> None:
        check(self, "probability", "in [0, 1]")
        check(self, "lift", ">= 1")
        check(self, "duration", ">= 1", integer=True)

    @property
    def expected_multiplier(self) -> float:
        """Expected multiplier on the mean in any period."""
        return 1 + (self.lift - 1) * (1 - (1 - self.probability) ** self.duration)


@dataclass(frozen=True)
class Goodwill:
    """Unmet demand lowers later demand; stored and checked here, applied by the simulator.

    :param sensitivity: how strongly unmet demand lowers the demand level, ``>= 0``.
    :param recovery: share of the lost level recovered per period, in [0, 1].
    :param floor: lowest demand level as a share of the normal one, in [0, 1].
    """

    sensitivity: float
    recovery: float
    floor: float = 0.0

    def __post_init__(self) -> None:
        check(self, "sensitivity", ">= 0")
        check(self, "recovery", "in [0, 1]")
        check(self, "floor", "in [0, 1]")


_DEMAND_NESTED = {"seasonality": Seasonality, "promotion": Promotion, "goodwill": Goodwill,
                  "regime": DemandRegime}


@dataclass(frozen=True)
class DemandProcess:
    """Demand per period of one stream (a demand node and SKU).

    On a path, period ``t`` scales the base demand by ``g = factor(t) * promotion(t) * level``
    (times the hidden regime's mean multiplier, with a ``regime``).

    - ``poisson``: Poisson(``g mean``).
    - ``negative-binomial``: Poisson-gamma mixture with mean ``m = g mean`` and
      ``n = mean**2 / (std**2 - mean)`` held fixed, so the variance is ``m + m**2 / n``.
      (A constant CV would push the variance below the mean when ``g`` is small, which
      no negative binomial can do.)
    - ``normal``: ``N(g mean, (g std)**2)``, a constant CV, clipped at 0; the clipping
      raises the mean, and :meth:`mean_at` reports the clipped mean.
    - ``empirical``: ``history`` resampled iid, times ``g``; an integer history is
      rounded stochastically (unbiased) when ``g != 1``. ``mean`` must be left unset:
      the history's mean is used.

    :param kind: ``"poisson"``, ``"negative-binomial"``, ``"normal"`` or ``"empirical"``.
    :param mean: mean per period at factor 1, ``>= 0`` (``> 0`` for negative-binomial).
    :param std: standard deviation at factor 1; normal (``>= 0``) and negative-binomial
        (``std**2 > mean``) only.
    :param history: past demands to bootstrap from, each ``>= 0``; empirical only.
    :param trend: relative growth per period; the factor ``1 + trend * t`` is clipped at 0.
    :param seasonality: optional :class:`Seasonality`.
    :param promotion: optional :class:`Promotion`.
    :param goodwill: optional :class:`Goodwill`, applied by the simulator.
    :param regime: optional hidden :class:`~scenarios.processes.regime.DemandRegime`;
        :meth:`mean_at` and the expected demand of sample paths average over its
        stationary distribution (they never reveal the state of a path).
    """

    kind: str
    mean: float = 0.0
    std: float | None = None
    history: tuple[float, ...] = ()
    trend: float = 0.0
    seasonality: Seasonality | None = None
    promotion: Promotion | None = None
    goodwill: Goodwill | None = None
    regime: DemandRegime | None = None

    def __post_init__(self) -> None:
        check_choice(self, "kind", DEMAND_KINDS)
        check(self, "mean", "> 0" if self.kind == "negative-binomial" else ">= 0")
        if self.std is not None:
            check(self, "std", ">= 0")
        check_sequence(self, "history")
        check(self, "trend")
        check_kind(self, _DEMAND_NESTED,
                    allowed={"poisson": ("mean", "trend"), "empirical": ("history", "trend"),
                             "negative-binomial": ("mean", "std", "trend"),
                             "normal": ("mean", "std", "trend")},
                    required={"negative-binomial": ("std",), "normal": ("std",),
                              "empirical": ("history",)})
        if self.kind == "negative-binomial" and self.std**2 <= self.mean:
            raise SpecError("std", f"must have std**2 > mean = {self.mean:g}, got {self.std:g}")
        if self.regime is not None and self.kind in ("poisson", "empirical") and any(
                c != 1 for c in self.regime.cv):
            raise SpecError("regime.cv", f"must be 1 in every state for kind {self.kind!r} (it has "
                            f"no variability of its own to scale), got {list(self.regime.cv)}")

    @property
    def integer(self) -> bool:
        """Whether draws are whole numbers."""
        if self.kind == "empirical":
            return all(value.is_integer() for value in self.history)
        return self.kind != "normal"

    def factor(self, periods: int) -> np.ndarray:
        """Return the deterministic factor, trend times seasonality, shape ``(periods,)``."""
        t = np.arange(periods, dtype=float)
        out = np.maximum(1 + self.trend * t, 0.0)
        if self.seasonality is not None:
            s = self.seasonality
            out = out * (1 + s.amplitude * np.sin(2 * np.pi * (t + s.phase) / s.period))
        return out

    def mean_at(self, periods: int) -> np.ndarray:
        """Return the expected demand per period, promotions included, shape ``(periods,)``."""
        return self.factor(periods) * self._promotion_mean() * self._regime_mean(np.ones(1))[0]

    def to_dict(self) -> dict[str, Any]:
        """Return a TOML-ready dict; fields at their defaults are left out."""
        return spec_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> DemandProcess:
        """Build from a dict such as :meth:`to_dict` gives; errors name ``where.<field>``."""
        return spec_from_dict(cls, data, where, _DEMAND_NESTED)

    def _promotion_mean(self) -> float:
        return 1.0 if self.promotion is None else self.promotion.expected_multiplier

    def _regime_mean(self, cv: np.ndarray) -> np.ndarray:
        """Return the expected draw at factor 1 ``(paths,)`` for per-path CV multipliers ``cv``.

        With a regime: the stationary average over its states of ``mean[k]`` times the
        expected draw at CV multiplier ``cv * cv[k]`` (this is what a forecaster who
        cannot see the state expects).
        """
        if self.regime is None:
            return np.broadcast_to(self._unit_mean(cv), cv.shape).astype(float)
        r = self.regime
        return sum(w * m * np.broadcast_to(self._unit_mean(cv * c), cv.shape)
                   for w, m, c in zip(r.stationary, r.mean, r.cv, strict=True))

    def _unit_mean(self, cv: float | np.ndarray) -> float | np.ndarray:
        """Return the expected draw at factor 1 under the CV multiplier ``cv``."""
        if self.kind == "empirical":
            return float(np.mean(self.history))
        if self.kind == "normal":
            return _clipped_normal_mean(self.mean, self.std * np.asarray(cv, dtype=float))
        return self.mean


def _clipped_normal_mean(mu: float, sigma: np.ndarray) -> np.ndarray:
    """Return ``E[max(X, 0)]`` for ``X ~ N(mu, sigma**2)``, ``mu`` where ``sigma == 0``."""
    safe = np.where(sigma > 0, sigma, 1.0)
    return np.where(sigma > 0, mu * special.ndtr(mu / safe) + safe * stats.norm.pdf(mu / safe), mu)


def draw_demand(processes: Sequence[DemandProcess], paths: int, periods: int,
                rng: np.random.Generator, correlation: float | np.ndarray = 0.0,
                level: np.ndarray | None = None,
                cv: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Draw demand for every stream on every path.

    Draw order (fixed; one generator state gives one result):

    1. promotion starts, stream by stream (streams with a promotion only):
       ``rng.random((paths, periods + duration - 1))`` each;
    1b. hidden regimes, stream by stream (streams with a regime only; a shared chain is
       drawn at the first stream that uses it): :func:`~scenarios.processes.regime.draw_chain`,
       one ``rng.random((paths, periods))`` each;
    2. demand. If the correlation is zero everywhere, stream by stream, ``(paths,
       periods)`` each: ``rng.poisson``, ``rng.negative_binomial``,
       ``rng.standard_normal`` or ``rng.integers`` (bootstrap indices). Otherwise one
       ``rng.standard_normal((paths, periods, streams))`` correlated through a Gaussian
       copula and mapped through each stream's quantile function;
    3. stochastic rounding, stream by stream, for integer empirical streams whose
       factor is not 1 everywhere: ``rng.random((paths, periods))`` each.

    :param processes: one process per stream.
    :param paths: number of sample paths, ``>= 1``.
    :param periods: number of periods, ``>= 1``.
    :param rng: the generator to draw from.
    :param correlation: the copula's correlation: ``rho`` in [0, 1) between every pair of
        streams, or a ``(streams, streams)`` matrix (symmetric, unit diagonal, PSD).
    :param level: ``(paths,)`` multiplier on the mean per path, ``>= 0``; default 1.
    :param cv: ``(paths,)`` multiplier on the variability per path, ``> 0``; default 1.
        Normal: scales ``std``. Negative binomial: scales the CV of the gamma mixing
        distribution (``n -> n / cv**2``). Poisson and empirical: ignored.
    :return: ``(demand, expected)``, float64 ``(paths, periods, streams)``: ``demand >= 0``,
        whole for integer processes; ``expected`` is the mean of each draw given the
        path's ``level`` and ``cv`` (``level * mean_at(t)`` when ``cv == 1``), averaged over
        a regime's stationary distribution: it never reveals the hidden state.
    """
    processes = tuple(processes)
    streams = len(processes)
    check_shape(paths, periods)
    level = per_path(level, paths, "level", ">= 0")
    cv = per_path(cv, paths, "cv", "> 0")
    factor = np.empty((paths, periods, streams))  # everything multiplying the mean
    for s, proc in enumerate(processes):
        promotion = _promotion_multiplier(proc.promotion, paths, periods, rng)
        factor[:, :, s] = proc.factor(periods) * level[:, None] * promotion
    stream_cv = [cv[:, None]] * streams  # (paths, 1), or (paths, periods) under a regime
    chains: dict[tuple, np.ndarray] = {}
    for s, proc in enumerate(processes):
        if proc.regime is not None:
            r = proc.regime
            key = ("shared", r.transition) if r.shared else ("stream", s)
            if key not in chains:
                chains[key] = draw_chain(r.transition, paths, periods, rng)
            factor[:, :, s] *= np.asarray(r.mean)[chains[key]]
            stream_cv[s] = cv[:, None] * np.asarray(r.cv)[chains[key]]
    root = _correlation_root(correlation, streams)
    normals = None if root is None else rng.standard_normal((paths, periods, streams)) @ root.T
    demand = np.empty((paths, periods, streams))
    expected = np.empty((paths, periods, streams))
    for s, proc in enumerate(processes):
        z = None if normals is None else normals[:, :, s]
        demand[:, :, s] = _draw_stream(proc, factor[:, :, s], stream_cv[s], z, rng)
        unit = level * proc._regime_mean(cv) * proc._promotion_mean()
        expected[:, :, s] = unit[:, None] * proc.factor(periods)
    for s, proc in enumerate(processes):
        if proc.kind == "empirical" and proc.integer and np.any(factor[:, :, s] != 1):
            floor = np.floor(demand[:, :, s])
            demand[:, :, s] = floor + (rng.random((paths, periods)) < demand[:, :, s] - floor)
    return demand, expected


def _draw_stream(proc: DemandProcess, factor: np.ndarray, cv: np.ndarray,
                 z: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """Draw one stream ``(paths, periods)`` directly, or as quantiles of copula normals ``z``."""
    u = None if z is None else np.clip(special.ndtr(z), 1e-300, 1 - 2**-53)
    mean = proc.mean * factor
    if proc.kind == "poisson":
        return rng.poisson(mean).astype(float) if u is None else _poisson_quantile(u, mean)
    if proc.kind == "negative-binomial":
        n = proc.mean**2 / (proc.std**2 - proc.mean) / cv**2
        p = n / (n + mean)
        return rng.negative_binomial(n, p).astype(float) if u is None else stats.nbinom.ppf(u, n, p)
    if proc.kind == "normal":
        z = rng.standard_normal(factor.shape) if z is None else z
        return np.maximum(mean + proc.std * factor * cv * z, 0.0)
    history = np.sort(np.asarray(proc.history))
    if u is None:
        index = rng.integers(0, history.size, size=factor.shape)
    else:  # the empirical quantile function
        index = np.minimum((u * history.size).astype(np.int64), history.size - 1)
    return history[index] * factor


def _poisson_quantile(u: np.ndarray, lam: np.ndarray, steps: int = 4) -> np.ndarray:
    """Return ``stats.poisson.ppf(u, lam)``, several times faster.

    scipy inverts the cdf numerically. Here a Cornish-Fisher guess is moved by unit
    steps while the exact cdf says it is off; it usually settles within a step or two,
    and whatever has not settled after ``steps`` falls back to scipy.
    """
    shape, u, lam = u.shape, u.ravel(), lam.ravel()
    z = special.ndtri(u)
    skew = np.divide(1.0, np.sqrt(lam), out=np.zeros_like(lam), where=lam > 0)
    k = np.maximum(np.floor(lam + np.sqrt(lam) * (z + skew * (z**2 - 1) / 6)), 0)
    todo = np.arange(u.size)
    for _ in range(steps):
        too_low = special.pdtr(k[todo], lam[todo]) < u[todo]
        too_high = ~too_low & (k[todo] > 0)
        high = todo[too_high]
        too_high[too_high] = special.pdtr(k[high] - 1, lam[high]) >= u[high]
        k[todo] += too_low.astype(float) - too_high
        todo = todo[too_low | too_high]
    k[todo] = stats.poisson.ppf(u[todo], lam[todo])
    return k.reshape(shape)


def _promotion_multiplier(promotion: Promotion | None, paths: int, periods: int,
                          rng: np.random.Generator) -> np.ndarray | float:
    """Return ``lift`` where a promotion started in the last ``duration`` periods, else 1."""
    if promotion is None:
        return 1.0
    d = promotion.duration
    starts = rng.random((paths, periods + d - 1)) < promotion.probability
    counts = np.concatenate([np.zeros((paths, 1), np.int64), np.cumsum(starts, axis=1)], axis=1)
    return np.where(counts[:, d:] - counts[:, :-d] > 0, promotion.lift, 1.0)


def _correlation_root(correlation: float | np.ndarray, streams: int) -> np.ndarray | None:
    """Return ``A`` with ``A @ A.T == R``, or None when the streams are independent."""
    corr = np.asarray(correlation, dtype=float)
    if corr.ndim == 0:
        if not 0 <= corr < 1:
            raise SpecError("correlation", f"must be in [0, 1) or a matrix, got {corr:g}")
        corr = np.full((streams, streams), corr) + (1 - corr) * np.eye(streams)
    if corr.shape != (streams, streams):
        raise SpecError("correlation", f"must be {streams}x{streams}, got shape {corr.shape}")
    if not np.all(np.isfinite(corr)) or not np.allclose(corr, corr.T, rtol=0, atol=1e-12):
        raise SpecError("correlation", f"must be finite and symmetric, got {corr.tolist()}")
    if not np.allclose(np.diag(corr), 1, rtol=0, atol=1e-12):
        raise SpecError("correlation", f"must have a unit diagonal, got {np.diag(corr).tolist()}")
    eigenvalues, eigenvectors = np.linalg.eigh(corr)
    if streams and eigenvalues[0] < -1e-10:
        raise SpecError("correlation", f"must be positive semi-definite, got smallest "
                                       f"eigenvalue {eigenvalues[0]:.3g}")
    if np.array_equal(corr, np.eye(streams)):
        return None
    try:
        return np.linalg.cholesky(corr)
    except np.linalg.LinAlgError:  # PSD but singular: any square root will do
        return eigenvectors * np.sqrt(np.maximum(eigenvalues, 0.0))
