"""The same deterministic model in PuLP, solved by HiGHS through PuLP: a cross-check backend.

Written independently of :mod:`milp.model` from the same description (the
module notes there): same variables, timing, costs and constraint families,
with one blanket big-M on the setups and none of the ``"tight"``
formulation's valid inequalities (cover rows, demand-based big-M). Those
never change the optimum, so both backends must reach the same optimal
objective; ``tests/milp`` checks it on random instances.
"""

from __future__ import annotations

import numpy as np
import pulp
from pyomo.common.tee import capture_output

from milp.model import NAIVE_BIG_M, SAFETY_KNEE, expected_lead_times, safety_penalty_of
from scenarios.errors import SpecError
from scenarios.network import Network

__all__ = ["solve_pulp"]


def solve_pulp(network: Network, horizon: int, *, on_hand: np.ndarray, demand: np.ndarray,
               arriving: np.ndarray | None = None, backlog: np.ndarray | None = None,
               safety: np.ndarray | None = None, safety_penalty: float | None = None,
               lead_times: np.ndarray | None = None, integer: bool = False, bound: bool = False,
               hold_scale: float = 1.0, shortage_scale: float = 1.0, available: np.ndarray | None = None,
               time_limit: float | None = 60.0) -> float:
    """Build the model in PuLP from a state, solve it with HiGHS to optimality and return its objective.

    Parameters mean what they mean in :func:`milp.model.set_state` (soft
    safety stock; nothing owed; every arc available).

    :param network: the compiled scenario.
    :param horizon: periods ``H``.
    :param on_hand: ``(N, K)`` on hand at the start.
    :param demand: ``(D, H)`` demand per stream and period.
    :param arriving: ``(E, K, H)`` scheduled arrivals.
    :param backlog: ``(D,)`` open backlog.
    :param safety: ``(N, K)`` safety-stock targets.
    :param safety_penalty: cost per unit-period below a target (default: the largest shortage cost).
    :param lead_times: ``(E,)`` lead times, or ``(H, E)`` per shipping period (default:
        expected, rounded).
    :param integer: whole shipment quantities.
    :param bound: the hindsight bound's relaxation of the simulator (see :mod:`milp.model`):
        on arcs that can ship an order late, setups cover cumulative shipments and MOQs
        are dropped; the budget caps cumulative spend.
    :param hold_scale: multiplier on holding and pipeline costs (a path's).
    :param shortage_scale: multiplier on shortage costs (a path's).
    :param available: ``(E, H)`` 0 where an arc is disrupted (ships nothing).
    :param time_limit: seconds.
    :return: the optimal objective.
    :raises SpecError: the solver did not reach an optimum.
    """
    model = _PulpModel(network, horizon, on_hand=on_hand, demand=demand, arriving=arriving, backlog=backlog,
                       safety=safety, lead_times=lead_times, integer=integer)
    model.add_stock_rows()
    model.add_demand_rows()
    model.add_arc_rows(bound=bound, available=available)
    penalty = safety_penalty_of(network, safety_penalty)
    prob = model.prob
    prob += model.cost(hold_scale=hold_scale, shortage_scale=shortage_scale, penalty=penalty)

    solver = pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=1e-9)
    with capture_output(capture_fd=True):  # HiGHS prints its banner before PuLP silences it
        prob.solve(solver)
    if pulp.LpStatus[prob.status] != "Optimal":
        raise SpecError("milp", f"PuLP/HiGHS ended with status {pulp.LpStatus[prob.status]}")
    return float(pulp.value(prob.objective))


