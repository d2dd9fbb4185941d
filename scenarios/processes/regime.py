"""Hidden Markov regimes: demand volatility and supplier trouble that persist and switch.

A regime is a Markov chain over a few states, drawn per sample path and never shown
to a policy: it only changes how a path's demand, lead times and disruptions are
drawn. Each path starts in the chain's stationary distribution, so every period has
the same marginal law and the stationary mean is the honest forecast (the one
:attr:`~scenarios.paths.SamplePaths.expected_demand` shows).

* :class:`DemandRegime` -- per state a multiplier on the mean and on the
  variability of a demand stream (on :class:`~scenarios.processes.DemandProcess`).
* :class:`SupplyRegime` -- per state a chance that the arc ships nothing in a
  period and an extra delay added to every lead time drawn (on
  :class:`~scenarios.processes.LeadTime`).

The chain: ``transition[i][j]`` is the chance of moving from state ``i`` to ``j``
from one period to the next; rows sum to 1 and the chain must have one stationary
distribution (a single closed class of states).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from scenarios.errors import SpecError
from scenarios.processes.validation import as_sequence, check_sequence, spec_from_dict, spec_to_dict

__all__ = ["DemandRegime", "SupplyRegime", "draw_chain", "stationary_distribution"]


def _check_transition(obj: Any) -> int:
    """Store ``obj.transition`` as a tuple of rows; check it is a stochastic matrix; return its size."""
    rows = obj.transition
    if isinstance(rows, str | bytes) or not isinstance(rows, Sequence | np.ndarray) or len(rows) < 1:
        raise SpecError("transition", f"must be a square list of rows of probabilities, got {rows!r}")
    out = []
    for i, row in enumerate(rows):
        row = as_sequence(row, f"transition[{i}]")
        if len(row) != len(rows):
            raise SpecError(f"transition[{i}]", f"must have {len(rows)} entries (one per state), "
                            f"got {len(row)}")
        total = math.fsum(row)
        if abs(total - 1) > 1e-9:
            raise SpecError(f"transition[{i}]", f"must sum to 1, got {total!r}")
        out.append(row)
    object.__setattr__(obj, "transition", tuple(out))
    matrix = np.array(out)
    if np.linalg.matrix_rank(matrix - np.eye(len(out)), tol=1e-9) != len(out) - 1:
        raise SpecError("transition", "must have one stationary distribution (a single closed class "
                        f"of states), got {[list(r) for r in out]}")
    return len(out)


def _check_per_state(obj: Any, name: str, states: int, integer: bool = False) -> None:
    """Check ``obj.name`` is one number ``>= 0`` per state (stored as a tuple)."""
    check_sequence(obj, name, integer=integer)
    if len(getattr(obj, name)) != states:
        raise SpecError(name, f"must have one entry per state ({states}), got {len(getattr(obj, name))}")


def stationary_distribution(transition: Sequence[Sequence[float]]) -> np.ndarray:
    """The chain's stationary distribution ``pi`` (``pi P = pi``, summing to 1), shape ``(states,)``.

    >>> stationary_distribution([[0.9, 0.1], [0.3, 0.7]]).round(3).tolist()
    [0.75, 0.25]
    """
    matrix = np.asarray(transition, dtype=float)
    k = len(matrix)
    system = np.vstack([matrix.T - np.eye(k), np.ones((1, k))])
    pi = np.linalg.lstsq(system, np.append(np.zeros(k), 1.0), rcond=None)[0]
    pi = np.maximum(pi, 0.0)
    return pi / pi.sum()


def draw_chain(transition: Sequence[Sequence[float]], paths: int, periods: int,
               rng: np.random.Generator, initial: np.ndarray | None = None) -> np.ndarray:
    """Draw the hidden state of every path in every period, int64 ``(paths, periods)``.

    One ``rng.random((paths, periods))``: column 0 picks the first state from the
    stationary distribution (or ``initial``), column ``t`` the move from period ``t - 1``
    to ``t`` (inverse cdf of the row). The loop runs over periods only.

    :param initial: the law of the first state instead of the stationary one, ``(states,)``
        or per path ``(paths, states)`` (e.g. a planner's belief when it samples futures).
    """
    matrix = np.asarray(transition, dtype=float)
    row_cdf = np.cumsum(matrix, axis=1)
    row_cdf[:, -1] = 1.0  # rows sum to 1 within 1e-9: never step past the last state
    first = stationary_distribution(matrix) if initial is None else np.asarray(initial, dtype=float)
    if first.shape[-1] != len(matrix) or first.ndim > 2 or np.any(first < 0) or not np.allclose(
            first.sum(-1), 1.0, atol=1e-9):
        raise SpecError("initial", f"must be a distribution over the {len(matrix)} states (per path or "
                        f"for all), got shape {first.shape}")
    first_cdf = np.broadcast_to(np.cumsum(first, axis=-1), (paths, len(matrix))).copy()
    first_cdf[:, -1] = 1.0
    u = rng.random((paths, periods))
    state = np.empty((paths, periods), dtype=np.int64)
    state[:, 0] = (u[:, :1] >= first_cdf).sum(axis=1)
    for t in range(1, periods):
        state[:, t] = (u[:, t, None] >= row_cdf[state[:, t - 1]]).sum(axis=1)
    return state


@dataclass(frozen=True)
class DemandRegime:
    """A hidden demand regime (e.g. calm and volatile markets) on a demand stream.

    In state ``k`` the stream's mean is multiplied by ``mean[k]`` and its variability by
    ``cv[k]`` (normal: its ``std``; negative binomial: the CV of its gamma mixing
    distribution, as the per-path ``cv`` of domain randomisation does). Poisson and
    empirical streams have no variability of their own to scale: their ``cv`` must be 1.

    :param transition: ``(states, states)`` transition matrix, rows summing to 1.
    :param mean: multiplier on the mean per state, each ``>= 0``.
    :param cv: multiplier on the variability per state, each ``> 0``; default all 1.
    :param shared: streams whose regimes are shared and have the same ``transition``
        follow one hidden chain per path (a market-wide regime); otherwise each stream
        has its own.
    """

    transition: tuple[tuple[float, ...], ...]
    mean: tuple[float, ...]
    cv: tuple[float, ...] = ()
    shared: bool = False

    def __post_init__(self) -> None:
        states = _check_transition(self)
        _check_per_state(self, "mean", states)
        if not self.cv:
            object.__setattr__(self, "cv", (1.0,) * states)
        _check_per_state(self, "cv", states)
        for i, value in enumerate(self.cv):
            if value <= 0:
                raise SpecError(f"cv[{i}]", f"must be > 0, got {value:g}")
        if not isinstance(self.shared, bool):
            raise SpecError("shared", f"must be true or false, got {self.shared!r}")

    @cached_property
    def stationary(self) -> np.ndarray:
        """Stationary distribution of the hidden state ``(states,)``."""
        return stationary_distribution(self.transition)

    def to_dict(self) -> dict[str, Any]:
        """Return a TOML-ready dict; fields at their defaults are left out."""
        return spec_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> DemandRegime:
        """Build from a dict such as :meth:`to_dict` gives; errors name ``where.<field>``."""
        return spec_from_dict(cls, data, where, {})


@dataclass(frozen=True)
class SupplyRegime:
    """A hidden supplier regime (e.g. normal and troubled) on an arc.

    In state ``k`` the arc ships nothing in a period with chance ``disruption[k]`` (what
    is ordered stays owed, as in any disruption) and every lead time drawn is
    ``delay[k]`` periods longer. Persistence comes from the chain: a troubled supplier
    stays troubled for ``1 / (1 - transition[k][k])`` periods on average.

    :param transition: ``(states, states)`` transition matrix, rows summing to 1.
    :param disruption: chance per state that the arc ships nothing in a period, in [0, 1].
    :param delay: extra lead time per state, whole periods ``>= 0``.
    """

    transition: tuple[tuple[float, ...], ...]
    disruption: tuple[float, ...]
    delay: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        states = _check_transition(self)
        _check_per_state(self, "disruption", states)
        for i, value in enumerate(self.disruption):
            if value > 1:
                raise SpecError(f"disruption[{i}]", f"must be in [0, 1], got {value:g}")
        if not self.delay:
            object.__setattr__(self, "delay", (0,) * states)
        _check_per_state(self, "delay", states, integer=True)

    @cached_property
    def stationary(self) -> np.ndarray:
        """Stationary distribution of the hidden state ``(states,)``."""
        return stationary_distribution(self.transition)

    @property
    def expected_delay(self) -> float:
        """Long-run mean extra delay."""
        return float(self.stationary @ np.asarray(self.delay, dtype=float))

    @property
    def disrupted_fraction(self) -> float:
        """Long-run share of periods the arc ships nothing (from the regime alone)."""
        return float(self.stationary @ np.asarray(self.disruption))

    def to_dict(self) -> dict[str, Any]:
        """Return a TOML-ready dict; fields at their defaults are left out."""
        return spec_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> SupplyRegime:
        """Build from a dict such as :meth:`to_dict` gives; errors name ``where.<field>``."""
        return spec_from_dict(cls, data, where, {})
