"""A (MI)LP written in vectorised column and row families, with the policy simulated inside it."""

from __future__ import annotations

import numpy as np

from milp.static.expressions import MISSING, Affine, Rule

__all__ = ["Program"]

class Program:
    """Columns, rows and objectives of a (MI)LP, added in vectorised families.

    A column family may carry a :data:`Rule` giving its value period by period from
    earlier columns: :meth:`evaluate` then simulates the policy inside the program,
    with forward-mode gradients with respect to the levels (per SKU, one entry per node).
    """

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = shape
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.integer: list[np.ndarray] = []
        self.sku: list[np.ndarray] = []
        self.path: list[np.ndarray] = []  # the path of each column (-1: a level)
        self.n_cols = 0
        self.rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.row_lo: list[np.ndarray] = []
        self.row_hi: list[np.ndarray] = []
        self.n_rows = 0
        self.cost: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.offset: dict[str, float] = {}
        self.rules: list[tuple[np.ndarray, Rule]] = []

    # columns ------------------------------------------------------------------------------
    def columns(self, lo: np.ndarray | float, hi: np.ndarray | float, *, sku: int,
                where: np.ndarray | None = None, integer: bool = False, rule: Rule | None = None,
                first: bool = False) -> np.ndarray:
        """New columns on the cells ``where`` (default all); returns their indices ``(P, T)``.

        :param first: apply the rule before the rules already registered (same period).
        """
        where = np.ones(self.shape, bool) if where is None else where
        n = int(where.sum())
        cols = np.full(self.shape, MISSING, dtype=np.int64)
        cols[where] = self.n_cols + np.arange(n)
        self.lo.append(np.broadcast_to(lo, self.shape)[where].astype(float))
        self.hi.append(np.broadcast_to(hi, self.shape)[where].astype(float))
        self.integer.append(np.full(n, integer))
        self.sku.append(np.full(n, sku))
        self.path.append(np.nonzero(where)[0])
        self.n_cols += n
        if rule is not None:
            self.rules.insert(0 if first else len(self.rules), (cols, rule))
        return cols

    def scalar(self, lo: float, hi: float, *, sku: int, integer: bool = False) -> int:
        """One column (a level)."""
        self.lo.append(np.array([lo], float))
        self.hi.append(np.array([hi], float))
        self.integer.append(np.array([integer]))
        self.sku.append(np.array([sku]))
        self.path.append(np.array([-1]))
        self.n_cols += 1
        return self.n_cols - 1

    def var(self, cols: np.ndarray) -> Affine:
        """The expression of a column family."""
        return Affine(np.zeros(self.shape), [(cols, np.ones(self.shape))])

    def level(self, col: int) -> Affine:
        """A scalar column broadcast over the grid."""
        return Affine(np.zeros(self.shape), [(np.full(self.shape, col), np.ones(self.shape))])

    def bounds(self, expr: Affine) -> tuple[np.ndarray, np.ndarray]:
        """Interval bounds of ``expr`` from the column bounds."""
        lo, hi = np.concatenate(self.lo), np.concatenate(self.hi)
        low, high = expr.const.copy(), expr.const.copy()
        for cols, coefs in expr.terms:
            ok = cols >= 0
            c = np.maximum(cols, 0)
            a, b = coefs * lo[c], coefs * hi[c]
            low += np.where(ok, np.minimum(a, b), 0.0)
            high += np.where(ok, np.maximum(a, b), 0.0)
        return low, high

    # rows ---------------------------------------------------------------------------------
    def constrain(self, expr: Affine, lower: np.ndarray | float = -np.inf,
                  upper: np.ndarray | float = np.inf, where: np.ndarray | None = None) -> None:
        """Rows ``lower <= expr <= upper`` on the cells ``where``."""
        where = np.ones(self.shape, bool) if where is None else where
        n = int(where.sum())
        if n == 0:
            return
        row = np.full(self.shape, -1, dtype=np.int64)
        row[where] = self.n_rows + np.arange(n)
        for cols, coefs in expr.terms:
            self._check_window(cols, where)
            ok = where & (cols >= 0) & (coefs != 0)
            self.rows.append((row[ok], cols[ok], coefs[ok]))
        const = expr.const[where]
        self.row_lo.append(np.broadcast_to(lower, self.shape)[where] - const)
        self.row_hi.append(np.broadcast_to(upper, self.shape)[where] - const)
        self.n_rows += n

    def order(self, first: np.ndarray, second: np.ndarray) -> None:
        """Rows ``first[i] <= second[i]`` between columns."""
        rows = self.n_rows + np.arange(len(first))
        self.rows.append((rows, first, np.ones(len(first))))
        self.rows.append((rows, second, -np.ones(len(first))))
        self.row_lo.append(np.full(len(first), -np.inf))
        self.row_hi.append(np.zeros(len(first)))
        self.n_rows += len(first)

    def charge(self, expr: Affine, weight: np.ndarray, objective: str) -> None:
        """Add ``sum(weight * expr)`` to the named objective."""
        if objective not in self.cost:
            self.cost[objective], self.offset[objective] = [], 0.0
        for cols, coefs in expr.terms:
            self._check_window(cols, weight != 0)
            ok = (weight != 0) & (cols >= 0)
            self.cost[objective].append((cols[ok], (coefs * weight)[ok]))
        self.offset[objective] += float((expr.const * weight).sum())

    @staticmethod
    def _check_window(cols: np.ndarray, where: np.ndarray) -> None:
        if np.any(where & (cols == MISSING)):
            raise RuntimeError("static program reads a variable outside its window (a bug)")

    def objective(self, name: str) -> tuple[np.ndarray, float]:
        """Dense cost vector and offset of the named objective."""
        out = np.zeros(self.n_cols)
        for cols, values in self.cost.get(name, []):
            np.add.at(out, cols, values)
        return out, self.offset.get(name, 0.0)

    # the policy simulated inside the program ------------------------------------------------
    def evaluate(self, levels: dict[int, tuple[float, int]], n_nodes: int,
                 gradients: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """Column values (and gradients ``(columns, nodes)``) at the given levels.

        :param levels: level column -> ``(value, node)``.
        """
        values = np.zeros(self.n_cols)
        grads = np.zeros((self.n_cols, n_nodes)) if gradients else None
        for col, (v, node) in levels.items():
            values[col] = v
            if grads is not None:
                grads[col, node] = 1.0
        for t in range(self.shape[1]):
            for cols, rule in self.rules:
                c = cols[:, t]
                here = c >= 0
                if here.any():
                    v, g = rule(t, values, grads)
                    values[c[here]] = v[here]
                    if grads is not None:
                        grads[c[here]] = g[here]
        return values, grads
