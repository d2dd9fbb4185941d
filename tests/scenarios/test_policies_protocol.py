"""The Policy protocol's optional members, and the one evaluation path that keeps its paths and policies."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from scenarios import builtin
from scenarios.evaluate import evaluate_policies, training_paths
from scenarios.paths import SamplePaths
from scenarios.policies import make_policy
from scenarios.policy import Policy, PolicyDefaults, describe, solve_stats, tuning

ROOT = Path(__file__).resolve().parents[2]
OPTIMAL = "echelon-base-stock:S=6.49,12.03,22.72"


class Nothing:
    """The least a policy needs: a name, reset and act (orders nothing)."""

    name = "nothing"

    def reset(self, network, n_paths: int) -> None:
        self.shape = (n_paths, network.n_arcs, network.n_skus)

    def act(self, state, t: int) -> np.ndarray:
        return np.zeros(self.shape)


@pytest.fixture(scope="module")
def spec():
    return builtin.get("serial-3")


def test_optional_members_have_defaults_for_any_policy(spec) -> None:
    bare = Nothing()
    assert isinstance(bare, Policy)
    assert describe(bare) == {} and tuning(bare) is None and tuple(solve_stats(bare)) == ()
    levels = make_policy(spec, "base-stock", {"S": [7, 6, 11]})
    assert isinstance(levels, PolicyDefaults)
    assert describe(levels) == {"S": [7.0, 6.0, 11.0]} and tuning(levels) is None
    assert tuple(solve_stats(levels)) == ()


def test_a_policy_without_optional_members_is_evaluated(spec) -> None:
    (result,) = evaluate_policies(spec, [Nothing()], paths=2, periods=3).results
    assert result.params == {} and result.tuning is None and result.label == "nothing"


def test_no_caller_probes_optional_members_with_hasattr() -> None:
    probe = re.compile(r"hasattr\([^)]*[\"'](describe|tuning|stats)[\"']")
    packages = ("scenarios", "milp", "rl", "hybrid")
    sources = [ROOT / "cli.py", *(p for d in packages for p in (ROOT / d).rglob("*.py"))]
    assert not [str(p) for p in sources if probe.search(p.read_text())]


def test_the_evaluation_returns_its_paths_and_the_policies_that_ran(spec) -> None:
    evaluation = evaluate_policies(spec, [OPTIMAL, "sS"], paths=3, periods=4, seed=7, train_paths=5)
    drawn = SamplePaths.draw(spec, 3, 4, seed=7)
    np.testing.assert_array_equal(evaluation.test.demand, drawn.demand)
    np.testing.assert_array_equal(evaluation.train.demand, training_paths(spec, 5, 4, 7).demand)
    tuned = evaluation.results[1]
    assert tuned.tuning is not None and tuned.policy.tuning is tuned.tuning
    # given paths and built policies are used as they are: the same numbers, nothing redrawn or rebuilt
    again = evaluate_policies(spec, [r.policy for r in evaluation.results], test=evaluation.test,
                              train=evaluation.train)
    assert again.test is evaluation.test and again.train is evaluation.train
    for first, second in zip(evaluation.results, again.results, strict=True):
        np.testing.assert_array_equal(first.run.total_cost, second.run.total_cost)


def test_no_training_paths_are_drawn_when_nothing_is_tuned(spec) -> None:
    assert evaluate_policies(spec, [OPTIMAL], paths=2, periods=3).train is None


def test_record_keeps_the_trace_of_the_evaluated_run(spec) -> None:
    (result,) = evaluate_policies(spec, [OPTIMAL], paths=2, periods=3, record=True).results
    assert result.run.trace["stock"].shape[:2] == (2, spec.warmup + 3 + 1)
