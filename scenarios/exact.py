"""Exact optima by dynamic programming: references and lower bounds that simulation is checked against.

Two lost-sales models, solved exactly (numpy and scipy only, no solver):

* :func:`lost_sales_optimum` -- the optimal long-run average cost of the periodic-review
  lost-sales system with a fixed lead time (Zipkin 2008), by relative value iteration.
* :func:`relaxed_lower_bound` -- a lower bound on every non-anticipative policy's expected
  cost for two-echelon lost-sales scenarios (stores fed by one distribution centre), made of
  exact finite-horizon DPs of each store and SKU (:func:`store_dp`) with the DC relaxed away.

They live in ``scenarios`` (not ``milp``) because they need neither Pyomo nor a solver: any
layer, test or benchmark can import them without the MILP stack, and the built-in scenarios
cite their values (``lost-sales-poisson``'s ``known_optimum`` 6.0936 is
``lost_sales_optimum(2, 9.0).cost``).

>>> round(lost_sales_optimum(2, 9.0).cost, 4)
6.0936

Reference: P. Zipkin (2008). Old and new methods for lost-sales inventory systems.
*Operations Research* 56(5), 1256-1263.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import stats

from scenarios.network import Network
from scenarios.spec import Spec

__all__ = ["LostSalesOptimum", "lost_sales_optimum", "relaxed_lower_bound", "store_dp"]


@dataclass(frozen=True)
class LostSalesOptimum:
    """The result of :func:`lost_sales_optimum` (field order is the benchmarks' JSON order)."""

    lead_time: int
    """``L``, periods from order to arrival."""
    penalty: float
    """``p`` per lost sale."""
    cost: float
    """Optimal long-run average cost per period (midpoint of :attr:`bounds`)."""
    bounds: tuple[float, float]
    """Lower and upper bounds on the optimal average cost from the last value-iteration step."""
    iterations: int
    """Value-iteration steps made."""
    cap: int
    """Inventory-position cap of the state space."""
    cap_binds: bool
    """Whether an optimal order would go above :attr:`cap` (then raise it: :attr:`cost` may be high)."""
    states: int
    """Number of states ``(y, q_1, ..., q_{L-1})``."""
    seconds: float
    """Wall time of the computation."""


def _lost_sales_states(lead_time: int, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Every state ``(y, q_1..q_{L-1})`` with coordinates summing to at most ``cap``, and its index.

    :return: ``states`` shaped ``(n, L)`` and ``index`` shaped ``(cap + 1,) * L`` (-1 off the set).
    """
    states = np.indices((cap + 1,) * lead_time).reshape(lead_time, -1).T
    states = states[states.sum(1) <= cap]
    index = np.full((cap + 1,) * lead_time, -1, dtype=np.int64)
    index[tuple(states.T)] = np.arange(len(states))
    return states, index


def _lost_sales_next(states: np.ndarray, index: np.ndarray, pair_state: np.ndarray, pair_order: np.ndarray,
                     demand: np.ndarray) -> np.ndarray:
    """Next state of every state-order pair under every demand: ``((y - d)^+ + q_1, q_2..q_{L-1}, q)``.

    :return: ``(demands, pairs)`` state indices.
    """
    L = states.shape[1]
    nxt = np.empty((len(demand), len(pair_state)), dtype=np.int32)
    s = states[pair_state]
    for d in demand:
        coords = np.empty((L, len(pair_state)), dtype=np.int64)
        on_hand = np.maximum(s[:, 0] - d, 0)
        if L == 1:
            coords[0] = on_hand + pair_order
        else:
            coords[0] = on_hand + s[:, 1]
            coords[1:L - 1] = s[:, 2:].T
            coords[L - 1] = pair_order
        nxt[d] = index[tuple(coords)]
    return nxt


def lost_sales_optimum(lead_time: int, penalty: float, *, mean: float = 5.0, holding: float = 1.0,
                       cap: int | None = None, tol: float = 1e-7, max_iter: int = 5000) -> LostSalesOptimum:
    """Optimal long-run average cost of the periodic-review lost-sales system (Zipkin 2008).

    One stock point, Poisson demand, lost sales, lead time ``L``, holding ``h`` per unit on hand
    at the end of a period, penalty ``p`` per lost sale, no order cost; the defaults are Zipkin's
    test bed (mean 5, ``h = 1``). The event order is echelon's ``timing = "order-first"``: the
    order placed ``L`` periods ago arrives, the new order is placed, demand is served, costs are
    charged at the end of the period.

    Relative value iteration over states ``(y, q_1, ..., q_{L-1})``: ``y`` on hand after this
    period's arrival, ``q_i`` the order arriving in ``i`` periods. Each period: order ``q``
    (arrives in ``L`` periods), demand ``D ~ Poisson(mean)`` is served from ``y``, cost
    ``h (y - D)^+ + p (D - y)^+``; the next state is ``((y - D)^+ + q_1, q_2, ..., q_{L-1}, q)``.
    Orders lifting the inventory position ``y + sum(q_i) + q`` above ``cap`` are not allowed;
    demand is truncated at its ``1 - 1e-10`` quantile (the tail mass joins the last value).

    :param lead_time: ``L >= 1`` periods.
    :param penalty: ``p`` per lost sale.
    :param mean: mean demand per period.
    :param holding: ``h`` per unit on hand at the end of a period.
    :param cap: inventory-position cap (default: mean demand over ``L + 1`` periods plus 4.5
        standard deviations); the result's ``cap_binds`` says whether an optimal order hit it.
    :param tol: stop when the span of the value update is below ``tol`` (the average cost then
        lies within ``tol`` of the reported value).
    :param max_iter: at most this many value-iteration steps.
    :raises ValueError: ``lead_time < 1``.

    >>> opt = lost_sales_optimum(1, 4.0)
    >>> round(opt.cost, 4), opt.cap_binds
    (4.0407, False)
    """
    if lead_time < 1:
        raise ValueError(f"lead_time must be >= 1, got {lead_time}")
    started = time.perf_counter()
    L = lead_time
    if cap is None:
        cap = int(np.ceil(mean * (L + 1) + 4.5 * np.sqrt(mean * (L + 1))))
    d_max = int(stats.poisson.ppf(1 - 1e-10, mean))
    demand = np.arange(d_max + 1)
    prob = stats.poisson.pmf(demand, mean)
    prob[-1] += 1 - prob.sum()  # the tail: demand >= d_max empties the shelf for every y <= d_max
    states, index = _lost_sales_states(L, cap)
    n = len(states)
    y = states[:, 0]
    position = states.sum(1)
    # expected one-period cost at each state: h E(y - D)^+ + p E(D - y)^+
    left = np.maximum(y[:, None] - demand[None], 0)
    lost_tail = mean - (prob * np.minimum(demand[None], y[:, None])).sum(1)  # exact E(D - y)^+
    cost = (prob * holding * left).sum(1) + penalty * lost_tail
    # state-order pairs, sorted by state: orders 0..cap - position
    actions = cap - position + 1
    starts = np.cumsum(actions) - actions
    pair_state = np.repeat(np.arange(n), actions)
    pair_order = np.arange(len(pair_state)) - np.repeat(starts, actions)
    nxt = _lost_sales_next(states, index, pair_state, pair_order, demand)
    value = np.zeros(n)
    low = high = np.nan
    iteration = 0
    while iteration < max_iter:
        iteration += 1
        new = cost + np.minimum.reduceat(prob @ value[nxt], starts)
        diff = new - value
        low, high = diff.min(), diff.max()
        value = new - new[0]
        if high - low < tol:
            break
    # does the cap ever bind (an optimal order that would go higher if it could)?
    expected = prob @ value[nxt]
    best = np.minimum.reduceat(expected, starts)
    at_cap = (pair_order == (cap - position)[pair_state]) & (pair_order > 0)
    binds = bool(np.any(at_cap & (expected <= best[pair_state] + 1e-12)))
    return LostSalesOptimum(lead_time=L, penalty=penalty, cost=float((low + high) / 2),
                            bounds=(float(low), float(high)), iterations=iteration, cap=cap, cap_binds=binds,
                            states=int(n), seconds=time.perf_counter() - started)


def store_dp(mean: np.ndarray, shape: float, lift: float, start_p: float, holding: float,
             penalty: float, unit: float, fixed: float, x0: int) -> tuple[float, int]:
    """Optimal expected cost of one single-item lost-sales stock point over a finite horizon.

    Each period ``t``: the order placed in ``t - 1`` arrives; the stock point orders any whole
    number of units (unit cost ``c``, fixed cost ``K`` when it orders), to arrive next period;
    demand, negative binomial with mean ``mean[t]`` (times ``lift`` while a two-period promotion
    runs) and size parameter ``shape``, is served from stock and the rest is lost (``p`` each);
    ``h`` is charged per unit left. Solved by backward induction over stock levels, with the
    state also holding whether a promotion started in the previous period (revealed: more
    information than a real policy has, so the value stays a lower bound for one that infers it).

    :param mean: ``(T,)`` mean demand per period without promotion.
    :param shape: the negative binomial's ``n`` (fixed; the mean moves ``p``).
    :param lift: demand multiplier while a promotion runs (two periods from its start).
    :param start_p: chance a promotion starts in a period (0: none).
    :param holding: ``h`` per unit on hand at the end of a period.
    :param penalty: ``p`` per unit of demand lost.
    :param unit: ``c`` per unit ordered.
    :param fixed: ``K`` per period with an order.
    :param x0: initial stock.
    :return: the optimal expected total cost over the ``T`` periods, and the largest order-up-to
        level an optimal policy uses from states a policy visits.
    :raises RuntimeError: the state space (``6 x peak mean + 60`` units) would cut an optimal
        order short, so the value would not be exact.

    With one period nothing ordered arrives in time: the cost is ``h E(x0 - D)^+ + p E(D - x0)^+``.

    >>> cost, _ = store_dp(np.array([4.0]), 2.0, 1.0, 0.0, 1.0, 5.0, 1.0, 0.0, 3)
    >>> d = np.arange(200); pmf = stats.nbinom.pmf(d, 2.0, 2.0 / 6.0)
    >>> bool(np.isclose(cost, (pmf * (np.maximum(3 - d, 0) + 5.0 * np.maximum(d - 3, 0))).sum()))
    True
    """
    T = len(mean)
    peak = float(mean.max()) * max(lift, 1.0)
    X = int(np.ceil(6 * peak + 60)) + 1  # states 0..X-1
    xs = np.arange(X)
    promo_states = (0, 1) if start_p > 0 else (0,)
    starts = {0: 1.0 - start_p, 1: start_p} if start_p > 0 else {0: 1.0}
    # Hankel index r + a, clipped; orders that would leave the state space are priced out
    ra = xs[:, None] + xs[None, :]
    over = ra >= X
    ra = np.minimum(ra, X - 1)
    big = 1e9
    V = {b: np.zeros(X) for b in promo_states}
    top = 0
    for t in range(T - 1, -1, -1):
        new = {}
        for b in promo_states:
            total = np.zeros((X, X))
            expected_now = np.zeros(X)
            for s, ps in starts.items():
                m = mean[t] * (lift if (b or s) else 1.0)
                p = shape / (shape + m)
                pmf = stats.nbinom.pmf(xs, shape, p)
                sf = stats.nbinom.sf(xs - 1, shape, p)  # P(D >= x)
                emin = np.concatenate([[0.0], np.cumsum(stats.nbinom.sf(xs[:-1], shape, p))])  # E[min(D, x)]
                expected_now += ps * (holding * (xs - emin) + penalty * (m - emin))
                # M[x, r]: stock r left after demand from stock x
                diff = xs[:, None] - xs[None, :]
                M = np.where((diff >= 0) & (xs[None, :] >= 1), pmf[np.clip(diff, 0, X - 1)], 0.0)
                M[:, 0] = sf
                H = np.where(over, big, V[s][ra])
                total += ps * (M @ H)
            cost = total + unit * xs[None, :] + np.where(xs > 0, fixed, 0.0)[None, :]
            best = cost.argmin(axis=1)
            new[b] = expected_now + cost[xs, best]
            ordering = (xs <= 4 * peak) & (best > 0)  # order-up-to levels from states a policy visits
            if ordering.any():
                top = max(top, int((xs + best)[ordering].max()))
            if top >= X - 1:
                raise RuntimeError(f"the state space ({X} units) cuts the order short at t={t}")
        V = new
    if start_p > 0:  # a promotion may run in period 0 from a start in period -1: revealed too
        return float((1 - start_p) * V[0][x0] + start_p * V[1][x0]), top
    return float(V[0][x0]), top


def _store_stream(spec: Spec, net: Network, d: int, periods: int, split: str) -> dict:
    """The relaxation of one store and SKU (demand ``d`` of ``spec``): its DP cost and what went in."""
    nodes, skus = list(spec.node_ids), list(spec.sku_ids)
    demand = spec.demands[d]
    n, k = nodes.index(demand.node), skus.index(demand.sku)
    arcs = [e for e, a in enumerate(spec.arcs) if a.customer == demand.node]
    if len(arcs) != 1:
        raise ValueError(f"{demand.node} needs one supplier")
    e = arcs[0]
    lead = spec.arcs[e].lead_time
    if lead.kind != "fixed" or lead.value != 1 or lead.disruption is not None:
        raise ValueError(f"{demand.node}'s supply needs a fixed lead time of 1 without disruptions")
    up = [f for f, a in enumerate(spec.arcs) if a.customer == spec.arcs[e].supplier]
    unit = float(net.unit_cost[e] + net.transport_cost[e]
                 + sum(net.unit_cost[f] + net.transport_cost[f] for f in up))
    proc = demand.process
    if proc.kind != "negative-binomial":
        raise ValueError("the relaxation is written for negative-binomial demand")
    shape = proc.mean**2 / (proc.std**2 - proc.mean)
    promo = proc.promotion
    if promo is not None and promo.duration != 2:
        raise ValueError("promotions of two periods only")
    mean = proc.mean * proc.factor(periods)
    siblings = [dm for dm in spec.demands if dm.node == demand.node]
    share = (proc.mean / sum(dm.process.mean for dm in siblings) if split == "demand"
             else 1.0 / len(siblings))
    fixed = share * float(net.fixed_cost[e])
    cost, top = store_dp(mean, shape, promo.lift if promo else 1.0, promo.probability if promo else 0.0,
                         float(net.holding_cost[n, k]), float(net.shortage_cost[d]), unit, fixed,
                         int(round(net.initial_inventory[n, k])))
    return {"stream": f"{demand.node}/{demand.sku}", "cost": cost, "unit_cost": unit,
            "fixed_share": fixed, "max_order_up_to": top}


def relaxed_lower_bound(spec: Spec, periods: int, split: str = "demand") -> dict:
    """A lower bound on every non-anticipative policy's expected cost per period over ``periods``.

    For two-echelon lost-sales scenarios of this shape: stores fed by one distribution centre
    (DC) with a fixed lead time of 1, ``timing = "order-first"``, whole units, negative-binomial
    demand (trend, seasonality, two-period promotions allowed). The relaxation:

    * every store and SKU becomes its own single-item lost-sales problem (:func:`store_dp`): it
      orders any whole number of units each period, arriving at the start of the next, at the
      unit cost along its supply chain (purchase plus transport); the DC's stock, capacities,
      storage limits, DC holding and the joint use of fixed order costs are dropped (each only
      restricts a real policy or adds cost); each store arc's fixed cost is shared among its
      SKUs (``split``);
    * real purchases are at least the units shipped to the stores minus the DC's initial stock,
      so ``unit cost * DC initial stock`` is subtracted once;
    * each single-item problem is solved exactly over the whole horizon from the initial stock,
      with *more* information than a real policy has (whether a promotion started is revealed).

    Every real policy's store deliveries are feasible in the relaxation at no more cost, so the
    relaxed optimum bounds every real policy's expected cost per period over the whole horizon
    (warm-up included, as the hindsight bound ``milp.hindsight_bound``).

    :param spec: the scenario.
    :param periods: horizon, warm-up included.
    :param split: how each store arc's fixed cost is shared among its SKUs: ``"demand"`` (by
        mean demand) or ``"equal"``. Any split whose shares sum to the fixed cost gives a valid
        bound; take the larger.
    :return: ``{"streams": [{"stream", "cost", "unit_cost", "fixed_share", "max_order_up_to"}, ...],
        "dc_credit", "periods", "split", "bound_per_period"}``.
    :raises ValueError: the scenario is not of the shape above.
    """
    net = Network(spec)
    if spec.timing != "order-first" or not spec.integer or spec.randomisation is not None:
        raise ValueError("the relaxation needs order-first timing, whole units and no randomisation")
    rows = [_store_stream(spec, net, d, periods, split) for d in range(len(spec.demands))]
    dc_credit = 0.0
    for n, node in enumerate(spec.nodes):
        if not any(dm.node == node.id for dm in spec.demands):
            inbound = [f for f, a in enumerate(spec.arcs) if a.customer == node.id]
            price = float(sum(net.unit_cost[f] for f in inbound))
            dc_credit += price * float(net.initial_inventory[n].sum())
    total = sum(r["cost"] for r in rows)
    return {"streams": rows, "dc_credit": dc_credit, "periods": periods, "split": split,
            "bound_per_period": (total - dc_credit) / periods}