class _PulpModel:
    """The PuLP problem of one window: its variables, flows, and one method per group of rows.

    The rows are added in the order :func:`solve_pulp` calls the methods (stocks, demand, arcs).
    """

    def __init__(self, network: Network, horizon: int, *, on_hand: np.ndarray, demand: np.ndarray,
                 arriving: np.ndarray | None, backlog: np.ndarray | None, safety: np.ndarray | None,
                 lead_times: np.ndarray | None, integer: bool) -> None:
        net, H = network, int(horizon)
        N, K, E, D = net.n_nodes, net.n_skus, net.n_arcs, net.n_demands
        self.net, self.H = net, H
        lead = expected_lead_times(net) if lead_times is None else np.asarray(lead_times, dtype=np.int64)
        self.lead = np.broadcast_to(lead, (H, E))  # lead[s, e]: a shipment on e in s arrives in s + lead
        self.on_hand, self.demand = on_hand, demand
        self.arriving = np.zeros((E, K, H)) if arriving is None else np.asarray(arriving, dtype=float)
        self.backlog = np.zeros(D) if backlog is None else np.asarray(backlog, dtype=float)
        self.safety = np.zeros((N, K)) if safety is None else np.asarray(safety, dtype=float)
        Ks, Ts = self.Ks, self.Ts = range(K), range(H)

        self.prob = pulp.LpProblem("echelon", pulp.LpMinimize)
        cat = "Integer" if integer else "Continuous"
        self.x = {(e, k, t): pulp.LpVariable(f"x_{e}_{k}_{t}", 0, cat=cat)
                  for e in range(E) for k in Ks for t in Ts}
        self.inv = {(n, k, t): pulp.LpVariable(f"I_{n}_{k}_{t}", 0) for n in range(N) for k in Ks for t in Ts}
        self.sold = {(d, t): pulp.LpVariable(f"S_{d}_{t}", 0) for d in range(D) for t in Ts}
        self.unmet = {(d, t): pulp.LpVariable(f"B_{d}_{t}", 0) for d in range(D) for t in Ts}
        self.below = {(n, k, t): pulp.LpVariable(f"G_{n}_{k}_{t}", 0)
                      for n in range(N) for k in Ks for t in Ts}
        self.deep = {(n, k, t): pulp.LpVariable(f"G2_{n}_{k}_{t}", 0)  # below the knee (milp.model)
                     for n in range(N) for k in Ks for t in Ts}
        self.setup_arcs = [e for e in range(E) if net.fixed_cost[e] > 0 or net.moq[e] > 0]
        self.y = {(e, t): pulp.LpVariable(f"y_{e}_{t}", cat="Binary") for e in self.setup_arcs for t in Ts}
        self.per_sku_moq = [e for e in self.setup_arcs if net.moq[e] > 0 and K > 1]
        self.z = {(e, k, t): pulp.LpVariable(f"z_{e}_{k}_{t}", cat="Binary")
                  for e in self.per_sku_moq for k in Ks for t in Ts}
        self.capped = np.isfinite(net.storage_capacity)
        self.can_discard = {(n, k) for n in range(N) for k in Ks if net.shelf_life[k] > 0 or self.capped[n]}
        self.discard = {(n, k, t): pulp.LpVariable(f"R_{n}_{k}_{t}", 0)
                        for (n, k) in self.can_discard for t in Ts}

    # flows ------------------------------------------------------------------------------
    def arrive_start(self, n, k, t):
        """Pipeline arrivals: planned with L >= 1, and scheduled."""
        net, lead, x, E = self.net, self.lead, self.x, self.net.n_arcs
        terms = [net.yield_rate[n] * x[e, k, s] for e in range(E) if net.customer[e] == n
                 for s in self.Ts if lead[s, e] >= 1 and s + lead[s, e] == t]
        scheduled = float(sum(self.arriving[e, k, t] for e in range(E) if net.customer[e] == n))
        return pulp.lpSum(terms) + scheduled

    def arrive_now(self, n, k, t):
        """L = 0: after all shipping."""
        net = self.net
        return pulp.lpSum(net.yield_rate[n] * self.x[e, k, t] for e in range(net.n_arcs)
                          if net.customer[e] == n and self.lead[t, e] == 0)

    def start_stock(self, n, k, t):
        return float(self.on_hand[n, k]) if t == 0 else self.inv[n, k, t - 1]

    def shipped_out(self, n, k, t):
        return pulp.lpSum(self.x[e, k, t] for e in range(self.net.n_arcs) if self.net.supplier[e] == n)

    def sales_at(self, n, k, t):
        net = self.net
        return pulp.lpSum(self.sold[d, t] for d in range(net.n_demands)
                          if net.demand_node[d] == n and net.demand_sku[d] == k)

    # rows -------------------------------------------------------------------------------
    def add_stock_rows(self) -> None:
        """Per node: balance, ship from stock, soft safety target, refusals, shelf life; storage."""
        net, prob, inv, discard = self.net, self.prob, self.inv, self.discard
        for n in range(net.n_nodes):
            for k in self.Ks:
                for t in self.Ts:
                    out = (self.shipped_out(n, k, t) + self.sales_at(n, k, t)
                           + (discard[n, k, t] if (n, k) in self.can_discard else 0))
                    came = self.start_stock(n, k, t) + self.arrive_start(n, k, t) + self.arrive_now(n, k, t)
                    prob += inv[n, k, t] == came - out
                    used = (self.shipped_out(n, k, t)
                            + (self.sales_at(n, k, t) if net.spec.timing == "demand-first" else 0))
                    prob += used <= self.start_stock(n, k, t) + self.arrive_start(n, k, t)
                    prob += inv[n, k, t] + self.below[n, k, t] >= float(self.safety[n, k])
                    prob += self.deep[n, k, t] >= self.below[n, k, t] - SAFETY_KNEE * float(self.safety[n, k])
                    if (n, k) in self.can_discard and net.shelf_life[k] == 0:
                        prob += discard[n, k, t] <= self.arrive_start(n, k, t) + self.arrive_now(n, k, t)
                    if net.shelf_life[k] > 0:
                        keep = float(self.on_hand[n, k]) if t < net.shelf_life[k] - 1 else 0.0
                        recent = range(max(0, t - int(net.shelf_life[k]) + 2), t + 1)
                        prob += inv[n, k, t] <= keep + pulp.lpSum(self.arrive_start(n, k, s)
                                                                  + self.arrive_now(n, k, s) for s in recent)
                if self.capped[n]:
                    self._add_storage_rows(n)

    def _add_storage_rows(self, n: int) -> None:
        """Node ``n``'s storage capacity, at the end of each period and after its arrivals."""
        cap = max(float(self.net.storage_capacity[n]), float(self.on_hand[n].sum()))
        for t in self.Ts:
            self.prob += pulp.lpSum(self.inv[n, kk, t] for kk in self.Ks) <= cap
            self.prob += pulp.lpSum(self.start_stock(n, kk, t) + self.arrive_start(n, kk, t)
                                    - (self.discard[n, kk, t] if (n, kk) in self.can_discard else 0)
                                    for kk in self.Ks) <= cap

    def add_demand_rows(self) -> None:
        """Backlog balance, or lost sales, per stream and period."""
        unmet, sold = self.unmet, self.sold
        for d in range(self.net.n_demands):
            for t in self.Ts:
                if self.net.backlog:
                    before = float(self.backlog[d]) if t == 0 else unmet[d, t - 1]
                    self.prob += unmet[d, t] == before + float(self.demand[d, t]) - sold[d, t]
                else:
                    self.prob += unmet[d, t] == float(self.demand[d, t]) - sold[d, t]

    def add_arc_rows(self, *, bound: bool, available: np.ndarray | None) -> None:
        """Per period: arc capacity and availability, setups and MOQs; production capacity; budget."""
        net, spec, prob, x, Ks = self.net, self.net.spec, self.prob, self.x, self.Ks
        # arcs where the simulator may ship an order late: relaxed under ``bound`` (see milp.model)
        late = {e for e in self.setup_arcs
                if bound and (net.supplier[e] >= 0 or np.isfinite(net.capacity[e])
                              or spec.arcs[e].lead_time.disruption is not None
                              or np.isfinite(net.production_capacity[net.customer[e]]))}
        for t in self.Ts:
            for e in range(net.n_arcs):
                total = pulp.lpSum(x[e, k, t] for k in Ks)
                if np.isfinite(net.capacity[e]):
                    prob += total <= float(net.capacity[e])
                if available is not None and available[e, t] <= 0:
                    prob += total <= 0
                if e in late:
                    prob += (pulp.lpSum(x[e, k, s] for k in Ks for s in range(t + 1))
                             <= NAIVE_BIG_M * pulp.lpSum(self.y[e, s] for s in range(t + 1)))
                elif e in self.setup_arcs:
                    self._add_setup_rows(e, t, total)
            for n in np.flatnonzero(np.isfinite(net.production_capacity)):
                prob += pulp.lpSum(x[e, k, t] for e in range(net.n_arcs) if net.customer[e] == n
                                   for k in Ks) <= float(net.production_capacity[n])
            if spec.budget is not None:
                periods = range(t + 1) if bound else (t,)
                spend = pulp.lpSum(float(net.unit_cost[e]) * x[e, k, s]
                                   for e in range(net.n_arcs) for k in Ks for s in periods)
                prob += spend <= spec.budget * len(periods)

    def _add_setup_rows(self, e: int, t: int, total) -> None:
        """Arc ``e`` in period ``t``: ships only with its setup (per SKU under an MOQ), at least the MOQ."""
        net, prob, x, y, z = self.net, self.prob, self.x, self.y, self.z
        prob += total <= NAIVE_BIG_M * y[e, t]
        for k in self.Ks:
            binary = z[e, k, t] if e in self.per_sku_moq else y[e, t]
            if e in self.per_sku_moq:
                prob += x[e, k, t] <= NAIVE_BIG_M * z[e, k, t]
                prob += z[e, k, t] <= y[e, t]
            if net.moq[e] > 0:
                prob += x[e, k, t] >= float(net.moq[e]) * binary

    def cost(self, *, hold_scale: float, shortage_scale: float, penalty: float):
        """The objective, term by term as :mod:`milp.model` charges it."""
        net, H, lead = self.net, self.H, self.lead
        N, K = net.n_nodes, net.n_skus
        per_unit = net.unit_cost + net.transport_cost + net.operating_cost[net.customer]
        price = net.price[net.demand_node, net.demand_sku]
        cost = []
        for t in self.Ts:
            cost += [hold_scale * float(net.holding_cost[n, k]) * self.inv[n, k, t]
                     for n in range(N) for k in range(K)]
            cost += [shortage_scale * float(net.shortage_cost[d]) * self.unmet[d, t]
                     - float(price[d]) * self.sold[d, t] for d in range(net.n_demands)]
            cost += [penalty * (self.below[n, k, t] + self.deep[n, k, t]) for n in range(N) for k in range(K)]
            cost += [float(net.fixed_cost[e]) * self.y[e, t] for e in self.setup_arcs]
            cost += [float(net.waste_cost[k]) * self.discard[n, k, t] for (n, k) in self.can_discard]
            for e in range(net.n_arcs):
                in_transit = min(int(lead[t, e]), H - t)  # end-of-period counts while in transit
                pipe = hold_scale * net.pipeline_cost[e]
                rate = per_unit[e] + pipe * net.yield_rate[net.customer[e]] * in_transit
                cost += [float(rate) * self.x[e, k, t] for k in range(K)]
                cost += [float(pipe * t * self.arriving[e, k, t]) for k in range(K)]
        return pulp.lpSum(cost)
