"""The MILP layer's numbers, pinned: refactors of milp/ must not move them.

Every expected value below was computed by the code BEFORE the issue-13 refactor
(``milp/static.py`` as one module, ``build_model`` as one function, the rolling
planner's handles on the Pyomo model) and is compared after it with a relative
tolerance of 1e-9: same objectives, bounds, costs, orders and levels. Runs are
deterministic (HiGHS on one thread, no clock involved), so a change beyond that
tolerance means the model, the solver path or the program changed, not noise.
If a deliberate change of formulation moves them, recompute them and say why in
the commit.
"""

from __future__ import annotations

import numpy as np
import pytest
from instances import random_spec

from milp import RollingHorizonPolicy, hindsight_bound
from milp.model import build_model, set_state
from milp.pulp_model import solve_pulp
from milp.solve import Solver, lp_bound
from milp.static import optimise_static, program_cost
from scenarios import Network, SamplePaths, load, simulate

REL = 1e-9

ROLLING = {
    "serial-3": {
        "cost": [377.8862411251904, 352.1297340040543],
        "orders": 189.0807430131853,
        "objectives": [
            363.92483299111177, 346.9446901472872, 627.0407619645696, 300.3949451017227, 280.24669431222,
            291.4765106736806, 290.402191492397, 269.28857659658337, 220.27937139674245,
            458.71079031520577, 255.51232544003307, 464.20542867325895,
        ],
    },
    "perishable": {
        "cost": [469.09999999999997, 638.3],
        "orders": 300.0,
        "objectives": [
            133.4, 133.4, 251.7, 251.1, 328.7, 181.2, 258.3, 232.1, 175.2, 643.2,
        ],
    },
    "random-divergent": {
        "cost": [549.0723658661253, 533.2089212311081],
        "orders": 228.49504270959585,
        "objectives": [
            514.0118136828845, 514.0118136828845, 473.49224648750305, 496.52837160577604,
            394.0581940814681, 394.0581940814681, 396.5258661203932, 388.11292705285115,
        ],
    },
    "random-moq-naive": {
        "cost": [565.3264924961001, 354.27180461044304],
        "orders": 258.096019443056,
        "objectives": [
            338.6409363028198, 338.6409363028198, 282.09990273736753, 219.75637912150637,
            265.52397381103987, 201.11068308676187, 149.355289384213, 111.57560936975577,
        ],
    },
    "random-moq-hard": {
        "cost": [551.5250809105016, 331.99275837649884],
        "orders": 263.3240380110922,
        "objectives": [
            319.80956846638713, 319.80956846638736, 391.17644158211914, 243.59849730247004,
            293.59411230583504, 164.1764287736017, 150.82289419898564, 127.27312887177796,
        ],
    },
}
HINDSIGHT = [28.55733109009026, 29.57827852749877]
MODEL = {
    0: {
        "tight-False": [545.4753046805308, 545.4753046805308],
        "lp-tight-False": 536.6427619495558,
        "tight-True": [483.5205319796025, 483.5205319796025],
        "lp-tight-True": 464.8165178333376,
        "naive-False": [545.4753046805286, 545.4753046805286],
        "lp-naive-False": 423.59142498526785,
        "naive-True": [483.5205319796025, 483.5205319796025],
        "lp-naive-True": 423.59142498526785,
        "pulp": 545.47530468048,
    },
    1: {
        "tight-False": [390.77635477429357, 390.77635477429357],
        "lp-tight-False": 324.81245771535663,
        "tight-True": [331.15419658182236, 331.15419658182236],
        "lp-tight-True": 270.9446210480687,
        "naive-False": [390.7763547742905, 390.7763547742905],
        "lp-naive-False": 211.60294776978557,
        "naive-True": [331.1541965818197, 331.1541965818197],
        "lp-naive-True": 211.60294776978557,
        "pulp": 390.7763547742935,
    },
}
STATIC = {
    "ccp": {"levels": [6.546114890123532, 11.827419099498378, 22.642642487197133],
            "objective": 45.989885397303965, "lp": 45.98988539730375, "iterations": 20,
            "size": {"columns": 507, "rows": 860, "nonzeros": 1708, "binaries": 0}},
    "ccp-lp": {"levels": [6.546114890123491, 11.82741909949823, 22.64264248719725],
               "objective": 45.989885397303965, "lp": 45.98988539730389, "iterations": 5,
               "size": {"columns": 507, "rows": 860, "nonzeros": 1708, "binaries": 0}},
    "milp": {"levels": [7.024895935812031, 13.131627852892715, 24.043672099085477],
             "objective": 47.59968156140155,
             "size": {"columns": 231, "rows": 699, "nonzeros": 1760, "binaries": 132}},
}
STATIC_LOCAL = {"levels": [6.546114890123508, 5.28130420937497, 10.815223387698522],
                "objective": 45.989885397303965}
