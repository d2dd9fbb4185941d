"""The hindsight bound: the model reproduces the simulator's cost, and bounds every policy path by path."""

from __future__ import annotations

import numpy as np
import pytest
from instances import random_spec

from milp import RollingHorizonPolicy, hindsight_bound, hindsight_model
from milp.solve import Solver
from scenarios import SamplePaths, load, make_policy, simulate, tune
from scenarios.errors import SpecError
from scenarios.tuning import initial_levels

BOUND_SCENARIOS = ["serial-3", "divergent-1w3r", "lost-sales-poisson",
                   pytest.param("seasonal-grocery", marks=pytest.mark.slow)]


@pytest.mark.parametrize("name", ["serial-3", "divergent-1w3r", "lost-sales-poisson"])
def test_model_reproduces_the_simulated_cost(name: str) -> None:
    """With the simulator's shipments fixed, the model's cost is the simulator's, period for period."""
    spec = load(name)
    paths = SamplePaths.draw(spec, 2, 12, seed=3, warmup=2)
    policy = make_policy(spec, "base-stock", {"S": initial_levels(spec)["local"] * 0.8})
    run = simulate(spec, paths, policy, record=True)
    sent = run.trace["sent"] + run.trace["yield_loss"]  # (P, T, E, K) shipped, before yield
    for p in range(paths.n_paths):
        model = hindsight_model(spec, paths, p)
        for (e, k, t), var in model.x.items():
            var.fix(float(sent[p, t, e, k]))
        stats = Solver(model, mip_gap=0.0).solve()
        assert stats.objective == pytest.approx(run.total_cost[p].sum(), rel=1e-9, abs=1e-6)


@pytest.fixture(scope="module")
def tuned():
    """Base-stock and (s, S) levels tuned briefly on training paths, per scenario."""
    out = {}
    for name in ("serial-3", "divergent-1w3r", "lost-sales-poisson", "seasonal-grocery", "random"):
        spec = _spec(name)
        train = SamplePaths.draw(spec, 40, 30, seed=11, warmup=0)
        out[name] = {family: tune(spec, family, train, max_iterations=8).params
                     for family in ("base-stock", "sS")}
    return out


def _spec(name: str):
    if name == "random":  # fixed costs, MOQs, capacities, storage, two SKUs
        return random_spec(8, shape="divergent", shortage="lost-sales", storage=True, moq=True, capacity=True)
    return load(name)


@pytest.mark.parametrize("name", [*BOUND_SCENARIOS, "random"])
def test_bound_is_below_every_policy_path_by_path(name: str, tuned) -> None:
    spec = _spec(name)
    paths = SamplePaths.draw(spec, 2 if name == "random" else 3, 14, seed=5, warmup=2)
    bound = hindsight_bound(spec, paths)
    policies = [make_policy(spec, family, params) for family, params in tuned[name].items()]
    policies.append(RollingHorizonPolicy(spec, horizon=5, time_limit=5.0))
    for policy in policies:
        cost = simulate(spec, paths, policy).total_cost.mean(axis=1)
        assert np.all(bound <= cost + 1e-6), (policy.name, bound, cost)
    assert np.all(bound > -np.inf)


def test_goodwill_is_rejected() -> None:
    from dataclasses import replace

    from scenarios.processes import Goodwill

    spec = load("lost-sales-poisson")
    demand = spec.demands[0]
    process = replace(demand.process, goodwill=Goodwill(sensitivity=0.5, recovery=0.1))
    spec = replace(spec, demands=(replace(demand, process=process),))
    paths = SamplePaths.draw(spec, 1, 5, seed=0, warmup=0)
    with pytest.raises(SpecError, match="goodwill"):
        hindsight_bound(spec, paths)
