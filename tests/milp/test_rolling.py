"""The rolling-horizon planner: every parameter reaches the persistent model; options; the policy text."""

from __future__ import annotations

import numpy as np
import pytest
from instances import random_spec

from milp import RollingHorizonPolicy
from milp.model import set_state
from milp.solve import Solver
from scenarios import SamplePaths, load, simulate
from scenarios.errors import SpecError
from scenarios.registry import build_policy


class _Checked(RollingHorizonPolicy):
    """Also solves a freshly built model for every step and keeps both objectives."""

    def act(self, state, t):
        orders = super().act(state, t)
        demand = self._forecast(state, t)
        for p in range(orders.shape[0]):
            fresh = self._build().model
            set_state(fresh, **self._window_state(state, p, t, demand[p]))
            stats = Solver(fresh, mip_gap=self.mip_gap).solve()
            self.fresh.append((stats.bound, stats.objective))
        return orders

    def reset(self, network, n_paths):
        super().reset(network, n_paths)
        self.fresh = []


@pytest.mark.parametrize("name,safety", [
    pytest.param("seasonal-grocery", 5.0, marks=pytest.mark.slow), ("perishable-pharma", 2.0),
    ("serial-3", [1.0, 2.0, 3.0]), ("random", 1.0)])
def test_persistent_model_matches_a_rebuilt_one_every_step(name: str, safety) -> None:
    """Each step's persistent solve brackets the same optimum as a model built from scratch for that state.

    A parameter left stale would move the optimum by far more than the gap.
    """
    spec = load(name) if name != "random" else random_spec(
        3, shape="divergent", shortage="lost-sales", storage=True, capacity=True)
    paths = SamplePaths.draw(spec, 2, 4 if name == "random" else 6, seed=2, warmup=0)
    policy = _Checked(spec, horizon=5, safety=np.asarray(safety), mip_gap=1e-2)
    simulate(spec, paths, policy)
    for stats, (bound, objective) in zip(policy.stats, policy.fresh, strict=True):
        slack = 1e-6 * max(1.0, abs(objective))
        assert stats.bound <= objective + slack and bound <= stats.objective + slack


def test_rebuilding_every_period_orders_the_same() -> None:
    spec = load("divergent-1w3r")
    paths = SamplePaths.draw(spec, 2, 10, seed=4, warmup=0)
    runs = [simulate(spec, paths, RollingHorizonPolicy(spec, horizon=5, persistent=flag), record=True)
            for flag in (True, False)]
    assert np.allclose(runs[0].trace["orders"], runs[1].trace["orders"], atol=1e-6)


@pytest.mark.parametrize("forecast", ["mean", "quantile", "moving-average"])
def test_forecasts_run_and_record_every_solve(forecast: str) -> None:
    spec = load("lost-sales-poisson")
    paths = SamplePaths.draw(spec, 2, 6, seed=1, warmup=0)
    policy = RollingHorizonPolicy(spec, horizon=4, forecast=forecast, quantile=0.8)
    run = simulate(spec, paths, policy)
    assert len(policy.stats) == 2 * 6 and all(s.status == "optimal" for s in policy.stats)
    assert np.isfinite(run.total_cost).all()
    assert policy.describe()["forecast"] == forecast


def test_higher_quantile_orders_more() -> None:
    spec = load("lost-sales-poisson")
    paths = SamplePaths.draw(spec, 3, 12, seed=1, warmup=0)
    stock = [simulate(spec, paths, RollingHorizonPolicy(spec, horizon=4, forecast="quantile", quantile=q))
             .flows["stock"].mean() for q in (0.3, 0.9)]
    assert stock[1] > stock[0]


def test_policy_text_builds_the_planner() -> None:
    spec = load("serial-3")
    policy = build_policy(spec, "rolling-horizon:horizon=5,safety=1,2,3", lambda: None)
    assert isinstance(policy, RollingHorizonPolicy) and policy.horizon == 5
    assert policy.describe()["safety"] == [1.0, 2.0, 3.0]
    with pytest.raises(SpecError, match="policy.speed"):
        build_policy(spec, "rolling-horizon:speed=3", lambda: None)


@pytest.mark.parametrize(("text", "message"), [
    ("horizon=4,5", "policy.horizon: takes one value, got 2: 4,5"),
    ("horizon=4;mip_gap=0.1,0.2", "policy.mip_gap: takes one value, got 2"),
    ("horizon=4.5", "policy.horizon: must be a whole number, got 4.5"),
    ("horizon=x", "policy.horizon: 'x' is not a number"),
])
def test_a_one_value_key_given_several_values_or_a_bad_one_is_an_error(text: str, message: str) -> None:
    with pytest.raises(SpecError) as err:
        build_policy(load("serial-3"), f"rolling-horizon:{text}", lambda: None)
    assert str(err.value).startswith(message)


@pytest.mark.parametrize("kwargs,field", [({"horizon": 0}, "horizon"), ({"forecast": "oracle"}, "forecast"),
                                          ({"quantile": 1.0}, "quantile"), ({"safety": -1.0}, "safety"),
                                          ({"mip_gap": 2.0}, "mip_gap")])
def test_bad_options_are_named(kwargs: dict, field: str) -> None:
    with pytest.raises(SpecError, match=field):
        RollingHorizonPolicy(load("serial-3"), **kwargs)


def test_safety_with_the_wrong_shape_is_rejected_at_reset() -> None:
    spec = load("serial-3")
    paths = SamplePaths.draw(spec, 1, 2, seed=0, warmup=0)
    with pytest.raises(SpecError, match="safety"):
        simulate(spec, paths, RollingHorizonPolicy(spec, safety=[1.0, 2.0]))
