"""TuneEnv and DirectOrderEnv: the API checkers, the anchor reproduced exactly, seeding."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from rl_testing import small_anchor
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from rl.anchor import Anchor, make_anchor
from rl.envs import DirectOrderEnv, TuneEnv
from scenarios import builtin
from scenarios.errors import SpecError
from scenarios.paths import SamplePaths
from scenarios.policies import BaseStock
from scenarios.simulator import simulate


def make(kind: str, name: str, **options):
    anchor = small_anchor(name, "base-stock" if options.get("parametrisation") == "base-stock" else "sS")
    options.setdefault("periods", 24)
    cls = TuneEnv if kind == "tune" else DirectOrderEnv
    return cls(builtin.get(name), anchor=anchor, **options)


@pytest.mark.parametrize("kind", ["tune", "direct"])
def test_checkers_pass_without_warnings(kind: str, scenario: str) -> None:
    env = make(kind, scenario)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym_check_env(env, skip_render_check=True)
        sb3_check_env(env)


def run_episode(env, paths: SamplePaths, action=None) -> tuple[list[float], list[np.ndarray], list[float]]:
    obs, _ = env.reset(options={"paths": paths})
    costs, observations, rewards = [], [obs], []
    zero = np.zeros(env.action_space.shape, np.float32)
    while True:
        obs, reward, terminated, truncated, info = env.step(zero if action is None else action(obs))
        costs.append(info["cost"])
        observations.append(obs)
        rewards.append(reward)
        assert not terminated
        if truncated:
            return costs, observations, rewards


@pytest.mark.parametrize("parametrisation", ["sS", "base-stock"])
def test_zero_action_reproduces_the_anchor_exactly(scenario: str, parametrisation: str) -> None:
    env = make("tune", scenario, parametrisation=parametrisation, epoch=3)
    spec = builtin.get(scenario)
    paths = SamplePaths.draw(spec, 1, periods=24, seed=5)
    costs, _, rewards = run_episode(env, paths)
    expected = simulate(spec, paths, env.anchor.policy()).total_cost
    edges = list(range(0, paths.n_periods, 3)) + [paths.n_periods]
    assert costs == [expected[0, a:b].sum() for a, b in zip(edges[:-1], edges[1:], strict=True)]
    scale = env.anchor.cost_per_period
    np.testing.assert_allclose(rewards, [-c / (scale * (b - a)) for c, a, b in
                                         zip(costs, edges[:-1], edges[1:], strict=True)], rtol=1e-12)


def test_base_stock_anchor_under_sS_parametrisation_is_exact() -> None:
    spec = builtin.get("serial-3")
    policy = BaseStock(S=[6.49, 5.54, 10.69])
    env = TuneEnv(spec, anchor=policy, periods=10, anchor_paths=4)
    assert env.anchor.family == "base-stock"
    paths = SamplePaths.draw(spec, 1, periods=10, seed=2)
    costs, _, _ = run_episode(env, paths)
    assert sum(costs) == pytest.approx(simulate(spec, paths, policy).total_cost.sum(), rel=1e-12)


def test_direct_orders_of_the_anchor_reproduce_its_cost() -> None:
    """Feeding DirectOrderEnv the orders base-stock would place gives base-stock's costs."""
    spec = builtin.get("lost-sales-poisson")
    anchor = small_anchor("lost-sales-poisson", "base-stock")
    level = anchor.params["S"][0]
    env = DirectOrderEnv(spec, anchor=anchor, periods=30, max_order=20.0)
    paths = SamplePaths.draw(spec, 1, periods=30, seed=9)
    names = env.task.observer.feature_names
    ip = names.index("inventory_position[store/item]")
    scale = env.task.observer._level_scale[0, 0]

    def base_stock(obs: np.ndarray) -> np.ndarray:  # order up to S from the observed position
        order = max(level - obs[ip] * scale, 0.0)
        return np.array([order / 20.0 * 2 - 1], np.float32)

    costs, _, _ = run_episode(env, paths, base_stock)
    expected = simulate(spec, paths, anchor.policy()).total_cost[0]
    np.testing.assert_allclose(costs, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("kind", ["tune", "direct"])
def test_same_seed_same_episodes(kind: str) -> None:
    def episodes(seed: int):
        env = make(kind, "seasonal-grocery")
        rng = np.random.default_rng(0)
        out = [env.reset(seed=seed)[0]]
        for _ in range(2 * env.task.n_steps):
            obs, reward, _, truncated, info = env.step(rng.uniform(-1, 1, env.action_space.shape))
            out += [obs, reward, info["cost"]]
            if truncated:
                out.append(env.reset()[0])
        return out

    a, b, c = episodes(3), episodes(3), episodes(4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_episodes_draw_fresh_domain_randomised_paths() -> None:
    env = TuneEnv("retail-network", anchor=Anchor("sS", {"s": [0.0] * 11, "S": [1.0] * 11}, 1.0),
                  periods=5, episodes_per_draw=2)
    scales = []
    env.reset(seed=0)
    for _ in range(3):
        scales.append(env.task._sim.paths.holding_scale[0])
        env.reset()
    assert len(set(scales)) == 3  # randomised per path, a fresh path every episode


def test_observation_and_action_layout() -> None:
    env = make("tune", "seasonal-grocery")
    obs = env.task.observer
    assert env.observation_space.shape == (len(obs.feature_names),)
    assert "sin(2pi t/52)" in obs.feature_names and "S[store-south/bakery]" in obs.feature_names
    # every node orders, three SKUs, two residuals (shift, gap)
    assert env.action_space.shape == (2 * 3 * 3,)
    assert env.task.residuals.names[0] == "shift[dc/produce]"
    names = make("tune", "lost-sales-poisson", pipeline=True).task.observer.feature_names
    assert names[-6:-4] == ["arriving_in_1[external->store/item]", "arriving_in_2[external->store/item]"]


def test_stock_about_to_expire_is_observed_only_for_perishables() -> None:
    grocery = make("tune", "seasonal-grocery").task.observer
    assert not any(n.startswith("expiring") for n in grocery.feature_names)
    env = make("tune", "perishable-pharma")
    env.reset(seed=3)
    names = env.task.observer.feature_names
    for _ in range(3):
        obs, *_ = env.step(np.zeros(env.action_space.shape, dtype=np.float32))
    state, observer = env.task._sim.state, env.task.observer
    expected = state.on_hand[0, :, :, :2].sum(-1) / observer._level_scale  # remaining life <= 2
    got = np.array([obs[names.index(f"expiring[{n}/{k}]")] for n in ("depot", "hospital-a", "hospital-b")
                    for k in ("vaccine", "insulin")]).reshape(3, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert got.sum() > 0


def test_fill_penalty_is_reported_apart() -> None:
    env = make("tune", "lost-sales-poisson", fill_target=0.999, fill_weight=2.0)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(-np.ones(env.action_space.shape, np.float32))
    assert set(info) == {"cost", "fill_rate", "fill_penalty"}
    expected = -info["cost"] / (env.anchor.cost_per_period * env.task.epoch) - info["fill_penalty"]
    assert reward == pytest.approx(expected, rel=1e-12)
    assert info["fill_penalty"] == pytest.approx(2.0 * max(0.999 - info["fill_rate"], 0.0))


def test_bad_options_name_the_field() -> None:
    with pytest.raises(SpecError, match="parametrisation"):
        make("tune", "serial-3", parametrisation="qq")
    with pytest.raises(SpecError, match="epoch"):
        make("tune", "serial-3", epoch=0)
    with pytest.raises(SpecError, match="fill_target"):
        make("tune", "serial-3", fill_target=1.5)
    with pytest.raises(SpecError, match="anchor"):
        TuneEnv("serial-3", parametrisation="base-stock", anchor=small_anchor("serial-3", "sS"))
    env = make("tune", "serial-3")
    with pytest.raises(SpecError, match="options.paths"):
        env.reset(options={"paths": SamplePaths.draw(builtin.get("serial-3"), 2, periods=24)})


def test_anchor_is_tuned_when_not_given() -> None:
    spec = builtin.get("lost-sales-poisson")
    env = TuneEnv(spec, periods=20, anchor_paths=8)
    again = make_anchor(spec, "sS", paths=8, periods=20)
    assert env.anchor is again  # cached: every env of a DummyVecEnv shares one tuning run
    assert env.anchor.params["S"][0] >= env.anchor.params["s"][0]


@pytest.mark.parametrize("kind", ["tune", "direct"])
def test_relative_reward_subtracts_the_anchor_on_the_same_path(kind: str) -> None:
    env = make(kind, "perishable-pharma", relative_reward=True)
    plain = make(kind, "perishable-pharma")
    env.reset(seed=4)
    plain.reset(seed=4)
    rng = np.random.default_rng(0)
    anchor = simulate(builtin.get("perishable-pharma"), env.task._sim.paths, env.anchor.policy(),
                      kpi_flows=False).total_cost[0]
    t, scale = 0, env.anchor.cost_per_period
    for _ in range(5):
        action = rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
        _, reward, _, _, info = env.step(action)
        _, plain_reward, _, _, plain_info = plain.step(action)
        n = env.task.periods_per_step
        assert info["cost"] == plain_info["cost"]  # the agent's own costs do not change
        assert info["anchor_cost"] == pytest.approx(anchor[t:t + n].sum(), rel=1e-12)
        assert reward == pytest.approx(plain_reward + info["anchor_cost"] / (scale * n), rel=1e-9)
        t += n
    if kind == "tune":  # a zero action is the anchor: nothing gained, nothing lost
        env.reset(seed=4)
        _, reward, _, _, info = env.step(np.zeros(env.action_space.shape, dtype=np.float32))
        assert reward == 0.0 and info["cost"] == info["anchor_cost"]


@pytest.mark.parametrize("scenario", ["orgym-inv-v1", "lost-sales-poisson"])
def test_lost_sales_estimate_is_exact_for_the_timing(scenario: str) -> None:
    from rl.observation import Observer
    from scenarios.network import Network
    from scenarios.simulator import Simulator

    spec = builtin.get(scenario)
    net = Network(spec)
    paths = SamplePaths.draw(spec, 6, 40, seed=3)
    short = 0.6 * np.maximum(net.demand_rate.sum(axis=1), 20.0) * (net.mean_lead_time + 1)
    policy = BaseStock(S=short)  # below the demand over a lead time: sales are lost
    policy.reset(net, paths.n_paths)
    observer = Observer(spec, net, window=1, n_periods=paths.n_periods)
    observer.reset(paths.n_paths)
    sim = Simulator(spec, paths, net)
    estimated = []
    while not sim.done:
        state = sim.begin_period()
        observer.record(state)
        if state.t > 0:
            estimated.append(observer._lost[0].sum(axis=1))
        sim.end_period(policy.act(state, state.t))
    actual = sim.flows["lost"][:, :-1]
    assert actual.sum() > 0
    np.testing.assert_allclose(np.array(estimated).T, actual, atol=1e-9)
