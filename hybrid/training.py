"""The hybrid agents as environment kinds of :func:`rl.train`: ``hybrid-mpc`` and ``hybrid-anchor``.

* ``hybrid-mpc`` (:func:`mpc_setup`): :class:`~hybrid.mpc.MPCSafetyTask` -- the agent
  sets the rolling-horizon planner's safety stock each epoch; zero action is the
  planner with the fixed safety stock ``base``. Training runs the planner with
  ``train_horizon`` and ``train_gap`` (shorter and looser than deployment, to
  keep a solve per path and period affordable); the saved agent is deployed
  with ``horizon`` and ``mip_gap``; ``scenarios`` and ``branches`` make the planner the
  stochastic one (:class:`milp.RollingHorizonPolicy`). These go in ``TrainConfig.env_options``.
* ``hybrid-anchor`` (:func:`anchor_setup`): :class:`~rl.tasks.TuneTask` whose anchor
  is the MILP sample-average-approximation optimum (:func:`milp.optimise_static`,
  local base-stock levels, read as (s, S) with ``s = S``), so the agent's
  residuals move (s, S) around the MILP levels. It is saved as a ``tune`` agent:
  ``rl.load`` and ``rl:path=`` run it too.

:func:`rl.train` names both in :data:`rl.kinds.KINDS` and imports this module
when a run asks for one; it trains them as any agent (batched VecEnv,
normalisation, seeded PPO, the learning curve in the metadata, the rl layout).
:func:`train_hybrid` is the short call with the hybrid's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rl.anchor import Anchor, make_anchor
from rl.kinds import EnvSetup, tune
from rl.training import TrainConfig, train
from scenarios.distribution import ScenarioDistribution
from scenarios.errors import SpecError
from scenarios.paths import SamplePaths
from scenarios.policies import make_policy
from scenarios.spec import Spec, load

__all__ = ["MPC_OPTIONS", "HybridResult", "anchor_setup", "milp_anchor", "mpc_setup", "train_hybrid"]

KINDS = ("mpc", "anchor")

#: hybrid-mpc's ``TrainConfig.env_options`` and their defaults.
MPC_OPTIONS: dict[str, Any] = {"base": 0.0, "horizon": 13, "train_horizon": 6, "mip_gap": 0.01,
                               "train_gap": 0.05, "time_limit": 2.0, "scenarios": 1, "branches": None}


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


def _refuse(config: TrainConfig, **unsupported: Any) -> None:
    """Raise for a config field the kind does not take, set to something but its default."""
    for name, default in unsupported.items():
        if getattr(config, name) != default:
            raise SpecError(name, f"{config.env} does not take {name} (got {getattr(config, name)!r})")


def mpc_setup(config: TrainConfig, spec: Spec, distribution: ScenarioDistribution | None) -> EnvSetup:
    """``hybrid-mpc``: the planner's safety stock per epoch (module notes); options in ``env_options``."""
    from hybrid.mpc import HybridMPCPolicy, MPCSafetyTask

    unknown = sorted(set(config.env_options) - set(MPC_OPTIONS))
    if unknown:
        raise SpecError(f"env_options.{unknown[0]}", f"hybrid-mpc takes {', '.join(MPC_OPTIONS)}")
    _refuse(config, fill_target=None, pipeline=False, parametrisation="sS")
    options = {**MPC_OPTIONS, **config.env_options}
    anchor = config.anchor or make_anchor(spec, "sS", paths=config.anchor_paths, seed=config.seed)
    task = MPCSafetyTask(spec, anchor=anchor, base=np.asarray(options["base"], dtype=float),
                         residual_scale=config.residual_scale, epoch=config.epoch,
                         horizon=options["train_horizon"], mip_gap=options["train_gap"],
                         time_limit=options["time_limit"], distribution=distribution, periods=config.periods,
                         warmup=config.warmup, time_feature=config.time_feature,
                         relative_reward=config.relative_reward, scenarios=options["scenarios"],
                         branches=options["branches"])
    return EnvSetup(task, "mpc", task.options(), HybridMPCPolicy, {"size": task.action_size},
                    {"deploy": {"horizon": options["horizon"], "mip_gap": options["mip_gap"]}})


