"""Demand and lead-time processes, and the vectorised draws sample paths are made of.

Specs are frozen dataclasses checked when built; a bad value raises
:class:`~scenarios.errors.SpecError` naming the field and the value seen, and
``from_dict(data, where)`` prefixes the field with ``where`` (``"demands[2].process"``).
Draws take a :class:`numpy.random.Generator`, never global state, and return arrays
shaped ``(paths, periods, ...)``; no Python loop runs over paths. The draw order,
documented on :func:`draw_demand` and :func:`draw_lead_times`, is part of the contract:
one generator state gives one set of numbers.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Sequence
from dataclasses import MISSING, dataclass, fields, is_dataclass
from typing import Any

import numpy as np
from scipy import special, stats

from scenarios.errors import SpecError

__all__ = ["MAX_MAGNITUDE", "DemandProcess", "Disruption", "Goodwill", "LeadTime", "Promotion", "Seasonality",
           "draw_demand", "draw_lead_times"]

DEMAND_KINDS = ("poisson", "negative-binomial", "normal", "empirical")
LEAD_TIME_KINDS = ("fixed", "discrete", "poisson", "heavy-tailed")
_COMPARE = {">=": operator.ge, ">": operator.gt}  # the rules `_check` understands
#: Largest magnitude of any number in a spec: beyond it, costs summed over paths and periods
#: overflow float64 and integers leave the range numpy and TOML can hold.
MAX_MAGNITUDE = 1e12


# -- validation helpers -------------------------------------------------------------------------


def _number(value: Any, name: str, integer: bool = False) -> Any:
    """Return ``value`` as a float (an int if ``integer``) within ``MAX_MAGNITUDE``, or raise SpecError."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise SpecError(name, f"must be {'an integer' if integer else 'a number'}, got {value!r}")
    value = int(value) if integer else float(value)
    if not math.isfinite(value):
        raise SpecError(name, f"must be finite, got {value}")
    if abs(value) > MAX_MAGNITUDE:
        raise SpecError(name, f"must be within ±{MAX_MAGNITUDE:g}, got {value:g}")
    return value


def _check(obj: Any, name: str, rule: str = "", integer: bool = False) -> None:
    """Check ``obj.name`` against ``rule`` (``">= 0"``, ``"in [0, 1)"``) and store it coerced."""
    value = _number(getattr(obj, name), name, integer)
    if rule.startswith("in "):
        low, high = (float(bound) for bound in rule[4:-1].split(","))
        ok = (value >= low if rule[3] == "[" else value > low) and (
            value <= high if rule[-1] == "]" else value < high)
    else:
        ok = not rule or _COMPARE[rule.split()[0]](value, float(rule.split()[1]))
    if not ok:
        raise SpecError(name, f"must be {rule}, got {value:g}")
    object.__setattr__(obj, name, value)


def _check_sequence(obj: Any, name: str, integer: bool = False) -> None:
    """Store ``obj.name`` as a tuple of finite numbers (ints if ``integer``), each >= 0."""
    value = getattr(obj, name)
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
        raise SpecError(name, f"must be a list of numbers, got {value!r}")
    items = tuple(_number(item, f"{name}[{i}]", integer) for i, item in enumerate(value))
    for i, item in enumerate(items):
        if item < 0:
            raise SpecError(f"{name}[{i}]", f"must be >= 0, got {item:g}")
    object.__setattr__(obj, name, items)


def _check_choice(obj: Any, name: str, choices: tuple[str, ...]) -> None:
    if getattr(obj, name) not in choices:
        raise SpecError(name, f"must be one of {', '.join(choices)}, got {getattr(obj, name)!r}")


def _check_kind(obj: Any, nested: dict[str, type], allowed: dict[str, tuple[str, ...]],
                required: dict[str, tuple[str, ...]]) -> None:
    """Check the nested specs' types; reject fields the kind does not use, demand those it needs."""
    for name, cls in nested.items():
        value = getattr(obj, name)
        if value is not None and not isinstance(value, cls):
            raise SpecError(name, f"must be a {cls.__name__} table, got {value!r}")
    for f in fields(obj):
        value = getattr(obj, f.name)
        used = f.name in allowed[obj.kind] or f.name in nested
        if f.default is not MISSING and value != f.default and not used:
            raise SpecError(f.name, f"is not used by kind {obj.kind!r}, got {value!r}")
    for name in required.get(obj.kind, ()):
        if getattr(obj, name) in (None, ()):
            raise SpecError(name, f"is required for kind {obj.kind!r}")


def _to_dict(obj: Any) -> dict[str, Any]:
    """Return a TOML-ready dict of a spec dataclass, leaving out fields at their defaults."""
    out: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if f.default is MISSING or value != f.default:
            out[f.name] = (_to_dict(value) if is_dataclass(value)
                           else list(value) if isinstance(value, tuple) else value)
    return out


