"""Affine expressions over the ``(paths, periods)`` grid, and (value, gradient) pairs.

Cumulative quantities of the program are affine in its columns (the levels and
the per-cell columns): :class:`Affine` holds them as a constant plus weighted
column families, shifts them in time and evaluates them, with forward-mode
gradients, inside the program's own simulation.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["MISSING", "ZERO", "Affine", "Rule", "lagged", "sub_pairs", "total_pairs"]

#: a column index for "outside the variable's window": must never be read
MISSING = -2
#: a column index for "before period 0": the cumulative quantity is 0
ZERO = -1


class Affine:
    """Affine expressions over the ``(paths, periods)`` grid: ``const + sum(coef * column)``.

    ``terms`` holds ``(cols, coefs)`` pairs of ``(paths, periods)`` arrays; a column of
    :data:`ZERO` contributes nothing (a cumulative quantity before period 0), one of
    :data:`MISSING` must not be read (outside the variable's window).
    """

    __slots__ = ("const", "terms")
    __array_ufunc__ = None  # ``array * expr`` calls ``expr.__rmul__``

    def __init__(self, const: np.ndarray, terms: list[tuple[np.ndarray, np.ndarray]] | None = None):
        self.const = const
        self.terms = terms or []

    def __add__(self, other: Affine | np.ndarray | float) -> Affine:
        if isinstance(other, Affine):
            return Affine(self.const + other.const, self.terms + other.terms)
        return Affine(self.const + other, self.terms)

    def __sub__(self, other: Affine | np.ndarray | float) -> Affine:
        return self + (-1.0) * other if isinstance(other, Affine) else self + (-other)

    def __rmul__(self, factor: np.ndarray | float) -> Affine:
        return Affine(factor * self.const, [(c, factor * v) for c, v in self.terms])

    def shift(self, lag: int) -> Affine:
        """The expression ``lag`` periods earlier (cumulative quantities are 0 before period 0)."""
        if lag == 0:
            return self
        return Affine(lagged(self.const, lag, 0.0),
                       [(lagged(c, lag, ZERO), lagged(v, lag, 0.0)) for c, v in self.terms])

    def at(self, t: int, values: np.ndarray, grads: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray | None]:
        """Value ``(paths,)`` in period ``t`` and, with ``grads``, its gradient ``(paths, nodes)``."""
        out = self.const[:, t].copy()
        grad = None if grads is None else np.zeros((out.shape[0], grads.shape[1]))
        for cols, coefs in self.terms:
            c = cols[:, t]
            w = np.where(c >= 0, coefs[:, t], 0.0)
            c = np.maximum(c, 0)
            out += w * values[c]
            if grads is not None:
                grad += w[:, None] * grads[c]
        return out, grad


def lagged(a: np.ndarray, lag: int, fill: float) -> np.ndarray:
    """``a`` moved ``lag`` periods later along axis 1, ``fill`` in front."""
    out = np.full_like(a, fill)
    out[:, lag:] = a[:, :a.shape[1] - lag]
    return out


Rule = Callable[[int, np.ndarray, np.ndarray | None], tuple[np.ndarray, np.ndarray | None]]


def sub_pairs(a: tuple, b: tuple) -> tuple:
    """Difference of ``(value, gradient)`` pairs."""
    return a[0] - b[0], None if a[1] is None else a[1] - b[1]


def total_pairs(pairs) -> tuple:
    """Sum of ``(value, gradient)`` pairs."""
    pairs = list(pairs)
    value = sum(p[0] for p in pairs)
    grad = None if pairs[0][1] is None else sum(p[1] for p in pairs)
    return value, grad