PROGRAM_COST = 47.09568542234035


def _rolling_case(name: str):
    """The scenario, paths and planner options of each pinned rolling-horizon run."""
    if name == "serial-3":
        return load("serial-3"), 6, 2, dict(horizon=5, safety=np.array([1.0, 2.0, 3.0]))
    if name == "perishable":
        return load("perishable-pharma"), 5, 2, dict(horizon=5, safety=2.0)
    if name == "random-divergent":
        spec = random_spec(3, shape="divergent", shortage="lost-sales", storage=True, capacity=True)
        return spec, 4, 2, dict(horizon=5, safety=1.0)
    moq = random_spec(6, shape="serial", moq=True)
    if name == "random-moq-naive":
        return moq, 4, 3, dict(horizon=5, safety=1.0, formulation="naive")
    return moq, 4, 3, dict(horizon=5, safety=1.0, safety_mode="hard", forecast="moving-average")


@pytest.mark.parametrize("name", list(ROLLING))
def test_rolling_planner_costs_are_unchanged(name: str) -> None:
    spec, periods, seed, options = _rolling_case(name)
    paths = SamplePaths.draw(spec, 2, periods, seed=seed, warmup=0)
    policy = RollingHorizonPolicy(spec, **options)
    run = simulate(spec, paths, policy, record=True)
    expected = ROLLING[name]
    assert run.total_cost.sum(axis=1).tolist() == pytest.approx(expected["cost"], rel=REL)
    assert [s.objective for s in policy.stats] == pytest.approx(expected["objectives"], rel=REL)
    assert float(np.asarray(run.trace["orders"]).sum()) == pytest.approx(expected["orders"], rel=REL)


def test_hindsight_bound_is_unchanged() -> None:
    spec = load("serial-3")
    paths = SamplePaths.draw(spec, 2, 12, seed=5, warmup=0)
    assert hindsight_bound(spec, paths).tolist() == pytest.approx(HINDSIGHT, rel=REL)


MODEL_CASES = [dict(shape="divergent", shortage="lost-sales", moq=True, yield_rate=True),
               dict(shape="serial", shortage="lost-sales", timing="demand-first", shelf_life=True,
                    storage=True)]


@pytest.mark.parametrize("case", [0, 1])
def test_model_objectives_and_relaxations_are_unchanged(case: int) -> None:
    """Both formulations, with and without ``bound``: optimum, dual bound, LP relaxation; and PuLP."""
    H = 6
    net = Network(random_spec(20 + case, **MODEL_CASES[case]))
    demand = np.random.default_rng(case).poisson(5, (net.n_demands, H)).astype(float)
    expected = MODEL[case]
    for formulation in ("tight", "naive"):
        for bound in (False, True):
            model = build_model(net, H, formulation=formulation, bound=bound)
            set_state(model, on_hand=net.initial_inventory, demand=demand, safety=1.5)
            stats = Solver(model, mip_gap=0.0).solve()
            key = f"{formulation}-{bound}"
            assert [stats.objective, stats.bound] == pytest.approx(expected[key], rel=REL)
            assert lp_bound(model) == pytest.approx(expected[f"lp-{key}"], rel=REL)
    safety = np.full((net.n_nodes, net.n_skus), 1.5)
    value = solve_pulp(net, H, on_hand=net.initial_inventory, demand=demand, safety=safety)
    assert value == pytest.approx(expected["pulp"], rel=REL)


@pytest.mark.parametrize("method", list(STATIC))
def test_static_levels_are_unchanged(method: str) -> None:
    spec = load("serial-3")
    paths = (SamplePaths.draw(spec, 2, 14, seed=3, warmup=6) if method == "milp"
             else SamplePaths.draw(spec, 4, 40, seed=3, warmup=10))
    result = optimise_static(spec, paths, method=method, time_limit=20 if method == "milp" else 120)
    expected = STATIC[method]
    assert result.status == "optimal" and result.size == expected["size"]
    assert result.levels == pytest.approx(expected["levels"], rel=REL)
    assert result.objective == pytest.approx(expected["objective"], rel=REL)
    if method != "milp":
        assert result.iterations == expected["iterations"]
        assert result.lp_objective == pytest.approx(expected["lp"], rel=REL)


def test_static_local_levels_and_program_cost_are_unchanged() -> None:
    spec = load("serial-3")
    paths = SamplePaths.draw(spec, 4, 40, seed=3, warmup=10)
    result = optimise_static(spec, paths, "base-stock")
    assert result.status == "optimal"
    assert result.levels == pytest.approx(STATIC_LOCAL["levels"], rel=REL)
    assert result.objective == pytest.approx(STATIC_LOCAL["objective"], rel=REL)
    cost = program_cost(spec, paths, "echelon-base-stock", [6.0, 12.0, 23.0])
    assert cost == pytest.approx(PROGRAM_COST, rel=REL)
