"""The deterministic multi-echelon, multi-SKU replenishment model, written once.

:func:`build_model` returns a Pyomo ``ConcreteModel`` over ``H`` periods
(window periods ``j = 0 .. H-1``) with one rule per constraint family, in the
style of the Pyomo book's lot-sizing models. Everything that changes between
rolling-horizon steps is a mutable ``Param`` set by :func:`set_state`, so a
persistent solver re-solves the same model instead of rebuilding it.

Timing follows the simulator (``scenarios.simulator``). Period ``j``:

1. pipeline arrivals shipped with lead time ``L >= 1`` (in ``j - L``) arrive;
2. ``order-first``: shipments ``x`` leave the suppliers, then demand is served;
   ``demand-first``: demand is served, then shipments leave;
   shipments with ``L = 0`` arrive after all shipping;
3. end-of-period costs.

Indices: arcs ``e`` (E), nodes ``n`` (N), SKUs ``k`` (K), demand streams ``d``
(D), periods ``j`` (H). Variables:

* ``x[e,k,j] >= 0`` shipped on arc ``e`` (the model ships what it orders; the
  supplier's stock limits it); ``y[e,j]`` binary setup on arcs with a fixed cost
  or an MOQ (``z[e,k,j]`` per SKU for MOQs when ``K > 1``);
* ``I[n,k,j] >= 0`` on hand at the end of the period; ``S[d,j] >= 0`` sold;
* ``B[d,j] >= 0`` backlog, or ``U[d,j] >= 0`` lost sales, per the spec;
* ``R[n,k,j] >= 0`` discarded: expired (perishable SKUs) or refused for lack
  of space (nodes with a storage capacity), charged the SKU's waste cost;
* ``G[n,k,j] >= 0`` shortfall below the safety-stock target (soft targets).

Cost per period, as the simulator charges it: holding ``h I`` on end-of-period
stock, pipeline holding per unit in transit at the end of the period at the
arc's rate (units in transit are counted after yield, as the simulator's
pipeline holds them), shortage ``p B`` per backlogged unit-period or ``p U``
per lost unit, unit + transport + operating cost per unit shipped, the fixed
cost per arc-period with ``y = 1``, waste cost on ``R``, minus revenue
``price * S``; plus the safety-stock penalty on ``G``. Per-path holding and
shortage scales (domain randomisation) are mutable params.

Perishability (an approximation that keeps the model a relaxation of the
simulator): stock is not indexed by age. Instead, (a) units may be discarded
at the waste cost at any time and (b) ``shelf_life`` caps the end-of-period
stock by what can still be alive: the initial stock that has not expired plus
the arrivals of the last ``shelf_life - 1`` periods. Every simulated
trajectory satisfies both (its expired units are the discards), so the
hindsight model stays a lower bound; the plan may hold slightly older stock
than FIFO issuing allows.

Safety stock: a target ``safety[n,k]`` on end-of-period on hand. ``"soft"``
(default): each unit-period below the target costs ``safety_penalty`` (by
default the largest shortage cost), so a window is never made infeasible by a
target it cannot reach in time. ``"hard"``: ``I >= safety`` from the first
period the node can be replenished in (its shortest inbound lead time).

Storage capacity bounds the end-of-period stock and the stock right after
the period's pipeline arrivals (what the simulator checks when it refuses
excess); only arrivals can be refused.

Formulations of the setup constraints ``x <= M y``:

* ``"tight"``: per SKU, ``M[e,k,j]`` is the downstream demand a shipment in
  ``j`` can still serve (under lost sales the demand from its arrival period
  on, under backlog all of the window's demand; plus the open backlog and
  downstream safety targets, scaled by ``1/yield`` along the way); capacitated
  arcs add ``sum_k x <= capacity * y``. On single-sourced arcs, echelon cover
  inequalities (facility-location style, see :func:`_echelon_cover`) tie the
  setups to the periods whose sales they supply; the stock they count for
  later sales excludes what the nodes keep as safety stock (``q``, rows
  ``safety_idle``), without which safety targets leave the relaxation loose.
  ``M`` and the cover bounds are mutable coefficients refreshed by :func:`set_state`.
* ``"naive"``: one blanket constant, ``sum_k x[e,k,j] <= NAIVE_BIG_M * y[e,j]``.

Both reach the same optimum (the cover rows are valid inequalities; the tests
check it against the naive model and the PuLP model). The demand-based ``M``
rests on one dominance assumption: shipping more on an arc in one period than
all remaining downstream demand is never cheaper, true when holding does not
cost more upstream than downstream (:func:`build_model` warns otherwise).

``bound=True`` builds the model as a relaxation of the simulator for the
hindsight bound (:mod:`milp.hindsight`): the remaining demand in ``M`` counts
from the shipping period (not the arrival), and on arcs where the simulator
may ship one order over several periods (internal supplier, arc or production
capacity, disruptions) a setup covers cumulative shipments
(``sum_{s<=j} x[e,k,s] <= sum_{s<=j} M[e,k,s] y[e,s]``, so one setup may pay
for later shipments of what it ordered), MOQs are not enforced there and the
budget applies to cumulative spend.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo

from milp.errors import TIMINGS, require_timing
from scenarios.errors import SpecError
from scenarios.network import Network
from scenarios.spec import EXTERNAL, Spec

__all__ = ["ModelData", "build_model", "set_state", "bigm_from_demand", "NAIVE_BIG_M", "FORMULATIONS",
           "SAFETY_MODES", "TIMINGS", "expected_lead_times", "cover_from_demand", "dearer_upstream",
           "lead_chain", "require_timing"]

#: The blanket constant of the ``"naive"`` formulation.
NAIVE_BIG_M = 1e5
FORMULATIONS = ("tight", "naive")
SAFETY_MODES = ("soft", "hard")
#: Upper bound on a shipment on a disruptable arc while it is available.
_XMAX = 1e9
#: Floor of a tight big-M: HiGHS drops (and warns about) a coefficient set to 0.
_MIN_BIGM = 1e-6


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


def dearer_upstream(network: Network) -> np.ndarray:
    """``(E,)`` bool: arcs whose supplier holds some SKU at a higher cost than customer + pipeline.

    There, pushing stock downstream can pay, which the tight big-M does not allow.
    """
    net = network
    supplier = net.holding_cost[np.maximum(net.supplier, 0)]
    downstream = net.holding_cost[net.customer] + net.pipeline_cost[:, None]
    return (net.supplier >= 0) & np.any(supplier > downstream, axis=1)


def _lead_table(network: Network, horizon: int, lead_times: np.ndarray | None) -> np.ndarray:
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


def build_model(network: Network, horizon: int, *, integer: bool = False, formulation: str = "tight",
                lead_times: np.ndarray | None = None, bound: bool = False, safety: str = "soft",
                safety_penalty: float | None = None) -> pyo.ConcreteModel:
    """Build the deterministic replenishment model over ``horizon`` periods.

    The model starts from zero stock, no pipeline and no demand; set them with
    :func:`set_state` before solving.

    :param network: the compiled scenario (``Network(spec)``).
    :param horizon: number of periods ``H`` (>= 1).
    :param integer: whole shipment quantities (setups are always binary).
    :param formulation: ``"tight"`` (big-M from remaining demand and capacity) or
        ``"naive"`` (one blanket big-M, :data:`NAIVE_BIG_M`).
    :param lead_times: lead time of each arc, ``(E,)``, or of a shipment sent in each
        period, ``(H, E)``; default: expected lead times rounded (:func:`expected_lead_times`).
    :param bound: build as a relaxation of the simulator (hindsight bound); see the module notes.
    :param safety: ``"soft"`` (penalised shortfall) or ``"hard"`` safety-stock targets.
    :param safety_penalty: cost per unit-period below a soft target (default: the largest
        shortage cost of the scenario).
    :return: the model; ``model.data`` holds its :class:`ModelData`.
    :raises SpecError: an invalid option, or a timing the model does not implement (``"orgym"``).
    """
    require_timing(network.spec, "the MILP model (milp.model.build_model)")
    if not isinstance(horizon, int | np.integer) or horizon < 1:
        raise SpecError("horizon", f"must be an integer >= 1, got {horizon!r}")
    if formulation not in FORMULATIONS:
        raise SpecError("formulation", f"must be one of {FORMULATIONS}, got {formulation!r}")
    if safety not in SAFETY_MODES:
        raise SpecError("safety", f"must be one of {SAFETY_MODES}, got {safety!r}")
    spec, net = network.spec, network
    H, N, K, E, D = int(horizon), net.n_nodes, net.n_skus, net.n_arcs, net.n_demands
    dearer = dearer_upstream(net)
    if formulation == "tight" and np.any(dearer):
        e = int(np.flatnonzero(dearer)[0])
        warnings.warn(f"arc {spec.arcs[e].supplier} -> {spec.arcs[e].customer}: holding costs more upstream "
                      "than downstream, so pushing stock down can pay; the tight big-M may then cut off such "
                      "plans (use formulation='naive' to allow them)", stacklevel=2)
    lead = _lead_table(net, H, lead_times)
    data = ModelData(net, H, lead, spec.timing, formulation, bound, integer, safety)
    _index(data)
    penalty = float(net.shortage_cost.max(initial=0.0)) if safety_penalty is None else float(safety_penalty)

    m = pyo.ConcreteModel(name=f"{spec.name}-H{H}")
    m.data = data
    m.N, m.K, m.E, m.D, m.T = (pyo.Set(initialize=range(n), ordered=True) for n in (N, K, E, D, H))

    # ------------------------------------------------------------------ mutable data
    m.on_hand = pyo.Param(m.N, m.K, mutable=True, initialize=0.0)
    m.arriving = pyo.Param(m.E, m.K, m.T, mutable=True, initialize=0.0)
    m.arriving_later = pyo.Param(m.E, m.K, mutable=True, initialize=0.0)
    m.owed = pyo.Param(m.E, m.K, mutable=True, initialize=0.0)
    m.backlog0 = pyo.Param(m.D, mutable=True, initialize=0.0)
    m.demand = pyo.Param(m.D, m.T, mutable=True, initialize=0.0)
    m.safety = pyo.Param(m.N, m.K, mutable=True, initialize=0.0)
    m.available = pyo.Param(m.E, m.T, mutable=True, initialize=1.0)
    m.alive = pyo.Param(m.N, m.K, m.T, mutable=True, initialize=0.0)
    m.storage_cap = pyo.Param(m.N, mutable=True, initialize=lambda m, n: min(net.storage_capacity[n], 1e12))
    m.bigm = pyo.Param(m.E, m.K, m.T, mutable=True, initialize=1.0)
    m.COVER = pyo.Set(initialize=data.cover_arcs, ordered=True)
    m.PAIRS = pyo.Set(initialize=data.cover_pairs, dimen=3, ordered=True)
    m.cover_demand = pyo.Param(m.COVER, m.K, m.T, mutable=True, initialize=1.0)
    m.cover_stock = pyo.Param(m.COVER, m.K, mutable=True, initialize=0.0)
    m.hold_scale = pyo.Param(mutable=True, initialize=1.0)
    m.short_scale = pyo.Param(mutable=True, initialize=1.0)

    # ------------------------------------------------------------------ variables
    quantity = pyo.NonNegativeIntegers if integer else pyo.NonNegativeReals
    disruptable = set(data.disruptable)

    def x_bounds(m, e, k, j):
        return (0, m.available[e, j] * _XMAX) if e in disruptable else (0, None)

    m.x = pyo.Var(m.E, m.K, m.T, domain=quantity, bounds=x_bounds)
    m.SETUP = pyo.Set(initialize=data.setup_arcs, ordered=True)
    m.y = pyo.Var(m.SETUP, m.T, domain=pyo.Binary)
    moq_per_sku = K > 1
    m.MOQ = pyo.Set(initialize=data.moq_arcs if moq_per_sku else [], ordered=True)
    m.z = pyo.Var(m.MOQ, m.K, m.T, domain=pyo.Binary)
    m.I = pyo.Var(m.N, m.K, m.T, domain=pyo.NonNegativeReals)
    m.S = pyo.Var(m.D, m.T, domain=pyo.NonNegativeReals)
    if net.backlog:
        m.B = pyo.Var(m.D, m.T, domain=pyo.NonNegativeReals)
    else:
        m.U = pyo.Var(m.D, m.T, domain=pyo.NonNegativeReals)
    m.DISCARD = pyo.Set(initialize=data.discard, dimen=2, ordered=True)
    m.R = pyo.Var(m.DISCARD, m.T, domain=pyo.NonNegativeReals)
    if safety == "soft":
        m.G = pyo.Var(m.N, m.K, m.T, domain=pyo.NonNegativeReals)

    # ------------------------------------------------------------------ expressions
    yield_in = net.yield_rate[net.customer]  # (E,)

    def prev_stock(m, n, k, j):
        return m.on_hand[n, k] if j == 0 else m.I[n, k, j - 1]

    def inflow_pipe(m, n, k, j):
        """Arrivals at the start of ``j``: planned shipments with L >= 1 and the scheduled pipeline."""
        planned = sum(yield_in[e] * m.x[e, k, s] for e, s in data.arrivals.get((n, j), ()))
        scheduled = sum(m.arriving[e, k, j] for e in np.flatnonzero(net.customer == n))
        return planned + scheduled

    def inflow_now(m, n, k, j):
        return sum(yield_in[e] * m.x[e, k, j] for e in data.same_period.get((n, j), ()))

    def outflow(m, n, k, j):
        return sum(m.x[e, k, j] for e in data.outbound[n])

    def sales(m, n, k, j):
        return sum(m.S[d, j] for d in data.streams.get((n, k), ()))

    def discarded(m, n, k, j):
        return m.R[n, k, j] if (n, k) in discard else 0.0

    discard = set(data.discard)

    # ------------------------------------------------------------------ constraint families
    def inventory_balance(m, n, k, j):
        return m.I[n, k, j] == (prev_stock(m, n, k, j) + inflow_pipe(m, n, k, j) + inflow_now(m, n, k, j)
                                - outflow(m, n, k, j) - sales(m, n, k, j) - discarded(m, n, k, j))

    m.inventory_balance = pyo.Constraint(m.N, m.K, m.T, rule=inventory_balance)

    if net.backlog:
        def backlog_balance(m, d, j):
            before = m.backlog0[d] if j == 0 else m.B[d, j - 1]
            return m.B[d, j] == before + m.demand[d, j] - m.S[d, j]

        m.backlog_balance = pyo.Constraint(m.D, m.T, rule=backlog_balance)
    else:
        def lost_sales(m, d, j):
            return m.U[d, j] == m.demand[d, j] - m.S[d, j]

        m.lost_sales = pyo.Constraint(m.D, m.T, rule=lost_sales)

    # Shipping (and, demand-first, selling) uses the stock on hand after this
    # period's pipeline arrivals only: same-period (L = 0) arrivals come later.
    # Elsewhere I >= 0 already implies it, so rows exist only where L = 0 arrives.
    demand_first = spec.timing == "demand-first"
    ship_rows = [(n, k, j) for (n, j) in data.same_period for k in range(K)
                 if data.outbound[n] or (demand_first and data.streams.get((n, k)))]

    def ship_from_stock(m, n, k, j):
        used = outflow(m, n, k, j) + (sales(m, n, k, j) if demand_first else 0.0)
        return used <= prev_stock(m, n, k, j) + inflow_pipe(m, n, k, j)

    m.ship_from_stock = pyo.Constraint(ship_rows, rule=ship_from_stock)

    m.CAPPED = pyo.Set(initialize=data.capped_nodes, ordered=True)

    def storage(m, n, j):
        return sum(m.I[n, k, j] for k in m.K) <= m.storage_cap[n]

    def storage_on_receipt(m, n, j):
        return sum(prev_stock(m, n, k, j) + inflow_pipe(m, n, k, j) - discarded(m, n, k, j)
                   for k in m.K) <= m.storage_cap[n]

    m.storage = pyo.Constraint(m.CAPPED, m.T, rule=storage)
    m.storage_on_receipt = pyo.Constraint(m.CAPPED, m.T, rule=storage_on_receipt)

    # Without ageing, a discard at a full store is a refusal: only what arrives can be refused.
    refusals = [(n, k, j) for (n, k) in data.discard if net.shelf_life[k] == 0 for j in range(H)]

    def refusal(m, n, k, j):
        return m.R[n, k, j] <= inflow_pipe(m, n, k, j) + inflow_now(m, n, k, j)

    m.refusal = pyo.Constraint(refusals, rule=refusal)

    shelf = net.shelf_life
    perishable = [(n, k, j) for n in range(N) for k in range(K) if shelf[k] > 0 for j in range(H)]

    def shelf_life(m, n, k, j):
        recent = range(max(0, j - int(shelf[k]) + 2), j + 1)
        return m.I[n, k, j] <= m.alive[n, k, j] + sum(inflow_pipe(m, n, k, s) + inflow_now(m, n, k, s)
                                                      for s in recent)

    m.shelf_life = pyo.Constraint(perishable, rule=shelf_life)

    capped_arcs = [e for e in range(E) if np.isfinite(net.capacity[e])]
    def arc_capacity(m, e, j):
        return sum(m.x[e, k, j] for k in m.K) <= float(net.capacity[e]) * m.available[e, j]

    m.arc_capacity = pyo.Constraint(capped_arcs, m.T, rule=arc_capacity)

    producers = [n for n in range(N) if np.isfinite(net.production_capacity[n])]

    def production_capacity(m, n, j):
        inbound = np.flatnonzero(net.customer == n)
        return sum(m.x[e, k, j] for e in inbound for k in m.K) <= float(net.production_capacity[n])

    m.production_capacity = pyo.Constraint(producers, m.T, rule=production_capacity)

    budget_periods = list(range(H)) if spec.budget is not None else []

    def budget(m, j):
        spend = lambda s: sum(float(net.unit_cost[e]) * m.x[e, k, s] for e in m.E for k in m.K)  # noqa: E731
        if bound:  # the simulator caps orders, not shipments: only cumulative spend is bounded
            return sum(spend(s) for s in range(j + 1)) <= (j + 1) * float(spec.budget)
        return spend(j) <= float(spec.budget)

    m.budget = pyo.Constraint(budget_periods, rule=budget)

    def linked(m, e, k, j):
        """The binary a shipment of SKU ``k`` needs: per SKU under an MOQ, else per arc."""
        return m.z[e, k, j] if e in m.MOQ else m.y[e, j]

    if formulation == "tight":
        def setup_rule(m, e, k, j):
            if e in data.decoupled:
                return (sum(m.x[e, k, s] for s in range(j + 1))
                        <= sum(m.bigm[e, k, s] * m.y[e, s] for s in range(j + 1)))
            return m.x[e, k, j] <= m.bigm[e, k, j] * linked(m, e, k, j)

        m.setup = pyo.Constraint(m.SETUP, m.K, m.T, rule=setup_rule)

        def setup_capacity(m, e, j):  # a capacitated arc ships at most its capacity, and only with a setup
            return sum(m.x[e, k, j] for k in m.K) <= float(net.capacity[e]) * m.y[e, j]

        rows = [(e, j) for e in data.setup_arcs if e not in data.decoupled and np.isfinite(net.capacity[e])
                for j in range(H)]
        m.setup_capacity = pyo.Constraint(rows, rule=setup_capacity)
    else:
        def setup_rule(m, e, j):
            if e in data.decoupled:
                return (sum(m.x[e, k, s] for k in m.K for s in range(j + 1))
                        <= NAIVE_BIG_M * sum(m.y[e, s] for s in range(j + 1)))
            return sum(m.x[e, k, j] for k in m.K) <= NAIVE_BIG_M * m.y[e, j]

        m.setup = pyo.Constraint(m.SETUP, m.T, rule=setup_rule)

    if data.cover_arcs:
        _echelon_cover(m, data)

    moq_rows = [(e, k, j) for e in data.moq_arcs if e not in data.decoupled
                for k in range(K) for j in range(H)]

    def moq(m, e, k, j):
        return m.x[e, k, j] >= float(net.moq[e]) * linked(m, e, k, j)

    m.moq = pyo.Constraint(moq_rows, rule=moq)

    def moq_setup(m, e, k, j):  # an SKU's order needs the arc's setup (and its fixed cost)
        return m.z[e, k, j] <= m.y[e, j]

    m.moq_setup = pyo.Constraint(m.MOQ, m.K, m.T, rule=moq_setup)
    if formulation == "naive":
        def moq_link(m, e, k, j):
            return m.x[e, k, j] <= NAIVE_BIG_M * m.z[e, k, j]

        rows = [(e, k, j) for e in m.MOQ if e not in data.decoupled for k in range(K) for j in range(H)]
        m.moq_link = pyo.Constraint(rows, rule=moq_link)

    if safety == "soft":
        def safety_stock(m, n, k, j):
            return m.I[n, k, j] + m.G[n, k, j] >= m.safety[n, k]

        m.safety_stock = pyo.Constraint(m.N, m.K, m.T, rule=safety_stock)
    else:
        inbound_lead = [min((int(data.lead[0, e]) for e in np.flatnonzero(net.customer == n)), default=0)
                        for n in range(N)]
        rows = [(n, k, j) for n in range(N) for k in range(K) for j in range(H) if j >= inbound_lead[n]]

        def safety_stock(m, n, k, j):
            return m.I[n, k, j] >= m.safety[n, k]

        m.safety_stock = pyo.Constraint(rows, rule=safety_stock)

    # ------------------------------------------------------------------ objective
    per_unit = net.unit_cost + net.transport_cost + net.operating_cost[net.customer]  # (E,)
    in_transit = np.where(data.lead >= 1, np.minimum(data.lead, H - np.arange(H)[:, None]), 0)  # (H, E)

    def total_cost(m):
        hold = m.hold_scale * sum(float(net.holding_cost[n, k]) * m.I[n, k, j]
                                  for n in m.N for k in m.K for j in m.T)
        pipe = m.hold_scale * sum(float(net.pipeline_cost[e] * yield_in[e] * in_transit[j, e]) * m.x[e, k, j]
                                  for e in m.E for k in m.K for j in m.T if net.pipeline_cost[e] > 0)
        pipe_scheduled = m.hold_scale * sum(
            float(net.pipeline_cost[e]) * (j * m.arriving[e, k, j] + H * m.arriving_later[e, k])
            for e in m.E for k in m.K for j in m.T if net.pipeline_cost[e] > 0)
        unmet = m.B if net.backlog else m.U
        short = m.short_scale * sum(float(net.shortage_cost[d]) * unmet[d, j] for d in m.D for j in m.T)
        shipping = sum(float(per_unit[e]) * m.x[e, k, j] for e in m.E for k in m.K for j in m.T
                       if per_unit[e] > 0)
        fixed = sum(float(net.fixed_cost[e]) * m.y[e, j] for e in m.SETUP for j in m.T)
        waste = sum(float(net.waste_cost[k]) * m.R[n, k, j] for (n, k) in m.DISCARD for j in m.T)
        price = net.price[net.demand_node, net.demand_sku]
        revenue = sum(float(price[d]) * m.S[d, j] for d in m.D for j in m.T if price[d] > 0)
        below = (penalty * sum(m.G[n, k, j] for n in m.N for k in m.K for j in m.T)
                 if safety == "soft" else 0.0)
        return hold + pipe + pipe_scheduled + short + shipping + fixed + waste - revenue + below

    m.cost = pyo.Objective(rule=total_cost, sense=pyo.minimize)
    return m


def _echelon_cover(m: pyo.ConcreteModel, data: ModelData) -> None:
    """Facility-location cover inequalities on single-sourced setup arcs ("tight" only).

    Every unit sold at stream ``d`` below arc ``e`` in period ``u + delay[e,d]``
    (``delay``: the shortest lead time from the arc's customer down to ``d``)
    was either in the subtree at the start (on hand or in transit:
    ``cover_stock``) or shipped on ``e`` in some ``j`` with ``j + L <= u``. Splitting the sales of ``u`` over
    those shipments (``w[e,k,j,u]``, FIFO; all in units shipped on ``e``, so
    yields enter through ``reach``) gives ``w[e,k,j,u] <= D[e,k,u] y[e,j]``
    with ``D`` the period's downstream demand (``cover_demand``): the classic
    facility-location strengthening of lot sizing (Krarup & Bilde 1977), whose
    LP relaxation of single-level uncapacitated lot sizing is integral. Only
    the demand of period ``q`` served in ``q`` is covered -- ``demand - U``
    under lost sales, at least ``demand - B`` under backlog (FIFO: what is
    unserved of ``q`` is part of ``B[q]``) -- so the bound per period stays
    the period's demand. Valid for every feasible plan: these rows cut off
    fractional setups only. Under backlog the LP can still defer service to
    dodge them, so the strengthening is weaker there than under lost sales.
    """
    net = data.network
    sku_of = net.demand_sku
    below = {(e, k): [d for d in range(net.n_demands) if sku_of[d] == k and data.reach[e, d] > 0]
             for e in data.cover_arcs for k in range(net.n_skus)}
    m.w = pyo.Var(m.PAIRS, m.K, domain=pyo.NonNegativeReals)
    m.v = pyo.Var(m.COVER, m.K, m.T, domain=pyo.NonNegativeReals)
    unmet = m.B if net.backlog else m.U
    serving = {}
    for e, j, u in data.cover_pairs:
        serving.setdefault((e, u), []).append(j)
    served_by = {}
    for e, j, u in data.cover_pairs:
        served_by.setdefault((e, j), []).append(u)

    def cover(m, e, k, u):
        supply = sum(m.w[e, j, u, k] for j in serving.get((e, u), ())) + m.v[e, k, u]
        served = sum(float(data.reach[e, d]) * (m.demand[d, q] - unmet[d, q]) for d in below[e, k]
                     if (q := u + int(data.delay[e, d])) < data.horizon)
        return supply >= served

    def cover_start(m, e, k):
        return sum(m.v[e, k, u] for u in m.T) <= m.cover_stock[e, k]

    def cover_shipment(m, e, k, j):
        return sum(m.w[e, j, u, k] for u in served_by.get((e, j), ())) <= m.x[e, k, j]

    def cover_setup(m, e, j, u, k):
        binary = m.z[e, k, j] if e in m.MOQ else m.y[e, j]
        return m.w[e, j, u, k] <= m.cover_demand[e, k, u] * binary

    m.cover = pyo.Constraint(m.COVER, m.K, m.T, rule=cover)
    m.cover_start = pyo.Constraint(m.COVER, m.K, rule=cover_start)
    m.cover_shipment = pyo.Constraint(m.COVER, m.K, m.T, rule=cover_shipment)
    m.cover_setup = pyo.Constraint(m.PAIRS, m.K, rule=cover_setup)

    # Units assigned to later sales are still in the echelon: tie the
    # assignment to physical stock, so spreading a shipment over many
    # periods costs the holding it implies (as in the facility-location
    # formulation, where the assignment carries the holding cost).
    H = data.horizon
    lead = data.lead
    # sales assigned to u happen in u + delay, at the earliest u + the smallest delay below
    first = {(e, k): min((int(data.delay[e, d]) for d in below[e, k]), default=0)
             for e in data.cover_arcs for k in range(net.n_skus)}
    pending = {}
    for e, j, u in data.cover_pairs:
        for k in range(net.n_skus):
            for t in range(j + int(lead[j, e]), min(u + first[e, k], H)):
                pending.setdefault((e, k, t), []).append((j, u))

    def echelon_stock(m, e, k, t):
        sub = np.flatnonzero(net.downstream[net.customer[e]] > 0)
        rn = data.reach_nodes[e]
        stock = sum(float(rn[n]) * m.I[n, k, t] for n in sub)
        for f in range(net.n_arcs):
            if f == e or net.supplier[f] in sub:
                if f != e:  # shipments moving inside the subtree
                    stock += sum(float(rn[net.supplier[f]]) * m.x[f, k, s] for s in range(t + 1)
                                 if s + int(lead[s, f]) > t and lead[s, f] >= 1)
                already = sum(m.arriving[f, k, a] for a in range(t + 1, H)) + m.arriving_later[f, k]
                stock += float(rn[net.customer[f]]) * already
        assigned = sum(m.w[e, j, u, k] for j, u in pending.get((e, k, t), ()))
        return stock >= (assigned + sum(m.v[e, k, u] for u in range(max(t + 1 - first[e, k], 0), H))
                         + sum(float(rn[n]) * idle(m, n, k, t) for n in sub))

    # Stock kept as safety stock is not stock kept for later sales. A node
    # whose end-of-period stock never falls below h[t'] from t on can keep
    # m[t] = max(min_{t' >= t} h[t'], 0) units idle from t to the end of the
    # window, apart from every unit that is sold (its other units suffice for
    # all it ships and sells), so the echelon holds the pending units *and*
    # the idle ones. Hard targets: h = safety from the node's first
    # replenishable period on. Soft targets: h = safety - G, and q below is a
    # lower bound on m (m[t] = min(h[t], m[t+1]) >= m[t+1] - G[t] as both are
    # at most the target). Without these terms the relaxation parks pending
    # units in the safety stock and spreads setups fractionally over every
    # period: the LP gap on seasonal-grocery with targets of 5 fell from 3-5%
    # to 0.3-1.2% with them.
    # The rows on q are part of the safety_stock family (solve.LIMIT_FAMILIES):
    # they hold only as long as the targets do.
    m.q = pyo.Var(m.N, m.K, m.T, domain=pyo.NonNegativeReals)
    if data.safety_mode == "soft":
        rows = [(n, k, t) for n in range(net.n_nodes) for k in range(net.n_skus) for t in range(H)]

        def safety_idle(m, n, k, t):
            later = m.safety[n, k] if t == H - 1 else m.q[n, k, t + 1]
            return m.q[n, k, t] >= later - m.G[n, k, t]
    else:
        inbound_lead = [min((int(lead[0, f]) for f in np.flatnonzero(net.customer == n)), default=0)
                        for n in range(net.n_nodes)]
        rows = [(n, k, t) for n in range(net.n_nodes) for k in range(net.n_skus) for t in range(H)
                if t >= inbound_lead[n]]

        def safety_idle(m, n, k, t):
            return m.q[n, k, t] >= m.safety[n, k]

    m.safety_idle = pyo.Constraint(rows, rule=safety_idle)

    def idle(m, n, k, t):
        return m.q[n, k, t]

    m.echelon_stock = pyo.Constraint(m.COVER, m.K, m.T, rule=echelon_stock)


def _index(data: ModelData) -> None:
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
              alive: np.ndarray | None = None, hold_scale: float = 1.0, shortage_scale: float = 1.0) -> None:
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
