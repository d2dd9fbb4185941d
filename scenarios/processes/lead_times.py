"""Lead-time distributions, supplier disruptions and :func:`draw_lead_times`."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from scenarios.errors import SpecError
from scenarios.processes.regime import SupplyRegime, draw_chain
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

LEAD_TIME_KINDS = ("fixed", "discrete", "poisson", "heavy-tailed")


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
        check(self, "probability", "in [0, 1]")
        check(self, "duration", ">= 1", integer=True)

    @property
    def stationary_fraction(self) -> float:
        """Long-run share of disrupted periods."""
        p, d = self.probability, self.duration
        return p * d / (1 - p + p * d)


_LEAD_TIME_NESTED = {"disruption": Disruption, "regime": SupplyRegime}


@dataclass(frozen=True)
class LeadTime:
    """Lead-time distribution of an arc, in whole periods.

    ``fixed``: ``value``. ``discrete``: ``values`` with ``probabilities``. ``poisson``:
    ``value + Poisson(mean)``. ``heavy-tailed``: ``value + floor(scale * Lomax(shape))``.
    The last two are capped at ``maximum``. A hidden ``regime`` adds its state's delay to
    every draw and its state's disruptions to the arc's.

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
    :param regime: optional hidden :class:`~scenarios.processes.regime.SupplyRegime`:
        Markov-modulated disruptions and lead-time delays.
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
    regime: SupplyRegime | None = None

    def __post_init__(self) -> None:
        check_choice(self, "kind", LEAD_TIME_KINDS)
        heavy = self.kind == "heavy-tailed"
        check(self, "value", ">= 0", integer=True)
        check_sequence(self, "values", integer=True)
        check_sequence(self, "probabilities")
        check(self, "mean", ">= 0")
        check(self, "shape", "> 1" if heavy else ">= 0")
        check(self, "scale", "> 0" if heavy else ">= 0")
        if self.maximum is not None:
            check(self, "maximum", f">= {self.value}", integer=True)
        check_kind(self, _LEAD_TIME_NESTED,
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
        """Largest lead time any draw can take, a regime's longest delay included."""
        return self._max_base + (max(self.regime.delay) if self.regime is not None else 0)

    @property
    def _max_base(self) -> int:
        """Largest lead time before a regime's delay."""
        if self.kind == "fixed":
            return self.value
        return max(self.values) if self.kind == "discrete" else self.maximum

    @property
    def expected(self) -> float:
        """Expected lead time, exact under the cap; a regime adds its long-run mean delay."""
        return self._expected_base + (self.regime.expected_delay if self.regime is not None else 0.0)

    @property
    def _expected_base(self) -> float:
        """Expected lead time before a regime's delay."""
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
        return spec_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | int, where: str) -> LeadTime:
        """Build from a dict such as :meth:`to_dict` gives, or a bare int (fixed)."""
        if isinstance(data, numbers.Integral) and not isinstance(data, bool):
            data = {"kind": "fixed", "value": data}
        elif not isinstance(data, dict):
            raise SpecError(where, f"must be a table or a whole number of periods, got {data!r}")
        return spec_from_dict(cls, data, where, _LEAD_TIME_NESTED)


def draw_lead_times(lead_times: Sequence[LeadTime], paths: int, periods: int,
                    rng: np.random.Generator,
                    scale: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Draw the lead time of a shipment sent in each period on each arc, and disruptions.

    Draw order (fixed): arc by arc, ``(paths, periods)`` lead times: ``rng.choice``
    (discrete; then ``rng.random`` for stochastic rounding if any ``scale != 1``),
    ``rng.poisson`` (poisson), ``rng.pareto`` (heavy-tailed), nothing (fixed). Then, if
    any arc has a disruption, ``rng.random((paths, k))`` over the ``k`` disrupted arcs
    for the stationary start state, and one more such array per period. Then, arc by arc
    for arcs with a regime only: its hidden chain
    (:func:`~scenarios.processes.regime.draw_chain`, one ``rng.random((paths, periods))``)
    and ``rng.random((paths, periods))`` for its disruptions.

    :param lead_times: one distribution per arc.
    :param paths: number of sample paths, ``>= 1``.
    :param periods: number of periods, ``>= 1``.
    :param rng: the generator to draw from.
    :param scale: ``(paths,)`` multiplier on the extra delay beyond the minimum, ``>= 0``;
        default 1. It scales the Poisson mean, the Lomax scale, or the distance above
        the smallest discrete value (stochastically rounded); fixed lead times ignore
        it, and so does a regime's delay (added after the cap of the draw). Draws stay
        capped at ``max_value``.
    :return: ``(lead_time, disrupted)``, int64 and bool ``(paths, periods, arcs)``.
    """
    lead_times = tuple(lead_times)
    check_shape(paths, periods)
    c = per_path(scale, paths, "scale", ">= 0")[:, None]
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
        lead_time[:, :, a] = np.minimum(draw, lt._max_base)
    disrupted = _draw_disruptions(lead_times, paths, periods, rng)
    for a, lt in enumerate(lead_times):
        if lt.regime is not None:
            state = draw_chain(lt.regime.transition, paths, periods, rng)
            lead_time[:, :, a] += np.asarray(lt.regime.delay, dtype=np.int64)[state]
            disrupted[:, :, a] |= rng.random(size) < np.asarray(lt.regime.disruption)[state]
    return lead_time, disrupted


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
