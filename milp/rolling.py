"""The rolling-horizon planner as a :class:`~scenarios.policy.Policy`.

Every period, for every sample path, the planner reads the simulator's state
into the mutable parameters of one deterministic model (:mod:`milp.model`)
over the next ``H`` periods, solves it on a persistent HiGHS instance
(:mod:`milp.solve`) and orders the first period's shipments. The model is
built once, in :meth:`RollingHorizonPolicy.reset`; only its parameters change
between solves. A loop over paths is inherent here: one solve per path and
period.

Window period 0 is the current period ``t``. Under ``order-first`` the policy
acts before this period's demand, which is the window's first demand; under
``demand-first`` it acts after it, so window period 0 carries no new demand
(its backlog is already in the state). Under ``orgym`` it acts before the
period's arrivals too: they are window period 0's scheduled arrivals, and
suppliers ship from the stock they held before them. With one future (``scenarios=1``)
random lead times are planned at their expected value rounded to whole periods and every
arc as available; with several, each future draws its own lead times and disruptions
(:mod:`scenarios.futures`), the current period always available.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo

from milp.errors import PLANNED_TIMINGS
from milp.forecast import FORECASTS, demand_quantile
from milp.futures_model import build_futures_model, future_blocks, stage_two_groups
from milp.model import SAFETY_MODES, build_model, lead_chain, require_timing, set_state
from milp.solve import Solver, SolveStats
from scenarios.budget import check_milp
from scenarios.errors import SpecError
from scenarios.futures import demand_futures, supply_futures
from scenarios.network import Network
from scenarios.simulator import State
from scenarios.spec import Spec

__all__ = ["MAX_FUTURES", "PlanningModel", "RollingHorizonPolicy", "TERMINALS", "replacement_cost",
           "rolling_from_params"]

#: Ways to value the stock left at the window's end (see :class:`RollingHorizonPolicy`).
TERMINALS = ("none", "replacement")
#: Most futures a two-stage window may plan against (the model grows linearly in them).
MAX_FUTURES = 200


@dataclass(frozen=True)
class PlanningModel:
    """The planner's handle on one window model: what it sets, solves and reads.

    :param model: the window model (:func:`milp.model.build_model`); its mutable
        parameters are the window's state, set by :meth:`solve` through :func:`milp.model.set_state`.
    :param solver: the persistent HiGHS solver bound to ``model``.
    :param first_shipments: ``x[e, k, 0]`` in ``(arc, sku)`` C order: the orders placed now.
    :param setups: every setup binary (``y``, then ``z``): a plan, as the solver reports it.
    :param shifted: ``(setup in window period j, index in setups of the same setup in j + 1)``:
        how the previous window's plan, one period on, hints this window's setups.
    """

    model: pyo.ConcreteModel
    solver: Solver
    first_shipments: list[Any]
    setups: list[Any]
    shifted: list[tuple[Any, int]]

    @classmethod
    def build(cls, network: Network, horizon: int, *, integer: bool, formulation: str, safety_mode: str,
              time_limit: float, mip_gap: float, threads: int, futures: int = 1,
              branches: int | None = None, lead_tables: np.ndarray | None = None) -> PlanningModel:
        """Build the window model and its solver (nothing is loaded into HiGHS before the first solve).

        :param futures: ``1``: the deterministic model (:func:`milp.model.build_model`); more: the
            two-stage model over that many futures (:func:`milp.futures_model.build_futures_model`).
        :param branches: branches of a three-stage tree (:func:`milp.futures_model.build_futures_model`).
        :param lead_tables: ``(futures, H, E)`` the futures' lead times (two-stage model only).
        """
        if futures == 1:
            model = build_model(network, horizon, integer=integer, formulation=formulation,
                                safety=safety_mode)
        else:
            model = build_futures_model(network, horizon, futures, branches=branches, lead_tables=lead_tables,
                                        integer=integer, formulation=formulation, safety=safety_mode)
        blocks = future_blocks(model)
        first = [blocks[0].x[e, k, 0] for e in range(network.n_arcs) for k in range(network.n_skus)]
        setups = [v for b in blocks for v in (*b.y.values(), *b.z.values())]
        position = {id(v): i for i, v in enumerate(setups)}
        shifted = [(v, position[id(b.y[e, j + 1])]) for b in blocks for (e, j), v in b.y.items()
                   if j + 1 < horizon]
        shifted += [(v, position[id(b.z[e, k, j + 1])]) for b in blocks for (e, k, j), v in b.z.items()
                    if j + 1 < horizon]
        solver = Solver(model, time_limit=time_limit, mip_gap=mip_gap, threads=threads)
        return cls(model, solver, first, setups, shifted)

    def solve(self, window: dict[str, Any] | list[dict[str, Any]], previous: np.ndarray | None) -> SolveStats:
        """Set the window's state (:func:`milp.model.set_state` keywords) and solve.

        :param window: the state, or one per future of a two-stage model.
        :param previous: the setups of this path's previous plan (:attr:`setups` order), or ``None``.
        """
        for block, state in zip(future_blocks(self.model), window if isinstance(window, list) else [window],
                                strict=True):
            set_state(block, **state)
        hint = None if previous is None else [(now, previous[later]) for now, later in self.shifted]
        return self.solver.solve(hint=hint)

    def orders(self) -> np.ndarray:
        """First-period shipments ``(arcs * skus,)`` of the last plan found."""
        return self.solver.values(self.first_shipments)

    def plan(self) -> np.ndarray:
        """Setup values of the last plan found (:attr:`setups` order)."""
        return self.solver.values(self.setups)


class RollingHorizonPolicy:
    """Plan ``H`` periods ahead each period, act on the first (model predictive control).

    :param spec: the scenario.
    :param horizon: window length ``H`` in periods; it must exceed the longest chain of
        expected lead times from an external supplier to a demand node (:func:`milp.model.lead_chain`).
    :param safety: safety-stock target on end-of-period on hand, in units: a scalar
        (every node and SKU), one value per node ``(N,)`` (split over the node's SKUs by
        their share of its mean demand) or ``(N, K)``. The RL layer tunes it.
    :param forecast: ``"mean"`` (the process's mean on the path), ``"quantile"`` (its
        ``quantile``) or ``"moving-average"`` (of the last ``window`` observed demands).
    :param quantile: the quantile for ``forecast="quantile"``, in (0, 1).
    :param window: periods averaged by ``forecast="moving-average"``.
    :param time_limit: seconds per solve.
    :param mip_gap: relative MIP gap per solve.
    :param threads: HiGHS threads.
    :param integer: plan whole order quantities (``True``); ``None`` or ``False`` plan continuous
        quantities, which the simulator rounds on integer specs -- much faster to solve, and
        the default.
    :param formulation: ``"tight"`` or ``"naive"`` big-M (see :mod:`milp.model`).
    :param safety_mode: ``"soft"`` (penalised) or ``"hard"`` safety-stock targets.
    :param persistent: keep one model and solver and change parameters (``False``
        rebuilds the model every period; for comparison only).
    :param scenarios: futures ``M`` planned against each period. ``1``: the forecast itself (the
        deterministic planner). More: ``M`` futures drawn around the forecast by the scenario's
        own processes (:mod:`scenarios.futures`), one shared set of orders for now and recourse
        per future (:mod:`milp.futures_model`); demand and disruptions are redrawn every period,
        lead times once per run.
    :param branches: ``B`` dividing ``scenarios``: plan a three-stage tree whose ``B`` branches
        share what is seen before next period's decision, and that decision
        (:func:`milp.futures_model.build_futures_model`); default ``scenarios`` (two stages).
    :param seed: seed of the futures: path ``p`` in period ``t`` draws from ``[seed, p, t]``,
        so a path's plans do not depend on how many paths run.
    :param shortage_weight: multiplier on the shortage costs the planner plans with (not on the
        costs it is charged): above 1 it buys more protection than the plan's own trade-off,
        e.g. against the downward bias of a quantile estimated from few futures. A lever for
        tuning and for the hybrid's agent.
    :param terminal: value of the stock left on hand at the window's end: ``"none"`` (0), or
        ``"replacement"``: what it would cost to bring a unit there again (the cheapest chain of
        unit, transport and operating costs from an external supplier), so the plan does not
        drain its stock as the window closes only to buy it again after.
    """

    name = "rolling-horizon"

    def __init__(self, spec: Spec, horizon: int = 13, safety: float | np.ndarray = 0.0,
                 forecast: str = "mean", quantile: float = 0.5, window: int = 8,
                 time_limit: float = 10.0, mip_gap: float = 0.01, threads: int = 1,
                 integer: bool | None = None, formulation: str = "tight", safety_mode: str = "soft",
                 persistent: bool = True, scenarios: int = 1, branches: int | None = None, seed: int = 0,
                 terminal: str = "none", shortage_weight: float = 1.0) -> None:
        require_timing(spec, "the rolling-horizon planner", PLANNED_TIMINGS)
        if not isinstance(horizon, int | np.integer) or horizon < 1:
            raise SpecError("horizon", f"must be an integer >= 1, got {horizon!r}")
        chain, route = lead_chain(spec)
        if horizon <= chain:
            raise SpecError("horizon", f"must be at least {chain + 1} on {spec.name!r}, got {horizon}: the "
                            "window must exceed the longest chain of expected lead times from an external "
                            f"supplier to a demand node ({' -> '.join(route)}: {chain} periods), or what is "
                            "ordered at the top never arrives within it and the planner orders nothing")
        check_milp(spec, int(horizon))  # refuse a model that would not fit in memory
        if forecast not in FORECASTS:
            raise SpecError("forecast", f"must be one of {FORECASTS}, got {forecast!r}")
        if not 0 < quantile < 1:
            raise SpecError("quantile", f"must be in (0, 1), got {quantile}")
        if not isinstance(window, int | np.integer) or window < 1:
            raise SpecError("window", f"must be an integer >= 1, got {window!r}")
        if safety_mode not in SAFETY_MODES:
            raise SpecError("safety_mode", f"must be one of {SAFETY_MODES}, got {safety_mode!r}")
        safety = np.asarray(safety, dtype=float)
        if not np.all(np.isfinite(safety)) or np.any(safety < 0):
            raise SpecError("safety", f"must be finite numbers >= 0, got {safety.tolist()}")
        if not isinstance(scenarios, int | np.integer) or not 1 <= scenarios <= MAX_FUTURES:
            raise SpecError("scenarios", f"must be an integer in [1, {MAX_FUTURES}], got {scenarios!r}")
        if not isinstance(seed, int | np.integer) or seed < 0:
            raise SpecError("seed", f"must be an integer >= 0, got {seed!r}")
        if terminal not in TERMINALS:
            raise SpecError("terminal", f"must be one of {TERMINALS}, got {terminal!r}")
        branches = int(scenarios) if branches is None else branches
        if not isinstance(branches, int | np.integer) or branches < 1 or scenarios % branches:
            raise SpecError("branches", f"must be an integer >= 1 dividing scenarios = {scenarios}, "
                            f"got {branches!r}")
        if not (np.isfinite(shortage_weight) and shortage_weight > 0):
            raise SpecError("shortage_weight", f"must be a number > 0, got {shortage_weight}")
        self.shortage_weight = float(shortage_weight)
        self.futures, self.branches = int(scenarios), int(branches)
        self.seed, self.terminal = int(seed), terminal
        self.spec = spec
        self.horizon, self.window = int(horizon), int(window)
        self.forecast, self.quantile = forecast, quantile
        self.time_limit, self.mip_gap, self.threads = time_limit, mip_gap, threads
        self.integer = bool(integer)
        self.formulation, self.safety_mode, self.persistent = formulation, safety_mode, persistent
        self.safety = safety
        self.stats: list[SolveStats] = []
        self.network: Network | None = None
        # a wrapper without a model: bad solver options fail here, not in the first period
        Solver(None, time_limit=time_limit, mip_gap=mip_gap, threads=threads)

    # ------------------------------------------------------------------ Policy protocol
    def reset(self, network: Network, n_paths: int) -> None:
        """Build the model and its persistent solver once for this run."""
        if network.spec.hash != self.spec.hash:
            raise SpecError("policy", f"rolling-horizon was built for {self.spec.name!r}, "
                            f"not {network.spec.name!r}")
        self.network = network
        self.n_paths = n_paths
        self._safety = self._expand_safety(network)
        self._terminal = (replacement_cost(network) if self.terminal == "replacement"
                          else np.zeros((network.n_nodes, network.n_skus)))
        lead_rng = np.random.default_rng([self.seed])
        self._leads = (supply_futures(self.spec, self.horizon, self.futures, lead_rng)[0]
                       if self.futures > 1 else None)
        self._planning = self._build() if self.persistent else None
        self._seen = np.zeros((n_paths, 0, network.n_demands))
        self._plans: list[np.ndarray | None] = [None] * n_paths
        self.stats = []

    def restart(self) -> None:
        """Begin new episodes on the model and solver already built (for an environment's resets).

        Forgets the plans, the observed demand and the statistics; keeps the persistent
        model, so a new batch of episodes costs no rebuild. (The solver's warm start then
        carries over from the last episodes; :meth:`reset` gives a clean start.)

        :raises RuntimeError: :meth:`reset` was never called.
        """
        if self.network is None:
            raise RuntimeError("restart() needs reset() first")
        self._seen = np.zeros((self.n_paths, 0, self.network.n_demands))
        self._plans = [None] * self.n_paths
        self.stats = []

    def act(self, state: State, t: int) -> np.ndarray:
        """Orders ``(paths, arcs, skus)``: the first period of each path's plan, net of what is owed."""
        net = self.network
        self._observe(state, t)
        demand = self._forecast(state, t)  # (P, D, H)
        orders = np.zeros((state.owed.shape[0], net.n_arcs, net.n_skus))
        for p in range(orders.shape[0]):
            planning = self._planning if self.persistent else self._build()
            stats = planning.solve(self._windows(state, p, t, demand[p]), self._plans[p])
            self.stats.append(stats)
            if stats.objective is None:  # stopped without a plan: order nothing this period
                self._plans[p] = None
                continue
            self._plans[p] = planning.plan()
            first = planning.orders().reshape(net.n_arcs, net.n_skus)
            # the simulator ships what is owed before anything new; solver noise is no order
            # (a stray 1e-9 would pay a fixed cost)
            net_of_owed = first - state.owed[p]
            orders[p] = np.where(net_of_owed > 1e-6, net_of_owed, 0.0)
        return orders

    def planned_orders(self) -> np.ndarray | None:
        """Shipments ``(arcs, skus, horizon)`` of the last window solved; ``None`` without a plan.

        ``None`` too for a planner that is not persistent (it keeps no model between solves).
        """
        planning, net = self._planning, self.network
        if planning is None or not self.stats or self.stats[-1].objective is None:
            return None
        plan = np.zeros((net.n_arcs, net.n_skus, self.horizon))
        for (e, k, j), x in future_blocks(planning.model)[0].x.items():  # (the first future's recourse)
            try:
                plan[e, k, j] = planning.solver.values([x])[0]
            except KeyError:  # in no constraint (it would arrive after the window): not loaded, 0
                pass
        return plan

    def set_safety(self, safety: float | np.ndarray) -> None:
        """Change the safety-stock targets from the next solve on (the hybrid's agent does, per epoch).

        :param safety: as in the constructor (a scalar, ``(N,)`` or ``(N, K)``) for every path,
            or ``(paths, N, K)``: one target per path, node and SKU.
        :raises SpecError: a negative or non-finite target, or a wrong shape.
        """
        safety = np.asarray(safety, dtype=float)
        if not np.all(np.isfinite(safety)) or np.any(safety < 0):
            raise SpecError("safety", f"must be finite numbers >= 0, got {safety.tolist()}")
        net = self.network
        if safety.ndim == 3:
            if safety.shape != (self.n_paths, net.n_nodes, net.n_skus):
                raise SpecError("safety", f"per path needs shape {(self.n_paths, net.n_nodes, net.n_skus)}, "
                                f"got {safety.shape}")
            self._safety = safety.copy()
        else:
            self.safety = safety
            self._safety = self._expand_safety(net)

    def describe(self) -> dict[str, Any]:
        """The planner's settings (for JSON)."""
        return {"horizon": self.horizon, "scenarios": self.futures, "branches": self.branches,
                "seed": self.seed, "terminal": self.terminal, "shortage_weight": self.shortage_weight,
                "safety": np.round(self.safety, 6).tolist(),
                "forecast": self.forecast, "quantile": self.quantile, "window": self.window,
                "time_limit": self.time_limit, "mip_gap": self.mip_gap, "threads": self.threads,
                "integer": self.integer, "formulation": self.formulation,
                "safety_mode": self.safety_mode, "persistent": self.persistent}

    # ------------------------------------------------------------------ helpers
    def _build(self) -> PlanningModel:
        return PlanningModel.build(self.network, self.horizon, integer=self.integer,
                                   formulation=self.formulation, safety_mode=self.safety_mode,
                                   time_limit=self.time_limit, mip_gap=self.mip_gap, threads=self.threads,
                                   futures=self.futures, branches=self.branches, lead_tables=self._leads)

    def _windows(self, state: State, p: int, t: int,
                 forecast: np.ndarray) -> dict[str, Any] | list[dict[str, Any]]:
        """Path ``p``'s window: its state and forecast, or one per sampled future."""
        window = self._window_state(state, p, t, forecast)
        if self.futures == 1:
            return window
        rng = np.random.default_rng([self.seed, p, t])
        demand = demand_futures(self.spec, forecast, t, self.futures, rng)
        available = supply_futures(self.spec, self.horizon, self.futures, rng)[1]
        # Now is not a future: a disruption drawn for it in any one future would forbid the
        # shared order in all of them (an order that cannot ship now stays owed, as for M = 1)
        available[:, :, 0] = 1.0
        if self.branches < self.futures:  # a branch's futures agree on all seen before period 1's decision
            seen = 2 if self.spec.timing == "demand-first" else 1
            leader = stage_two_groups(self.futures, self.branches)
            demand[:, :, :seen] = demand[leader, :, :seen]
            available[:, :, :2] = available[leader, :, :2]
        return [dict(window, demand=demand[f], available=available[f]) for f in range(self.futures)]

    def _expand_safety(self, network: Network) -> np.ndarray:
        """Safety targets ``(N, K)`` from a scalar, ``(N,)`` or ``(N, K)``."""
        N, K = network.n_nodes, network.n_skus
        s = self.safety
        if s.ndim == 0:
            return np.full((N, K), float(s))
        if s.shape == (N,):
            rate = network.demand_rate
            total = rate.sum(axis=1, keepdims=True)
            share = np.where(total > 0, rate / np.where(total > 0, total, 1.0), 1.0 / K)
            return s[:, None] * share
        if s.shape == (N, K):
            return s.copy()
        raise SpecError("safety", f"needs a scalar, {N} values (one per node) or {N}x{K}, "
                        f"got shape {s.shape}")

    def _observe(self, state: State, t: int) -> None:
        """Record last period's demand for the moving average."""
        if self.forecast != "moving-average":
            return
        demand_first = self.spec.timing == "demand-first"
        if t >= 1 or demand_first:  # order-first at t = 0 has seen nothing yet
            self._seen = np.concatenate([self._seen, state.last_demand[:, None]], axis=1)[:, -self.window:]

    def _forecast(self, state: State, t: int) -> np.ndarray:
        """Demand per path, stream and window period ``(P, D, H)``."""
        paths, H = state.paths, self.horizon
        periods = np.minimum(np.arange(t, t + H), paths.n_periods - 1)
        mean = np.transpose(paths.expected_demand[:, periods], (0, 2, 1))  # (P, D, H)
        if self.forecast == "quantile":
            out = np.stack([demand_quantile(d.process, mean[:, i], self.quantile)
                            for i, d in enumerate(self.spec.demands)], axis=1)
        elif self.forecast == "moving-average":
            if self._seen.shape[1]:
                level = self._seen.mean(axis=1)
            else:  # nothing observed yet: the process's long-run mean
                level = np.broadcast_to([d.process.mean_at(1)[0] for d in self.spec.demands], mean.shape[:2])
            out = np.repeat(level[:, :, None], H, axis=2)
        else:
            out = mean.copy()
        if self.spec.timing == "demand-first":
            out[:, :, 0] = 0.0  # this period's demand is already served or backlogged
        return out

    def _window_state(self, state: State, p: int, t: int, demand: np.ndarray) -> dict[str, Any]:
        """The mutable parameters of path ``p``'s window (see :func:`milp.model.set_state`)."""
        net, H = self.network, self.horizon
        E, K = net.n_arcs, net.n_skus
        slots = state.pipeline.shape[2]
        arriving = np.zeros((E, K, H))
        # orgym: the policy acts before this period's arrivals, still in the pipeline's slot t
        for j in range(0 if self.spec.timing == "orgym" else 1, min(H, slots)):
            arriving[:, :, j] = state.pipeline[p, :, (t + j) % slots]
        later = np.maximum(state.in_transit[p] - arriving.sum(axis=2), 0.0)
        on_hand = state.on_hand[p]  # (N, K, ages): bucket a expires at the end of period t + a
        alive = np.flip(np.cumsum(np.flip(on_hand, axis=-1), axis=-1), axis=-1)  # alive[..., a] = sum_{b>=a}
        alive = np.concatenate([alive[..., 1:], np.zeros_like(alive[..., :1])], axis=-1)  # sum_{b>a}
        ages = alive.shape[-1]
        alive = alive[..., np.minimum(np.arange(H), ages - 1)] * (np.arange(H) < ages - 1)
        return {"on_hand": state.stock[p], "demand": demand, "arriving": arriving, "arriving_later": later,
                "owed": state.owed[p], "backlog": state.backlog[p],
                "safety": self._safety[p] if self._safety.ndim == 3 else self._safety,
                "alive": alive, "hold_scale": float(state.paths.holding_scale[p]),
                "shortage_scale": self.shortage_weight * float(state.paths.shortage_scale[p]),
                "terminal_value": self._terminal}


def replacement_cost(network: Network) -> np.ndarray:
    """``(N, K)`` cheapest cost per unit of bringing stock to each node from an external supplier.

    The sum of unit, transport and operating costs along the cheapest chain of arcs, per unit
    arriving (an arc's cost divided by its yield). Nodes are visited in the network's supply
    order, so every supplier is priced before its customers.
    """
    cost = np.full(network.n_nodes, np.inf)
    per_unit = network.unit_cost + network.transport_cost + network.operating_cost[network.customer]
    for _ in range(network.n_nodes):  # Bellman-Ford on a DAG: N rounds suffice
        upstream = np.where(network.supplier < 0, 0.0, cost[np.maximum(network.supplier, 0)])
        arriving = (upstream + per_unit) / network.yield_rate[network.customer]
        np.minimum.at(cost, network.customer, arriving)
    cost = np.where(np.isfinite(cost), cost, 0.0)
    return np.repeat(cost[:, None], network.n_skus, axis=1)


_TEXT_KEYS = ("horizon", "safety", "forecast", "quantile", "window", "time_limit", "mip_gap", "threads",
              "scenarios", "branches", "seed", "terminal", "shortage_weight")


def rolling_from_params(spec: Spec, params: dict[str, list[float | str]] | None,
                        train: Callable[[], Any]) -> RollingHorizonPolicy:
    """Build the planner from a policy text's parameters (``rolling-horizon:horizon=13,safety=...``).

    Keys: ``horizon``, ``safety`` (1 value, or one per node), ``forecast``,
    ``quantile``, ``window``, ``time_limit``, ``mip_gap``, ``threads``, ``scenarios``
    (futures planned against), ``branches`` (of a three-stage tree), ``seed`` (of the
    futures), ``terminal``, ``shortage_weight``; every key but
    ``safety`` takes one value.

    :raises SpecError: an unknown key, several values for a one-value key, or a bad value.
    """
    kwargs: dict[str, Any] = {}
    for key, values in (params or {}).items():
        if key not in _TEXT_KEYS:
            raise SpecError(f"policy.{key}", f"rolling-horizon takes {', '.join(_TEXT_KEYS)}")
        if key != "safety" and len(values) != 1:  # safety alone takes one value per node
            raise SpecError(f"policy.{key}", f"takes one value, got {len(values)}: "
                            f"{','.join(f'{v:g}' if isinstance(v, float) else v for v in values)}")
        if key not in ("forecast", "terminal") and any(isinstance(v, str) for v in values):
            raise SpecError(f"policy.{key}", f"{next(v for v in values if isinstance(v, str))!r} is "
                            "not a number")
        value = values[0]
        if key in ("forecast", "terminal"):
            kwargs[key] = str(value)
        elif key == "safety":
            kwargs[key] = value if len(values) == 1 else np.asarray(values, dtype=float)
        elif key in ("horizon", "window", "threads", "scenarios", "branches", "seed"):
            if value != int(value):
                raise SpecError(f"policy.{key}", f"must be a whole number, got {value:g}")
            kwargs[key] = int(value)
        else:
            kwargs[key] = float(value)
    return RollingHorizonPolicy(spec, **kwargs)
