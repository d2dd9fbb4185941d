"""The planner's fair baseline: rolling horizon with a fixed safety stock tuned per node on training paths.

A rolling-horizon planner that plans on the mean forecast with no safety
stock runs short whenever demand beats the forecast; comparing a learned
safety stock with that would flatter the agent. :func:`tune_safety` instead
chooses the best fixed safety stock per node, ``k[n]`` periods of mean demand
through node ``n`` (``safety[n] = k[n] * Network.demand_rate[n]``, split over
SKUs by their share of the node's demand) or per node and SKU (``per_sku``), on
training paths (never the test paths). The search is a coordinate descent over the nodes' ``k`` that starts
from the levels a tuned base-stock policy implies (:func:`implied_k`) and has
no upper bound, so it can reach whatever the base-stock levels ask for.
``rolling-horizon-ss`` is that planner as a policy text -- the baseline
``hybrid-mpc`` must beat, and the fixed safety stock its residuals start from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scenarios.errors import SpecError
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.progress import Progress, current, part
from scenarios.simulator import simulate
from scenarios.spec import Spec

__all__ = ["SafetyResult", "implied_k", "k_text", "rolling_ss_from_params", "safety_levels", "tune_safety",
           "two_level_grid"]

K = float | tuple[float, ...]
"""Safety in periods of mean demand: one value for every node, one per node, or one per node and SKU
(node by node, the SKUs of each node in turn)."""

#: Smallest step of the descent, in periods of mean demand.
RESOLUTION = 1 / 16


def k_text(k: K) -> str:
    """``k`` as written in a policy text: ``0.5`` or ``0,0.5,0.5`` (one per node, or per node and SKU)."""
    return f"{k:g}" if isinstance(k, float) else ",".join(f"{v:g}" for v in k)


@dataclass
class SafetyResult:
    """The best fixed safety stock.

    :param k: periods of mean demand per node, or per node and SKU (a key of ``costs``).
    :param safety: ``(N, K)`` units per node and SKU (``k`` times the mean demand through the node).
    :param costs: ``k -> mean cost per period`` on the training paths (after warm-up), one
        value per node (or node and SKU) in each ``k``, in the order evaluated.
    :param start: the ``k`` the search started from (:func:`implied_k`).
    :param anchor: the tuned base-stock the start came from, as a policy text, or ``""``.
    :param nodes: node ids, for :meth:`levels`.
    """

    k: tuple[float, ...]
    safety: np.ndarray
    costs: dict[tuple[float, ...], float]
    start: tuple[float, ...] = ()
    anchor: str = ""
    nodes: tuple[str, ...] = field(default=())

    @property
    def text(self) -> str:
        """``k`` as written in a ``rolling-horizon-ss`` policy text."""
        return k_text(self.k)

    def levels(self) -> str:
        """Tuned levels per node in units (summed over SKUs): ``warehouse 0 (k=0); retailer1 7.5 (k=1.5)``."""
        n_nodes = len(self.safety)
        k = np.asarray(self.k, dtype=float).reshape(n_nodes, -1)  # (N, 1) or (N, K)
        names = self.nodes or tuple(f"node{n}" for n in range(n_nodes))
        return "; ".join(f"{name} {units:.4g} (k={'/'.join(f'{v:g}' for v in row)})"
                         for name, units, row in zip(names, self.safety.sum(axis=1), k, strict=True))


def two_level_grid(spec: Spec, upstream: Sequence[float] = (0.0, 0.5),
                   customer: Sequence[float] = (0.0, 0.25, 0.5, 1.0)) -> list[tuple[float, ...]]:
    """Per-node ``k`` vectors: one value at the nodes that serve external demand, one elsewhere.

    Extra starting candidates for :func:`tune_safety` (its ``grid``).

    >>> from scenarios import builtin
    >>> two_level_grid(builtin.get("divergent-1w3r"), (0.0,), (0.0, 1.0))
    [(0.0, 0.0, 0.0, 0.0), (0.0, 1.0, 1.0, 1.0)]
    """
    net = Network(spec)
    serves = np.zeros(net.n_nodes, dtype=bool)
    serves[net.demand_node] = True
    return [tuple(float(c if s else u) for s in serves) for u in upstream for c in customer]


def _as_k(value: float | Sequence[float], net: Network, name: str = "grid") -> K:
    """A ``k`` checked: numbers >= 0, one, one per node or one per node and SKU (``name``: the field)."""
    values = np.atleast_1d(np.asarray(value, dtype=float))
    sizes = sorted({1, net.n_nodes, net.n_nodes * net.n_skus})
    if values.ndim != 1 or len(values) not in sizes or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise SpecError(name, f"each k needs {' or '.join(map(str, sizes))} numbers >= 0 (one, one per node"
                        f"{', one per node and SKU' if net.n_skus > 1 else ''}), got {value!r}")
    return float(values[0]) if np.ndim(value) == 0 else tuple(float(v) for v in values)


def safety_levels(k: K | Sequence[float], net: Network) -> np.ndarray:
    """Safety stock ``(N, K)`` in units from ``k`` periods of mean demand through each node.

    One ``k`` or one per node is split over a node's SKUs by their share of its demand;
    ``N * K`` values (node by node) give each node and SKU its own.

    >>> from scenarios import builtin
    >>> safety_levels((0.0, 1.0, 1.0, 2.0), Network(builtin.get("divergent-1w3r")))[:, 0].tolist()
    [0.0, 5.0, 10.0, 30.0]
    """
    values = np.atleast_1d(np.asarray(k, dtype=float))
    if len(values) == net.n_nodes * net.n_skus:
        return values.reshape(net.n_nodes, net.n_skus) * net.demand_rate
    return np.broadcast_to(values, (net.n_nodes,))[:, None] * net.demand_rate


def implied_k(spec: Spec, paths: SamplePaths) -> tuple[tuple[float, ...], str]:
    """Per-node safety ``k`` (periods of mean demand) that a tuned base-stock policy implies.

    Base-stock (and, on a tree, echelon base-stock) levels are tuned on ``paths``
    (:func:`scenarios.tuning.tune`); the cheaper on ``paths`` is taken, echelon
    levels turned into local ones (``S_local[n] = S[n] - sum of S over n's customers``).
    A local order-up-to level ``S`` covers the demand until the next order arrives,
    ``mu * (L + r)`` with ``L`` the node's mean lead time and ``r`` one review period
    under ``order-first`` timing (0 under ``demand-first``: that period's demand is
    already seen); what is left, ``S - mu * (L + r)``, is the stock expected at the end
    of the period before an arrival -- the planner's safety target. Negative values
    (a warehouse that relies on its next delivery) become 0; nodes without suppliers get 0.

    :return: ``(k per node, the tuned base-stock as a policy text)``.
    """
    from scenarios.tuning import tune

    net = Network(spec)
    families = ["base-stock", *(["echelon-base-stock"] if spec.is_tree else [])]
    best = min((tune(spec, f, paths) for f in families), key=lambda r: r.train_cost)
    levels = np.asarray(best.params["S"], dtype=float)
    if best.family == "echelon-base-stock":
        levels = np.linalg.solve(net.downstream, levels)  # echelon = downstream @ local
    mu = net.demand_rate.sum(axis=1)
    cover = net.mean_lead_time + (0.0 if spec.timing == "demand-first" else 1.0)
    ordering = np.isin(np.arange(net.n_nodes), net.customer)
    k = np.where(ordering & (mu > 0), np.maximum(levels - mu * cover, 0.0) / np.where(mu > 0, mu, 1.0), 0.0)
    text = f"{best.family}:S=" + ",".join(f"{v:g}" for v in best.params["S"])
    return tuple(float(round(v, 4)) for v in k), text


def tune_safety(spec: Spec, paths: SamplePaths, *, horizon: int = 13,
                grid: Sequence[float | Sequence[float]] = (), mip_gap: float = 0.01,
                time_limit: float = 10.0, start: Sequence[float] | None = None,
                anchor_paths: SamplePaths | None = None, step: float = 0.25,
                resolution: float = RESOLUTION, max_evaluations: int = 30, per_sku: bool = False,
                progress: Progress | None = None) -> SafetyResult:
    """The fixed safety stock (``k`` periods of demand per node) minimising mean cost on ``paths``.

    Coordinate descent: from the best starting point, each node's ``k`` (or each node
    and SKU's, with ``per_sku``) in turn is
    moved up and down by its step (never below 0); a move that lowers the mean training
    cost is kept and followed by one twice as long in the same direction, and so on
    while they keep lowering it (there is no upper bound: a start far from the best
    costs a few evaluations, not one per step). When a whole sweep over the nodes finds
    nothing better, the steps halve, down to ``resolution``. Every candidate runs on the
    same ``paths`` (common random numbers), so comparisons are exact for them.

    :param spec: the scenario.
    :param paths: training paths (keep them few: one solve per path and period per candidate).
    :param horizon: the planner's window.
    :param grid: extra starting candidates: numbers >= 0 (the same at every node) and/or vectors
        with one per node (see :func:`two_level_grid`) or, with ``per_sku``, one per node and SKU;
        the best of them and ``start`` is where the descent begins.
    :param mip_gap: the planner's MIP gap.
    :param time_limit: seconds per solve.
    :param start: the ``k`` to start from (as a ``grid`` entry); default: :func:`implied_k` on
        ``anchor_paths``.
    :param anchor_paths: paths to tune the base-stock start on (simulation only, so many are cheap);
        default ``paths``.
    :param step: first step of each node's ``k``, in periods of mean demand (at least this, or a
        quarter of the node's starting ``k``).
    :param resolution: the smallest step.
    :param max_evaluations: at most this many candidates are simulated (the cost of tuning).
    :param per_sku: one ``k`` per node and SKU (``N * K`` coordinates; the start splits each
        node's over its SKUs) instead of one per node.
    :param progress: told of every period of every candidate's simulation, as one task
        (:mod:`scenarios.progress`); its total assumes ``max_evaluations`` and shrinks to the
        candidates run when the search stops.
    :raises SpecError: a negative ``k`` or a vector of the wrong length in ``grid`` or ``start``
        (``N * K`` values without ``per_sku``), or ``max_evaluations < 1``.
    """
    from milp import RollingHorizonPolicy

    net = Network(spec)
    if max_evaluations < 1:
        raise SpecError("max_evaluations", f"must be >= 1, got {max_evaluations}")
    extra = [_coordinates(k, net, per_sku, "grid") for k in grid]
    anchor = ""
    if start is None:
        start, anchor = implied_k(spec, anchor_paths or paths)
    first = _coordinates(tuple(start), net, per_sku, "start")
    costs: dict[tuple[float, ...], float] = {}
    task = f"tuning the planner's safety stock on {paths.n_paths} paths"

    def cost(k: np.ndarray) -> float:
        key = tuple(float(round(v, 6)) for v in k)
        if key not in costs:
            if len(costs) >= max_evaluations:
                return np.inf
            planner = RollingHorizonPolicy(spec, horizon=horizon, safety=safety_levels(key, net),
                                           mip_gap=mip_gap, time_limit=time_limit)
            run = simulate(spec, paths, planner, kpi_flows=False,
                           progress=part(progress, task, len(costs), max_evaluations))
            costs[key] = float(run.total_cost[:, paths.warmup:].mean())
        return costs[key]

    best_k = min([first, *extra], key=cost)
    ordering = np.repeat(np.isin(np.arange(net.n_nodes), net.customer), len(first) // net.n_nodes)
    steps = np.where(ordering, np.maximum(step, best_k / 4), 0.0)
    best_k = _descend(cost, best_k, steps, resolution, lambda: len(costs) >= max_evaluations)
    if progress:
        progress(task, len(costs) * paths.n_periods, len(costs) * paths.n_periods)
    best = min(costs, key=costs.__getitem__)
    return SafetyResult(best, safety_levels(best, net), dict(costs), tuple(float(v) for v in first), anchor,
                        tuple(spec.node_ids))


def _coordinates(k: float | Sequence[float], net: Network, per_sku: bool, name: str) -> np.ndarray:
    """``k`` as the search's coordinates: one per node, or one per node and SKU (``per_sku``)."""
    width = net.n_nodes * (net.n_skus if per_sku else 1)
    values = np.atleast_1d(np.asarray(_as_k(k, net, name), dtype=float))
    if len(values) == net.n_nodes and per_sku:
        values = np.repeat(values, net.n_skus)
    if len(values) not in (1, width):
        raise SpecError(name, f"{len(values)} values of k (one per node and SKU) need per_sku=True")
    return np.broadcast_to(values, (width,)).copy()


def _descend(cost: Callable[[np.ndarray], float], k: np.ndarray, steps: np.ndarray, resolution: float,
             spent: Callable[[], bool]) -> np.ndarray:
    """Coordinate descent on ``cost`` from ``k`` (see :func:`tune_safety`).

    It stops when the steps fall below ``resolution`` or when ``spent()`` (the
    evaluation budget is used up; ``cost`` is then inf for new points).
    """
    best = cost(k)
    steps = steps.copy()
    while np.any(steps > 0) and not spent():
        moved = False
        for n in np.flatnonzero(steps > 0):
            for sign in (1.0, -1.0):
                went, stride = False, steps[n]
                while True:  # keep going in this direction, twice as far each time, while it pays
                    trial = k.copy()
                    trial[n] = max(k[n] + sign * stride, 0.0)
                    if trial[n] == k[n] or not (c := cost(trial)) < best - 1e-12:
                        break
                    k, best, went, stride = trial, c, True, 2 * stride
                if went:  # up paid: down cannot (a point just left)
                    moved = True
                    break
        if not moved:
            steps = np.where(steps / 2 >= resolution, steps / 2, 0.0)
    return k


def rolling_ss_from_params(spec: Spec, params: dict[str, list[float | str]] | None,
                           train: Callable[[], Any]) -> Any:
    """Policy factory for ``rolling-horizon-ss[:horizon=H][,k=K][,paths=P][,evaluations=E][,per_sku=1]``.

    ``k`` is one value for every node, one per node, or one per node and SKU
    (node by node). Without ``k`` the safety stock is tuned per node (per node
    and SKU with ``per_sku=1``; :func:`tune_safety`, at most ``evaluations``
    candidates, default 30) on the first ``paths`` (default 8) training paths,
    starting from the base-stock levels tuned on all of them. ``mip_gap`` is the
    planner's (default 0.01).
    """
    from milp import RollingHorizonPolicy

    options: dict[str, float] = {}
    k: K | None = None
    net = Network(spec)
    keys = ("horizon", "k", "paths", "evaluations", "per_sku", "mip_gap")
    for key, values in (params or {}).items():
        if key not in keys:
            raise SpecError(f"policy.{key}", f"rolling-horizon-ss takes {', '.join(keys)}")
        if any(isinstance(v, str) for v in values) or (len(values) != 1 and key != "k"):
            raise SpecError(f"policy.{key}", f"needs one number, got {values}")
        if key == "k":
            k = _as_k(values[0] if len(values) == 1 else values, net, "policy.k")
        else:
            options[key] = float(values[0])
    for key in ("paths", "evaluations"):
        if key in options and (options[key] < 1 or options[key] != int(options[key])):
            raise SpecError(f"policy.{key}", f"must be a whole number >= 1, got {options[key]:g}")
    if options.get("per_sku", 0) not in (0, 1):
        raise SpecError("policy.per_sku", f"must be 0 or 1, got {options['per_sku']:g}")
    horizon, mip_gap = int(options.get("horizon", 13)), options.get("mip_gap", 0.01)
    if k is not None:
        note = "given"
    else:
        n = int(options.get("paths", 8))
        everything = train()
        tuned = tune_safety(spec, everything.subset(slice(0, n)), horizon=horizon, mip_gap=mip_gap,
                            anchor_paths=everything, max_evaluations=int(options.get("evaluations", 30)),
                            per_sku=bool(options.get("per_sku", 0)), progress=current())
        k = tuned.k
        per = "per node and SKU" if options.get("per_sku") else "per node"
        note = (f"tuned {per} on {n} training paths from k={k_text(tuned.start)} ({tuned.anchor} on "
                f"{everything.n_paths}): k={tuned.text}, {tuned.costs[tuned.k]:.4g} per period after "
                f"{len(tuned.costs)} candidates")
    policy = RollingHorizonPolicy(spec, horizon=horizon, safety=safety_levels(k, net), mip_gap=mip_gap)
    policy.name = "rolling-horizon-ss"
    policy.safety_k, policy.safety_note = k, note
    return policy

