"""``timing = "orgym"``: OR-Gym's event order, checked on a small case computed by hand.

Each period: suppliers ship from the stock they held at the start of the
period (before this period's arrivals), then arrivals are received, then
demand is served; unfilled replenishment orders cost ``unfilled_cost`` per
unit (per period while owed, once when lost). The full model is checked
against OR-Gym itself in ``bench/peers_orgym.py``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from scenarios import builtin
from scenarios.paths import SamplePaths
from scenarios.processes import DemandProcess, LeadTime
from scenarios.simulator import simulate
from scenarios.spec import EXTERNAL, Arc, Demand, Node, Spec

#: Orders per period: warehouse -> retailer, external -> warehouse.
ORDERS = np.array([[5.0, 6.0], [0.0, 0.0], [4.0, 0.0]])
DEMAND = np.array([4.0, 6.0, 2.0])


class FixedOrders:
    """Places the same given orders on every path."""

    name = "fixed"

    def reset(self, network, n_paths: int) -> None:
        self.n_paths = n_paths

    def act(self, state, t: int) -> np.ndarray:
        return np.broadcast_to(ORDERS[t][None, :, None], (self.n_paths, 2, 1)).copy()


def small(mode: str, timing: str = "orgym") -> Spec:
    return Spec(
        name="orgym-small", timing=timing, shortage=mode, internal_shortage=mode, horizon=3,
        nodes=(Node("retailer", holding_cost=1.0, initial_inventory=5.0, price=3.0),
               Node("warehouse", holding_cost=0.5, initial_inventory=4.0)),
        arcs=(Arc("warehouse", "retailer", lead_time=LeadTime(kind="fixed", value=1), capacity=3.0,
                  unfilled_cost=0.2),
              Arc(EXTERNAL, "warehouse", lead_time=LeadTime(kind="fixed", value=2), unit_cost=1.0)),
        demands=(Demand("retailer", "item", DemandProcess(kind="poisson", mean=4.0), shortage_cost=2.0),),
    )


def run(spec: Spec):
    paths = SamplePaths.draw(spec, 2, seed=0)
    paths = replace(paths, demand=np.broadcast_to(DEMAND[None, :, None], paths.demand.shape).copy())
    return simulate(spec, paths, FixedOrders(), record=True)


# Period 0: the warehouse ships min(5, cap 3, stock 4) = 3, 2 unfilled (0.4); 6 bought (6);
#   the retailer sells 4 of 5 (revenue 12); holding 1 + 0.5.                     -> -4.1
# Period 1 (backlog): the 2 owed meet the warehouse's 1 unit: 1 unfilled (0.2); the 3 arrive,
#   the retailer sells 4 of 6 (12), 2 backlogged (4).                           -> -7.8
# Period 2: 1 owed + 4 ordered, but the warehouse held 0 at the start: 5 unfilled (1.0), although
#   6 arrive there this period; the retailer receives 1, serves 1 of 2 + 2 (3), backlog 3 (6);
#   holding 6 x 0.5 = 3.                                                           -> 7.0
# Lost sales: period 1 has nothing owed (the 2 were lost) and holds the warehouse's 1 (0.5), lost
#   sales 2 (4): -7.5; period 2 ships 1 of 4 (3 lost: 0.6), sells 0, loses 2 (4), holds 3: 7.6.
@pytest.mark.parametrize(("mode", "expected"), [("backlog", [-4.1, -7.8, 7.0]),
                                                ("lost-sales", [-4.1, -7.5, 7.6])])
def test_orgym_timing_hand_computed(mode: str, expected: list[float]) -> None:
    r = run(small(mode))
    np.testing.assert_allclose(r.total_cost, [expected] * 2, atol=1e-12)
    sent = r.trace["sent"][0, :, 0, 0]
    np.testing.assert_allclose(sent, [3.0, 1.0, 0.0] if mode == "backlog" else [3.0, 0.0, 1.0])


def test_order_first_ships_after_arrivals_instead() -> None:
    # The same case with order-first timing: in period 2 the warehouse ships from the 6 that arrived.
    r = run(small("backlog", timing="order-first"))
    assert r.trace["sent"][0, 2, 0, 0] == 3.0


def test_unfilled_cost_defaults_to_zero_and_stays_out_of_the_toml() -> None:
    assert Arc("a", "b").unfilled_cost == 0.0
    assert "unfilled_cost" not in Arc("a", "b").to_dict()


@pytest.mark.parametrize("name", ["orgym-inv-v0", "orgym-inv-v1"])
def test_orgym_builtins_have_its_defaults(name: str) -> None:
    spec = builtin.get(name)
    assert (spec.timing, spec.horizon, spec.discount) == ("orgym", 30, 0.97)
    assert [n.initial_inventory[0] for n in spec.nodes] == [100.0, 100.0, 200.0]
    assert [a.capacity for a in spec.arcs] == [100.0, 90.0, 80.0]
    assert [a.lead_time.value for a in spec.arcs] == [3, 5, 10]
    assert [a.unfilled_cost for a in spec.arcs] == [0.075, 0.05, 0.025]
    assert spec.internal_shortage == spec.shortage == ("backlog" if name.endswith("v0") else "lost-sales")