def _from_dict(cls: type, data: Any, where: str, nested: dict[str, type]) -> Any:
    """Build ``cls`` from a dict, naming every bad field with the ``where`` prefix."""
    if not isinstance(data, dict):
        raise SpecError(where, f"must be a table, got {data!r}")
    names = [f.name for f in fields(cls)]
    for key in data:
        if key not in names:
            raise SpecError(f"{where}.{key}", f"unknown key; expected one of {', '.join(names)}")
    for f in fields(cls):
        if f.default is MISSING and f.name not in data:
            raise SpecError(f"{where}.{f.name}", "is required")
    kwargs = dict(data)
    for name, sub in nested.items():
        if kwargs.get(name) is not None:
            kwargs[name] = _from_dict(sub, kwargs[name], f"{where}.{name}", {})
    try:
        return cls(**kwargs)
    except SpecError as err:
        raise SpecError(f"{where}.{err.field}", err.reason) from None


# -- demand -------------------------------------------------------------------------------------


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
        _check(self, "amplitude", "in [0, 1)")
        _check(self, "period", ">= 2", integer=True)
        _check(self, "phase")


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
        _check(self, "probability", "in [0, 1]")
        _check(self, "lift", ">= 1")
        _check(self, "duration", ">= 1", integer=True)

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
        _check(self, "sensitivity", ">= 0")
        _check(self, "recovery", "in [0, 1]")
        _check(self, "floor", "in [0, 1]")


_DEMAND_NESTED = {"seasonality": Seasonality, "promotion": Promotion, "goodwill": Goodwill}


@dataclass(frozen=True)
class DemandProcess:
    """Demand per period of one stream (a demand node and SKU).

    On a path, period ``t`` scales the base demand by ``g = factor(t) * promotion(t) * level``.

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
    """

    kind: str
    mean: float = 0.0
    std: float | None = None
    history: tuple[float, ...] = ()
    trend: float = 0.0
    seasonality: Seasonality | None = None
    promotion: Promotion | None = None
    goodwill: Goodwill | None = None

    def __post_init__(self) -> None:
        _check_choice(self, "kind", DEMAND_KINDS)
        _check(self, "mean", "> 0" if self.kind == "negative-binomial" else ">= 0")
        if self.std is not None:
            _check(self, "std", ">= 0")
        _check_sequence(self, "history")
        _check(self, "trend")
        _check_kind(self, _DEMAND_NESTED,
                    allowed={"poisson": ("mean", "trend"), "empirical": ("history", "trend"),
                             "negative-binomial": ("mean", "std", "trend"),
                             "normal": ("mean", "std", "trend")},
                    required={"negative-binomial": ("std",), "normal": ("std",),
                              "empirical": ("history",)})
        if self.kind == "negative-binomial" and self.std**2 <= self.mean:
            raise SpecError("std", f"must have std**2 > mean = {self.mean:g}, got {self.std:g}")

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
        return self.factor(periods) * self._promotion_mean() * self._unit_mean(1.0)

    def to_dict(self) -> dict[str, Any]:
        """Return a TOML-ready dict; fields at their defaults are left out."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> DemandProcess:
        """Build from a dict such as :meth:`to_dict` gives; errors name ``where.<field>``."""
        return _from_dict(cls, data, where, _DEMAND_NESTED)

    def _promotion_mean(self) -> float:
        return 1.0 if self.promotion is None else self.promotion.expected_multiplier

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
        path's ``level`` and ``cv`` (``level * mean_at(t)`` when ``cv == 1``).
    """
    processes = tuple(processes)
    streams = len(processes)
    _check_shape(paths, periods)
    level = _per_path(level, paths, "level", ">= 0")
    cv = _per_path(cv, paths, "cv", "> 0")
    factor = np.empty((paths, periods, streams))  # everything multiplying the mean
    for s, proc in enumerate(processes):
        promotion = _promotion_multiplier(proc.promotion, paths, periods, rng)
        factor[:, :, s] = proc.factor(periods) * level[:, None] * promotion
    root = _correlation_root(correlation, streams)
    normals = None if root is None else rng.standard_normal((paths, periods, streams)) @ root.T
    demand = np.empty((paths, periods, streams))
    expected = np.empty((paths, periods, streams))
    for s, proc in enumerate(processes):
        z = None if normals is None else normals[:, :, s]
        demand[:, :, s] = _draw_stream(proc, factor[:, :, s], cv[:, None], z, rng)
        unit = level * proc._unit_mean(cv) * proc._promotion_mean()
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


