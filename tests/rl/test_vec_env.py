"""The batched VecEnvs equal DummyVecEnv over the single environments.

Integers, booleans and the paths are equal bit for bit; floats computed on a
batch of paths to the last bits (rtol 1e-12, in float32 1e-6): vectorised and
BLAS kernels may round differently for another batch size on another CPU.
"""

from __future__ import annotations

import numpy as np
import pytest
from rl_testing import small_anchor
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor, VecNormalize

from rl.envs import DirectOrderEnv, TuneEnv
from rl.vec_env import BatchedDirectOrderEnv, BatchedTuneEnv
from scenarios import ScenarioDistribution, builtin
from scenarios.paths import SamplePaths

PAIRS = {"tune": (TuneEnv, BatchedTuneEnv), "direct": (DirectOrderEnv, BatchedDirectOrderEnv)}


def pair(kind: str, name: str, n: int, **options):
    single, batched = PAIRS[kind]
    options = {"anchor": small_anchor(name), "periods": 10, "warmup": 2, "episodes_per_draw": 3, **options}
    spec = builtin.get(name)
    return DummyVecEnv([lambda: single(spec, **options) for _ in range(n)]), batched(spec, n, **options)


def assert_same(a, b) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        if np.issubdtype(a.dtype, np.floating):  # batch of 1 vs n: kernels may round the last bit apart
            rtol, atol = (1e-6, 1e-6) if a.dtype == np.float32 else (1e-12, 1e-9)
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
        else:
            np.testing.assert_array_equal(a, b)
    elif isinstance(a, float):
        assert type(a) is type(b) and a == pytest.approx(b, rel=1e-12, abs=1e-9)  # as for float arrays
    else:
        assert type(a) is type(b) and a == b


@pytest.mark.parametrize("kind", ["tune", "direct"])
def test_batched_equals_dummy_vec_env_over_several_episodes(kind: str, scenario: str) -> None:
    reference, batched = pair(kind, scenario, 4)
    reference.seed(11)
    batched.seed(11)
    assert_same(reference.reset(), batched.reset())
    rng = np.random.default_rng(1)
    episodes = 0
    while episodes < 4:  # crosses a block of pre-drawn paths (3 per draw)
        actions = rng.uniform(-1, 1, (4, *batched.action_space.shape)).astype(np.float32)
        expected, got = reference.step(actions), batched.step(actions)
        assert_same(expected, got)
        episodes += int(got[2].all())
    assert "terminal_observation" in got[3][0] and got[3][0]["TimeLimit.truncated"] is True


def test_env_i_is_the_single_env_seeded_s_plus_i() -> None:
    _, batched = pair("tune", "lost-sales-poisson", 3)
    batched.seed(40)
    first = batched.reset()
    single = TuneEnv("lost-sales-poisson", anchor=small_anchor("lost-sales-poisson"), periods=10, warmup=2,
                     episodes_per_draw=3)
    for i in range(3):
        obs, _ = single.reset(seed=40 + i)
        np.testing.assert_allclose(first[i], obs, rtol=1e-6, atol=1e-6)  # float32, batch of 3 vs 1
        zero = np.zeros(single.action_space.shape, np.float32)
        assert single.step(zero)[1] == pytest.approx(float(batched.step(np.zeros((3, 2)))[1][i]), rel=1e-6)
        batched.seed(40)
        batched.reset()


def test_reset_options_play_given_paths() -> None:
    spec = builtin.get("serial-3")
    _, batched = pair("tune", "serial-3", 2)
    paths = SamplePaths.draw(spec, 2, periods=10, warmup=2, seed=3)
    batched.set_options([{"paths": paths.subset(slice(i, i + 1))} for i in range(2)])
    batched.reset()
    np.testing.assert_array_equal(batched.task._sim.paths.demand, paths.demand)


def test_vec_env_api_for_sb3_wrappers() -> None:
    _, batched = pair("tune", "seasonal-grocery", 3)
    assert batched.get_attr("render_mode") == [None] * 3
    assert batched.get_attr("epoch", indices=[0, 2]) == [4, 4]
    assert batched.env_is_wrapped(VecMonitor) == [False] * 3
    with pytest.raises(ValueError, match="all environments"):
        batched.set_attr("fill_weight", 2.0, indices=[1])
    batched.set_attr("fill_weight", 2.0)
    assert batched.task.fill_weight == 2.0
    wrapped = VecNormalize(VecMonitor(batched), norm_obs=True, norm_reward=True)
    wrapped.seed(0)
    wrapped.reset()
    for _ in range(4):
        obs, reward, done, infos = wrapped.step(np.zeros((3, *batched.action_space.shape)))
    assert obs.shape == (3, *batched.observation_space.shape) and reward.shape == (3,)


def test_curriculum_widens_the_distribution_for_later_episodes() -> None:
    wide = ScenarioDistribution(demand_level=(0.5, 1.5))
    reference, batched = pair("tune", "serial-3", 2)
    reference.seed(2)
    batched.seed(2)
    reference.reset()
    batched.reset()
    assert batched.env_method("set_distribution", wide) == [None, None]
    reference.env_method("set_distribution", wide)
    for _ in range(2 * batched.task.n_steps):  # into episodes drawn from the wide distribution
        actions = np.zeros((2, *batched.action_space.shape), np.float32)
        assert_same(reference.step(actions), batched.step(actions))
    levels = batched.task._sim.paths.expected_demand[:, 0, 0]
    assert not np.allclose(levels, levels[0])  # demand level now differs per path
