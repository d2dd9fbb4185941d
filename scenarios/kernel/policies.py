"""Classical order rules inside the kernel: a whole run of a classical policy is one compiled call.

:func:`compiled_rule` turns a reset :class:`~scenarios.policies.ParametricPolicy`
of one of the five families into arrays; :func:`policy_orders` is its ``act``
for one path, operation by operation (inventory positions, the families' rules,
level-by-level ordering, :func:`~scenarios.policy.to_arc_orders`); :func:`run_policy`
simulates periods ``t0`` to ``t1`` of every path with it, never returning to Python.

Another policy may run in the kernel by naming one of its rules: a method
``kernel_rule() -> (name, params)`` with ``name`` in :data:`KERNEL_RULES`. There is
one so far, ``"orgym-base-stock"`` (``params``: ``z`` ``(stages,)``, ``capped``):
OR-Gym's base-stock rule on its serial line (Hubbs et al. 2020; the policy of
``bench/peers_orgym.py``, where it is described): echelon position
``cumsum(stock + in_transit - owed by the stage)`` from the retailer, order
``max(z - position, 0)``, capped at the arc's capacity and the supplier's stock.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from scenarios.kernel.step import F_BACKLOG, begin_path, end_path, of_path, stock_of
from scenarios.network import Network
from scenarios.policies import SQ, SS, BaseStock, CappedBaseStock, EchelonBaseStock, ParametricPolicy

__all__ = ["FAMILY_CODES", "KERNEL_RULES", "PARALLEL_WORK", "Rule", "compiled_rule", "policy_orders",
           "run_policy", "run_serial"]

BASE_STOCK, ECHELON_BASE_STOCK, S_S, S_Q, CAPPED, ORGYM = range(6)
#: Path-periods from which a run uses every core (numba's threads); below, starting the threads
#: (on a busy machine, waiting for them) costs more than they save: 30 periods x 64 paths ran slower.
PARALLEL_WORK = 65536
#: The classes whose ``act`` the kernel reproduces, with their code and parameter names.
FAMILY_CODES = {BaseStock: (BASE_STOCK, ("S", "S")), EchelonBaseStock: (ECHELON_BASE_STOCK, ("S", "S")),
                SS: (S_S, ("s", "S")), SQ: (S_Q, ("s", "Q")), CappedBaseStock: (CAPPED, ("S", "r"))}
#: Rules a policy may ask for by name (``kernel_rule()``), with their code.
KERNEL_RULES = {"orgym-base-stock": ORGYM}


class Rule(NamedTuple):
    """A classical policy as kernel arrays.

    :param family: the family's code (``BASE_STOCK`` ...).
    :param params: ``(2, periods or 1, paths or 1, N, K)`` the two parameters
        (``S`` twice for base-stock families).
    :param network: ``(downstream (N, N), group (E,), split (E,), priority_sourcing (E,),
        capacity_before (E,), last_source (E,), info [groups, any priority sourcing])``.
    """

    family: int
    params: np.ndarray
    network: tuple


def _as_grid(levels: np.ndarray, by_period: bool) -> np.ndarray:
    """A reset policy's level ``(N, K)``, ``(P, N, K)`` or with a leading period axis, as ``(T, P, N, K)``."""
    if not by_period:
        levels = levels[None]
    return levels[:, None] if levels.ndim == 3 else levels


def compiled_rule(policy: object, network: Network, n_paths: int) -> Rule | None:
    """The kernel form of ``policy`` (already reset), or ``None`` when the kernel cannot run it.

    The five classical classes themselves qualify (a subclass may change ``act``),
    with parameters per node, per node and SKU or per path (``paths`` or 1 of them);
    so does a policy naming a rule of :data:`KERNEL_RULES` that fits the network.
    """
    N, K = network.n_nodes, network.n_skus
    asked = getattr(policy, "kernel_rule", None)
    if asked is not None:
        return _named_rule(*asked(), network)
    known = FAMILY_CODES.get(type(policy))
    if known is None or not isinstance(policy, ParametricPolicy) or not policy._levels:
        return None
    code, names = known
    grids = [_as_grid(np.asarray(policy._levels[name], dtype=float), policy.by_period) for name in names]
    if any(g.ndim != 4 or g.shape[2:] != (N, K) or g.shape[1] not in (1, n_paths) for g in grids):
        return None
    return _rule(code, np.ascontiguousarray(np.stack(np.broadcast_arrays(*grids))), network)


