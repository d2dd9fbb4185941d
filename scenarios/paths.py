"""Sample paths: every random draw of a run, made once from one seed.

All policies in a comparison run on the same :class:`SamplePaths` (common
random numbers), so their cost differences are paired and have small
variance.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from scenarios.errors import SpecError
from scenarios.processes import draw_demand, draw_lead_times
from scenarios.spec import Spec

__all__ = ["SamplePaths"]


@dataclass(frozen=True, eq=False)
class SamplePaths:
    """All random draws of a run; arrays are shaped with the path axis first.

    :param spec_hash: hash of the spec the paths were drawn for.
    :param seed: the seed they were drawn from.
    :param warmup: leading periods that KPIs leave out.
    :param demand: base demand ``(paths, periods, streams)`` (before goodwill).
    :param expected_demand: the process's mean ``(paths, periods, streams)``,
        a perfect-knowledge forecast.
    :param lead_time: lead time of a shipment sent on each arc in each period,
        ``(paths, periods, arcs)`` int.
    :param disrupted: arc ships nothing in that period, ``(paths, periods, arcs)``.
    :param rounding: uniforms ``(paths, periods, streams)`` for unbiased rounding
        of goodwill-reduced integer demand.
    :param holding_scale: per-path multiplier on holding costs ``(paths,)``.
    :param shortage_scale: per-path multiplier on shortage costs ``(paths,)``.
    """

    spec_hash: str
    seed: int
    warmup: int
    demand: np.ndarray
    expected_demand: np.ndarray
    lead_time: np.ndarray
    disrupted: np.ndarray
    rounding: np.ndarray
    holding_scale: np.ndarray
    shortage_scale: np.ndarray

    @classmethod
    def draw(cls, spec: Spec, paths: int, periods: int | None = None, seed: int = 0,
             warmup: int | None = None) -> SamplePaths:
        """Draw ``paths`` sample paths of ``warmup + periods`` periods.

        Independent child streams of ``SeedSequence(seed)`` feed, in order, the
        domain randomisation, demand, lead times and rounding, so the same seed
        gives the same numbers on any machine.

        :param spec: the scenario.
        :param paths: number of sample paths (>= 1).
        :param periods: periods measured (default ``spec.horizon``).
        :param seed: integer seed (>= 0).
        :param warmup: periods simulated before measuring (default ``spec.warmup``).
        """
        periods = spec.horizon if periods is None else periods
        warmup = spec.warmup if warmup is None else warmup
        for name, value, low in (("paths", paths, 1), ("periods", periods, 1),
                                 ("seed", seed, 0), ("warmup", warmup, 0)):
            if not isinstance(value, int | np.integer) or value < low:
                raise SpecError(name, f"must be an integer >= {low}, got {value!r}")
        from scenarios.budget import check_sample_paths  # refuse what would not fit in memory
        check_sample_paths(spec, paths, periods, warmup)
        total = warmup + periods
        rng_dr, rng_demand, rng_lead, rng_round = (
            np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)
        )
        ones = np.ones(paths)
        scale = (spec.randomisation.draw(paths, rng_dr) if spec.randomisation is not None
                 else {k: ones for k in ("demand_level", "demand_cv", "lead_time",
                                          "holding_cost", "shortage_cost")})
        demand, expected = draw_demand(
            [d.process for d in spec.demands], paths, total, rng_demand,
            correlation=spec.correlation, level=scale["demand_level"], cv=scale["demand_cv"],
        )
        if spec.arcs:
            lead_time, disrupted = draw_lead_times(
                [a.lead_time for a in spec.arcs], paths, total, rng_lead, scale=scale["lead_time"])
        else:
            lead_time = np.zeros((paths, total, 0), dtype=np.int64)
            disrupted = np.zeros((paths, total, 0), dtype=bool)
        rounding = rng_round.random(demand.shape)
        return cls(spec.hash, int(seed), int(warmup), demand, expected, lead_time, disrupted,
                   rounding, scale["holding_cost"], scale["shortage_cost"])

    @property
    def n_paths(self) -> int:
        """Number of sample paths."""
        return self.demand.shape[0]

    @property
    def n_periods(self) -> int:
        """Periods simulated, warm-up included."""
        return self.demand.shape[1]

    def _map(self, fn) -> SamplePaths:
        arrays = {f.name: fn(getattr(self, f.name)) for f in fields(self)
                  if isinstance(getattr(self, f.name), np.ndarray)}
        return replace(self, **arrays)

    def tile(self, copies: int) -> SamplePaths:
        """Repeat all paths ``copies`` times, copy-major: path ``c * n + i`` is path ``i``.

        Used to evaluate many parameter candidates in one batched simulation.
        """
        return self._map(lambda a: np.concatenate([a] * copies, axis=0))

    def subset(self, index: slice | np.ndarray) -> SamplePaths:
        """The paths selected by ``index`` (a slice or index array)."""
        return self._map(lambda a: a[index])

    def check(self, spec: Spec) -> None:
        """Raise :class:`SpecError` when these paths were drawn for another spec."""
        if self.spec_hash != spec.hash:
            raise SpecError("paths", f"drawn for another scenario (hash {self.spec_hash}, "
                            f"{spec.name!r} has {spec.hash})")
