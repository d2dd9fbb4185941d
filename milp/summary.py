"""What ``echelon solve`` reports: one MILP method run on sample paths, summarised as plain numbers.

:func:`solve_summary` draws the test paths, runs one of the three methods
(the rolling-horizon policy, the hindsight bound, optimal static levels) and
returns a JSON-ready dict: costs and fill rates as estimates with 95% CIs,
solver statuses, times and gaps.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from scenarios.errors import SpecError
from scenarios.evaluate import train_seed
from scenarios.kpis import estimate, kpis
from scenarios.paths import SamplePaths
from scenarios.policies import make_policy
from scenarios.policy import solve_stats
from scenarios.progress import Progress
from scenarios.simulator import simulate
from scenarios.spec import Spec, load

__all__ = ["METHODS", "solve_summary"]

#: The methods of :func:`solve_summary`.
METHODS = ("rolling", "hindsight", "static")


def _check(method: str, backend: str, sizes: dict[str, int | None], time_limit: float, gap: float) -> None:
    if method not in METHODS:
        raise SpecError("--method", f"must be rolling, hindsight or static, got {method!r}")
    if backend not in ("pyomo", "pulp"):
        raise SpecError("--backend", f"must be pyomo or pulp, got {backend!r}")
    if backend == "pulp" and method != "hindsight":
        raise SpecError("--backend", "pulp is the cross-check backend of --method hindsight only")
    for name, value in sizes.items():
        if value is not None and value < 1:
            raise SpecError(f"--{name}", f"must be >= 1, got {value}")
    if time_limit <= 0 or not 0 <= gap < 1:
        raise SpecError("--time-limit" if time_limit <= 0 else "--gap",
                        "must be > 0" if time_limit <= 0 else f"must be in [0, 1), got {gap}")


def _spread(values: list[float]) -> dict[str, float | None]:
    return {"median": float(np.median(values)) if values else None,
            "max": float(np.max(values)) if values else None}


def solve_summary(scenario: str | Spec, method: str = "rolling", *, horizon: int = 13, safety: float = 0.0,
                  time_limit: float = 10.0, gap: float = 0.01, backend: str = "pyomo",
                  paths: int | None = None, periods: int | None = None, train_paths: int = 200,
                  seed: int = 0, progress: Progress | None = None) -> dict[str, Any]:
    """Solve ``scenario`` with one MILP method on sample paths and summarise it (``echelon solve``).

    :param scenario: a built-in name, TOML path or spec.
    :param method: ``"rolling"`` (the rolling-horizon policy simulated on the paths),
        ``"hindsight"`` (the perfect-information bound per path) or ``"static"``
        (optimal static base-stock levels by SAA on ``train_paths`` training paths,
        then simulated on the test paths).
    :param horizon: rolling: the planning window; ``safety``: rolling: safety stock per node and SKU.
    :param time_limit: seconds per solve; ``gap``: relative MIP gap per solve.
    :param backend: ``"pyomo"`` (persistent HiGHS) or ``"pulp"`` (hindsight only, a cross-check).
    :param paths: test paths (default 20; static: 2000); ``periods``: measured periods per path.
    :param seed: seed of the test paths (the static training paths use ``train_seed(seed)``).
    :returns: a JSON-ready dict: ``scenario``, ``method``, ``paths``, ``seed``, ``status``,
        ``cost_per_period`` (``{"mean", "ci95", ...}``), the method's own entries (rolling:
        ``fill_rate``, ``solves``, ``solve_time_s`` and ``gap`` as ``{"median", "max"}``;
        hindsight: ``objective`` and a ``note``; static: ``family``, ``levels``, ``objective``,
        ``exact``), ``wall_time_s`` and, when the scenario has a known optimum, ``gap_to_optimum``.
    :raises SpecError: an unknown method or backend, a size < 1, a time limit <= 0 or a gap outside [0, 1).

    >>> out = solve_summary("serial-3", "hindsight", paths=2, periods=8)
    >>> out["status"], out["paths"], out["cost_per_period"]["mean"] > 0
    ('bound', 2, True)
    """
    _check(method, backend, {"paths": paths, "periods": periods, "horizon": horizon,
                             "train-paths": train_paths}, time_limit, gap)
    paths = paths or (2000 if method == "static" else 20)
    spec = load(scenario) if not isinstance(scenario, Spec) else scenario
    test = SamplePaths.draw(spec, paths, periods, seed=seed)
    out: dict[str, Any] = {"scenario": spec.name, "method": method, "paths": paths, "seed": seed}
    started = time.perf_counter()
    if method == "rolling":
        from milp.rolling import RollingHorizonPolicy

        policy = RollingHorizonPolicy(spec, horizon=horizon, safety=safety, time_limit=time_limit,
                                      mip_gap=gap)
        k = kpis(simulate(spec, test, policy, progress=progress))
        stats = solve_stats(policy)
        statuses = sorted({s.status for s in stats})
        out.update(status=statuses[0] if len(statuses) == 1 else ",".join(statuses),
                   cost_per_period=k["cost_per_period"].to_dict(), fill_rate=k["fill_rate"].to_dict(),
                   solves=len(stats), solve_time_s=_spread([s.seconds for s in stats]),
                   gap=_spread([s.gap for s in stats if s.gap is not None]), horizon=horizon, safety=safety)
    elif method == "hindsight":
        from milp.hindsight import hindsight_bound

        bound = hindsight_bound(spec, test, time_limit=time_limit, mip_gap=gap, backend=backend,
                                progress=progress)
        out.update(status="bound", objective=estimate(bound).to_dict(),
                   cost_per_period=estimate(bound).to_dict(),
                   note="per-path lower bound on any policy's cost per period, warm-up included", gap=gap)
    else:
        from milp.static import optimise_static

        family = "echelon-base-stock" if spec.is_tree else "base-stock"
        train = SamplePaths.draw(spec, train_paths, periods, seed=train_seed(seed))
        if progress:
            progress(f"optimal static levels: the SAA program on {train_paths} training paths", 0, None)
        result = optimise_static(spec, train, family, time_limit=time_limit)
        k = kpis(simulate(spec, test, make_policy(spec, family, result.params), progress=progress))
        out.update(status=result.status, family=family, levels=result.levels, objective=result.objective,
                   exact=result.exact, cost_per_period=k["cost_per_period"].to_dict(),
                   fill_rate=k["fill_rate"].to_dict(),
                   solve_time_s={"median": result.solve_time_s, "max": result.solve_time_s},
                   gap=None, train_paths=train_paths)
    out["wall_time_s"] = time.perf_counter() - started
    if spec.known_optimum and method != "hindsight":
        out["gap_to_optimum"] = out["cost_per_period"]["mean"] / spec.known_optimum - 1
    return out