def _named_rule(name: str, values: dict, network: Network) -> Rule | None:
    """A rule of :data:`KERNEL_RULES` by name; ``None`` where it does not fit the network."""
    N, E, K = network.n_nodes, network.n_arcs, network.n_skus
    if name != "orgym-base-stock" or (N, K) != (E, 1) or not np.array_equal(network.customer, np.arange(N)):
        return None
    z = np.asarray(values["z"], dtype=float).reshape(1, 1, N, 1)
    capped = np.full_like(z, float(bool(values["capped"])))
    return _rule(KERNEL_RULES[name], np.ascontiguousarray(np.stack([z, capped])), network)


def _rule(code: int, params: np.ndarray, network: Network) -> Rule:
    """A :class:`Rule` with the network arrays every rule reads."""
    rank = {n: i for i, level in enumerate(network.levels) for n in level}
    used = sorted({rank[c] for c in network.customer})
    group = np.array([used.index(rank[c]) for c in network.customer], dtype=np.int64)
    capacity = network.capacity
    before = np.where(network.sourcing_before > 0, capacity[:, None], 0.0).sum(axis=0)
    prio = network.priority_sourcing[network.customer]
    info = np.array([max(len(used), 1), int(prio.any())], dtype=np.int64)
    return Rule(code, params, (np.ascontiguousarray(network.downstream, dtype=float), group,
                               np.ascontiguousarray(network.split, dtype=float), np.ascontiguousarray(prio),
                               np.ascontiguousarray(before, dtype=float),
                               np.ascontiguousarray(network.last_source), info))


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def _node_order(family, params, ti, pi, n, k, position):
    """One node's order for one SKU before splitting (``node_orders`` then ``max(., 0)``)."""
    a, b = params[0, ti, pi, n, k], params[1, ti, pi, n, k]
    if family == S_S:
        q = b - position if position <= a else 0.0
    elif family == S_Q:
        lot = b if b > 0 else 1.0
        batches = np.floor((a - position) / lot + 1e-9) + 1
        q = batches * lot if position <= a and b > 0 else 0.0
    elif family == CAPPED:
        q = min(a - position, b)
    else:
        q = a - position
    return max(q, 0.0)


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def _to_arc(q, e, pol, capacity):
    """Arc ``e``'s share of its customer's order ``q`` (:func:`~scenarios.policy.to_arc_orders`)."""
    split, prio, before, last, info = pol[2], pol[3], pol[4], pol[5], pol[6]
    if info[1] and prio[e]:
        remainder = max(q - before[e], 0.0)
        return remainder if last[e] else min(remainder, capacity[e])
    return q * split[e]


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def positions(p, m, fl, st, position, inbound):
    """Local inventory positions ``(N, K)`` of path ``p`` (``State.inventory_position``)."""
    supplier, customer, external, demand_node, demand_sku = m[0], m[1], m[2], m[21], m[22]
    on_hand, in_transit, owed, backlog = st[0], st[2], st[3], st[4]
    N, K = position.shape
    inbound[:] = 0.0
    position[:] = 0.0  # first what suppliers owe their customers
    for e in range(in_transit.shape[1]):
        for k in range(K):
            inbound[customer[e], k] += in_transit[p, e, k] + owed[p, e, k]
            if not external[e]:
                position[supplier[e], k] += owed[p, e, k]
    for n in range(N):
        for k in range(K):
            position[n, k] = stock_of(on_hand, p, n, k) + inbound[n, k] - position[n, k]
    if fl[F_BACKLOG]:
        for d in range(demand_node.shape[0]):
            position[demand_node[d], demand_sku[d]] -= backlog[p, d]


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def _orgym_orders(p, params, m, st, orders):
    """OR-Gym's base-stock rule on its serial line (stage ``i`` ordering on arc ``i``)."""
    capacity, on_hand, in_transit, owed, backlog = m[3], st[0], st[2], st[3], st[4]
    N = orders.shape[0]
    position = 0.0
    for i in range(N):
        local = stock_of(on_hand, p, i, 0) + in_transit[p, i, 0]
        local -= backlog[p, 0] if i == 0 else owed[p, i - 1, 0]
        position += local
        q = max(params[0, 0, 0, i, 0] - position, 0.0)
        if params[1, 0, 0, i, 0] > 0:
            q = min(q, capacity[i])
            if i + 1 < N:
                q = min(q, stock_of(on_hand, p, i + 1, 0))
        orders[i, 0] = q


