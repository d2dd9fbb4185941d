"""Evaluate policies side by side on the same sample paths.

A policy is given as text -- ``NAME`` (tuned on separate training paths) or
``NAME:key=v1,v2,...`` (one value per node); see
:func:`~scenarios.policies.build_policy` for the names -- or as any object
implementing :class:`~scenarios.policy.Policy`. Every policy runs on the same test
:class:`~scenarios.paths.SamplePaths` (common random numbers), so differences
are paired.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scenarios.errors import SpecError
from scenarios.kpis import Estimate, estimate, kpis, paired_difference
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.policies import FAMILIES, build_policy, make_policy, parse_policy
from scenarios.policy import Policy
from scenarios.progress import Progress, reporting
from scenarios.simulator import Run, simulate
from scenarios.spec import Spec
from scenarios.tuning import TuneResult

__all__ = ["PolicyResult", "evaluate", "train_seed"]


@dataclass
class PolicyResult:
    """One policy's outcome on the test paths.

    :param label: what the user asked for (``"sS"``, ``"base-stock:S=..."``).
    :param family: policy family or class name.
    :param params: the parameters used (tuned ones for a bare name).
    :param kpis: KPI name -> :class:`~scenarios.kpis.Estimate` (cost parts as ``cost.<part>``).
    :param run: the full simulation output.
    :param tuning: how the parameters were found, for tuned policies.
    :param difference: paired cost difference against the first policy (the reference).
    :param win_rate: share of paths on which this policy costs less than the first
        (ties count half).
    :param bound_gap: per-path cost per period over all periods (warm-up
        included) minus the hindsight bound on that path, when asked for.
    :param bound_mean: the mean hindsight bound per period.
    :param seconds: wall time to build the policy (tuning or loading it) and simulate it.
    """

    label: str
    family: str
    params: dict[str, Any]
    kpis: dict[str, Estimate]
    run: Run
    tuning: TuneResult | None = None
    difference: Estimate | None = field(default=None)
    win_rate: float | None = field(default=None)
    bound_gap: Estimate | None = field(default=None)
    bound_mean: float | None = field(default=None)
    seconds: float | None = field(default=None)

    def to_dict(self, known_optimum: float | None = None) -> dict[str, Any]:
        """The JSON contract of ``echelon evaluate`` for this policy.

        Keys: ``policy``, ``params``, ``cost_per_period`` (``mean``, ``ci95``),
        ``fill_rate``, the other KPIs and ``cost_parts``; plus ``tuning`` and
        ``gap_to_optimum`` when known. Rates and gaps are fractions (0.05 is 5%).
        No timings (:attr:`seconds`, the tuning's seconds): the same seed gives the
        same dictionary, so runs can be compared and stored as they are.
        """
        out: dict[str, Any] = {"policy": self.label, "family": self.family, "params": self.params}
        for k, v in self.kpis.items():
            if not k.startswith("cost."):
                out[k] = v.to_dict()
        out["cost_parts"] = {k[5:]: v.to_dict() for k, v in self.kpis.items() if k.startswith("cost.")}
        if self.difference is not None:
            out["difference_vs_first"] = self.difference.to_dict()
        if self.win_rate is not None:
            out["win_rate_vs_first"] = self.win_rate
        if known_optimum:
            out["gap_to_optimum"] = self.kpis["cost_per_period"].mean / known_optimum - 1
        if self.bound_gap is not None and self.bound_mean:
            out["gap_to_bound"] = {"absolute": self.bound_gap.to_dict(),
                                   "relative": self.bound_gap.mean / self.bound_mean}
        if self.tuning is not None:
            t = self.tuning
            out["tuning"] = {"train_cost": t.train_cost, "evaluations": t.evaluations}
        return out


def train_seed(seed: int) -> int:
    """The seed of the training paths that go with test seed ``seed`` (never equal to it)."""
    return int(np.random.SeedSequence([seed, 0x7E57]).generate_state(1)[0])


def evaluate(spec: Spec, policies: Sequence[str | Policy], *, paths: int = 1000,
             periods: int | None = None, seed: int = 0, train_paths: int = 200,
             train_periods: int | None = None,
             progress: Progress | None = None,
             bound: Callable[..., np.ndarray] | None = None) -> list[PolicyResult]:
    """Run each policy on the same test paths and compute KPIs with 95% CIs.

    :param spec: the scenario.
    :param policies: policy texts or :class:`Policy` objects.
    :param paths: number of test paths.
    :param periods: periods measured (default ``spec.horizon``).
    :param seed: seed of the test paths; tuning uses ``train_seed(seed)``.
    :param train_paths: paths for tuning bare policy names.
    :param train_periods: periods per training path (default: ``periods``).
    :param progress: told of each step (:mod:`scenarios.progress`): drawing the
        training paths, building each policy (tuning it, with what its factory
        reports), simulating it period by period, the bound path by path.
    :param bound: per-path lower bound on the cost per period over all periods,
        called as ``bound(spec, test, progress=progress)``, e.g.
        :func:`milp.hindsight_bound`; each result then reports its gap to it.
    :raises SpecError: a bad policy text or parameter.
    """
    if not policies:
        raise SpecError("policy", "give at least one policy")
    for p in policies:  # fail fast, before any path is drawn
        if isinstance(p, str):
            name, params = parse_policy(p)
            if name in FAMILIES and params is not None:
                make_policy(spec, name, params)
            elif name in FAMILIES and FAMILIES[name].needs_tree:
                spec.require_tree(name)
    test = SamplePaths.draw(spec, paths, periods, seed=seed)
    cache: list[SamplePaths] = []

    def train() -> SamplePaths:
        if not cache:
            if progress:
                progress(f"drawing {train_paths} training paths", 0, None)
            cache.append(SamplePaths.draw(spec, train_paths, train_periods or periods,
                                          seed=train_seed(seed)))
        return cache[0]

    network = Network(spec)
    results: list[PolicyResult] = []
    for item in policies:
        began = time.perf_counter()
        label = item if isinstance(item, str) else getattr(item, "name", type(item).__name__)
        if isinstance(item, str):
            if progress:
                progress(f"preparing {label}", 0, None)
            with reporting(progress):  # for factories that tune at length (scenarios.progress)
                policy = build_policy(spec, item, train)
        else:
            policy = item
        run = simulate(spec, test, policy, network=network, progress=progress)
        shown = policy.describe() if hasattr(policy, "describe") else {}
        results.append(PolicyResult(str(label), policy.name, shown, kpis(run), run,
                                    getattr(policy, "tuning", None), seconds=time.perf_counter() - began))
    first = results[0].run.total_cost[:, results[0].run.warmup:].mean(axis=1)
    for r in results[1:]:
        r.difference = paired_difference(r.run, results[0].run)
        mine = r.run.total_cost[:, r.run.warmup:].mean(axis=1)
        r.win_rate = float(np.mean((mine < first) + 0.5 * (mine == first)))
    if bound is not None:
        lower = bound(spec, test, progress=progress)
        for r in results:
            r.bound_gap = estimate(r.run.total_cost.mean(axis=1) - lower)
            r.bound_mean = float(lower.mean())
    return results
