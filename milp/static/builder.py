"""The SAA program of one base-stock family on one set of paths: :class:`Builder`.

The builder writes, SKU by SKU, the cumulative orders (affine in the levels),
the shipments bounded by ``min(R, A)`` (:mod:`milp.static.shipping`), the exact
MILP's shortage binaries (:mod:`milp.static.binaries`) and the costs
(:mod:`milp.static.costs`) into one :class:`~milp.static.program.Program`.
"""

from __future__ import annotations

import numpy as np

from milp.static.binaries import supply_pieces
from milp.static.costs import charge_costs
from milp.static.expressions import Affine, lagged
from milp.static.program import Program
from milp.static.shipping import ship, true_orders
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.spec import Spec
from scenarios.tuning import initial_levels

__all__ = ["Builder"]

class Builder:
    """Writes the SAA program of one policy family on one set of paths.

    :param binaries: write the exact MILP (one binary per supplier, path and period);
        otherwise the LP whose shipments are only bounded above by ``min(R, A)``.
    """

    def __init__(self, spec: Spec, paths: SamplePaths, family: str, net: Network,
                 binaries: bool = False) -> None:
        self.spec, self.paths, self.family, self.net = spec, paths, family, net
        self.binaries = binaries
        self.P, self.T = paths.n_paths, paths.n_periods
        self.w = paths.warmup
        self.lost = spec.shortage == "lost-sales"
        self.prog = Program((self.P, self.T))
        measured = np.zeros((self.P, self.T))
        measured[:, self.w:] = 1.0 / (self.P * (self.T - self.w))
        self.measured = measured
        # Lost sales charge the burn-in too (see :mod:`milp.static`).
        self.charged = np.full_like(measured, 1.0 / (self.P * self.T)) if self.lost else measured
        self.hold_scale = paths.holding_scale[:, None]
        self.short_scale = paths.shortage_scale[:, None]
        self.top_down = list(reversed(spec.downstream_order()))  # suppliers before customers
        self.in_arc = {int(net.customer[e]): e for e in range(net.n_arcs)}
        self.out_arcs = {n: [e for e in range(net.n_arcs) if net.supplier[e] == n]
                         for n in range(net.n_nodes)}
        self.streams = {(int(net.demand_node[d]), int(net.demand_sku[d])): d for d in range(net.n_demands)}
        self.level_cols = np.zeros((net.n_nodes, net.n_skus), dtype=np.int64)
        self.n_binaries = 0
        # Proportional sharing depends on what was owed before: with a shared supplier the
        # shipment columns start in period 0 so the program's simulation has the whole history.
        self.from_start = any(len(c) > 1 for c in net.children)
        #: Column families of internal shipments (the concave part of the cost).
        self.shipments: list[np.ndarray] = []
        #: (node, sku, cumulative orders, first modelled period): the order-up-to rows.
        self.order_up_to: list[tuple[int, int, Affine, int]] = []

    def windows(self) -> dict[int, int]:
        """First period each arc's cumulative shipments are modelled from.

        Measured costs read arrivals up to ``L + 1`` periods back, and a supplier's
        shipments from period ``f`` read its own arrivals from ``f - L - 1``; all arcs
        out of one supplier share a window. Lost sales model every period.
        """
        start: dict[int, int] = {}
        for n in self.spec.downstream_order():  # customers first
            outs = self.out_arcs[n]
            need = min([self.w] + [start[e] for e in outs])
            for e in outs:
                start[e] = need
            if n in self.in_arc:
                e = self.in_arc[n]
                start[e] = 0 if self.lost else max(0, need - int(self.paths.lead_time[:, :, e].max()) - 1)
        return start

    def level_bounds(self) -> np.ndarray:
        """``hi`` per node and SKU: the largest demand below the node over the longest lead time + 2."""
        net, paths = self.net, self.paths
        depth = np.zeros(net.n_nodes, dtype=np.int64)  # lead time from outside down to each node
        for n in self.top_down:
            if n in self.in_arc:
                e = self.in_arc[n]
                up = depth[net.supplier[e]] if net.supplier[e] >= 0 else 0
                depth[n] = int(paths.lead_time[:, :, e].max()) + up
        window = int(depth.max()) + 2
        hi = np.ones((net.n_nodes, net.n_skus))
        for n in range(net.n_nodes):
            for k in range(net.n_skus):
                below = self.cumulative_demand(n, k)
                if below is None:
                    continue
                span = below[:, window:] - below[:, :-window] if self.T > window else below[:, -1:]
                hi[n, k] = max(1.0, float(span.max()))
        return hi

    def cumulative_demand(self, node: int, sku: int) -> np.ndarray | None:
        """``(P, T)`` cumulative external demand of ``sku`` at and below ``node`` (None if none)."""
        total = None
        for (n, k), d in self.streams.items():
            if k == sku and self.net.downstream[node, n] > 0:
                c = np.cumsum(self.paths.demand[:, :, d], axis=1)
                total = c if total is None else total + c
        return total

    def arrivals(self, shipped: Affine, e: int, *, same_period: bool
                 ) -> tuple[Affine, np.ndarray, np.ndarray]:
        """Cumulative units on arc ``e`` arrived by period ``t``, with interval bounds.

        :param same_period: count shipments with lead time 0 in the period they are sent
            (for end-of-period stock, and demand served after shipping); otherwise they
            count from the next period (what the customer can ship or, ``demand-first``, sell).
        """
        lead = self.paths.lead_time[:, :, e]
        lead = lead if same_period else np.maximum(lead, 1)
        kmax, kmin = int(lead.max()), int(lead.min())
        lo, hi = self.prog.bounds(shipped)
        box = (lagged(lo, kmax, 0.0), lagged(hi, kmin, 0.0))  # cumulative shipments never decrease
        if kmax == kmin:
            return shipped.shift(kmax), *box
        out = shipped.shift(kmax)
        for k in range(kmax):  # sent k periods ago with a lead time <= k: arrived
            arrived = (lagged(lead, k, kmax + 1) <= k).astype(float)
            out = out + arrived * (shipped.shift(k) - shipped.shift(k + 1))
        return out, *box

    def build(self, box: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Write every SKU's program (SKUs share nothing).

        :param box: ``(lo, hi)`` levels ``(nodes, skus)`` replacing the default ``[0, hi]``.
        """
        net = self.net
        self.hi = self.level_bounds()
        self.lo = np.zeros_like(self.hi)
        if box is not None:
            self.lo, self.hi = (np.broadcast_to(np.asarray(b, float).reshape(net.n_nodes, -1),
                                                self.hi.shape).copy() for b in box)
        for n in range(net.n_nodes):
            for k in range(net.n_skus):
                self.level_cols[n, k] = self.prog.scalar(float(self.lo[n, k]), float(self.hi[n, k]),
                                                         sku=k, integer=self.spec.integer)
        self.start = self.windows()
        for k in range(net.n_skus):
            self._build_sku(k)

    def _build_sku(self, k: int) -> None:
        net, prog = self.net, self.prog
        P, T = self.P, self.T
        init = net.initial_inventory[:, k]
        order_first = self.spec.timing == "order-first"

        # Demand signal per demand node: cumulative demand (backlog) or sales (lost sales).
        signal: dict[int, Affine] = {}
        sales: dict[int, np.ndarray] = {}
        for (n, kk), d in self.streams.items():
            if kk != k:
                continue
            if self.lost:
                sales[n] = prog.columns(0.0, np.cumsum(self.paths.demand[:, :, d], axis=1), sku=k)
                signal[n] = prog.var(sales[n])
            else:
                signal[n] = Affine(np.cumsum(self.paths.demand[:, :, d], axis=1))
        seen = {n: (s.shift(1) if order_first else s) for n, s in signal.items()}

        # Cumulative orders R per ordering node: affine in the levels (and sales).
        orders: dict[int, Affine] = {}
        for n in self.spec.downstream_order():  # customers first (local policies add theirs)
            level = prog.level(int(self.level_cols[n, k]))
            if self.family == "echelon-base-stock":
                expr = level - float(net.downstream[n] @ init)
                for m, s in seen.items():
                    if net.downstream[n, m] > 0:
                        expr = expr + s
            else:
                expr = level - float(init[n])
                for c in net.children[n]:
                    expr = expr + orders[c]
                if n in seen:
                    expr = expr + seen[n]
            orders[n] = expr
        t0 = min(self.start.values(), default=0)
        for n in orders:  # every modelled order is order-up-to (see :mod:`milp.static`)
            if n in self.in_arc:
                first = np.zeros((P, T), bool)
                first[:, t0] = True
                prog.constrain(orders[n], lower=0.0, where=first)
                self.order_up_to.append((n, k, orders[n], t0))

        # What the program's simulation reads: the affine orders, or the true ones from period 0.
        placed = true_orders(self, k, orders, seen, init) if self.from_start else orders

        # Cumulative shipments X per arc, suppliers first (rows read `shipped`, rules `sent`).
        shipped: dict[int, Affine] = {}
        sent: dict[int, Affine] = {}
        self.pieces: dict[int, list[Affine] | None] = {}
        for n in self.top_down:
            if n in self.in_arc and net.supplier[self.in_arc[n]] < 0:
                shipped[self.in_arc[n]] = orders[n]  # unlimited outside supply ships everything
                sent[self.in_arc[n]] = placed[n]
            self.pieces[n] = supply_pieces(self, n, orders, init)
            outs = self.out_arcs[n]
            if not outs:
                continue
            if n in self.in_arc:
                e_in = self.in_arc[n]
                arrived, a_lo, a_hi = self.arrivals(shipped[e_in], e_in, same_period=False)
                available = arrived + float(init[n])
                usable = self.arrivals(sent[e_in], e_in, same_period=False)[0] + float(init[n])
                a_lo, a_hi = a_lo + init[n], a_hi + init[n]
            else:
                available = usable = Affine(np.full((P, T), float(init[n])))
                a_lo = a_hi = available.const
            ship(self, n, k, outs, (orders, placed), (available, usable), a_lo, a_hi, shipped)
            sent.update({e: shipped[e] for e in outs})

        charge_costs(self, k, init, shipped, signal, sales)

    def fixed(self, levels: np.ndarray) -> dict[int, tuple[float, int]]:
        """Level columns -> ``(value, node)`` for :meth:`Program.evaluate`."""
        return {int(self.level_cols[n, k]): (float(levels[n, k]), n)
                for n in range(self.net.n_nodes) for k in range(self.net.n_skus)}

    def evaluate(self, levels: np.ndarray, gradients: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """The program's simulation of the policy at ``(nodes, skus)`` levels."""
        return self.prog.evaluate(self.fixed(levels), self.net.n_nodes, gradients)

    def start_levels(self) -> np.ndarray:
        """Heuristic ``(nodes, skus)`` levels (newsvendor-style), lifted to satisfy the program."""
        net = self.net
        lv = initial_levels(self.spec, net)
        per_node = lv["echelon"] if self.family == "echelon-base-stock" else lv["local"]
        return self.clip(per_node[:, None] * self.share())

    def share(self) -> np.ndarray:
        """``(nodes, skus)`` each SKU's share of the demand through each node (as ``make_policy`` spreads)."""
        rate = self.net.demand_rate
        total = rate.sum(axis=1, keepdims=True)
        return np.where(total > 0, rate / np.where(total > 0, total, 1.0), 1.0 / self.net.n_skus)

    def clip(self, levels: np.ndarray) -> np.ndarray:
        """Levels inside the box, rounded for integer specs, and lifted so every order is order-up-to.

        The order-up-to rows read the levels only, so they are checked without simulating.
        """
        levels = np.clip(levels, self.lo, self.hi)
        if self.spec.integer:
            levels = np.round(levels)
        for _ in range(self.net.n_nodes + 1):  # local levels feed their suppliers' orders
            values = np.zeros(self.prog.n_cols)
            values[self.level_cols.ravel()] = levels.ravel()
            moved = False
            for n, k, orders, t0 in self.order_up_to:
                low = float(orders.at(t0, values)[0].min())
                if low < -1e-9:
                    levels[n, k] -= low
                    if self.spec.integer:
                        levels[n, k] = np.ceil(levels[n, k] - 1e-9)
                    moved = True
            if not moved:
                break
        return np.minimum(levels, self.hi)
