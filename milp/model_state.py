"""The window's state in the model's mutable parameters: :func:`set_state` and the tight coefficients.

Everything that changes between rolling-horizon steps -- stock, pipeline,
demand, safety targets, cost scales, and the ``"tight"`` formulation's big-M
and cover bounds derived from them -- is a mutable ``Param`` of the model built
by :func:`milp.model.build_model`; :func:`set_state` writes them all, so a
persistent solver re-solves the same model.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from milp.model_data import ModelData
from scenarios.errors import SpecError

__all__ = ["bigm_from_demand", "cover_from_demand", "set_state"]

#: Floor of a tight big-M: HiGHS drops (and warns about) a coefficient set to 0.
_MIN_BIGM = 1e-6


def bigm_from_demand(data: ModelData, demand: np.ndarray, backlog: np.ndarray,
                     safety: np.ndarray) -> np.ndarray:
    """Tight big-M ``(E, K, H)``: downstream demand a shipment in ``j`` can still serve.

    ``M[e,k,j] = sum_d reach[e,d] (backlog[d] + sum_{s >= first} demand[d,s])
    + sum_n reach_nodes[e,n] safety[n,k]`` over streams ``d`` of SKU ``k``.
    Under lost sales, demand before the shipment arrives is lost before it can
    help: ``first = j + L`` (``j`` with ``bound=True``). Under backlog any
    demand of the window may still be owed when it arrives: ``first = 0``.

    :param data: the model's :class:`ModelData`.
    :param demand: ``(D, H)`` demand (forecast) per stream and window period.
    :param backlog: ``(D,)`` open backlog.
    :param safety: ``(N, K)`` safety-stock targets.
    """
    net, H = data.network, data.horizon
    K = net.n_skus
    tail = np.concatenate([np.cumsum(demand[:, ::-1], axis=1)[:, ::-1], np.zeros((len(demand), 1))], axis=1)
    if net.backlog:
        start = np.zeros_like(data.lead)
    else:  # (H, E) the first period whose demand a shipment can serve
        start = np.minimum(np.arange(H)[:, None] + (0 if data.bound else 1) * data.lead, H)
    out = np.zeros((net.n_arcs, K, H))
    sku_of = net.demand_sku
    for e in range(net.n_arcs):
        rem = tail[:, start[:, e]] + backlog[:, None]  # (D, H)
        weighted = data.reach[e][:, None] * rem
        for k in range(K):
            out[e, k] = weighted[sku_of == k].sum(axis=0) + data.reach_nodes[e] @ safety[:, k]
    return out


def cover_from_demand(data: ModelData, demand: np.ndarray, on_hand: np.ndarray,
                      backlog: np.ndarray, safety: np.ndarray | None = None) -> np.ndarray:
    """Bounds ``(E, K, H)`` of the echelon cover inequalities (zero on arcs without them).

    ``D[e,k,u]`` bounds the sales of period ``u + delay[e,d]`` that shipments
    on ``e`` can serve, summed over the streams ``d`` of SKU ``k`` below it,
    in units shipped on ``e``. A stream's demand is netted, FIFO, against the
    stock of its own node when nothing else can use that stock (a node
    without customers, a SKU that does not perish: then that stock leaves only
    by selling, after the open backlog), less the node's safety target: the
    echelon cover rows keep up to that many units idle, and the initial stock
    is where they are taken from first.

    :param data: the model's :class:`ModelData`.
    :param demand: ``(D, H)`` demand per stream and window period.
    :param on_hand: ``(N, K)`` on hand at the start.
    :param backlog: ``(D,)`` open backlog.
    :param safety: ``(N, K)`` safety-stock targets (default none).
    """
    net, H = data.network, data.horizon
    if safety is None:
        safety = np.zeros((net.n_nodes, net.n_skus))
    out = np.zeros((net.n_arcs, net.n_skus, H))
    leaf = np.array([not data.outbound[n] for n in range(net.n_nodes)])
    for e in data.cover_arcs:
        for d in np.flatnonzero(data.reach[e] > 0):
            n, k = net.demand_node[d], net.demand_sku[d]
            shift = int(min(data.delay[e, d], H))
            wanted = data.reach[e, d] * demand[d]
            if leaf[n] and net.shelf_life[k] == 0:  # own stock serves the earliest sales, from period 0
                own = data.reach[e, d] * max(on_hand[n, k] - backlog[d] - safety[n, k], 0.0)
                wanted = np.minimum(wanted, np.maximum(np.cumsum(wanted) - own, 0.0))
            out[e, k, :H - shift] += wanted[shift:]
    return out


def set_state(m: pyo.ConcreteModel, *, on_hand: np.ndarray, demand: np.ndarray,
              arriving: np.ndarray | None = None, arriving_later: np.ndarray | None = None,
              owed: np.ndarray | None = None, backlog: np.ndarray | None = None,
              safety: np.ndarray | None = None, available: np.ndarray | None = None,
              alive: np.ndarray | None = None, hold_scale: float = 1.0, shortage_scale: float = 1.0,
              terminal_value: np.ndarray | None = None) -> None:
    """Set every mutable parameter of a model built by :func:`build_model`.

    Unset optional arguments take their neutral value (nothing in transit, owed
    or backlogged; no safety stock; every arc available), so each call fully
    defines the window: nothing leaks from the previous step.

    :param m: the model.
    :param on_hand: ``(N, K)`` on hand at the start of window period 0 (after its arrivals).
    :param demand: ``(D, H)`` demand per stream and window period.
    :param arriving: ``(E, K, H)`` scheduled arrivals (already shipped) at the start of each period.
    :param arriving_later: ``(E, K)`` in transit, arriving after the window (pipeline cost only).
    :param owed: ``(E, K)`` ordered earlier but not yet shipped.
    :param backlog: ``(D,)`` external backlog at the start.
    :param safety: ``(N, K)`` safety-stock targets.
    :param available: ``(E, H)`` 1 where the arc can ship, 0 where disrupted. Only arcs whose
        lead time has a ``disruption`` can be disrupted (the others have no such parameter).
    :param alive: ``(N, K, H)`` initial stock of perishable SKUs still unexpired at the end of
        each period (default: all of ``on_hand`` for the first ``shelf_life - 1`` periods).
    :param hold_scale: multiplier on holding and pipeline costs (the path's).
    :param shortage_scale: multiplier on shortage costs (the path's).
    :param terminal_value: ``(N, K)`` credit per unit on hand at the window's end (default 0).
    """
    data: ModelData = m.data
    net, H = data.network, data.horizon
    N, K, E, D = net.n_nodes, net.n_skus, net.n_arcs, net.n_demands
    on_hand = np.asarray(on_hand, dtype=float).reshape(N, K)
    demand = np.asarray(demand, dtype=float).reshape(D, H)
    arriving = np.zeros((E, K, H)) if arriving is None else np.asarray(arriving, dtype=float)
    later = np.zeros((E, K)) if arriving_later is None else np.asarray(arriving_later, dtype=float)
    owed = np.zeros((E, K)) if owed is None else np.asarray(owed, dtype=float)
    backlog = np.zeros(D) if backlog is None else np.asarray(backlog, dtype=float)
    safety = np.zeros((N, K)) if safety is None else np.broadcast_to(np.asarray(safety, dtype=float), (N, K))
    available = np.ones((E, H)) if available is None else np.asarray(available, dtype=float)
    fixed = np.setdiff1d(np.arange(E), data.disruptable)
    if np.any(available[fixed] < 1):
        raise SpecError("available", "only arcs with a disruption in their lead time can be disrupted")
    if alive is None:
        keep = np.arange(H)[None, :] < (net.shelf_life[:, None] - 1)  # (K, H)
        alive = on_hand[:, :, None] * keep[None]

    _store(m.on_hand, on_hand)
    _store(m.demand, demand)
    _store(m.arriving, arriving)
    _store(m.arriving_later, later)
    _store(m.owed, owed)
    _store(m.backlog0, backlog)
    _store(m.safety, safety)
    _store(m.terminal_value, np.zeros((N, K)) if terminal_value is None else terminal_value)
    _store(m.available, available)
    perishable = net.shelf_life > 0
    if perishable.any():
        _store(m.alive, np.where(perishable[None, :, None], alive, 0.0))
    for n in data.capped_nodes:  # stock above capacity (only ever the initial stock) is not refused
        m.storage_cap[n] = max(float(net.storage_capacity[n]), float(on_hand[n].sum()))
    m.hold_scale = float(hold_scale)
    m.short_scale = float(shortage_scale)
    if data.cover_arcs:
        pipeline = net.customer_matrix.T @ (arriving.sum(axis=2) + later)  # (N, K) in transit into each node
        stock = on_hand + pipeline
        cover = cover_from_demand(data, demand, on_hand, backlog, safety)
        for e in data.cover_arcs:
            for k in range(K):
                m.cover_stock[e, k] = float(data.reach_nodes[e] @ stock[:, k])
                for j in range(H):
                    m.cover_demand[e, k, j] = max(float(cover[e, k, j]), _MIN_BIGM)
    if data.formulation == "tight" and data.setup_arcs:
        bigm = bigm_from_demand(data, demand, backlog, safety)
        for e in data.setup_arcs:
            for k in range(K):
                for j in range(H):
                    m.bigm[e, k, j] = max(float(bigm[e, k, j]), _MIN_BIGM)


def _store(param: pyo.Param, values: np.ndarray) -> None:
    """Write an array into an indexed mutable param whose indices are its array positions.

    The param's data objects are looked up once and cached on the param, in
    C order, so a rolling-horizon step costs one attribute write per value.
    """
    flat = np.asarray(values, dtype=float)
    slots = getattr(param, "_echelon_slots", None)
    if slots is None:
        slots = [param[i if flat.ndim == 1 else tuple(i)] for i in
                 (range(flat.size) if flat.ndim == 1 else np.ndindex(flat.shape))]
        param._echelon_slots = slots
    for slot, v in zip(slots, flat.ravel().tolist(), strict=True):
        slot.set_value(v)
