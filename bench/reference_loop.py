"""A plain per-path, per-period Python reference of the batched simulator.

This is the loop a user would write without the batched simulator: one sample
path at a time, one period at a time, Python lists and floats, base-stock
orders on the local inventory position. It reproduces
:func:`scenarios.simulator.simulate` (same event order, same rounding, same
costs) for the features the divergent and retail scenarios use:

* ``order-first`` or ``demand-first`` timing;
* lead times, disruptions and per-path cost scales read from the same
  :class:`~scenarios.paths.SamplePaths` arrays (``lead_time``, ``disrupted``,
  ``demand``, ``holding_scale``, ``shortage_scale``);
* base-stock ``S`` per node and SKU on the local inventory position
  (on hand + in transit + owed to the node - owed by it - external backlog),
  nodes ordering level by level, customers first, so a supplier's position
  already counts what its customers order this period (as
  ``scenarios.policies.BaseStock`` does);
* split sourcing, integer rounding of orders (``rint``) and of shipments
  (``floor`` forgiving 1e-9), MOQs, arc capacities (shared over SKUs
  proportionally), proportional allocation of short supplier stock;
* unlimited external supply; backlog or lost sales for external demand,
  backlog or lost internal shortages;
* holding, pipeline holding, shortage, unit, fixed, transport and operating
  costs, yield, revenue.

Anything else (storage or production capacity, priority allocation or
sourcing, perishable SKUs, goodwill, budgets) raises :class:`ValueError`.

Run ``python bench/reference_loop.py`` to check agreement with the batched
simulator on a few paths of each built-in scenario it supports.
"""

from __future__ import annotations

import math

import common  # noqa: F401  (bench/common.py: this checkout first on sys.path; why: there)
import numpy as np

from scenarios.paths import SamplePaths
from scenarios.spec import EXTERNAL, Spec

__all__ = ["ReferenceModel"]

EPS = 1e-9  # the simulator's tolerance for rounding down


def floor(x: float) -> float:
    """Round down, forgiving float noise just below an integer (as the simulator does)."""
    return float(math.floor(x + EPS))


