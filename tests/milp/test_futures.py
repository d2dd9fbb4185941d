"""The stochastic planner: futures drawn by the scenario's processes, one order now shared by all."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from milp import RollingHorizonPolicy
from milp.futures_model import future_blocks
from milp.rolling import replacement_cost
from scenarios import SamplePaths, load, simulate
from scenarios.errors import SpecError
from scenarios.futures import demand_futures, supply_futures
from scenarios.network import Network
from scenarios.processes import DemandProcess
from scenarios.registry import build_policy


def test_demand_futures_average_to_the_forecast_and_keep_zeros() -> None:
    """Each future is the forecast times the process's own noise: its mean is the forecast."""
    spec = load("seasonal-grocery")
    forecast = np.tile(np.linspace(5.0, 40.0, 6)[:, None], (1, 8))
    forecast[:, 0] = 0.0  # an already-served period stays empty
    futures = demand_futures(spec, forecast, 30, 4000, np.random.default_rng(3))
    assert futures.shape == (4000, 6, 8)
    assert np.all(futures[:, :, 0] == 0) and np.all(futures >= 0)
    se = futures[:, :, 1:].std(axis=0) / np.sqrt(4000)
    assert np.all(np.abs(futures[:, :, 1:].mean(axis=0) - forecast[:, 1:]) < 5 * se)
    assert futures[:, :, 1:].std(axis=0).min() > 0  # they differ: these are futures, not the mean


def test_futures_depend_on_the_seed_only() -> None:
    spec = load("perishable-pharma")
    forecast = np.full((4, 5), 3.0)
    a, b = (demand_futures(spec, forecast, 7, 5, np.random.default_rng(9)) for _ in range(2))
    assert np.array_equal(a, b)
    lead, available = supply_futures(spec, 5, 200, np.random.default_rng(1))
    assert lead.shape == (200, 5, 3) and available.shape == (200, 3, 5)
    assert set(np.unique(lead[:, :, 0])) <= {1, 2, 3} and np.all(lead[:, :, 1:] == 1)
    assert np.all(available[:, 1:] == 1) and available[:, 0].min() == 0  # only the supplier is disrupted


def test_here_and_now_orders_are_shared_and_later_ones_are_recourse() -> None:
    spec = load("divergent-1w3r")
    paths = SamplePaths.draw(spec, 1, 2, seed=0, warmup=0)
    policy = RollingHorizonPolicy(spec, horizon=4, scenarios=4)
    simulate(spec, paths, policy)
    blocks = future_blocks(policy._planning.model)
    solver = policy._planning.solver
    now = [solver.values([b.x[e, 0, 0] for e in range(4)]) for b in blocks]
    later = [solver.values([b.x[e, 0, j] for e in range(4) for j in range(1, 3)]) for b in blocks]
    assert all(np.allclose(n, now[0], atol=1e-7) for n in now)
    assert not all(np.allclose(v, later[0], atol=1e-6) for v in later)


def test_futures_without_noise_plan_as_the_deterministic_planner() -> None:
    """With demand that has no variance every future is the forecast: the same plan as M = 1."""
    spec = load("serial-3")
    demand = replace(spec.demands[0], process=DemandProcess(kind="normal", mean=5.0, std=0.0))
    spec = replace(spec, demands=(demand,))
    paths = SamplePaths.draw(spec, 2, 8, seed=1, warmup=0)
    runs = [simulate(spec, paths, RollingHorizonPolicy(spec, horizon=6, scenarios=m), record=True)
            for m in (1, 3)]
    assert np.allclose(runs[0].trace["orders"], runs[1].trace["orders"], atol=1e-6)


def test_more_futures_hedge_against_lost_sales() -> None:
    """On a lost-sales node the mean forecast runs short half the time; sampled futures buy more stock."""
    spec = load("lost-sales-poisson")
    paths = SamplePaths.draw(spec, 4, 30, seed=2, warmup=0)
    stock = [simulate(spec, paths, RollingHorizonPolicy(spec, horizon=5, scenarios=m)).flows["stock"].mean()
             for m in (1, 8)]
    assert stock[1] > stock[0]


def test_a_path_plans_the_same_whatever_the_number_of_paths() -> None:
    spec = load("divergent-1w3r")
    paths = SamplePaths.draw(spec, 3, 4, seed=5, warmup=0)
    runs = [simulate(spec, p, RollingHorizonPolicy(spec, horizon=4, scenarios=3, seed=2), record=True)
            for p in (paths, paths.subset(slice(0, 1)))]
    assert np.allclose(runs[0].trace["orders"][:1], runs[1].trace["orders"], atol=1e-6)


def test_replacement_cost_prices_the_cheapest_chain() -> None:
    cost = replacement_cost(Network(load("seasonal-grocery")))
    assert np.allclose(cost[:, 0], [1.0, 1.05, 1.05])


