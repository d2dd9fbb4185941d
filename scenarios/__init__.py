"""The shared world: scenario specs, randomness, the batched simulator, policies and KPIs.

>>> from scenarios import load, SamplePaths, simulate, make_policy, kpis
>>> spec = load("serial-3")
>>> paths = SamplePaths.draw(spec, paths=200, periods=100, seed=1)
>>> run = simulate(spec, paths, make_policy(spec, "echelon-base-stock", {"S": [6.49, 12.03, 22.72]}))
>>> round(kpis(run)["cost_per_period"].mean)
48
"""

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

__all__ = [
    "Arc", "BaseStock", "Demand", "DemandProcess", "EchelonBaseStock", "Estimate", "Evaluation", "LeadTime",
    "Network", "Node", "Policy", "PolicyResult", "Run", "SKU", "SQ", "SS", "SamplePaths", "Simulator",
    "ScenarioDistribution", "Spec", "SpecError", "State", "TuneResult", "build_policy", "dumps", "estimate",
    "evaluate_policies", "kpis", "load", "make_policy", "paired_difference", "parse_policy",
    "policy_names", "save",
    "simulate", "to_arc_orders", "tune",
]
