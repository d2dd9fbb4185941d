"""The compiled period step: the numpy simulator's period, one sample path at a time.

Each function mirrors a method of :class:`scenarios.simulator.Simulator` (named
in its docstring) operation by operation, in the same order, so the numbers
agree with the reference to the last bits but for the order of sums (tested to
1e-12 relative in ``tests/scenarios/test_kernel.py``). Sample paths are
independent: :func:`scenarios.kernel.policies.run_policy` runs them in parallel (``prange``).

Arguments come packed in tuples built by :mod:`scenarios.kernel.backend`:

* ``m`` -- the network (arc, node, SKU and demand-stream tables, no path axis);
* ``fl`` -- ``int64`` flags, indexed by the ``F_*`` constants;
* ``rp`` -- the sample paths: ``demand``, ``rounding`` ``(P, T, D)``,
  ``lead_time``, ``disrupted`` ``(P, T, E)``, ``holding_scale``,
  ``shortage_scale`` ``(P,)``;
* ``st`` -- the state arrays of :class:`~scenarios.simulator.State`, changed in place;
* ``costs`` ``(9, P, T)`` in :data:`~scenarios.simulator.COST_PARTS` order and
  ``flows`` ``(10, P, T)``, added to as the numpy simulator does;
* ``work`` -- scratch arrays with a path axis (:func:`workspace`).

The kernel runs without numba's reference counting (``_nrt=False``): it allocates
nothing, and a call passing these tuples then costs nanoseconds, not the
microsecond of counting references to some fifty arrays.
"""

from __future__ import annotations

import numpy as np
from numba import njit

EPS = 1e-9
# rows of ``costs`` (COST_PARTS order) and of ``flows`` (the simulator's _FLOWS order)
HOLDING, PIPELINE, SHORTAGE, ORDERING, FIXED, TRANSPORT, OPERATING, WASTE, REVENUE = range(9)
DEMAND, FILLED, SOLD, BACKLOG, LOST, STOCK, WASTED, EXTERNAL_ORDERS, SHORT_STREAMS, EMPTY_STREAMS = range(10)
# ``fl`` entries
(F_TIMING, F_INTEGER, F_BACKLOG, F_INTERNAL_BACKLOG, F_MOQ, F_STORAGE, F_PROD_CAP, F_BUDGET, F_GOODWILL,
 F_KPI, F_FIXED_LEAD, F_PERISHABLE, F_PRIO_ALLOC, F_ARC_CAP, N_FLAGS) = range(15)
