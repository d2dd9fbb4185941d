"""Built-in scenarios. Their names are a contract; ``echelon scenarios show NAME`` prints the TOML."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

from scenarios.distribution import ScenarioDistribution
from scenarios.errors import SpecError
from scenarios.processes import DemandProcess, Disruption, LeadTime, Promotion, Seasonality
from scenarios.spec import EXTERNAL, SKU, Arc, Demand, Node, Spec

__all__ = ["names", "get"]


def _fixed(periods: int) -> LeadTime:
    return LeadTime(kind="fixed", value=periods)


def serial_3() -> Spec:
    """Snyder & Shen (2019), Example 6.1: a 3-stage serial system (Clark-Scarf)."""
    echelon = (6.49, 12.03, 22.72)
    local = (echelon[0], echelon[1] - echelon[0], echelon[2] - echelon[1])
    return Spec(
        name="serial-3",
        description="Three-stage serial system, stage 1 (downstream) first; Normal(5, 1) demand, "
        "backlog. Known optimum: echelon base-stock levels 6.49, 12.03, 22.72 cost 47.67 per period "
        "(Snyder & Shen, Fundamentals of Supply Chain Theory, Example 6.1; stockpyl).",
        notes="timing demand-first: each period demand is served, then orders are placed and "
        "shipped; a shipment with lead time L arrives at the start of period t+L. Local holding costs "
        "7, 4, 2; items in transit are charged at the shipping stage's local rate (4 on the arc into "
        "stage 1, 2 on the arc into stage 2, 0 from the external supplier). Initial inventory at the "
        "optimal local levels; 20 warm-up periods.",
        timing="demand-first",
        shortage="backlog",
        integer=False,
        horizon=300,
        warmup=20,
        known_optimum=47.67,
        nodes=(
            Node("stage1", holding_cost=7.0, initial_inventory=round(local[0], 2)),
            Node("stage2", holding_cost=4.0, initial_inventory=round(local[1], 2)),
            Node("stage3", holding_cost=2.0, initial_inventory=round(local[2], 2)),
        ),
        arcs=(
            Arc("stage2", "stage1", lead_time=_fixed(1), pipeline_holding_cost=4.0),
            Arc("stage3", "stage2", lead_time=_fixed(1), pipeline_holding_cost=2.0),
            Arc(EXTERNAL, "stage3", lead_time=_fixed(2)),
        ),
        demands=(Demand("stage1", "item", DemandProcess(kind="normal", mean=5.0, std=1.0),
                        shortage_cost=37.12),),
    )


def lost_sales_poisson() -> Spec:
    """Zipkin (2008): single node, Poisson(5), lost sales, lead time 2, h = 1, p = 9."""
    return Spec(
        name="lost-sales-poisson",
        description="One node, Poisson(5) demand, lost sales, lead time 2, holding 1, lost-sale "
        "penalty 9. Optimal average cost 6.0936 per period (Zipkin 2008, 'Old and new methods for "
        "lost-sales inventory systems', Table 1).",
        notes="timing order-first: an order placed in period t arrives at the start of t+2, before "
        "that period's demand; holding is charged on end-of-period stock.",
        timing="order-first",
        shortage="lost-sales",
        horizon=1000,
        warmup=50,
        known_optimum=6.0936,
        nodes=(Node("store", holding_cost=1.0, initial_inventory=10.0),),
        arcs=(Arc(EXTERNAL, "store", lead_time=_fixed(2)),),
        demands=(Demand("store", "item", DemandProcess(kind="poisson", mean=5.0), shortage_cost=9.0),),
    )


def divergent_1w3r() -> Spec:
    """One warehouse, three retailers (Poisson 5, 10, 15), backlog 19, lead time 1 everywhere."""
    retailers = [("retailer1", 5.0), ("retailer2", 10.0), ("retailer3", 15.0)]
    return Spec(
        name="divergent-1w3r",
        description="One warehouse supplying three retailers; Poisson demand with means 5, 10, 15; "
        "holding 1 everywhere, backlog 19 at the retailers, lead time 1 on every arc; the "
        "warehouse's own supply is unlimited.",
        notes="timing order-first; short warehouse stock is shared proportionally to the orders.",
        timing="order-first",
        shortage="backlog",
        horizon=200,
        warmup=20,
        nodes=(Node("warehouse", holding_cost=1.0, initial_inventory=60.0),
               *(Node(r, holding_cost=1.0, initial_inventory=2 * m) for r, m in retailers)),
        arcs=(Arc(EXTERNAL, "warehouse", lead_time=_fixed(1)),
              *(Arc("warehouse", r, lead_time=_fixed(1)) for r, _ in retailers)),
        demands=tuple(Demand(r, "item", DemandProcess(kind="poisson", mean=m), shortage_cost=19.0)
                      for r, m in retailers),
    )


def seasonal_grocery() -> Spec:
    """Two echelons, three SKUs sharing store storage, seasonal demand with trend and promotions."""
    skus = (SKU("produce"), SKU("dairy"), SKU("bakery"))
    stores = {"store-north": 1.0, "store-south": 0.7}
    base = {"produce": 30.0, "dairy": 20.0, "bakery": 12.0}
    season = Seasonality(amplitude=0.35, period=52)
    demands = []
    for s, size in stores.items():
        for k, mean in base.items():
            promo = Promotion(probability=0.04, lift=1.8, duration=2) if k != "dairy" else None
            demands.append(Demand(s, k, DemandProcess(
                kind="negative-binomial", mean=mean * size, std=(mean * size * 1.8) ** 0.5,
                trend=0.002, seasonality=season, promotion=promo), shortage_cost=6.0))
    return Spec(
        name="seasonal-grocery",
        description="A distribution centre and two stores, three SKUs sharing each store's storage "
        "capacity; weekly negative-binomial demand with yearly seasonality, a slow upward trend and "
        "promotion shocks; fixed order costs; lost sales.",
        notes="timing order-first, weeks as periods; holding is per unit-week on end-of-week stock; "
        "the fixed cost is paid per arc and week with any order.",
        timing="order-first",
        shortage="lost-sales",
        skus=skus,
        horizon=104,
        warmup=4,
        nodes=(
            Node("dc", holding_cost=(0.3, 0.2, 0.15), initial_inventory=(150.0, 100.0, 60.0)),
            Node("store-north", holding_cost=(0.5, 0.4, 0.3), storage_capacity=220.0,
                 initial_inventory=(60.0, 40.0, 24.0), price=0.0),
            Node("store-south", holding_cost=(0.5, 0.4, 0.3), storage_capacity=160.0,
                 initial_inventory=(42.0, 28.0, 17.0)),
        ),
        arcs=(
            Arc(EXTERNAL, "dc", lead_time=_fixed(2), unit_cost=1.0, fixed_cost=80.0),
            Arc("dc", "store-north", lead_time=_fixed(1), fixed_cost=25.0, transport_cost=0.05),
            Arc("dc", "store-south", lead_time=_fixed(1), fixed_cost=25.0, transport_cost=0.05),
        ),
        demands=tuple(demands),
    )


def perishable_pharma() -> Spec:
    """Short shelf lives, lost sales, waste cost, random lead times with supplier disruptions."""
    skus = (SKU("vaccine", shelf_life=4, waste_cost=8.0), SKU("insulin", shelf_life=6, waste_cost=5.0))
    hospitals = {"hospital-a": (8.0, 5.0), "hospital-b": (4.0, 3.0)}
    return Spec(
        name="perishable-pharma",
        description="A pharmacy depot supplying two hospitals with two perishable SKUs (shelf lives "
        "4 and 6 periods); lost sales at a high penalty, waste cost on expiry; the depot's supplier "
        "has random lead times (1-3 periods) and occasional disruptions.",
        notes="timing order-first; shelf life counts from arrival at each node and stock is issued "
        "oldest first; units that expire are charged the SKU's waste cost.",
        timing="order-first",
        shortage="lost-sales",
        skus=skus,
        horizon=200,
        warmup=10,
        nodes=(
            Node("depot", holding_cost=(0.4, 0.3), initial_inventory=(24.0, 16.0)),
            *(Node(h, holding_cost=(1.0, 0.6), initial_inventory=(2 * v, 2 * i))
              for h, (v, i) in hospitals.items()),
        ),
        arcs=(
            Arc(EXTERNAL, "depot", unit_cost=2.0, lead_time=LeadTime(
                kind="discrete", values=(1, 2, 3), probabilities=(0.6, 0.3, 0.1),
                disruption=Disruption(probability=0.02, duration=3))),
            *(Arc("depot", h, lead_time=_fixed(1), transport_cost=0.1) for h in hospitals),
        ),
        demands=tuple(
            Demand(h, k, DemandProcess(kind="poisson", mean=m), shortage_cost=25.0)
            for h, means in hospitals.items() for k, m in zip(("vaccine", "insulin"), means, strict=True)
        ),
    )


def retail_network() -> Spec:
    """One DC, 10 stores, 20 SKUs with domain-randomised parameters: the scale test."""
    rng = np.random.default_rng(20261125)  # fixed: the scenario is the same everywhere
    n_stores, n_skus = 10, 20
    skus = tuple(SKU(f"sku{k:02d}") for k in range(n_skus))
    store_size = np.round(rng.uniform(0.5, 1.5, n_stores), 2)
    sku_mean = np.round(rng.lognormal(1.2, 0.6, n_skus), 2)
    sku_value = np.round(rng.uniform(0.5, 2.0, n_skus), 2)
    stores = [f"store{s:02d}" for s in range(n_stores)]
    demands = []
    for s, store in enumerate(stores):
        for k, sku in enumerate(skus):
            mean = round(float(store_size[s] * sku_mean[k]), 3)
            demands.append(Demand(store, sku.id, DemandProcess(
                kind="negative-binomial", mean=mean, std=round((1.5 * mean) ** 0.5 + 0.1, 3)),
                shortage_cost=round(float(4 * sku_value[k]), 3)))
    return Spec(
        name="retail-network",
        description="One distribution centre, 10 stores, 20 SKUs; negative-binomial demand; "
        "random DC lead times; demand level, variability, lead times and costs randomised per sample "
        "path (domain randomisation). The scale test.",
        notes="timing order-first; lost sales; holding proportional to each SKU's value.",
        timing="order-first",
        shortage="lost-sales",
        skus=skus,
        horizon=100,
        warmup=10,
        randomisation=ScenarioDistribution(demand_level=(0.7, 1.3), demand_cv=(0.8, 1.2),
                                           lead_time=(0.5, 1.5), holding_cost=(0.8, 1.2),
                                           shortage_cost=(0.8, 1.2)),
        nodes=(
            Node("dc", holding_cost=tuple(float(v) for v in np.round(0.1 * sku_value, 3)),
                 initial_inventory=tuple(float(v) for v in np.round(40 * sku_mean, 0))),
            *(Node(store, holding_cost=tuple(float(v) for v in np.round(0.2 * sku_value, 3)),
                   initial_inventory=tuple(float(v) for v in np.round(3 * store_size[s] * sku_mean, 0)))
              for s, store in enumerate(stores)),
        ),
        arcs=(
            Arc(EXTERNAL, "dc", unit_cost=0.0, lead_time=LeadTime(kind="poisson", value=2, mean=1.0,
                                                               maximum=6)),
            *(Arc("dc", store, lead_time=_fixed(1)) for store in stores),
        ),
        demands=tuple(demands),
    )


def _orgym_inv(lost_sales: bool) -> Spec:
    """OR-Gym ``InvManagement-v0`` (backlog) / ``-v1`` (lost sales) with its defaults (Hubbs et al. 2020)."""
    version = "v1" if lost_sales else "v0"
    mode = "lost-sales" if lost_sales else "backlog"
    # OR-Gym's stages 0 (retailer), 1, 2 hold stock; stage 3 is unlimited raw material (external).
    stages = ("retailer", "distributor", "manufacturer")
    initial = (100.0, 100.0, 200.0)
    holding = (0.15, 0.10, 0.05)
    capacity = (100.0, 90.0, 80.0)  # of each stage's supplier: stage 1, 2, 3
    lead = (3, 5, 10)  # into stage 0, 1, 2
    unfilled = (0.10, 0.075, 0.05, 0.025)  # k: stage 0 on customer demand, stages 1-3 on replenishment
    suppliers = (*stages[1:], EXTERNAL)
    return Spec(
        name=f"orgym-inv-{version}",
        description=f"OR-Gym's InvManagement-{version} ({'lost sales' if lost_sales else 'backlog'}) with "
        "its defaults: retailer <- distributor <- manufacturer <- unlimited raw material; Poisson(20) "
        "demand; 30 periods; price 2; unit costs 1.5, 1.0, 0.75, 0.5; unfulfilled-order costs 0.10, "
        "0.075, 0.05, 0.025; holding 0.15, 0.10, 0.05 on on-hand stock; supplier capacities 100, 90, "
        "80; lead times 3, 5, 10; discount 0.97 (Hubbs et al. 2020, or-gym 0.5.0, "
        "or_gym/envs/supply_chain/inventory_management.py).",
        notes="timing orgym: each period the stages order and their suppliers ship from the stock they "
        "held at the start of the period (before this period's arrivals), capped by capacity; then "
        "arrivals are received; then demand is served. Unfilled customer demand and unfilled "
        f"replenishment orders are {'lost' if lost_sales else 'backlogged'} and cost k per unit "
        f"{'once' if lost_sales else 'per period'}. OR-Gym's profit sums p*S - (r*R + k*U + h*I) over "
        "stages; the internal prices cancel, leaving revenue 2 per unit sold, 0.5 per unit shipped "
        "by the raw-material stage (unit_cost on its arc), k and holding: total cost here is minus "
        "OR-Gym's profit, and discounted_cost minus its episode reward.",
        timing="orgym",
        shortage=mode,
        internal_shortage=mode,
        integer=True,
        horizon=30,
        warmup=0,
        discount=0.97,
        nodes=tuple(Node(n, holding_cost=h, initial_inventory=i, price=2.0 if n == "retailer" else 0.0)
                    for n, h, i in zip(stages, holding, initial, strict=True)),
        arcs=tuple(
            Arc(sup, cus, lead_time=_fixed(L), capacity=c, unfilled_cost=k,
                unit_cost=0.5 if sup == EXTERNAL else 0.0)
            for sup, cus, L, c, k in zip(suppliers, stages, lead, capacity, unfilled[1:], strict=True)),
        demands=(Demand("retailer", "item", DemandProcess(kind="poisson", mean=20.0),
                        shortage_cost=unfilled[0]),),
    )


def orgym_inv_v0() -> Spec:
    """OR-Gym ``InvManagement-v0``: the 4-stage serial line with backlog."""
    return _orgym_inv(lost_sales=False)


def orgym_inv_v1() -> Spec:
    """OR-Gym ``InvManagement-v1``: the 4-stage serial line with lost sales."""
    return _orgym_inv(lost_sales=True)


_BUILDERS: dict[str, Callable[[], Spec]] = {
    "serial-3": serial_3,
    "lost-sales-poisson": lost_sales_poisson,
    "divergent-1w3r": divergent_1w3r,
    "seasonal-grocery": seasonal_grocery,
    "perishable-pharma": perishable_pharma,
    "retail-network": retail_network,
    "orgym-inv-v0": orgym_inv_v0,
    "orgym-inv-v1": orgym_inv_v1,
}


def names() -> list[str]:
    """Names of the built-in scenarios."""
    return list(_BUILDERS)


@cache
def get(name: str) -> Spec:
    """The built-in scenario ``name``."""
    if name not in _BUILDERS:
        raise SpecError("scenario", f"unknown built-in {name!r}; known: {', '.join(_BUILDERS)}")
    return _BUILDERS[name]()
