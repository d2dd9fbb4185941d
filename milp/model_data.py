"""Index structures of the replenishment model (:mod:`milp.model`): lead times, routes, reach.

:func:`index_model` fills a :class:`ModelData` -- which arrivals land where and
when, which arcs need setups or cover rows, how many units an arc ships per unit
of demand below it -- from the compiled network and the window's lead times.
:func:`milp.model.build_model` writes its families from these;
:func:`milp.model_state.set_state` derives the window's coefficients from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scenarios.errors import SpecError
from scenarios.network import Network
from scenarios.spec import EXTERNAL, Spec

__all__ = ["ModelData", "dearer_upstream", "expected_lead_times", "inbound_lead", "index_model", "lead_chain",
           "lead_table"]


def expected_lead_times(network: Network) -> np.ndarray:
    """Each arc's expected lead time rounded half up to whole periods, ``(E,)`` int.

    The rolling-horizon model plans with these when lead times are random.
    """
    return np.array([int(np.floor(a.lead_time.expected + 0.5)) for a in network.spec.arcs], dtype=np.int64)


def lead_chain(spec: Spec) -> tuple[int, list[str]]:
    """Longest chain of expected lead times from an external supplier down to a demand node.

    Lead times are rounded as the planner plans them (:func:`expected_lead_times`).
    A unit ordered at the top of that chain in window period 0 reaches the demand
    node in this period, so a window of ``H`` periods sees it sell only if ``H`` exceeds it.

    :param spec: the scenario.
    :return: the chain's length in periods and its nodes, supplier first (``"external"`` at the top);
        ``(0, [])`` when no demand node is supplied from outside.
    """
    index = {n: i for i, n in enumerate(spec.node_ids)}
    lead = [int(np.floor(a.lead_time.expected + 0.5)) for a in spec.arcs]
    best: dict[int, tuple[int, list[str]]] = {}
    for n in reversed(spec.downstream_order()):  # suppliers first
        for a, arc in enumerate(spec.arcs):
            if index[arc.customer] != n:
                continue
            if arc.supplier == EXTERNAL:
                above = (0, [EXTERNAL])
            elif index[arc.supplier] in best:
                above = best[index[arc.supplier]]
            else:  # a supplier without outside supply
                continue
            here = (above[0] + lead[a], above[1] + [arc.customer])
            if n not in best or here[0] > best[n][0]:
                best[n] = here
    chains = [best[index[d.node]] for d in spec.demands if index[d.node] in best]
    return max(chains, key=lambda c: c[0], default=(0, []))


@dataclass
class ModelData:
    """Index structures of one built model (kept on the model as ``model.data``).

    :param network: the compiled scenario.
    :param horizon: periods in the window, ``H``.
    :param lead: ``(H, E)`` lead time of a shipment sent in each window period.
    :param arrivals: ``(n, j)`` -> ``[(e, s), ...]`` shipments with ``L >= 1`` arriving at ``n`` in ``j``.
    :param same_period: ``(n, j)`` -> arcs into ``n`` with ``L = 0`` in ``j``.
    :param outbound: node -> arcs it supplies.
    :param streams: ``(n, k)`` -> demand streams served from that stock.
    :param setup_arcs: arcs with a setup variable (fixed cost or MOQ).
    :param decoupled: arcs whose setups cover cumulative shipments (``bound=True`` only).
    :param discard: ``(n, k)`` pairs that may discard stock.
    :param cover_arcs: setup arcs that get the echelon cover inequalities (``"tight"``).
    :param cover_pairs: ``(e, j, u)``: a shipment on ``e`` in ``j`` can have arrived by ``u``.
    :param reach: ``(E, D)`` units shipped on ``e`` per unit of demand of stream ``d``
        (``1/yield`` products along the way; 0 where ``d`` is not downstream).
    :param reach_nodes: ``(E, N)`` the same for each node's stock (safety targets).
    :param delay: ``(E, D)`` shortest lead time from the arc's customer down to stream ``d``.
    :param yield_in: ``(E,)`` yield of each arc's customer (units received per unit shipped).
    """

    network: Network
    horizon: int
    lead: np.ndarray
    timing: str
    formulation: str
    bound: bool
    integer: bool
    safety_mode: str
    arrivals: dict[tuple[int, int], list[tuple[int, int]]] = field(default_factory=dict)
    same_period: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    outbound: list[list[int]] = field(default_factory=list)
    streams: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    setup_arcs: list[int] = field(default_factory=list)
    moq_arcs: list[int] = field(default_factory=list)
    decoupled: set[int] = field(default_factory=set)
    disruptable: list[int] = field(default_factory=list)
    capped_nodes: list[int] = field(default_factory=list)
    discard: list[tuple[int, int]] = field(default_factory=list)
    cover_arcs: list[int] = field(default_factory=list)
    cover_pairs: list[tuple[int, int, int]] = field(default_factory=list)
    reach: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    delay: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    reach_nodes: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    yield_in: np.ndarray = field(default_factory=lambda: np.zeros(0))


def dearer_upstream(network: Network) -> np.ndarray:
    """``(E,)`` bool: arcs whose supplier holds some SKU at a higher cost than customer + pipeline.

    There, pushing stock downstream can pay, which the tight big-M does not allow.
    """
    net = network
    supplier = net.holding_cost[np.maximum(net.supplier, 0)]
    downstream = net.holding_cost[net.customer] + net.pipeline_cost[:, None]
    return (net.supplier >= 0) & np.any(supplier > downstream, axis=1)


def lead_table(network: Network, horizon: int, lead_times: np.ndarray | None) -> np.ndarray:
    """``(H, E)`` int lead times from ``None`` (expected), ``(E,)`` or ``(H, E)``."""
    E = network.n_arcs
    if lead_times is None:
        lead = expected_lead_times(network)
    else:
        lead = np.asarray(lead_times)
    if lead.shape == (E,):
        lead = np.broadcast_to(lead, (horizon, E))
    if lead.shape != (horizon, E):
        raise SpecError("lead_times", f"must have shape ({E},) or ({horizon}, {E}), got {lead.shape}")
    if np.any(lead < 0) or not np.all(np.equal(np.mod(lead, 1), 0)):
        raise SpecError("lead_times", "must be whole numbers >= 0")
    return lead.astype(np.int64)


def _reach(network: Network) -> tuple[np.ndarray, np.ndarray]:
    """Units shipped on each arc per unit of downstream demand / stock: ``(E, D)`` and ``(E, N)``.

    Through several routes the largest factor is kept, so ``M`` stays an upper bound.
    """
    N = network.n_nodes
    at_node = np.zeros((N, N))  # at_node[c, n]: units entering c's stock per unit at n
    for c in network.spec.downstream_order():  # customers first
        at_node[c, c] = 1.0
        for e in np.flatnonzero(network.supplier == c):
            g = network.customer[e]
            at_node[c] = np.maximum(at_node[c], at_node[g] / network.yield_rate[g])
    per_arc = at_node[network.customer] / network.yield_rate[network.customer][:, None]  # (E, N)
    return per_arc[:, network.demand_node], per_arc


def index_model(data: ModelData) -> None:
    """Fill the index structures of ``data`` from its network and lead times."""
    net, H, spec = data.network, data.horizon, data.network.spec
    N, K, E = net.n_nodes, net.n_skus, net.n_arcs
    for e in range(E):
        for s in range(H):
            L, n = int(data.lead[s, e]), int(net.customer[e])
            if L == 0:
                data.same_period.setdefault((n, s), []).append(e)
            elif s + L < H:
                data.arrivals.setdefault((n, s + L), []).append((e, s))
    data.outbound = [list(np.flatnonzero(net.supplier == n)) for n in range(N)]
    for d in range(net.n_demands):
        data.streams.setdefault((int(net.demand_node[d]), int(net.demand_sku[d])), []).append(d)
    data.setup_arcs = [e for e in range(E) if net.fixed_cost[e] > 0 or net.moq[e] > 0]
    data.moq_arcs = [e for e in range(E) if net.moq[e] > 0]
    data.disruptable = [e for e, a in enumerate(spec.arcs) if a.lead_time.disruption is not None]
    data.capped_nodes = [n for n in range(N) if np.isfinite(net.storage_capacity[n])]
    data.discard = [(n, k) for n in range(N) for k in range(K)
                    if net.shelf_life[k] > 0 or np.isfinite(net.storage_capacity[n])]
    if data.bound:
        data.decoupled = {e for e in data.setup_arcs
                          if net.supplier[e] >= 0 or np.isfinite(net.capacity[e]) or e in data.disruptable
                          or np.isfinite(net.production_capacity[net.customer[e]])}
    data.reach, data.reach_nodes = _reach(net)
    data.yield_in = net.yield_rate[net.customer]
    data.delay = _delay(net, data.lead.min(axis=0))
    if data.formulation == "tight":
        data.cover_arcs = [e for e in data.setup_arcs if e not in data.decoupled and _single_sourced(net, e)]
        data.cover_pairs = [(e, j, u) for e in data.cover_arcs for j in range(H)
                            for u in range(j + int(data.lead[j, e]), H)]


def _delay(net: Network, lead: np.ndarray) -> np.ndarray:
    """``(E, D)`` shortest total lead time from each arc's customer down to each stream's node."""
    N = net.n_nodes
    dist = np.full((N, N), np.iinfo(np.int64).max // 4, dtype=np.int64)
    for c in net.spec.downstream_order():  # customers first
        dist[c, c] = 0
        for e in np.flatnonzero(net.supplier == c):
            dist[c] = np.minimum(dist[c], dist[net.customer[e]] + lead[e])
    return np.minimum(dist[net.customer][:, net.demand_node], 10**6)


def _single_sourced(net: Network, e: int) -> bool:
    """True when every unit in the subtree below arc ``e`` entered through ``e`` (or was there)."""
    below = np.flatnonzero(net.downstream[net.customer[e]] > 0)
    inbound = np.bincount(net.customer, minlength=net.n_nodes)
    return bool(np.all(inbound[below] == 1))


def inbound_lead(data: ModelData) -> list[int]:
    """Each node's shortest inbound lead time (its first replenishable period; 0 without supply)."""
    net = data.network
    return [min((int(data.lead[0, e]) for e in np.flatnonzero(net.customer == n)), default=0)
            for n in range(net.n_nodes)]
