"""The shared world: scenario specs, randomness, the batched simulator, policies and KPIs.

>>> from scenarios import load, SamplePaths, simulate, make_policy, kpis
>>> spec = load("serial-3")
>>> paths = SamplePaths.draw(spec, paths=200, periods=100, seed=1)
>>> run = simulate(spec, paths, make_policy(spec, "echelon-base-stock", {"S": [6.49, 12.03, 22.72]}))
>>> round(kpis(run)["cost_per_period"].mean)
48

Names load on first use (as in ``rl``), so importing one light module --
``scenarios.errors``, ``scenarios.registry`` for ``echelon simulate --help`` --
does not import numpy and scipy with every other module of the package.
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scenarios.distribution import ScenarioDistribution
    from scenarios.errors import SpecError
    from scenarios.evaluate import Evaluation, PolicyResult, evaluate_policies
    from scenarios.kpis import Estimate, estimate, kpis, paired_difference
    from scenarios.network import Network
    from scenarios.paths import SamplePaths
    from scenarios.policies import SQ, SS, BaseStock, EchelonBaseStock, make_policy
    from scenarios.policy import Policy, to_arc_orders
    from scenarios.processes import DemandProcess, LeadTime
    from scenarios.registry import build_policy, parse_policy, policy_names
    from scenarios.simulator import Run, Simulator, State, simulate
    from scenarios.spec import SKU, Arc, Demand, Node, Spec, dumps, load, save
    from scenarios.tuning import TuneResult, tune

_HOME = {
    "ScenarioDistribution": "distribution", "SpecError": "errors",
    "Evaluation": "evaluate", "PolicyResult": "evaluate", "evaluate_policies": "evaluate",
    "Estimate": "kpis", "estimate": "kpis", "kpis": "kpis", "paired_difference": "kpis",
    "Network": "network", "SamplePaths": "paths",
    "SQ": "policies", "SS": "policies", "BaseStock": "policies", "EchelonBaseStock": "policies",
    "make_policy": "policies", "Policy": "policy", "to_arc_orders": "policy",
    "DemandProcess": "processes", "LeadTime": "processes",
    "build_policy": "registry", "parse_policy": "registry", "policy_names": "registry",
    "Run": "simulator", "Simulator": "simulator", "State": "simulator", "simulate": "simulator",
    "SKU": "spec", "Arc": "spec", "Demand": "spec", "Node": "spec", "Spec": "spec", "dumps": "spec",
    "load": "spec", "save": "spec", "TuneResult": "tuning", "tune": "tuning",
}

__all__ = [
    "Arc", "BaseStock", "Demand", "DemandProcess", "EchelonBaseStock", "Estimate", "Evaluation",
    "LeadTime", "Network", "Node", "Policy", "PolicyResult", "Run", "SKU", "SQ", "SS", "SamplePaths",
    "ScenarioDistribution", "Simulator", "Spec", "SpecError", "State", "TuneResult", "build_policy",
    "dumps", "estimate", "evaluate_policies", "kpis", "load", "make_policy", "paired_difference",
    "parse_policy", "policy_names", "save", "simulate", "to_arc_orders", "tune",
]


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(f"scenarios.{_HOME[name]}"), name)
    try:  # a submodule not imported yet: scenarios.builtin
        return import_module(f"scenarios.{name}")
    except ModuleNotFoundError as err:
        if err.name != f"scenarios.{name}":
            raise
    raise AttributeError(f"module 'scenarios' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


class _Package(ModuleType):
    """``scenarios.kpis`` stays the function when the submodule of that name is imported.

    Importing a submodule binds it on its package, over the lazy name; the
    function is what ``from scenarios import kpis`` has always given.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "kpis" and isinstance(value, ModuleType):
            value = value.kpis
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
