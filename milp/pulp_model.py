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

from milp.model import NAIVE_BIG_M, expected_lead_times
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
    net, H = network, int(horizon)
    spec = net.spec
    N, K, E, D = net.n_nodes, net.n_skus, net.n_arcs, net.n_demands
    lead = expected_lead_times(net) if lead_times is None else np.asarray(lead_times, dtype=np.int64)
    lead = np.broadcast_to(lead, (H, E))  # lead[s, e]: a shipment on e in s arrives in s + lead
    arriving = np.zeros((E, K, H)) if arriving is None else np.asarray(arriving, dtype=float)
    backlog = np.zeros(D) if backlog is None else np.asarray(backlog, dtype=float)
    safety = np.zeros((N, K)) if safety is None else np.asarray(safety, dtype=float)
    penalty = float(net.shortage_cost.max(initial=0.0)) if safety_penalty is None else safety_penalty
    Ks, Ts = range(K), range(H)

    prob = pulp.LpProblem("echelon", pulp.LpMinimize)
    cat = "Integer" if integer else "Continuous"
    x = {(e, k, t): pulp.LpVariable(f"x_{e}_{k}_{t}", 0, cat=cat) for e in range(E) for k in Ks for t in Ts}
    inv = {(n, k, t): pulp.LpVariable(f"I_{n}_{k}_{t}", 0) for n in range(N) for k in Ks for t in Ts}
    sold = {(d, t): pulp.LpVariable(f"S_{d}_{t}", 0) for d in range(D) for t in Ts}
    unmet = {(d, t): pulp.LpVariable(f"B_{d}_{t}", 0) for d in range(D) for t in Ts}
    below = {(n, k, t): pulp.LpVariable(f"G_{n}_{k}_{t}", 0) for n in range(N) for k in Ks for t in Ts}
    setup_arcs = [e for e in range(E) if net.fixed_cost[e] > 0 or net.moq[e] > 0]
    y = {(e, t): pulp.LpVariable(f"y_{e}_{t}", cat="Binary") for e in setup_arcs for t in Ts}
    per_sku_moq = [e for e in setup_arcs if net.moq[e] > 0 and K > 1]
    z = {(e, k, t): pulp.LpVariable(f"z_{e}_{k}_{t}", cat="Binary")
         for e in per_sku_moq for k in Ks for t in Ts}
    capped = np.isfinite(net.storage_capacity)
    can_discard = {(n, k) for n in range(N) for k in Ks if net.shelf_life[k] > 0 or capped[n]}
    discard = {(n, k, t): pulp.LpVariable(f"R_{n}_{k}_{t}", 0) for (n, k) in can_discard for t in Ts}

    def arrive_start(n, k, t):  # pipeline arrivals: planned with L >= 1, and scheduled
        terms = [net.yield_rate[n] * x[e, k, s] for e in range(E) if net.customer[e] == n
                 for s in Ts if lead[s, e] >= 1 and s + lead[s, e] == t]
        return pulp.lpSum(terms) + float(sum(arriving[e, k, t] for e in range(E) if net.customer[e] == n))

    def arrive_now(n, k, t):  # L = 0: after all shipping
        return pulp.lpSum(net.yield_rate[n] * x[e, k, t] for e in range(E)
                          if net.customer[e] == n and lead[t, e] == 0)

    def start_stock(n, k, t):
        return float(on_hand[n, k]) if t == 0 else inv[n, k, t - 1]

    def shipped_out(n, k, t):
        return pulp.lpSum(x[e, k, t] for e in range(E) if net.supplier[e] == n)

    def sales_at(n, k, t):
        return pulp.lpSum(sold[d, t] for d in range(D) if net.demand_node[d] == n and net.demand_sku[d] == k)

    for n in range(N):
        for k in Ks:
            for t in Ts:
                out = (shipped_out(n, k, t) + sales_at(n, k, t)
                       + (discard[n, k, t] if (n, k) in can_discard else 0))
                came = start_stock(n, k, t) + arrive_start(n, k, t) + arrive_now(n, k, t)
                prob += inv[n, k, t] == came - out
                used = shipped_out(n, k, t) + (sales_at(n, k, t) if spec.timing == "demand-first" else 0)
                prob += used <= start_stock(n, k, t) + arrive_start(n, k, t)
                prob += inv[n, k, t] + below[n, k, t] >= float(safety[n, k])
                if (n, k) in can_discard and net.shelf_life[k] == 0:
                    prob += discard[n, k, t] <= arrive_start(n, k, t) + arrive_now(n, k, t)
                if net.shelf_life[k] > 0:
                    keep = float(on_hand[n, k]) if t < net.shelf_life[k] - 1 else 0.0
                    recent = range(max(0, t - int(net.shelf_life[k]) + 2), t + 1)
                    prob += inv[n, k, t] <= keep + pulp.lpSum(arrive_start(n, k, s) + arrive_now(n, k, s)
                                                              for s in recent)
            if capped[n]:
                cap = max(float(net.storage_capacity[n]), float(on_hand[n].sum()))
                for t in Ts:
                    prob += pulp.lpSum(inv[n, kk, t] for kk in Ks) <= cap
                    prob += pulp.lpSum(start_stock(n, kk, t) + arrive_start(n, kk, t)
                                       - (discard[n, kk, t] if (n, kk) in can_discard else 0)
                                       for kk in Ks) <= cap
    for d in range(D):
        for t in Ts:
            if net.backlog:
                before = float(backlog[d]) if t == 0 else unmet[d, t - 1]
                prob += unmet[d, t] == before + float(demand[d, t]) - sold[d, t]
            else:
                prob += unmet[d, t] == float(demand[d, t]) - sold[d, t]
    # arcs where the simulator may ship an order late: relaxed under ``bound`` (see milp.model)
    late = {e for e in setup_arcs if bound and (net.supplier[e] >= 0 or np.isfinite(net.capacity[e])
                                                or spec.arcs[e].lead_time.disruption is not None
                                                or np.isfinite(net.production_capacity[net.customer[e]]))}
    for t in Ts:
        for e in range(E):
            total = pulp.lpSum(x[e, k, t] for k in Ks)
            if np.isfinite(net.capacity[e]):
                prob += total <= float(net.capacity[e])
            if available is not None and available[e, t] <= 0:
                prob += total <= 0
            if e in late:
                prob += (pulp.lpSum(x[e, k, s] for k in Ks for s in range(t + 1))
                         <= NAIVE_BIG_M * pulp.lpSum(y[e, s] for s in range(t + 1)))
            elif e in setup_arcs:
                prob += total <= NAIVE_BIG_M * y[e, t]
                for k in Ks:
                    binary = z[e, k, t] if e in per_sku_moq else y[e, t]
                    if e in per_sku_moq:
                        prob += x[e, k, t] <= NAIVE_BIG_M * z[e, k, t]
                        prob += z[e, k, t] <= y[e, t]
                    if net.moq[e] > 0:
                        prob += x[e, k, t] >= float(net.moq[e]) * binary
        for n in np.flatnonzero(np.isfinite(net.production_capacity)):
            prob += pulp.lpSum(x[e, k, t] for e in range(E) if net.customer[e] == n for k in Ks) <= float(
                net.production_capacity[n])
        if spec.budget is not None:
            periods = range(t + 1) if bound else (t,)
            spend = pulp.lpSum(float(net.unit_cost[e]) * x[e, k, s]
                               for e in range(E) for k in Ks for s in periods)
            prob += spend <= spec.budget * len(periods)

    per_unit = net.unit_cost + net.transport_cost + net.operating_cost[net.customer]
    price = net.price[net.demand_node, net.demand_sku]
    cost = []
    for t in Ts:
        cost += [hold_scale * float(net.holding_cost[n, k]) * inv[n, k, t] for n in range(N) for k in Ks]
        cost += [shortage_scale * float(net.shortage_cost[d]) * unmet[d, t] - float(price[d]) * sold[d, t]
                 for d in range(D)]
        cost += [penalty * below[n, k, t] for n in range(N) for k in Ks]
        cost += [float(net.fixed_cost[e]) * y[e, t] for e in setup_arcs]
        cost += [float(net.waste_cost[k]) * discard[n, k, t] for (n, k) in can_discard]
        for e in range(E):
            in_transit = min(int(lead[t, e]), H - t)  # end-of-period counts while in transit
            pipe = hold_scale * net.pipeline_cost[e]
            rate = per_unit[e] + pipe * net.yield_rate[net.customer[e]] * in_transit
            cost += [float(rate) * x[e, k, t] for k in Ks]
            cost += [float(pipe * t * arriving[e, k, t]) for k in Ks]
    prob += pulp.lpSum(cost)

    solver = pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=1e-9)
    with capture_output(capture_fd=True):  # HiGHS prints its banner before PuLP silences it
        prob.solve(solver)
    if pulp.LpStatus[prob.status] != "Optimal":
        raise SpecError("milp", f"PuLP/HiGHS ended with status {pulp.LpStatus[prob.status]}")
    return float(pulp.value(prob.objective))
