"""The arena and the hybrid policies: zero action is the planner, saved agents run in the arena."""

import numpy as np
import pytest

from hybrid.mpc import MPCSafetyTask
from milp import RollingHorizonPolicy
from rl.anchor import Anchor
from scenarios.errors import SpecError
from scenarios.evaluate import evaluate_policies
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.simulator import simulate
from scenarios.spec import load

ANCHOR = Anchor("sS", {"s": (20, 6, 6, 6), "S": (30, 9, 9, 9)}, 40.0, "given")


@pytest.mark.parametrize("futures", [{}, {"scenarios": 4, "branches": 2}])
def test_zero_action_is_the_planner_with_the_base_safety_stock(futures):
    """Also for the stochastic planner: the same futures, so the same plans."""
    spec = load("divergent-1w3r")
    task = MPCSafetyTask(spec, anchor=ANCHOR, base=[4.0, 2.0, 2.0, 2.0], epoch=3, horizon=4, periods=9,
                         warmup=0, **futures)
    paths = SamplePaths.draw(spec, 3, 9, seed=5, warmup=0)
    task.start(paths)
    cost = np.zeros(3)
    done = False
    while not done:
        _, _, done, info = task.step(np.zeros((3, task.action_size)))
        cost += info["cost"]
    run = simulate(spec, paths, RollingHorizonPolicy(spec, horizon=4, safety=[4.0, 2.0, 2.0, 2.0], **futures))
    np.testing.assert_allclose(cost, run.total_cost.sum(axis=1), rtol=1e-9)


def test_actions_move_safety_by_periods_of_demand_and_never_below_zero():
    spec = load("divergent-1w3r")
    task = MPCSafetyTask(spec, anchor=ANCHOR, base=1.0, residual_scale=2.0, horizon=4, periods=9, warmup=0)
    rate = task.network.demand_rate
    up, down = task.safety(np.ones((1, task.action_size))), task.safety(-np.ones((1, task.action_size)))
    np.testing.assert_allclose(up[0], 1.0 + 2.0 * rate)
    assert np.all(down == 0.0)
    with pytest.raises(SpecError, match="residual_scale"):
        MPCSafetyTask(spec, anchor=ANCHOR, residual_scale=0.0, horizon=4)


def test_relative_reward_is_the_anchor_cost_minus_the_planner_cost_on_the_same_path():
    spec = load("divergent-1w3r")
    task = MPCSafetyTask(spec, anchor=ANCHOR, base=1.0, epoch=3, horizon=4, periods=6, warmup=0,
                         relative_reward=True)
    paths = SamplePaths.draw(spec, 2, 6, seed=5, warmup=0)
    task.start(paths)
    diff = np.zeros(2)
    done = False
    while not done:
        _, reward, done, info = task.step(np.zeros((2, task.action_size)))
        np.testing.assert_allclose(reward, (info["anchor_cost"] - info["cost"]) / (task.cost_scale * 3))
        diff += info["anchor_cost"] - info["cost"]
    anchor_run = simulate(spec, paths, ANCHOR.policy())
    planner_run = simulate(spec, paths, RollingHorizonPolicy(spec, horizon=4, safety=1.0))
    np.testing.assert_allclose(diff, anchor_run.total_cost.sum(axis=1) - planner_run.total_cost.sum(axis=1),
                               rtol=1e-9, atol=1e-9)


def test_per_path_safety_needs_the_right_shape():
    spec = load("divergent-1w3r")
    planner = RollingHorizonPolicy(spec, horizon=4)
    planner.reset(Network(spec), 2)
    with pytest.raises(SpecError, match="safety"):
        planner.set_safety(np.zeros((3, 4, 1)))
    with pytest.raises(SpecError, match="safety"):
        planner.set_safety(-1.0)


