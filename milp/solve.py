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
(:func:`binding_families`). Pyomo's private attributes and HiGHS's quirks are
reached through :mod:`milp.highs_adapter` only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.solver.common.results import TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from milp.errors import InfeasibleWindow
from milp.highs_adapter import column_map, columns, highs_of, new_highs, run, solve_pyomo
from scenarios.errors import SpecError

__all__ = ["SolveStats", "Solver", "binding_families", "LIMIT_FAMILIES", "lp_bound"]

#: Constraint families that limit what a plan may do, by name, with the model
#: components that make them up; the others define stocks and costs
#: (balances) or are valid inequalities.
LIMIT_FAMILIES = {
    "storage": ("storage", "storage_on_receipt"), "refusal": ("refusal",), "shelf_life": ("shelf_life",),
    "arc_capacity": ("arc_capacity",), "production_capacity": ("production_capacity",),
    "budget": ("budget",), "safety_stock": ("safety_stock", "safety_idle"),
    "ship_from_stock": ("ship_from_stock",), "moq": ("moq",), "setup_capacity": ("setup_capacity",),
}

#: Dives tried in turn by the rounding certificate (see :meth:`Solver._dive`).
_DIVES = ("up", "nearest")
#: Families that define stocks and backlogs: dropping one "fixes" anything, so they are named last.
_BALANCES = ("inventory_balance", "backlog_balance", "lost_sales")
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


