"""Small random instances built from scenarios.spec dataclasses, for the MILP tests."""

from __future__ import annotations

import numpy as np

from scenarios.processes import DemandProcess, LeadTime
from scenarios.spec import EXTERNAL, SKU, Arc, Demand, Node, Spec


def random_spec(seed: int, *, shape: str = "serial", shortage: str = "backlog", timing: str = "order-first",
                fixed: bool = True, skus: int = 2, moq: bool = False, capacity: bool = False,
                storage: bool = False, shelf_life: bool = False, yield_rate: bool = False) -> Spec:
    """A 2-3 node serial or divergent instance; holding costs rise downstream (the usual case)."""
    rng = np.random.default_rng(seed)
    names = [f"sku{k}" for k in range(skus)]
    sku_objs = tuple(SKU(n, shelf_life=int(rng.integers(2, 4)) if shelf_life and k == 0 else None,
                         waste_cost=float(rng.uniform(0, 2))) for k, n in enumerate(names))
    top_h = float(rng.uniform(0.2, 0.6))

    def node(name: str, depth: int, **kw) -> Node:
        h = tuple(round(top_h * (1 + depth) * float(rng.uniform(0.9, 1.1)) + 0.1 * depth, 3) for _ in names)
        return Node(name, holding_cost=h, initial_inventory=tuple(float(rng.integers(0, 12)) for _ in names),
                    **kw)

    def lt() -> LeadTime:
        return LeadTime(kind="fixed", value=int(rng.integers(0, 3)))

    def arc(sup: str, cust: str, external: bool = False) -> Arc:
        return Arc(sup, cust, lead_time=lt(),
                   unit_cost=float(rng.uniform(0.5, 2)) if external else 0.0,
                   fixed_cost=float(rng.uniform(5, 40)) if fixed else 0.0,
                   transport_cost=float(rng.uniform(0, 0.3)),
                   pipeline_holding_cost=float(rng.uniform(0, 0.3)),
                   moq=float(rng.integers(3, 8)) if moq else 0.0,
                   capacity=float(rng.integers(15, 40)) if capacity else None)

    if shape == "serial":
        nodes = (node("down", 2, storage_capacity=float(rng.integers(25, 45)) if storage else None),
                 node("up", 0, yield_rate=0.9 if yield_rate else 1.0))
        arcs = (arc("up", "down"), arc(EXTERNAL, "up", external=True))
        demand_nodes = ["down"]
    else:
        cap = float(rng.integers(25, 45)) if storage else None
        nodes = (node("dc", 0), node("a", 2, storage_capacity=cap),
                 node("b", 2))
        arcs = (arc(EXTERNAL, "dc", external=True), arc("dc", "a"), arc("dc", "b"))
        demand_nodes = ["a", "b"]
    demands = tuple(Demand(n, s, DemandProcess(kind="poisson", mean=float(rng.uniform(2, 8))),
                           shortage_cost=float(rng.uniform(3, 10)))
                    for n in demand_nodes for s in names)
    return Spec(name=f"random-{shape}-{seed}", nodes=nodes, arcs=arcs, demands=demands, skus=sku_objs,
                timing=timing, shortage=shortage, integer=False, horizon=10)
