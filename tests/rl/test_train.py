"""Training: tiny seeded runs are reproducible, learn, and the saved agent runs in the simulator."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import rl
from rl.policy import algorithm, make_task
from rl.training import TrainConfig, train
from rl.vec_env import BatchedVecEnv
from scenarios import builtin
from scenarios.errors import SpecError
from scenarios.evaluate import evaluate_policies
from scenarios.paths import SamplePaths
from scenarios.registry import build_policy, policy_names
from scenarios.simulator import simulate


def tiny(out, **overrides) -> TrainConfig:
    """512 timesteps of PPO on 8 batched environments of lost-sales-poisson (30 periods + 50 warm-up)."""
    options = dict(scenario="lost-sales-poisson", timesteps=512, n_envs=8, n_steps=32, batch_size=64,
                   n_epochs=2, periods=30, eval_every=256, eval_paths=8, anchor_paths=8, progress_bar=False,
                   out=str(out))
    return TrainConfig(**{**options, **overrides})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train(tiny(tmp_path_factory.mktemp("agent")))


def parameters(path) -> dict[str, np.ndarray]:
    model = algorithm("ppo").load(str(path), device="cpu")
    return {k: v.numpy() for k, v in model.policy.state_dict().items()}


def test_same_seed_same_model_and_learning_curve(trained, tmp_path) -> None:
    again = train(tiny(tmp_path / "again"))
    assert again.history == trained.history
    first, second = (parameters(r.model_path.parent / "final_model.zip") for r in (trained, again))
    for key, value in first.items():
        np.testing.assert_array_equal(second[key], value, err_msg=key)
    other = train(tiny(tmp_path / "other", seed=1))
    changed = parameters(other.model_path.parent / "final_model.zip")
    assert any(not np.array_equal(changed[k], v) for k, v in first.items())


def test_the_saved_agent_acts_in_simulate_exactly_as_in_its_env(trained) -> None:
    agent = rl.load(trained.model_path)
    spec = builtin.get("lost-sales-poisson")
    paths = SamplePaths.draw(spec, 3, periods=30, seed=21)
    run = simulate(spec, paths, agent)

    # The same model stepping the training environment on the same paths.
    metadata = agent.metadata
    stats = metadata["observation"]["normalisation"]["model.zip"]
    mean, var = np.array(stats["mean"]), np.array(stats["var"])
    env = BatchedVecEnv(make_task(metadata), 3)
    env.set_options([{"paths": paths.subset(slice(i, i + 1))} for i in range(3)])
    obs, costs = env.reset(), []
    while True:
        normalised = np.clip((obs - mean) / np.sqrt(var + stats["epsilon"]), -stats["clip_obs"],
                             stats["clip_obs"]).astype(np.float32)
        action, _ = agent.model.predict(normalised, deterministic=True)
        obs, _, done, infos = env.step(action)
        costs.append([info["cost"] for info in infos])
        if done.all():
            break
    epoch = metadata["env_options"]["epoch"]
    expected = [run.total_cost[:, t:t + epoch].sum(axis=1) for t in range(0, paths.n_periods, epoch)]
    np.testing.assert_array_equal(np.array(costs), np.array(expected))


def test_learning_improves_on_the_untrained_agent(tmp_path) -> None:
    result = train(tiny(tmp_path, env="direct", timesteps=4096, eval_every=2048, n_epochs=4,
                        learning_rate=1e-3))
    untrained = result.history[0]
    assert untrained["timesteps"] == 0
    assert result.best_cost < 0.8 * untrained["cost"]


def test_rl_is_a_policy_name_for_evaluate(trained) -> None:
    assert "rl" in policy_names()
    spec = builtin.get("lost-sales-poisson")
    policy = build_policy(spec, f"rl:path={trained.model_path.parent}", lambda: None)
    assert isinstance(policy, rl.AgentPolicy)
    results = evaluate_policies(spec, ["sS:s=18;S=19", f"rl:path={trained.model_path.parent}"], paths=4,
                                periods=30).results
    assert results[1].family == "rl" and results[1].difference is not None
    with pytest.raises(SpecError, match="policy.path"):
        build_policy(spec, "rl", lambda: None)


def test_a_scenario_of_another_shape_is_refused(trained) -> None:
    agent = rl.load(trained.model_path)
    spec = builtin.get("serial-3")
    with pytest.raises(SpecError, match="trained on 'lost-sales-poisson' whose nodes are"):
        simulate(spec, SamplePaths.draw(spec, 1, periods=5), agent)
    with pytest.raises(SpecError, match="does not exist"):
        rl.load(trained.model_path.parent / "missing")


def test_invalid_config_fields_are_named() -> None:
    with pytest.raises(SpecError, match="algo"):
        train("serial-3", algo="dqn")
    with pytest.raises(SpecError, match="n_envs"):
        TrainConfig(n_envs=0).validate()
    with pytest.raises(SpecError, match="env"):
        TrainConfig(env="tuning").validate()
    with pytest.raises(SpecError, match="eval_paths"):
        TrainConfig(eval_paths=-1).validate()
    TrainConfig(n_steps=None, eval_paths=0).validate()  # one episode per rollout; no evaluation


@pytest.mark.parametrize("algo", ["a2c", "sac"])
def test_other_algorithms_train_and_load(algo: str, tmp_path) -> None:
    result = train(tiny(tmp_path, algo=algo, timesteps=256, eval_every=0))
    agent = rl.load(result.model_path)
    spec = builtin.get("lost-sales-poisson")
    assert np.isfinite(simulate(spec, SamplePaths.draw(spec, 2, periods=30), agent).total_cost).all()


def test_a_rounded_up_step_count_is_told_and_the_progress_bar_stays_off_stdout(tmp_path, capfd) -> None:
    # 4 environments × 16 steps: PPO trains whole rollouts of 64 steps, so 100 becomes 128
    result = train(tiny(tmp_path, timesteps=100, n_envs=4, n_steps=16, batch_size=32, eval_every=0,
                        progress_bar=True))
    out, err = capfd.readouterr()
    assert result.timesteps == 128
    assert out == ""  # SB3's own bar would draw on stdout, into redirected output
    assert "note: training 128 steps, not 100: PPO collects 64 at a time (4 environments × 16 steps)" in err
    assert "128/128" in err  # the bar, sized to the real count


def test_ppo_minibatch_divides_the_rollout_so_sb3_has_nothing_to_warn(tmp_path, capfd) -> None:
    # 8 environments × 32 steps = 256; 100 does not divide it, 128 is the nearest size that does
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = train(tiny(tmp_path, timesteps=256, batch_size=100, eval_every=0, eval_paths=2))
    assert not [w for w in caught if "mini-batch" in str(w.message)]
    meta = json.loads(result.metadata_path.read_text())
    assert meta["training"]["batch_size"] == 128
    assert "note: PPO minibatch 128, not 100" in capfd.readouterr().err


def test_the_minibatch_is_the_divisor_of_the_rollout_nearest_to_batch_size() -> None:
    assert [TrainConfig(batch_size=b).minibatch(160) for b in (64, 512, 2, 40, 60)] == [80, 160, 2, 40, 40]
    assert TrainConfig(batch_size=4).minibatch(7) == 7  # a prime rollout: the whole of it
    with pytest.raises(SpecError, match="n_steps"):
        TrainConfig().minibatch(1)


def test_without_evaluation_the_final_model_is_kept_with_its_normalisation(tmp_path) -> None:
    result = train(tiny(tmp_path, timesteps=256, eval_paths=0))
    meta = json.loads(result.metadata_path.read_text())
    stats = meta["observation"]["normalisation"]
    assert result.history == [] and np.isnan(result.best_cost)
    assert stats["model.zip"] == stats["final_model.zip"]
    assert meta["training"]["history"] == [{**row, "anchor_cost": result.anchor.cost_per_period}
                                           for row in result.curve]  # the curve hybrid.batch reads
    assert rl.load(result.model_path).describe()["env"] == "tune"


def test_a_model_file_without_its_normalisation_is_refused(trained, tmp_path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(trained.model_path.parent, copy)
    shutil.copy(copy / "model.zip", copy / "renamed.zip")
    with pytest.raises(SpecError, match="renamed.zip has no normalisation"):
        rl.load(copy / "renamed.zip")
    assert rl.load(copy / "final_model.zip").describe()["model"].endswith("final_model.zip")
