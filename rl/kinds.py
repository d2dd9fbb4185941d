"""The environment kinds :func:`rl.train` trains on, named by :attr:`rl.training.TrainConfig.env`.

A kind is a function ``(config, spec, distribution) -> EnvSetup``: it tunes
or takes the anchor, builds the batched :class:`~rl.tasks.Task`, and says how
the agent is saved and run as a policy. :data:`KINDS` names each as
``"module:function"``, imported when a run asks for it (as
:mod:`scenarios.registry` does for policy families): the hybrid layer's kinds
live in :mod:`hybrid.training`, and ``rl`` never imports ``hybrid`` at import
time, so the arrow stays ``rl`` <- ``hybrid``. A string rather than a callable
in the config keeps the config plain data (saved in the metadata, comparable,
picklable) and lets ``rl.train(TrainConfig(env="hybrid-mpc"))`` work without
importing the hybrid layer first.

>>> sorted(KINDS)
['direct', 'hybrid-anchor', 'hybrid-mpc', 'tune']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any

from rl.anchor import make_anchor
from rl.policy import AgentPolicy
from rl.tasks import DirectOrderTask, Task, TuneTask
from scenarios.distribution import ScenarioDistribution
from scenarios.spec import Spec

if TYPE_CHECKING:
    from rl.training import TrainConfig

__all__ = ["KINDS", "EnvSetup", "direct", "env_setup", "tune"]

#: Environment kinds: name -> ``"module:function"`` building its :class:`EnvSetup`.
KINDS = {"tune": "rl.kinds:tune", "direct": "rl.kinds:direct",
         "hybrid-mpc": "hybrid.training:mpc_setup", "hybrid-anchor": "hybrid.training:anchor_setup"}


@dataclass
class EnvSetup:
    """What a kind gives the trainer.

    :param task: the task the batched VecEnv runs (its anchor is the run's anchor).
    :param saved_as: the ``env`` entry of the metadata (``"tune"``, ``"direct"``, ``"mpc"``).
    :param options: the keyword options that rebuild the task (``env_options`` in the metadata).
    :param agent: the :class:`~rl.policy.AgentPolicy` class that runs the saved agent (and
        evaluates it during training).
    :param action: ``size`` and, where known, ``names`` of the action.
    :param extra: further top-level metadata (hybrid-mpc's ``deploy``).
    """

    task: Task
    saved_as: str
    options: dict[str, Any]
    agent: type[AgentPolicy]
    action: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def env_setup(config: TrainConfig, spec: Spec, distribution: ScenarioDistribution | None) -> EnvSetup:
    """The :class:`EnvSetup` of ``config.env`` on ``spec`` (the target), episodes from ``distribution``."""
    module, _, function = KINDS[config.env].partition(":")
    return getattr(import_module(module), function)(config, spec, distribution)


def common_options(config: TrainConfig) -> dict[str, Any]:
    """The task options every kind takes from the config."""
    return {"periods": config.periods, "warmup": config.warmup, "fill_target": config.fill_target,
            "fill_weight": config.fill_weight, "time_feature": config.time_feature,
            "relative_reward": config.relative_reward}


def tune(config: TrainConfig, spec: Spec, distribution: ScenarioDistribution | None, *,
         anchor: Any = None) -> EnvSetup:
    """``tune``: :class:`~rl.tasks.TuneTask`, residual (s, S) or base-stock levels per epoch.

    :param anchor: the anchor when the config gives none (default: tuned on training paths).
    """
    family = "base-stock" if config.parametrisation == "base-stock" else "sS"
    anchor = config.anchor or anchor or make_anchor(spec, family, paths=config.anchor_paths,
                                                    periods=config.periods or spec.horizon, seed=config.seed)
    options = {**common_options(config), "epoch": config.epoch, "parametrisation": config.parametrisation,
               "residual_scale": config.residual_scale, "pipeline": config.pipeline}
    task = TuneTask(spec, anchor=anchor, distribution=distribution, **options)
    action = {"size": task.action_size, "names": task.residuals.names}
    return EnvSetup(task, "tune", options, AgentPolicy, action)


def direct(config: TrainConfig, spec: Spec, distribution: ScenarioDistribution | None) -> EnvSetup:
    """``direct``: :class:`~rl.tasks.DirectOrderTask`, the order per arc and SKU each period."""
    anchor = config.anchor or make_anchor(spec, "base-stock", paths=config.anchor_paths,
                                          periods=config.periods or spec.horizon, seed=config.seed)
    options = {**common_options(config), "max_order_factor": config.max_order_factor}
    task = DirectOrderTask(spec, anchor=anchor, distribution=distribution, **options)
    action = {"size": task.action_size, "names": task.orders.names}
    return EnvSetup(task, "direct", options, AgentPolicy, action)