class ReferenceModel:
    """A spec turned into plain Python lists; :meth:`run_path` simulates one path.

    :param spec: the scenario.
    :param customers_first: nodes order level by level, customers first, and a
        supplier's position already counts what its customers order this period
        (the base-stock policy of the current ``scenarios.policies``); ``False``:
        every node orders from the position at the start of ordering.
    :raises ValueError: the spec uses a feature this reference does not implement.
    """

    def __init__(self, spec: Spec, customers_first: bool = True) -> None:
        self.spec = spec
        self.customers_first = customers_first
        self._check_supported(spec)
        ids = spec.node_ids
        sku_ids = spec.sku_ids
        self.N, self.K, self.E, self.D = len(spec.nodes), len(spec.skus), len(spec.arcs), len(spec.demands)
        # arcs
        self.supplier = [-1 if a.supplier == EXTERNAL else ids.index(a.supplier) for a in spec.arcs]
        self.customer = [ids.index(a.customer) for a in spec.arcs]
        self.unit_cost = [float(a.unit_cost) for a in spec.arcs]
        self.fixed_cost = [float(a.fixed_cost) for a in spec.arcs]
        self.transport_cost = [float(a.transport_cost) for a in spec.arcs]
        self.pipeline_cost = [float(a.pipeline_holding_cost) for a in spec.arcs]
        self.moq = [float(a.moq) for a in spec.arcs]
        self.capacity = [math.inf if a.capacity is None else float(a.capacity) for a in spec.arcs]
        self.split = [1.0 if a.split is None else float(a.split) for a in spec.arcs]
        self.slots = max((a.lead_time.max_value for a in spec.arcs), default=0) + 1
        # nodes
        self.holding = [list(map(float, n.holding_cost)) for n in spec.nodes]
        self.initial = [list(map(float, n.initial_inventory)) for n in spec.nodes]
        self.price = [list(map(float, n.price)) for n in spec.nodes]
        self.yield_rate = [float(n.yield_rate) for n in spec.nodes]
        self.operating_cost = [float(n.operating_cost) for n in spec.nodes]
        # demand streams
        self.demand_node = [ids.index(d.node) for d in spec.demands]
        self.demand_sku = [sku_ids.index(d.sku) for d in spec.demands]
        self.shortage_cost = [float(d.shortage_cost) for d in spec.demands]
        self.integer = spec.integer
        self.backlog = spec.shortage == "backlog"
        self.internal_backlog = spec.internal_shortage == "backlog"
        self.order_first = spec.timing == "order-first"
        # height of a node: longest path down to a node without customers; level 0 orders first
        height = [0] * self.N
        for i in spec.downstream_order():  # customers before suppliers
            below = [height[c] for s, c in zip(self.supplier, self.customer, strict=True) if s == i]
            height[i] = max(below) + 1 if below else 0
        levels = ([[n for n in range(self.N) if height[n] == h] for h in range(max(height) + 1)]
                  if customers_first else [list(range(self.N))])
        # per level: the arcs into its nodes, and those arcs grouped by internal supplier
        self.level_arcs = []
        for level in levels:
            arcs = [e for e in range(self.E) if self.customer[e] in level]
            by_supplier = [(i, [e for e in arcs if self.supplier[e] == i]) for i in range(self.N)]
            self.level_arcs.append((arcs, [(i, group) for i, group in by_supplier if group]))

    @staticmethod
    def _check_supported(spec: Spec) -> None:
        bad = []
        if spec.budget is not None:
            bad.append("budget")
        for n in spec.nodes:
            if n.storage_capacity is not None:
                bad.append(f"storage_capacity of {n.id}")
            if n.production_capacity is not None:
                bad.append(f"production_capacity of {n.id}")
            if n.allocation != "proportional":
                bad.append(f"allocation {n.allocation!r} of {n.id}")
            if n.sourcing != "split":
                bad.append(f"sourcing {n.sourcing!r} of {n.id}")
        if any(s.shelf_life for s in spec.skus):
            bad.append("perishable SKUs")
        if any(d.process.goodwill is not None for d in spec.demands):
            bad.append("goodwill")
        if len({(d.node, d.sku) for d in spec.demands}) < len(spec.demands):
            bad.append("two demand streams for one node and SKU")
        if bad:
            raise ValueError(f"reference loop does not implement: {', '.join(bad)} "
                             f"(scenario {spec.name!r})")

    def run_path(self, paths: SamplePaths, p: int, S: list[list[float]]) -> list[float]:
        """Simulate path ``p`` under base-stock levels ``S[node][sku]``.

        :return: total cost net of revenue in each period (warm-up included).
        """
        N, K, E, D, W = self.N, self.K, self.E, self.D, self.slots
        supplier, customer, integer = self.supplier, self.customer, self.integer
        demand = paths.demand[p].tolist()  # [period][stream]
        lead_time = paths.lead_time[p].tolist()  # [period][arc]
        disrupted = paths.disrupted[p].tolist()  # [period][arc]
        hs, ss = float(paths.holding_scale[p]), float(paths.shortage_scale[p])
        hold = [[h * hs for h in row] for row in self.holding]
        pipe_cost = [c * hs for c in self.pipeline_cost]
        short_cost = [c * ss for c in self.shortage_cost]

        stock = [row[:] for row in self.initial]  # [node][sku] on hand
        pipeline = [[[0.0] * K for _ in range(W)] for _ in range(E)]  # [arc][arrival % W][sku]
        in_transit = [[0.0] * K for _ in range(E)]  # [arc][sku] the pipeline summed over slots
        owed = [[0.0] * K for _ in range(E)]  # [arc][sku] ordered, not yet shipped
        backlog = [0.0] * D  # [stream] external demand owed
        cost = {}  # this period's cost parts

        def order_and_ship(t: int) -> None:
            # local inventory position: on hand + in transit and owed to the node
            # - owed by the node to its customers - its external backlog
            inbound = [[0.0] * K for _ in range(N)]
            outbound = [[0.0] * K for _ in range(N)]
            for e in range(E):
                into, coming, due = inbound[customer[e]], in_transit[e], owed[e]
                for k in range(K):
                    into[k] += coming[k] + due[k]
                if supplier[e] >= 0:
                    out_of = outbound[supplier[e]]
                    for k in range(K):
                        out_of[k] += due[k]
            position = [[stock[n][k] + inbound[n][k] - outbound[n][k] for k in range(K)]
                        for n in range(N)]
            for d in range(D):
                position[self.demand_node[d]][self.demand_sku[d]] -= backlog[d]

            # base-stock orders, level by level: what customers order now is owed
            # by their supplier, so it lowers the supplier's position
            placed = [None] * E
            for arcs, by_supplier in self.level_arcs:
                for e in arcs:
                    n = customer[e]
                    placed[e] = [max(S[n][k] - position[n][k], 0.0) * self.split[e] for k in range(K)]
                for i, from_i in by_supplier:
                    for k in range(K):
                        position[i][k] -= sum(placed[e][k] for e in from_i)

            # the simulator rounds (half to even, as numpy.rint), applies MOQs, then
            # each arc asks for what is owed plus the new order, within its capacity
            orders, request = [], []
            for e in range(E):
                row = []
                for k in range(K):
                    q = max(placed[e][k], 0.0)
                    if integer:
                        q = float(round(q))
                    if 0 < q < self.moq[e]:
                        q = self.moq[e]
                    row.append(q)
                if sum(row) > 0:
                    cost["fixed"] += self.fixed_cost[e]
                ask = [owed[e][k] + row[k] for k in range(K)]
                cap = 0.0 if disrupted[t][e] else self.capacity[e]
                total = sum(ask)
                if total > cap:
                    ask = [a * (cap / max(total, EPS)) for a in ask]
                if integer:
                    ask = [floor(a) for a in ask]
                orders.append(row)
                request.append(ask)

            # suppliers ship: external in full; short internal stock is shared in
            # proportion to what each customer asks for (rounded down)
            wanted = [[0.0] * K for _ in range(N)]
            for e in range(E):
                if supplier[e] >= 0:
                    for k in range(K):
                        wanted[supplier[e]][k] += request[e][k]
            sent_all, shipped = [], [[0.0] * K for _ in range(N)]
            for e in range(E):
                ask, i = request[e], supplier[e]
                if i < 0:
                    sent = ask
                else:
                    sent = []
                    for k in range(K):
                        have, want = stock[i][k], wanted[i][k]
                        s = ask[k] * (have / max(want, EPS)) if want > have else ask[k]
                        sent.append(floor(s) if integer else s)
                        shipped[i][k] += sent[k]
                sent_all.append(sent)
            for n in range(N):
                for k in range(K):
                    stock[n][k] -= min(max(shipped[n][k], 0.0), stock[n][k])

            arrive_now = []
            for e in range(E):
                sent, c = sent_all[e], customer[e]
                for k in range(K):
                    unsent = owed[e][k] + orders[e][k] - sent[k]
                    owed[e][k] = unsent if self.internal_backlog else 0.0
                    cost["ordering"] += sent[k] * self.unit_cost[e]
                    cost["transport"] += sent[k] * self.transport_cost[e]
                    cost["operating"] += sent[k] * self.operating_cost[c]
                arriving = [s * self.yield_rate[c] for s in sent]
                lead = lead_time[t][e]
                if lead == 0:
                    arrive_now.append((c, arriving))
                else:
                    due = pipeline[e][(t + lead) % W]
                    for k in range(K):
                        due[k] += arriving[k]
                        in_transit[e][k] += arriving[k]
            for c, arriving in arrive_now:  # lead time 0: on hand after all shipping
                for k in range(K):
                    stock[c][k] += arriving[k]

        def serve(t: int) -> None:
            for d in range(D):
                n, k = self.demand_node[d], self.demand_sku[d]
                need = demand[t][d] + backlog[d]
                served = min(stock[n][k], need)
                stock[n][k] -= min(max(served, 0.0), stock[n][k])
                short = need - served  # backlogged, or lost and charged once
                cost["shortage"] += short * short_cost[d]
                backlog[d] = short if self.backlog else 0.0
                cost["revenue"] += served * self.price[n][k]

        out = []
        for t in range(len(demand)):
            cost.update(dict.fromkeys(("shortage", "ordering", "fixed", "transport", "operating",
                                       "revenue"), 0.0))
            # 1. receive what arrives this period
            slot = t % W
            for e in range(E):
                arrived, node = pipeline[e][slot], stock[customer[e]]
                for k in range(K):
                    node[k] += arrived[k]
                    in_transit[e][k] -= arrived[k]
                pipeline[e][slot] = [0.0] * K
            # 2-4. order and serve, in the spec's timing
            if self.order_first:
                order_and_ship(t)
                serve(t)
            else:
                serve(t)
                order_and_ship(t)
            # 6. end-of-period holding on hand and in transit
            holding = sum(stock[n][k] * hold[n][k] for n in range(N) for k in range(K))
            in_pipeline = sum(in_transit[e][k] * pipe_cost[e] for e in range(E) for k in range(K))
            out.append(holding + in_pipeline + cost["shortage"] + cost["ordering"] + cost["fixed"]
                       + cost["transport"] + cost["operating"] - cost["revenue"])
        return out

    def run(self, paths: SamplePaths, S: np.ndarray, index: range | list[int] | None = None) -> np.ndarray:
        """Simulate the paths in ``index`` (default all) one by one.

        :param S: base-stock levels ``(nodes, skus)``.
        :return: ``(len(index), periods)`` cost per period.
        """
        index = range(paths.n_paths) if index is None else index
        levels = np.asarray(S, dtype=float).tolist()
        return np.array([self.run_path(paths, p, levels) for p in index])


