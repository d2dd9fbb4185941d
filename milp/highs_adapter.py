"""Every use of Pyomo's and HiGHS's non-public interfaces, in one place.

:class:`milp.solve.Solver` drives HiGHS directly (LP re-solves with fixed
binaries, warm starts) on the model that ``pyomo.contrib.solver``'s persistent
``Highs`` interface loaded. Pyomo offers no public way to reach that model, so
this module reads two private attributes of the interface:

* ``Highs._solver_model``: the ``highspy.Highs`` instance holding the model
  (set by ``set_instance``, replaced by every non-persistent ``solve``);
* ``Highs._pyomo_var_to_solver_var_map``: ``id(var data)`` -> column index.

Both are Pyomo internals (checked on Pyomo 6.8 to 6.10) and may change without
notice; ``tests/milp/test_highs_adapter.py`` asserts on a tiny model that they
exist and mean what this module assumes, so an upgrade that breaks them fails
there, loudly, instead of in a solve. Nothing else in ``milp`` may touch a
private attribute of Pyomo or HiGHS.

The module also holds the one HiGHS quirk the solver works around: the
process-wide thread scheduler (:func:`run`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import highspy
import numpy as np
from pyomo.contrib.solver.solvers.highs import Highs

__all__ = ["AUTO_UPDATE_FLAGS", "column_map", "columns", "highs_of", "new_highs", "run", "solve_pyomo"]

#: ``config.auto_updates`` flags switched off: a built model's structure never changes,
#: so each re-solve pushes the mutable parameters only.
AUTO_UPDATE_FLAGS = ("check_for_new_or_removed_constraints", "check_for_new_or_removed_vars",
                     "check_for_new_or_removed_params", "check_for_new_objective", "update_constraints",
                     "update_vars", "update_named_expressions", "update_objective")


def new_highs(time_limit: float | None, mip_gap: float | None, threads: int | None) -> Highs:
    """A silent persistent Pyomo ``Highs`` interface that only pushes parameter changes.

    It loads no solutions into the Pyomo model (the solver reads HiGHS's columns) and
    raises on no result: the caller reads the termination condition.
    """
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
    for flag in AUTO_UPDATE_FLAGS:
        setattr(updates, flag, False)
    updates.update_parameters = True
    return solver


def highs_of(solver: Highs) -> highspy.Highs:
    """The ``highspy.Highs`` instance holding the model loaded by ``set_instance`` or ``solve``.

    :raises RuntimeError: no model was loaded yet.
    """
    highs = getattr(solver, "_solver_model", None)
    if not isinstance(highs, highspy.Highs):
        raise RuntimeError("the Pyomo Highs interface holds no HiGHS model (call set_instance first)")
    return highs


def column_map(solver: Highs) -> Mapping[int, int]:
    """``id(var data)`` -> HiGHS column index of every variable of the loaded model."""
    return solver._pyomo_var_to_solver_var_map


def columns(solver: Highs, variables: Iterable[Any]) -> np.ndarray:
    """HiGHS column indices ``(n,)`` of Pyomo var data, in the order given.

    :raises KeyError: a variable that is not in the loaded model.
    """
    column = column_map(solver)
    return np.array([column[id(v)] for v in variables], dtype=np.int64)


def run(highs: highspy.Highs) -> None:
    """``highs.run()``, once more after resetting HiGHS's thread scheduler if it refused to start.

    The scheduler is global to the process: once another HiGHS user (PuLP,
    another solver) has started it with a different thread count, a run with
    ``threads`` set ends at once with status ``kNotset``.
    """
    highs.run()
    if highs.getModelStatus() == highspy.HighsModelStatus.kNotset:
        highspy.Highs.resetGlobalScheduler(True)
        highs.run()


def solve_pyomo(solver: Highs, model: Any, **options: Any) -> Any:
    """``solver.solve(model, **options)``, retried once after a scheduler reset (see :func:`run`)."""
    results = solver.solve(model, **options)
    if highs_of(solver).getModelStatus() == highspy.HighsModelStatus.kNotset:
        highspy.Highs.resetGlobalScheduler(True)
        results = solver.solve(model, **options)
    return results