def _check_shape(paths: int, periods: int) -> None:
    for name, value in (("paths", paths), ("periods", periods)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise SpecError(name, f"must be an integer >= 1, got {value!r}")


def _per_path(values: np.ndarray | None, paths: int, name: str, rule: str) -> np.ndarray:
    """Return a validated per-path multiplier ``(paths,)``; ones when ``values`` is None."""
    if values is None:
        return np.ones(paths)
    out = np.asarray(values, dtype=float)
    if out.shape != (paths,):
        raise SpecError(name, f"must have shape ({paths},), got {out.shape}")
    low = out.min()
    if not np.all(np.isfinite(out)) or not _COMPARE[rule[:-2]](low, 0):
        raise SpecError(name, f"must be finite and {rule}, got min {low:g}")
    return out


# -- lead times ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Disruption:
    """Supplier disruptions on an arc.

    Each period not already disrupted, a disruption starts with ``probability``; the
    arc ships nothing in that period and the next ``duration - 1``. The long-run share
    of disrupted periods is ``p d / (1 - p + p d)``; period 0 starts from the
    stationary state, so every period has that share.

    :param probability: chance a disruption starts, in [0, 1].
    :param duration: periods a disruption lasts, ``>= 1``.
    """

    probability: float
    duration: int

    def __post_init__(self) -> None:
        _check(self, "probability", "in [0, 1]")
        _check(self, "duration", ">= 1", integer=True)

    @property
    def stationary_fraction(self) -> float:
        """Long-run share of disrupted periods."""
        p, d = self.probability, self.duration
        return p * d / (1 - p + p * d)


@dataclass(frozen=True)
class LeadTime:
    """Lead-time distribution of an arc, in whole periods.

    ``fixed``: ``value``. ``discrete``: ``values`` with ``probabilities``. ``poisson``:
    ``value + Poisson(mean)``. ``heavy-tailed``: ``value + floor(scale * Lomax(shape))``.
    The last two are capped at ``maximum``.

    :param kind: ``"fixed"``, ``"discrete"``, ``"poisson"`` or ``"heavy-tailed"``.
    :param value: the fixed lead time, or the minimum (poisson, heavy-tailed), ``>= 0``.
    :param values: support of a discrete lead time, distinct integers ``>= 0``.
    :param probabilities: their probabilities, each ``>= 0``, summing to 1 within 1e-9.
    :param mean: mean extra delay beyond ``value`` before the cap (poisson), ``>= 0``.
    :param shape: Lomax tail index (heavy-tailed), ``> 1``.
    :param scale: Lomax scale (heavy-tailed), ``> 0``.
    :param maximum: cap on every draw, ``>= value``; required for poisson and
        heavy-tailed, so that the pipeline can be sized.
    :param disruption: optional :class:`Disruption` of the arc.
    """

    kind: str
    value: int = 0
    values: tuple[int, ...] = ()
    probabilities: tuple[float, ...] = ()
    mean: float = 0.0
    shape: float = 0.0
    scale: float = 0.0
    maximum: int | None = None
    disruption: Disruption | None = None

    def __post_init__(self) -> None:
        _check_choice(self, "kind", LEAD_TIME_KINDS)
        heavy = self.kind == "heavy-tailed"
        _check(self, "value", ">= 0", integer=True)
        _check_sequence(self, "values", integer=True)
        _check_sequence(self, "probabilities")
        _check(self, "mean", ">= 0")
        _check(self, "shape", "> 1" if heavy else ">= 0")
        _check(self, "scale", "> 0" if heavy else ">= 0")
        if self.maximum is not None:
            _check(self, "maximum", f">= {self.value}", integer=True)
        _check_kind(self, {"disruption": Disruption},
                    allowed={"fixed": ("value",), "discrete": ("values", "probabilities"),
                             "poisson": ("value", "mean", "maximum"),
                             "heavy-tailed": ("value", "shape", "scale", "maximum")},
                    required={"discrete": ("values",), "poisson": ("maximum",),
                              "heavy-tailed": ("maximum",)})
        if len(self.probabilities) != len(self.values):
            raise SpecError("probabilities", f"must have one entry per value ({len(self.values)}), "
                                             f"got {len(self.probabilities)}")
        total = math.fsum(self.probabilities)
        if self.probabilities and abs(total - 1) > 1e-9:
            raise SpecError("probabilities", f"must sum to 1, got {total!r}")
        if len(set(self.values)) != len(self.values):
            raise SpecError("values", f"must be distinct, got {list(self.values)}")

    @property
    def max_value(self) -> int:
        """Largest lead time any draw can take."""
        if self.kind == "fixed":
            return self.value
        return max(self.values) if self.kind == "discrete" else self.maximum

    @property
    def expected(self) -> float:
        """Expected lead time, exact under the cap."""
        if self.kind == "fixed":
            return float(self.value)
        if self.kind == "discrete":
            return float(np.dot(self.values, self.probabilities))
        # E[min(X, K)] = sum_{k<K} P(X > k) for the whole extra delay X and cap K
        k = np.arange(self.maximum - self.value)
        if self.kind == "poisson":
            tail = stats.poisson.sf(k, self.mean)
        else:  # P(floor(scale Y) > k) = P(Y >= (k + 1) / scale), Lomax sf (1 + y)**-shape
            tail = (1 + (k + 1) / self.scale) ** -self.shape
        return self.value + float(np.sum(tail))

    def to_dict(self) -> dict[str, Any]:
        """Return a TOML-ready dict; fields at their defaults are left out."""
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | int, where: str) -> LeadTime:
        """Build from a dict such as :meth:`to_dict` gives, or a bare int (fixed)."""
        if isinstance(data, numbers.Integral) and not isinstance(data, bool):
            data = {"kind": "fixed", "value": data}
        elif not isinstance(data, dict):
            raise SpecError(where, f"must be a table or a whole number of periods, got {data!r}")
        return _from_dict(cls, data, where, {"disruption": Disruption})


