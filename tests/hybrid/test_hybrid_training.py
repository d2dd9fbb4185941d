"""One trainer: hybrid agents train through rl.train, save the rl layout, load through one base class."""

import ast
import json
import re
from pathlib import Path

import numpy as np
import pytest

from hybrid.mpc import HybridMPCPolicy, load_mpc
from rl.anchor import Anchor
from rl.policy import AgentPolicy
from rl.training import TrainConfig, train
from scenarios.errors import SpecError
from scenarios.evaluate import evaluate_policies
from scenarios.paths import SamplePaths
from scenarios.registry import build_policy
from scenarios.spec import load

ROOT = Path(__file__).resolve().parents[2]
ANCHOR = Anchor("sS", {"s": (20, 6, 6, 6), "S": (30, 9, 9, 9)}, 40.0, "given")


def tiny_mpc(out: Path, **overrides) -> TrainConfig:
    """hybrid-mpc on divergent-1w3r: one 13-period epoch per episode, 2 environments, a 4-period planner."""
    options = dict(scenario="divergent-1w3r", env="hybrid-mpc", anchor=ANCHOR, n_envs=2, timesteps=4,
                   epoch=13, periods=13, warmup=0, n_steps=None, batch_size=64, eval_paths=2, eval_every=0,
                   env_options={"base": 1.0, "horizon": 4, "train_horizon": 4}, progress_bar=False,
                   out=str(out))
    return TrainConfig(**{**options, **overrides})


@pytest.fixture(scope="module")
def mpc_agent(tmp_path_factory):
    return train(tiny_mpc(tmp_path_factory.mktemp("mpc")))


def test_a_hybrid_mpc_agent_trains_through_rl_train_in_the_rl_layout(mpc_agent):
    meta = json.loads(mpc_agent.metadata_path.read_text())
    assert meta["env"] == "mpc" and meta["deploy"] == {"horizon": 4, "mip_gap": 0.01}
    assert meta["env_options"]["horizon"] == 4 and meta["env_options"]["base"] == [[1.0]] * 4
    stats = meta["observation"]["normalisation"]
    assert set(stats) == {"model.zip", "final_model.zip"} and set(stats["model.zip"]) >= {"mean", "var"}
    # evaluated as deployed (the planner inside HybridMPCPolicy) before and after training
    assert [h["timesteps"] for h in mpc_agent.history] == [0, 4]
    assert mpc_agent.anchor == ANCHOR and mpc_agent.curve and mpc_agent.timesteps == 4
    assert meta["training"]["batch_size"] == 2  # the whole rollout: 2 environments × 1 step


def test_the_hybrid_agent_loads_through_the_one_agent_base(mpc_agent):
    policy = build_policy(load("divergent-1w3r"), f"hybrid-mpc:path={mpc_agent.model_path.parent}", None)
    assert type(policy) is HybridMPCPolicy and isinstance(policy, AgentPolicy)
    stats = json.loads(mpc_agent.metadata_path.read_text())["observation"]["normalisation"]["model.zip"]
    np.testing.assert_array_equal(policy._norm[0], stats["mean"])
    (result,) = evaluate_policies("divergent-1w3r", [policy], paths=2, periods=13).results
    assert np.isfinite(result.kpis["cost_per_period"].mean) and policy.stats
    with pytest.raises(SpecError, match="hybrid-mpc:path="):
        AgentPolicy.load(mpc_agent.model_path.parent)


def test_an_agent_saved_in_the_old_hybrid_layout_still_loads(mpc_agent, tmp_path):
    import shutil

    old = tmp_path / "old"
    shutil.copytree(mpc_agent.model_path.parent, old)
    meta = json.loads((old / "metadata.json").read_text())
    stats = meta["observation"]["normalisation"]["model.zip"]
    meta["observation"]["normalisation"] = stats  # what hybrid.training wrote before rl.train trained it
    (old / "metadata.json").write_text(json.dumps(meta))
    agent = load_mpc(old)
    np.testing.assert_array_equal(agent._norm[1], stats["var"])
    spec = load("divergent-1w3r")
    paths = SamplePaths.draw(spec, 2, 13, seed=3, warmup=0)
    from scenarios.simulator import simulate

    np.testing.assert_array_equal(simulate(spec, paths, agent).total_cost,
                                  simulate(spec, paths, load_mpc(mpc_agent.model_path.parent)).total_cost)


def test_hybrid_kinds_refuse_what_they_do_not_take(tmp_path):
    with pytest.raises(SpecError) as err:
        train(tiny_mpc(tmp_path, env_options={"horizon": 4, "depth": 3}))
    assert err.value.field == "env_options.depth"
    with pytest.raises(SpecError) as err:
        train(tiny_mpc(tmp_path, fill_target=0.95))
    assert err.value.field == "fill_target"
    with pytest.raises(SpecError, match="hybrid-anchor"):
        train(tiny_mpc(tmp_path, env="hybrid-x"))


def test_rl_never_imports_hybrid_and_no_sb3_warning_is_silenced():
    for path in (ROOT / "rl").glob("*.py"):  # rl reaches hybrid only through rl.kinds.KINDS' strings
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not [n for n in names if n.split(".")[0] == "hybrid"], f"{path.name} imports {names}"
    for path in [*(ROOT / "rl").glob("*.py"), *(ROOT / "hybrid").glob("*.py")]:
        text = path.read_text()
        assert "mini-batch" not in text, f"{path.name} silences SB3's minibatch warning"
        assert not re.search(r"task\._(begin|apply|orders|params)\b", text), f"{path.name}: a private hook"