ORDER_FIRST, DEMAND_FIRST, ORGYM = range(3)


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def stock_of(on_hand, p, n, k):
    """On hand at node ``n``, SKU ``k`` of path ``p``, all ages (``State.stock``)."""
    total = on_hand[p, n, k, 0]
    for a in range(1, on_hand.shape[3]):
        total += on_hand[p, n, k, a]
    return total


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def take_oldest(on_hand, p, n, k, amount):
    """Remove ``amount`` from node ``n``, SKU ``k``, oldest first (``Simulator._take_oldest``)."""
    A = on_hand.shape[3]
    if A == 1:
        on_hand[p, n, k, 0] -= min(amount, on_hand[p, n, k, 0])
        return
    cum = 0.0
    for a in range(A):
        held = on_hand[p, n, k, a]
        cum += held
        on_hand[p, n, k, a] = held - min(max(amount - (cum - held), 0.0), held)


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def receive(p, t, arrivals, m, fl, st, costs, flows, incoming):
    """Put arc arrivals ``(E, K)`` on hand, refusing what exceeds storage (``Simulator._receive``)."""
    customer, storage_capacity, waste_cost, fresh = m[1], m[15], m[18], m[20]
    on_hand = st[0]
    E, K = arrivals.shape
    N = incoming.shape[0]
    incoming[:] = 0.0
    for e in range(E):
        for k in range(K):
            incoming[customer[e], k] += arrivals[e, k]
    if fl[F_STORAGE]:
        waste, refused_units = 0.0, 0.0
        for n in range(N):
            held, total = 0.0, 0.0
            for k in range(K):
                held += stock_of(on_hand, p, n, k)
                total += incoming[n, k]
            room = max(storage_capacity[n] - held, 0.0)
            accept = room / max(total, EPS) if total > room else 1.0
            for k in range(K):
                refused = incoming[n, k] * (1 - accept)
                incoming[n, k] = incoming[n, k] - refused
                waste += refused * waste_cost[k]
                refused_units += refused
        costs[WASTE, p, t] += waste
        flows[WASTED, p, t] += refused_units
    for n in range(N):
        for k in range(K):
            on_hand[p, n, k, fresh[k]] += incoming[n, k]


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def arrive(p, t, m, fl, st, costs, flows, work):
    """Take period ``t``'s slot out of the pipeline and receive it (``Simulator._arrive``)."""
    pipeline, in_transit = st[1], st[2]
    arrivals, incoming = work[0], work[5]
    E, W, K = pipeline.shape[1:]
    slot = t % W
    for e in range(E):
        for k in range(K):
            arrivals[e, k] = pipeline[p, e, slot, k]
            pipeline[p, e, slot, k] = 0.0
            in_transit[p, e, k] -= arrivals[e, k]
    receive(p, t, arrivals, m, fl, st, costs, flows, incoming)


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def place_orders(p, t, orders, m, fl, costs, flows):
    """Orders as placed ``(E, K)``, in place: whole units, MOQ, budget (``Simulator._place_orders``)."""
    external, moq, unit_cost, fixed_cost, budget = m[2], m[4], m[5], m[6], m[29]
    E, K = orders.shape
    spend = 0.0
    for e in range(E):
        for k in range(K):
            q = max(orders[e, k], 0.0)
            if fl[F_INTEGER]:
                q = np.rint(q)
            if fl[F_MOQ] and q > 0 and q < moq[e]:
                q = moq[e]
            orders[e, k] = q
            spend += q * unit_cost[e]
    if fl[F_BUDGET]:
        scale = min(1.0, budget[0] / max(spend, EPS))
        for e in range(E):
            for k in range(K):
                q = orders[e, k] * scale
                if fl[F_INTEGER]:
                    q = np.floor(q + EPS)
                if fl[F_MOQ] and q < moq[e]:
                    q = 0.0
                orders[e, k] = q
    fixed, placed_outside = 0.0, 0.0
    for e in range(E):
        total = 0.0
        for k in range(K):
            total += orders[e, k]
        if total > 0:
            fixed += fixed_cost[e]
        if external[e]:
            placed_outside += total
    costs[FIXED, p, t] += fixed
    if fl[F_KPI]:
        flows[EXTERNAL_ORDERS, p, t] += placed_outside


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def requests(p, t, orders, m, fl, rp, st, request, inbound):
    """What each arc asks to ship ``(E, K)``: owed plus ordered, within capacities (``_requests``)."""
    customer, capacity, production_capacity = m[1], m[3], m[16]
    owed, disrupted = st[3], rp[3]
    E, K = orders.shape
    for e in range(E):
        total = 0.0
        for k in range(K):
            request[e, k] = owed[p, e, k] + orders[e, k]
            total += request[e, k]
        if fl[F_ARC_CAP]:
            cap = 0.0 if disrupted[p, t, e] else capacity[e]
            if total > cap:
                factor = cap / max(total, EPS)
                for k in range(K):
                    request[e, k] = request[e, k] * factor
    if fl[F_PROD_CAP]:
        inbound[:] = 0.0
        for e in range(E):
            total = 0.0
            for k in range(K):
                total += request[e, k]
            inbound[customer[e]] += total
        for e in range(E):
            cap = production_capacity[customer[e]]
            if inbound[customer[e]] > cap:
                factor = cap / max(inbound[customer[e]], EPS)
                for k in range(K):
                    request[e, k] = request[e, k] * factor
    if fl[F_INTEGER]:
        for e in range(E):
            for k in range(K):
                request[e, k] = np.floor(request[e, k] + EPS)


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def allocate(p, request, m, fl, st, sent, wanted):
    """What each arc ships ``(E, K)``: suppliers share their stock (``Simulator._allocate``)."""
    supplier, external, prio_alloc, queue = m[0], m[2], m[12], m[13]
    on_hand = st[0]
    E, K = request.shape
    wanted[:] = 0.0
    for e in range(E):
        if not external[e]:
            for k in range(K):
                wanted[supplier[e], k] += request[e, k]
    for e in range(E):
        for k in range(K):
            if external[e]:
                sent[e, k] = request[e, k]
                continue
            available = stock_of(on_hand, p, supplier[e], k)
            if prio_alloc[e]:
                ahead = 0.0
                for f in range(E):
                    ahead += queue[e, f] * request[f, k]
                q = min(max(available - ahead, 0.0), request[e, k])
            else:
                w = wanted[supplier[e], k]
                q = request[e, k] * (available / max(w, EPS) if w > available else 1.0)
            sent[e, k] = np.floor(q + EPS) if fl[F_INTEGER] else q


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def order_and_ship(p, t, orders, m, fl, rp, st, costs, flows, work):
    """Place ``orders`` ``(E, K)`` and ship what suppliers can (``Simulator._order_and_ship``).

    Then charges unfilled orders and per-unit costs (``_charge_shipments``) and puts
    shipments in the pipeline (``_dispatch``), receiving lead-time-0 ones at once.
    """
    supplier, external = m[0], m[2]
    unit_cost, transport_cost, operating_cost, unfilled_cost, yield_rate, fixed_lead = (
        m[5], m[7], m[8], m[10], m[11], m[14])
    on_hand, pipeline, in_transit, owed = st[0], st[1], st[2], st[3]
    arriving, request, sent, now_arrivals, inbound, node_sku = work[0], work[1], work[2], work[3], \
        work[4], work[5]
    E, W, K = pipeline.shape[1:]
    place_orders(p, t, orders, m, fl, costs, flows)
    requests(p, t, orders, m, fl, rp, st, request, inbound)
    allocate(p, request, m, fl, st, sent, node_sku)
    node_sku[:] = 0.0  # shipped out of each node
    for e in range(E):
        if not external[e]:
            for k in range(K):
                node_sku[supplier[e], k] += sent[e, k]
    for n in range(node_sku.shape[0]):
        for k in range(K):
            take_oldest(on_hand, p, n, k, node_sku[n, k])
    unfilled, ordering, transport, operating = 0.0, 0.0, 0.0, 0.0
    any_now = False
    now_slot = t % W
    for e in range(E):
        lead = fixed_lead[e] if fl[F_FIXED_LEAD] else rp[2][p, t, e]
        slot = now_slot + lead  # (t + lead) % W without a division (a fifth of the step's time)
        while slot >= W:
            slot -= W
        unsent_arc, sent_arc = 0.0, 0.0
        for k in range(K):
            unsent = owed[p, e, k] + orders[e, k] - sent[e, k]
            owed[p, e, k] = unsent if fl[F_INTERNAL_BACKLOG] else 0.0
            unsent_arc += unsent
            sent_arc += sent[e, k]
            arriving[e, k] = sent[e, k] * yield_rate[e]
            later = 0.0 if lead == 0 else arriving[e, k]
            now_arrivals[e, k] = arriving[e, k] if lead == 0 else 0.0
            pipeline[p, e, slot, k] += later
            in_transit[p, e, k] += later
        any_now = any_now or lead == 0
        unfilled += unsent_arc * unfilled_cost[e]
        ordering += sent_arc * unit_cost[e]
        transport += sent_arc * transport_cost[e]
        operating += sent_arc * operating_cost[e]
    costs[SHORTAGE, p, t] += unfilled
    costs[ORDERING, p, t] += ordering
    costs[TRANSPORT, p, t] += transport
    costs[OPERATING, p, t] += operating
    if any_now:
        receive(p, t, now_arrivals, m, fl, st, costs, flows, work[6])


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def serve(p, t, m, fl, rp, st, costs, flows):
    """Serve this period's demand (backlog first) from stock, oldest first (``Simulator._serve``)."""
    demand_node, demand_sku, shortage_cost, price = m[21], m[22], m[23], m[24]
    gw_on, gw_sens, gw_rec, gw_floor, integer_stream = m[25], m[26], m[27], m[28], m[30]
    demand, rounding, shortage_scale = rp[0], rp[1], rp[5]
    on_hand, backlog, goodwill, last_demand = st[0], st[4], st[5], st[6]
    short_cost, revenue, lost = 0.0, 0.0, 0.0
    asked, filled_units, sold, short_streams, empty_streams = 0.0, 0.0, 0.0, 0, 0
    for d in range(demand_node.shape[0]):
        n, k = demand_node[d], demand_sku[d]
        wanted = demand[p, t, d]
        if fl[F_GOODWILL] and gw_on[d]:
            reduced = wanted * goodwill[p, d]
            wanted = np.floor(reduced + rounding[p, t, d]) if integer_stream[d] else reduced
        available = stock_of(on_hand, p, n, k)
        if fl[F_BACKLOG]:
            need = wanted + backlog[p, d]
            served = min(available, need)
            filled = min(wanted, max(available - backlog[p, d], 0.0))
        else:
            need = wanted
            served = filled = min(available, wanted)
        if on_hand.shape[3] == 1:
            on_hand[p, n, k, 0] -= served
        else:
            take_oldest(on_hand, p, n, k, served)
        short = need - served
        short_cost += short * (shortage_cost[d] * shortage_scale[p])
        if fl[F_BACKLOG]:
            backlog[p, d] = short
        else:
            lost += short
        if fl[F_GOODWILL]:
            unmet = (wanted - filled) / max(wanted, EPS)
            g = goodwill[p, d] + gw_rec[d] * (1 - goodwill[p, d]) - gw_sens[d] * unmet
            goodwill[p, d] = min(max(g, gw_floor[d]), 1.0) if gw_on[d] else 1.0
        last_demand[p, d] = wanted
        revenue += served * price[d]
        asked += wanted
        filled_units += filled
        sold += served
        short_streams += filled < wanted - EPS
        empty_streams += available - served <= EPS
    costs[SHORTAGE, p, t] += short_cost
    if not fl[F_BACKLOG]:
        flows[LOST, p, t] = lost
    costs[REVENUE, p, t] += revenue
    if fl[F_KPI]:
        flows[DEMAND, p, t] = asked
        flows[FILLED, p, t] = filled_units
        flows[SOLD, p, t] = sold
        flows[SHORT_STREAMS, p, t] = short_streams
        flows[EMPTY_STREAMS, p, t] = empty_streams


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def close_period(p, t, m, fl, rp, st, costs, flows):
    """Age stock, expire bucket 0, book end-of-period costs (the end of ``Simulator.end_period``)."""
    holding_cost, pipeline_cost, waste_cost, perishable = m[17], m[9], m[18], m[19]
    on_hand, in_transit, backlog, holding_scale = st[0], st[2], st[4], rp[4]
    N, K, A = on_hand.shape[1:]
    if fl[F_PERISHABLE]:
        waste, expired_units = 0.0, 0.0
        for n in range(N):
            for k in range(K):
                if perishable[k]:
                    expired = on_hand[p, n, k, 0]
                    for a in range(A - 1):
                        on_hand[p, n, k, a] = on_hand[p, n, k, a + 1]
                    on_hand[p, n, k, A - 1] = 0.0
                    waste += expired * waste_cost[k]
                    expired_units += expired
        costs[WASTE, p, t] += waste
        flows[WASTED, p, t] += expired_units
    holding, held = 0.0, 0.0
    for n in range(N):
        for k in range(K):
            stock = stock_of(on_hand, p, n, k)
            holding += stock * (holding_cost[n, k] * holding_scale[p])
            held += stock
    costs[HOLDING, p, t] += holding
    pipe = 0.0
    for e in range(in_transit.shape[1]):
        for k in range(K):
            pipe += in_transit[p, e, k] * (pipeline_cost[e] * holding_scale[p])
    costs[PIPELINE, p, t] += pipe
    if fl[F_KPI]:
        flows[STOCK, p, t] = held
        owed = 0.0
        for d in range(backlog.shape[1]):
            owed += backlog[p, d]
        flows[BACKLOG, p, t] = owed


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def begin_path(p, t, m, fl, rp, st, costs, flows, work):
    """Period ``t`` of path ``p`` up to the decision point (``Simulator.begin_period``)."""
    if fl[F_TIMING] != ORGYM:
        arrive(p, t, m, fl, st, costs, flows, work)
    if fl[F_TIMING] == DEMAND_FIRST:
        serve(p, t, m, fl, rp, st, costs, flows)


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def end_path(p, t, orders, m, fl, rp, st, costs, flows, work):
    """The rest of period ``t`` of path ``p`` given its ``orders`` ``(E, K)`` (``Simulator.end_period``)."""
    order_and_ship(p, t, orders, m, fl, rp, st, costs, flows, work)
    if fl[F_TIMING] == ORGYM:
        arrive(p, t, m, fl, st, costs, flows, work)
    if fl[F_TIMING] != DEMAND_FIRST:
        serve(p, t, m, fl, rp, st, costs, flows)
    close_period(p, t, m, fl, rp, st, costs, flows)


