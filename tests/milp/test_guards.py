"""What the MILP layer refuses, naming the field: timings it does not model, windows too short."""

from __future__ import annotations

import pytest

from milp import RollingHorizonPolicy, hindsight_bound, optimise_static
from milp.model import lead_chain
from scenarios import SamplePaths, load, simulate
from scenarios.errors import SpecError
from scenarios.registry import build_policy


@pytest.fixture(scope="module")
def orgym():
    spec = load("orgym-inv-v0")
    assert spec.timing == "orgym"
    return spec


@pytest.mark.parametrize("backend", ["pyomo", "pulp"])
def test_hindsight_bound_rejects_the_orgym_timing(orgym, backend: str) -> None:
    paths = SamplePaths.draw(orgym, 1, 3, seed=0, warmup=0)
    with pytest.raises(SpecError, match="timing") as caught:
        hindsight_bound(orgym, paths, backend=backend)
    assert caught.value.field == "timing"


def test_optimise_static_rejects_the_orgym_timing(orgym) -> None:
    paths = SamplePaths.draw(orgym, 2, 6, seed=0, warmup=0)
    with pytest.raises(SpecError, match="timing") as caught:
        optimise_static(orgym, paths)
    assert caught.value.field == "timing"


def test_lead_chain_of_serial_3_is_2_plus_1_plus_1() -> None:
    chain, route = lead_chain(load("serial-3"))
    assert chain == 4 and route == ["external", "stage3", "stage2", "stage1"]


def test_a_window_no_longer_than_the_lead_time_chain_is_rejected_with_the_minimum() -> None:
    spec = load("serial-3")
    with pytest.raises(SpecError, match="at least 5") as caught:
        RollingHorizonPolicy(spec, horizon=4)
    assert caught.value.field == "horizon"
    with pytest.raises(SpecError, match="horizon"):
        build_policy(spec, "rolling-horizon:horizon=4", lambda: None)
    assert RollingHorizonPolicy(spec, horizon=5).horizon == 5


def test_the_shortest_window_allowed_orders_and_sells() -> None:
    """At H = chain + 1 what is ordered at the top arrives within the window: the planner orders."""
    spec = load("serial-3")
    paths = SamplePaths.draw(spec, 1, 8, seed=0, warmup=0)
    run = simulate(spec, paths, RollingHorizonPolicy(spec, horizon=5), record=True)
    assert run.trace["orders"].sum() > 0
