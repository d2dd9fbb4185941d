"""The planner's fair baseline: its safety stock tuned per node from what a tuned base-stock implies."""

import numpy as np
import pytest

from hybrid.baselines import _descend, implied_k, tune_safety, two_level_grid
from scenarios.errors import SpecError
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.registry import build_policy
from scenarios.spec import load
from scenarios.tuning import tune


def _budget(cost, limit):
    """``cost`` memoised and counted, inf for new points past ``limit`` (as tune_safety's)."""
    seen: dict[tuple[float, ...], float] = {}

    def counted(k: np.ndarray) -> float:
        key = tuple(np.round(k, 9))
        if key not in seen:
            if len(seen) >= limit:
                return np.inf
            seen[key] = cost(k)
        return seen[key]

    return counted, seen


def test_the_descent_walks_past_any_grid_to_each_coordinate_s_minimum():
    target = np.array([0.0, 3.3, 0.7])
    cost, seen = _budget(lambda k: float(np.sum(np.abs(k - target))), 200)
    found = _descend(cost, np.zeros(3), np.array([0.0, 0.25, 0.25]), 1 / 16, lambda: len(seen) >= 200)
    assert found[0] == 0.0  # a node with step 0 never moves
    np.testing.assert_allclose(found[1:], target[1:], atol=1 / 16)
    assert cost(found) == min(seen.values())


def test_the_descent_stops_at_its_budget_and_never_goes_below_zero():
    cost, seen = _budget(lambda k: float(np.sum((k + 1.0) ** 2)), 5)  # best at -1: clipped to 0
    found = _descend(cost, np.array([2.0, 2.0]), np.array([0.5, 0.5]), 1 / 16, lambda: len(seen) >= 5)
    assert len(seen) == 5 and np.all(found >= 0) and cost(found) == min(seen.values())
    cost, seen = _budget(lambda k: float(np.sum((k + 1.0) ** 2)), 100)
    np.testing.assert_allclose(_descend(cost, np.array([2.0, 2.0]), np.array([0.5, 0.5]), 1 / 16,
                                        lambda: len(seen) >= 100), 0.0)


@pytest.mark.parametrize("scenario", ["divergent-1w3r", "serial-3"])
def test_the_start_is_the_tuned_base_stock_less_the_mean_demand_it_covers(scenario):
    spec = load(scenario)
    net = Network(spec)
    paths = SamplePaths.draw(spec, 20, 40, seed=3)
    k, anchor = implied_k(spec, paths)
    family = anchor.split(":")[0]
    tuned = [tune(spec, f, paths) for f in ("base-stock", "echelon-base-stock")]
    best = min(tuned, key=lambda r: r.train_cost)
    assert family == best.family and anchor.endswith(",".join(f"{v:g}" for v in best.params["S"]))
    levels = np.asarray(best.params["S"])
    if family == "echelon-base-stock":
        levels = levels - np.array([sum(levels[c] for c in net.children[n]) for n in range(net.n_nodes)])
    mu = net.demand_rate.sum(axis=1)
    cover = net.mean_lead_time + (spec.timing == "order-first")  # demand-first: this period's demand is seen
    ordering = np.isin(np.arange(net.n_nodes), net.customer)
    expected = np.where(ordering, np.maximum(levels - mu * cover, 0) / mu, 0)
    np.testing.assert_allclose(k, expected, atol=1e-4)
    assert any(v > 0 for v in k)


def test_tuning_starts_at_the_implied_levels_and_keeps_the_best_it_ran():
    spec = load("divergent-1w3r")
    rate = Network(spec).demand_rate
    paths = SamplePaths.draw(spec, 2, 10, seed=1)
    result = tune_safety(spec, paths, horizon=4, start=(0.0, 1.0, 1.0, 1.0), grid=[0.5], max_evaluations=6)
    assert list(result.costs)[:2] == [(0.0, 1.0, 1.0, 1.0), (0.5, 0.5, 0.5, 0.5)]
    assert 2 < len(result.costs) <= 6 and result.costs[result.k] == min(result.costs.values())
    assert all(len(k) == 4 and min(k) >= 0 for k in result.costs)
    np.testing.assert_allclose(result.safety, np.asarray(result.k)[:, None] * rate)
    assert result.levels().startswith("warehouse ") and result.levels().count(";") == 3
    policy = build_policy(spec, f"rolling-horizon-ss:horizon=4,k={result.text}", lambda: paths)
    np.testing.assert_allclose(policy._expand_safety(Network(spec)), result.safety)


