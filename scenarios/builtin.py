"""Built-in scenarios. Their names are a contract; ``echelon scenarios show NAME`` prints the TOML."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
from scipy import special, stats

from scenarios.distribution import ScenarioDistribution
from scenarios.errors import SpecError
from scenarios.processes import (
    DemandProcess,
    DemandRegime,
    Disruption,
    LeadTime,
    Promotion,
    Seasonality,
    SupplyRegime,
)
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


def _poisson_uniform_history(low: float, high: float, points: int = 200) -> tuple[float, ...]:
    """Quantiles of Poisson(U[low, high]) at (i + 0.5) / points: the mixture as a bootstrap history.

    ``P(D = k) = (P(k + 1, high) - P(k + 1, low)) / (high - low)`` with ``P`` the
    regularised lower incomplete gamma function (the Poisson pmf integrated over the rate).
    """
    k = np.arange(int(high * 4) + 20)
    cdf = np.cumsum((special.gammainc(k + 1, high) - special.gammainc(k + 1, low)) / (high - low))
    levels = (np.arange(points) + 0.5) / points
    return tuple(float(v) for v in np.searchsorted(cdf, levels))


def _rounded_normal_lead_time(mean: float, std: float, spike_prob: float, spike: int,
                              low: int, high: int) -> LeadTime:
    """``clip(round(N(mean, std) + spike * Bernoulli(spike_prob)), low, high)`` as a discrete lead time."""
    values = np.arange(low, high + 1)
    probs = np.zeros(len(values))
    for centre, weight in ((mean, 1 - spike_prob), (mean + spike, spike_prob)):
        cdf = stats.norm.cdf(np.append(values - 0.5, np.inf), centre, std)
        cdf[0] = 0.0  # everything below low + 0.5 rounds (and clips) to low
        probs += weight * np.diff(cdf)
    probs = np.round(probs / probs.sum(), 12)
    probs[-1] = 1.0 - probs[:-1].sum()
    keep = probs > 0
    return LeadTime(kind="discrete", values=tuple(int(v) for v in values[keep]),
                    probabilities=tuple(float(p) for p in probs[keep]))


_RL_1W3R_SOURCE = ("singhdivyank/multi-echelon-rl-inventory (ppo/configs/divergentConfig.yaml, "
                   "complexConfig.yaml, ppo/models/env.py, env_complex.py)")


def rl_divergent_1w3r() -> Spec:
    """The published PPO setting, stationary: a warehouse and 3 retailers, Poisson(U[5, 15]) demand."""
    retailers = ("retailer1", "retailer2", "retailer3")
    history = _poisson_uniform_history(5.0, 15.0)
    return Spec(
        name="rl-divergent-1w3r",
        description="A warehouse supplying three retailers, the stationary setting of the PPO claim in "
        f"{_RL_1W3R_SOURCE}: each retailer's demand per period is Poisson with a rate drawn uniformly "
        "from [5, 15] every period (mean 10, variance 18.3); holding 1 everywhere, backlog 19 per unit "
        "and period at the retailers, lead time 1 on every arc, 500 periods.",
        notes="timing order-first. The demand mixture is resampled from 200 of its exact quantiles "
        "(empirical process). Written as the setting is described, not as that code runs: there every "
        "order is clipped to 15 units per period (below the 30 units the retailers sell), the warehouse "
        "loses Poisson(10) units a period to a demand of its own at no cost, stock and backlogs are "
        "capped, and a retailer's order waits a period before the warehouse ships it.",
        timing="order-first",
        shortage="backlog",
        horizon=500,
        warmup=50,
        nodes=(Node("warehouse", holding_cost=1.0, initial_inventory=60.0),
               *(Node(r, holding_cost=1.0, initial_inventory=20.0) for r in retailers)),
        arcs=(Arc(EXTERNAL, "warehouse", lead_time=_fixed(1)),
              *(Arc("warehouse", r, lead_time=_fixed(1)) for r in retailers)),
        demands=tuple(Demand(r, "item", DemandProcess(kind="empirical", history=history), shortage_cost=19.0)
                      for r in retailers),
    )


def rl_divergent_1w3r_ns() -> Spec:
    """The published PPO setting, non-stationary: seasonal, correlated, shocked demand; random lead times."""
    retailers = ("retailer1", "retailer2", "retailer3")
    lead = _rounded_normal_lead_time(2.0, 1.2, spike_prob=0.08, spike=4, low=1, high=10)
    noise = 2.5  # std of the Gaussian noise on the Poisson rate
    return Spec(
        name="rl-divergent-1w3r-ns",
        description="The non-stationary setting of the PPO claim in "
        f"{_RL_1W3R_SOURCE}: a warehouse and three retailers; demand with mean 12 x (1 + 0.7 "
        "sin(2 pi t / 120)), correlated 0.6 across retailers, shocks that multiply it by 2.5 for 5 "
        "periods (chance 0.015 a period); lead times round(N(2, 1.2)) plus 4 with chance 0.08, clipped "
        "to 1..10, on every arc; supplier capacity 70 a period; holding 1, backlog 19; 500 periods.",
        notes="timing order-first. Approximations of that code, which draws Poisson demand around a "
        "rate with N(0, 2.5) noise: negative-binomial demand with the same mean and variance (12 + "
        "2.5^2 at the base level); shocks with the mean multiplier 2.5 and duration 5 of its ranges "
        "[2, 3] and 3-7; its random capacities (supplier N(70, 15), warehouse outbound N(50, 12) shared "
        "by the retailers) as a fixed supplier capacity 70 and no outbound cap; its partial lost sales "
        "(30% of unmet demand lost at 5 a unit) as full backlog. Its order clip to 15 units a period, "
        "the warehouse's own demand and the state caps are left out, as in rl-divergent-1w3r.",
        timing="order-first",
        shortage="backlog",
        horizon=500,
        warmup=50,
        correlation=0.6,
        nodes=(Node("warehouse", holding_cost=1.0, initial_inventory=80.0),
               *(Node(r, holding_cost=1.0, initial_inventory=30.0) for r in retailers)),
        arcs=(Arc(EXTERNAL, "warehouse", lead_time=lead, capacity=70.0),
              *(Arc("warehouse", r, lead_time=lead) for r in retailers)),
        demands=tuple(Demand(r, "item", DemandProcess(
            kind="negative-binomial", mean=12.0, std=round(float(np.sqrt(12.0 + noise**2)), 4),
            seasonality=Seasonality(amplitude=0.7, period=120),
            promotion=Promotion(probability=0.015, lift=2.5, duration=5)), shortage_cost=19.0)
            for r in retailers),
    )


_RL_1W2R_SOURCE = ("singhdivyank/multi-echelon-rl-inventory (actor-critic/configs/meisConfig.yaml, "
                   "complexMeisConfig.yaml, actor-critic/src/meis_env.py, complex_meis_env.py)")


def _rl_divergent_1w2r(stationary: bool) -> Spec:
    """The published A3C setting: factory -> warehouse -> 2 retailers, Normal(3300, 100) demand."""
    retailers = ("retailer1", "retailer2")
    lead = (_rounded_normal_lead_time(2.0, 1.0, spike_prob=0.0, spike=0, low=1, high=8) if stationary
            else _rounded_normal_lead_time(2.0, 2.0, spike_prob=0.1, spike=3, low=1, high=10))
    std = 100.0 if stationary else 300.0
    season = None if stationary else Seasonality(amplitude=0.5, period=90)
    shock = None if stationary else Promotion(probability=0.02, lift=2.15, duration=5)
    what = "stationary" if stationary else "non-stationary"
    extra = "" if stationary else (
        " Non-stationary: demand mean 3300 x (1 + 0.5 sin(2 pi t / 90)), std 300, correlated 0.6 "
        "across retailers, shocks multiplying it by 2.15 for 5 periods (chance 0.02 a period); lead "
        "times round(N(2, 2)) plus 3 with chance 0.1, clipped to 1..10.")
    return Spec(
        name="rl-divergent-1w2r" if stationary else "rl-divergent-1w2r-ns",
        description=f"The {what} setting of the A3C claim in {_RL_1W2R_SOURCE}: a factory with "
        "unlimited stock supplies a warehouse that supplies two retailers; Normal(3300, 100) demand "
        "per retailer and period; lead times max(1, round(N(2, 1))) on every arc; holding 0.03 at the "
        "warehouse and 0.05 at the retailers; 0.01 per unit in transit; backlog 2 per unit and period "
        "at the retailers; fixed order cost 1000 (warehouse) and 5000 (retailers); 365 periods." + extra,
        notes="timing order-first, continuous quantities. Written as the setting is described, not as "
        "that code runs: there one order for the whole network is placed per period, chosen among "
        "four fixed quantities (3000-12000 at a retailer, 5000-20000 at the warehouse), a retailer's "
        "order cost is max(5000, 0.5 x quantity) (here 5000 flat, the same up to 10000 units), the "
        "warehouse ships when an order arrives rather than when it is placed, and backlog older than "
        f"{7 if stationary else 5} periods is dropped"
        + ("." if stationary else " (at 3 a unit); its random warehouse outbound capacity N(12000, "
           "3000) is left out and its demand std stays 300 while the seasonal mean moves (here the CV "
           "is constant)."),
        timing="order-first",
        shortage="backlog",
        integer=False,
        horizon=365,
        warmup=30,
        correlation=0.0 if stationary else 0.6,
        nodes=(Node("warehouse", holding_cost=0.03, initial_inventory=10000.0),
               *(Node(r, holding_cost=0.05, initial_inventory=5000.0) for r in retailers)),
        arcs=(Arc(EXTERNAL, "warehouse", lead_time=lead, fixed_cost=1000.0, pipeline_holding_cost=0.01),
              *(Arc("warehouse", r, lead_time=lead, fixed_cost=5000.0, pipeline_holding_cost=0.01)
                for r in retailers)),
        demands=tuple(Demand(r, "item", DemandProcess(kind="normal", mean=3300.0, std=std,
                                                      seasonality=season, promotion=shock),
                             shortage_cost=2.0) for r in retailers),
    )


def rl_divergent_1w2r() -> Spec:
    """The published A3C setting, stationary."""
    return _rl_divergent_1w2r(stationary=True)


def rl_divergent_1w2r_ns() -> Spec:
    """The published A3C setting, non-stationary."""
    return _rl_divergent_1w2r(stationary=False)


def regime_disruption() -> Spec:
    """A warehouse and three stores under a hidden supplier-trouble regime and a demand-volatility regime."""
    stores = ("store1", "store2", "store3")
    supply = SupplyRegime(transition=((0.97, 0.03), (0.10, 0.90)), disruption=(0.0, 0.5), delay=(0, 3))
    market = DemandRegime(transition=((0.96, 0.04), (0.10, 0.90)), mean=(1.0, 1.25), cv=(1.0, 2.5),
                          shared=True)
    return Spec(
        name="regime-disruption",
        description="A warehouse supplying three stores; the warehouse's supplier switches between a "
        "hidden 'normal' state (lead time 2, no disruptions) and a 'troubled' one (lead time 5, and in "
        "each period a 50% chance it ships nothing), and the stores' demand between a hidden 'calm' "
        "market (negative binomial, mean 10, std 4 per store) and a 'volatile' one (mean x1.25, "
        "variability x2.5) shared by the stores. Backlog 19 at the stores, holding 0.5 at the "
        "warehouse and 1 at the stores, lead time 1 to the stores. A fixed safety stock is wrong by "
        "construction: what is needed depends on states a planner can only infer from what it sees.",
        notes="timing order-first; unshipped orders stay owed (internal backlog). Every policy sees only "
        "the simulator's State: stock, pipeline (by arrival period), what is owed, past demand; never "
        "the regimes, and the expected demand it is shown is the stationary mean (10.71 per store and "
        "period), the same in every state. The parameters were fixed, each for the reason given, "
        "before any policy was tuned on the scenario, and were not chosen to favour any method. "
        "Network, backlog 19 and lead time 1 to the stores: as divergent-1w3r (critical ratio 0.95), "
        "so results read against a known stationary case. Holding 0.5 at the warehouse, 1 at the "
        "stores: stock gains value downstream, so where to hold the buffer is a real choice. Supplier: "
        "a 'troubled' state entered with chance 0.03 a period and left with chance 0.10 (normal spells "
        "of 33 periods, troubled of 10 on average, troubled 23% of the time): long enough to be "
        "recognised from a few disrupted or late shipments, short enough that a policy tuned for one "
        "state is wrong for a large share of the time; in trouble the lead time grows from 2 to 5 "
        "periods and half the periods ship nothing (what is ordered stays owed and ships later): "
        "an order covers about 7 periods instead of 3. Demand: a store sells 10 a period with std 4 "
        "when calm (a steady retail item); the volatile state (entered with chance 0.04, left with "
        "0.10: calm spells of 25 periods, volatile of 10, volatile 29% of the time) raises the mean by "
        "25% and the variability of the gamma mixing by 2.5 (std about 8), one market for all three "
        "stores, so the stores' demand moves together and the warehouse feels it too. The two "
        "regimes are independent. 200 periods after 20 of warm-up, as divergent-1w3r: an evaluation "
        "on 200 paths takes seconds.",
        timing="order-first",
        shortage="backlog",
        horizon=200,
        warmup=20,
        nodes=(Node("warehouse", holding_cost=0.5, initial_inventory=100.0),
               *(Node(s, holding_cost=1.0, initial_inventory=25.0) for s in stores)),
        arcs=(Arc(EXTERNAL, "warehouse", lead_time=LeadTime(kind="fixed", value=2, regime=supply)),
              *(Arc("warehouse", s, lead_time=_fixed(1)) for s in stores)),
        demands=tuple(Demand(s, "item", DemandProcess(kind="negative-binomial", mean=10.0, std=4.0,
                                                      regime=market), shortage_cost=19.0)
                      for s in stores),
    )


_BUILDERS: dict[str, Callable[[], Spec]] = {
    "serial-3": serial_3,
    "lost-sales-poisson": lost_sales_poisson,
    "divergent-1w3r": divergent_1w3r,
    "seasonal-grocery": seasonal_grocery,
    "perishable-pharma": perishable_pharma,
    "retail-network": retail_network,
    "orgym-inv-v0": orgym_inv_v0,
    "orgym-inv-v1": orgym_inv_v1,
    "rl-divergent-1w3r": rl_divergent_1w3r,
    "rl-divergent-1w3r-ns": rl_divergent_1w3r_ns,
    "rl-divergent-1w2r": rl_divergent_1w2r,
    "rl-divergent-1w2r-ns": rl_divergent_1w2r_ns,
    "regime-disruption": regime_disruption,
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