def anchor_setup(config: TrainConfig, spec: Spec, distribution: ScenarioDistribution | None) -> EnvSetup:
    """``hybrid-anchor``: tune (s, S) around the MILP's static levels (module notes)."""
    _refuse(config, parametrisation="sS")
    if config.env_options:
        raise SpecError(f"env_options.{next(iter(config.env_options))}", "hybrid-anchor takes no env_options")
    anchor = config.anchor or milp_anchor(spec, paths=config.anchor_paths, seed=config.seed)
    return tune(config, spec, distribution, anchor=anchor)


def train_hybrid(scenario: str | Spec, kind: str = "mpc", *, timesteps: int = 2048, n_envs: int = 8,
                 seed: int = 0, out: str | Path | None = None, epoch: int = 13, residual_scale: float = 2.0,
                 base: float | list | np.ndarray = 0.0, horizon: int = 13, train_horizon: int = 6,
                 mip_gap: float = 0.01, train_gap: float = 0.05, time_limit: float = 2.0,
                 anchor: Anchor | None = None, anchor_paths: int = 64, learning_rate: float = 3e-4,
                 n_steps: int | None = None, batch_size: int = 64, n_epochs: int = 10,
                 log_std_init: float = -1.0, relative_reward: bool = False,
                 progress_bar: bool = True) -> HybridResult:
    """Train a hybrid agent with PPO and save it: :func:`rl.train` with the hybrid's defaults.

    The same as ``rl.train(TrainConfig(env=f"hybrid-{kind}", ...))`` with these defaults, no
    held-out evaluation (each would run the planner on every path and period; ``model.zip`` is
    the final model) and torch's own thread count.

    :param scenario: a built-in name, TOML path or spec.
    :param kind: ``"mpc"`` or ``"anchor"`` (see the module notes).
    :param out: output directory (default ``runs/<scenario>-hybrid-<kind>-seed<seed>``).
    :param residual_scale: ``mpc``: largest safety move in periods of demand; ``anchor``: the
        residual range as a fraction of the anchor's level.
    :param base: ``mpc``: the fixed safety stock around which the agent moves.
    :param horizon: ``mpc``: the planner's window when deployed; ``train_horizon`` while training.
    :param mip_gap: ``mpc``: MIP gap when deployed; ``train_gap`` while training.
    :param time_limit: ``mpc``: seconds per solve.
    :param anchor: the anchor (default: tuned (s, S) for ``mpc``; the MILP static levels for ``anchor``).
    :param n_steps: PPO steps per environment per rollout (default: one episode).
    :param relative_reward: reward relative to the anchor run alongside on the same paths.

    The other parameters are the :class:`~rl.training.TrainConfig` fields of the same name.

    :raises SpecError: a bad kind, scenario or option.
    """
    if kind not in KINDS:
        raise SpecError("kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    spec = load(scenario) if isinstance(scenario, str) else scenario
    mpc = {"base": base, "horizon": horizon, "train_horizon": train_horizon, "mip_gap": mip_gap,
           "train_gap": train_gap, "time_limit": time_limit}
    result = train(TrainConfig(
        scenario=spec, env=f"hybrid-{kind}", env_options=mpc if kind == "mpc" else {}, anchor=anchor,
        timesteps=timesteps, n_envs=n_envs, seed=seed, epoch=epoch, residual_scale=residual_scale,
        anchor_paths=anchor_paths, learning_rate=learning_rate, n_steps=n_steps, batch_size=batch_size,
        n_epochs=n_epochs, log_std_init=log_std_init, relative_reward=relative_reward, eval_paths=0,
        eval_every=0, progress_bar=progress_bar, torch_threads=0,
        out=str(out or f"runs/{spec.name}-hybrid-{kind}-seed{seed}")))
    return HybridResult(result.model_path, result.timesteps, result.train_time_s, result.anchor, result.curve)
