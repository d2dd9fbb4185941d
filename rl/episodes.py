"""Where episodes come from: a fresh sample path per episode, from each environment's own Generator.

Drawing one path at a time is slow next to a batched simulator step: a draw has
a fixed cost, and :meth:`SamplePaths.draw <scenarios.paths.SamplePaths.draw>`
always draws whole blocks of :data:`~scenarios.paths.BLOCK` paths. So a
:class:`PathSource` draws up to a block of paths with one seed taken from the
environment's Generator and hands them out one episode at a time. A single
environment and environment ``i`` of a batched VecEnv each own a ``PathSource``
and see exactly the same sequence of paths for the same seed; that is what
makes them equal (the paths bit for bit; costs computed on a batch to the last
few bits, see :mod:`rl.vec_env`).
"""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np

from scenarios.errors import SpecError
from scenarios.paths import BLOCK, SamplePaths
from scenarios.spec import Spec

__all__ = ["PathSource", "default_block", "stack_paths"]

_BLOCK_BYTES = 2**21  # memory per environment for pre-drawn paths


def default_block(spec: Spec, n_periods: int) -> int:
    """Paths per draw: as many as fit in about 2 MiB, between 1 and a whole block.

    A draw of fewer than :data:`~scenarios.paths.BLOCK` paths costs as much as a
    whole block, so a block is used whole when it fits.

    :param spec: the scenario.
    :param n_periods: periods per path, warm-up included.
    """
    per_path = n_periods * (3 * 8 * len(spec.demands) + 9 * len(spec.arcs)) + 16
    return int(np.clip(_BLOCK_BYTES // per_path, 1, BLOCK))


class PathSource:
    """Fresh single-path :class:`SamplePaths`, one per episode, for one environment.

    :param spec: the scenario to draw for (its ``randomisation`` gives every
        path its own domain-randomised parameters).
    :param periods: periods measured per episode.
    :param warmup: warm-up periods before them.
    :param block: paths drawn at once (default :func:`default_block`).
    """

    def __init__(self, spec: Spec, periods: int, warmup: int, block: int | None = None) -> None:
        if block is not None and (not isinstance(block, int | np.integer) or block < 1):
            raise SpecError("episodes_per_draw", f"must be an integer >= 1, got {block!r}")
        self.spec, self.periods, self.warmup = spec, periods, warmup
        self.block = block or default_block(spec, periods + warmup)
        self._paths: SamplePaths | None = None
        self._next = 0

    def clear(self) -> None:
        """Forget pre-drawn paths (after a new seed or a new distribution)."""
        self._paths, self._next = None, 0

    def next(self, rng: np.random.Generator) -> SamplePaths:
        """The next episode's path; draws a new block, seeded from ``rng``, when none is left."""
        if self._paths is None or self._next >= self._paths.n_paths:
            seed = int(rng.integers(0, 2**63 - 1))
            self._paths = SamplePaths.draw(self.spec, self.block, self.periods, seed=seed,
                                           warmup=self.warmup)
            self._next = 0
        path = self._paths.subset(slice(self._next, self._next + 1))
        self._next += 1
        return path


def stack_paths(paths: list[SamplePaths]) -> SamplePaths:
    """Concatenate sample paths of one spec along the path axis (in list order)."""
    first = paths[0]
    for p in paths[1:]:
        if p.spec_hash != first.spec_hash or p.n_periods != first.n_periods:
            raise SpecError("paths", "cannot stack paths of different scenarios or lengths "
                            f"({first.spec_hash}/{first.n_periods} and {p.spec_hash}/{p.n_periods})")
    if len(paths) == 1:
        return first
    arrays = {f.name: np.concatenate([getattr(p, f.name) for p in paths])
              for f in fields(first) if isinstance(getattr(first, f.name), np.ndarray)}
    return replace(first, **arrays)
