"""Solver outcomes: statuses, time limits, infeasible windows, the LP-relaxation gap."""

from __future__ import annotations

import numpy as np
import pytest
from instances import random_spec

from milp import InfeasibleWindow
from milp.model import build_model, set_state
from milp.solve import Solver, lp_bound
from scenarios import Network
from scenarios.errors import SpecError


def _model(horizon: int = 8, **kwargs):
    spec = random_spec(4, shape="divergent", shortage="lost-sales", storage=True, skus=2)
    net = Network(spec)
    model = build_model(net, horizon, **kwargs)
    demand = np.random.default_rng(0).poisson(5, (net.n_demands, horizon)).astype(float)
    return net, model, demand


def test_hard_safety_stock_above_storage_names_the_families() -> None:
    net, model, demand = _model(safety="hard")
    capped = int(np.flatnonzero(np.isfinite(net.storage_capacity))[0])
    safety = np.zeros((net.n_nodes, net.n_skus))
    safety[capped] = 0.6 * net.storage_capacity[capped]  # reachable per SKU, not all together
    on_hand = np.full((net.n_nodes, net.n_skus), 100.0)  # plenty upstream to reach it in time
    on_hand[capped] = 0.0
    set_state(model, on_hand=on_hand, demand=demand, safety=safety)
    with pytest.raises(InfeasibleWindow) as caught:
        Solver(model).solve()
    assert set(caught.value.families) == {"storage", "safety_stock"}
    assert "storage" in str(caught.value) and isinstance(caught.value, SpecError)


def test_a_tiny_time_limit_gives_a_status_not_an_exception() -> None:
    net, model, demand = _model(horizon=26, formulation="naive", integer=True)
    set_state(model, on_hand=net.initial_inventory, demand=demand)
    stats = Solver(model, time_limit=0.01, mip_gap=0.0).solve()
    assert stats.status in ("optimal", "time-limit", "no-solution")
    assert stats.seconds < 5
    if stats.status == "no-solution":
        assert stats.objective is None


def test_stats_and_plan_of_an_optimal_solve() -> None:
    net, model, demand = _model()
    set_state(model, on_hand=net.initial_inventory, demand=demand)
    solver = Solver(model, mip_gap=1e-6)
    stats = solver.solve()
    assert stats.status == "optimal" and stats.gap <= 1e-6
    assert stats.bound <= stats.objective + 1e-6
    assert lp_bound(model) <= stats.objective + 1e-6
    shipped = solver.values(list(model.x.values()))
    assert shipped.shape == (len(model.x),) and np.all(shipped >= -1e-9)
    # solving again after a parameter change gives the fresh model's answer
    set_state(model, on_hand=net.initial_inventory * 2, demand=demand * 0.5)
    again = solver.solve().objective
    _, fresh, _ = _model()
    set_state(fresh, on_hand=net.initial_inventory * 2, demand=demand * 0.5)
    assert again == pytest.approx(Solver(fresh, mip_gap=1e-6).solve().objective, rel=1e-5)


@pytest.mark.parametrize("option,value", [("time_limit", 0.0), ("mip_gap", 1.0), ("threads", 0)])
def test_bad_options_are_named(option: str, value: float) -> None:
    with pytest.raises(SpecError, match=option):
        Solver(None, **{option: value})
