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
from scenarios.policies import register_policy
from scenarios.simulator import simulate
from scenarios.spec import Spec

__all__ = ["SafetyResult", "tune_safety"]

#: Safety stock in periods of mean demand tried by default.
GRID = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)


@dataclass
class SafetyResult:
    """The best fixed safety stock.

    :param k: periods of mean demand per node.
    :param safety: ``(N, K)`` units per node and SKU.
    :param costs: ``k -> mean cost per period`` on the training paths (after warm-up).
    """

    k: float
    safety: np.ndarray
    costs: dict[float, float]


def tune_safety(spec: Spec, paths: SamplePaths, *, horizon: int = 13, grid: Sequence[float] = GRID,
                mip_gap: float = 0.01, time_limit: float = 10.0, max_extensions: int = 3,
                progress: Callable[[str], None] | None = None) -> SafetyResult:
    """The fixed safety stock (``k`` periods of demand per node) minimising mean cost on ``paths``.

    :param spec: the scenario.
    :param paths: training paths (keep them few: one solve per path and period per ``k``).
    :param horizon: the planner's window.
    :param grid: values of ``k`` to try (>= 0).
    :param mip_gap: the planner's MIP gap.
    :param time_limit: seconds per solve.
    :param max_extensions: when the best ``k`` is the largest tried, try twice it, up to this
        many times (the grid must not cut the baseline short).
    :param progress: called with a message per ``k``.
    :raises SpecError: an empty grid or a negative ``k``.
    """
    from milp import RollingHorizonPolicy

    grid = [float(k) for k in grid]
    if not grid or min(grid) < 0:
        raise SpecError("grid", f"needs values >= 0, got {grid}")
    rate = Network(spec).demand_rate
    costs: dict[float, float] = {}

    def cost(k: float) -> float:
        if progress:
            progress(f"rolling horizon with safety {k:g} periods of demand")
        run = simulate(spec, paths, RollingHorizonPolicy(spec, horizon=horizon, safety=k * rate,
                                                         mip_gap=mip_gap, time_limit=time_limit),
                       kpi_flows=False)
        return float(run.total_cost[:, paths.warmup:].mean())

    for k in grid:
        costs[k] = cost(k)
    top = max(grid)
    for _ in range(max_extensions):  # the best at the top of the grid: the optimum may lie beyond
        if min(costs, key=costs.__getitem__) != top:
            break
        top = 2 * top if top > 0 else 1.0
        costs[top] = cost(top)
    best = min(costs, key=costs.__getitem__)
    return SafetyResult(best, best * rate, costs)


def _rolling_ss(spec: Spec, params: dict[str, list[float | str]] | None, train: Callable[[], Any]) -> Any:
    """Policy factory for ``rolling-horizon-ss[:horizon=H][,k=K][,paths=P]``.

    Without ``k`` the safety stock is tuned (:func:`tune_safety`) on the first
    ``paths`` (default 16) training paths.
    """
    from milp import RollingHorizonPolicy

    options: dict[str, float] = {}
    for key, values in (params or {}).items():
        if key not in ("horizon", "k", "paths", "mip_gap"):
            raise SpecError(f"policy.{key}", "rolling-horizon-ss takes horizon, k, paths, mip_gap")
        if len(values) != 1 or isinstance(values[0], str):
            raise SpecError(f"policy.{key}", f"needs one number, got {values}")
        options[key] = float(values[0])
    horizon, mip_gap = int(options.get("horizon", 13)), options.get("mip_gap", 0.01)
    if "k" in options:
        k, note = options["k"], "given"
    else:
        n = int(options.get("paths", 16))
        tuned = tune_safety(spec, train().subset(slice(0, n)), horizon=horizon, mip_gap=mip_gap)
        k, note = tuned.k, f"tuned on {n} training paths: " + ", ".join(
            f"k={a:g}: {c:.4g}" for a, c in tuned.costs.items())
    policy = RollingHorizonPolicy(spec, horizon=horizon, safety=k * Network(spec).demand_rate,
                                  mip_gap=mip_gap)
    policy.name = "rolling-horizon-ss"
    policy.safety_k, policy.safety_note = k, note
    return policy


register_policy("rolling-horizon-ss", _rolling_ss)