def test_tuning_without_a_start_takes_the_base_stock_s_and_says_so():
    spec = load("divergent-1w3r")
    train = SamplePaths.draw(spec, 20, 10, seed=1)
    result = tune_safety(spec, train.subset(slice(0, 1)), horizon=4, anchor_paths=train, max_evaluations=2)
    assert result.start == implied_k(spec, train)[0] and result.anchor == implied_k(spec, train)[1]
    assert list(result.costs)[0] == result.start and len(result.costs) == 2


def test_bad_candidates_and_policy_texts_name_their_field():
    spec = load("divergent-1w3r")
    paths = SamplePaths.draw(spec, 2, 10, seed=1)
    with pytest.raises(SpecError, match="grid"):
        tune_safety(spec, paths, grid=[(0.0, 1.0)], start=(0.0,))
    with pytest.raises(SpecError, match="start"):
        tune_safety(spec, paths, start=(0.0, -1.0, 0.0, 0.0))
    with pytest.raises(SpecError, match="max_evaluations"):
        tune_safety(spec, paths, start=(0.0,), max_evaluations=0)
    with pytest.raises(SpecError, match="policy.k"):
        build_policy(spec, "rolling-horizon-ss:k=0,1", lambda: paths)
    with pytest.raises(SpecError, match="policy.evaluations"):
        build_policy(spec, "rolling-horizon-ss:evaluations=0.5", lambda: paths)
    with pytest.raises(SpecError, match="policy.paths"):
        build_policy(spec, "rolling-horizon-ss:paths=0", lambda: paths)


def test_the_policy_text_tunes_per_node_when_k_is_missing():
    spec = load("divergent-1w3r")
    train = SamplePaths.draw(spec, 8, 10, seed=2)
    policy = build_policy(spec, "rolling-horizon-ss:horizon=4,paths=1,evaluations=3", lambda: train)
    assert policy.name == "rolling-horizon-ss" and len(policy.safety_k) == 4
    assert "tuned per node on 1 training paths" in policy.safety_note
    assert "after 3 candidates" in policy.safety_note


def test_two_level_grid_is_one_value_at_the_stores_and_one_upstream():
    grid = two_level_grid(load("divergent-1w3r"), (0.0, 0.5), (1.0,))
    assert grid == [(0.0, 1.0, 1.0, 1.0), (0.5, 1.0, 1.0, 1.0)]


def test_per_sku_tuning_gives_each_node_and_sku_its_own_k():
    spec = load("perishable-pharma")
    net = Network(spec)
    paths = SamplePaths.draw(spec, 1, 6, seed=1)
    result = tune_safety(spec, paths, horizon=4, start=(0.0, 1.0, 2.0), per_sku=True, max_evaluations=3)
    assert list(result.costs)[0] == (0.0, 0.0, 1.0, 1.0, 2.0, 2.0) and len(result.k) == 6
    np.testing.assert_allclose(result.safety, np.reshape(result.k, (3, 2)) * net.demand_rate)
    assert result.levels().count("/") == 3  # k=a/b at each of the three nodes
    policy = build_policy(spec, f"rolling-horizon-ss:horizon=4,k={result.text}", lambda: paths)
    np.testing.assert_allclose(policy._expand_safety(net), result.safety)
    with pytest.raises(SpecError, match="per_sku"):
        tune_safety(spec, paths, start=(0.0,) * 6)
    with pytest.raises(SpecError, match="policy.per_sku"):
        build_policy(spec, "rolling-horizon-ss:per_sku=2", lambda: paths)
    with pytest.raises(SpecError, match="policy.k"):
        build_policy(spec, "rolling-horizon-ss:k=1,2", lambda: paths)
