"""Optimal static base-stock levels (milp.static): exactness, the serial-3 optimum, determinism, errors."""

from __future__ import annotations

import numpy as np
import pytest

from milp.static import optimise_static, program_cost
from scenarios import SamplePaths, load, make_policy, simulate
from scenarios.distribution import ScenarioDistribution
from scenarios.errors import SpecError
from scenarios.processes import DemandProcess, LeadTime
from scenarios.spec import EXTERNAL, SKU, Arc, Demand, Node, Spec

OPTIMUM = 47.67  # serial-3, Snyder & Shen Example 6.1
OPTIMAL_LEVELS = np.array([6.49, 12.03, 22.72])


def mean_cost(spec: Spec, paths: SamplePaths, family: str, levels) -> float:
    run = simulate(spec, paths, make_policy(spec, family, {"S": levels}))
    return float(run.total_cost[:, paths.warmup:].mean())


def serial_random_leads() -> Spec:
    """Two stages, random lead times, every per-unit and fixed cost, per-path cost scales."""
    one_or_two = LeadTime(kind="discrete", values=(1, 2), probabilities=(0.6, 0.4))
    return Spec(
        name="serial-2-random", timing="order-first", shortage="backlog", integer=False, warmup=15,
        randomisation=ScenarioDistribution(holding_cost=(0.8, 1.2), shortage_cost=(0.7, 1.3)),
        nodes=(Node("shop", holding_cost=3.0, initial_inventory=8.0),
               Node("depot", holding_cost=1.0, initial_inventory=15.0)),
        arcs=(Arc("depot", "shop", pipeline_holding_cost=0.5, transport_cost=0.2, unit_cost=0.3,
                  fixed_cost=2.0, lead_time=one_or_two),
              Arc(EXTERNAL, "depot", lead_time=LeadTime(kind="fixed", value=2), unit_cost=1.0,
                  fixed_cost=5.0)),
        demands=(Demand("shop", "item", DemandProcess(kind="normal", mean=6.0, std=2.0),
                        shortage_cost=20.0),),
    )


def three_sku_line() -> Spec:
    """Two stages, three SKUs with integer Poisson demand, demand-first timing.

    (Three, not two: ``make_policy`` reads a ``(2, 2)`` array as per-node values with a path axis.)
    """
    return Spec(
        name="three-sku-line", timing="demand-first", shortage="backlog", warmup=10,
        skus=(SKU("a"), SKU("b"), SKU("c")),
        nodes=(Node("store", holding_cost=(2.0, 1.0, 1.5), initial_inventory=(6.0, 3.0, 2.0)),
               Node("dc", holding_cost=(1.0, 0.5, 0.5), initial_inventory=(10.0, 5.0, 4.0))),
        arcs=(Arc("dc", "store", lead_time=LeadTime(kind="fixed", value=1), pipeline_holding_cost=1.0),
              Arc(EXTERNAL, "dc", lead_time=LeadTime(kind="fixed", value=1))),
        demands=(Demand("store", "a", DemandProcess(kind="poisson", mean=4.0), shortage_cost=15.0),
                 Demand("store", "b", DemandProcess(kind="poisson", mean=2.0), shortage_cost=9.0),
                 Demand("store", "c", DemandProcess(kind="poisson", mean=1.0), shortage_cost=30.0)),
    )


# -- the program is the simulator ----------------------------------------------------------------
CASES = [
    ("serial-3", "echelon-base-stock", [[6.49, 12.03, 22.72], [5.0, 14.0, 20.0], [8.0, 9.0, 25.0]]),
    ("serial-3", "base-stock", [[6.49, 5.54, 10.69], [3.0, 7.0, 12.0]]),
    ("divergent-1w3r", "echelon-base-stock", [[116, 17, 31, 43], [100, 15, 30, 40], [90, 17, 30, 43]]),
    ("divergent-1w3r", "base-stock", [[20, 17, 31, 43], [5, 12, 25, 36]]),
    ("lost-sales-poisson", "base-stock", [[18], [12]]),
    (serial_random_leads, "echelon-base-stock", [[14.0, 40.0], [10.0, 25.0]]),
    (serial_random_leads, "base-stock", [[14.0, 26.0], [20.0, 5.0]]),
    (three_sku_line, "echelon-base-stock", [[[7, 4, 3], [11, 6, 5]], [[4, 2, 1], [12, 9, 6]]]),
]


