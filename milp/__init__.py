"""Planning and baselines: the deterministic replenishment model, HiGHS, rolling horizon, bounds.

>>> from scenarios import load, SamplePaths, simulate
>>> from milp import RollingHorizonPolicy, hindsight_bound
>>> spec = load("lost-sales-poisson")
>>> paths = SamplePaths.draw(spec, paths=2, periods=20, seed=1, warmup=0)
>>> run = simulate(spec, paths, RollingHorizonPolicy(spec, horizon=6))
>>> bool((hindsight_bound(spec, paths) <= run.total_cost.mean(axis=1) + 1e-6).all())
True

:func:`solve_summary` runs one method (rolling, hindsight, static) on sample
paths and summarises it, as ``echelon solve`` prints it.
:func:`rolling_from_params` and :func:`static_from_params` build the policy
families ``rolling-horizon`` (``rolling-horizon:horizon=13,safety=...``) and
``milp-static`` (optimal static levels, solved on the training paths); the
registry (:mod:`scenarios.registry`) names them.
"""

from milp.errors import InfeasibleWindow
from milp.hindsight import hindsight_bound, hindsight_model
from milp.model import build_model, set_state
from milp.pulp_model import solve_pulp
from milp.rolling import RollingHorizonPolicy, rolling_from_params
from milp.solve import Solver, SolveStats, binding_families, lp_bound
from milp.static import StaticResult, optimise_static, static_from_params
from milp.summary import solve_summary

__all__ = [
    "InfeasibleWindow", "RollingHorizonPolicy", "SolveStats", "Solver", "binding_families",
    "build_model", "hindsight_bound", "hindsight_model", "lp_bound", "rolling_from_params",
    "StaticResult", "optimise_static", "set_state", "solve_pulp", "solve_summary", "static_from_params",
]
