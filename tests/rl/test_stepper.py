"""The period-by-period stepper reproduces ``scenarios.simulator.simulate`` bit for bit."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rl.stepper import Stepper
from scenarios import builtin
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.policies import SS, BaseStock, EchelonBaseStock
from scenarios.simulator import simulate
from scenarios.tuning import initial_levels


def _conservation_module():
    """The random-spec strategies of tests/scenarios/test_conservation.py (reused, not copied)."""
    path = Path(__file__).parents[1] / "scenarios" / "test_conservation.py"
    spec = importlib.util.spec_from_file_location("_conservation_strategies", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


conservation = _conservation_module()


def assert_same_run(spec, paths, policy) -> None:
    """Run ``policy`` through simulate() and through the stepper; every array must be equal."""
    expected = simulate(spec, paths, policy, record=True)
    net = Network(spec)
    policy.reset(net, paths.n_paths)
    stepper = Stepper(spec, paths, net, record=True, policy_name=policy.name)
    while not stepper.done:
        stepper.step(policy)
    got = stepper.run()
    for group in ("costs", "flows", "trace"):
        for key, value in getattr(expected, group).items():
            np.testing.assert_array_equal(getattr(got, group)[key], value, err_msg=f"{group}.{key}")
    np.testing.assert_array_equal(stepper.total_cost(), expected.total_cost)


@pytest.mark.parametrize("name", builtin.names())
def test_builtin_scenarios_match_simulate(name: str) -> None:
    spec = builtin.get(name)
    paths = SamplePaths.draw(spec, 4, periods=30, seed=11)
    level = initial_levels(spec)["local"]
    assert_same_run(spec, paths, SS(s=0.8 * level, S=1.1 * level))
    if spec.is_tree:
        assert_same_run(spec, paths, EchelonBaseStock(S=initial_levels(spec)["echelon"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_specs_match_simulate(data) -> None:
    spec = data.draw(conservation.specs())
    policy = data.draw(conservation.policies(spec))
    paths = SamplePaths.draw(spec, paths=3, periods=12, seed=data.draw(st.integers(0, 1000)), warmup=0)
    assert_same_run(spec, paths, policy)


def test_stepper_refuses_out_of_order_calls() -> None:
    spec = builtin.get("lost-sales-poisson")
    stepper = Stepper(spec, SamplePaths.draw(spec, 2, periods=2, seed=0, warmup=0))
    with pytest.raises(RuntimeError, match="begin_period"):
        stepper.end_period(np.zeros((2, 1, 1)))
    stepper.begin_period()
    with pytest.raises(ValueError, match="shaped"):
        stepper.end_period(np.zeros((3, 1, 1)))


def test_budget_and_moq_match_simulate() -> None:
    from dataclasses import replace

    spec = builtin.get("seasonal-grocery")
    spec = replace(spec, budget=150.0, arcs=tuple(replace(a, moq=20.0) for a in spec.arcs))
    paths = SamplePaths.draw(spec, 3, periods=20, seed=5)
    assert_same_run(spec, paths, BaseStock(S=initial_levels(spec)["local"]))
