"""The Pyomo/HiGHS internals milp.highs_adapter relies on still exist and mean what it assumes.

If one of these fails after upgrading Pyomo or highspy, fix milp/highs_adapter.py (and only it):
the rolling planner, the hindsight bound and every MILP solve go through it.
"""

from __future__ import annotations

from pathlib import Path

import highspy
import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.contrib.solver.common.results import TerminationCondition

from milp.highs_adapter import AUTO_UPDATE_FLAGS, column_map, columns, highs_of, new_highs, run, solve_pyomo

MILP = Path(__file__).resolve().parents[2] / "milp"


def _tiny() -> pyo.ConcreteModel:
    """``min x + 3 y  s.t.  x >= p,  x <= 10 y``, ``y`` binary, ``p`` mutable (2)."""
    m = pyo.ConcreteModel()
    m.p = pyo.Param(mutable=True, initialize=2.0)
    m.x = pyo.Var(bounds=(0, 10))
    m.y = pyo.Var(domain=pyo.Binary)
    m.demand = pyo.Constraint(expr=m.x >= m.p)
    m.setup = pyo.Constraint(expr=m.x <= 10 * m.y)
    m.cost = pyo.Objective(expr=m.x + 3 * m.y)
    return m


def test_the_auto_update_flags_exist() -> None:
    updates = new_highs(None, 0.0, 1).config.auto_updates
    for flag in (*AUTO_UPDATE_FLAGS, "update_parameters"):
        assert hasattr(updates, flag), f"pyomo's Highs config.auto_updates has no {flag!r} any more"


def test_highs_of_is_the_loaded_highspy_model_and_column_map_indexes_it() -> None:
    m = _tiny()
    solver = new_highs(None, 0.0, 1)
    with pytest.raises(RuntimeError, match="set_instance"):
        highs_of(solver)
    solver.set_instance(m)
    highs = highs_of(solver)
    assert isinstance(highs, highspy.Highs)
    lp = highs.getLp()
    assert (lp.num_col_, lp.num_row_) == (2, 2)
    mapping = column_map(solver)
    assert set(mapping) >= {id(m.x), id(m.y)}
    x, y = columns(solver, [m.x, m.y]).tolist()
    assert sorted([x, y]) == [0, 1]
    integrality = list(lp.integrality_)
    assert integrality[y] == highspy.HighsVarType.kInteger
    assert integrality[x] == highspy.HighsVarType.kContinuous
    other = pyo.ConcreteModel()
    other.z = pyo.Var()
    with pytest.raises(KeyError):  # a variable of another model has no column
        columns(solver, [other.z])

    run(highs)  # driving the loaded model directly, as Solver's rounding certificate does
    assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    values = np.asarray(highs.getSolution().col_value)
    assert values[x] == pytest.approx(2.0) and values[y] == pytest.approx(1.0)


def test_update_parameters_pushes_a_mutable_param_into_the_same_highs_model() -> None:
    m = _tiny()
    solver = new_highs(None, 0.0, 1)
    solver.set_instance(m)
    highs = highs_of(solver)
    x = int(columns(solver, [m.x])[0])
    m.p = 5.0
    solver.update_parameters()
    assert highs_of(solver) is highs  # persistent: the same instance, changed in place
    run(highs)
    assert np.asarray(highs.getSolution().col_value)[x] == pytest.approx(5.0)


def test_solve_pyomo_reports_through_pyomo_and_leaves_the_plan_in_highs() -> None:
    m = _tiny()
    solver = new_highs(None, 0.0, 1)
    solver.set_instance(m)
    solver.config.auto_updates.update_parameters = False
    results = solve_pyomo(solver, m)
    assert results.termination_condition == TerminationCondition.convergenceCriteriaSatisfied
    assert results.incumbent_objective == pytest.approx(5.0)
    x = int(columns(solver, [m.x])[0])
    assert np.asarray(highs_of(solver).getSolution().col_value)[x] == pytest.approx(2.0)


def test_no_other_milp_module_touches_pyomo_internals() -> None:
    private = ("_solver_model", "_pyomo_var_to_solver_var_map")
    offenders = [f"{path.relative_to(MILP)}: {name}" for path in sorted(MILP.rglob("*.py"))
                 if path.name != "highs_adapter.py" for name in private if name in path.read_text()]
    assert offenders == []
