"""Gymnasium environments over the simulator: tune (s, S) per review epoch, or order directly.

Both run one sample path per episode, a fresh one at every reset, drawn from
the environment's own seeded Generator (``reset(seed=...)``); when the spec
has ``randomisation`` or a ``distribution`` is given, every episode's path has
its own domain-randomised parameters. Pass ``options={"paths": p}`` to
``reset`` to play a given single-path :class:`~scenarios.paths.SamplePaths`
instead (held-out evaluation).

For many environments at once use the batched VecEnvs of :mod:`rl.vec_env`:
environment ``i`` of a VecEnv seeded ``s`` is this environment reset with
seed ``s + i`` (on the same path; floats equal up to the last bits).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from rl.anchor import Anchor
from rl.episodes import PathSource
from rl.tasks import DirectOrderTask, Task, TuneTask
from scenarios.distribution import ScenarioDistribution
from scenarios.errors import SpecError
from scenarios.paths import SamplePaths
from scenarios.policies import ParametricPolicy
from scenarios.spec import Spec, load
from scenarios.tuning import TuneResult

__all__ = ["DirectOrderEnv", "TuneEnv"]


class _TaskEnv(gym.Env):
    """A :class:`~rl.tasks.Task` on one path per episode, as a gymnasium.Env."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, task: Task, episodes_per_draw: int | None) -> None:
        self.task = task
        self.observation_space = task.observation_space
        self.action_space = task.action_space
        self.render_mode = None
        self._block = episodes_per_draw
        self._source = PathSource(task.spec, task.periods, task.warmup, episodes_per_draw)

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode on a fresh path (or on ``options["paths"]``).

        :param seed: reseed the environment's Generator (and drop pre-drawn paths).
        :param options: ``{"paths": SamplePaths}`` with one path of
            ``warmup + periods`` periods to play instead of a fresh one.
        :return: ``(observation, {})``.
        """
        super().reset(seed=seed)
        if seed is not None:
            self._source.clear()
        paths = (options or {}).get("paths")
        if paths is None:
            paths = self._source.next(self.np_random)
        elif not isinstance(paths, SamplePaths) or paths.n_paths != 1:
            raise SpecError("options.paths", "must be a SamplePaths with one path")
        return self.task.start(paths)[0], {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Advance one step; ``truncated`` is True on the last step of the horizon.

        :return: ``(observation, reward, terminated=False, truncated, info)``;
            ``info`` holds ``cost`` of the step and, with a fill target,
            ``fill_rate`` and ``fill_penalty``.
        """
        obs, reward, truncated, info = self.task.step(np.asarray(action, dtype=float)[None])
        return obs[0], float(reward[0]), False, bool(truncated), {k: float(v[0]) for k, v in info.items()}

    def set_distribution(self, distribution: ScenarioDistribution | None) -> None:
        """Draw later episodes from ``distribution`` (``None``: none); pre-drawn paths are dropped."""
        self.task.set_distribution(distribution)
        self._source = PathSource(self.task.spec, self.task.periods, self.task.warmup, self._block)

    @property
    def anchor(self) -> Anchor:
        """The :class:`~rl.anchor.Anchor` of the task."""
        return self.task.anchor