def draw_lead_times(lead_times: Sequence[LeadTime], paths: int, periods: int,
                    rng: np.random.Generator,
                    scale: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Draw the lead time of a shipment sent in each period on each arc, and disruptions.

    Draw order (fixed): arc by arc, ``(paths, periods)`` lead times: ``rng.choice``
    (discrete; then ``rng.random`` for stochastic rounding if any ``scale != 1``),
    ``rng.poisson`` (poisson), ``rng.pareto`` (heavy-tailed), nothing (fixed). Then, if
    any arc has a disruption, ``rng.random((paths, k))`` over the ``k`` disrupted arcs
    for the stationary start state, and one more such array per period.

    :param lead_times: one distribution per arc.
    :param paths: number of sample paths, ``>= 1``.
    :param periods: number of periods, ``>= 1``.
    :param rng: the generator to draw from.
    :param scale: ``(paths,)`` multiplier on the extra delay beyond the minimum, ``>= 0``;
        default 1. It scales the Poisson mean, the Lomax scale, or the distance above
        the smallest discrete value (stochastically rounded); fixed lead times ignore
        it. Draws stay capped at ``max_value``.
    :return: ``(lead_time, disrupted)``, int64 and bool ``(paths, periods, arcs)``.
    """
    lead_times = tuple(lead_times)
    _check_shape(paths, periods)
    c = _per_path(scale, paths, "scale", ">= 0")[:, None]
    size = (paths, periods)
    lead_time = np.empty((paths, periods, len(lead_times)), dtype=np.int64)
    for a, lt in enumerate(lead_times):
        if lt.kind == "fixed":
            draw = np.full(size, float(lt.value))
        elif lt.kind == "discrete":
            low = min(lt.values)
            draw = rng.choice(np.asarray(lt.values, dtype=float), size=size, p=lt.probabilities)
            if np.any(c != 1):
                extra = (draw - low) * c
                draw = low + np.floor(extra) + (rng.random(size) < extra - np.floor(extra))
        elif lt.kind == "poisson":
            draw = lt.value + rng.poisson(lt.mean * c, size=size)
        else:
            draw = lt.value + np.floor(lt.scale * c * rng.pareto(lt.shape, size=size))
        lead_time[:, :, a] = np.minimum(draw, lt.max_value)
    return lead_time, _draw_disruptions(lead_times, paths, periods, rng)


def _draw_disruptions(lead_times: tuple[LeadTime, ...], paths: int, periods: int,
                      rng: np.random.Generator) -> np.ndarray:
    """Return disrupted flags ``(paths, periods, arcs)``, looping over periods only."""
    disrupted = np.zeros((paths, periods, len(lead_times)), dtype=bool)
    arcs = [a for a, lt in enumerate(lead_times) if lt.disruption is not None]
    if not arcs:
        return disrupted
    p = np.array([lead_times[a].disruption.probability for a in arcs])
    d = np.array([lead_times[a].disruption.duration for a in arcs])
    # remaining = disrupted periods still due, this one included. Its stationary law at the
    # start of a period: 0 with probability q = 1 / (1 + (d - 1) p), each of 1..d-1 with q p.
    q = 1 / (1 + (d - 1) * p)
    u = rng.random((paths, len(arcs)))
    first = 1 + np.floor((u - q) / np.where(p > 0, q * p, 1.0))
    remaining = np.where(u < q, 0, np.minimum(first, d - 1)).astype(np.int64)
    for t in range(periods):
        start = (remaining == 0) & (rng.random((paths, len(arcs))) < p)
        disrupted[:, t, arcs] = (remaining > 0) | start
        remaining = np.where(start, d - 1, np.maximum(remaining - 1, 0))
    return disrupted
