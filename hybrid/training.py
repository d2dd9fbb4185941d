"""Train the hybrid agents: ``mpc`` (the planner's safety stock) and ``anchor`` (residuals on MILP levels).

* ``kind="mpc"``: :class:`~hybrid.mpc.MPCSafetyTask` -- the agent sets the
  rolling-horizon planner's safety stock each epoch; zero action is the
  planner with the fixed safety stock ``base``. Training runs the planner with
  ``train_horizon`` and ``train_gap`` (shorter and looser than deployment, to
  keep a solve per path and period affordable); the saved agent is deployed
  with ``horizon`` and ``mip_gap``.
* ``kind="anchor"``: :class:`~rl.tasks.TuneTask` whose anchor is the MILP
  sample-average-approximation optimum (:func:`milp.optimise_static`, local
  base-stock levels, read as (s, S) with ``s = S``), so the agent's residuals
  move (s, S) around the MILP levels. It is saved in the RL layer's format:
  ``rl.load`` and ``rl:path=`` run it too.

Both run PPO on the batched VecEnv (:class:`~rl.vec_env.BatchedVecEnv`) with
observation and reward normalisation, seeded; the learning curve (mean cost
per period of finished training episodes after each rollout) is saved in the
metadata. ``out/`` receives ``model.zip`` and ``metadata.json``.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rl.anchor import Anchor, make_anchor
from rl.artifacts import MODEL_FILE, NORMALIZE_FILE, agent_metadata, normalisation_stats, write_metadata
from rl.tasks import Task, TuneTask
from rl.training import learn
from rl.vec_env import BatchedVecEnv
from scenarios.errors import SpecError
from scenarios.paths import SamplePaths
from scenarios.policies import make_policy
from scenarios.spec import Spec, load

__all__ = ["HybridResult", "milp_anchor", "train_hybrid"]

KINDS = ("mpc", "anchor")


@dataclass
class HybridResult:
    """What :func:`train_hybrid` produced.

    :param model_path: ``out/model.zip``.
    :param timesteps: environment steps trained.
    :param train_time_s: wall time, anchor included.
    :param anchor: the static policy the reward is scaled by (and, for ``anchor``, moved around).
    :param curve: ``(timesteps, cost per period)`` of the training episodes, one row per rollout.
    """

    model_path: Path
    timesteps: int
    train_time_s: float
    anchor: Anchor
    curve: list[dict[str, float]]


def milp_anchor(spec: Spec, *, paths: int = 64, periods: int | None = None, seed: int = 0,
                time_limit: float = 120.0) -> Anchor:
    """The MILP-optimised static levels (SAA over ``paths`` training paths) as an (s, S) anchor with s = S."""
    from milp import optimise_static

    train = SamplePaths.draw(spec, paths, periods, seed=seed)
    result = optimise_static(spec, train, "base-stock", time_limit=time_limit)
    anchor = make_anchor(spec, "sS", policy=make_policy(spec, "base-stock", result.params), paths=paths,
                         periods=periods, seed=seed)
    return Anchor(anchor.family, anchor.params, anchor.cost_per_period,
                  f"milp.optimise_static(base-stock) on {paths} paths, seed {seed}; {anchor.source}")


def _anchor_for(spec: Spec, kind: str, anchor: Anchor | None, paths: int, seed: int) -> Anchor:
    if anchor is not None:
        return anchor
    if kind == "anchor":
        return milp_anchor(spec, paths=paths, seed=seed)
    return make_anchor(spec, "sS", paths=paths, seed=seed)


def train_hybrid(scenario: str | Spec, kind: str = "mpc", *, timesteps: int = 2048, n_envs: int = 8,
                 seed: int = 0, out: str | Path | None = None, epoch: int = 13, residual_scale: float = 2.0,
                 base: float | list | np.ndarray = 0.0, horizon: int = 13, train_horizon: int = 6,
                 mip_gap: float = 0.01, train_gap: float = 0.05, time_limit: float = 2.0,
                 anchor: Anchor | None = None, anchor_paths: int = 64, learning_rate: float = 3e-4,
                 n_steps: int | None = None, batch_size: int = 64, n_epochs: int = 10,
                 log_std_init: float = -1.0, relative_reward: bool = False,
                 progress_bar: bool = True) -> HybridResult:
    """Train a hybrid agent with PPO and save it.

    :param scenario: a built-in name, TOML path or spec.
    :param kind: ``"mpc"`` or ``"anchor"`` (see the module notes).
    :param timesteps: environment steps in total.
    :param n_envs: environments (sample paths) stepped together.
    :param seed: seeds PPO and the environments.
    :param out: output directory (default ``runs/<scenario>-hybrid-<kind>-seed<seed>``).
    :param epoch: periods per agent step.
    :param residual_scale: ``mpc``: largest safety move in periods of demand; ``anchor``: the
        residual range as a fraction of the anchor's level.
    :param base: ``mpc``: the fixed safety stock around which the agent moves.
    :param horizon: ``mpc``: the planner's window when deployed.
    :param train_horizon: ``mpc``: its window while training.
    :param mip_gap: ``mpc``: MIP gap when deployed.
    :param train_gap: ``mpc``: MIP gap while training.
    :param time_limit: ``mpc``: seconds per solve.
    :param anchor: the anchor (default: tuned (s, S) for ``mpc``; the MILP static levels for ``anchor``).
    :param anchor_paths: training paths for the anchor.
    :param learning_rate: PPO step size.
    :param n_steps: PPO steps per environment per rollout (default: one episode).
    :param batch_size: PPO minibatch.
    :param n_epochs: PPO passes per rollout.
    :param log_std_init: initial log standard deviation of the actions.
    :param relative_reward: ``mpc``: reward relative to the anchor run alongside on the same
        paths (see :class:`hybrid.mpc.MPCSafetyTask`).
    :param progress_bar: SB3's progress bar.
    :raises SpecError: a bad kind, scenario or option.
    """
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

    if kind not in KINDS:
        raise SpecError("kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    for name, value in (("timesteps", timesteps), ("n_envs", n_envs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SpecError(name, f"must be an integer >= 1, got {value!r}")
    started = time.perf_counter()
    spec = load(scenario) if isinstance(scenario, str) else scenario
    anchor = _anchor_for(spec, kind, anchor, anchor_paths, seed)
    task: Task
    if kind == "mpc":
        from hybrid.mpc import MPCSafetyTask

        task = MPCSafetyTask(spec, anchor=anchor, base=np.asarray(base, dtype=float),
                             residual_scale=residual_scale, epoch=epoch, horizon=train_horizon,
                             mip_gap=train_gap, time_limit=time_limit, relative_reward=relative_reward)
        options = task.options()
    else:
        task = TuneTask(spec, anchor=anchor, epoch=epoch, parametrisation="sS", residual_scale=residual_scale)
        options = {"periods": None, "warmup": None, "fill_target": None, "fill_weight": 1.0,
                   "time_feature": True, "epoch": epoch, "parametrisation": "sS",
                   "residual_scale": residual_scale}
    env = VecNormalize(VecMonitor(BatchedVecEnv(task, n_envs)), norm_obs=True, norm_reward=True)
    env.seed(seed)
    steps = n_steps or task.n_steps
    with warnings.catch_warnings():  # SB3 warns when the minibatch does not divide the rollout; harmless
        warnings.filterwarnings("ignore", message="You have specified a mini-batch size")
        model = PPO("MlpPolicy", env, learning_rate=learning_rate, n_steps=steps,
                    batch_size=min(batch_size, steps * n_envs), n_epochs=n_epochs, seed=seed, device="cpu",
                    policy_kwargs={"net_arch": [64, 64], "log_std_init": log_std_init}, verbose=0)
    curve: list[dict[str, float]] = []
    scale = task.cost_scale

    class Curve(BaseCallback):
        """After each rollout: mean cost per period of the training episodes that finished in it.

        With a relative reward an episode's return is the anchor's cost on its path minus the
        agent's, so the curve shows the anchor's expected cost minus that saving.
        """

        def _on_rollout_end(self) -> None:
            episodes = list(self.model.ep_info_buffer)[-n_envs:]
            if episodes:
                offset = anchor.cost_per_period if relative_reward else 0.0
                per_period = [offset - e["r"] * scale * task.periods_per_step / task.n_periods
                              for e in episodes]
                curve.append({"timesteps": int(self.num_timesteps), "cost": float(np.mean(per_period))})

        def _on_step(self) -> bool:
            return True

    learn(model, timesteps, Curve(), progress_bar)  # SB3's bar on stderr; a note if rounded up
    directory = Path(out or f"runs/{spec.name}-hybrid-{kind}-seed{seed}")
    directory.mkdir(parents=True, exist_ok=True)
    model.save(directory / MODEL_FILE)
    env.save(str(directory / NORMALIZE_FILE))  # SB3's own VecNormalize, for SB3 users (as rl.train does)
    normalisation = normalisation_stats(env)
    elapsed = time.perf_counter() - started
    metadata = agent_metadata(
        algo="ppo", env="mpc" if kind == "mpc" else "tune", env_options=options, spec=spec, anchor=anchor,
        task=task, normalisation=normalisation if kind == "mpc" else {MODEL_FILE: normalisation},
        action={"size": task.action_size},
        training={"kind": kind, "timesteps": int(model.num_timesteps), "train_time_s": elapsed,
                  "n_envs": n_envs, "seed": seed,
                  "history": [{**c, "anchor_cost": anchor.cost_per_period} for c in curve]},
        **({"deploy": {"horizon": horizon, "mip_gap": mip_gap}} if kind == "mpc" else {}))
    write_metadata(directory, metadata)
    return HybridResult(directory / MODEL_FILE, int(model.num_timesteps), elapsed, anchor, curve)