class TuneEnv(_TaskEnv):
    """Tune a classical policy's parameters every review epoch, as residuals around a tuned anchor.

    One step is a review epoch of ``epoch`` periods: the action sets, for
    every node with a supplier and every SKU, bounded residuals in ``[-1, 1]``
    around the anchor (see :class:`~rl.actions.ResidualMap`); the policy then
    orders with those levels for the epoch. A zero action reproduces the anchor
    exactly. Actions are per node and SKU; the anchor's per-node levels are
    spread over SKUs by demand share, as the classical policies do.

    Observation: :class:`~rl.observation.Observer` with the current levels.
    Reward: minus the epoch's cost over the anchor's expected epoch cost (its
    mean cost per period on the training paths times the epoch's periods),
    minus the fill-rate penalty when ``fill_target`` is set.

    :param spec: a scenario or a built-in scenario name.
    :param epoch: periods per review epoch (one step).
    :param parametrisation: ``"sS"`` (reorder point shift and gap) or
        ``"base-stock"`` (safety stock on the base-stock level).
    :param anchor: an :class:`~rl.anchor.Anchor`, a classical policy or a
        :class:`~scenarios.tuning.TuneResult`; ``None`` tunes one on training
        paths at construction (cached in-process).
    :param distribution: domain randomisation drawn per episode; ``None`` keeps
        the spec's own ``randomisation`` (if any).
    :param periods: periods measured per episode (default ``spec.horizon``).
    :param warmup: warm-up periods at the start of each episode (default
        ``spec.warmup``); the reward counts them too.
    :param residual_scale: residual range as a fraction of the anchor's level.
    :param window: periods of demand history and forecast observed (default ``epoch``).
    :param fill_target: fill rate the reward is shaped toward (e.g. 0.95).
    :param fill_weight: penalty per unit of fill rate below the target.
    :param anchor_paths: training paths for tuning the anchor and its cost.
    :param anchor_seed: seed of those paths.
    :param time_feature: observe ``t / T`` (leave it out for an agent meant to
        run on horizons longer than its episodes).
    :param relative_reward: reward minus the anchor's cost on the same path and
        periods (a control variate; see :class:`~rl.tasks.Task`).
    :param pipeline: also observe the units in transit per arc by arrival period
        and what is owed per arc (as :class:`DirectOrderEnv` does).
    :param episodes_per_draw: paths drawn at once per environment (default:
        what fits in about 1 MiB, at most 8).
    """

    def __init__(self, spec: Spec | str, *, epoch: int = 4, parametrisation: str = "sS",
                 anchor: Anchor | ParametricPolicy | TuneResult | None = None,
                 distribution: ScenarioDistribution | None = None,
                 periods: int | None = None, warmup: int | None = None, residual_scale: float = 0.5,
                 window: int | None = None, fill_target: float | None = None, fill_weight: float = 1.0,
                 anchor_paths: int = 64, anchor_seed: int = 0, time_feature: bool = True,
                 episodes_per_draw: int | None = None, relative_reward: bool = False,
                 pipeline: bool = False) -> None:
        task = TuneTask(load(spec) if isinstance(spec, str) else spec, epoch=epoch,
                        parametrisation=parametrisation, anchor=anchor, distribution=distribution,
                        periods=periods, warmup=warmup, residual_scale=residual_scale, window=window,
                        fill_target=fill_target, fill_weight=fill_weight, anchor_paths=anchor_paths,
                        anchor_seed=anchor_seed, time_feature=time_feature,
                        relative_reward=relative_reward, pipeline=pipeline)
        super().__init__(task, episodes_per_draw)


class DirectOrderEnv(_TaskEnv):
    """Choose the order quantity on every arc and SKU each period (the classic formulation).

    As in OR-Gym and most RL-for-inventory papers: one step is one period and
    the action, in ``[-1, 1]`` per arc and SKU, is the order
    ``(a + 1) / 2 * max_order`` (:class:`~rl.actions.OrderMap`). The
    observation adds the pipeline by arrival period and what is owed per arc.
    The reward is minus the period's cost over the anchor's mean cost per
    period (the anchor, a tuned base-stock policy by default, only scales it).

    :param spec: a scenario or a built-in scenario name.
    :param max_order: largest order per arc and SKU (number or ``(arcs, skus)``);
        ``None``: ``max_order_factor`` times the arc's mean demand per period.
    :param max_order_factor: see ``max_order``.
    :param window: periods of demand history and forecast observed.

    The other parameters are those of :class:`TuneEnv`.
    """

    def __init__(self, spec: Spec | str, *, max_order: float | np.ndarray | None = None,
                 max_order_factor: float = 3.0, anchor: Anchor | ParametricPolicy | TuneResult | None = None,
                 distribution: ScenarioDistribution | None = None, periods: int | None = None,
                 warmup: int | None = None, window: int = 4, fill_target: float | None = None,
                 fill_weight: float = 1.0, anchor_paths: int = 64, anchor_seed: int = 0,
                 time_feature: bool = True, episodes_per_draw: int | None = None,
                 relative_reward: bool = False) -> None:
        task = DirectOrderTask(load(spec) if isinstance(spec, str) else spec, max_order=max_order,
                               max_order_factor=max_order_factor, anchor=anchor, distribution=distribution,
                               periods=periods, warmup=warmup, window=window, fill_target=fill_target,
                               fill_weight=fill_weight, anchor_paths=anchor_paths, anchor_seed=anchor_seed,
                               time_feature=time_feature, relative_reward=relative_reward)
        super().__init__(task, episodes_per_draw)