class Solver:
    """HiGHS bound to one model, re-solved after its mutable parameters change.

    Each :meth:`solve` first tries a cheap certificate: it solves the LP
    relaxation, then LPs with the binaries fixed (a hint, the rounded
    relaxation, a dive), and stops when a plan is within ``mip_gap`` of the
    relaxation's bound -- the usual case with the ``"tight"`` formulation,
    whose relaxation is close to integral. Otherwise HiGHS's branch and bound
    runs from the best plan found. Both paths act
    on the persistent HiGHS instance directly (through the column map of
    ``pyomo.contrib.solver``'s interface), so a step costs a few simplex
    re-solves from a warm basis.

    Same parameters in the same order, same plans, in any process: nothing
    depends on the clock unless a solve actually reaches ``time_limit`` (its
    status then says ``"time-limit"``). HiGHS runs on one thread by default.

    :param model: a model built by :func:`milp.model.build_model` (any Pyomo
        model with linear constraints works).
    :param time_limit: seconds per solve (``None``: no limit).
    :param mip_gap: relative MIP gap at which a solve stops.
    :param threads: HiGHS threads.
    :param persistent: keep the model loaded in HiGHS between solves; ``False``
        reloads it every time (for comparison only).
    :param rounding: try the LP-rounding certificate before branch and bound.
    """

    def __init__(self, model: pyo.ConcreteModel | None, *, time_limit: float | None = 10.0,
                 mip_gap: float = 0.01, threads: int | None = 1, persistent: bool = True,
                 rounding: bool = True) -> None:
        if time_limit is not None and not time_limit > 0:
            raise SpecError("time_limit", f"must be > 0 seconds, got {time_limit}")
        if not 0 <= mip_gap < 1:
            raise SpecError("mip_gap", f"must be in [0, 1), got {mip_gap}")
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise SpecError("threads", f"must be an integer >= 1, got {threads!r}")
        self.model = model
        self.time_limit, self.mip_gap, self.threads = time_limit, mip_gap, threads
        self.persistent, self.rounding = persistent, rounding
        self._solver: Highs | None = None
        self._values: np.ndarray | None = None
        self._binaries: np.ndarray | None = None

    @property
    def highs(self) -> highspy.Highs:
        """The ``highspy.Highs`` instance holding the model (after the first :meth:`solve`).

        :raises RuntimeError: nothing was solved yet.
        """
        if self._solver is None:
            raise RuntimeError("the model is loaded into HiGHS by the first solve()")
        return highs_of(self._solver)

    def solve(self, hint: Sequence[tuple[Any, float]] | None = None) -> SolveStats:
        """Solve the model as its parameters stand now.

        :param hint: values for some binaries, ``(Pyomo var data, 0 or 1)`` pairs, e.g. the
            previous rolling-horizon plan shifted by a period; tried first as
            a rounding (binaries not hinted are rounded from the relaxation).
        :return: the outcome; the plan is read with :meth:`values`.
        :raises InfeasibleWindow: the model has no feasible plan (the message
            names the binding constraint family).
        """
        start = time.perf_counter()
        self._values = None
        if self._solver is None or not self.persistent:
            self._solver = new_highs(self.time_limit, self.mip_gap, self.threads)
            self._solver.set_instance(self.model)
            self._binaries = None
            highs = highs_of(self._solver)
            highs.setOptionValue("output_flag", False)
            highs.setOptionValue("mip_rel_gap", self.mip_gap)
            if self.threads is not None:
                highs.setOptionValue("threads", self.threads)
        else:
            self._solver.update_parameters()
        highs = highs_of(self._solver)
        if self._binaries is None:
            self._binaries = _binary_columns(highs)
        stats = None
        if self.rounding and self._binaries is not None and len(self._binaries):
            stats = self._round(highs, start, hint)
        if stats is None:
            stats = self._branch_and_bound(start)
        return stats

    def _round(self, highs, start: float, hint: Sequence[tuple[Any, float]] | None) -> SolveStats | None:
        """The LP-rounding certificate; ``None`` when it does not prove the gap.

        Candidates, cheapest first, each an LP with the binaries fixed: the
        hint (rest rounded at 0.5), the relaxation rounded at 0.5, then dives
        (:meth:`_dive`). It stops at the first plan within the gap of the
        relaxation's bound.
        """
        cols = self._binaries
        n = len(cols)
        ok = highspy.HighsModelStatus.kOptimal
        # HiGHS compares an LP's time_limit with the instance's *cumulative* run
        # time (getRunTime), not the run's own: a persistent instance past
        # time_limit seconds in total would stop every LP at once, so the
        # certificate would silently give way to branch and bound from then
        # on -- at a moment that depends on the machine's speed and load, so the
        # plans (all within the gap) and the costs differed between processes.
        left = self._left(start)
        highs.setOptionValue("time_limit", float("inf") if left is None else highs.getRunTime() + left)
        highs.changeColsIntegrality(n, cols, np.full(n, highspy.HighsVarType.kContinuous))
        best = None

        def fix(lower: np.ndarray, upper: np.ndarray) -> bool:
            """Re-solve with these bounds on the binaries; keep the plan if integral and better."""
            nonlocal best
            highs.changeColsBounds(n, cols, lower, upper)
            highs.run()
            if highs.getModelStatus() != ok:
                return False
            values = np.asarray(highs.getSolution().col_value)
            if np.all(np.abs(values[cols] - np.round(values[cols])) <= 1e-6):
                value = highs.getInfo().objective_function_value
                if best is None or value < best[0]:
                    best = (value, values.copy())
            return True

        def proven() -> bool:
            return best is not None and abs(best[0] - bound) <= self.mip_gap * max(abs(best[0]), 1e-9)

        try:
            run(highs)
            if highs.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
                raise InfeasibleWindow(binding_families(self.model),
                                       "dropping that family alone makes the window feasible")
            if highs.getModelStatus() != ok:
                return None
            bound = highs.getInfo().objective_function_value
            relaxed = np.asarray(highs.getSolution().col_value)[cols]
            rounded = (relaxed > 0.5).astype(float)
            if np.all(np.abs(relaxed - rounded) <= 1e-6):  # the relaxation is integral
                best = (bound, np.array(highs.getSolution().col_value))
            if not proven() and hint:
                column = column_map(self._solver)
                position = {c: i for i, c in enumerate(cols.tolist())}
                hinted = rounded.copy()
                for var, value in hint:
                    i = position.get(column.get(id(var), -1))
                    if i is not None:
                        hinted[i] = float(value > 0.5)
                fix(hinted, hinted)
            if not proven():
                fix(rounded, rounded)
            for rule in _DIVES:
                if proven():
                    break
                self._dive(highs, fix, proven, rule)
        finally:
            highs.changeColsBounds(n, cols, np.zeros(n), np.ones(n))
            highs.changeColsIntegrality(n, cols, np.full(n, highspy.HighsVarType.kInteger))
        if best is None:
            return None
        gap = abs(best[0] - bound) / max(abs(best[0]), 1e-9)
        if gap > self.mip_gap:
            self._start = best[1]
            return None
        self._values = best[1]
        return SolveStats("optimal", float(best[0]), float(bound), gap, time.perf_counter() - start)

    def _dive(self, highs, fix, proven, rule: str) -> None:
        """Fix fractional binaries one LP at a time until the plan is integral.

        ``"up"``: the largest fractional binary goes to 1 and those below 0.1
        go to 0 (setups are rarely wrong to open, often wrong to keep small);
        ``"nearest"``: the binary nearest to 0 or 1 goes there.
        """
        cols = self._binaries
        n = len(cols)
        lower, upper = np.zeros(n), np.ones(n)
        if not fix(lower, upper):
            return
        for _ in range(n):
            values = np.asarray(highs.getSolution().col_value)[cols]
            fractional = (lower < upper) & (np.abs(values - np.round(values)) > 1e-6)
            if not fractional.any() or proven():
                return
            if rule == "up":
                i = int(np.argmax(np.where(fractional, values, -1.0)))
                low = fractional & (values < 0.1)
                upper[low] = 0.0
                lower[i] = upper[i] = 1.0
            else:
                distance = np.where(fractional, np.abs(values - np.round(values)), np.inf)
                i = int(np.argmin(distance))
                lower[i] = upper[i] = float(values[i] > 0.5)
            if not fix(lower, upper):
                return

    def _left(self, start: float) -> float | None:
        """The HiGHS ``time_limit`` that leaves this solve what remains of its seconds.

        HiGHS's run clock accumulates over an instance's whole life (``getRunTime``),
        and ``time_limit`` is checked against it: a persistent instance given a plain
        per-solve limit stops every solve at once after that many seconds in total. So
        the limit is the run time so far plus what is left.
        """
        if self.time_limit is None:
            return None
        left = max(self.time_limit - (time.perf_counter() - start), 1e-3)
        return highs_of(self._solver).getRunTime() + left

    def _branch_and_bound(self, start: float) -> SolveStats:
        """HiGHS's MIP solve (parameters already pushed), from the rounded plan if there is one."""
        highs = highs_of(self._solver)
        highs.clearSolver()  # a basis left by the LPs above would make HiGHS skip its MIP presolve
        plan = getattr(self, "_start", None)
        if plan is not None:
            highs.setSolution(len(plan), np.arange(len(plan), dtype=np.int32), plan)
            self._start = None
        self._solver.config.auto_updates.update_parameters = False
        try:
            results = solve_pyomo(self._solver, self.model, time_limit=self._left(start))
        finally:
            self._solver.config.auto_updates.update_parameters = True
        seconds = time.perf_counter() - start
        condition = results.termination_condition
        if condition in _INFEASIBLE:
            raise InfeasibleWindow(binding_families(self.model),
                                   "dropping that family alone makes the window feasible")
        objective = results.incumbent_objective
        bound = results.objective_bound
        if bound is not None and not np.isfinite(bound):
            bound = None
        if condition == TerminationCondition.convergenceCriteriaSatisfied:
            status = "optimal"
            bound = objective if bound is None else bound
        elif condition in _FEASIBLE:
            status = "time-limit" if objective is not None else "no-solution"
        else:
            status = "error"
        if objective is not None:
            self._values = np.array(highs.getSolution().col_value)
        gap = None
        if objective is not None and bound is not None:
            gap = abs(objective - bound) / max(abs(objective), 1e-9)
        return SolveStats(status, objective, bound, gap, seconds)

    def values(self, variables: Sequence[pyo.Var]) -> np.ndarray:
        """Values of ``variables`` (Pyomo var data) in the last plan found.

        :raises RuntimeError: the last solve found no plan.
        """
        if self._values is None:
            raise RuntimeError("the last solve found no plan")
        return self._values[columns(self._solver, variables)]


