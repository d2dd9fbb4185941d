"""Entry points: :func:`optimise_static`, :func:`program_cost` and the ``milp-static`` policy factory."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from milp.static.builder import Builder
from milp.static.ccp import ccp_decomposed, ccp_full_lp, polish
from milp.static.highs_lp import solve_milp
from milp.static.result import StaticResult
from milp.static.scope import check_supported
from scenarios.errors import SpecError
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.policies import ParametricPolicy, make_policy
from scenarios.spec import Spec

__all__ = ["METHODS", "optimise_static", "program_cost", "static_from_params"]

#: ``ccp``: convex-concave procedure, each step's LP solved by Benders decomposition;
#: ``ccp-lp``: the same steps, each one LP over all paths and periods; ``milp``: the exact MILP.
METHODS = ("ccp", "ccp-lp", "milp")


def optimise_static(spec: Spec, paths: SamplePaths, family: str = "echelon-base-stock", *,
                    method: str = "ccp", time_limit: float = 120.0, max_iterations: int = 50,
                    start: np.ndarray | list[float] | None = None, mip_gap: float = 1e-4,
                    threads: int | None = None, validate: bool = False) -> StaticResult:
    """Base-stock levels minimising the mean cost per period over ``paths``.

    See :mod:`milp.static` for the program, how it is solved, what is exact and
    what is approximated. Mind the size: a few columns and rows per path, period and
    (internal arc or demand stream) and SKU; 200 paths of 200 periods take seconds
    on ``serial-3``.

    :param spec: the scenario; tree-shaped (one supplier per node).
    :param paths: training sample paths; their ``warmup`` periods are a burn-in:
        simulated from the spec's initial inventory but not counted.
    :param family: ``"echelon-base-stock"`` (Clark & Scarf 1960) or ``"base-stock"`` (local).
    :param method: ``"ccp"`` (convex-concave procedure with Benders steps, the default),
        ``"ccp-lp"`` (the same, each step one LP over all cells; slower) or ``"milp"`` (the
        exact MILP; tiny samples only).
    :param time_limit: seconds HiGHS may spend in total; on a time-out the best levels
        found are returned with ``status="time-limit"``.
    :param max_iterations: cap on steps of the procedure (``ccp``, ``ccp-lp``).
    :param start: starting levels, ``(nodes,)`` (spread over SKUs by demand share) or
        ``(nodes, skus)`` (default: the newsvendor-style :func:`scenarios.tuning.initial_levels`).
    :param mip_gap: relative optimality gap at which HiGHS stops (``milp``, integer specs).
    :param threads: HiGHS threads (default: HiGHS's choice).
    :param validate: also simulate the levels on ``paths`` and store the mean in ``simulated``.
    :return: a :class:`StaticResult`.
    :raises SpecError: unknown family or method, unsupported scenario features (named),
        paths drawn for another spec.
    """
    if method not in METHODS:
        raise SpecError("method", f"must be one of {', '.join(METHODS)}, got {method!r}")
    began = time.perf_counter()
    net = Network(spec)
    notes = check_supported(spec, family, paths, net)
    exact = not notes
    builder = Builder(spec, paths, family, net, binaries=method == "milp")
    builder.build()
    first = _first_levels(builder, start)
    build_time = time.perf_counter() - began

    solving = time.perf_counter()
    iterations, history, gap = 0, [], 0.0
    if method in ("ccp", "ccp-lp"):
        run = ccp_decomposed if method == "ccp" else ccp_full_lp
        levels, status, iterations, lp_value, history = run(
            builder, first, solving + time_limit, max_iterations, threads)
        if spec.integer and not exact:
            levels, moves = polish(builder, levels, solving + time_limit)
            if moves:
                notes.append(f"integer levels moved {moves} time(s) by one unit after the procedure "
                             "(its cuts are not exact here); lp_objective is the bound before that")
    else:
        levels, status, lp_value, gap = solve_milp(builder, first, time_limit, mip_gap, threads)
    solve_time = time.perf_counter() - solving

    values, _ = builder.evaluate(levels)
    measured, measured_offset = builder.prog.objective("measured")
    objective = float(measured @ values + measured_offset)
    notes += _binding_assumptions(builder, levels, values)
    simulated = None
    if validate:
        from scenarios.simulator import simulate

        policy = make_policy(spec, family, {"S": levels[:, 0] if net.n_skus == 1 else levels})
        simulated = float(simulate(spec, paths, policy, network=net).total_cost[:, paths.warmup:].mean())
    prog = builder.prog
    size = {"columns": prog.n_cols, "rows": prog.n_rows,
            "nonzeros": int(sum(len(r) for r, _, _ in prog.rows)), "binaries": builder.n_binaries}
    return StaticResult(
        family=family, levels=[float(v) for v in levels.sum(axis=1)], levels_by_sku=levels.tolist(),
        objective=objective, status=status, solve_time_s=solve_time, n_paths=paths.n_paths,
        exact=exact, n_periods=paths.n_periods - paths.warmup, method=method, iterations=iterations,
        lp_objective=lp_value, history=tuple(history), build_time_s=build_time, gap=gap,
        simulated=simulated, size=size, notes=tuple(notes))


def _first_levels(builder: Builder, start: np.ndarray | list[float] | None) -> np.ndarray:
    """Starting ``(nodes, skus)`` levels: the heuristic, or ``start`` spread over SKUs and clipped."""
    if start is None:
        return builder.start_levels()
    first = np.asarray(start, dtype=float)
    if first.ndim == 1:
        first = first[:, None] * builder.share()
    return builder.clip(first.reshape(builder.net.n_nodes, builder.net.n_skus))


def _binding_assumptions(builder: Builder, levels: np.ndarray, values: np.ndarray) -> list[str]:
    """Notes for the program's assumptions that bind at ``levels`` (level box, order-up-to rows)."""
    notes = []
    if np.any(levels >= builder.hi - 1e-6):
        notes.append("a level sits at its upper bound (the largest demand over the longest lead time + 2)")
    for n, _, orders, t0 in builder.order_up_to:
        if orders.at(t0, values)[0].min() < 1e-6:
            notes.append(f"node {builder.spec.node_ids[n]!r}: the level is held at the initial stock less "
                         "the burn-in demand (a longer warm-up would free it)")
    return notes


def program_cost(spec: Spec, paths: SamplePaths, family: str, levels: np.ndarray | list[float]) -> float:
    """The program's mean cost per period over the measured periods at fixed ``levels``.

    No solver is involved: the policy is simulated inside the program's own
    equations, so comparing this with :func:`scenarios.simulator.simulate` checks
    the formulation.

    :param levels: ``(nodes,)`` for one SKU or ``(nodes, skus)``.
    """
    net = Network(spec)
    check_supported(spec, family, paths, net)
    builder = Builder(spec, paths, family, net)
    builder.build()
    values, _ = builder.evaluate(np.asarray(levels, dtype=float).reshape(net.n_nodes, net.n_skus))
    cost, offset = builder.prog.objective("measured")
    return float(cost @ values + offset)


def static_from_params(spec: Spec, params: dict[str, list[float | str]] | None,
                       train: Callable[[], SamplePaths]) -> ParametricPolicy:
    """Policy factory for ``milp-static`` (``echelon evaluate -p milp-static``).

    Solves :func:`optimise_static` on the training paths: echelon base-stock on
    tree networks, local base-stock otherwise; it takes no parameters.
    """
    if params:
        raise SpecError(f"policy.{next(iter(params))}", "milp-static takes no parameters; it solves for them")
    family = "echelon-base-stock" if spec.is_tree else "base-stock"
    result = optimise_static(spec, train(), family)
    policy = make_policy(spec, family, result.params)
    policy.name = "milp-static"
    return policy
