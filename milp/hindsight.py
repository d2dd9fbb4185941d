"""The hindsight (perfect-information) bound on one realised sample path.

For a path, :func:`hindsight_bound` solves :mod:`milp.model` over the whole
simulated horizon (warm-up included) with the realised demand, the realised
lead time of a shipment in each period (``SamplePaths.lead_time[p, t, e]``:
shipped in ``t``, it arrives at ``t + L``), arcs shut while disrupted, the
path's cost scales and the spec's initial state. The model is built with
``bound=True`` -- a relaxation of the simulator (continuous quantities, setups
that may cover several periods' shipments where the simulator can ship an
order late; see :mod:`milp.model`) -- and the solver's *dual bound* is used,
not its incumbent, so a time limit or a MIP gap never overstates it. So no
policy, anticipative or not, can cost less on that path than the bound:
``bound[p] <= run.total_cost[p].mean()`` for every policy's run on ``paths``.

Goodwill (unmet demand lowering later demand) is not modelled: the
realised base demand would overstate what a policy that loses goodwill
faces, so scenarios with goodwill are rejected.
"""

from __future__ import annotations

import numpy as np

from milp.model import build_model, dearer_upstream, require_timing, set_state
from milp.pulp_model import solve_pulp
from milp.solve import Solver, lp_bound
from scenarios.errors import SpecError
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.progress import Progress
from scenarios.spec import Spec

__all__ = ["hindsight_bound", "hindsight_model"]


def hindsight_model(spec: Spec, paths: SamplePaths, path: int, *, formulation: str | None = None,
                    network: Network | None = None):
    """The bound model of one path, its parameters set (see the module notes).

    :param spec: the scenario the paths were drawn for.
    :param paths: the sample paths.
    :param path: index of the path.
    :param formulation: ``"tight"`` or ``"naive"``; default ``"tight"``, or ``"naive"`` where
        holding costs more upstream than downstream (:func:`milp.model.dearer_upstream`),
        whose demand-based big-M could cut off a cheaper plan.
    :param network: a compiled ``Network(spec)`` to reuse.
    """
    net = network or Network(spec)
    if formulation is None:
        formulation = "naive" if dearer_upstream(net).any() else "tight"
    T = paths.n_periods
    model = build_model(net, T, formulation=formulation, lead_times=paths.lead_time[path], bound=True)
    set_state(model, on_hand=net.initial_inventory, demand=paths.demand[path].T,
              available=1.0 - paths.disrupted[path].T.astype(float),
              hold_scale=float(paths.holding_scale[path]), shortage_scale=float(paths.shortage_scale[path]))
    return model


def hindsight_bound(spec: Spec, paths: SamplePaths, *, time_limit: float = 60.0,
                    mip_gap: float = 1e-4, backend: str = "pyomo",
                    progress: Progress | None = None) -> np.ndarray:
    """Lower bound on any policy's cost per period on each path, ``(paths,)``.

    The cost is averaged over all ``paths.n_periods`` periods, warm-up
    included, so it compares with ``run.total_cost.mean(axis=1)``.

    :param spec: the scenario the paths were drawn for.
    :param paths: the sample paths.
    :param time_limit: seconds per path; on time-out the solver's bound so far is used.
    :param mip_gap: relative MIP gap (only tightens the bound; it is valid at any gap).
    :param backend: ``"pyomo"`` (persistent HiGHS, the solver's dual bound) or ``"pulp"``
        (the same model built with PuLP and solved to optimality: the cross-check).
    :param progress: told of every path solved, as ``hindsight bound on P paths``
        (:mod:`scenarios.progress`).
    :raises SpecError: paths drawn for another spec, a timing the model does not implement
        (``"orgym"``), a scenario with goodwill, an unknown backend, or (pulp) a path not
        solved to optimality.
    """
    paths.check(spec)
    require_timing(spec, "the hindsight bound")
    goodwill = [i for i, d in enumerate(spec.demands) if d.process.goodwill is not None]
    if goodwill:
        raise SpecError(f"demands[{goodwill[0]}].process.goodwill",
                        "the hindsight bound does not model goodwill (lost demand lowering later "
                        "demand), so it would not be a bound; remove goodwill to compute it")
    if backend not in ("pyomo", "pulp"):
        raise SpecError("backend", f"must be pyomo or pulp, got {backend!r}")
    net = Network(spec)
    out = np.empty(paths.n_paths)
    task = f"hindsight bound on {paths.n_paths} paths"
    if progress is not None:
        progress(task, 0, paths.n_paths)
    for p in range(paths.n_paths):
        if backend == "pulp":
            out[p] = solve_pulp(net, paths.n_periods, on_hand=net.initial_inventory,
                                demand=paths.demand[p].T, lead_times=paths.lead_time[p], bound=True,
                                hold_scale=float(paths.holding_scale[p]),
                                shortage_scale=float(paths.shortage_scale[p]),
                                available=1.0 - paths.disrupted[p].T.astype(float),
                                time_limit=time_limit) / paths.n_periods
        else:
            model = hindsight_model(spec, paths, p, network=net)
            stats = Solver(model, time_limit=time_limit, mip_gap=mip_gap).solve()
            bound = stats.bound
            if bound is None:  # no dual bound yet: the LP relaxation is one
                bound = lp_bound(model, time_limit=time_limit)
            out[p] = bound / paths.n_periods
        if progress is not None:
            progress(task, p + 1, paths.n_paths)
    return out
