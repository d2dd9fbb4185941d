"""The exact MILP's binaries: ``z = 1`` iff a supplier is short, tied to the levels by threshold families."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from milp.static.expressions import Affine

if TYPE_CHECKING:
    from milp.static.builder import Builder

__all__ = ["chain", "shortage_binaries", "supply_pieces", "threshold_families"]

def shortage_binaries(builder: Builder, n: int, k: int, n_out: int, where: np.ndarray, total: Affine,
                      requested: Affine, available: Affine, r_box: tuple, a_box: tuple) -> None:
    """``z = 1`` iff the supplier is short, so that ``total = min(R, A)`` exactly (big-M from bounds)."""
    prog = builder.prog
    big_r = np.maximum(r_box[1] - a_box[0], 0.0)  # R - min(R, A) <= big_r
    big_a = np.maximum(a_box[1] - r_box[0], 0.0)  # A - min(R, A) <= big_a

    def short(t: int, values: np.ndarray, grads: np.ndarray | None):
        gap = requested.at(t, values)[0] - available.at(t, values)[0]
        return (gap > 0).astype(float), None if grads is None else np.zeros((builder.P, grads.shape[1]))

    z = prog.columns((big_a <= 0).astype(float), (big_r > 0).astype(float), sku=k, where=where,
                     integer=True, rule=short)
    builder.n_binaries += int((where & (big_a > 0) & (big_r > 0)).sum())
    zz = prog.var(z)
    prog.constrain(total - requested + big_r * zz, lower=0.0, where=where)
    prog.constrain(total - available - big_a * zz, lower=-big_a, where=where)
    if n_out == 1 and builder.pieces.get(n) is not None:
        threshold_families(builder, k, z, where, requested, builder.pieces[n])
    else:
        chain(builder, z, where, requested - available)


def supply_pieces(builder: Builder, n: int, orders: dict[int, Affine],
                  init: np.ndarray) -> list[Affine] | None:
    """``A[n] = min_a P[a]``: node ``n``'s cumulative usable supply unrolled up its supply chain.

    With fixed lead times and one customer per ancestor, what ``n`` can ship by
    ``t`` is the least, over ``n`` and its ancestors ``a``, of the initial stock
    between them plus ``R[a]`` one chain of lead times earlier: each piece is
    affine in the levels. ``None`` where that does not hold.
    """
    e = builder.in_arc.get(n)
    if e is None:
        return None
    lead = builder.paths.lead_time[:, :, e]
    if lead.min() != lead.max() or lead.min() < 1:
        return None
    lag = int(lead.min())
    own = orders[n].shift(lag) + float(init[n])
    p = int(builder.net.supplier[e])
    if p < 0:
        return [own]
    if len(builder.out_arcs[p]) != 1 or builder.pieces.get(p) is None:
        return None
    return [own] + [piece.shift(lag) + float(init[n]) for piece in builder.pieces[p]]


def threshold_families(builder: Builder, k: int, z: np.ndarray, where: np.ndarray, requested: Affine,
                       pieces: list[Affine]) -> None:
    """Tie the shortage binaries to the levels through one ordered family per supply piece.

    ``z = 1`` iff some ``q[a] = 1``, ``q[a] = 1`` iff ``R - P[a] > 0``. Each ``R - P[a]`` is
    one affine function of the levels plus a number per cell (demand over a chain
    of lead times), so each family is a threshold on one level difference and is
    chained in the order of those numbers.
    """
    prog = builder.prog
    zz = prog.var(z)
    families = []
    for piece in pieces:
        gap = requested - piece
        g_lo, g_hi = prog.bounds(gap)
        if len(pieces) == 1:
            q = z
        else:
            def rule(t: int, values: np.ndarray, grads: np.ndarray | None, gap: Affine = gap):
                return ((gap.at(t, values)[0] > 0).astype(float),
                        None if grads is None else np.zeros((builder.P, grads.shape[1])))

            q = prog.columns((g_lo > 0).astype(float), (g_hi > 0).astype(float), sku=k, where=where,
                             integer=True, rule=rule)
            builder.n_binaries += int((where & (g_lo <= 0) & (g_hi > 0)).sum())
            prog.constrain(zz - prog.var(q), lower=0.0, where=where)
        qq = prog.var(q)
        up, down = np.maximum(g_hi, 0.0), np.maximum(-g_lo, 0.0)
        prog.constrain(gap - up * qq, upper=0.0, where=where)
        prog.constrain(gap - down * qq, lower=-down, where=where)
        families.append(qq)
        chain(builder, q, where, gap)
    if len(pieces) > 1:
        total = families[0]
        for qq in families[1:]:
            total = total + qq
        prog.constrain(total - zz, lower=0.0, where=where)


def chain(builder: Builder, z: np.ndarray, where: np.ndarray, gap: Affine) -> None:
    """``z[a] <= z[b]`` whenever ``gap`` is one affine function of the columns plus a number per cell.

    Then the binaries (``gap > 0``) are ordered by that number, for every choice of levels.
    """
    if not all(np.all(c[where] == c[where][0]) and np.all(v[where] == v[where][0])
               for c, v in gap.terms):
        return
    ids = z[where][np.argsort(gap.const[where], kind="stable")]
    if len(ids) > 1:
        builder.prog.order(ids[:-1], ids[1:])
