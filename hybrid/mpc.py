"""hybrid-mpc: the rolling-horizon MILP planner, its safety stock set by an RL agent each epoch.

The agent does not order. Every ``epoch`` periods it reads the same
observation as the tuning agent (:class:`~rl.observation.Observer`: inventory
position, backlog, demand history and forecast, time and season, and the
current safety stock) and sets the planner's safety-stock target per node and
SKU; the planner (:class:`~milp.rolling.RollingHorizonPolicy`, one persistent
HiGHS model per run) plans ``H`` periods ahead every period and orders the
first. The action is a bounded residual around a fixed safety stock ``base``::

    safety[p, n, k] = max(base[n, k] + residual_scale * rate[n, k] * action[p, n, k], 0)

with ``rate`` the mean demand per period through the node
(:attr:`~scenarios.network.Network.demand_rate`), so a zero action is the
rolling-horizon planner with the fixed safety stock ``base`` exactly, and
``residual_scale = 2`` lets the agent move each target by up to two periods
of demand.

Training with a MILP inside the environment costs one solve per path and
period. :class:`MPCSafetyTask` keeps one persistent model per batch of
environments (the planner is reset, not rebuilt, for new episodes) and lets
training use a shorter horizon and a looser MIP gap than deployment
(``train_horizon``, ``train_gap`` in :func:`hybrid.training.train_hybrid`);
the deployed policy (:class:`HybridMPCPolicy`) always runs the true planner,
and the arena measures that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rl.anchor import Anchor
from rl.policy import AgentPolicy
from rl.tasks import Task
from scenarios.distribution import ScenarioDistribution
from scenarios.errors import SpecError
from scenarios.network import Network
from scenarios.simulator import State
from scenarios.spec import Spec

__all__ = ["HybridMPCPolicy", "MPCSafetyTask", "load_mpc"]


class MPCSafetyTask(Task):
    """One step is a review epoch: set the planner's safety stock, then plan and order ``epoch`` periods.

    :param spec: the scenario.
    :param anchor: the tuned static policy whose expected cost scales the reward
        (``None``: tune an (s, S) one); the planner does the ordering.
    :param base: the fixed safety stock the residuals move around: a scalar, ``(N,)``
        (split over SKUs by demand share) or ``(N, K)``, in units.
    :param residual_scale: largest move, in periods of mean demand through the node.
    :param epoch: periods per step.
    :param horizon: the planner's window ``H``.
    :param mip_gap: the planner's relative MIP gap.
    :param time_limit: seconds per solve.
    :param distribution: domain randomisation per episode.
    :param periods: measured periods per episode (default: the spec's horizon).
    :param warmup: warm-up periods (default: the spec's).
    :param window: periods of demand history and forecast observed (default ``epoch``).
    :param anchor_paths: training paths for tuning the anchor.
    :param anchor_seed: their seed.
    :param time_feature: observe ``t / T``.
    :param relative_reward: reward the cost of the (cheap, static) anchor over the same
        periods of the same path minus the planner's (:class:`rl.tasks.Task`): a control
        variate that takes most of the demand noise out of the reward.
    :param scenarios: futures the planner plans against (1: the deterministic planner; see
        :class:`milp.RollingHorizonPolicy`).
    :param branches: branches of the planner's three-stage tree (default: two stages).
    """

    def __init__(self, spec: Spec, *, anchor: Anchor | None = None, base: float | np.ndarray = 0.0,
                 residual_scale: float = 2.0, epoch: int = 13, horizon: int = 13, mip_gap: float = 0.01,
                 time_limit: float = 10.0, distribution: ScenarioDistribution | None = None,
                 periods: int | None = None, warmup: int | None = None, window: int | None = None,
                 anchor_paths: int = 64, anchor_seed: int = 0, time_feature: bool = True,
                 relative_reward: bool = False, scenarios: int = 1, branches: int | None = None) -> None:
        from milp import RollingHorizonPolicy

        if not (np.isfinite(residual_scale) and residual_scale > 0):
            raise SpecError("residual_scale", f"must be a number > 0, got {residual_scale}")
        super().__init__(spec, anchor=anchor, anchor_family="sS", distribution=distribution,
                         periods=periods, warmup=warmup, periods_per_step=epoch,
                         window=epoch if window is None else window, fill_target=None, fill_weight=0.0,
                         anchor_paths=anchor_paths, anchor_seed=anchor_seed, param_names=("safety",),
                         time_feature=time_feature, relative_reward=relative_reward)
        self.epoch, self.residual_scale = self.periods_per_step, float(residual_scale)
        self.planner = RollingHorizonPolicy(self.spec, horizon=horizon, safety=base, mip_gap=mip_gap,
                                            time_limit=time_limit, scenarios=scenarios, branches=branches)
        self.base = self.planner._expand_safety(self.network)  # (N, K); checks the shape
        self._step = self.residual_scale * self.network.demand_rate  # units per unit of action
        self._levels = np.zeros((0, *self.base.shape))
        self._built_for: int | None = None

    @property
    def action_size(self) -> int:
        """One residual per node and SKU."""
        return self.base.size

    def safety(self, action: np.ndarray) -> np.ndarray:
        """Safety targets ``(paths, N, K)`` for actions ``(paths, N * K)`` in ``[-1, 1]`` (clipped)."""
        action = np.clip(np.asarray(action, dtype=float), -1.0, 1.0).reshape(-1, *self.base.shape)
        return np.maximum(self.base + self._step * action, 0.0)

    def begin(self, n_paths: int, network: Network | None = None) -> None:
        """Start the planner (one persistent model per batch size) at the base safety stock.

        :param network: unused: the planner plans on the task's own network (an agent rebuilds the task
            on the evaluated scenario).
        """
        if self._built_for != n_paths:  # one persistent model for every episode of the batch
            self.planner.reset(self.network, n_paths)
            self._built_for = n_paths
        else:
            self.planner.restart()
        self._levels = np.broadcast_to(self.base, (n_paths, *self.base.shape)).copy()
        self.planner.set_safety(self._levels)

    def apply(self, action: np.ndarray) -> None:
        """Set the safety targets the residuals ``action`` give."""
        self._levels = self.safety(action)
        self.planner.set_safety(self._levels)

    def orders_at(self, state: State, t: int) -> np.ndarray:
        """What the planner orders with the current targets."""
        return self.planner.act(state, t)

    def params(self) -> dict[str, np.ndarray]:
        """The current safety targets."""
        return {"safety": self._levels}

    def options(self) -> dict[str, Any]:
        """The keyword options that rebuild this task (saved in the metadata)."""
        return {"base": self.base.tolist(), "residual_scale": self.residual_scale, "epoch": self.epoch,
                "horizon": self.planner.horizon, "mip_gap": self.planner.mip_gap,
                "time_limit": self.planner.time_limit, "periods": self.periods, "warmup": self.warmup,
                "window": self.observer.window, "relative_reward": self.relative_reward,
                "scenarios": self.planner.futures, "branches": self.planner.branches}


class HybridMPCPolicy(AgentPolicy):
    """A trained hybrid-mpc agent with the true planner, as a :class:`~scenarios.policy.Policy`.

    An :class:`~rl.policy.AgentPolicy` whose task is :class:`MPCSafetyTask`, built with the
    deployment's horizon and MIP gap on the evaluated scenario at every :meth:`reset`.

    :param model: the SB3 model.
    :param metadata: what :func:`rl.train` saved for a ``hybrid-mpc`` run.
    :param normalisation: observation statistics the model was trained with, or ``None``.
    :param horizon: the planner's window when deployed (default: the one saved for deployment).
    :param mip_gap: its MIP gap (default: the saved one).
    :param deterministic: play the mean action.
    :param label: shown by :meth:`describe`.
    """

    name = "hybrid-mpc"
    kinds = ("mpc",)
    shape_keys = ("nodes", "skus")
    rebuild = True

    def __init__(self, model: Any, metadata: dict[str, Any], *, normalisation: dict[str, Any] | None = None,
                 horizon: int | None = None, mip_gap: float | None = None, deterministic: bool = True,
                 label: str = "") -> None:
        options = dict(metadata["env_options"])
        options["horizon"] = int(horizon or metadata["deploy"]["horizon"])
        options["mip_gap"] = float(mip_gap or metadata["deploy"]["mip_gap"])
        self.options = options
        super().__init__(model, metadata, normalisation=normalisation, deterministic=deterministic,
                         label=label)

    def make_task(self, spec: Spec) -> MPCSafetyTask:
        """The planner's task on ``spec`` with the deployment's horizon and MIP gap."""
        return MPCSafetyTask(spec, anchor=self.anchor, **self.options)

    @classmethod
    def refusal(cls, path: str | Path, env: str) -> str:
        """Why an agent of metadata ``env`` is not a hybrid-mpc agent."""
        return f"{str(path)!r} holds a {env!r} agent, not hybrid-mpc"

    @property
    def stats(self) -> list:
        """The planner's solve statistics of the current run."""
        return self.task.planner.stats

    def describe(self) -> dict[str, Any]:
        """What the policy is, for result tables."""
        return {"model": self.label, "horizon": self.options["horizon"], "epoch": self.options["epoch"],
                "base_safety": np.round(np.asarray(self.options["base"]), 4).tolist()}


def load_mpc(path: str | Path, **options: Any) -> HybridMPCPolicy:
    """Load a saved hybrid-mpc agent (a directory written by :func:`rl.train`, env ``hybrid-mpc``).

    :param path: the directory or its ``model.zip``.
    :param options: ``horizon`` / ``mip_gap`` for the deployed planner.
    :raises SpecError: not a saved hybrid-mpc agent.
    """
    return HybridMPCPolicy.load(path, **options)
