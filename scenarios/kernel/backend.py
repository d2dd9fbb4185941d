"""Which simulator backend runs a simulation, and the compiled one's bridge to the simulator.

:func:`choose` picks ``"kernel"`` (the compiled period step of
:mod:`scenarios.kernel.step`) whenever it applies, else ``"numpy"`` (the
reference in :mod:`scenarios.simulator`), and says why. The kernel covers every
feature the numpy simulator models; what falls back to numpy:

* ``record=True`` -- the per-node and per-arc trace is kept by the reference only;
* under ``auto``, batches of :data:`LARGE_BATCH` path-periods or more, where the kernel
  was measured no faster (the tuner's batches: slower);
* numba not installed (it is a dependency; a stripped install still works);
* ``ECHELON_BACKEND=numpy`` in the environment (``kernel``, ``auto`` are the others;
  ``kernel`` still falls back, with the reason, where the kernel cannot run).

:class:`Bridge` holds the simulator's arrays as the kernel's tuples and calls it.
Compiled code is cached on disk by numba (``cache=True``: ``__pycache__`` beside
these modules, or numba's user-wide cache when that is read-only; ``NUMBA_CACHE_DIR``
moves it); the first run after an install compiles for a while, and says so.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from scenarios.simulator import Simulator

__all__ = ["LARGE_BATCH", "VARIABLE", "Bridge", "checked_orders", "choose", "compile_seconds"]

VARIABLE = "ECHELON_BACKEND"
_CHOICES = ("auto", "kernel", "numpy")
_NOTICE_AFTER = 1.0  # seconds: a call taking longer than this the first time is compiling
_warm: set[str] = set()
_entries: dict[tuple, Callable[..., Any]] = {}
_noticed: list[bool] = []
_compile_seconds: dict[str, float] = {}


#: ``auto`` runs batches of at least this many path-periods on the numpy reference: measured on
#: 2026-12-08 (bench/simulator.py), the kernel is 5-24x numpy up to 64 paths but only 1.8-2.4x at
#: 1024 and half as fast in the tuner's large batches (serial-3, 400 paths, 139 candidates).
LARGE_BATCH = 65_536


def choose(record: bool, path_periods: int = 0) -> tuple[str, str]:
    """``(backend, reason)`` for a simulation; ``backend`` is ``"kernel"`` or ``"numpy"``.

    :param record: the caller wants the per-node trace (numpy only).
    :param path_periods: paths times periods of the run (``auto`` keeps large batches on numpy).
    :raises ValueError: ``ECHELON_BACKEND`` is not ``auto``, ``kernel`` or ``numpy``.
    """
    wanted = os.environ.get(VARIABLE, "auto").strip().lower() or "auto"
    if wanted not in _CHOICES:
        raise ValueError(f"{VARIABLE} must be one of {', '.join(_CHOICES)}, got {wanted!r}")
    if wanted == "numpy":
        return "numpy", f"{VARIABLE}=numpy"
    if record:
        return "numpy", "record=True: the per-node trace is kept by the numpy reference"
    if wanted == "auto" and path_periods >= LARGE_BATCH:
        return "numpy", (f"{VARIABLE}=auto: {path_periods} path-periods >= {LARGE_BATCH}, where the numpy "
                         "reference is about as fast (ECHELON_BACKEND=kernel forces the kernel)")
    try:
        import numba  # noqa: F401
    except ImportError:
        return "numpy", "numba is not installed"
    return "kernel", f"{VARIABLE}={wanted}: compiled period step"


def compile_seconds() -> dict[str, float]:
    """Seconds the first call of each kernel entry point took in this process (compiling or loading)."""
    return dict(_compile_seconds)


def checked_orders(orders: Any, sim: Simulator, t: int) -> np.ndarray:
    """A policy's orders as floats ``(P, E, K)``, for either backend.

    :raises ValueError: a wrong shape or a non-finite order, naming the policy.
    """
    net = sim.network
    shape = (sim.n_paths, net.n_arcs, net.n_skus)
    orders = np.asarray(orders, dtype=float)
    if orders.shape != shape:
        raise ValueError(f"policy {sim.policy_name!r} returned orders shaped {orders.shape}, "
                         f"expected (paths, arcs, skus) = {shape}")
    if not np.isfinite(orders).all():
        raise ValueError(f"policy {sim.policy_name!r} returned non-finite orders in period {t}")
    return orders


def _fingerprint(args: tuple) -> tuple:
    """What decides numba's types of ``args``: dtype, ndim, layout, writeability; far cheaper than typeof."""
    out = []
    for a in args:
        if isinstance(a, np.ndarray):
            out.append((a.dtype.num, a.ndim, a.flags.c_contiguous, a.flags.writeable))
        elif isinstance(a, tuple):
            out.append(_fingerprint(a))
        else:
            out.append(type(a))
    return tuple(out)