def _binary_columns(highs) -> np.ndarray | None:
    """Column indices of the binaries, or ``None`` when general integers exist (no rounding then)."""
    lp = highs.getLp()
    integrality = np.asarray(lp.integrality_)
    if integrality.size == 0:
        return np.zeros(0, dtype=np.int32)
    integer = np.flatnonzero(integrality != highspy.HighsVarType.kContinuous)
    lower, upper = np.asarray(lp.col_lower_)[integer], np.asarray(lp.col_upper_)[integer]
    if np.any(lower < 0) or np.any(upper > 1):
        return None
    return integer.astype(np.int32)


def binding_families(model: pyo.ConcreteModel, *, time_limit: float = 10.0) -> tuple[str, ...]:
    """Constraint families whose removal alone makes an infeasible ``model`` feasible.

    Each limit family (:data:`LIMIT_FAMILIES`; ``storage`` covers the
    end-of-period and on-receipt rows) present in the model is deactivated on
    a copy, one at a time, and the copy solved for
    feasibility. If no single family restores feasibility, all limit families
    are dropped together; if that is feasible they are all reported, else the
    other families (setups, valid inequalities; e.g. when variables were fixed)
    are tried one at a time, and failing all that the stock balances
    (``inventory_balance``) are named.

    :param model: the infeasible model (left unchanged).
    :param time_limit: seconds per feasibility check.
    """
    def parts(name: str) -> list[str]:
        return [c for c in LIMIT_FAMILIES.get(name, (name,))
                if isinstance(getattr(model, c, None), pyo.Constraint) and len(getattr(model, c))]

    present = [name for name in LIMIT_FAMILIES if parts(name)]

    def feasible_without(names: Sequence[str]) -> bool:
        trial = model.clone()
        for name in names:
            for component in parts(name):
                getattr(trial, component).deactivate()
        solver = new_highs(time_limit, 1.0 - 1e-9, None)
        solver.config.auto_updates.update_parameters = False
        results = solve_pyomo(solver, trial)
        return results.termination_condition not in _INFEASIBLE

    single = tuple(name for name in present if feasible_without([name]))
    if single:
        return single
    if present and feasible_without(present):
        return tuple(present)
    grouped = {c for name in LIMIT_FAMILIES for c in LIMIT_FAMILIES[name]}
    others = [c.local_name for c in model.component_objects(pyo.Constraint, active=True)
              if c.local_name not in grouped and c.local_name not in _BALANCES and len(c)]
    single = tuple(name for name in others if feasible_without([name]))
    return single or ("inventory_balance",)


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