def test_terminal_value_credits_the_stock_left_at_the_window_end() -> None:
    """The credit is the replacement cost of the end-of-window stock: the plan's cost without it is no
    better than the optimum without a credit (within the MIP gap), and the credit only lowers the optimum."""
    spec = load("seasonal-grocery")
    paths = SamplePaths.draw(spec, 1, 1, seed=0, warmup=0)
    runs = {}
    for terminal in ("none", "replacement"):
        policy = RollingHorizonPolicy(spec, horizon=6, terminal=terminal, mip_gap=1e-4)
        simulate(spec, paths, policy)
        model = policy._planning.model
        end = policy._planning.solver.values([model.I[n, k, 5] for n in range(3) for k in range(3)])
        runs[terminal] = (policy.stats[0].objective, end)
    credit = replacement_cost(Network(spec)).ravel() @ runs["replacement"][1]
    assert runs["replacement"][0] <= runs["none"][0] + 1e-6
    assert runs["replacement"][0] + credit >= runs["none"][0] * (1 - 1e-3)


def test_policy_text_takes_the_futures() -> None:
    spec = load("divergent-1w3r")
    policy = build_policy(spec, "rolling-horizon:scenarios=5,seed=3,terminal=replacement", lambda: None)
    assert (policy.futures, policy.seed, policy.terminal) == (5, 3, "replacement")
    assert policy.describe()["scenarios"] == 5
    with pytest.raises(SpecError, match="policy.scenarios: must be a whole number"):
        build_policy(spec, "rolling-horizon:scenarios=2.5", lambda: None)


@pytest.mark.parametrize("kwargs,field", [({"scenarios": 0}, "scenarios"),
                                          ({"scenarios": 10_000}, "scenarios"),
                                          ({"seed": -1}, "seed"), ({"terminal": "salvage"}, "terminal")])
def test_bad_future_options_are_named(kwargs: dict, field: str) -> None:
    with pytest.raises(SpecError, match=field):
        RollingHorizonPolicy(load("serial-3"), **kwargs)


def test_a_tree_shares_next_period_decisions_within_a_branch() -> None:
    spec = load("divergent-1w3r")
    paths = SamplePaths.draw(spec, 1, 2, seed=0, warmup=0)
    policy = RollingHorizonPolicy(spec, horizon=4, scenarios=6, branches=2)
    simulate(spec, paths, policy)
    blocks = future_blocks(policy._planning.model)
    solver = policy._planning.solver
    second = [solver.values([b.x[e, 0, 1] for e in range(4)]) for b in blocks]
    demand = [np.array([b.demand[d, 0].value for d in range(3)]) for b in blocks]
    for group in (range(0, 3), range(3, 6)):
        assert all(np.allclose(second[f], second[group[0]], atol=1e-7) for f in group)
        assert all(np.array_equal(demand[f], demand[group[0]]) for f in group)
    assert not np.array_equal(demand[0], demand[3])


def test_branches_must_divide_the_futures() -> None:
    with pytest.raises(SpecError, match="branches"):
        RollingHorizonPolicy(load("serial-3"), scenarios=6, branches=4)


def test_the_planner_runs_under_orgym_timing_and_ships_only_start_of_period_stock() -> None:
    """OR-Gym's suppliers ship from the stock held before the period's arrivals: a plan that
    respected only end-of-period stock would leave orders owed; this one leaves none."""
    spec = load("orgym-inv-v0")
    demand = replace(spec.demands[0], process=DemandProcess(kind="normal", mean=20.0, std=0.0))
    spec = replace(spec, demands=(demand,))
    paths = SamplePaths.draw(spec, 1, 12, seed=0)
    run = simulate(spec, paths, RollingHorizonPolicy(spec, horizon=20), record=True)
    assert np.allclose(run.trace["sent"], run.trace["orders"], atol=1e-6)  # nothing left owed
    assert -run.total_cost.sum() > 0  # a profit


def test_a_disruption_drawn_for_now_does_not_forbid_the_shared_order() -> None:
    """With many futures some draw the supplier disrupted in the current period; the order now
    must not be forced to zero in all of them because of it."""
    spec = load("perishable-pharma")
    paths = SamplePaths.draw(spec, 1, 1, seed=0, warmup=0)
    policy = RollingHorizonPolicy(spec, horizon=6, scenarios=60)
    simulate(spec, paths, policy)
    blocks = future_blocks(policy._planning.model)
    assert all(b.available[0, 0].value == 1.0 for b in blocks)
    assert any(b.available[0, j].value == 0.0 for b in blocks for j in range(1, 6))


def test_a_heavier_shortage_weight_buys_more_protection() -> None:
    spec = load("lost-sales-poisson")
    paths = SamplePaths.draw(spec, 3, 20, seed=2, warmup=0)
    stock = [simulate(spec, paths, RollingHorizonPolicy(spec, horizon=5, scenarios=8, shortage_weight=w))
             .flows["stock"].mean() for w in (1.0, 3.0)]
    assert stock[1] > stock[0]
    with pytest.raises(SpecError, match="shortage_weight"):
        RollingHorizonPolicy(spec, shortage_weight=0.0)