def node_sku_levels(spec: Spec, per_node: np.ndarray) -> np.ndarray:
    """Spread per-node levels ``(N,)`` over SKUs by demand share, as ``BaseStock`` does."""
    from scenarios.network import Network

    rate = Network(spec).demand_rate
    total = rate.sum(axis=1, keepdims=True)
    share = np.where(total > 0, rate / np.where(total > 0, total, 1.0), 1.0 / rate.shape[1])
    return np.asarray(per_node, dtype=float)[:, None] * share


def check_agreement(spec: Spec, paths: SamplePaths, S: np.ndarray, batched_cost: np.ndarray,
                    index: list[int], rtol: float = 1e-9, model: ReferenceModel | None = None) -> float:
    """Assert the reference gives the batched per-path cost on ``index``; return the worst error.

    :param batched_cost: ``(paths, periods)`` total cost per period from ``simulate``.
    :param model: the reference to check (default ``ReferenceModel(spec)``).
    """
    ref = (model or ReferenceModel(spec)).run(paths, S, index)
    worst = 0.0
    for row, p in zip(ref, index, strict=True):
        want = batched_cost[p]
        per_period = np.max(np.abs(row - want) / np.maximum(np.abs(want), 1.0))
        total = abs(row.sum() - want.sum()) / max(abs(want.sum()), 1.0)
        worst = max(worst, float(per_period), float(total))
        if per_period > rtol or total > rtol:
            raise AssertionError(f"{spec.name}: reference and batched simulator disagree on path {p}: "
                                 f"total {row.sum():.12g} vs {want.sum():.12g}, worst period "
                                 f"error {per_period:.3g} (relative)")
    return worst


if __name__ == "__main__":
    from scenarios import builtin
    from scenarios.policies import BaseStock
    from scenarios.simulator import simulate
    from scenarios.tuning import initial_levels

    for name in builtin.names():
        spec = builtin.get(name)
        try:
            ReferenceModel(spec)
        except ValueError as err:
            print(f"{name:20s} skipped: {err}")
            continue
        paths = SamplePaths.draw(spec, 16, periods=100, seed=0)
        S = node_sku_levels(spec, initial_levels(spec)["local"])
        cost = simulate(spec, paths, BaseStock(S=S)).total_cost
        worst = check_agreement(spec, paths, S, cost, list(range(16)))
        print(f"{name:20s} 16 paths agree, worst relative error {worst:.1e}")