def test_arena_reference_goes_first_and_win_rates_are_paired():
    good, bad = "echelon-base-stock:S=6.49,12.03,22.72", "base-stock:S=7,7,7"
    results = evaluate_policies("serial-3", [bad, good], paths=40, periods=30, reference=good).results
    assert [r.label for r in results] == [good, bad]
    assert results[0].win_rate is None and results[1].difference.low > 0
    assert 0 <= results[1].win_rate < 0.5
    assert results[1].to_dict()["win_rate_vs_first"] == results[1].win_rate
    with pytest.raises(SpecError, match="reference"):
        evaluate_policies("serial-3", [good], paths=5, reference="sS")


@pytest.mark.parametrize("text, field", [("hybrid-mpc", "policy.path"), ("hybrid-anchor", "policy.path"),
                                         ("hybrid-mpc:path=/nowhere", "policy.path")])
def test_hybrid_policies_need_a_saved_agent(text, field):
    with pytest.raises(SpecError) as err:
        evaluate_policies("divergent-1w3r", [text], paths=2, periods=4)
    assert err.value.field == field


def test_a_trained_hybrid_mpc_agent_runs_in_the_arena(tmp_path):
    from hybrid.training import train_hybrid

    result = train_hybrid("divergent-1w3r", "mpc", timesteps=16, n_envs=2, epoch=13, horizon=4,
                          train_horizon=4, base=1.0, anchor=ANCHOR, out=tmp_path / "mpc", progress_bar=False)
    assert result.timesteps >= 16 and result.curve
    results = evaluate_policies("divergent-1w3r", ["rolling-horizon:horizon=4,safety=1",
                                                   f"hybrid-mpc:path={tmp_path / 'mpc'}"], paths=3,
                                periods=13).results
    assert results[1].family == "hybrid-mpc"
    assert np.isfinite(results[1].kpis["cost_per_period"].mean)


def test_demo_writes_every_layer_to_duckdb_and_a_report(tmp_path):
    from hybrid.demo import run_demo
    from hybrid.store import Store

    result = run_demo("divergent-1w3r", out=tmp_path, paths=4, periods=13, rl_timesteps=256,
                      hybrid_timesteps=8, horizon=4)
    families = [r.family for r in result.results]
    assert families[0] == "sS" and {"rl", "hybrid-mpc", "rolling-horizon-ss"} <= set(families)
    with Store(result.db, read_only=True) as store:
        runs = store.runs()
        assert len(runs) == len(result.results)
        assert all(store.trajectories(r["key"]) for r in runs)
        # a run's time includes building its policy (here tuning (s,S)), as a batch job's does
        tuned = next(r for r in runs if r["policy"] == "sS")
        assert tuned["seconds"] >= result.results[0].tuning.seconds > 0
    html = result.report.read_text()
    assert html.count("data:image/png;base64") >= 3 and "hybrid-mpc" in html


def test_hybrid_anchor_moves_around_the_milp_levels(tmp_path):
    from hybrid.training import train_hybrid

    result = train_hybrid("serial-3", "anchor", timesteps=64, n_envs=4, epoch=8, anchor_paths=16,
                          out=tmp_path / "anchor", progress_bar=False)
    assert "milp.optimise_static" in result.anchor.source
    s, S = np.array(result.anchor.params["s"]), np.array(result.anchor.params["S"])
    np.testing.assert_allclose(s, S)  # base-stock levels read as (s, S) with s = S
    (r,) = evaluate_policies("serial-3", [f"hybrid-anchor:path={tmp_path / 'anchor'}"], paths=5,
                             periods=20).results
    assert r.family == "hybrid-anchor"
    with pytest.raises(SpecError, match="not a hybrid-anchor agent"):
        from rl.training import train

        plain = train("serial-3", timesteps=64, n_envs=4, eval_every=0, eval_paths=5, anchor_paths=8,
                      out=str(tmp_path / "plain"), progress_bar=False)
        evaluate_policies("serial-3", [f"hybrid-anchor:path={plain.model_path.parent}"], paths=2, periods=4)