@njit(cache=True, error_model="numpy", _nrt=False, inline="always")
def policy_orders(p, t, family, params, pol, m, fl, st, orders, position, scratch):
    """``act`` of a classical policy for path ``p``: orders ``(E, K)`` written into ``orders``.

    Local families order level by level, customers first, each supplier's position
    counting its customers' new orders; echelon base-stock orders from echelon positions.
    """
    supplier, customer, external, capacity = m[0], m[1], m[2], m[3]
    downstream, group, n_groups = pol[0], pol[1], pol[6][0]
    N, K = position.shape
    E = orders.shape[0]
    ti, pi = min(t, params.shape[1] - 1), np.int64(0)
    if params.shape[2] > 1:
        pi = np.int64(p)
    positions(p, m, fl, st, position, scratch)
    if family == ORGYM:
        _orgym_orders(p, params, m, st, orders)
        return
    if family == ECHELON_BASE_STOCK:
        for i in range(N):
            for k in range(K):
                total = 0.0
                for j in range(N):
                    total += downstream[i, j] * position[j, k]
                scratch[i, k] = total
        for e in range(E):
            for k in range(K):
                orders[e, k] = _to_arc(_node_order(family, params, ti, pi, customer[e], k,
                                                   scratch[customer[e], k]), e, pol, capacity)
        return
    for g in range(n_groups):
        for e in range(E):
            if group[e] == g:
                for k in range(K):
                    orders[e, k] = _to_arc(_node_order(family, params, ti, pi, customer[e], k,
                                                       position[customer[e], k]), e, pol, capacity)
        if g + 1 < n_groups:  # suppliers above see these orders
            scratch[:] = 0.0
            for e in range(E):
                if group[e] == g and not external[e]:
                    for k in range(K):
                        scratch[supplier[e], k] += orders[e, k]
            for n in range(N):
                for k in range(K):
                    position[n, k] = position[n, k] - scratch[n, k]


@njit(cache=True, error_model="numpy", _nrt=False)
def run_path(p, t0, t1, family, params, pol, m, fl, rp, st, costs, flows, work):
    """Periods ``t0`` to ``t1 - 1`` of path ``p`` under a classical policy."""
    mine = of_path(work, p)
    orders, position, scratch = work[7][p], work[8][p], work[9][p]
    for t in range(t0, t1):
        begin_path(p, t, m, fl, rp, st, costs, flows, mine)
        policy_orders(p, t, family, params, pol, m, fl, st, orders, position, scratch)
        end_path(p, t, orders, m, fl, rp, st, costs, flows, mine)


@njit(cache=True, error_model="numpy", _nrt=False)
def run_serial(t0, t1, family, params, pol, m, fl, rp, st, costs, flows, work):
    """:func:`run_policy` on one thread (few paths: starting threads costs more than they save)."""
    for p in range(st[0].shape[0]):
        run_path(p, t0, t1, family, params, pol, m, fl, rp, st, costs, flows, work)


# The parallel loop only calls run_path: numba compiles the period step once, outside the parfor.
@njit(cache=True, parallel=True, error_model="numpy", _nrt=False)
def run_policy(t0, t1, family, params, pol, m, fl, rp, st, costs, flows, work):
    """Periods ``t0`` to ``t1 - 1`` of every path under a classical policy, paths in parallel."""
    for p in prange(st[0].shape[0]):
        run_path(p, t0, t1, family, params, pol, m, fl, rp, st, costs, flows, work)
