"""The program in HiGHS (through ``highspy``): the full (MI)LP, the Benders master LP, the exact MILP."""

from __future__ import annotations

import highspy
import numpy as np
import scipy.sparse as sp

from milp.static.builder import Builder
from milp.static.program import Program

__all__ = ["Cuts", "highs_model", "highs_status", "solve_milp"]

def highs_model(prog: Program, cost: np.ndarray, offset: float, integer: np.ndarray,
           threads: int | None) -> highspy.Highs:
    """A HiGHS instance holding the program (built once; objectives change in place)."""
    rows = np.concatenate([r for r, _, _ in prog.rows])
    cols = np.concatenate([c for _, c, _ in prog.rows])
    vals = np.concatenate([v for _, _, v in prog.rows])
    matrix = sp.csc_matrix((vals, (rows, cols)), shape=(prog.n_rows, prog.n_cols))
    matrix.sum_duplicates()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = prog.n_cols, prog.n_rows
    lp.col_cost_ = cost
    lp.offset_ = offset
    lp.col_lower_ = np.concatenate(prog.lo)
    lp.col_upper_ = np.concatenate(prog.hi)
    lp.row_lower_ = np.concatenate(prog.row_lo)
    lp.row_upper_ = np.concatenate(prog.row_hi)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data
    if integer.any():
        lp.integrality_ = np.where(integer, highspy.HighsVarType.kInteger,
                                   highspy.HighsVarType.kContinuous).tolist()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    h.passModel(lp)
    return h


def highs_status(h: highspy.Highs) -> str:
    """The HiGHS model status as a short name."""
    status = h.getModelStatus()
    names = {highspy.HighsModelStatus.kOptimal: "optimal",
             highspy.HighsModelStatus.kTimeLimit: "time-limit",
             highspy.HighsModelStatus.kInfeasible: "infeasible"}
    return names.get(status, h.modelStatusToString(status).lower().replace(" ", "-"))


class Cuts:
    """The master LP of the multi-cut L-shaped method over the levels (Van Slyke & Wets 1969).

    ``min  lin . S + sum_p theta_p``  over the level box and the order-up-to rows, with
    ``theta_p >= g_p(S_j) + s_pj . (S - S_j)`` for every evaluated ``S_j``: a lower model of
    ``g = sum_p g_p``, convex in the levels, that tightens with every evaluation.
    """

    def __init__(self, builder: Builder, threads: int | None) -> None:
        net = builder.net
        self.n_levels = net.n_nodes * net.n_skus
        self.n_paths = builder.P
        index = {int(c): i for i, c in enumerate(builder.level_cols.ravel())}
        self.h = h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("random_seed", 0)
        if threads is not None:
            h.setOptionValue("threads", int(threads))
        n = self.n_levels + self.n_paths
        h.addVars(n, np.concatenate([builder.lo.ravel(), np.full(self.n_paths, -highspy.kHighsInf)]),
                  np.concatenate([builder.hi.ravel(), np.full(self.n_paths, highspy.kHighsInf)]))
        if builder.spec.integer:
            h.changeColsIntegrality(self.n_levels, np.arange(self.n_levels, dtype=np.int32),
                                    np.full(self.n_levels, highspy.HighsVarType.kInteger))
        for _, _, orders, t0 in builder.order_up_to:  # R[t0] >= 0 on every path: linear in the levels
            coef = np.zeros((self.n_paths, n))
            for cols, coefs in orders.terms:
                c, w = cols[:, t0], coefs[:, t0]
                for p in np.flatnonzero(c >= 0):
                    if int(c[p]) not in index:
                        raise RuntimeError("order-up-to rows must read levels only (a bug)")
                    coef[p, index[int(c[p])]] += w[p]
            self._add_rows(sp.csr_matrix(coef), -orders.const[:, t0])

    def _add_rows(self, matrix: sp.csr_matrix, lower: np.ndarray) -> None:
        """Rows ``matrix . (S, theta) >= lower``."""
        self.h.addRows(matrix.shape[0], lower, np.full(matrix.shape[0], highspy.kHighsInf), matrix.nnz,
                       matrix.indptr.astype(np.int32), matrix.indices.astype(np.int32), matrix.data)

    def add(self, levels: np.ndarray, values: np.ndarray, slopes: np.ndarray) -> None:
        """Cuts ``theta_p - s_p . S >= g_p(S_j) - s_p . S_j`` from one evaluation.

        :param values: ``(paths,)`` ``g_p`` at ``levels``; ``slopes``: ``(paths, levels)``.
        """
        theta = sp.identity(self.n_paths, format="csr")
        self._add_rows(sp.hstack([sp.csr_matrix(-slopes), theta], format="csr"),
                       values - slopes @ levels.ravel())

    def solve(self, linear: np.ndarray, offset: float, time_limit: float) -> tuple[str, np.ndarray, float]:
        """Minimise the model plus ``linear . S + offset``; return status, levels, model value."""
        n = self.n_levels + self.n_paths
        costs = np.concatenate([linear, np.ones(self.n_paths)])
        self.h.changeColsCost(n, np.arange(n, dtype=np.int32), costs)
        self.h.changeObjectiveOffset(float(offset))
        self.h.setOptionValue("time_limit", float(max(time_limit, 1e-3)))
        self.h.run()
        status = highs_status(self.h)
        if status != "optimal":
            return status, np.zeros(self.n_levels), float("nan")
        x = np.array(self.h.getSolution().col_value)
        return status, x[:self.n_levels], float(self.h.getInfo().objective_function_value)


def solve_milp(builder: Builder, start: np.ndarray, time_limit: float, mip_gap: float,
          threads: int | None) -> tuple[np.ndarray, str, float, float]:
    """The exact MILP, started from ``start``; returns levels, status, objective and gap."""
    prog = builder.prog
    cost, offset = prog.objective("program")
    h = highs_model(prog, cost, offset, np.concatenate(prog.integer), threads)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    values, _ = builder.evaluate(start)
    solution = highspy.HighsSolution()
    solution.col_value = values.tolist()
    solution.value_valid = True
    h.setSolution(solution)
    h.run()
    status = highs_status(h)
    found = h.getSolution()
    columns = np.array(found.col_value) if found.value_valid else values
    levels = builder.clip(columns[builder.level_cols])
    info = h.getInfo()
    return levels, status, float(info.objective_function_value), float(info.mip_gap)
