"""Memory a run will need, estimated before anything big is allocated.

A request too big for the machine (``--paths 100000000``, ``warmup = 100000000``,
a lead time of 10**9 periods, a rolling-horizon window of 100000 periods) would
otherwise allocate until numpy raises a traceback or the system kills the
process. The estimates here are products of the sizes that drive memory, with
coefficients fitted to measured peak memory (serial-3, retail-network and
seasonal-grocery runs, rolling-horizon windows of 100 to 100000 periods; they
agree within a factor of 2, mostly above the measurement). Each ``check_*``
function raises :class:`~scenarios.errors.SpecError` naming the field that drives
the size and the estimate, when it exceeds the limit.

The limit is half the memory available when the check runs (``MemAvailable`` in
``/proc/meminfo``; elsewhere the physical memory from ``os.sysconf``), and never
more than the process's address-space limit (``ulimit -v``). The environment
variable ``ECHELON_MEMORY_LIMIT`` replaces it with a size in bytes, with an
optional unit (``500M``, ``64G``, ``1T``; decimal), or turns the checks off (``0``).
"""

from __future__ import annotations

import os
from typing import Any

from scenarios.errors import SpecError

__all__ = ["LIMIT_VARIABLE", "check", "check_milp", "check_sample_paths", "check_trace", "memory_limit"]

LIMIT_VARIABLE = "ECHELON_MEMORY_LIMIT"
_FRACTION = 0.5  # of the available memory: estimates are approximate and other processes run too
_UNITS = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}

# Measured bytes per unit of size (peak resident memory over the baseline):
_PER_PATH_PERIOD = 200  # simulator costs and flows (19 float arrays) and the KPIs' temporaries
_PER_STREAM = 24  # sample paths: demand, its expectation and rounding uniforms (float64)
_PER_ARC = 9  # sample paths: lead time (int64) and disruption flag
_PER_MODEL_UNIT = 6_000  # a window period of an arc, node or stream: Pyomo components and HiGHS
_PER_COVER_TERM = 120  # the echelon cover inequalities: window**3 terms per setup arc and SKU


def _size(n: float) -> str:
    """Bytes as a short decimal size: ``512 GB``, ``1.2 GB``, ``350 MB``."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}" if n < 1000 * scale else f"{n / scale:.0f} {unit}"
    return f"{n:.0f} B"


def _available() -> float | None:
    """Bytes of memory available now (Linux ``MemAvailable``), else the physical memory, else None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _address_space() -> float | None:
    """The process's address-space limit in bytes (``ulimit -v``), or None."""
    try:
        import resource
    except ImportError:  # not a Unix
        return None
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    return None if soft == resource.RLIM_INFINITY else float(soft)


def memory_limit() -> tuple[float | None, str]:
    """The byte limit of the checks and how it was set, for messages; ``None``: no limit.

    :raises SpecError: ``ECHELON_MEMORY_LIMIT`` is not a size.
    """
    text = os.environ.get(LIMIT_VARIABLE, "").strip()
    if text:
        unit = text[-1].upper() if text[-1].isalpha() else ""
        try:
            value = float(text[:-1] if unit else text) * _UNITS[unit]
        except (ValueError, KeyError):
            raise SpecError(LIMIT_VARIABLE, f"must be a size such as 500M, 64G or 0 (no limit), "
                            f"got {text!r}") from None
        if value < 0:
            raise SpecError(LIMIT_VARIABLE, f"must be >= 0, got {text!r}")
        return (None, "") if value == 0 else (value, f"set by {LIMIT_VARIABLE}")
    available = _available()
    address_space = _address_space()
    if address_space is not None and (available is None or address_space < available):
        return _FRACTION * address_space, f"half the address-space limit, ulimit -v; {LIMIT_VARIABLE} " \
            "changes it"
    if available is None:
        return None, ""
    return _FRACTION * available, f"half the {_size(available)} available; {LIMIT_VARIABLE} changes it"