@pytest.mark.parametrize(("scenario", "family", "candidates"), CASES,
                         ids=[f"{c[0] if isinstance(c[0], str) else c[0].__name__}-{c[1]}" for c in CASES])
def test_program_reproduces_the_simulator(scenario, family, candidates):
    # The program assumes order-up-to rows bind from the start: echelon levels at or above the
    # initial echelon stock (milp.static). A warehouse level below it (SKU c at 2 against 6)
    # makes the equality hold or fail by the luck of early demand on the drawn paths.
    spec = load(scenario) if isinstance(scenario, str) else scenario()
    paths = SamplePaths.draw(spec, paths=30, periods=60, seed=4)
    for levels in candidates:
        simulated = mean_cost(spec, paths, family, np.asarray(levels, dtype=float))
        assert program_cost(spec, paths, family, levels) == pytest.approx(simulated, rel=1e-9)


def test_the_saa_cost_is_not_convex():
    # Why one LP cannot be exact: along the stage-1 level the cost bends down (a held-back unit
    # saves echelon holding), so the midpoint lies above the chord.
    spec = load("serial-3")
    paths = SamplePaths.draw(spec, paths=50, periods=100, seed=0)
    low, high = [7.0, 12.03, 22.72], [11.0, 12.03, 22.72]
    mid = [9.0, 12.03, 22.72]
    cost = {k: program_cost(spec, paths, "echelon-base-stock", v) for k, v in
            (("low", low), ("high", high), ("mid", mid))}
    assert cost["mid"] > (cost["low"] + cost["high"]) / 2 + 0.1


# -- serial-3 -------------------------------------------------------------------------------------
def test_serial3_within_one_percent_of_the_known_optimum():
    spec = load("serial-3")
    train = SamplePaths.draw(spec, paths=200, periods=200, seed=7)
    result = optimise_static(spec, train, "echelon-base-stock")
    assert result.status == "optimal" and result.exact
    np.testing.assert_allclose(result.levels, OPTIMAL_LEVELS, atol=0.15)
    test = SamplePaths.draw(spec, paths=2000, periods=300, seed=1)
    cost = mean_cost(spec, test, "echelon-base-stock", result.levels)
    assert abs(cost / OPTIMUM - 1) < 0.01


def test_local_levels_match_echelon_levels_on_a_line():
    # On a serial line local base-stock with S_local = differences of echelon levels is the same policy.
    spec = load("serial-3")
    train = SamplePaths.draw(spec, paths=40, periods=100, seed=3)
    echelon = optimise_static(spec, train, "echelon-base-stock")
    local = optimise_static(spec, train, "base-stock")
    assert local.objective == pytest.approx(echelon.objective, rel=1e-5)
    np.testing.assert_allclose(np.cumsum(local.levels), echelon.levels, atol=0.05)


# -- the certificate: LP objective = simulated cost on the same paths --------------------------------
@pytest.mark.parametrize("method", ["ccp", "ccp-lp"])
def test_lp_objective_equals_the_simulated_cost(method):
    spec = load("serial-3")
    paths = SamplePaths.draw(spec, paths=40, periods=100, seed=5)
    result = optimise_static(spec, paths, "echelon-base-stock", method=method, validate=True)
    assert result.exact and result.status == "optimal"
    assert result.objective == pytest.approx(result.simulated, rel=1e-9)
    assert result.lp_objective == pytest.approx(result.simulated, rel=1e-6)
    assert list(result.history) == sorted(result.history, reverse=True)  # every step descends


def test_exact_on_a_line_with_random_lead_times_and_order_costs():
    spec = serial_random_leads()
    paths = SamplePaths.draw(spec, paths=40, periods=80, seed=2)
    result = optimise_static(spec, paths, "echelon-base-stock", validate=True)
    assert result.exact and result.status == "optimal"
    assert result.lp_objective == pytest.approx(result.simulated, rel=1e-6)


