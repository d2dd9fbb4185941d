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

``timing = "orgym"`` reproduces OR-Gym's ``InvManagement`` (Hubbs et al. 2020):
the policy sees the start-of-period state before any arrival, orders are
placed and shipped from the suppliers' start-of-period stock, then arrivals
are received, then demand is served (steps 2, 1, 3).

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

from scenarios.budget import check_trace
from scenarios.kernel.backend import Bridge, checked_orders, choose
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.policy import Policy
from scenarios.progress import Progress
from scenarios.spec import Spec

__all__ = ["State", "Run", "Simulator", "simulate", "COST_PARTS"]

#: Cost components, each per path and period; ``revenue`` is subtracted.
COST_PARTS = ("holding", "pipeline", "shortage", "ordering", "fixed", "transport",
              "operating", "waste", "revenue")
_EPS = 1e-9
_FLOWS = ("demand", "filled", "sold", "backlog", "lost", "stock", "waste", "external_orders",
          "short_streams", "empty_streams")


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


class Simulator:
    """The period loop opened up: every sample path at once, one period per call.

    :func:`simulate` is a loop over it; an environment that hands control to an
    agent between periods drives it directly::

        sim = Simulator(spec, paths)
        while not sim.done:
            state = sim.begin_period()         # receive (and serve, if demand-first)
            sim.end_period(agent_orders(state)) # ship, serve, age, book costs
        run = sim.run()

    :param spec: the scenario the paths were drawn for.
    :param paths: the random draws, ``P`` paths of ``T`` periods.
    :param network: a compiled ``Network(spec)`` to reuse (optional).
    :param record: keep per-period arrays by node and arc in ``trace``.
    :param kpi_flows: fill ``flows`` (the fill rate needs them).
    :param policy_name: name used in error messages and in :meth:`run`.

    Attributes: ``state`` (the :class:`~scenarios.simulator.State` the policy
    sees), ``t`` (the period in progress or next), ``costs`` and ``flows``
    (name -> ``(P, T)``, filled as periods finish), ``trace``, ``backend``
    (``"kernel"``: the compiled step of :mod:`scenarios.kernel`, or ``"numpy"``:
    the methods below, the reference) and ``backend_reason`` (why;
    :func:`scenarios.kernel.backend.choose`).
    """

    def __init__(self, spec: Spec, paths: SamplePaths, network: Network | None = None, *,
                 record: bool = False, kpi_flows: bool = True, policy_name: str = "orders") -> None:
        paths.check(spec)
        net = network or Network(spec)
        self.spec, self.paths, self.network = spec, paths, net
        self.record, self.kpi_flows, self.policy_name = record, kpi_flows, policy_name
        P, T = paths.n_paths, paths.n_periods
        N, K, E = net.n_nodes, net.n_skus, net.n_arcs
        self.n_paths, self.n_periods = P, T
        self._W = net.max_lead_time + 1
        self.state = State.initial(net, paths)
        self.t = 0
        self._in_period = False

        self._hold = net.holding_cost[None] * paths.holding_scale[:, None, None]  # (P, N, K)
        self._pipe_cost = net.pipeline_cost[None, :, None] * paths.holding_scale[:, None, None]
        self._short_cost = net.shortage_cost[None] * paths.shortage_scale[:, None]  # (P, D)
        goodwill = [d.process.goodwill for d in spec.demands]
        self._gw_streams = np.array([g is not None for g in goodwill])
        self._gw_sens = np.array([g.sensitivity if g else 0.0 for g in goodwill])
        self._gw_rec = np.array([g.recovery if g else 0.0 for g in goodwill])
        self._gw_floor = np.array([g.floor if g else 1.0 for g in goodwill])
        self._integer_stream = np.array([d.process.integer for d in spec.demands])
        self._sup = np.maximum(net.supplier, 0)  # external arcs read node 0, then are masked
        self._prio_alloc = net.priority_allocation[self._sup] & ~net.external
        self._has_moq = bool((net.moq > 0).any())
        self._has_arc_cap = bool(np.isfinite(net.capacity).any() or paths.disrupted.any())
        self._has_prod_cap = bool(np.isfinite(net.production_capacity).any())
        self._has_yield_loss = bool((net.yield_rate < 1).any())
        self._has_fixed = bool(net.fixed_cost.any())
        self._has_revenue = bool(net.price.any())
        self._has_pipeline_cost = bool(net.pipeline_cost.any())
        self._has_storage_cap = bool(np.isfinite(net.storage_capacity).any())
        self._unfilled_cost = np.array([a.unfilled_cost for a in spec.arcs], dtype=float)  # (E,)
        self._has_unfilled_cost = bool(self._unfilled_cost.any())
        self._ship_first = spec.timing == "orgym"
        self._per_unit_costs = [(part, rate) for part, rate in (
            ("ordering", net.unit_cost), ("transport", net.transport_cost),
            ("operating", net.operating_cost[net.customer])) if rate.any()]
        self._paths_idx = np.arange(P)[:, None]
        self._arcs_idx = np.arange(E)[None, :]
        # Lead times the same on every path and period (fixed per arc, the common case): shipments
        # go to one pipeline slot per arc, with no per-path scatter.
        lead = paths.lead_time
        fixed = lead.size > 0 and bool((lead == lead[:1, :1]).all())
        self._fixed_lead = lead[0, 0].copy() if fixed else None  # (E,)
        self._fixed_now = None if not fixed else (self._fixed_lead == 0)

        self._cost_block = np.zeros((len(COST_PARTS), P, T))  # one array, so the kernel fills them all
        self._flow_block = np.zeros((len(_FLOWS), P, T))
        self.costs = dict(zip(COST_PARTS, self._cost_block, strict=True))
        self.flows = dict(zip(_FLOWS, self._flow_block, strict=True))
        self.trace: dict[str, np.ndarray] = {}
        if record:
            check_trace(spec, P, T)
            self.trace = {k: np.zeros((P, T, N, K)) for k in ("received", "shipped", "sold", "wasted",
                                                              "refused")}
            self.trace.update({k: np.zeros((P, T, E, K)) for k in ("orders", "sent", "arrived",
                                                                   "yield_loss", "lost_orders")})
            self.trace["stock"] = np.zeros((P, T + 1, N, K))
            self.trace["in_transit"] = np.zeros((P, T + 1, E, K))
            self.trace["stock"][:, 0] = self.state.stock
        self.backend, self.backend_reason = choose(record, P * T)
        self._kernel = Bridge(self) if self.backend == "kernel" else None

    # ------------------------------------------------------------------ public
    @property
    def done(self) -> bool:
        """True once every period of the paths has been simulated."""
        return self.t >= self.n_periods

    def begin_period(self) -> State:
        """Run period ``t`` up to its decision point and return the state the policy sees.

        Receives pipeline arrivals and, with ``timing = "demand-first"``, serves
        demand. With ``timing = "orgym"`` it does neither: the policy sees the
        start-of-period state, arrivals still in ``in_transit``.
        """
        if self._in_period or self.done:
            raise RuntimeError(f"begin_period() called twice or after the last period (t={self.t})")
        t = self.t
        state = self.state
        state.t = t
        if self._kernel is not None:
            self._kernel.begin(t)
        elif not self._ship_first:
            self._arrive(t)  # 1. receive
        # 3. demand-first: serve before ordering
        if self.spec.timing == "demand-first" and self._kernel is None:
            self._serve(t)
        self._in_period = True
        return state

    def end_period(self, orders: np.ndarray) -> None:
        """Place ``orders`` ``(paths, arcs, skus)`` and finish period ``t``; ``t`` moves on.

        Ships, serves demand (``order-first``), ages stock and books the period's costs.
        """
        if not self._in_period:
            raise RuntimeError("end_period() needs begin_period() first")
        t = self.t
        state, net = self.state, self.network
        if self._kernel is not None:
            self._kernel.end(t, checked_orders(orders, self, t))
            self._in_period, self.t = False, t + 1
            return
        self._order_and_ship(orders, t)
        if self._ship_first:
            self._arrive(t)  # OR-Gym: suppliers shipped from stock held before this period's arrivals
        if self.spec.timing != "demand-first":
            self._serve(t)
        # 5. age: bucket 0 of perishable SKUs expires
        if net.perishable.any():
            aging = state.on_hand[:, :, net.perishable]
            expired = aging[..., 0].copy()
            state.on_hand[:, :, net.perishable] = np.concatenate(
                [aging[..., 1:], np.zeros_like(aging[..., :1])], axis=-1)
            self.costs["waste"][:, t] += (expired * net.waste_cost[net.perishable]).sum(axis=(1, 2))
            self.flows["waste"][:, t] += expired.sum(axis=(1, 2))
            if self.record:
                self.trace["wasted"][:, t][:, :, net.perishable] = expired
        # 6. end-of-period costs
        stock = state.stock
        self.costs["holding"][:, t] += (stock * self._hold).sum(axis=(1, 2))
        if self._has_pipeline_cost:
            self.costs["pipeline"][:, t] += (state.in_transit * self._pipe_cost).sum(axis=(1, 2))
        if self.kpi_flows:
            self.flows["stock"][:, t] = stock.sum(axis=(1, 2))
            self.flows["backlog"][:, t] = state.backlog.sum(-1)
        if self.record:
            self.trace["stock"][:, t + 1] = stock
            self.trace["in_transit"][:, t + 1] = state.in_transit
        self._in_period = False
        self.t = t + 1

    def step(self, policy: Policy) -> None:
        """Simulate one whole period with ``policy`` choosing the orders."""
        state = self.begin_period()
        self.end_period(policy.act(state, self.t))

    def run_compiled(self, policy: Policy, stop: int) -> bool:
        """Periods up to ``stop`` in one compiled call, if the kernel runs ``policy`` (reset, classical).

        Returns False, having done nothing, otherwise (:mod:`scenarios.kernel.policies`).
        """
        stop = min(stop, self.n_periods)
        if self._kernel is None or self._in_period or not self._kernel.run(policy, self.t, stop):
            return False
        self.t, self.state.t = stop, stop - 1  # as after begin_period(stop - 1)
        return True

    def total_cost(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Cost net of revenue ``(paths, stop - start)`` of periods ``start:stop``.

        Summed part by part in :data:`~scenarios.simulator.COST_PARTS` order, as
        :attr:`~scenarios.simulator.Run.total_cost` does, so the numbers are identical.
        """
        window = slice(start, self.t if stop is None else stop)
        return sum(v[:, window] for k, v in self.costs.items() if k != "revenue") \
            - self.costs["revenue"][:, window]

    def run(self) -> Run:
        """The :class:`~scenarios.simulator.Run` of the periods simulated so far."""
        return Run(self.spec, self.policy_name, self.paths.warmup, self.costs, self.flows, self.trace)

    # ----------------------------------------------------------------- period
    def _take_oldest(self, amount: np.ndarray) -> None:
        """Remove ``amount`` ``(P, N, K)`` from on-hand stock, oldest first."""
        on_hand = self.state.on_hand
        if on_hand.shape[-1] == 1:  # nothing perishes: one bucket
            on_hand[..., 0] -= np.minimum(amount, on_hand[..., 0])
            return
        before = np.cumsum(on_hand, axis=-1) - on_hand
        on_hand -= np.clip(amount[..., None] - before, 0.0, on_hand)

    def _arrive(self, t: int) -> None:
        """Take period ``t``'s slot out of the pipeline and receive it."""
        state = self.state
        slot = t % self._W
        arrivals = state.pipeline[:, :, slot].copy()
        state.pipeline[:, :, slot] = 0.0
        state.in_transit -= arrivals
        self._receive(arrivals, t)
        if self.record:
            self.trace["arrived"][:, t] += arrivals

    def _receive(self, arrivals: np.ndarray, t: int) -> None:
        """Put arc arrivals ``(P, E, K)`` on hand, refusing what exceeds storage."""
        net, state = self.network, self.state
        incoming = net.at_customers(arrivals)
        if self._has_storage_cap:
            room = np.maximum(net.storage_capacity[None] - state.stock.sum(-1), 0.0)  # (P, N)
            total = incoming.sum(-1)
            accept = np.where(total > room, room / np.maximum(total, _EPS), 1.0)
            refused = incoming * (1 - accept[..., None])
            incoming = incoming - refused
            self.costs["waste"][:, t] += (refused * net.waste_cost).sum(axis=(1, 2))
            self.flows["waste"][:, t] += refused.sum(axis=(1, 2))
            if self.record:
                self.trace["refused"][:, t] += refused
        if net.ages == 1:
            state.on_hand[..., 0] += incoming
        else:
            state.on_hand[:, :, np.arange(net.n_skus), net.fresh_bucket] += incoming
        if self.record:
            self.trace["received"][:, t] += incoming

    def _order_and_ship(self, orders: np.ndarray, t: int) -> None:
        """Validate and place the orders, then ship what suppliers can."""
        net, state = self.network, self.state
        orders = self._place_orders(orders, t)
        sent = self._allocate(self._requests(orders, t))
        shipped_out = net.at_suppliers(sent)
        self._take_oldest(shipped_out)
        unsent = state.owed + orders - sent
        state.owed = unsent if net.internal_backlog else np.zeros_like(unsent)
        arriving = self._charge_shipments(sent, unsent, t)
        now = self._dispatch(arriving, t)
        if self.record:
            trace = self.trace
            trace["orders"][:, t] = orders
            trace["sent"][:, t] = arriving
            trace["yield_loss"][:, t] = sent - arriving
            trace["shipped"][:, t] += shipped_out
            trace["lost_orders"][:, t] = 0.0 if net.internal_backlog else unsent
        if now.any():
            self._receive(np.where(now, arriving, 0.0), t)
            if self.record:
                self.trace["arrived"][:, t] += np.where(now, arriving, 0.0)

    def _place_orders(self, orders: np.ndarray, t: int) -> np.ndarray:
        """Check the policy's orders ``(P, E, K)``; return them as placed: whole, MOQ, budget.

        Charges the fixed ordering cost and counts the external orders.
        """
        net, spec, costs = self.network, self.spec, self.costs
        orders = np.maximum(checked_orders(orders, self, t), 0.0)
        if net.integer:
            orders = np.rint(orders)
        if self._has_moq:
            moq = net.moq[None, :, None]
            orders = np.where((orders > 0) & (orders < moq), moq, orders)
        if spec.budget is not None:
            spend = (orders * net.unit_cost[None, :, None]).sum(axis=(1, 2))
            scale = np.minimum(1.0, spec.budget / np.maximum(spend, _EPS))
            orders = orders * scale[:, None, None]
            if net.integer:
                orders = _floor(orders)
            if self._has_moq:  # the MOQ wins: an order the budget cut below it is not placed
                orders = np.where(orders < net.moq[None, :, None], 0.0, orders)
        if self._has_fixed:
            costs["fixed"][:, t] += (orders.sum(-1) > 0) @ net.fixed_cost
        if self.kpi_flows:
            self.flows["external_orders"][:, t] += orders[:, net.external].sum(axis=(1, 2))
        return orders

    def _requests(self, orders: np.ndarray, t: int) -> np.ndarray:
        """What each arc asks to ship ``(P, E, K)``: owed plus ordered, within arc and production capacity."""
        net = self.network
        request = self.state.owed + orders
        if self._has_arc_cap:
            arc_cap = np.where(self.paths.disrupted[:, t], 0.0, net.capacity[None])  # (P, E)
            total = request.sum(-1)
            request = request * np.where(total > arc_cap, arc_cap / np.maximum(total, _EPS),
                                         1.0)[..., None]
        if self._has_prod_cap:
            inbound = request.sum(-1) @ net.customer_matrix  # (P, N)
            cap = net.production_capacity[None]
            factor = np.where(inbound > cap, cap / np.maximum(inbound, _EPS), 1.0)
            request = request * factor[:, net.customer][..., None]
        if net.integer:
            request = _floor(request)
        return request

    def _allocate(self, request: np.ndarray) -> np.ndarray:
        """What each arc ships ``(P, E, K)``: suppliers share their stock proportionally or by priority."""
        net, sup = self.network, self._sup
        available = self.state.stock[:, sup]  # (P, E, K) supplier's stock seen by each arc
        wanted = net.at_suppliers(request)[:, sup]
        proportional = request * np.where(wanted > available, available / np.maximum(wanted, _EPS), 1.0)
        if net.integer:
            proportional = _floor(proportional)
        sent = proportional
        if self._prio_alloc.any():
            by_priority = np.clip(available - net.queue_matrix @ request, 0.0, request)
            if net.integer:  # stock can be fractional after a yield loss
                by_priority = _floor(by_priority)
            sent = np.where(self._prio_alloc[None, :, None], by_priority, sent)
        return np.where(net.external[None, :, None], request, sent)

    def _charge_shipments(self, sent: np.ndarray, unsent: np.ndarray, t: int) -> np.ndarray:
        """Charge unfilled orders and the per-unit costs of ``sent``; return what arrives after yield loss."""
        net, costs = self.network, self.costs
        if self._has_unfilled_cost:
            costs["shortage"][:, t] += unsent.sum(-1) @ self._unfilled_cost
        arriving = sent * net.yield_rate[net.customer][None, :, None] if self._has_yield_loss else sent
        sent_per_arc = sent.sum(-1)  # (P, E)
        for part, rate in self._per_unit_costs:
            costs[part][:, t] += sent_per_arc @ rate
        return arriving

    def _dispatch(self, arriving: np.ndarray, t: int) -> np.ndarray:
        """Put ``arriving`` into the pipeline slot of its arrival period; return the mask arriving now.

        The mask (lead time 0) broadcasts over ``(P, E, K)``; those units are left out of the
        pipeline, for the caller to receive at once.
        """
        state, paths, W = self.state, self.paths, self._W
        P, E, K = arriving.shape
        if self._fixed_lead is not None:
            now = self._fixed_now[None, :, None]  # (1, E, 1)
            later = np.where(now, 0.0, arriving) if self._fixed_now.any() else arriving
            state.pipeline[:, self._arcs_idx[0], (t + self._fixed_lead) % W] += later
        else:
            lead = paths.lead_time[:, t]  # (P, E)
            now = (lead == 0)[..., None]
            later = np.where(now, 0.0, arriving)
            slot = (self._paths_idx * E + self._arcs_idx) * W + (t + lead) % W  # flat (path, arc, slot)
            state.pipeline.reshape(P * E * W, K)[slot] += later
        state.in_transit += later
        return now

    def _serve(self, t: int) -> None:
        """Serve this period's demand (backlog first) from stock, oldest first."""
        net, state, paths, flows = self.network, self.state, self.paths, self.flows
        demand = paths.demand[:, t]
        if self._gw_streams.any():
            reduced = demand * state.goodwill
            rounded = np.floor(reduced + paths.rounding[:, t])
            demand = np.where(self._gw_streams & self._integer_stream, rounded,
                              np.where(self._gw_streams, reduced, demand))
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
            sold = np.zeros((self.n_paths, net.n_nodes, net.n_skus))
            sold[:, net.demand_node, net.demand_sku] = served
            self._take_oldest(sold)
        short = need - served  # backlogged, or lost (then charged once)
        self.costs["shortage"][:, t] += (short * self._short_cost).sum(-1)
        if net.backlog:
            state.backlog = short
        else:
            flows["lost"][:, t] = short.sum(-1)
        if self._gw_streams.any():
            unmet = (demand - filled) / np.maximum(demand, _EPS)
            g = state.goodwill + self._gw_rec * (1 - state.goodwill) - self._gw_sens * unmet
            state.goodwill = np.where(self._gw_streams, np.clip(g, self._gw_floor, 1.0), 1.0)
        state.last_demand = demand
        if self._has_revenue:
            self.costs["revenue"][:, t] += served @ net.price[net.demand_node, net.demand_sku]
        if not self.kpi_flows:
            return
        flows["demand"][:, t] = demand.sum(-1)
        flows["filled"][:, t] = filled.sum(-1)
        flows["sold"][:, t] = served.sum(-1)
        flows["short_streams"][:, t] = (filled < demand - _EPS).sum(-1)
        flows["empty_streams"][:, t] = (available - served <= _EPS).sum(-1)
        if self.record:
            self.trace["sold"][:, t][:, net.demand_node, net.demand_sku] = served


def simulate(spec: Spec, paths: SamplePaths, policy: Policy, record: bool = False,
             network: Network | None = None, kpi_flows: bool = True,
             progress: Progress | None = None) -> Run:
    """Run ``policy`` on every sample path of ``paths``.

    :param spec: the scenario the paths were drawn for.
    :param paths: the random draws (common random numbers across policies).
    :param policy: any :class:`~scenarios.policy.Policy`.
    :param record: keep per-period arrays by node and arc in ``Run.trace``.
    :param network: a compiled ``Network(spec)`` to reuse (optional).
    :param kpi_flows: fill ``Run.flows`` (KPIs need them; a tuner reading
        only costs can skip them and run faster).
    :param progress: told of every period done, as ``simulating NAME on P paths``
        (:mod:`scenarios.progress`).
    :return: a :class:`Run` with cost parts and flows per path and period.
    """
    sim = Simulator(spec, paths, network, record=record, kpi_flows=kpi_flows, policy_name=policy.name)
    policy.reset(sim.network, paths.n_paths)
    task = f"simulating {policy.name} on {paths.n_paths} paths"
    if progress is not None:
        progress(task, 0, sim.n_periods)
    # Classical policies run inside the kernel (in 20 calls for a progress bar); others act in Python.
    chunk = sim.n_periods if progress is None else max(1, -(-sim.n_periods // 20))
    while not sim.done:
        if not sim.run_compiled(policy, sim.t + chunk):
            sim.step(policy)
        if progress is not None:
            progress(task, sim.t, sim.n_periods)
    return sim.run()
