"""The convex-concave procedure over the levels: Benders steps, full-LP steps, a final integer polish."""

from __future__ import annotations

import time

import numpy as np

from milp.static.builder import Builder
from milp.static.highs_lp import Cuts, highs_model, highs_status

__all__ = ["RELATIVE_TOL", "ccp_decomposed", "ccp_full_lp", "concave_columns", "linearise", "polish"]

RELATIVE_TOL = 1e-7  # an LP step must promise this much relative descent


def ccp_decomposed(builder: Builder, start: np.ndarray, deadline: float, max_iterations: int,
                    threads: int | None) -> tuple[np.ndarray, str, int, float, list[float]]:
    """The convex-concave procedure with each step's LP solved by Benders decomposition.

    Step ``k``'s LP is ``min_S g(S) - [tangent of the concave part at S_k](S)`` where ``g``
    is the LP's value with the concave shipments uncharged. For fixed levels that
    LP's best shipments are the largest ones (every other use of a shipment rewards
    shipping more), which is exactly the program's simulation: so ``g`` and a
    subgradient per path come from one :meth:`Builder.evaluate` and the master LP
    (:class:`Cuts`) only sees the levels. ``g`` does not change between steps, so
    its cuts are kept. A proposal is taken as soon as it lowers the SAA cost ``F``; the
    procedure stops when the master's bound shows no level can lower the step's
    majoriser below ``F`` at the current levels -- the same certificate as the full LP.
    """
    prog, net = builder.prog, builder.net
    cost, offset = prog.objective("program")
    concave, gamma, sku_of = concave_columns(builder, cost)
    g_cost = cost.copy()
    g_cost[concave] = 0.0
    path = np.concatenate(prog.path)
    sku = np.concatenate(prog.sku)
    flat_levels = builder.level_cols.ravel()
    level_linear = g_cost[flat_levels].copy()  # levels' own cost: global, kept out of the cuts
    per_path = np.flatnonzero((path >= 0) & (g_cost != 0))
    N, K = net.n_nodes, net.n_skus
    cuts = Cuts(builder, threads)

    def evaluate(levels: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        values, grads = builder.evaluate(levels, gradients=True)
        w = g_cost[per_path] * values[per_path]
        g_paths = np.bincount(path[per_path], weights=w, minlength=builder.P)
        slopes = np.zeros((builder.P, N, K))
        for k in range(K):
            mine = per_path[sku[per_path] == k]
            for n in range(N):
                slopes[:, n, k] = np.bincount(path[mine], weights=g_cost[mine] * grads[mine, n],
                                              minlength=builder.P)
        cuts.add(levels, g_paths, slopes.reshape(builder.P, -1))
        return float(cost @ values + offset), values, grads

    levels = start
    value, values, grads = evaluate(levels)
    history, status, bound, iterations = [value], "iteration-limit", float("nan"), 0
    tangent = linearise(levels, values, grads, concave, gamma, sku_of, N, K)
    for _ in range(max_iterations * 50):  # master LPs: several per step while cuts accumulate
        tol = RELATIVE_TOL * max(1.0, abs(value))
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            status = "time-limit"
            break
        slope, constant = tangent
        status, proposal, bound = cuts.solve(level_linear + slope.ravel(), offset + constant, remaining)
        iterations += 1
        if status != "optimal":
            break
        if bound >= value - tol:
            status = "optimal"  # no level lowers the step's majoriser below F(S_k)
            break
        proposal = builder.clip(proposal.reshape(N, K))
        new_value, new_values, new_grads = evaluate(proposal)
        if new_value < value - tol:
            levels, value, values, grads = proposal, new_value, new_values, new_grads
            history.append(value)
            tangent = linearise(levels, values, grads, concave, gamma, sku_of, N, K)
            if len(history) > max_iterations:
                status = "iteration-limit"
                break
        elif np.allclose(proposal, levels):
            status = "stalled"  # the proposal is the current point: the model cannot improve
            break
    return levels, status, iterations, bound, history


def ccp_full_lp(builder: Builder, start: np.ndarray, deadline: float, max_iterations: int,
         threads: int | None) -> tuple[np.ndarray, str, int, float, list[float]]:
    """The convex-concave procedure, each step one LP over all paths and periods.

    One HiGHS model is built; between steps only the level columns' costs and the
    offset change (the tangents), and the simplex warm-starts from the last basis.
    """
    prog, net = builder.prog, builder.net
    cost, offset = prog.objective("program")
    concave, gamma, sku_of = concave_columns(builder, cost)
    flat_levels = builder.level_cols.ravel()
    base_level_cost = cost[flat_levels].copy()
    lp_cost = cost.copy()
    lp_cost[concave] = 0.0
    # Continuous levels: an integer spec would make every step a MIP over all cells; steps are
    # rounded when taken (``clip``) and must lower the SAA cost.
    h = highs_model(prog, lp_cost, offset, np.zeros(prog.n_cols, bool), threads)

    def saa(levels: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        values, grads = builder.evaluate(levels, gradients=True)
        return float(cost @ values + offset), values, grads

    levels = start
    value, values, grads = saa(levels)
    history, status, lp_value, iterations = [value], "iteration-limit", float("nan"), 0
    for _ in range(max_iterations):
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            status = "time-limit"
            break
        slope, constant = linearise(levels, values, grads, concave, gamma, sku_of, net.n_nodes, net.n_skus)
        h.changeColsCost(len(flat_levels), flat_levels.astype(np.int32), base_level_cost + slope.ravel())
        h.changeObjectiveOffset(offset + constant)
        h.setOptionValue("time_limit", float(remaining))
        h.run()
        iterations += 1
        status = highs_status(h)
        if status != "optimal":
            break
        lp_value = float(h.getInfo().objective_function_value)
        if lp_value >= value - RELATIVE_TOL * max(1.0, abs(value)):
            break  # no step promises descent: a critical point, certified by the LP
        proposal = builder.clip(np.array(h.getSolution().col_value)[builder.level_cols])
        new_value, new_values, new_grads = saa(proposal)
        step = 1.0
        while new_value >= value and step > 1 / 16:  # only when the LP is not a majoriser
            step /= 2
            proposal = builder.clip(levels + step * (proposal - levels))
            new_value, new_values, new_grads = saa(proposal)
        if new_value >= value:
            status = "stalled"
            break
        levels, value, values, grads = proposal, new_value, new_values, new_grads
        history.append(value)
        status = "iteration-limit"
    return levels, status, iterations, lp_value, history


def concave_columns(builder: Builder, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shipment columns whose own cost is positive (charged through tangents), their costs and SKUs."""
    shipments = (np.concatenate([c[c >= 0] for c in builder.shipments]) if builder.shipments
                 else np.zeros(0, np.int64))
    concave = shipments[cost[shipments] > 0]
    return concave, cost[concave], np.concatenate(builder.prog.sku)[concave]


def linearise(levels: np.ndarray, values: np.ndarray, grads: np.ndarray, concave: np.ndarray,
             gamma: np.ndarray, sku_of: np.ndarray, n_nodes: int, n_skus: int) -> tuple[np.ndarray, float]:
    """Slope ``(nodes, skus)`` and constant of ``sum gamma * [X(S_k) + dX/dS . (S - S_k)]``."""
    g = grads[concave]  # (m, nodes): each column's gradient over its SKU's levels
    slope = np.zeros((n_skus, n_nodes))
    np.add.at(slope, sku_of, gamma[:, None] * g)
    here = levels[:, sku_of].T  # (m, nodes): the current levels of each column's SKU
    return slope.T, float(gamma @ (values[concave] - (g * here).sum(axis=1)))


def polish(builder: Builder, levels: np.ndarray, deadline: float) -> tuple[np.ndarray, int]:
    """Move integer levels by one unit while that lowers the program's SAA cost; return levels, moves.

    For approximate integer programs only: there the cuts of a shared supplier's
    proportional, rounded-down sharing are not those of a convex function, so the
    procedure's stopping test can fire early.
    """
    cost, offset = builder.prog.objective("program")

    def saa(candidate: np.ndarray) -> float:
        return float(cost @ builder.evaluate(candidate)[0] + offset)

    best, moves = saa(levels), 0
    while time.perf_counter() < deadline:
        trials = []
        for index in np.ndindex(levels.shape):
            for step in (-1.0, 1.0):
                trial = levels.copy()
                trial[index] += step
                trial = builder.clip(trial)
                if not np.array_equal(trial, levels):
                    trials.append((saa(trial), trial))
        if not trials:
            break
        value, trial = min(trials, key=lambda pair: pair[0])
        if value >= best - RELATIVE_TOL * max(1.0, abs(best)):
            break
        best, levels, moves = value, trial, moves + 1
    return levels, moves
