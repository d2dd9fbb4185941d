"""Orders and shipments of the SAA program: the true orders, ``X <= min(R, A)`` and shared suppliers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from milp.static.binaries import shortage_binaries
from milp.static.expressions import Affine, Rule, sub_pairs, total_pairs

if TYPE_CHECKING:
    from milp.static.builder import Builder

__all__ = ["ship", "split", "true_orders"]

def true_orders(builder: Builder, k: int, orders: dict[int, Affine], seen: dict[int, Affine],
                init: np.ndarray) -> dict[int, Affine]:
    """Columns for the program's simulation only: the cumulative orders the simulator places.

    ``R[t] = max(R[t-1], S - I0 + customers' R[t] + demand seen)`` (echelon: ``S - E0 + C``):
    order-up-to with no negative orders, so a level below the initial stock orders nothing
    until demand has used the excess. They equal the affine ``orders`` from the rows' window on.
    """
    prog, net = builder.prog, builder.net
    placed: dict[int, Affine] = {}
    for n in builder.spec.downstream_order():  # customers first
        if n not in builder.in_arc:
            continue
        if builder.family == "echelon-base-stock":
            affine = orders[n]
        else:
            affine = prog.level(int(builder.level_cols[n, k])) - float(init[n])
            for c in net.children[n]:
                affine = affine + placed[c]
            if n in seen:
                affine = affine + seen[n]
        mine: dict[str, Affine] = {}

        def rule(t: int, values: np.ndarray, grads: np.ndarray | None, affine=affine, mine=mine):
            a, a_grad = affine.at(t, values, grads)
            if t == 0:
                p = np.zeros_like(a)
                p_grad = None if grads is None else np.zeros_like(a_grad)
            else:
                p, p_grad = mine["R"].at(t - 1, values, grads)
            up = a > p
            return np.where(up, a, p), None if grads is None else np.where(up[:, None], a_grad, p_grad)

        mine["R"] = placed[n] = prog.var(prog.columns(-np.inf, np.inf, sku=k, rule=rule))
    return placed


def ship(builder: Builder, n: int, k: int, outs: list[int],
         orders: tuple[dict[int, Affine], dict[int, Affine]], available: tuple[Affine, Affine],
         a_lo: np.ndarray, a_hi: np.ndarray, shipped: dict[int, Affine]) -> None:
    """``sum X[e] <= min(sum R[e], A)``; with binaries, ``=`` (exact for one customer).

    ``orders`` and ``available`` come in pairs: what the rows read (affine in the levels,
    the true values from the rows' window on) and what the rules read (true from period 0).
    """
    net, prog = builder.net, builder.prog
    orders, placed = orders
    available, usable = available
    where = np.zeros((builder.P, builder.T), bool)  # rows: where the affine orders are the true ones
    where[:, builder.start[outs[0]]:] = True
    cells = np.ones_like(where) if builder.from_start else where  # columns
    requested = orders[int(net.customer[outs[0]])]
    wanted = placed[int(net.customer[outs[0]])]
    for e in outs[1:]:
        requested = requested + orders[int(net.customer[e])]
        wanted = wanted + placed[int(net.customer[e])]
    r_lo, r_hi = prog.bounds(requested)
    x_lo, x_hi = np.minimum(r_lo, a_lo), np.minimum(r_hi, a_hi)
    if len(outs) == 1:
        def single(t: int, values: np.ndarray, grads: np.ndarray | None):
            r, r_grad = wanted.at(t, values, grads)
            a, a_grad = usable.at(t, values, grads)
            short = r > a
            return np.where(short, a, r), (None if grads is None else
                                           np.where(short[:, None], a_grad, r_grad))

        x = prog.columns(x_lo, x_hi, sku=k, where=cells, rule=single)
        builder.shipments.append(x)
        total = prog.var(x)
        shipped[outs[0]] = total
    else:
        total = split(builder, k, outs, orders, placed, usable, where, x_hi, shipped)
    prog.constrain(total - requested, upper=0.0, where=where)
    prog.constrain(total - available, upper=0.0, where=where)
    if builder.binaries:
        shortage_binaries(builder, n, k, len(outs), where, total, requested, available,
                                (r_lo, r_hi), (a_lo, a_hi))


def split(builder: Builder, k: int, outs: list[int], orders: dict[int, Affine], placed: dict[int, Affine],
          usable: Affine, where: np.ndarray, x_hi: np.ndarray, shipped: dict[int, Affine]) -> Affine:
    """Shipments per customer: each within its requests, never decreasing (a relaxation).

    Their rule is the simulator's proportional sharing (shares rounded down in integer
    specs), from period 0 on the true orders ``placed`` and the stock ``usable``.
    """
    net, prog = builder.net, builder.prog
    later = where.copy()
    later[:, builder.start[outs[0]]] = False
    cols: dict[int, np.ndarray] = {}
    memo: dict[str, object] = {}

    def share(t: int, values: np.ndarray, grads: np.ndarray | None) -> None:
        prev = {f: (shipped[f].at(t - 1, values, grads) if t > 0 else
                    (np.zeros(builder.P), None if grads is None else np.zeros((builder.P, grads.shape[1]))))
                for f in outs}
        req = {}
        for f in outs:
            r, r_grad = sub_pairs(placed[int(net.customer[f])].at(t, values, grads), prev[f])
            req[f] = (np.maximum(r, 0.0),
                      None if r_grad is None else np.where((r > 0)[:, None], r_grad, 0.0))
        owed = total_pairs(req.values())
        stock = sub_pairs(usable.at(t, values, grads), total_pairs(prev.values()))
        short = owed[0] > stock[0]
        factor = np.where(short, stock[0] / np.maximum(owed[0], 1e-12), 1.0)
        out = {}
        for f in outs:
            value = prev[f][0] + req[f][0] * factor
            if builder.spec.integer:  # the simulator rounds each share down
                value = prev[f][0] + np.floor(req[f][0] * factor + 1e-9)
            grad = None
            if grads is not None:  # quotient rule where the supplier is short
                owed_sq = np.maximum(owed[0], 1e-12)[:, None] ** 2
                d_factor = np.where(short[:, None],
                                    (stock[1] * owed[0][:, None] - stock[0][:, None] * owed[1]) / owed_sq,
                                    0.0)
                grad = prev[f][1] + req[f][1] * factor[:, None] + req[f][0][:, None] * d_factor
            out[f] = (value, grad)
        memo.update(t=t, out=out)

    def rule_for(e: int) -> Rule:
        def rule(t: int, values: np.ndarray, grads: np.ndarray | None):
            if memo.get("t") != t:
                share(t, values, grads)
            return memo["out"][e]
        return rule

    total = None
    for e in outs:
        cols[e] = prog.columns(-np.inf, x_hi, sku=k, rule=rule_for(e))
        builder.shipments.append(cols[e])
        x = prog.var(cols[e])
        shipped[e] = x
        prog.constrain(x - orders[int(net.customer[e])], upper=0.0, where=where)
        prog.constrain(x - x.shift(1), lower=0.0, where=later)
        total = x if total is None else total + x
    return total
