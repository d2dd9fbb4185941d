"""Sample paths: every random draw of a run, made once from one seed.

All policies in a comparison run on the same :class:`SamplePaths` (common
random numbers), so their cost differences are paired and have small
variance. Path ``i`` depends only on the seed and ``i`` (and the number of
periods), never on how many paths are drawn: a check on 20 paths sees the
first 20 of a run on 200.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from scenarios.budget import check_sample_paths
from scenarios.errors import SpecError
from scenarios.processes import draw_demand, draw_lead_times
from scenarios.spec import Spec

__all__ = ["BLOCK", "SamplePaths"]

BLOCK = 32
"""Paths drawn together from one child seed; changing it changes every path past the first block.

Small enough that one path (a whole block) stays cheap to draw, large enough that
many paths, block by block, cost little more than one vectorised draw."""


@dataclass(frozen=True, eq=False)
class SamplePaths:
    """All random draws of a run; arrays are shaped with the path axis first.

    Common random numbers, guaranteed: for one scenario, seed and number of
    periods, path ``i`` of :meth:`draw` is the same whatever ``paths`` is (every
    array, bit for bit, on one machine), so results on 20 paths can be checked
    against the first 20 of 200, and ``simulate --path i`` shows the same path
    for any ``--paths``.

    :param spec_hash: hash of the spec the paths were drawn for.
    :param seed: the seed they were drawn from.
    :param warmup: leading periods that KPIs leave out.
    :param demand: base demand ``(paths, periods, streams)`` (before goodwill).
    :param expected_demand: the process's mean ``(paths, periods, streams)``,
        a perfect-knowledge forecast of everything but hidden regimes, which it
        averages over their stationary distribution (it never reveals a regime's state).
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

        Paths are drawn in blocks of :data:`BLOCK`: block ``b`` (paths ``b * BLOCK``
        to ``(b + 1) * BLOCK - 1``) is always drawn whole, from its own generators
        spawned from ``SeedSequence(seed, spawn_key=(b,))``; the last block is cut to
        ``paths``. So path ``i`` depends only on the scenario, ``seed``, ``i`` and the
        number of periods, never on ``paths``: the first 20 of 200 paths are the 20
        paths of a draw of 20, exactly. Within a block, child streams feed, in
        order, the domain randomisation, demand, lead times and rounding.

        The same arguments give the same numbers bit for bit on one machine. On
        another CPU or with other numerical libraries, floating-point values may
        differ in the last bits (and an integer draw, very rarely, by one).

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
        check_sample_paths(spec, paths, periods, warmup)  # refuse what would not fit in memory
        total = warmup + periods
        arrays: dict[str, np.ndarray] = {}
        for b, start in enumerate(range(0, paths, BLOCK)):
            block = _draw_block(spec, total, np.random.SeedSequence(seed, spawn_key=(b,)))
            stop = min(start + BLOCK, paths)
            for name, values in block.items():
                if name not in arrays:
                    arrays[name] = np.empty((paths, *values.shape[1:]), values.dtype)
                arrays[name][start:stop] = values[:stop - start]
        return cls(spec.hash, int(seed), int(warmup), **arrays)

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


def _draw_block(spec: Spec, total: int, seed: np.random.SeedSequence) -> dict[str, np.ndarray]:
    """Draw one block of :data:`BLOCK` paths of ``total`` periods: the arrays of :class:`SamplePaths`."""
    rng_dr, rng_demand, rng_lead, rng_round = (np.random.default_rng(s) for s in seed.spawn(4))
    ones = np.ones(BLOCK)
    scale = (spec.randomisation.draw(BLOCK, rng_dr) if spec.randomisation is not None
             else {k: ones for k in ("demand_level", "demand_cv", "lead_time",
                                      "holding_cost", "shortage_cost")})
    demand, expected = draw_demand(
        [d.process for d in spec.demands], BLOCK, total, rng_demand,
        correlation=spec.correlation, level=scale["demand_level"], cv=scale["demand_cv"],
    )
    if spec.arcs:
        lead_time, disrupted = draw_lead_times(
            [a.lead_time for a in spec.arcs], BLOCK, total, rng_lead, scale=scale["lead_time"])
    else:
        lead_time = np.zeros((BLOCK, total, 0), dtype=np.int64)
        disrupted = np.zeros((BLOCK, total, 0), dtype=bool)
    return {"demand": demand, "expected_demand": expected, "lead_time": lead_time,
            "disrupted": disrupted, "rounding": rng_round.random(demand.shape),
            "holding_scale": scale["holding_cost"], "shortage_scale": scale["shortage_cost"]}
