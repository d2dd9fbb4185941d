"""A thin wrapper around HiGHS in ``pyomo.contrib.solver``: persistent re-solves, checked results.

:class:`Solver` keeps one ``pyomo.contrib.solver.solvers.highs.Highs`` bound to
one model. The first :meth:`Solver.solve` loads the model into HiGHS; later
calls only push the mutable parameters that changed (the persistent
interface's ``update_parameters``) and re-solve, so a rolling-horizon step
never rebuilds the model. Every solve returns a :class:`SolveStats`; a time
limit is an outcome (``"time-limit"`` with the best plan found, or
``"no-solution"``), never an exception. An infeasible model raises
:class:`~milp.errors.InfeasibleWindow` naming the binding constraint family,
found by dropping the families one at a time on a copy of the model
(:func:`binding_families`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.solver.common.results import TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from milp.errors import InfeasibleWindow
from scenarios.errors import SpecError

__all__ = ["SolveStats", "Solver", "binding_families", "LIMIT_FAMILIES", "lp_bound"]

#: Constraint families that limit what a plan may do; the others define
#: stocks and costs (balances) or are valid inequalities that never bind alone.
LIMIT_FAMILIES = ("storage", "storage_on_receipt", "refusal", "shelf_life", "arc_capacity",
                  "production_capacity", "budget", "safety_stock", "ship_from_stock", "moq",
                  "setup_capacity")

_FEASIBLE = (TerminationCondition.convergenceCriteriaSatisfied, TerminationCondition.maxTimeLimit,
             TerminationCondition.iterationLimit, TerminationCondition.objectiveLimit,
             TerminationCondition.unknown)
_INFEASIBLE = (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded,
               TerminationCondition.locallyInfeasible)


@dataclass(frozen=True)
class SolveStats:
    """What one solve produced.

    :param status: ``"optimal"`` (within the MIP gap), ``"time-limit"`` (stopped
        with a feasible plan), ``"no-solution"`` (stopped without one) or
        ``"error"``.
    :param objective: cost of the plan found (``None`` without one).
    :param bound: the solver's lower bound on the optimum (``None`` if unknown).
    :param gap: ``|objective - bound| / max(|objective|, 1e-9)`` (``None`` if unknown).
    :param seconds: wall time of the solve, parameter updates included.
    """

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float


def _new_highs(time_limit: float | None, mip_gap: float | None, threads: int | None) -> Highs:
    solver = Highs()
    config = solver.config
    config.load_solutions = False
    config.raise_exception_on_nonoptimal_result = False
    config.time_limit = time_limit
    config.rel_gap = mip_gap
    config.threads = threads
    # output_flag is applied after pyomo's log_to_console=True, so HiGHS stays silent
    config.solver_options = {"output_flag": False}
    updates = config.auto_updates
    # the model's structure never changes after it is built: only push parameters
    for flag in ("check_for_new_or_removed_constraints", "check_for_new_or_removed_vars",
                 "check_for_new_or_removed_params", "check_for_new_objective", "update_constraints",
                 "update_vars", "update_named_expressions", "update_objective"):
        setattr(updates, flag, False)
    updates.update_parameters = True
    return solver


class Solver:
    """HiGHS bound to one model, re-solved after its mutable parameters change.

    :param model: a model built by :func:`milp.model.build_model` (any Pyomo
        model with linear constraints works).
    :param time_limit: seconds per solve (``None``: no limit).
    :param mip_gap: relative MIP gap at which HiGHS stops.
    :param threads: HiGHS threads.
    :param persistent: keep the model loaded in HiGHS between solves; ``False``
        reloads it every time (for comparison only).
    """

    def __init__(self, model: pyo.ConcreteModel, *, time_limit: float | None = 10.0,
                 mip_gap: float = 0.01, threads: int | None = 1, persistent: bool = True) -> None:
        if time_limit is not None and not time_limit > 0:
            raise SpecError("time_limit", f"must be > 0 seconds, got {time_limit}")
        if not 0 <= mip_gap < 1:
            raise SpecError("mip_gap", f"must be in [0, 1), got {mip_gap}")
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise SpecError("threads", f"must be an integer >= 1, got {threads!r}")
        self.model = model
        self.time_limit, self.mip_gap, self.threads = time_limit, mip_gap, threads
        self.persistent = persistent
        self._solver: Highs | None = None
        self._results = None

    def solve(self) -> SolveStats:
        """Solve the model as its parameters stand now.

        :return: the outcome; the plan is read with :meth:`values`.
        :raises InfeasibleWindow: the model has no feasible plan (the message
            names the binding constraint family).
        """
        start = time.perf_counter()
        if self._solver is None or not self.persistent:
            self._solver = _new_highs(self.time_limit, self.mip_gap, self.threads)
        results = self._solver.solve(self.model)
        seconds = time.perf_counter() - start
        condition = results.termination_condition
        if condition in _INFEASIBLE:
            self._results = None
            raise InfeasibleWindow(binding_families(self.model),
                                   "dropping that family alone makes the window feasible")
        self._results = results
        objective = results.incumbent_objective
        bound = results.objective_bound
        if condition == TerminationCondition.convergenceCriteriaSatisfied:
            status = "optimal"
            bound = objective if bound is None else bound
        elif condition in _FEASIBLE:
            status = "time-limit" if objective is not None else "no-solution"
        else:
            status = "error"
        if objective is None:
            self._results = None
        gap = None
        if objective is not None and bound is not None and np.isfinite(bound):
            gap = abs(objective - bound) / max(abs(objective), 1e-9)
        return SolveStats(status, objective, bound if bound is None or np.isfinite(bound) else None,
                          gap, seconds)

    def values(self, variables: Sequence[pyo.Var]) -> np.ndarray:
        """Values of ``variables`` (Pyomo var data) in the last plan found.

        :raises RuntimeError: the last solve found no plan.
        """
        if self._results is None:
            raise RuntimeError("the last solve found no plan")
        primals = self._results.solution_loader.get_vars(vars_to_load=list(variables))
        return np.array([primals[v] for v in variables], dtype=float)


def binding_families(model: pyo.ConcreteModel, *, time_limit: float = 10.0) -> tuple[str, ...]:
    """Constraint families whose removal alone makes an infeasible ``model`` feasible.

    Each limit family (:data:`LIMIT_FAMILIES`) present in the model is
    deactivated on a copy, one at a time, and the copy solved for
    feasibility. If no single family restores feasibility, all limit families
    are dropped together; if that is feasible they are all reported, else the
    stock balances (``inventory_balance``) are.

    :param model: the infeasible model (left unchanged).
    :param time_limit: seconds per feasibility check.
    """
    present = [name for name in LIMIT_FAMILIES
               if isinstance(getattr(model, name, None), pyo.Constraint) and len(getattr(model, name))]

    def feasible_without(names: Sequence[str]) -> bool:
        trial = model.clone()
        for name in names:
            getattr(trial, name).deactivate()
        solver = _new_highs(time_limit, 1.0 - 1e-9, 1)
        solver.config.auto_updates.update_parameters = False
        condition = solver.solve(trial).termination_condition
        return condition not in _INFEASIBLE

    single = tuple(name for name in present if feasible_without([name]))
    if single:
        return single
    if present and feasible_without(present):
        return tuple(present)
    return ("inventory_balance",)


def lp_bound(model: pyo.ConcreteModel, *, time_limit: float | None = 60.0) -> float:
    """Optimal value of the LP relaxation of ``model`` (integrality dropped on a copy).

    :raises InfeasibleWindow: the relaxation is infeasible.
    """
    relaxed = model.clone()
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(relaxed)
    stats = Solver(relaxed, time_limit=time_limit, mip_gap=0.0).solve()
    if stats.objective is None:
        raise SpecError("milp", f"LP relaxation stopped without a solution ({stats.status})")
    return float(stats.objective)
