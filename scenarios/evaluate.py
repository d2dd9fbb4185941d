"""Evaluate policies side by side on the same sample paths: the one evaluation path.

:func:`evaluate_policies` is what ``echelon simulate``, ``echelon evaluate``,
``echelon tune``, a batch job and the demo call. A policy is given as text --
``NAME`` (tuned or solved on separate training paths) or
``NAME:key=v1,v2,...``; :mod:`scenarios.registry` lists every family -- or as
any object implementing :class:`~scenarios.policy.Policy`. Every policy runs on
the same test :class:`~scenarios.paths.SamplePaths` (common random numbers), so
differences are paired. The returned :class:`Evaluation` keeps the test paths,
the training paths and every policy that ran, so a caller never redraws them
or rebuilds a policy: the numbers it shows are the ones evaluated.

>>> from scenarios import evaluate_policies
>>> ev = evaluate_policies("serial-3", ["echelon-base-stock:S=6.49,12.03,22.72", "base-stock:S=7,7,7"],
...                        paths=50, periods=40)
>>> ev.results[1].win_rate < 0.5 < ev.results[1].difference.low   # the untuned levels lose
True
>>> ev.test.n_paths, ev.train is None    # nothing was tuned: no training paths drawn
(50, True)
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
from scenarios.policies import FAMILIES, make_policy
from scenarios.policy import Policy, describe, tuning
from scenarios.progress import Progress, reporting
from scenarios.registry import build_policy, parse_policy
from scenarios.simulator import Run, simulate
from scenarios.spec import Spec, load
from scenarios.tuning import TuneResult

__all__ = ["Evaluation", "PolicyResult", "evaluate_policies", "train_seed", "training_paths"]


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
    :param policy: the policy object that ran (for a text, the one built from it).
    """

    label: str
    family: str
    params: dict[str, Any]
    kpis: dict[str, Estimate]
    run: Run
    policy: Policy
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


def training_paths(spec: Spec, paths: int, periods: int | None, seed: int) -> SamplePaths:
    """The training paths that go with the test paths of seed ``seed`` (drawn from ``train_seed(seed)``).

    Tuned and solved policies learn on these, never on the test paths.
    """
    return SamplePaths.draw(spec, paths, periods, seed=train_seed(seed))


@dataclass
class Evaluation:
    """What :func:`evaluate_policies` ran and found.

    :param results: one :class:`PolicyResult` per policy, the reference first.
    :param test: the test paths every policy ran on.
    :param train: the training paths bare names were tuned or solved on (given,
        or drawn when a policy first needed them; ``None`` when neither).
    """

    results: list[PolicyResult]
    test: SamplePaths
    train: SamplePaths | None


def _fail_fast(spec: Spec, policies: Sequence[str | Policy]) -> None:
    """Check the classical texts before any path is drawn (the layers' are checked as they are built)."""
    for p in policies:
        if isinstance(p, str):
            name, params = parse_policy(p)
            if name in FAMILIES and params is not None:
                make_policy(spec, name, params)
            elif name in FAMILIES and FAMILIES[name].needs_tree:
                spec.require_tree(name)


def _reference_first(policies: Sequence[str | Policy], reference: str | None) -> list[str | Policy]:
    order = list(policies)
    if reference is not None:
        texts = [p if isinstance(p, str) else None for p in order]
        if reference not in texts:
            raise SpecError("reference", f"{reference!r} is not one of the policies "
                            f"{[t for t in texts if t is not None]}")
        order.insert(0, order.pop(texts.index(reference)))
    return order


def evaluate_policies(scenario: str | Spec, policies: Sequence[str | Policy], *, paths: int = 1000,
                      periods: int | None = None, seed: int = 0, test: SamplePaths | None = None,
                      train_paths: int = 200, train_periods: int | None = None,
                      train: SamplePaths | None = None, reference: str | None = None,
                      bound: Callable[..., np.ndarray] | None = None, record: bool = False,
                      progress: Progress | None = None) -> Evaluation:
    """Run each policy on the same test paths; KPIs with 95% CIs, paired against the reference.

    :param scenario: a built-in name, a TOML path or a spec.
    :param policies: policy texts (:func:`scenarios.registry.build_policy`) or
        :class:`Policy` objects.
    :param paths: number of test paths (unless ``test`` is given).
    :param periods: periods measured (default ``spec.horizon``; unless ``test`` is given).
    :param seed: seed of the test paths; training paths come from ``train_seed(seed)``.
    :param test: the test paths to use instead of drawing ``paths`` from ``seed`` (training
        paths then come from ``train_seed(test.seed)``).
    :param train_paths: paths for tuning bare policy names (unless ``train`` is given).
    :param train_periods: periods per training path (default: the test paths' measured periods).
    :param train: the training paths to use instead of :func:`training_paths`.
    :param reference: the policy text the others are compared with (moved first);
        default: the first policy.
    :param bound: per-path lower bound on the cost per period over all periods,
        called as ``bound(spec, test, progress=progress)``, e.g.
        :func:`milp.hindsight_bound`; each result then reports its gap to it.
    :param record: keep every period's arrays by node and arc in each ``run.trace``
        (what ``echelon simulate`` shows; memory grows with paths × periods).
    :param progress: told of each step (:mod:`scenarios.progress`): drawing the
        training paths, building each policy (tuning it, with what its factory
        reports), simulating it period by period, the bound path by path.
    :raises SpecError: an unknown scenario or policy, bad parameters, or a
        reference that is not among the policies.
    """
    spec = load(scenario) if isinstance(scenario, str) else scenario
    if not policies:
        raise SpecError("policy", "give at least one policy")
    order = _reference_first(policies, reference)
    _fail_fast(spec, order)
    if test is None:
        test = SamplePaths.draw(spec, paths, periods, seed=seed)
    measured = test.n_periods - test.warmup
    drawn: list[SamplePaths] = [train] if train is not None else []

    def train_once() -> SamplePaths:
        if not drawn:
            if progress:
                progress(f"drawing {train_paths} training paths", 0, None)
            drawn.append(training_paths(spec, train_paths, train_periods or measured, test.seed))
        return drawn[0]

    network = Network(spec)
    results: list[PolicyResult] = []
    for item in order:
        began = time.perf_counter()
        label = item if isinstance(item, str) else item.name
        if isinstance(item, str):
            if progress:
                progress(f"preparing {label}", 0, None)
            with reporting(progress):  # for factories that tune at length (scenarios.progress)
                policy = build_policy(spec, item, train_once)
        else:
            policy = item
        run = simulate(spec, test, policy, network=network, record=record, progress=progress)
        results.append(PolicyResult(str(label), policy.name, describe(policy), kpis(run), run, policy,
                                    tuning(policy), seconds=time.perf_counter() - began))
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
    return Evaluation(results, test, drawn[0] if drawn else None)
