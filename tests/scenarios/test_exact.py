"""scenarios.exact: Zipkin's lost-sales optimum and the single-item DP behind the relaxed bound."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from scenarios import builtin
from scenarios.exact import lost_sales_optimum, relaxed_lower_bound, store_dp
from scenarios.paths import SamplePaths
from scenarios.processes import DemandProcess, LeadTime, Promotion
from scenarios.registry import build_policy
from scenarios.simulator import simulate
from scenarios.spec import EXTERNAL, SKU, Arc, Demand, Node, Spec


def test_zipkin_lead_time_2_penalty_9_is_the_cited_optimum() -> None:
    """Zipkin (2008): Poisson(5), h = 1, p = 9, L = 2 costs 6.0936, as lost-sales-poisson cites."""
    opt = lost_sales_optimum(2, 9.0)
    assert round(opt.cost, 4) == builtin.get("lost-sales-poisson").known_optimum == 6.0936
    assert opt.bounds[1] - opt.bounds[0] < 1e-6
    assert not opt.cap_binds


def test_zipkin_optimum_grows_with_the_lead_time_and_the_penalty() -> None:
    costs = {(L, p): lost_sales_optimum(L, p).cost for L in (1, 2) for p in (4.0, 9.0)}
    assert costs[1, 4.0] < costs[2, 4.0] and costs[1, 9.0] < costs[2, 9.0]
    assert costs[1, 4.0] < costs[1, 9.0] and costs[2, 4.0] < costs[2, 9.0]


def test_zipkin_optimum_is_below_every_simulated_base_stock_level() -> None:
    spec = builtin.get("lost-sales-poisson")
    paths = SamplePaths.draw(spec, 200, seed=3)
    opt = lost_sales_optimum(2, 9.0).cost
    for S in (18, 19, 20):
        run = simulate(spec, paths, build_policy(spec, f"base-stock:S={S}", lambda: None), kpi_flows=False)
        assert run.total_cost[:, spec.warmup:].mean() > opt


def test_zipkin_rejects_a_zero_lead_time() -> None:
    with pytest.raises(ValueError, match="lead_time"):
        lost_sales_optimum(0, 9.0)


def test_store_dp_two_periods_is_the_newsvendor() -> None:
    """Order in period 0 for period 1 from empty stock: the newsvendor at (p - c) / (p + h)."""
    mean, shape, h, p, c = 10.0, 4.0, 0.5, 6.0, 1.0
    q = shape / (shape + mean)
    d = np.arange(400)
    pmf = stats.nbinom.pmf(d, shape, q)

    def period_cost(y: int) -> float:
        return float((pmf * (h * np.maximum(y - d, 0) + p * np.maximum(d - y, 0))).sum())

    newsvendor = int(stats.nbinom.ppf((p - c) / (p + h), shape, q))
    expected = period_cost(0) + c * newsvendor + period_cost(newsvendor)
    cost, top = store_dp(np.full(2, mean), shape, 1.0, 0.0, h, p, c, 0.0, 0)
    assert cost == pytest.approx(expected, rel=1e-9)
    assert top >= newsvendor  # from empty stock it orders up to the newsvendor level (more from others)


def _store(fixed: float, promotion: Promotion | None) -> Spec:
    return Spec(name="one-store", timing="order-first", shortage="lost-sales", horizon=30, warmup=0,
                nodes=(Node("store", holding_cost=0.5, initial_inventory=10.0),),
                arcs=(Arc(EXTERNAL, "store", lead_time=LeadTime(kind="fixed", value=1), unit_cost=1.0,
                          fixed_cost=fixed),),
                skus=(SKU("item"),),
                demands=(Demand("store", "item", DemandProcess(kind="negative-binomial", mean=10.0,
                                                               std=18**0.5, promotion=promotion),
                                shortage_cost=6.0),))


def _best(spec: Spec, texts: list[str]) -> tuple[float, float]:
    paths = SamplePaths.draw(spec, 4000, seed=11)
    best = min((simulate(spec, paths, build_policy(spec, t, lambda: None), kpi_flows=False).total_cost.mean(1)
                for t in texts), key=np.mean)
    return float(best.mean()), float(best.std(ddof=1) / np.sqrt(len(best)))


def test_no_base_stock_level_beats_the_bound_and_the_best_comes_close() -> None:
    spec = _store(0.0, None)
    bound = relaxed_lower_bound(spec, 30)["bound_per_period"]
    sim, se = _best(spec, [f"base-stock:S={s}" for s in range(14, 34, 2)])
    assert bound <= sim + 3 * se
    assert bound >= 0.95 * sim  # base-stock is near-optimal here: the DP is not loose


def test_with_fixed_costs_and_promotions_no_sS_policy_beats_the_bound() -> None:
    spec = _store(8.0, Promotion(probability=0.1, lift=1.8, duration=2))
    bound = relaxed_lower_bound(spec, 30)["bound_per_period"]
    sim, se = _best(spec, [f"sS:s={s};S={s + q}" for s in (10, 14, 18) for q in (8, 16, 24)])
    assert bound <= sim + 3 * se
    assert bound >= 0.85 * sim


def test_the_state_space_guard_refuses_a_cut_short_order() -> None:
    with pytest.raises(RuntimeError, match="state space"):  # stock that pays to hold: orders to the cap
        store_dp(np.full(5, 1.0), 2.0, 1.0, 0.0, -1.0, 6.0, 0.0, 0.0, 0)


def test_the_relaxation_refuses_other_shapes() -> None:
    with pytest.raises(ValueError, match="order-first"):
        relaxed_lower_bound(builtin.get("serial-3"), 30)