def _call(name: str, fn: Any, *args: Any) -> Any:
    """Call a compiled entry point straight, skipping numba's dispatch (typing tuples of arrays is slow).

    The first call of each argument layout goes through the dispatcher, which compiles (or loads
    from the cache); the first one in the process prints a note if it takes a while.
    """
    key = (name, _fingerprint(args))
    entry = _entries.get(key)
    if entry is not None:
        return entry(*args)
    started = time.perf_counter()
    note = threading.Timer(_NOTICE_AFTER, _notice)
    note.daemon = True
    if name not in _warm:
        note.start()
    try:
        result = fn(*args)
    finally:
        note.cancel()
    if name not in _warm:
        _warm.add(name)
        _compile_seconds[name] = time.perf_counter() - started
    overload = getattr(fn, "overloads", {}).get(tuple(_typeof(a) for a in args))
    if overload is not None:
        _entries[key] = overload.entry_point
    return result


def _notice() -> None:
    """Say once per process that the kernel is compiling (the first run after an install)."""
    if not _noticed:
        _noticed.append(True)
        print("echelon: compiling the simulation kernel (first run after an install, up to a minute; "
              "cached afterwards) ...", file=sys.stderr, flush=True)


def _typeof(value: Any) -> Any:
    from numba import typeof

    return typeof(value)


def _c(a: np.ndarray, dtype: type) -> np.ndarray:
    """C-contiguous, writeable, of ``dtype``: so every simulation has the same kernel types."""
    out = np.ascontiguousarray(a, dtype=dtype)
    return out if out.flags.writeable else out.copy()


