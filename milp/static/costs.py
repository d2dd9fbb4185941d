"""The SAA program's costs: holding, pipeline, shortage (backlog or lost sales), per-unit and fixed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from milp.static.expressions import Affine, lagged

if TYPE_CHECKING:
    from milp.static.builder import Builder

__all__ = ["charge_costs", "fixed_costs", "sales_rule"]

def charge_costs(builder: Builder, k: int, init: np.ndarray, shipped: dict[int, Affine],
                 signal: dict[int, Affine], sales: dict[int, np.ndarray]) -> None:
    """Holding, pipeline, shortage, per-unit and fixed costs of SKU ``k``."""
    net, prog, paths = builder.net, builder.prog, builder.paths
    P, T = builder.P, builder.T
    order_first = builder.spec.timing == "order-first"
    nothing = Affine(np.zeros((P, T)))

    def charge(expr: Affine, scale: np.ndarray | float = 1.0) -> None:
        prog.charge(expr, scale * builder.measured, "measured")
        prog.charge(expr, scale * builder.charged, "program")

    for n in range(net.n_nodes):
        hold = net.holding_cost[n, k] * builder.hold_scale
        e_in = builder.in_arc.get(n)
        arrived_end = (builder.arrivals(shipped[e_in], e_in, same_period=True)[0] if e_in is not None
                       else nothing)
        if (n, k) in builder.streams:
            d = builder.streams[(n, k)]
            penalty = net.shortage_cost[d] * builder.short_scale
            arrived_sell = (builder.arrivals(shipped[e_in], e_in, same_period=order_first)[0]
                            if e_in is not None else nothing)
            if builder.lost:
                sold = prog.var(sales[n])
                new = sold - sold.shift(1)
                prog.constrain(new, lower=0.0, upper=paths.demand[:, :, d])
                prog.constrain(sold - arrived_sell, upper=float(init[n]))
                charge(Affine(paths.demand[:, :, d]) - new, penalty)
                charge(arrived_end - sold + float(init[n]), hold)
                sales_rule(builder, sales[n], arrived_sell, float(init[n]), paths.demand[:, :, d])
            else:
                demand = signal[n]
                need = demand - arrived_sell - float(init[n])  # backlog = max(0, need)
                where = np.zeros((P, T), bool)
                where[:, builder.w:] = True

                def backlog_rule(t: int, values: np.ndarray, grads: np.ndarray | None, need=need):
                    v, g = need.at(t, values, grads)
                    return np.maximum(v, 0.0), None if g is None else np.where((v > 0)[:, None], g, 0.0)

                backlog = prog.columns(0.0, np.inf, sku=k, where=where, rule=backlog_rule)
                b = prog.var(backlog)
                prog.constrain(b - need, lower=0.0, where=where)
                charge(b, penalty)
                charge(arrived_end - demand + b + float(init[n]), hold)  # on hand
        else:
            out = nothing
            for e in builder.out_arcs[n]:
                out = out + shipped[e]
            charge(arrived_end - out + float(init[n]), hold)
    for e in range(net.n_arcs):
        x = shipped[e]
        arrived_end = builder.arrivals(x, e, same_period=True)[0]
        charge(x - arrived_end, net.pipeline_cost[e] * builder.hold_scale)
        unit = net.unit_cost[e] + net.transport_cost[e] + net.operating_cost[net.customer[e]]
        if unit:
            charge(x - x.shift(1), unit)
    if k == 0 and np.any(net.fixed_cost > 0):
        charge(Affine(fixed_costs(builder)))


def sales_rule(builder: Builder, cols: np.ndarray, arrived: Affine, init: float, demand: np.ndarray) -> None:
    """Greedy sales: ``Sold[t] = min(Sold[t-1] + D[t], I0 + arrivals[t])``.

    ``demand-first`` orders read this period's sales, so sales are worked out
    before the period's shipments; ``order-first`` sales read this period's
    same-period arrivals, so after them.
    """
    prog = builder.prog
    sold = prog.var(cols)

    def rule(t: int, values: np.ndarray, grads: np.ndarray | None):
        if t > 0:
            before, before_grad = sold.at(t - 1, values, grads)
        else:
            before = np.zeros(builder.P)
            before_grad = None if grads is None else np.zeros((builder.P, grads.shape[1]))
        stock, stock_grad = arrived.at(t, values, grads)
        wanted = before + demand[:, t]
        short = init + stock < wanted
        value = np.where(short, init + stock, wanted)
        return value, None if grads is None else np.where(short[:, None], stock_grad, before_grad)

    if builder.spec.timing == "demand-first":
        prog.rules.insert(0, (cols, rule))
    else:
        prog.rules.append((cols, rule))


def fixed_costs(builder: Builder) -> np.ndarray:
    """``(P, T)`` fixed order costs: under base-stock an arc orders iff demand below it was seen."""
    net, demand = builder.net, builder.paths.demand
    lag = 1 if builder.spec.timing == "order-first" else 0
    cost = np.zeros((builder.P, builder.T))
    for e in np.flatnonzero(net.fixed_cost > 0):
        below = net.downstream[int(net.customer[e])][net.demand_node] > 0  # streams below the arc
        cost += net.fixed_cost[e] * (lagged(demand[:, :, below].sum(axis=2), lag, 0.0) > 0)
    return cost
