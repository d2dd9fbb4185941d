"""The batched simulator: every sample path at once, one Python loop over periods.

A period, in the order of ARCHITECTURE.md:

1. receive pipeline arrivals (shipped in ``t`` with lead time ``L``, they
   arrive at the start of ``t + L``; ``L = 0`` arrives at once);
2. ``order-first`` only: the policy sees the state and orders; suppliers ship;
3. demand is served from on-hand stock, oldest first (backlog first); the rest
   is backlogged or lost;
4. ``demand-first`` only: the policy orders; suppliers ship;
5. stock ages; expired units are wasted;
6. costs at the end of the period.

Shipping: an arc's request is what is owed plus the new order, capped by the
arc's capacity (zero while disrupted) and the customer's production capacity;
a supplier ships what it has, shared among competing arcs proportionally or
by priority. What cannot ship stays owed (``internal_shortage = "backlog"``)
or is lost. Units are conserved: for every node and period,
``stock_end - stock_start = received - shipped - sold - wasted`` (``received``
is what storage accepted; arrivals = received + refused).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.policy import Policy
from scenarios.spec import Spec

__all__ = ["State", "Run", "simulate", "COST_PARTS"]

#: Cost components, each per path and period; ``revenue`` is subtracted.
COST_PARTS = ("holding", "pipeline", "shortage", "ordering", "fixed", "transport",
              "operating", "waste", "revenue")
_EPS = 1e-9


def _floor(x: np.ndarray) -> np.ndarray:
    """Round down, forgiving float noise just below an integer."""
    return np.floor(x + _EPS)


@dataclass
class State:
    """What a policy sees; arrays have the path axis first.

    :param network: the compiled scenario.
    :param paths: the sample paths being simulated (for forecasts).
    :param t: the current period (warm-up included).
    :param on_hand: ``(paths, nodes, skus, ages)`` stock by remaining life,
        bucket 0 expiring first.
    :param pipeline: ``(paths, arcs, slots, skus)`` in transit, by arrival
        period modulo ``slots``.
    :param in_transit: ``(paths, arcs, skus)`` the pipeline summed over slots
        (kept up to date by the simulator).
    :param owed: ``(paths, arcs, skus)`` ordered but not yet shipped.
    :param backlog: ``(paths, demands)`` external demand owed.
    :param goodwill: ``(paths, demands)`` demand multiplier (1: none lost).
    :param last_demand: ``(paths, demands)`` realised demand of the last period.
    """

    network: Network
    paths: SamplePaths
    t: int
    on_hand: np.ndarray
    pipeline: np.ndarray
    in_transit: np.ndarray
    owed: np.ndarray
    backlog: np.ndarray
    goodwill: np.ndarray
    last_demand: np.ndarray

    @classmethod
    def initial(cls, network: Network, paths: SamplePaths) -> State:
        """Start of period 0: initial inventory on hand, fresh; nothing in transit."""
        P, N, K, E, D = (paths.n_paths, network.n_nodes, network.n_skus, network.n_arcs,
                         network.n_demands)
        on_hand = np.zeros((P, N, K, network.ages))
        on_hand[:, :, np.arange(K), network.fresh_bucket] = network.initial_inventory
        return cls(network, paths, 0, on_hand,
                   np.zeros((P, E, network.max_lead_time + 1, K)), np.zeros((P, E, K)),
                   np.zeros((P, E, K)), np.zeros((P, D)), np.ones((P, D)), np.zeros((P, D)))

    @property
    def stock(self) -> np.ndarray:
        """``(paths, nodes, skus)`` on hand, all ages (a read-only view when nothing perishes)."""
        if self.on_hand.shape[-1] > 1:
            return self.on_hand.sum(axis=-1)
        view = self.on_hand[..., 0]
        view.flags.writeable = False  # a policy must not change the simulator's stock
        return view

    @property
    def external_backlog(self) -> np.ndarray:
        """``(paths, nodes, skus)`` external demand owed at each node."""
        out = np.zeros(self.on_hand.shape[:3])
        out[:, self.network.demand_node, self.network.demand_sku] = self.backlog
        return out

    @property
    def inventory_position(self) -> np.ndarray:
        """``(paths, nodes, skus)`` local inventory position.

        On hand + in transit to the node + owed to it by its suppliers
        - owed by it to its customers - external backlog.
        """
        net = self.network
        inbound = net.at_customers(self.in_transit + self.owed)
        position = self.stock + inbound - net.at_suppliers(self.owed)
        return position - self.external_backlog if net.backlog else position

    @property
    def echelon_position(self) -> np.ndarray:
        """``(paths, nodes, skus)`` echelon inventory position (tree networks).

        The sum of local inventory positions over the node and everything
        downstream of it (Clark & Scarf 1960).
        """
        return self.network.downstream @ self.inventory_position


@dataclass
class Run:
    """What a simulation produced; per-path, per-period arrays ``(paths, periods)``.

    Periods include the warm-up; KPIs drop the first ``warmup``.

    :param costs: cost part name -> ``(paths, periods)``; see :data:`COST_PARTS`.
    :param flows: unit flows ``(paths, periods)``: ``demand``, ``filled``
        (served at once from stock), ``sold``, ``backlog`` (end of period),
        ``lost``, ``stock`` (end of period, all nodes), ``waste``,
        ``external_orders`` (placed on external arcs), ``short_streams`` and
        ``empty_streams`` (demand streams that met a stockout / ended empty).
    :param trace: with ``record=True``: full arrays per period, e.g.
        ``stock`` ``(paths, periods + 1, nodes, skus)``, ``orders``
        ``(paths, periods, arcs, skus)``.
    """

    spec: Spec
    policy: str
    warmup: int
    costs: dict[str, np.ndarray]
    flows: dict[str, np.ndarray]
    trace: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def total_cost(self) -> np.ndarray:
        """``(paths, periods)`` cost net of revenue."""
        return sum(v for k, v in self.costs.items() if k != "revenue") - self.costs["revenue"]

    @property
    def n_paths(self) -> int:
        """Number of sample paths."""
        return self.total_cost.shape[0]


def simulate(spec: Spec, paths: SamplePaths, policy: Policy, record: bool = False,
             network: Network | None = None, kpi_flows: bool = True) -> Run:
    """Run ``policy`` on every sample path of ``paths``.

    :param spec: the scenario the paths were drawn for.
    :param paths: the random draws (common random numbers across policies).
    :param policy: any :class:`~scenarios.policy.Policy`.
    :param record: keep per-period arrays by node and arc in ``Run.trace``.
    :param network: a compiled ``Network(spec)`` to reuse (optional).
    :param kpi_flows: fill ``Run.flows`` (KPIs need them; a tuner reading
        only costs can skip them and run faster).
    :return: a :class:`Run` with cost parts and flows per path and period.
    """
    paths.check(spec)
    net = network or Network(spec)
    P, T = paths.n_paths, paths.n_periods
    N, K, E = net.n_nodes, net.n_skus, net.n_arcs
    W = net.max_lead_time + 1
    state = State.initial(net, paths)
    policy.reset(net, P)

    hold = net.holding_cost[None] * paths.holding_scale[:, None, None]  # (P, N, K)
    pipe_cost = net.pipeline_cost[None, :, None] * paths.holding_scale[:, None, None]
    short_cost = net.shortage_cost[None] * paths.shortage_scale[:, None]  # (P, D)
    goodwill = [d.process.goodwill for d in spec.demands]
    gw_streams = np.array([g is not None for g in goodwill])
    gw_sens = np.array([g.sensitivity if g else 0.0 for g in goodwill])
    gw_rec = np.array([g.recovery if g else 0.0 for g in goodwill])
    gw_floor = np.array([g.floor if g else 1.0 for g in goodwill])
    integer_stream = np.array([d.process.integer for d in spec.demands])
    sup = np.maximum(net.supplier, 0)  # external arcs read node 0, then are masked
    prio_alloc = net.priority_allocation[sup] & ~net.external
    has_moq = bool((net.moq > 0).any())
    has_arc_cap = bool(np.isfinite(net.capacity).any() or paths.disrupted.any())
    has_prod_cap = bool(np.isfinite(net.production_capacity).any())
    has_yield_loss = bool((net.yield_rate < 1).any())
    has_fixed = bool(net.fixed_cost.any())
    has_revenue = bool(net.price.any())
    has_pipeline_cost = bool(net.pipeline_cost.any())
    per_unit_costs = [(part, rate) for part, rate in (
        ("ordering", net.unit_cost), ("transport", net.transport_cost),
        ("operating", net.operating_cost[net.customer])) if rate.any()]
    paths_idx = np.arange(P)[:, None]
    arcs_idx = np.arange(E)[None, :]

    costs = {k: np.zeros((P, T)) for k in COST_PARTS}
    flows = {k: np.zeros((P, T)) for k in ("demand", "filled", "sold", "backlog", "lost", "stock",
                                           "waste", "external_orders", "short_streams",
                                           "empty_streams")}
    trace: dict[str, np.ndarray] = {}
    if record:
        trace = {k: np.zeros((P, T, N, K)) for k in ("received", "shipped", "sold", "wasted",
                                                    "refused")}
        trace.update({k: np.zeros((P, T, E, K)) for k in ("orders", "sent", "arrived",
                                                          "yield_loss", "lost_orders")})
        trace["stock"] = np.zeros((P, T + 1, N, K))
        trace["in_transit"] = np.zeros((P, T + 1, E, K))
        trace["stock"][:, 0] = state.stock

    def take_oldest(amount: np.ndarray) -> None:
        """Remove ``amount`` ``(P, N, K)`` from on-hand stock, oldest first."""
        on_hand = state.on_hand
        if on_hand.shape[-1] == 1:  # nothing perishes: one bucket
            on_hand[..., 0] -= np.minimum(amount, on_hand[..., 0])
            return
        before = np.cumsum(on_hand, axis=-1) - on_hand
        on_hand -= np.clip(amount[..., None] - before, 0.0, on_hand)

    def receive(arrivals: np.ndarray, t: int) -> None:
        """Put arc arrivals ``(P, E, K)`` on hand, refusing what exceeds storage."""
        incoming = net.at_customers(arrivals)
        if np.isfinite(net.storage_capacity).any():
            room = np.maximum(net.storage_capacity[None] - state.stock.sum(-1), 0.0)  # (P, N)
            total = incoming.sum(-1)
            accept = np.where(total > room, room / np.maximum(total, _EPS), 1.0)
            refused = incoming * (1 - accept[..., None])
            incoming = incoming - refused
            costs["waste"][:, t] += (refused * net.waste_cost).sum(axis=(1, 2))
            flows["waste"][:, t] += refused.sum(axis=(1, 2))
            if record:
                trace["refused"][:, t] += refused
        if net.ages == 1:
            state.on_hand[..., 0] += incoming
        else:
            state.on_hand[:, :, np.arange(K), net.fresh_bucket] += incoming
        if record:
            trace["received"][:, t] += incoming

    def order_and_ship(t: int) -> None:
        """Ask the policy for orders, then ship what suppliers can."""
        orders = np.asarray(policy.act(state, t), dtype=float)
        if orders.shape != (P, E, K):
            raise ValueError(f"policy {policy.name!r} returned orders shaped {orders.shape}, "
                             f"expected (paths, arcs, skus) = {(P, E, K)}")
        if not np.isfinite(orders).all():
            raise ValueError(f"policy {policy.name!r} returned non-finite orders in period {t}")
        orders = np.maximum(orders, 0.0)
        if net.integer:
            orders = np.rint(orders)
        if has_moq:
            moq = net.moq[None, :, None]
            orders = np.where((orders > 0) & (orders < moq), moq, orders)
        if spec.budget is not None:
            spend = (orders * net.unit_cost[None, :, None]).sum(axis=(1, 2))
            scale = np.minimum(1.0, spec.budget / np.maximum(spend, _EPS))
            orders = orders * scale[:, None, None]
            if net.integer:
                orders = _floor(orders)
            if has_moq:  # the MOQ wins: an order the budget cut below it is not placed
                orders = np.where(orders < net.moq[None, :, None], 0.0, orders)
        if has_fixed:
            costs["fixed"][:, t] += (orders.sum(-1) > 0) @ net.fixed_cost
        if kpi_flows:
            flows["external_orders"][:, t] += orders[:, net.external].sum(axis=(1, 2))

        request = state.owed + orders
        if has_arc_cap:
            arc_cap = np.where(paths.disrupted[:, t], 0.0, net.capacity[None])  # (P, E)
            total = request.sum(-1)
            request = request * np.where(total > arc_cap, arc_cap / np.maximum(total, _EPS),
                                         1.0)[..., None]
        if has_prod_cap:
            inbound = request.sum(-1) @ net.customer_matrix  # (P, N)
            cap = net.production_capacity[None]
            factor = np.where(inbound > cap, cap / np.maximum(inbound, _EPS), 1.0)
            request = request * factor[:, net.customer][..., None]
        if net.integer:
            request = _floor(request)

        available = state.stock[:, sup]  # (P, E, K) supplier's stock seen by each arc
        wanted = net.at_suppliers(request)[:, sup]
        proportional = request * np.where(wanted > available, available / np.maximum(wanted, _EPS), 1.0)
        if net.integer:
            proportional = _floor(proportional)
        sent = proportional
        if prio_alloc.any():
            by_priority = np.clip(available - net.queue_matrix @ request, 0.0, request)
            if net.integer:  # stock can be fractional after a yield loss
                by_priority = _floor(by_priority)
            sent = np.where(prio_alloc[None, :, None], by_priority, sent)
        sent = np.where(net.external[None, :, None], request, sent)
        shipped_out = net.at_suppliers(sent)
        take_oldest(shipped_out)

        unsent = state.owed + orders - sent
        state.owed = unsent if net.internal_backlog else np.zeros_like(unsent)
        arriving = sent * net.yield_rate[net.customer][None, :, None] if has_yield_loss else sent
        sent_per_arc = sent.sum(-1)  # (P, E)
        for part, rate in per_unit_costs:
            costs[part][:, t] += sent_per_arc @ rate

        lead = paths.lead_time[:, t]  # (P, E)
        now = (lead == 0)[..., None]
        later = np.where(now, 0.0, arriving)
        slot = (paths_idx * E + arcs_idx) * W + (t + lead) % W  # flat (path, arc, slot) index
        state.pipeline.reshape(P * E * W, K)[slot] += later
        state.in_transit += later
        if record:
            trace["orders"][:, t] = orders
            trace["sent"][:, t] = arriving
            trace["yield_loss"][:, t] = sent - arriving
            trace["shipped"][:, t] += shipped_out
            trace["lost_orders"][:, t] = 0.0 if net.internal_backlog else unsent
        if now.any():
            receive(np.where(now, arriving, 0.0), t)
            if record:
                trace["arrived"][:, t] += np.where(now, arriving, 0.0)

    def serve(t: int) -> None:
        """Serve this period's demand (backlog first) from stock, oldest first."""
        demand = paths.demand[:, t]
        if gw_streams.any():
            reduced = demand * state.goodwill
            rounded = np.floor(reduced + paths.rounding[:, t])
            demand = np.where(gw_streams & integer_stream, rounded, np.where(gw_streams, reduced, demand))
        available = state.stock[:, net.demand_node, net.demand_sku]  # (P, D)
        if net.backlog:
            need = demand + state.backlog
            served = np.minimum(available, need)
            filled = np.minimum(demand, np.maximum(available - state.backlog, 0.0))
        else:  # lost sales: no backlog to serve first
            need = demand
            served = filled = np.minimum(available, demand)
        if net.ages == 1:
            state.on_hand[:, net.demand_node, net.demand_sku, 0] -= served
        else:
            sold = np.zeros((P, N, K))
            sold[:, net.demand_node, net.demand_sku] = served
            take_oldest(sold)
        short = need - served  # backlogged, or lost (then charged once)
        costs["shortage"][:, t] += (short * short_cost).sum(-1)
        if net.backlog:
            state.backlog = short
        else:
            flows["lost"][:, t] = short.sum(-1)
        if gw_streams.any():
            unmet = (demand - filled) / np.maximum(demand, _EPS)
            g = state.goodwill + gw_rec * (1 - state.goodwill) - gw_sens * unmet
            state.goodwill = np.where(gw_streams, np.clip(g, gw_floor, 1.0), 1.0)
        state.last_demand = demand
        if has_revenue:
            costs["revenue"][:, t] += served @ net.price[net.demand_node, net.demand_sku]
        if not kpi_flows:
            return
        flows["demand"][:, t] = demand.sum(-1)
        flows["filled"][:, t] = filled.sum(-1)
        flows["sold"][:, t] = served.sum(-1)
        flows["short_streams"][:, t] = (filled < demand - _EPS).sum(-1)
        flows["empty_streams"][:, t] = (available - served <= _EPS).sum(-1)
        if record:
            trace["sold"][:, t][:, net.demand_node, net.demand_sku] = served

    for t in range(T):
        state.t = t
        # 1. receive
        slot = t % W
        arrivals = state.pipeline[:, :, slot].copy()
        state.pipeline[:, :, slot] = 0.0
        state.in_transit -= arrivals
        receive(arrivals, t)
        if record:
            trace["arrived"][:, t] += arrivals
        # 2-4. order and serve, in the spec's timing
        if spec.timing == "order-first":
            order_and_ship(t)
            serve(t)
        else:
            serve(t)
            order_and_ship(t)
        # 5. age: bucket 0 of perishable SKUs expires
        if net.perishable.any():
            aging = state.on_hand[:, :, net.perishable]
            expired = aging[..., 0].copy()
            state.on_hand[:, :, net.perishable] = np.concatenate(
                [aging[..., 1:], np.zeros_like(aging[..., :1])], axis=-1)
            costs["waste"][:, t] += (expired * net.waste_cost[net.perishable]).sum(axis=(1, 2))
            flows["waste"][:, t] += expired.sum(axis=(1, 2))
            if record:
                trace["wasted"][:, t][:, :, net.perishable] = expired
        # 6. end-of-period costs
        stock = state.stock
        costs["holding"][:, t] += (stock * hold).sum(axis=(1, 2))
        if has_pipeline_cost:
            costs["pipeline"][:, t] += (state.in_transit * pipe_cost).sum(axis=(1, 2))
        if kpi_flows:
            flows["stock"][:, t] = stock.sum(axis=(1, 2))
            flows["backlog"][:, t] = state.backlog.sum(-1)
        if record:
            trace["stock"][:, t + 1] = stock
            trace["in_transit"][:, t + 1] = state.in_transit
    return Run(spec, policy.name, paths.warmup, costs, flows, trace)