class Bridge:
    """The simulator's spec, paths and state as the kernel's argument tuples.

    :param sim: a :class:`~scenarios.simulator.Simulator` (its flags and arrays are read once;
        the state arrays are passed anew at every call, as the simulator may replace them).
    """

    def __init__(self, sim: Simulator) -> None:
        from scenarios.kernel import step

        self.step = step
        net, spec, paths = sim.network, sim.spec, sim.paths
        lead = sim._fixed_lead
        self.m = (
            _c(net.supplier, np.int64), _c(net.customer, np.int64), _c(net.external, np.bool_),
            _c(net.capacity, float), _c(net.moq, float), _c(net.unit_cost, float), _c(net.fixed_cost, float),
            _c(net.transport_cost, float), _c(net.operating_cost[net.customer], float),
            _c(net.pipeline_cost, float), _c(sim._unfilled_cost, float),
            _c(net.yield_rate[net.customer], float), _c(sim._prio_alloc, np.bool_),
            _c(net.queue_matrix, float),
            _c(np.zeros(net.n_arcs) if lead is None else lead, np.int64),
            _c(net.storage_capacity, float), _c(net.production_capacity, float), _c(net.holding_cost, float),
            _c(net.waste_cost, float), _c(net.perishable, np.bool_), _c(net.fresh_bucket, np.int64),
            _c(net.demand_node, np.int64), _c(net.demand_sku, np.int64), _c(net.shortage_cost, float),
            _c(net.price[net.demand_node, net.demand_sku], float), _c(sim._gw_streams, np.bool_),
            _c(sim._gw_sens, float), _c(sim._gw_rec, float), _c(sim._gw_floor, float),
            _c([spec.budget if spec.budget is not None else 0.0], float), _c(sim._integer_stream, np.bool_),
        )
        flags = np.zeros(step.N_FLAGS, dtype=np.int64)
        flags[step.F_TIMING] = ("order-first", "demand-first", "orgym").index(spec.timing)
        for index, on in ((step.F_INTEGER, net.integer), (step.F_BACKLOG, net.backlog),
                          (step.F_INTERNAL_BACKLOG, net.internal_backlog), (step.F_MOQ, sim._has_moq),
                          (step.F_STORAGE, sim._has_storage_cap), (step.F_PROD_CAP, sim._has_prod_cap),
                          (step.F_BUDGET, spec.budget is not None),
                          (step.F_GOODWILL, sim._gw_streams.any()), (step.F_KPI, sim.kpi_flows),
                          (step.F_FIXED_LEAD, lead is not None), (step.F_PERISHABLE, net.perishable.any()),
                          (step.F_PRIO_ALLOC, sim._prio_alloc.any()), (step.F_ARC_CAP, sim._has_arc_cap)):
            flags[index] = int(bool(on))
        self.fl = flags
        self.rp = (_c(paths.demand, float), _c(paths.rounding, float), _c(paths.lead_time, np.int64),
                   _c(paths.disrupted, np.bool_), _c(paths.holding_scale, float),
                   _c(paths.shortage_scale, float))
        self.sim = sim
        self.work = step.workspace(sim.n_paths, net.n_nodes, net.n_skus, net.n_arcs)

    def _state(self, fresh: bool) -> tuple:
        """The state tuple; ``fresh``: replace the small arrays the numpy step replaces by new ones."""
        state = self.sim.state
        if fresh:  # the reference assigns new arrays: a policy keeping last period's must see it unchanged
            for name in ("owed", "backlog", "goodwill", "last_demand"):
                setattr(state, name, getattr(state, name).copy())
        return (state.on_hand, state.pipeline, state.in_transit, state.owed, state.backlog,
                state.goodwill, state.last_demand)

    def begin(self, t: int) -> None:
        """Receive (and serve, demand-first) on every path: ``Simulator.begin_period``'s work."""
        sim = self.sim
        _call("begin", self.step.begin_all, t, self.m, self.fl, self.rp, self._state(True),
              sim._cost_block, sim._flow_block, self.work)

    def end(self, t: int, orders: np.ndarray) -> None:
        """Place ``orders`` ``(P, E, K)`` (checked) and finish period ``t`` on every path."""
        sim = self.sim
        _call("end", self.step.end_all, t, _c(orders, float).copy(), self.m, self.fl, self.rp,
              self._state(True), sim._cost_block, sim._flow_block, self.work)

    def run(self, policy: Any, t0: int, t1: int) -> bool:
        """Periods ``t0`` to ``t1 - 1`` under ``policy`` in one compiled call; False if not classical."""
        from scenarios.kernel.policies import PARALLEL_WORK, compiled_rule, run_policy, run_serial

        sim = self.sim
        rule = compiled_rule(policy, sim.network, sim.n_paths)
        if rule is None:
            return False
        # numba's default thread pool (workqueue) must not be entered from two threads at once
        parallel = sim.n_paths > 1 and sim.n_paths * (t1 - t0) >= PARALLEL_WORK \
            and threading.current_thread() is threading.main_thread()
        name, run = ("run", run_policy) if parallel else ("run_serial", run_serial)
        _call(name, run, t0, t1, rule.family, rule.params, rule.network, self.m, self.fl, self.rp,
              self._state(True), sim._cost_block, sim._flow_block, self.work)
        return True
