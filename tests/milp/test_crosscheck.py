"""The Pyomo model (tight and naive formulations) and the PuLP model agree on random instances."""

from __future__ import annotations

import numpy as np
import pytest
from instances import random_spec

from milp.model import build_model, set_state
from milp.pulp_model import solve_pulp
from milp.solve import Solver
from scenarios import Network

H = 7
CASES = [
    dict(shape="serial", shortage="backlog", timing="order-first", moq=True),
    dict(shape="divergent", shortage="backlog", timing="order-first", capacity=True, storage=True),
    dict(shape="serial", shortage="lost-sales", timing="order-first", shelf_life=True),
    dict(shape="divergent", shortage="lost-sales", timing="order-first", moq=True, yield_rate=True),
    dict(shape="serial", shortage="backlog", timing="demand-first", storage=True),
    dict(shape="divergent", shortage="backlog", timing="demand-first", capacity=True),
    dict(shape="serial", shortage="lost-sales", timing="demand-first", moq=True, capacity=True),
    dict(shape="divergent", shortage="lost-sales", timing="demand-first", storage=True, shelf_life=True),
    dict(shape="serial", shortage="backlog", timing="order-first", fixed=False),
]


def _objective(net: Network, demand: np.ndarray, formulation: str, bound: bool = False) -> float:
    model = build_model(net, H, formulation=formulation, bound=bound)
    set_state(model, on_hand=net.initial_inventory, demand=demand)
    return Solver(model, mip_gap=0.0, time_limit=60).solve().objective


@pytest.mark.parametrize("seed,case", list(enumerate(CASES)))
def test_pyomo_and_pulp_agree(seed: int, case: dict) -> None:
    spec = random_spec(seed, **case)
    net = Network(spec)
    demand = np.random.default_rng(seed).poisson(5, (net.n_demands, H)).astype(float)
    pulp_value = solve_pulp(net, H, on_hand=net.initial_inventory, demand=demand)
    for formulation in ("tight", "naive"):
        assert _objective(net, demand, formulation) == pytest.approx(pulp_value, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("seed,case", list(enumerate(CASES[:6])))
def test_tight_bound_model_keeps_the_optimum(seed: int, case: dict) -> None:
    """The cover rows and demand-based big-M of the bound model cut off no optimal plan."""
    spec = random_spec(seed, **case)
    net = Network(spec)
    demand = np.random.default_rng(seed).poisson(5, (net.n_demands, H)).astype(float)
    tight = _objective(net, demand, "tight", bound=True)
    assert tight == pytest.approx(_objective(net, demand, "naive", bound=True), rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("seed,case", [(10, CASES[1]), (11, CASES[3]), (12, CASES[6])])
def test_bound_models_agree_with_per_period_lead_times(seed: int, case: dict) -> None:
    """The hindsight relaxation, with a lead time per shipping period and cost scales."""
    spec = random_spec(seed, **case)
    net = Network(spec)
    rng = np.random.default_rng(seed)
    demand = rng.poisson(5, (net.n_demands, H)).astype(float)
    lead = rng.integers(0, 3, (H, net.n_arcs))
    model = build_model(net, H, lead_times=lead, bound=True)
    set_state(model, on_hand=net.initial_inventory, demand=demand, hold_scale=1.2, shortage_scale=0.8)
    pyomo_value = Solver(model, mip_gap=0.0).solve().objective
    pulp_value = solve_pulp(net, H, on_hand=net.initial_inventory, demand=demand, lead_times=lead, bound=True,
                            hold_scale=1.2, shortage_scale=0.8)
    assert pyomo_value == pytest.approx(pulp_value, rel=1e-6, abs=1e-6)
