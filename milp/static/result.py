"""The result of :func:`milp.static.optimise_static`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scenarios.policies import ParametricPolicy, make_policy
from scenarios.spec import Spec

__all__ = ["StaticResult"]

@dataclass(frozen=True)
class StaticResult:
    """Levels chosen by :func:`optimise_static` and how they were found.

    :param family: ``"echelon-base-stock"`` or ``"base-stock"``.
    :param levels: one level per node in spec node order, summed over SKUs; for a
        single SKU, ``make_policy(spec, family, {"S": levels})`` is the policy.
    :param levels_by_sku: ``(nodes, skus)`` levels; pass this array (:attr:`params`)
        for several SKUs, since ``make_policy`` spreads per-node sums by demand share.
    :param objective: the program's mean cost per period over the measured periods
        of the paths at ``levels`` (the SAA objective); when ``exact`` it is the
        simulated mean cost on the same paths.
    :param status: ``"optimal"`` (no step's LP finds levels below the current cost, or the
        MILP is solved), ``"iteration-limit"``, ``"time-limit"`` (the best levels so far),
        ``"stalled"`` (an approximate step did not improve) or another HiGHS model status.
    :param solve_time_s: wall time of the solves (seconds, building excluded).
    :param n_paths: sample paths in the program.
    :param exact: the program reproduces the simulator (see :mod:`milp.static`).
    :param n_periods: measured periods per path.
    :param method: ``"ccp"``, ``"ccp-lp"`` or ``"milp"``.
    :param iterations: LPs solved: master LPs (``ccp``) or full LPs (``ccp-lp``).
    :param lp_objective: the last LP's optimal objective (``milp``: the MILP's); equal to
        ``objective`` (to solver tolerance) when ``status == "optimal"`` and ``exact``: the
        certificate that no step of the procedure improves on ``levels``.
    :param history: SAA objective (program periods) after each accepted step.
    :param build_time_s: wall time to build the program (seconds).
    :param gap: relative MIP gap at the end (``milp``; 0 otherwise).
    :param simulated: simulated mean cost per period of ``levels`` on the same paths
        (``validate=True``), else ``None``.
    :param size: ``{"columns", "rows", "nonzeros", "binaries"}`` of the program.
    :param notes: approximations made and assumptions that bind.
    """

    family: str
    levels: list[float]
    levels_by_sku: list[list[float]]
    objective: float
    status: str
    solve_time_s: float
    n_paths: int
    exact: bool
    n_periods: int
    method: str = "ccp"
    iterations: int = 0
    lp_objective: float = float("nan")
    history: tuple[float, ...] = ()
    build_time_s: float = 0.0
    gap: float = 0.0
    simulated: float | None = None
    size: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def params(self) -> dict[str, list]:
        """Policy parameters: ``{"S": levels}`` for one SKU, else the ``(nodes, skus)`` levels.

        (With as many SKUs as nodes ``scenarios.policies`` reads a square array as per-node
        values with a path axis, so such specs cannot take per-SKU levels yet.)
        """
        single = all(len(row) == 1 for row in self.levels_by_sku)
        return {"S": self.levels if single else self.levels_by_sku}

    def policy(self, spec: Spec) -> ParametricPolicy:
        """The policy with these levels for ``spec``."""
        return make_policy(spec, self.family, self.params)

    def to_dict(self) -> dict:
        """Plain-JSON view (the fields ``echelon solve --method static`` reports)."""
        return {"method": "static", "solver": self.method, "family": self.family,
                "status": self.status, "levels": self.levels, "levels_by_sku": self.levels_by_sku,
                "objective": self.objective,
                "lp_objective": None if np.isnan(self.lp_objective) else self.lp_objective,
                "simulated": self.simulated, "exact": self.exact, "gap": self.gap,
                "iterations": self.iterations, "solve_time_s": self.solve_time_s,
                "build_time_s": self.build_time_s, "n_paths": self.n_paths,
                "n_periods": self.n_periods, "size": self.size, "notes": list(self.notes)}
