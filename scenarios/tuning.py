"""Simulation optimisation of static policy parameters on common random numbers.

:func:`tune` minimises the mean cost per period over a fixed set of training
paths with a batched compass (pattern) search: each iteration evaluates the
current point and one step up and down along every coordinate, all in one
simulation over ``paths.tile(candidates)``; it moves to the best candidate or,
when none improves, halves the steps. Because every candidate sees the same
paths the comparison is exact for those paths, and the search is
deterministic for a given seed. Report the tuned parameters on separate test
paths (:func:`scenarios.evaluate.evaluate_policies` does).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.policies import FAMILIES, ParametricPolicy
from scenarios.simulator import simulate
from scenarios.spec import Spec

__all__ = ["TuneResult", "tune", "initial_levels"]

_MAX_CELLS = 3e7  # candidates * paths * nodes * skus * ages per simulation chunk


@dataclass
class TuneResult:
    """Outcome of :func:`tune`.

    :param family: policy family name.
    :param params: tuned values, one per node (``{"S": [...]}``).
    :param train_cost: mean cost per period on the training paths.
    :param evaluations: candidate parameter sets simulated.
    :param seconds: wall time.
    :param history: best training cost after each iteration.
    """

    family: str
    params: dict[str, list[float]]
    train_cost: float
    evaluations: int
    seconds: float
    history: list[float] = field(default_factory=list)

    def policy(self) -> ParametricPolicy:
        """The tuned policy."""
        return FAMILIES[self.family](**self.params)


def _stream_std(spec: Spec) -> np.ndarray:
    """Per demand stream standard deviation per period (from the process)."""
    out = []
    for d in spec.demands:
        p = d.process
        if p.kind == "poisson":
            out.append(np.sqrt(p.mean))
        elif p.kind == "empirical":
            out.append(float(np.std(p.history)))
        else:
            out.append(float(p.std))
    return np.array(out)


def initial_levels(spec: Spec, network: Network | None = None) -> dict[str, np.ndarray]:
    """Heuristic per-node starting levels (newsvendor-style; what the search starts from).

    With ``mu`` the mean demand through the node, ``sigma`` the spread of the
    demand below it, ``L`` its mean lead time and cover ``L + 1``:
    ``S_local = mu * cover + z * sigma * sqrt(cover)``, with ``z`` from the
    critical ratio ``p / (p + h)`` at demand nodes and 1 elsewhere.

    :return: ``{"local": (N,), "echelon": (N,), "mean": (N,)}``.
    """
    net = network or Network(spec)
    mu = net.demand_rate.sum(axis=1)
    var_stream = _stream_std(spec) ** 2
    var_node = np.zeros(net.n_nodes)
    np.add.at(var_node, net.demand_node, var_stream)
    sigma = np.sqrt(net.downstream @ var_node)
    cover = net.mean_lead_time + 1
    z = np.ones(net.n_nodes)
    for n in range(net.n_nodes):
        at = net.demand_node == n
        if at.any():
            p = net.shortage_cost[at].mean()
            h = max(net.holding_cost[n].mean(), 1e-6)
            z[n] = np.clip(stats.norm.ppf(p / (p + h)), 0.0, 3.0)
    local = mu * cover + z * sigma * np.sqrt(cover)
    return {"local": local, "echelon": net.downstream @ local, "mean": mu}


def _start(spec: Spec, family: str, net: Network) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Coordinates, starting point and lower bounds for a family's search.

    (s, S) is searched as (s, S - s) and (s, Q) as (s, Q), so bounds are simple.
    """
    lv = initial_levels(spec, net)
    base = lv["echelon"] if family == "echelon-base-stock" else lv["local"]
    lot = np.maximum(lv["mean"], 1.0)
    fixed = np.zeros(net.n_nodes)
    np.add.at(fixed, net.customer, net.fixed_cost)
    hold = np.maximum(net.holding_cost.mean(axis=1), 1e-3)
    eoq = np.sqrt(2 * fixed * lv["mean"] / hold)  # Harris (1913)
    lot = np.maximum(lot, eoq)
    N = net.n_nodes
    if family in ("base-stock", "echelon-base-stock"):
        return ["S"], base, np.full(N, -np.inf)
    if family == "sS":
        return ["s", "gap"], np.concatenate([base - lv["mean"], lot]), \
            np.concatenate([np.full(N, -np.inf), np.zeros(N)])
    if family == "capped-base-stock":
        return ["S", "r"], np.concatenate([base, 2 * lv["mean"]]), \
            np.concatenate([np.full(N, -np.inf), np.zeros(N)])
    return ["s", "Q"], np.concatenate([base - lv["mean"], lot]), \
        np.concatenate([np.full(N, -np.inf), np.full(N, 1e-3)])


