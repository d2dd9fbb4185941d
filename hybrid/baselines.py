"""The planner's fair baseline: rolling horizon with a fixed safety stock tuned on training paths.

A rolling-horizon planner that plans on the mean forecast with no safety
stock runs short whenever demand beats the forecast; comparing a learned
safety stock with that would flatter the agent. :func:`tune_safety` instead
chooses the best fixed safety stock, ``k`` periods of mean demand through each
node (``safety = k * Network.demand_rate``), over a grid of ``k`` on training
paths (never the test paths), and ``rolling-horizon-ss`` is that planner as a
policy text -- the baseline ``hybrid-mpc`` must beat, and the fixed safety
stock its residuals start from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scenarios.errors import SpecError
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.progress import Progress, current, part
from scenarios.simulator import simulate
from scenarios.spec import Spec

__all__ = ["SafetyResult", "k_text", "rolling_ss_from_params", "tune_safety", "two_level_grid"]

#: Safety stock in periods of mean demand tried by default.
GRID = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)

K = float | tuple[float, ...]
"""Safety in periods of mean demand: one value for every node, or one per node."""


def k_text(k: K) -> str:
    """``k`` as written in a policy text: ``0.5`` or ``0,0.5,0.5`` (one per node)."""
    return f"{k:g}" if isinstance(k, float) else ",".join(f"{v:g}" for v in k)


@dataclass
class SafetyResult:
    """The best fixed safety stock.

    :param k: periods of mean demand, one value for every node or one per node.
    :param safety: ``(N, K)`` units per node and SKU.
    :param costs: ``k -> mean cost per period`` on the training paths (after warm-up).
    """

    k: K
    safety: np.ndarray
    costs: dict[K, float]

    @property
    def text(self) -> str:
        """``k`` as written in a ``rolling-horizon-ss`` policy text."""
        return k_text(self.k)


def two_level_grid(spec: Spec, upstream: Sequence[float] = (0.0, 0.5),
                   customer: Sequence[float] = (0.0, 0.25, 0.5, 1.0)) -> list[tuple[float, ...]]:
    """Per-node ``k`` vectors: one value at the nodes that serve external demand, one elsewhere.

    Safety stock does different work at a store (it meets the demand) and at a
    warehouse (it meets the stores' orders), so one multiple for every node can
    leave the planner's best fixed safety stock unfound.

    >>> from scenarios import builtin
    >>> two_level_grid(builtin.get("divergent-1w3r"), (0.0,), (0.0, 1.0))
    [(0.0, 0.0, 0.0, 0.0), (0.0, 1.0, 1.0, 1.0)]
    """
    net = Network(spec)
    serves = np.zeros(net.n_nodes, dtype=bool)
    serves[net.demand_node] = True
    return [tuple(float(c if s else u) for s in serves) for u in upstream for c in customer]


def _as_k(value: float | Sequence[float], n_nodes: int) -> K:
    """A grid entry checked: a number >= 0, or ``n_nodes`` of them."""
    values = np.atleast_1d(np.asarray(value, dtype=float))
    if values.ndim != 1 or len(values) not in (1, n_nodes) or not np.all(np.isfinite(values)) \
            or np.any(values < 0):
        raise SpecError("grid", f"each k needs one number >= 0 or {n_nodes} (one per node), got {value!r}")
    return float(values[0]) if np.ndim(value) == 0 else tuple(float(v) for v in values)


def tune_safety(spec: Spec, paths: SamplePaths, *, horizon: int = 13,
                grid: Sequence[float | Sequence[float]] = GRID, mip_gap: float = 0.01,
                time_limit: float = 10.0, max_extensions: int = 3,
                progress: Progress | None = None) -> SafetyResult:
    """The fixed safety stock (``k`` periods of demand per node) minimising mean cost on ``paths``.

    :param spec: the scenario.
    :param paths: training paths (keep them few: one solve per path and period per ``k``).
    :param horizon: the planner's window.
    :param grid: values of ``k`` to try: numbers >= 0 (the same at every node) and/or
        vectors with one per node (see :func:`two_level_grid`).
    :param mip_gap: the planner's MIP gap.
    :param time_limit: seconds per solve.
    :param max_extensions: when the best ``k`` is at the top of the grid at some node (the
        largest value tried there, > 0), try it with those values doubled, up to this many
        times (the grid must not cut the baseline short).
    :param progress: told of every period of every candidate's simulation, as one task
        (:mod:`scenarios.progress`); its total grows when the grid is extended.
    :raises SpecError: an empty grid, a negative ``k`` or a vector of the wrong length.
    """
    from milp import RollingHorizonPolicy

    net = Network(spec)
    rate = net.demand_rate
    if len(grid) == 0:
        raise SpecError("grid", "needs at least one k")
    ks = [_as_k(k, net.n_nodes) for k in grid]
    costs: dict[K, float] = {}

    def per_node(k: K) -> np.ndarray:
        return np.broadcast_to(np.asarray(k, dtype=float), (net.n_nodes,))

    todo: list[K] = []
    for k in ks:
        if not any(np.array_equal(per_node(k), per_node(seen)) for seen in todo):  # 0 == (0, 0, 0)
            todo.append(k)
    task = f"tuning the planner's safety stock on {paths.n_paths} paths"

    def cost(k: K, count: int) -> float:
        planner = RollingHorizonPolicy(spec, horizon=horizon, safety=per_node(k)[:, None] * rate,
                                       mip_gap=mip_gap, time_limit=time_limit)
        run = simulate(spec, paths, planner, kpi_flows=False,
                       progress=part(progress, task, len(costs), count))
        return float(run.total_cost[:, paths.warmup:].mean())

    for k in todo:
        costs[k] = cost(k, len(todo))
    for _ in range(max_extensions):  # the best at the top of the grid: the optimum may lie beyond
        best = min(costs, key=costs.__getitem__)
        top = np.max([per_node(k) for k in costs], axis=0)
        at_top = (per_node(best) == top) & (top > 0)
        if not at_top.any():
            break
        wider = np.where(at_top, 2 * per_node(best), per_node(best))
        nxt: K = float(wider[0]) if isinstance(best, float) else tuple(float(v) for v in wider)
        costs[nxt] = cost(nxt, len(costs) + 1)
    best = min(costs, key=costs.__getitem__)
    return SafetyResult(best, per_node(best)[:, None] * rate, costs)


def rolling_ss_from_params(spec: Spec, params: dict[str, list[float | str]] | None,
                           train: Callable[[], Any]) -> Any:
    """Policy factory for ``rolling-horizon-ss[:horizon=H][,k=K][,paths=P]``.

    ``k`` is one value for every node or one per node. Without ``k`` the
    safety stock is tuned (:func:`tune_safety`) on the first ``paths``
    (default 16) training paths.
    """
    from milp import RollingHorizonPolicy

    options: dict[str, float] = {}
    k: K | None = None
    net = Network(spec)
    for key, values in (params or {}).items():
        if key not in ("horizon", "k", "paths", "mip_gap"):
            raise SpecError(f"policy.{key}", "rolling-horizon-ss takes horizon, k, paths, mip_gap")
        if any(isinstance(v, str) for v in values) or (len(values) != 1 and key != "k"):
            raise SpecError(f"policy.{key}", f"needs one number, got {values}")
        if key == "k":
            try:
                k = _as_k(values[0] if len(values) == 1 else values, net.n_nodes)
            except SpecError:
                raise SpecError("policy.k", f"needs one number >= 0 or {net.n_nodes} (one per node), "
                                f"got {values}") from None
        else:
            options[key] = float(values[0])
    horizon, mip_gap = int(options.get("horizon", 13)), options.get("mip_gap", 0.01)
    if k is not None:
        note = "given"
    else:
        n = int(options.get("paths", 16))
        tuned = tune_safety(spec, train().subset(slice(0, n)), horizon=horizon, mip_gap=mip_gap,
                            progress=current())
        k, note = tuned.k, f"tuned on {n} training paths: " + ", ".join(
            f"k={k_text(a)}: {c:.4g}" for a, c in tuned.costs.items())
    levels = np.broadcast_to(np.asarray(k, dtype=float), (net.n_nodes,))[:, None] * net.demand_rate
    policy = RollingHorizonPolicy(spec, horizon=horizon, safety=levels, mip_gap=mip_gap)
    policy.name = "rolling-horizon-ss"
    policy.safety_k, policy.safety_note = k, note
    return policy