def test_several_skus_give_per_sku_levels():
    spec = three_sku_line()
    paths = SamplePaths.draw(spec, paths=40, periods=80, seed=2)
    result = optimise_static(spec, paths, "echelon-base-stock", validate=True)
    assert np.shape(result.params["S"]) == (2, 3)
    assert result.levels == pytest.approx(np.sum(result.levels_by_sku, axis=1).tolist())
    assert result.objective == pytest.approx(result.simulated, rel=1e-9)
    simulated = simulate(spec, paths, result.policy(spec)).total_cost[:, paths.warmup:].mean()
    assert simulated == pytest.approx(result.objective, rel=1e-9)


@pytest.mark.slow
def test_reaches_the_exact_milp_optimum_on_a_tiny_sample():
    # The MILP (one binary per supplier, path and period) is the exact SAA problem; on a tiny
    # sample HiGHS solves it, and the convex-concave procedure must not be worse.
    spec = load("serial-3")
    paths = SamplePaths.draw(spec, paths=3, periods=30, seed=0)
    milp = optimise_static(spec, paths, method="milp", mip_gap=1e-6, time_limit=300)
    ccp = optimise_static(spec, paths, method="ccp")
    assert milp.status == "optimal"
    assert ccp.objective <= milp.objective * (1 + 1e-6)


# -- approximations are flagged -------------------------------------------------------------------------
def test_shared_supplier_and_lost_sales_are_flagged_approximate():
    spec = load("divergent-1w3r")
    paths = SamplePaths.draw(spec, paths=20, periods=60, seed=1)
    result = optimise_static(spec, paths, "echelon-base-stock", validate=True)
    assert not result.exact and any("proportional" in n for n in result.notes)
    assert result.objective == pytest.approx(result.simulated, rel=1e-9)  # its simulation is still exact
    assert all(float(v).is_integer() for v in result.levels)  # integer spec, integer levels
    spec = load("lost-sales-poisson")
    paths = SamplePaths.draw(spec, paths=20, periods=100, seed=1)
    result = optimise_static(spec, paths, "base-stock")
    assert not result.exact and any("lost sales" in n for n in result.notes)


# -- determinism ----------------------------------------------------------------------------------------
def test_same_paths_same_levels():
    spec = load("serial-3")
    paths = SamplePaths.draw(spec, paths=30, periods=80, seed=9)
    first = optimise_static(spec, paths)
    again = optimise_static(spec, SamplePaths.draw(spec, paths=30, periods=80, seed=9))
    assert first.levels == again.levels
    assert first.objective == again.objective


# -- errors ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("scenario", "field"), [
    ("seasonal-grocery", "nodes[1].storage_capacity"),
    ("perishable-pharma", "skus[0].shelf_life"),
])
def test_unsupported_scenarios_name_the_field(scenario, field):
    spec = load(scenario)
    paths = SamplePaths.draw(spec, paths=2, periods=10, seed=0)
    with pytest.raises(SpecError, match="optimise_static cannot model") as err:
        optimise_static(spec, paths, "base-stock")
    assert err.value.field == field


def test_bad_family_method_and_paths_are_spec_errors():
    spec = load("serial-3")
    paths = SamplePaths.draw(spec, paths=2, periods=10, seed=0)
    with pytest.raises(SpecError) as err:
        optimise_static(spec, paths, "sS")
    assert err.value.field == "family"
    with pytest.raises(SpecError) as err:
        optimise_static(spec, paths, method="simplex")
    assert err.value.field == "method"
    other = load("lost-sales-poisson")
    with pytest.raises(SpecError) as err:
        optimise_static(other, paths, "base-stock")
    assert err.value.field == "paths"


def test_several_suppliers_is_a_spec_error():
    spec = Spec(
        name="two-suppliers",
        nodes=(Node("shop", holding_cost=1.0), Node("a", holding_cost=0.5), Node("b", holding_cost=0.5)),
        arcs=(Arc("a", "shop", split=0.5), Arc("b", "shop", split=0.5),
              Arc(EXTERNAL, "a"), Arc(EXTERNAL, "b")),
        demands=(Demand("shop", "item", DemandProcess(kind="poisson", mean=3.0), shortage_cost=5.0),),
    )
    paths = SamplePaths.draw(spec, paths=2, periods=10, seed=0)
    with pytest.raises(SpecError, match="tree"):
        optimise_static(spec, paths, "base-stock")