def _params(family: str, names: list[str], x: np.ndarray, N: int) -> dict[str, np.ndarray]:
    """Map search coordinates ``(..., len(names) * N)`` to the family's parameters."""
    parts = {n: x[..., i * N:(i + 1) * N] for i, n in enumerate(names)}
    if family == "sS":
        return {"s": parts["s"], "S": parts["s"] + parts["gap"]}
    return parts


def tune(spec: Spec, family: str, paths: SamplePaths, *, max_iterations: int = 60,
         progress: Callable[[int, float], None] | None = None) -> TuneResult:
    """Find static per-node parameters of ``family`` minimising mean cost on ``paths``.

    :param spec: the scenario.
    :param family: ``base-stock``, ``echelon-base-stock``, ``sS`` or ``sQ``.
    :param paths: training sample paths (keep them apart from test paths).
    :param max_iterations: cap on search iterations.
    :param progress: called as ``progress(iteration, best_cost)`` after each iteration.
    :return: a :class:`TuneResult`; parameters of nodes without suppliers are
        left at their heuristic value (they never order).
    """
    started = time.perf_counter()
    cls = FAMILIES[family]
    if cls.needs_tree:
        spec.require_tree(family)
    net = Network(spec)
    N = net.n_nodes
    names, x, lower = _start(spec, family, net)
    ordering = np.isin(np.arange(N), net.customer)
    active = np.tile(ordering, len(names))  # coordinates that matter
    integer = spec.integer
    if integer:
        x = np.round(x)
    step = np.where(active, np.maximum(0.3 * np.abs(x), 1.0 if integer else 0.5), 0.0)
    min_step = np.where(active, 1.0 if integer else np.maximum(0.003 * np.abs(x), 0.005), 0.0)
    if integer:
        step = np.maximum(np.round(step), 1.0)
    P = paths.n_paths
    chunk = max(1, int(_MAX_CELLS // max(P * N * net.n_skus * net.ages, 1)))

    def cost(candidates: np.ndarray) -> np.ndarray:
        out = []
        for i in range(0, len(candidates), chunk):
            block = candidates[i:i + chunk]
            values = {k: np.repeat(v[..., None] * net.sku_share, P, axis=0)  # (candidates * P, N, K)
                      for k, v in _params(family, names, block, N).items()}
            run = simulate(spec, paths.tile(len(block)), cls(**values), network=net, kpi_flows=False)
            out.append(run.total_cost[:, paths.warmup:].mean(1).reshape(len(block), P).mean(1))
        return np.concatenate(out)

    starts = x[None]
    if family in ("sS", "sQ", "capped-base-stock"):
        # Base-stock is the limit of (s, S) as S - s -> 0, of (s, Q) as Q -> 0 and of a capped
        # base-stock as r grows: start from the tuned base-stock levels too, so these families
        # never end up worse than base-stock on the training paths.
        levels = np.asarray(tune(spec, "base-stock", paths, max_iterations=max_iterations).params["S"])
        mean = initial_levels(spec, net)["mean"]
        small = np.maximum(np.ones(N) if integer else 0.05 * mean, 1e-2)
        if family == "capped-base-stock":
            alt = np.concatenate([levels, np.round(3 * mean + 1) if integer else 3 * mean + 1])
        else:
            alt = np.concatenate([levels - small, small])  # (s, S - s) or (s, Q)
        starts = np.vstack([x, alt])
    start_costs = cost(starts)
    x, best = starts[int(np.argmin(start_costs))], float(start_costs.min())
    history, evaluations = [best], len(starts)
    for iteration in range(max_iterations):
        dirs = np.flatnonzero(step > 0)
        if len(dirs) == 0:
            break
        moves = np.zeros((2 * len(dirs), len(x)))
        moves[np.arange(len(dirs)), dirs] = step[dirs]
        moves[len(dirs) + np.arange(len(dirs)), dirs] = -step[dirs]
        candidates = np.maximum(x + moves, lower)
        costs = cost(candidates)
        evaluations += len(candidates)
        i = int(np.argmin(costs))
        if costs[i] < best - 1e-12:
            x, best = candidates[i], float(costs[i])
        else:
            step = np.where(step / 2 >= min_step, step / 2, 0.0)
            if integer:
                step = np.where(step >= 1, np.round(step), 0.0)
        history.append(best)
        if progress:
            progress(iteration + 1, best)
    params = {k: np.round(v, 4).tolist() for k, v in _params(family, names, x, N).items()}
    return TuneResult(family, params, best, evaluations, time.perf_counter() - started, history)
