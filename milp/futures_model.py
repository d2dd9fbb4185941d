"""The two-stage window model of the stochastic planner: one block per sampled future.

:func:`build_futures_model` puts ``M`` copies of the deterministic window
model (:func:`milp.model.populate`) side by side, one Pyomo block per future,
and ties them together by non-anticipativity: the shipments of window
period 0 -- the orders placed now -- are the same in every future
(``here_and_now``), while every later shipment is recourse, chosen per
future. The objective is the mean of the futures' window costs, so the plan is
the sample-average approximation of the two-stage program

    min  E_xi [ cost(x_0, x_1..H-1(xi); xi) ]

over the ``M`` futures ``xi`` drawn by the scenario's own processes
(:mod:`scenarios.futures`). Each future has its own demand and arc availability
(mutable parameters, redrawn every period) and its own lead-time table
(structural, drawn once per run). With ``M = 1`` the planner uses
:func:`milp.model.build_model` itself: the deterministic planner, unchanged.

Setups are shared too, in every window period (a static-dynamic plan in the
sense of Bookbinder & Tan 1988: when to order is fixed now, how much is
recourse; ``setup_now``, ``moq_now``): with a binary per future and period the
branch and bound took 12-26 s a window on seasonal-grocery at ``M = 3``, while shared setups
keep the deterministic model's binaries. Every future keeps its echelon cover
inequalities (:mod:`milp.model_cover`): kept in future 0 only, the relaxation
loosened so much that a window at ``M = 3`` took 12-23 s instead of 3-4 s.

A two-stage program lets every later decision see its whole future, so in a
divergent network the warehouse's order now must cover each store's future
needs as if the stores' next orders were made knowing their demand: stock is
buffered twice. ``branches`` makes the program a three-stage tree instead:
window period 1's decisions are shared by the futures that agree on what is
seen before them (``stage_two``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyomo.environ as pyo

from milp.model import model_data, populate, safety_penalty_of, window_cost
from scenarios.network import Network

__all__ = ["build_futures_model", "future_blocks", "stage_two_groups"]


def build_futures_model(network: Network, horizon: int, futures: int, *, branches: int | None = None,
                        lead_tables: Sequence[np.ndarray | None] | None = None, integer: bool = False,
                        formulation: str = "tight", safety: str = "soft",
                        safety_penalty: float | None = None) -> pyo.ConcreteModel:
    """Build the two-stage model over ``futures`` sampled futures of ``horizon`` periods.

    :param network: the compiled scenario.
    :param horizon: window length ``H``.
    :param futures: number of futures ``M >= 1`` (blocks ``model.future[0..M-1]``).
    :param branches: ``B`` dividing ``M``, or ``None`` (``B = M``): a three-stage tree. Futures
        ``g M/B .. (g+1) M/B - 1`` share what is seen before window period 1's decision (the
        caller draws them so, :func:`stage_two_groups`) and so share that decision too: window
        period 1's shipments are recourse per group, not per future. ``B = M`` is the two-stage
        program.
    :param lead_tables: per future, the lead time ``(H, E)`` of a shipment sent in each window
        period on each arc (``None``: expected lead times, rounded).
    :param integer: whole shipment quantities.
    :param formulation: ``"tight"`` or ``"naive"`` (see :mod:`milp.model`).
    :param safety: ``"soft"`` or ``"hard"`` safety-stock targets.
    :param safety_penalty: cost per unit-period below a soft target.
    :return: the model; set each future's state with :func:`milp.model.set_state` on
        ``model.future[f]`` (:func:`future_blocks`).
    """
    leads = list(lead_tables) if lead_tables is not None else [None] * futures
    m = pyo.ConcreteModel(name=f"{network.spec.name}-H{horizon}-M{futures}")
    m.F = pyo.Set(initialize=range(futures), ordered=True)
    m.future = pyo.Block(m.F)
    for f in range(futures):
        populate(m.future[f], model_data(network, horizon, integer=integer, formulation=formulation,
                                         lead_times=leads[f], safety=safety))
    first = m.future[0]
    later = range(1, futures)
    m.here_and_now = pyo.Constraint(
        later, first.E, first.K, rule=lambda m, f, e, k: m.future[f].x[e, k, 0] == first.x[e, k, 0])
    m.setup_now = pyo.Constraint(
        later, first.SETUP, first.T, rule=lambda m, f, e, j: m.future[f].y[e, j] == first.y[e, j])
    m.moq_now = pyo.Constraint(
        later, first.MOQ, first.K, first.T,
        rule=lambda m, f, e, k, j: m.future[f].z[e, k, j] == first.z[e, k, j])
    leader = stage_two_groups(futures, branches)
    tied = [f for f in range(futures) if leader[f] != f]
    if horizon > 1:
        m.stage_two = pyo.Constraint(
            tied, first.E, first.K,
            rule=lambda m, f, e, k: m.future[f].x[e, k, 1] == m.future[int(leader[f])].x[e, k, 1])
    penalty = safety_penalty_of(network, safety_penalty)
    m.cost = pyo.Objective(expr=sum(window_cost(b, b.data, penalty) for b in future_blocks(m)) / futures,
                           sense=pyo.minimize)
    return m


def stage_two_groups(futures: int, branches: int | None) -> np.ndarray:
    """``(M,)`` the first future of each future's group: futures in a group share window period 1's decision.

    >>> stage_two_groups(6, 2).tolist()
    [0, 0, 0, 3, 3, 3]
    """
    branches = futures if branches is None else branches
    return np.arange(futures) // (futures // branches) * (futures // branches)


def future_blocks(model: pyo.Block) -> list[pyo.Block]:
    """The window blocks of a model: its futures, or the model itself when it has none."""
    future = getattr(model, "future", None)
    return [model] if future is None else [future[f] for f in model.F]