def workspace(P: int, N: int, K: int, E: int) -> tuple:
    """Scratch arrays, one set per path: the kernel allocates nothing.

    ``(P, E, K)`` x 4, ``(P, N)``, ``(P, N, K)`` x 2, and for the classical rules
    ``(P, E, K)``, ``(P, N, K)`` x 2.
    """
    return (np.empty((P, E, K)), np.empty((P, E, K)), np.empty((P, E, K)), np.empty((P, E, K)),
            np.empty((P, N)), np.empty((P, N, K)), np.empty((P, N, K)),
            np.empty((P, E, K)), np.empty((P, N, K)), np.empty((P, N, K)))


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def of_path(work, p):
    """Path ``p``'s scratch arrays (views)."""
    return (work[0][p], work[1][p], work[2][p], work[3][p], work[4][p], work[5][p], work[6][p])


# The per-period entry points run paths one after another: called every period from Python, a
# parallel region's start-up (and, on a busy machine, waiting for its threads) costs more than it saves.
@njit(cache=True, error_model="numpy", _nrt=False)
def begin_all(t, m, fl, rp, st, costs, flows, work):
    """:func:`begin_path` on every path."""
    for p in range(st[0].shape[0]):
        begin_path(p, t, m, fl, rp, st, costs, flows, of_path(work, p))


@njit(cache=True, error_model="numpy", _nrt=False)
def end_all(t, orders, m, fl, rp, st, costs, flows, work):
    """:func:`end_path` on every path; ``orders`` ``(P, E, K)`` are consumed (changed in place)."""
    for p in range(st[0].shape[0]):
        end_path(p, t, orders[p], m, fl, rp, st, costs, flows, of_path(work, p))