def check(field: str, what: str, need: float) -> None:
    """Raise :class:`SpecError` on ``field`` when ``need`` bytes exceed the limit.

    :param field: the field or option that drives the size (``"warmup"``, ``"horizon"``).
    :param what: the sentence's subject and verb, e.g. ``"5 paths × 10**8 periods need"``.
    :param need: the estimated bytes.
    """
    limit, how = memory_limit()
    if limit is not None and need > limit:
        raise SpecError(field, f"{what} about {_size(need)} of memory; the limit is {_size(limit)} ({how})")


def check_sample_paths(spec: Any, paths: int, periods: int, warmup: int) -> None:
    """Refuse sample paths that, with a simulation of them, would not fit in memory.

    Three sizes grow without bound: paths × periods (the draws, the simulator's cost
    and flow arrays), paths × the longest lead time (the pipeline, one slot per
    period in transit) and paths × the longest shelf life (stock by age). The field
    named is the one behind the largest.

    :param spec: the scenario.
    :param paths: sample paths.
    :param periods: periods measured.
    :param warmup: periods simulated before measuring.
    :raises SpecError: the estimate exceeds :func:`memory_limit`.
    """
    total = periods + warmup
    nodes, skus, arcs, streams = len(spec.nodes), len(spec.skus), len(spec.arcs), len(spec.demands)
    per_period = paths * total * (_PER_PATH_PERIOD + _PER_STREAM * streams + _PER_ARC * arcs)
    lead = [a.lead_time.max_value for a in spec.arcs]
    longest = max(range(arcs), key=lead.__getitem__, default=None)
    pipeline = 0 if longest is None else 8 * paths * arcs * (lead[longest] + 1) * skus
    life = [s.shelf_life or 1 for s in spec.skus]
    oldest = max(range(skus), key=life.__getitem__)
    ages = 32 * paths * nodes * skus * life[oldest]  # stock by age and the oldest-first temporaries
    need = per_period + pipeline + ages
    if pipeline >= max(per_period, ages):
        check(f"arcs[{longest}].lead_time", f"a lead time of up to {lead[longest]} periods on {paths} paths "
              "needs", need)
    elif ages >= per_period:
        check(f"skus[{oldest}].shelf_life", f"a shelf life of {life[oldest]} periods on {paths} paths needs",
              need)
    else:
        check("warmup" if warmup > periods else "paths × periods",
              f"{paths} paths × {total} periods ({warmup} warm-up + {periods} measured) need", need)


def check_trace(spec: Any, paths: int, periods: int) -> None:
    """Refuse a simulation trace (``record=True``: arrays by node and arc) too big for memory.

    :param spec: the scenario.
    :param paths: sample paths simulated.
    :param periods: periods simulated, warm-up included.
    :raises SpecError: the estimate exceeds :func:`memory_limit`.
    """
    need = 8 * paths * (periods + 1) * 6 * (len(spec.nodes) + len(spec.arcs)) * len(spec.skus)
    check("paths × periods", f"recording {paths} paths × {periods} periods by node and arc needs", need)


def check_milp(spec: Any, horizon: int) -> None:
    """Refuse a rolling-horizon model (Pyomo and the solver) too big for memory.

    The model has variables and constraints per window period for every arc, node
    and demand stream (and SKU), and, on arcs with a fixed cost or a minimum order,
    echelon cover inequalities whose terms grow as ``horizon**3``.

    :param spec: the scenario.
    :param horizon: the window in periods.
    :raises SpecError: the estimate exceeds :func:`memory_limit`.
    """
    skus = len(spec.skus)
    units = (len(spec.arcs) + len(spec.nodes)) * skus + len(spec.demands)
    setup = sum(1 for a in spec.arcs if a.fixed_cost > 0 or a.moq > 0)
    need = _PER_MODEL_UNIT * horizon * units + _PER_COVER_TERM * float(horizon) ** 3 * setup * skus
    check("horizon", f"a rolling-horizon window of {horizon} periods on {spec.name!r} needs", need)
