"""A spec compiled to index arrays for the batched simulator and policies."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from scenarios.spec import EXTERNAL, Spec

__all__ = ["Network"]


class Network:
    """Index arrays and cost tables of a spec (N nodes, E arcs, K SKUs, D demand streams).

    Arrays (no path axis; the simulator broadcasts them):

    * ``supplier`` ``(E,)`` node index or -1 for external; ``customer`` ``(E,)``.
    * ``supplier_matrix`` ``(E, N)``: 1 where the arc leaves the node.
    * ``customer_matrix`` ``(E, N)``: 1 where the arc enters the node.
    * ``holding_cost``, ``price`` ``(N, K)``; ``pipeline_cost``, ``unit_cost``,
      ``fixed_cost``, ``transport_cost``, ``moq``, ``capacity`` ``(E,)``.
    * ``demand_node``, ``demand_sku`` ``(D,)``; ``shortage_cost`` ``(D,)``.
    * ``shelf_life`` ``(K,)`` (0: never expires); ``ages`` = age buckets.
    """

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        ids = spec.node_ids
        self.n_nodes, self.n_arcs, self.n_skus = len(spec.nodes), len(spec.arcs), len(spec.skus)
        self.n_demands = len(spec.demands)
        arcs = spec.arcs
        self.supplier = np.array([-1 if a.supplier == EXTERNAL else ids.index(a.supplier) for a in arcs],
                                 dtype=np.int64)
        self.customer = np.array([ids.index(a.customer) for a in arcs], dtype=np.int64)
        E, N = self.n_arcs, self.n_nodes
        self.supplier_matrix = np.zeros((E, N))
        internal = self.supplier >= 0
        self.supplier_matrix[np.arange(E)[internal], self.supplier[internal]] = 1.0
        self.customer_matrix = np.zeros((E, N))
        self.customer_matrix[np.arange(E), self.customer] = 1.0
        self.external = ~internal
        self._to_customer = np.ascontiguousarray(self.customer_matrix.T)  # (N, E)
        self._to_supplier = np.ascontiguousarray(self.supplier_matrix.T)

        def arc_field(name: str, missing: float = 0.0) -> np.ndarray:
            return np.array([missing if getattr(a, name) is None else getattr(a, name) for a in arcs],
                            dtype=float)

        self.unit_cost = arc_field("unit_cost")
        self.fixed_cost = arc_field("fixed_cost")
        self.transport_cost = arc_field("transport_cost")
        self.pipeline_cost = arc_field("pipeline_holding_cost")
        self.moq = arc_field("moq")
        self.capacity = arc_field("capacity", np.inf)
        self.split = arc_field("split", 1.0)
        self.priority = np.array([a.priority for a in arcs], dtype=np.int64)
        self.max_lead_time = max((a.lead_time.max_value for a in arcs), default=0)

        nodes = spec.nodes
        self.holding_cost = np.array([n.holding_cost for n in nodes], dtype=float)
        self.price = np.array([n.price for n in nodes], dtype=float)
        self.initial_inventory = np.array([n.initial_inventory for n in nodes], dtype=float)
        self.storage_capacity = np.array([np.inf if n.storage_capacity is None else n.storage_capacity
                                          for n in nodes])
        self.production_capacity = np.array([np.inf if n.production_capacity is None
                                             else n.production_capacity for n in nodes])
        self.operating_cost = np.array([n.operating_cost for n in nodes])
        self.yield_rate = np.array([n.yield_rate for n in nodes])
        self.priority_allocation = np.array([n.allocation == "priority" for n in nodes])
        self.priority_sourcing = np.array([n.sourcing == "priority" for n in nodes])

        self.shelf_life = np.array([s.shelf_life or 0 for s in spec.skus], dtype=np.int64)
        self.waste_cost = np.array([s.waste_cost for s in spec.skus])
        self.ages = int(max(1, self.shelf_life.max()))
        # Arrivals enter the bucket of their full life; stock that never expires sits in the last.
        self.fresh_bucket = np.where(self.shelf_life > 0, self.shelf_life - 1, self.ages - 1)
        self.perishable = self.shelf_life > 0

        demands = spec.demands
        self.demand_node = np.array([ids.index(d.node) for d in demands], dtype=np.int64)
        self.demand_sku = np.array([spec.sku_ids.index(d.sku) for d in demands], dtype=np.int64)
        self.shortage_cost = np.array([d.shortage_cost for d in demands])
        self.integer = spec.integer
        self.backlog = spec.shortage == "backlog"
        self.internal_backlog = spec.internal_shortage == "backlog"

    def at_customers(self, per_arc: np.ndarray) -> np.ndarray:
        """Sum ``(paths, arcs, skus)`` into each arc's customer node: ``(paths, nodes, skus)``."""
        if per_arc.shape[-1] == 1:  # one SKU: a single matrix product
            return (per_arc[..., 0] @ self.customer_matrix)[..., None]
        return self._to_customer @ per_arc  # a stacked matmul: far faster than einsum here

    def at_suppliers(self, per_arc: np.ndarray) -> np.ndarray:
        """Sum ``(paths, arcs, skus)`` into each arc's supplier node (external arcs drop out)."""
        if per_arc.shape[-1] == 1:
            return (per_arc[..., 0] @ self.supplier_matrix)[..., None]
        return self._to_supplier @ per_arc

    # ------------------------------------------------------------ allocation
    @cached_property
    def queue_matrix(self) -> np.ndarray:
        """``(E, E)`` transpose of :attr:`before`: ``queue_matrix @ x`` sums over arcs served earlier."""
        return np.ascontiguousarray(self.before.T)

    @cached_property
    def before(self) -> np.ndarray:
        """``(E, E)``: 1 where arc ``e`` is served before arc ``f`` by the same supplier.

        Priority allocation ranks by the arc's ``priority``, then spec order.
        """
        E = self.n_arcs
        out = np.zeros((E, E))
        for e in range(E):
            for f in range(E):
                if e != f and self.supplier[e] == self.supplier[f] >= 0:
                    out[e, f] = (self.priority[e], e) < (self.priority[f], f)
        return out

    @cached_property
    def sourcing_before(self) -> np.ndarray:
        """``(E, E)``: 1 where arc ``e`` is filled before arc ``f`` into the same customer."""
        E = self.n_arcs
        out = np.zeros((E, E))
        for e in range(E):
            for f in range(E):
                if e != f and self.customer[e] == self.customer[f]:
                    out[e, f] = (self.priority[e], e) < (self.priority[f], f)
        return out

    @cached_property
    def last_source(self) -> np.ndarray:
        """``(E,)`` bool: the lowest-priority arc into its customer (takes any remainder)."""
        return ~(self.sourcing_before.sum(axis=1) > 0)

    # ------------------------------------------------------------------ tree
    @cached_property
    def children(self) -> list[list[int]]:
        """Customer node indices of each node."""
        return [list(self.customer[self.supplier == n]) for n in range(self.n_nodes)]

    @cached_property
    def levels(self) -> list[np.ndarray]:
        """Node indices grouped by height (longest path down to a node without customers).

        Level 0 holds the most downstream nodes; every node's customers sit in
        lower levels, so orders can be placed level by level, customers first.
        """
        height = np.zeros(self.n_nodes, dtype=np.int64)
        for i in self.spec.downstream_order():
            height[i] = max((height[c] + 1 for c in self.children[i]), default=0)
        return [np.flatnonzero(height == h) for h in range(int(height.max()) + 1)]

    @cached_property
    def downstream(self) -> np.ndarray:
        """``(N, N)``: 1 where node ``j`` is at or below node ``i`` (``i`` reaches ``j``)."""
        reach = np.eye(self.n_nodes)
        for i in self.spec.downstream_order():  # customers first
            for c in self.children[i]:
                reach[i] = np.maximum(reach[i], reach[c])
        return reach

    @cached_property
    def demand_rate(self) -> np.ndarray:
        """``(N, K)`` mean external demand per period served through each node.

        On several suppliers the flow is divided by the arcs' split fractions
        (equal shares under priority sourcing).
        """
        rate = np.zeros((self.n_nodes, self.n_skus))
        for d, dem in enumerate(self.spec.demands):
            rate[self.demand_node[d], self.demand_sku[d]] += float(dem.process.mean_at(1)[0])
        flow = rate.copy()
        for i in self.spec.downstream_order():
            for e in np.flatnonzero(self.supplier == i):
                c = self.customer[e]
                n_in = int((self.customer == c).sum())
                share = self.split[e] if not self.priority_sourcing[c] else 1.0 / n_in
                flow[i] += share * flow[c] / self.yield_rate[c]
        return flow

    @cached_property
    def sku_share(self) -> np.ndarray:
        """``(N, K)`` each SKU's share of the mean demand through a node (equal shares if none)."""
        rate = self.demand_rate
        total = rate.sum(axis=1, keepdims=True)
        return np.where(total > 0, rate / np.where(total > 0, total, 1.0), 1.0 / self.n_skus)

    @cached_property
    def mean_lead_time(self) -> np.ndarray:
        """``(N,)`` expected lead time into each node (mean over its inbound arcs; 0 if none)."""
        expected = np.array([a.lead_time.expected for a in self.spec.arcs])
        count = np.bincount(self.customer, minlength=self.n_nodes)
        total = np.bincount(self.customer, weights=expected, minlength=self.n_nodes)
        return np.where(count > 0, total / np.maximum(count, 1), 0.0)
