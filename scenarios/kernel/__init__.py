"""The compiled period kernel: the numpy simulator's step in numba, tested equal to it.

:mod:`~scenarios.kernel.step` is the period step for one sample path,
:mod:`~scenarios.kernel.policies` the classical families' order rules (a whole
run of a classical policy in one compiled call), :mod:`~scenarios.kernel.backend`
decides when the kernel runs (``Simulator.backend``) and bridges to it.
"""

from scenarios.kernel.backend import VARIABLE, choose, compile_seconds

__all__ = ["VARIABLE", "choose", "compile_seconds"]
