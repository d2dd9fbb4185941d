"""A persistent solver keeps solving after its time limit has passed in total (HiGHS's clock accumulates)."""

from milp import RollingHorizonPolicy
from scenarios.paths import SamplePaths
from scenarios.simulator import simulate
from scenarios.spec import load


def test_every_solve_gets_its_own_time_limit():
    spec = load("divergent-1w3r")
    paths = SamplePaths.draw(spec, 24, 60, seed=3)
    planner = RollingHorizonPolicy(spec, horizon=6, time_limit=0.3)
    simulate(spec, paths, planner)
    highs = planner._planning.solver.highs
    assert highs.getRunTime() > 0.3  # HiGHS ran longer than one solve's limit in all ...
    assert {s.status for s in planner.stats} == {"optimal"}  # ... and every solve still finished
