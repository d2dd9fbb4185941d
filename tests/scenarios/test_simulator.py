"""Simulator mechanics on tiny hand-built specs, each checked against numbers worked out by hand.

Demand is made deterministic with an empirical process of one value (``history=(3,)``
always draws 3) or a normal with ``std=0``; orders come from a scripted policy.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from scenarios import builtin
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.policies import BaseStock, EchelonBaseStock
from scenarios.processes import DemandProcess, Disruption, Goodwill, LeadTime
from scenarios.simulator import COST_PARTS, Run, simulate
from scenarios.spec import EXTERNAL, SKU, Arc, Demand, Node, Spec
from scenarios.tuning import initial_levels


class Scripted:
    """Policy placing scripted orders: ``schedule[t]`` ``(arcs, skus)`` in period ``t``, then 0."""

    name = "scripted"

    def __init__(self, schedule: dict[int, list[list[float]]]) -> None:
        self.schedule = {t: np.asarray(q, dtype=float) for t, q in schedule.items()}

    def reset(self, network: Network, n_paths: int) -> None:
        self.shape = (n_paths, network.n_arcs, network.n_skus)

    def act(self, state, t: int) -> np.ndarray:
        return np.broadcast_to(self.schedule.get(t, np.zeros(self.shape[1:])), self.shape).copy()


def constant(value: float) -> DemandProcess:
    """Demand of exactly ``value`` every period."""
    return DemandProcess(kind="empirical", history=(float(value),))


def store(lead: int = 1, demand: float = 3.0, initial: float = 0.0, shortage_cost: float = 0.0,
          arc: dict | None = None, sku: SKU | None = None, **kw) -> Spec:
    """One node supplied from outside with a fixed lead time; holding 1 per unit-period."""
    return Spec(name="store", nodes=(Node("store", holding_cost=1.0, initial_inventory=initial),),
                arcs=(Arc(EXTERNAL, "store", lead_time=LeadTime(kind="fixed", value=lead),
                          **(arc or {})),),
                skus=(sku or SKU("item"),),
                demands=(Demand("store", (sku or SKU("item")).id, constant(demand),
                                shortage_cost=shortage_cost),), **kw)


def run(spec: Spec, policy, periods: int, paths: int = 1, seed: int = 0, **override) -> Run:
    """Simulate with a trace; ``override`` replaces SamplePaths arrays (e.g. ``disrupted``)."""
    sample = SamplePaths.draw(spec, paths=paths, periods=periods, seed=seed, warmup=0)
    if override:
        sample = replace(sample, **override)
    return simulate(spec, sample, policy, record=True)


def node_stock(r: Run, node: int = 0, sku: int = 0) -> np.ndarray:
    """End-of-period stock of path 0, ``(periods,)``."""
    return r.trace["stock"][0, 1:, node, sku]


# -- lead time and timing -------------------------------------------------------------------------

# Order 10 in period 0 only; demand 3 each period, nothing on hand, backlog.
# order-first, L = 0: t0 receives 10, sells 3 -> 7; then 4, 1; t3 sells 1, owes 2; t4 owes 5.
# order-first, L = 1: t0 owes 3; t1 receives 10, sells 3 + 3 -> 4; then 1, owes 2, owes 5.
# order-first, L = 2: owes 3, 6; t2 receives 10, sells 9 -> 1; t3 owes 2; t4 owes 5.
# order-first, L = 3: owes 3, 6, 9; t3 receives 10 against 12 -> owes 2; t4 owes 5.
# demand-first, L = 0: the order is placed after t0's demand (owed 3) and lands at once:
#   t0 ends with 10 on hand and 3 owed; t1 sells 6 -> 4; then 1, owes 2, owes 5.
# demand-first, L >= 1: arrives at the start of period L as under order-first.
LEAD_CASES = {
    ("order-first", 0): ([7, 4, 1, 0, 0], [0, 0, 0, 2, 5]),
    ("order-first", 1): ([0, 4, 1, 0, 0], [3, 0, 0, 2, 5]),
    ("order-first", 2): ([0, 0, 1, 0, 0], [3, 6, 0, 2, 5]),
    ("order-first", 3): ([0, 0, 0, 0, 0], [3, 6, 9, 2, 5]),
    ("demand-first", 0): ([10, 4, 1, 0, 0], [3, 0, 0, 2, 5]),
    ("demand-first", 1): ([0, 4, 1, 0, 0], [3, 0, 0, 2, 5]),
    ("demand-first", 2): ([0, 0, 1, 0, 0], [3, 6, 0, 2, 5]),
}


@pytest.mark.parametrize(("timing", "lead"), list(LEAD_CASES))
def test_order_arrives_at_the_start_of_t_plus_lead_time(timing: str, lead: int) -> None:
    stock, backlog = LEAD_CASES[timing, lead]
    r = run(store(lead=lead, timing=timing), Scripted({0: [[10]]}), periods=5)
    received = np.zeros(5)
    received[lead] = 10
    np.testing.assert_array_equal(r.trace["received"][0, :, 0, 0], received)
    np.testing.assert_array_equal(node_stock(r), stock)
    np.testing.assert_array_equal(r.flows["backlog"][0], backlog)
    in_transit = [10.0 if t < lead else 0.0 for t in range(5)]  # end of period
    np.testing.assert_array_equal(r.trace["in_transit"][0, 1:, 0, 0], in_transit)


def test_demand_first_policy_sees_this_periods_demand() -> None:
    # Base stock S = 5 on the local position, 5 on hand, demand 3, L = 1, backlog.
    # demand-first: sell 3 (2 left), position 2 -> order 3, it lands next period: 5 -> 2 again.
    # order-first: t0 position 5 -> order 0, sell 3 -> 2; t1 nothing arrives, position 2 ->
    #   order 3, sell 2 owe 1; t2 receive 3, position 3 - 1 = 2 -> order 3, sell 3 owe 1; ...
    demand_first = run(store(initial=5.0, timing="demand-first"), BaseStock(S=[5.0]), periods=4)
    order_first = run(store(initial=5.0, timing="order-first"), BaseStock(S=[5.0]), periods=4)
    np.testing.assert_array_equal(demand_first.trace["orders"][0, :, 0, 0], [3, 3, 3, 3])
    np.testing.assert_array_equal(node_stock(demand_first), [2, 2, 2, 2])
    np.testing.assert_array_equal(demand_first.flows["backlog"][0], [0, 0, 0, 0])
    np.testing.assert_array_equal(order_first.trace["orders"][0, :, 0, 0], [0, 3, 3, 3])
    np.testing.assert_array_equal(node_stock(order_first), [2, 0, 0, 0])
    np.testing.assert_array_equal(order_first.flows["backlog"][0], [0, 1, 1, 1])


# -- shortages ------------------------------------------------------------------------------------

# 5 on hand, demand 3, p = 2, h = 1; 10 ordered in t1 arrive in t2 (order-first).
# backlog:    t0 sell 3 (2 left, hold 2); t1 sell 2, owe 1 (p 2); t2 receive 10, sell 3 + 1 -> 6;
#             t3 sell 3 -> 3. Shortage 0, 2, 0, 0; holding 2, 0, 6, 3; sold 3, 2, 4, 3.
# lost sales: t1 lose 1 (p 2); t2 sell 3 -> 7; t3 -> 4. Shortage 0, 2, 0, 0; holding 2, 0, 7, 4.
SHORTAGE_CASES = {
    "backlog": dict(shortage=[0, 2, 0, 0], holding=[2, 0, 6, 3], sold=[3, 2, 4, 3], filled=[3, 2, 3, 3],
                    backlog=[0, 1, 0, 0], lost=[0, 0, 0, 0]),
    "lost-sales": dict(shortage=[0, 2, 0, 0], holding=[2, 0, 7, 4], sold=[3, 2, 3, 3],
                       filled=[3, 2, 3, 3], backlog=[0, 0, 0, 0], lost=[0, 1, 0, 0]),
}


@pytest.mark.parametrize("shortage", list(SHORTAGE_CASES))
def test_backlog_is_served_first_and_lost_sales_are_gone(shortage: str) -> None:
    want = SHORTAGE_CASES[shortage]
    spec = store(initial=5.0, shortage_cost=2.0, shortage=shortage)
    r = run(spec, Scripted({1: [[10]]}), periods=4)
    np.testing.assert_array_equal(r.costs["shortage"][0], want["shortage"])
    np.testing.assert_array_equal(r.costs["holding"][0], want["holding"])
    for flow in ("sold", "filled", "backlog", "lost"):
        np.testing.assert_array_equal(r.flows[flow][0], want[flow], err_msg=flow)


def test_backlog_is_charged_per_unit_period_and_a_lost_sale_once() -> None:
    # 5 on hand, demand 3, no supply, p = 2. Backlog grows 0, 1, 4, 7: charged 0, 2, 8, 14.
    # Lost sales are 0, 1, 3, 3 units: charged 0, 2, 6, 6.
    backlog = run(store(initial=5.0, shortage_cost=2.0, shortage="backlog"), Scripted({}), periods=4)
    lost = run(store(initial=5.0, shortage_cost=2.0, shortage="lost-sales"), Scripted({}), periods=4)
    np.testing.assert_array_equal(backlog.costs["shortage"][0], [0, 2, 8, 14])
    np.testing.assert_array_equal(backlog.flows["backlog"][0], [0, 1, 4, 7])
    np.testing.assert_array_equal(lost.costs["shortage"][0], [0, 2, 6, 6])
    np.testing.assert_array_equal(lost.flows["lost"][0], [0, 1, 3, 3])


# -- perishables ----------------------------------------------------------------------------------

def test_perishable_stock_is_served_oldest_first_and_expires() -> None:
    # Shelf life 2, waste cost 5, L = 0 (arrivals land at once), demand 3, lost sales.
    # t0: receive 5, sell 3 -> 2 units aged 1 period.  t1: receive 5; sell the 2 old ones and
    # 1 new -> 4 new left.  t2: sell 3 of those, the last one has now been on hand 2 periods and
    # expires (waste 1, cost 5).  Serving newest first would waste the 2 old units in t1 instead.
    spec = store(lead=0, shortage="lost-sales", sku=SKU("milk", shelf_life=2, waste_cost=5.0))
    r = run(spec, Scripted({0: [[5]], 1: [[5]]}), periods=4)
    np.testing.assert_array_equal(r.trace["wasted"][0, :, 0, 0], [0, 0, 1, 0])
    np.testing.assert_array_equal(r.costs["waste"][0], [0, 0, 5, 0])
    np.testing.assert_array_equal(r.flows["waste"][0], [0, 0, 1, 0])
    np.testing.assert_array_equal(node_stock(r), [2, 4, 0, 0])
    np.testing.assert_array_equal(r.flows["lost"][0], [0, 0, 0, 3])


@pytest.mark.parametrize("shelf_life", [1, 3])
def test_units_expire_after_shelf_life_periods_on_hand(shelf_life: int) -> None:
    # 4 units on hand from the start, no demand: on hand in periods 0 .. shelf_life - 1,
    # wasted at the end of period shelf_life - 1.
    spec = store(demand=0.0, initial=4.0, sku=SKU("fish", shelf_life=shelf_life, waste_cost=2.5))
    r = run(spec, Scripted({}), periods=5)
    wasted = np.zeros(5)
    wasted[shelf_life - 1] = 4
    np.testing.assert_array_equal(r.trace["wasted"][0, :, 0, 0], wasted)
    np.testing.assert_array_equal(r.costs["waste"][0], 2.5 * wasted)
    np.testing.assert_array_equal(node_stock(r), [4.0 if t < shelf_life - 1 else 0.0 for t in range(5)])


# -- ordering: MOQ, fixed cost, capacity, disruption -----------------------------------------------

@pytest.mark.parametrize("integer", [True, False])
def test_moq_raises_small_orders_and_fixed_cost_is_per_arc_period(integer: bool) -> None:
    # One arc, two SKUs, MOQ 10, unit cost 1, fixed cost 7, L = 0.
    # t0 [3, 0] -> [10, 0]: fixed 7, units 10.  t1 nothing: no fixed cost.
    # t2 [12, 4] -> [12, 10]: fixed 7 once for the arc, units 22.
    # t3 [0.4, 0]: integer specs round it to 0 (no order, no fixed cost); otherwise -> 10.
    spec = Spec(name="moq", nodes=(Node("store"),),
                arcs=(Arc(EXTERNAL, "store", lead_time=LeadTime(kind="fixed", value=0), moq=10.0,
                          unit_cost=1.0, fixed_cost=7.0),),
                skus=(SKU("a"), SKU("b")), demands=(Demand("store", "a", constant(0.0)),),
                integer=integer)
    r = run(spec, Scripted({0: [[3, 0]], 2: [[12, 4]], 3: [[0.4, 0]]}), periods=4)
    last = [0, 0] if integer else [10, 0]
    np.testing.assert_array_equal(r.trace["orders"][0, :, 0], [[10, 0], [0, 0], [12, 10], last])
    np.testing.assert_array_equal(r.costs["fixed"][0], [7, 0, 7, 0 if integer else 7])
    np.testing.assert_array_equal(r.costs["ordering"][0], [10, 0, 22, 0 if integer else 10])


# Capacity 4 per period, 10 ordered in t0, L = 0.
# internal backlog: ships 4, 4, 2; a base-stock S = 10 sees the 6 owed and orders nothing more.
# internal lost sales: ships 4, the other 6 are lost; base stock S = 10 orders 6 again in t1.
@pytest.mark.parametrize(("internal", "sent", "lost"), [
    ("backlog", [4, 4, 2, 0], [0, 0, 0, 0]),
    ("lost-sales", [4, 0, 0, 0], [6, 0, 0, 0]),
])
def test_arc_capacity_caps_shipping_and_the_rest_is_owed_or_lost(internal, sent, lost) -> None:
    spec = store(lead=0, demand=0.0, arc={"capacity": 4.0}, internal_shortage=internal)
    r = run(spec, Scripted({0: [[10]]}), periods=4)
    np.testing.assert_array_equal(r.trace["sent"][0, :, 0, 0], sent)
    np.testing.assert_array_equal(r.trace["lost_orders"][0, :, 0, 0], lost)
    np.testing.assert_array_equal(node_stock(r), np.cumsum(sent))

    by_position = run(spec, BaseStock(S=[10.0]), periods=3)
    orders = [10, 0, 0] if internal == "backlog" else [10, 6, 2]
    np.testing.assert_array_equal(by_position.trace["orders"][0, :, 0, 0], orders)
    np.testing.assert_array_equal(node_stock(by_position), [4, 8, 10])


@pytest.mark.parametrize(("internal", "sent", "lost"), [
    ("backlog", [0, 0, 5, 0], [0, 0, 0, 0]),
    ("lost-sales", [0, 0, 0, 0], [5, 0, 0, 0]),
])
def test_disrupted_arc_ships_nothing(internal, sent, lost) -> None:
    # 5 ordered in t0 on an arc disrupted in t0 and t1: owed, it ships in t2; or lost at once.
    spec = store(lead=0, demand=0.0, internal_shortage=internal)
    disrupted = np.zeros((1, 4, 1), dtype=bool)
    disrupted[0, :2, 0] = True
    r = run(spec, Scripted({0: [[5]]}), periods=4, disrupted=disrupted)
    np.testing.assert_array_equal(r.trace["sent"][0, :, 0, 0], sent)
    np.testing.assert_array_equal(r.trace["lost_orders"][0, :, 0, 0], lost)


def test_arrivals_beyond_storage_capacity_are_refused_and_charged_as_waste() -> None:
    # Storage 10 for both SKUs, 6 of a on hand, no demand; [4, 4] ordered in t0 land in t1.
    # Room 4 for 8 arriving: each SKU keeps half, 2 + 2 refused at waste cost 1.5 and 2.
    spec = Spec(name="storage", skus=(SKU("a", waste_cost=1.5), SKU("b", waste_cost=2.0)),
                nodes=(Node("store", storage_capacity=10.0, initial_inventory=(6.0, 0.0)),),
                arcs=(Arc(EXTERNAL, "store"),), demands=(Demand("store", "a", constant(0.0)),))
    r = run(spec, Scripted({0: [[4, 4]]}), periods=3)
    np.testing.assert_array_equal(r.trace["refused"][0, :, 0], [[0, 0], [2, 2], [0, 0]])
    np.testing.assert_array_equal(r.trace["received"][0, :, 0], [[0, 0], [2, 2], [0, 0]])
    np.testing.assert_array_equal(r.trace["stock"][0, 1:, 0], [[6, 0], [8, 2], [8, 2]])
    np.testing.assert_array_equal(r.costs["waste"][0], [0, 7, 0])
    np.testing.assert_array_equal(r.flows["waste"][0], [0, 4, 0])


# -- allocation and sourcing ----------------------------------------------------------------------

@pytest.mark.parametrize(("allocation", "sent"), [
    ("proportional", [4, 2]),  # 6 on hand for requests 6 and 3: 6 * 6/9 = 4 and 6 * 3/9 = 2
    ("priority", [3, 3]),      # b has priority 0: it gets its 3, a the remaining 3
])
def test_short_supplier_allocates_proportionally_or_by_priority(allocation, sent) -> None:
    spec = Spec(name="alloc",
                nodes=(Node("w", initial_inventory=6.0, allocation=allocation), Node("a"), Node("b")),
                arcs=(Arc("w", "a", priority=1), Arc("w", "b", priority=0)),
                demands=(Demand("a", "item", constant(0.0)), Demand("b", "item", constant(0.0))))
    r = run(spec, Scripted({0: [[6], [3]]}), periods=2)
    np.testing.assert_array_equal(r.trace["sent"][0, 0, :, 0], sent)
    np.testing.assert_array_equal(r.trace["shipped"][0, 0, :, 0], [6, 0, 0])
    np.testing.assert_array_equal(r.trace["stock"][0, 2, :, 0], [0, *sent])  # arrived in t1


@pytest.mark.parametrize(("sourcing", "orders"), [
    ("split", [3, 7]),     # split 0.3 / 0.7 of the node's order of 10
    ("priority", [4, 6]),  # fill s1 (priority 0) up to its capacity 4; s2 takes the rest
])
def test_node_with_two_suppliers_splits_its_order(sourcing, orders) -> None:
    split = sourcing == "split"
    spec = Spec(name="split",
                nodes=(Node("s1", initial_inventory=100.0), Node("s2", initial_inventory=100.0),
                       Node("c", sourcing=sourcing)),
                arcs=(Arc("s1", "c", split=0.3 if split else None, capacity=None if split else 4.0),
                      Arc("s2", "c", split=0.7 if split else None, priority=1)),
                demands=(Demand("c", "item", constant(0.0)),))
    r = run(spec, BaseStock(S=[0.0, 0.0, 10.0]), periods=2)
    np.testing.assert_array_equal(r.trace["orders"][0, 0, :, 0], orders)
    np.testing.assert_array_equal(r.trace["sent"][0, 0, :, 0], orders)
    np.testing.assert_array_equal(r.trace["stock"][0, 1, :, 0], [100 - orders[0], 100 - orders[1], 0])


# -- costs ----------------------------------------------------------------------------------------

def test_pipeline_holding_is_charged_per_unit_in_transit_at_the_arcs_rate() -> None:
    # Arc into a: L = 3, rate 0.5, 10 units; arc into b: L = 1, rate 2, 4 units; both sent in t0.
    # End of t0: 10 * 0.5 + 4 * 2 = 13; t1, t2: 10 * 0.5 = 5 (b's arrived); t3: 0.
    spec = Spec(name="pipe", nodes=(Node("a"), Node("b")),
                arcs=(Arc(EXTERNAL, "a", lead_time=LeadTime(kind="fixed", value=3),
                          pipeline_holding_cost=0.5),
                      Arc(EXTERNAL, "b", lead_time=LeadTime(kind="fixed", value=1),
                          pipeline_holding_cost=2.0)),
                demands=(Demand("a", "item", constant(0.0)), Demand("b", "item", constant(0.0))))
    r = run(spec, Scripted({0: [[10], [4]]}), periods=4)
    np.testing.assert_array_equal(r.costs["pipeline"][0], [13, 5, 5, 0])


def test_goodwill_lowers_demand_after_stockouts_and_recovers() -> None:
    # Base demand 10 (normal, std 0), nothing on hand until 100 land in t2 (L = 0), lost sales.
    # Goodwill g starts at 1 and after each period becomes
    #   clip(g + recovery (1 - g) - sensitivity * unmet share, floor, 1)
    # with sensitivity 0.5, recovery 0.1, floor 0.2:
    # t0 demand 10, all unmet: g = 1 - 0.5 = 0.5.   t1 demand 5, unmet: g = 0.5 + 0.05 - 0.5 -> 0.2.
    # t2 demand 2, served: g = 0.2 + 0.08 = 0.28.   t3 demand 2.8: g = 0.28 + 0.072 = 0.352.
    # t4 demand 3.52.
    process = DemandProcess(kind="normal", mean=10.0, std=0.0,
                            goodwill=Goodwill(sensitivity=0.5, recovery=0.1, floor=0.2))
    spec = Spec(name="goodwill", nodes=(Node("store"),),
                arcs=(Arc(EXTERNAL, "store", lead_time=LeadTime(kind="fixed", value=0)),),
                demands=(Demand("store", "item", process),), shortage="lost-sales", integer=False)
    r = run(spec, Scripted({2: [[100]]}), periods=5)
    np.testing.assert_allclose(r.flows["demand"][0], [10, 5, 2, 2.8, 3.52], rtol=1e-12)
    np.testing.assert_array_equal(SamplePaths.draw(spec, 1, 5, seed=0, warmup=0).demand[0, :, 0], 10)
    no_goodwill = replace(spec, demands=(Demand("store", "item", replace(process, goodwill=None)),))
    np.testing.assert_array_equal(run(no_goodwill, Scripted({2: [[100]]}), periods=5).flows["demand"][0],
                                  [10] * 5)


def test_goodwill_on_integer_demand_stays_whole_and_below_base() -> None:
    process = DemandProcess(kind="poisson", mean=8.0,
                            goodwill=Goodwill(sensitivity=0.6, recovery=0.2, floor=0.1))
    spec = Spec(name="goodwill-int", nodes=(Node("store"),), arcs=(Arc(EXTERNAL, "store"),),
                demands=(Demand("store", "item", process),), shortage="lost-sales")
    r = run(spec, Scripted({}), periods=30, paths=200)
    base = SamplePaths.draw(spec, 200, 30, seed=0, warmup=0).demand[:, :, 0]
    realised = r.flows["demand"]
    np.testing.assert_array_equal(realised, np.round(realised))
    np.testing.assert_array_equal(realised[:, 0], base[:, 0])  # nothing unmet yet
    assert np.all(realised <= base)
    assert realised[:, 5:].sum() < 0.5 * base[:, 5:].sum()


# -- determinism and batching ---------------------------------------------------------------------

def base_stock_for(spec: Spec) -> BaseStock:
    return BaseStock(S=np.round(initial_levels(spec)["local"], 2))


def test_same_seed_same_costs_and_different_seed_different_costs() -> None:
    spec = builtin.get("perishable-pharma")
    policy = base_stock_for(spec)
    a = simulate(spec, SamplePaths.draw(spec, 20, 50, seed=7), policy)
    b = simulate(spec, SamplePaths.draw(spec, 20, 50, seed=7), policy)
    c = simulate(spec, SamplePaths.draw(spec, 20, 50, seed=8), policy)
    assert a.costs.keys() == b.costs.keys() == set(COST_PARTS)
    for part in COST_PARTS:
        np.testing.assert_array_equal(a.costs[part], b.costs[part], err_msg=part)
    assert not np.array_equal(a.total_cost, c.total_cost)


def stress() -> Spec:
    """Every path-dependent feature at once, sized so that limits bind on some paths only."""
    return Spec(
        name="stress", timing="order-first", shortage="backlog", internal_shortage="backlog",
        skus=(SKU("fresh", shelf_life=3, waste_cost=1.0), SKU("dry")),
        nodes=(Node("plant", holding_cost=0.2, initial_inventory=(20.0, 20.0), production_capacity=30.0,
                    yield_rate=0.9, allocation="priority"),
               Node("dc", holding_cost=0.5, initial_inventory=10.0, storage_capacity=40.0),
               Node("shop1", holding_cost=1.0, initial_inventory=5.0, storage_capacity=14.0),
               Node("shop2", holding_cost=1.0, initial_inventory=5.0, sourcing="split")),
        arcs=(Arc(EXTERNAL, "plant", capacity=25.0, lead_time=LeadTime(
                  kind="discrete", values=(1, 2), probabilities=(0.5, 0.5),
                  disruption=Disruption(probability=0.2, duration=2))),
              Arc("plant", "dc", moq=5.0, fixed_cost=3.0, pipeline_holding_cost=0.1, priority=1),
              Arc("plant", "shop2", split=0.4, priority=0, lead_time=LeadTime(kind="fixed", value=0)),
              Arc("dc", "shop1", capacity=12.0),
              Arc("dc", "shop2", split=0.6)),
        demands=tuple(Demand(shop, sku, DemandProcess(kind="poisson", mean=m, goodwill=Goodwill(
                          sensitivity=0.3, recovery=0.2) if shop == "shop1" else None),
                             shortage_cost=4.0)
                      for shop, m in (("shop1", 5.0), ("shop2", 3.0)) for sku in ("fresh", "dry")))


@pytest.mark.parametrize("name", [*builtin.names(), "stress"])
def test_path_result_does_not_depend_on_the_batch(name: str) -> None:
    spec = stress() if name == "stress" else builtin.get(name)
    policy = BaseStock(S=[60.0, 45.0, 16.0, 14.0]) if name == "stress" else base_stock_for(spec)
    paths = SamplePaths.draw(spec, 50, 40, seed=3)
    batch = simulate(spec, paths, policy)
    for i in (0, 17, 49):
        alone = simulate(spec, paths.subset(slice(i, i + 1)), policy)
        for part in COST_PARTS:
            np.testing.assert_allclose(alone.costs[part][0], batch.costs[part][i], rtol=1e-12,
                                       atol=1e-9, err_msg=f"{part}, path {i}")
        for flow, values in alone.flows.items():
            np.testing.assert_allclose(values[0], batch.flows[flow][i], rtol=1e-12, atol=1e-9,
                                       err_msg=f"{flow}, path {i}")


# -- known values and smoke runs ------------------------------------------------------------------

def test_serial_3_at_optimal_echelon_levels_matches_published_cost() -> None:
    # Snyder & Shen (2019) Example 6.1: echelon base-stock 6.49, 12.03, 22.72 costs 47.67.
    spec = builtin.get("serial-3")
    r = simulate(spec, SamplePaths.draw(spec, 2000, 300, seed=2024),
                 EchelonBaseStock(S=[6.49, 12.03, 22.72]))
    mean = r.total_cost[:, r.warmup:].mean()
    assert abs(mean - 47.67) < 0.48, mean


@pytest.mark.parametrize("name", builtin.names())
def test_every_builtin_runs_with_base_stock(name: str) -> None:
    spec = builtin.get(name)
    r = simulate(spec, SamplePaths.draw(spec, 5, 30, seed=1), base_stock_for(spec))
    assert r.total_cost.shape == (5, spec.warmup + 30)
    assert np.all(np.isfinite(r.total_cost))
    for part in COST_PARTS:
        assert np.all(np.isfinite(r.costs[part])), part
        assert np.all(r.costs[part] >= 0), part
    assert r.flows["demand"].sum() > 0


@pytest.mark.parametrize("scenario", ["orgym-inv-v1", "seasonal-grocery", "divergent-1w3r"])
def test_fixed_lead_time_shortcut_equals_the_general_pipeline(scenario: str) -> None:
    from scenarios.simulator import Simulator

    spec = builtin.get(scenario)
    paths = SamplePaths.draw(spec, 5, 30, seed=4)
    runs = []
    for general in (False, True):
        policy = BaseStock(S=initial_levels(spec)["local"])
        policy.reset(Network(spec), paths.n_paths)
        sim = Simulator(spec, paths, record=True)
        assert sim._fixed_lead is not None  # every arc of these has a fixed lead time
        if general:
            sim._fixed_lead = None
        while not sim.done:
            sim.step(policy)
        runs.append(sim)
    np.testing.assert_array_equal(runs[0].total_cost(), runs[1].total_cost())
    np.testing.assert_array_equal(runs[0].trace["in_transit"], runs[1].trace["in_transit"])
