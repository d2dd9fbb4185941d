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
from scenarios.errors import SpecError
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


def test_unfilled_cost_must_be_nonnegative() -> None:
    with pytest.raises(SpecError, match=r"arcs\[0\]\.unfilled_cost"):
        replace(small("backlog"), arcs=(replace(small("backlog").arcs[0], unfilled_cost=-1.0),
                                        small("backlog").arcs[1]))


@pytest.mark.parametrize("name", ["orgym-inv-v0", "orgym-inv-v1"])
def test_orgym_builtins_have_its_defaults(name: str) -> None:
    spec = builtin.get(name)
    assert (spec.timing, spec.horizon, spec.discount) == ("orgym", 30, 0.97)
    assert [n.initial_inventory[0] for n in spec.nodes] == [100.0, 100.0, 200.0]
    assert [a.capacity for a in spec.arcs] == [100.0, 90.0, 80.0]
    assert [a.lead_time.value for a in spec.arcs] == [3, 5, 10]
    assert [a.unfilled_cost for a in spec.arcs] == [0.075, 0.05, 0.025]
    assert spec.internal_shortage == spec.shortage == ("backlog" if name.endswith("v0") else "lost-sales")


class OrGymRule:
    """OR-Gym's echelon base-stock rule on echelon's state (as in ``bench/peers_orgym.py``)."""

    name = "orgym-rule"

    def __init__(self, z: np.ndarray, capped: bool) -> None:
        self.z, self.capped = z, capped

    def reset(self, network, n_paths: int) -> None:
        self.cap = np.array([a.capacity for a in network.spec.arcs])

    def act(self, state, t: int) -> np.ndarray:
        stock = state.stock[..., 0]
        owed_by = np.concatenate([state.backlog[:, :1], state.owed[:, :-1, 0]], axis=1)
        position = np.cumsum(stock + state.in_transit[..., 0] - owed_by, axis=1)
        order = np.maximum(self.z - position, 0.0)
        if self.capped:
            supplier = np.concatenate([stock[:, 1:], np.full((len(stock), 1), np.inf)], axis=1)
            order = np.minimum(np.minimum(self.cap, order), supplier)
        return order[..., None]


def orgym_episode(demand: np.ndarray, z: np.ndarray, backlog: bool, capped: bool = True) -> float:
    """OR-Gym 0.5.0's ``InvManagement`` period by period, in plain Python, with its base-stock rule.

    Rewritten from ``or_gym/envs/supply_chain/inventory_management.py`` (``_STEP``) with the
    environment's defaults, so the parity that ``bench/peers_orgym.py`` checks against OR-Gym
    itself is also guarded where OR-Gym is not installed.
    """
    price, r = 2.0, np.array([1.5, 1.0, 0.75, 0.5])
    k, h = np.array([0.10, 0.075, 0.05, 0.025]), np.array([0.15, 0.10, 0.05, 0.0])
    cap, lead = np.array([100.0, 90.0, 80.0]), np.array([3, 5, 10])
    T = len(demand)
    on_hand = np.zeros((T + 1, 3))
    pipe = np.zeros((T + 1, 3))
    shipped = np.zeros((T, 3))
    owed = np.zeros((T, 4))
    on_hand[0] = [100.0, 100.0, 200.0]
    total = 0.0
    for n in range(T):
        stock, pipeline = on_hand[n].copy(), pipe[n].copy()
        before = owed[n - 1] if n >= 1 else np.zeros(4)
        position = np.cumsum(stock + pipeline - before[:-1])
        supplier = np.append(stock[1:], np.inf)
        order = np.maximum(z - position, 0.0)
        if capped:
            order = np.minimum(np.minimum(cap, order), supplier)
        request = np.floor(order) + before[1:]
        R = np.minimum(np.minimum(request, cap), supplier)
        shipped[n] = R
        arrived = np.array([shipped[n - lead[i], i] if n >= lead[i] else 0.0 for i in range(3)])
        stock = stock + arrived
        wanted = demand[n] + before[0]
        sold = min(stock[0], wanted)
        S = np.append(sold, R)
        stock = stock - S[:-1]
        on_hand[n + 1], pipe[n + 1] = stock, pipeline - arrived + R
        U = np.append(wanted, request) - S
        owed[n] = U if backlog else 0.0
        prices = np.append(price, r[:-1])
        total += 0.97**n * np.sum(prices * S - (r * np.append(R, R[-1]) + k * U + h * np.append(stock, 0.0)))
    return total


@pytest.mark.parametrize("name", ["orgym-inv-v0", "orgym-inv-v1"])
@pytest.mark.parametrize(("z", "capped"), [((100.0, 220.0, 420.0), True), ((50.0, 110.0, 230.0), True),
                                           ((160.0, 330.0, 560.0), False)])
def test_orgym_builtins_reproduce_orgym_step_by_step(name: str, z: tuple, capped: bool) -> None:
    spec = builtin.get(name)
    paths = SamplePaths.draw(spec, 6, seed=11)
    r = simulate(spec, paths, OrGymRule(np.array(z), capped))
    ours = -(r.total_cost * spec.discount ** np.arange(paths.n_periods)).sum(1)
    theirs = [orgym_episode(paths.demand[i, :, 0], np.array(z), name.endswith("v0"), capped)
              for i in range(6)]
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)
