"""The deterministic multi-echelon, multi-SKU replenishment model, written once.

:func:`build_model` returns a Pyomo ``ConcreteModel`` over ``H`` periods
(window periods ``j = 0 .. H-1``) with one rule per constraint family, in the
style of the Pyomo book's lot-sizing models. Everything that changes between
rolling-horizon steps is a mutable ``Param`` set by :func:`set_state`, so a
persistent solver re-solves the same model instead of rebuilding it. The
index structures live in :mod:`milp.model_data`, the state setter in
:mod:`milp.model_state`; both are importable from here.

Timing follows the simulator (``scenarios.simulator``). Period ``j``:

1. pipeline arrivals shipped with lead time ``L >= 1`` (in ``j - L``) arrive;
2. ``order-first``: shipments ``x`` leave the suppliers, then demand is served;
   ``demand-first``: demand is served, then shipments leave;
   shipments with ``L = 0`` arrive after all shipping;
   ``orgym``: shipments leave from the stock held before step 1's arrivals, then
   demand is served (OR-Gym's order; window period 0's arrivals are in ``arriving``);
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
* ``G[n,k,j] >= 0`` shortfall below the safety-stock target (soft targets); ``G2`` the part
  of it more than :data:`SAFETY_KNEE` of the target below, penalised again (convex penalty);

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

Terminal value: the stock on hand at the end of the window is credited
``terminal_value[n,k]`` per unit (a mutable parameter, 0 by default), so a
plan need not drain its stock as the window closes (see :mod:`milp.rolling`).

Safety stock: a target ``safety[n,k]`` on end-of-period on hand. ``"soft"``
(default): each unit-period below the target costs ``safety_penalty`` (by
default the largest shortage cost), and each unit more than half the target
below it (``G2``, :data:`SAFETY_KNEE`) costs it again, so a window is never made
infeasible by a target it cannot reach in time. The penalty is convex on
purpose: with a flat one, a short warehouse's stock could be split among its
stores in any way at the same cost, and the solver's split starved some
(divergent-1w3r with tuned targets: 35.9 per period against 32.6 for the
echelon base-stock at the same levels; 32.5 with the knee). ``"hard"``: ``I >= safety`` from the first
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

import numpy as np
import pyomo.environ as pyo

from milp.errors import PLANNED_TIMINGS, TIMINGS, require_timing
from milp.model_cover import add_echelon_cover, add_echelon_stock
from milp.model_data import (
    ModelData,
    dearer_upstream,
    expected_lead_times,
    inbound_lead,
    index_model,
    lead_chain,
    lead_table,
)
from milp.model_state import bigm_from_demand, cover_from_demand, set_state
from scenarios.errors import SpecError
from scenarios.network import Network

__all__ = ["ModelData", "build_model", "model_data", "populate", "safety_penalty_of", "window_cost",
           "set_state", "bigm_from_demand", "NAIVE_BIG_M", "FORMULATIONS",
           "SAFETY_KNEE", "SAFETY_MODES", "TIMINGS", "expected_lead_times", "cover_from_demand",
           "dearer_upstream", "lead_chain", "require_timing"]

#: The blanket constant of the ``"naive"`` formulation.
NAIVE_BIG_M = 1e5
FORMULATIONS = ("tight", "naive")
SAFETY_MODES = ("soft", "hard")
#: Share of a soft safety target below which each missing unit costs the penalty twice.
SAFETY_KNEE = 0.5
#: Upper bound on a shipment on a disruptable arc while it is available.
_XMAX = 1e9


def build_model(network: Network, horizon: int, *, integer: bool = False, formulation: str = "tight",
                lead_times: np.ndarray | None = None, bound: bool = False, safety: str = "soft",
                safety_penalty: float | None = None) -> pyo.ConcreteModel:
    """Build the deterministic replenishment model over ``horizon`` periods.

    The model starts from zero stock, no pipeline and no demand; set them with
    :func:`set_state` before solving. Each ``_add_*`` function below adds one
    family of variables or constraints, in this order (the order of HiGHS's
    columns and rows, which the solver's path depends on).

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
    data = model_data(network, horizon, integer=integer, formulation=formulation, lead_times=lead_times,
                      bound=bound, safety=safety)
    net, H = network, int(horizon)
    penalty = safety_penalty_of(net, safety_penalty)

    m = pyo.ConcreteModel(name=f"{net.spec.name}-H{H}")
    populate(m, data)
    m.cost = pyo.Objective(rule=lambda m: window_cost(m, data, penalty), sense=pyo.minimize)
    return m


def model_data(network: Network, horizon: int, *, integer: bool = False, formulation: str = "tight",
               lead_times: np.ndarray | None = None, bound: bool = False,
               safety: str = "soft") -> ModelData:
    """The checked, indexed :class:`ModelData` of one window (options as in :func:`build_model`)."""
    _check_options(network, horizon, formulation, safety)
    net, H = network, int(horizon)
    data = ModelData(net, H, lead_table(net, H, lead_times), net.spec.timing, formulation, bound, integer,
                     safety)
    index_model(data)
    return data


def safety_penalty_of(network: Network, safety_penalty: float | None = None) -> float:
    """Cost per unit-period below a soft safety target: given, or the scenario's largest shortage cost."""
    return float(network.shortage_cost.max(initial=0.0)) if safety_penalty is None else float(safety_penalty)


def populate(m: pyo.Block, data: ModelData) -> None:
    """Add the window's sets, parameters, variables and constraints to a model or block ``m``.

    :func:`build_model` populates a ``ConcreteModel``; the stochastic planner
    (:mod:`milp.futures_model`) populates one block per sampled future.
    """
    net, H = data.network, data.horizon
    m.data = data
    sizes = (net.n_nodes, net.n_skus, net.n_arcs, net.n_demands, H)
    m.N, m.K, m.E, m.D, m.T = (pyo.Set(initialize=range(n), ordered=True) for n in sizes)
    _add_parameters(m, data)
    _add_variables(m, data)
    _add_stock_balances(m, data)
    _add_ship_from_stock(m, data)
    _add_storage(m, data)
    _add_shelf_life(m, data)
    _add_capacities(m, data)
    _add_budget(m, data)
    _add_setups(m, data)
    if data.cover_arcs:
        add_echelon_cover(m, data)
        add_echelon_stock(m, data)
    _add_moq(m, data)
    _add_safety_stock(m, data)


def _check_options(network: Network, horizon: int, formulation: str, safety: str) -> None:
    """Refuse bad options (:class:`SpecError`); warn when the tight big-M may cut off plans."""
    require_timing(network.spec, "the MILP model (milp.model.build_model)", PLANNED_TIMINGS)
    if not isinstance(horizon, int | np.integer) or horizon < 1:
        raise SpecError("horizon", f"must be an integer >= 1, got {horizon!r}")
    if formulation not in FORMULATIONS:
        raise SpecError("formulation", f"must be one of {FORMULATIONS}, got {formulation!r}")
    if safety not in SAFETY_MODES:
        raise SpecError("safety", f"must be one of {SAFETY_MODES}, got {safety!r}")
    dearer = dearer_upstream(network)
    if formulation == "tight" and np.any(dearer):
        arc = network.spec.arcs[int(np.flatnonzero(dearer)[0])]
        warnings.warn(f"arc {arc.supplier} -> {arc.customer}: holding costs more upstream "
                      "than downstream, so pushing stock down can pay; the tight big-M may then cut off such "
                      "plans (use formulation='naive' to allow them)", stacklevel=3)


# ---------------------------------------------------------------------- data and variables
def _add_parameters(m: pyo.ConcreteModel, data: ModelData) -> None:
    """The mutable parameters :func:`set_state` writes: the window's state, demand and coefficients.

    ``bigm``, ``cover_demand`` and ``cover_stock`` are coefficients of the tight
    formulation, refreshed from the state; the index sets of the cover rows are declared here too.
    """
    net = data.network
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
    m.terminal_value = pyo.Param(m.N, m.K, mutable=True, initialize=0.0)
    m.hold_scale = pyo.Param(mutable=True, initialize=1.0)
    m.short_scale = pyo.Param(mutable=True, initialize=1.0)


def _add_variables(m: pyo.ConcreteModel, data: ModelData) -> None:
    """The variables: shipments, setups, stock, sales, unmet demand, discards, shortfalls.

    ``x`` shipped, ``y`` setups (``z`` per SKU under MOQs), ``I`` on hand, ``S`` sold,
    ``B`` backlog or ``U`` lost, ``R`` discarded, ``G`` below a soft target.
    """
    net = data.network
    quantity = pyo.NonNegativeIntegers if data.integer else pyo.NonNegativeReals
    disruptable = set(data.disruptable)

    def x_bounds(m, e, k, j):
        return (0, m.available[e, j] * _XMAX) if e in disruptable else (0, None)

    m.x = pyo.Var(m.E, m.K, m.T, domain=quantity, bounds=x_bounds)
    m.SETUP = pyo.Set(initialize=data.setup_arcs, ordered=True)
    m.y = pyo.Var(m.SETUP, m.T, domain=pyo.Binary)
    m.MOQ = pyo.Set(initialize=data.moq_arcs if net.n_skus > 1 else [], ordered=True)
    m.z = pyo.Var(m.MOQ, m.K, m.T, domain=pyo.Binary)
    m.I = pyo.Var(m.N, m.K, m.T, domain=pyo.NonNegativeReals)
    m.S = pyo.Var(m.D, m.T, domain=pyo.NonNegativeReals)
    if net.backlog:
        m.B = pyo.Var(m.D, m.T, domain=pyo.NonNegativeReals)
    else:
        m.U = pyo.Var(m.D, m.T, domain=pyo.NonNegativeReals)
    m.DISCARD = pyo.Set(initialize=data.discard, dimen=2, ordered=True)
    m.R = pyo.Var(m.DISCARD, m.T, domain=pyo.NonNegativeReals)
    if data.safety_mode == "soft":
        m.G = pyo.Var(m.N, m.K, m.T, domain=pyo.NonNegativeReals)
        m.G2 = pyo.Var(m.N, m.K, m.T, domain=pyo.NonNegativeReals)


# ---------------------------------------------------------------------- flows (expressions)
def _prev_stock(m, n, k, j):
    """On hand at the start of ``j``, before its arrivals."""
    return m.on_hand[n, k] if j == 0 else m.I[n, k, j - 1]


def _inflow_pipe(m, n, k, j):
    """Arrivals at the start of ``j``: planned shipments with L >= 1 and the scheduled pipeline."""
    data = m.data
    net, yield_in = data.network, data.yield_in
    planned = sum(yield_in[e] * m.x[e, k, s] for e, s in data.arrivals.get((n, j), ()))
    scheduled = sum(m.arriving[e, k, j] for e in np.flatnonzero(net.customer == n))
    return planned + scheduled


def _inflow_now(m, n, k, j):
    """Same-period (L = 0) arrivals, after all shipping."""
    yield_in = m.data.yield_in
    return sum(yield_in[e] * m.x[e, k, j] for e in m.data.same_period.get((n, j), ()))


def _outflow(m, n, k, j):
    return sum(m.x[e, k, j] for e in m.data.outbound[n])


def _sales(m, n, k, j):
    return sum(m.S[d, j] for d in m.data.streams.get((n, k), ()))


def _discarded(m, n, k, j):
    return m.R[n, k, j] if (n, k) in m.DISCARD else 0.0


def _setup_binary(m, e, k, j):
    """The binary a shipment of SKU ``k`` needs: per SKU under an MOQ, else per arc."""
    return m.z[e, k, j] if e in m.MOQ else m.y[e, j]


# ---------------------------------------------------------------------- constraint families
def _add_stock_balances(m: pyo.ConcreteModel, data: ModelData) -> None:
    """``inventory_balance`` per node, SKU and period; ``backlog_balance`` or ``lost_sales`` per stream."""
    def inventory_balance(m, n, k, j):
        return m.I[n, k, j] == (_prev_stock(m, n, k, j) + _inflow_pipe(m, n, k, j) + _inflow_now(m, n, k, j)
                                - _outflow(m, n, k, j) - _sales(m, n, k, j) - _discarded(m, n, k, j))

    m.inventory_balance = pyo.Constraint(m.N, m.K, m.T, rule=inventory_balance)

    if data.network.backlog:
        def backlog_balance(m, d, j):
            before = m.backlog0[d] if j == 0 else m.B[d, j - 1]
            return m.B[d, j] == before + m.demand[d, j] - m.S[d, j]

        m.backlog_balance = pyo.Constraint(m.D, m.T, rule=backlog_balance)
    else:
        def lost_sales(m, d, j):
            return m.U[d, j] == m.demand[d, j] - m.S[d, j]

        m.lost_sales = pyo.Constraint(m.D, m.T, rule=lost_sales)


def _add_ship_from_stock(m: pyo.ConcreteModel, data: ModelData) -> None:
    """``ship_from_stock``: shipping (and, demand-first, selling) uses the stock after pipeline arrivals.

    Same-period (L = 0) arrivals come later. Elsewhere ``I >= 0`` already implies
    it, so rows exist only where an L = 0 shipment arrives. Under ``timing = "orgym"``
    suppliers ship from their stock before the period's arrivals: a row for every
    shipping node and period.
    """
    demand_first, orgym = data.timing == "demand-first", data.timing == "orgym"
    K = data.network.n_skus
    if orgym:  # suppliers ship from the stock they held before this period's arrivals
        rows = [(n, k, j) for n in range(data.network.n_nodes) if data.outbound[n] for k in range(K)
                for j in range(data.horizon)]
    else:
        rows = [(n, k, j) for (n, j) in data.same_period for k in range(K)
                if data.outbound[n] or (demand_first and data.streams.get((n, k)))]

    def ship_from_stock(m, n, k, j):
        used = _outflow(m, n, k, j) + (_sales(m, n, k, j) if demand_first else 0.0)
        return used <= _prev_stock(m, n, k, j) + (0.0 if orgym else _inflow_pipe(m, n, k, j))

    m.ship_from_stock = pyo.Constraint(rows, rule=ship_from_stock)


def _add_storage(m: pyo.ConcreteModel, data: ModelData) -> None:
    """``storage`` (end of period), ``storage_on_receipt`` (after arrivals) and ``refusal``.

    Without ageing, a discard at a full store is a refusal: only what arrives can be refused.
    """
    net = data.network
    m.CAPPED = pyo.Set(initialize=data.capped_nodes, ordered=True)

    def storage(m, n, j):
        return sum(m.I[n, k, j] for k in m.K) <= m.storage_cap[n]

    def storage_on_receipt(m, n, j):
        return sum(_prev_stock(m, n, k, j) + _inflow_pipe(m, n, k, j) - _discarded(m, n, k, j)
                   for k in m.K) <= m.storage_cap[n]

    m.storage = pyo.Constraint(m.CAPPED, m.T, rule=storage)
    m.storage_on_receipt = pyo.Constraint(m.CAPPED, m.T, rule=storage_on_receipt)
    refusals = [(n, k, j) for (n, k) in data.discard if net.shelf_life[k] == 0 for j in range(data.horizon)]

    def refusal(m, n, k, j):
        return m.R[n, k, j] <= _inflow_pipe(m, n, k, j) + _inflow_now(m, n, k, j)

    m.refusal = pyo.Constraint(refusals, rule=refusal)


def _add_shelf_life(m: pyo.ConcreteModel, data: ModelData) -> None:
    """``shelf_life``: end-of-period stock of a perishable SKU is at most what can still be alive."""
    net = data.network
    shelf = net.shelf_life
    rows = [(n, k, j) for n in range(net.n_nodes) for k in range(net.n_skus) if shelf[k] > 0
            for j in range(data.horizon)]

    def shelf_life(m, n, k, j):
        recent = range(max(0, j - int(shelf[k]) + 2), j + 1)
        return m.I[n, k, j] <= m.alive[n, k, j] + sum(_inflow_pipe(m, n, k, s) + _inflow_now(m, n, k, s)
                                                      for s in recent)

    m.shelf_life = pyo.Constraint(rows, rule=shelf_life)


def _add_capacities(m: pyo.ConcreteModel, data: ModelData) -> None:
    """``arc_capacity`` (zero while disrupted) and ``production_capacity`` (a node's inbound total)."""
    net = data.network
    capped_arcs = [e for e in range(net.n_arcs) if np.isfinite(net.capacity[e])]

    def arc_capacity(m, e, j):
        return sum(m.x[e, k, j] for k in m.K) <= float(net.capacity[e]) * m.available[e, j]

    m.arc_capacity = pyo.Constraint(capped_arcs, m.T, rule=arc_capacity)
    producers = [n for n in range(net.n_nodes) if np.isfinite(net.production_capacity[n])]

    def production_capacity(m, n, j):
        inbound = np.flatnonzero(net.customer == n)
        return sum(m.x[e, k, j] for e in inbound for k in m.K) <= float(net.production_capacity[n])

    m.production_capacity = pyo.Constraint(producers, m.T, rule=production_capacity)


def _add_budget(m: pyo.ConcreteModel, data: ModelData) -> None:
    """``budget``: purchase spend per period (cumulative with ``bound=True``: the simulator caps orders)."""
    net, spec = data.network, data.network.spec
    periods = list(range(data.horizon)) if spec.budget is not None else []

    def spend(m, s):
        return sum(float(net.unit_cost[e]) * m.x[e, k, s] for e in m.E for k in m.K)

    def budget(m, j):
        if data.bound:  # the simulator caps orders, not shipments: only cumulative spend is bounded
            return sum(spend(m, s) for s in range(j + 1)) <= (j + 1) * float(spec.budget)
        return spend(m, j) <= float(spec.budget)

    m.budget = pyo.Constraint(periods, rule=budget)


def _add_setups(m: pyo.ConcreteModel, data: ModelData) -> None:
    """``setup``: ``x <= M y`` (tight: per SKU, mutable ``bigm``; naive: :data:`NAIVE_BIG_M` per arc).

    Decoupled arcs (``bound=True``) bound cumulative shipments by cumulative setups.
    Tight: ``setup_capacity`` ties a capacitated arc's total to its setup.
    """
    net, H = data.network, data.horizon
    if data.formulation == "tight":
        def setup_rule(m, e, k, j):
            if e in data.decoupled:
                return (sum(m.x[e, k, s] for s in range(j + 1))
                        <= sum(m.bigm[e, k, s] * m.y[e, s] for s in range(j + 1)))
            return m.x[e, k, j] <= m.bigm[e, k, j] * _setup_binary(m, e, k, j)

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


def _add_moq(m: pyo.ConcreteModel, data: ModelData) -> None:
    """``moq``: a shipment with its setup is at least the MOQ, with its companions.

    ``moq_setup``: an SKU's order needs the arc's setup (and its fixed cost);
    naive: ``moq_link`` ties ``x`` to ``z`` by the blanket big-M.
    """
    net, H, K = data.network, data.horizon, data.network.n_skus
    rows = [(e, k, j) for e in data.moq_arcs if e not in data.decoupled for k in range(K) for j in range(H)]

    def moq(m, e, k, j):
        return m.x[e, k, j] >= float(net.moq[e]) * _setup_binary(m, e, k, j)

    m.moq = pyo.Constraint(rows, rule=moq)

    def moq_setup(m, e, k, j):
        return m.z[e, k, j] <= m.y[e, j]

    m.moq_setup = pyo.Constraint(m.MOQ, m.K, m.T, rule=moq_setup)
    if data.formulation == "naive":
        def moq_link(m, e, k, j):
            return m.x[e, k, j] <= NAIVE_BIG_M * m.z[e, k, j]

        rows = [(e, k, j) for e in m.MOQ if e not in data.decoupled for k in range(K) for j in range(H)]
        m.moq_link = pyo.Constraint(rows, rule=moq_link)


def _add_safety_stock(m: pyo.ConcreteModel, data: ModelData) -> None:
    """``safety_stock``: ``I + G >= safety`` (soft) or ``I >= safety`` once replenishable (hard)."""
    if data.safety_mode == "soft":
        def safety_stock(m, n, k, j):
            return m.I[n, k, j] + m.G[n, k, j] >= m.safety[n, k]

        def safety_deep(m, n, k, j):
            return m.G2[n, k, j] >= m.G[n, k, j] - SAFETY_KNEE * m.safety[n, k]

        m.safety_stock = pyo.Constraint(m.N, m.K, m.T, rule=safety_stock)
        m.safety_deep = pyo.Constraint(m.N, m.K, m.T, rule=safety_deep)
    else:
        net, first = data.network, inbound_lead(data)
        rows = [(n, k, j) for n in range(net.n_nodes) for k in range(net.n_skus) for j in range(data.horizon)
                if j >= first[n]]

        def safety_stock(m, n, k, j):
            return m.I[n, k, j] >= m.safety[n, k]

        m.safety_stock = pyo.Constraint(rows, rule=safety_stock)


def window_cost(m: pyo.Block, data: ModelData, penalty: float):
    """One window's (or one future's) cost.

    The simulator's period costs, plus the soft-target penalty, less the terminal credit.
    """
    net, H = data.network, data.horizon
    yield_in = net.yield_rate[net.customer]  # (E,)
    per_unit = net.unit_cost + net.transport_cost + net.operating_cost[net.customer]  # (E,)
    in_transit = np.where(data.lead >= 1, np.minimum(data.lead, H - np.arange(H)[:, None]), 0)  # (H, E)
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
    below = (penalty * sum(m.G[n, k, j] + m.G2[n, k, j] for n in m.N for k in m.K for j in m.T)
             if data.safety_mode == "soft" else 0.0)
    left = sum(m.terminal_value[n, k] * m.I[n, k, H - 1] for n in m.N for k in m.K)
    return hold + pipe + pipe_scheduled + short + shipping + fixed + waste - revenue + below - left
