"""KPIs and their confidence intervals; the compass-search tuner on textbook scenarios."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from scenarios import builtin
from scenarios.kpis import KPI_NAMES, estimate, kpis, paired_difference, per_path
from scenarios.paths import SamplePaths
from scenarios.policies import EchelonBaseStock
from scenarios.processes import DemandProcess, LeadTime
from scenarios.simulator import COST_PARTS, Run, simulate
from scenarios.spec import EXTERNAL, Arc, Demand, Node, Spec
from scenarios.tuning import tune

SERIAL_OPTIMUM = 47.67
SERIAL_LEVELS = [6.49, 12.03, 22.72]


# -- estimate -------------------------------------------------------------------------------------

def test_estimate_ci_covers_the_true_mean_95_percent_of_the_time() -> None:
    # Five normal draws per estimate: a Student-t interval covers ~95%; a normal-quantile
    # interval would cover only ~88%, a standard deviation without ddof=1 less still.
    rng = np.random.default_rng(0)
    samples = rng.normal(10.0, 3.0, size=(1000, 5))
    covered = [e.low <= 10.0 <= e.high for e in map(estimate, samples)]
    assert 0.93 <= np.mean(covered) <= 0.97, np.mean(covered)


def test_estimate_values_and_edge_cases() -> None:
    e = estimate(np.array([1.0, 2.0, 3.0, np.nan]))  # NaN (e.g. no demand) is dropped
    half = stats.t.ppf(0.975, 2) * 1.0 / np.sqrt(3)
    assert (e.mean, e.std, e.n) == (2.0, 1.0, 3)
    assert e.low == pytest.approx(2.0 - half) and e.high == pytest.approx(2.0 + half)
    assert e.half_width == pytest.approx(half)
    one = estimate(np.array([4.0]))
    assert one.mean == 4.0 and one.n == 1 and one.half_width == float("inf")
    none = estimate(np.array([np.nan]))
    assert none.n == 0 and np.isnan(none.mean)


# -- KPIs on a hand-built run ---------------------------------------------------------------------

def hand_built_run() -> Run:
    """Two paths, four periods, the first one warm-up; two demand streams; discount 0.9."""
    spec = Spec(name="hand", nodes=(Node("a"), Node("b")), arcs=(),
                demands=(Demand("a", "item", DemandProcess(kind="poisson", mean=5.0)),
                         Demand("b", "item", DemandProcess(kind="poisson", mean=5.0))),
                shortage="lost-sales", discount=0.9)
    flows = {
        "demand": [[9, 10, 12, 8], [4, 6, 4, 2]],
        "filled": [[9, 10, 8, 8], [4, 6, 2, 1]],
        "sold": [[9, 10, 8, 8], [4, 6, 2, 1]],
        "lost": [[0, 0, 4, 0], [0, 0, 2, 1]],
        "backlog": [[0, 0, 0, 0], [0, 0, 0, 0]],
        "stock": [[5, 4, 0, 6], [3, 1, 0, 0]],
        "waste": [[0, 0, 0, 0], [0, 1, 0, 2]],
        "external_orders": [[10, 10, 14, 6], [5, 5, 5, 5]],
        "short_streams": [[0, 0, 1, 0], [0, 0, 1, 1]],
        "empty_streams": [[0, 0, 1, 0], [0, 0, 2, 2]],
    }
    flows = {k: np.array(v, dtype=float) for k, v in flows.items()}
    costs = {k: np.zeros((2, 4)) for k in COST_PARTS}
    costs["holding"] = flows["stock"].copy()       # h = 1
    costs["shortage"] = 5.0 * flows["lost"]        # p = 5 per lost sale
    costs["revenue"] = np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    return Run(spec, "hand", 1, costs, flows)


def test_kpis_on_a_hand_built_run() -> None:
    # Measured periods 1..3. Path 0: demand 10, 12, 8; filled 10, 8, 8; lost 0, 4, 0;
    # stock 4, 0, 6; orders 10, 14, 6. Path 1: demand 6, 4, 2; filled 6, 2, 1; lost 0, 2, 1;
    # stock 1, 0, 0; orders 5, 5, 5.
    # cost: path 0 holding 4, 0, 6 + shortage 0, 20, 0 - revenue 1, 0, 0 = 3, 20, 6 -> 29/3;
    #       path 1: 1, 10, 5 -> 16/3. Discounted: 3 + 0.9 * 20 + 0.81 * 6 = 25.86;
    #       1 + 0.9 * 10 + 0.81 * 5 = 14.05.
    run = hand_built_run()
    want = {
        "fill_rate": [26 / 30, 9 / 12],
        "lost_sales": [4 / 3, 3 / 3],
        "cycle_service_level": [1 - 1 / 6, 1 - 2 / 6],  # short (period, stream) pairs of 3 x 2
        "stockout_frequency": [1 / 6, 4 / 6],
        "backorders": [0.0, 0.0],
        "average_inventory": [10 / 3, 1 / 3],
        "turnover": [(26 / 3) / (10 / 3), (9 / 3) / (1 / 3)],
        "waste": [0.0, (1 + 0 + 2) / 3],
        "bullwhip": [16 / 4, 0 / 4],  # var(orders) / var(demand), ddof = 1
        "cost_per_period": [29 / 3, 16 / 3],
        "discounted_cost": [25.86, 14.05],
        "cost.holding": [10 / 3, 1 / 3],
        "cost.shortage": [20 / 3, 15 / 3],
        "cost.revenue": [1 / 3, 0.0],
    }
    values = per_path(run)
    assert set(KPI_NAMES) <= set(values)
    for name, expected in want.items():
        np.testing.assert_allclose(values[name], expected, rtol=1e-12, err_msg=name)
    summary = kpis(run)
    for name, expected in want.items():
        assert summary[name].mean == pytest.approx(np.mean(expected)), name
        assert summary[name].n == 2


class OrderOnce:
    """Policy ordering ``quantity`` on every arc in period ``when`` only."""

    name = "order-once"

    def __init__(self, when: int, quantity: float) -> None:
        self.when, self.quantity = when, quantity

    def reset(self, network, n_paths: int) -> None:
        self.shape = (n_paths, network.n_arcs, network.n_skus)

    def act(self, state, t: int) -> np.ndarray:
        return np.full(self.shape, self.quantity if t == self.when else 0.0)


# 5 on hand, demand exactly 3 a period, 10 ordered in t1 land in t2 (order-first, L = 1),
# h = 1, p = 2. Period 1 sells 2 and is short 1:
# backlog:    sold 3, 2, 4, 3 (the unit owed is sold in t2), filled at once 3, 2, 3, 3,
#             stock 2, 0, 6, 3, backlog 0, 1, 0, 0; cost 2, 0 + 2, 6, 3.
# lost sales: sold = filled = 3, 2, 3, 3, stock 2, 0, 7, 4, lost 0, 1, 0, 0; cost 2, 2, 7, 4.
SIMULATED = {
    "backlog": dict(backorders=1 / 4, lost_sales=0.0, average_inventory=11 / 4,
                    turnover=(12 / 4) / (11 / 4), cost_per_period=13 / 4),
    "lost-sales": dict(backorders=0.0, lost_sales=1 / 4, average_inventory=13 / 4,
                       turnover=(11 / 4) / (13 / 4), cost_per_period=15 / 4),
}


@pytest.mark.parametrize("shortage", list(SIMULATED))
def test_kpis_of_a_simulated_run(shortage: str) -> None:
    spec = Spec(name="short", nodes=(Node("store", holding_cost=1.0, initial_inventory=5.0),),
                arcs=(Arc(EXTERNAL, "store", lead_time=LeadTime(kind="fixed", value=1)),),
                demands=(Demand("store", "item", DemandProcess(kind="empirical", history=(3.0,)),
                                shortage_cost=2.0),), shortage=shortage)
    paths = SamplePaths.draw(spec, 3, 4, seed=0, warmup=0)
    k = kpis(simulate(spec, paths, OrderOnce(when=1, quantity=10.0)))
    assert k["fill_rate"].mean == pytest.approx(11 / 12)  # served at once, not later from backlog
    assert k["cycle_service_level"].mean == pytest.approx(3 / 4)
    assert k["stockout_frequency"].mean == pytest.approx(1 / 4)
    for name, value in SIMULATED[shortage].items():
        assert k[name].mean == pytest.approx(value), name
    assert k["cost_per_period"].half_width == 0.0  # every path is the same
    assert k["cost_per_period"].n == 3


# -- paired differences ---------------------------------------------------------------------------

def test_paired_difference_is_narrower_than_unpaired() -> None:
    spec = builtin.get("serial-3")
    paths = SamplePaths.draw(spec, 400, 200, seed=5)
    best = simulate(spec, paths, EchelonBaseStock(S=SERIAL_LEVELS))
    close = simulate(spec, paths, EchelonBaseStock(S=[7.0, 12.03, 22.72]))
    a = close.total_cost[:, close.warmup:].mean(1)
    b = best.total_cost[:, best.warmup:].mean(1)
    paired = paired_difference(close, best)
    assert paired.mean == pytest.approx(a.mean() - b.mean())
    assert paired.n == 400
    unpaired_half = stats.t.ppf(0.975, 399) * np.sqrt(a.var(ddof=1) / 400 + b.var(ddof=1) / 400)
    assert paired.half_width < 0.5 * unpaired_half, (paired.half_width, unpaired_half)
    assert paired.low > 0  # stage 1 above its optimal level costs more, significantly
    other = simulate(spec, paths.subset(slice(0, 10)), EchelonBaseStock(S=SERIAL_LEVELS))
    with pytest.raises(ValueError, match="same sample paths"):
        paired_difference(close, other)


# -- tuner ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def serial_tuned():
    spec = builtin.get("serial-3")
    return spec, tune(spec, "echelon-base-stock", SamplePaths.draw(spec, 200, 200, seed=11))


def test_tuned_serial_3_is_within_1_percent_of_the_optimum_on_test_paths(serial_tuned) -> None:
    spec, result = serial_tuned
    assert result.family == "echelon-base-stock" and len(result.params["S"]) == 3
    assert result.history == sorted(result.history, reverse=True)  # never gets worse
    assert result.evaluations > 1
    test = SamplePaths.draw(spec, 2000, 300, seed=12)
    cost = simulate(spec, test, result.policy()).total_cost[:, spec.warmup:].mean()
    assert abs(cost - SERIAL_OPTIMUM) < 0.01 * SERIAL_OPTIMUM, (result.params, cost)


def test_tuner_is_deterministic() -> None:
    spec = builtin.get("serial-3")
    first = tune(spec, "echelon-base-stock", SamplePaths.draw(spec, 40, 80, seed=4))
    second = tune(spec, "echelon-base-stock", SamplePaths.draw(spec, 40, 80, seed=4))
    assert first.params == second.params
    assert first.train_cost == second.train_cost
    assert first.history == second.history


def test_tuned_base_stock_on_lost_sales_poisson() -> None:
    # Zipkin (2008): Poisson(5), L = 2, h = 1, p = 9; the best base-stock level is near 19
    # (mean demand over L + 1 periods is 15).
    spec = builtin.get("lost-sales-poisson")
    result = tune(spec, "base-stock", SamplePaths.draw(spec, 200, 500, seed=21))
    (level,) = result.params["S"]
    assert 17 <= level <= 21, result.params
    assert level == round(level)  # integer scenario: whole levels


def test_capped_base_stock_nears_zipkin_optimum_on_lost_sales():
    # Zipkin (2008): optimal 6.0936 per period; plain base-stock is ~3.6% above it, a capped
    # base-stock (Xin 2021) should come within 1% when tuned on its own paths.
    spec = builtin.get("lost-sales-poisson")
    train = SamplePaths.draw(spec, 200, 500, seed=11)
    tuned = tune(spec, "capped-base-stock", train)
    test = SamplePaths.draw(spec, 1000, 1000, seed=12)
    cost = kpis(simulate(spec, test, tuned.policy()))["cost_per_period"]
    assert cost.mean < 6.0936 * 1.01
    plain = kpis(simulate(spec, test, tune(spec, "base-stock", train).policy()))["cost_per_period"]
    assert cost.mean < plain.mean
