"""Native Stable-Baselines3 VecEnvs: all environments are the path axis of one batched simulation.

A :class:`BatchedTuneEnv` with ``n_envs`` environments runs one
:class:`~rl.tasks.TuneTask` on ``n_envs`` sample paths: a step is one batched
simulator call for all of them, with no per-environment Python object in the
loop. Episodes have a fixed length, so all environments finish together and
are reset together, each on a fresh (domain-randomised) path; the last
observation of each finished episode is in ``infos[i]["terminal_observation"]``
and ``infos[i]["TimeLimit.truncated"]`` is True, as SB3 expects.

Seeding contract (SB3's own, as in ``DummyVecEnv``): ``vec_env.seed(s)`` makes
environment ``i`` behave like the single environment reset with
``seed = s + i`` (each environment owns a Generator made by gymnasium's
``seeding.np_random`` and a :class:`~rl.episodes.PathSource`). So
``BatchedTuneEnv(spec, n)`` and ``DummyVecEnv([lambda: TuneEnv(spec)] * n)``
seeded alike play the same paths and return the same dones, and the same
observations, rewards and infos up to the last bits of floating point
(vectorised and BLAS kernels may round a batch of ``n`` paths differently
from one path on some CPUs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn

from rl.anchor import Anchor
from rl.episodes import PathSource, stack_paths
from rl.tasks import DirectOrderTask, Task, TuneTask
from scenarios.distribution import ScenarioDistribution
from scenarios.errors import SpecError
from scenarios.paths import SamplePaths
from scenarios.spec import Spec, load

__all__ = ["BatchedDirectOrderEnv", "BatchedTuneEnv", "BatchedVecEnv"]


class BatchedVecEnv(VecEnv):
    """A :class:`~rl.tasks.Task` over ``n_envs`` paths as an SB3 ``VecEnv``.

    Attributes and methods are shared by all environments: ``get_attr``,
    ``set_attr`` and ``env_method`` act on the batch (``set_attr`` and
    ``env_method`` only for all environments at once).

    :param task: the batched engine.
    :param n_envs: number of environments (sample paths stepped together).
    :param episodes_per_draw: paths drawn at once per environment.
    """

    def __init__(self, task: Task, n_envs: int, episodes_per_draw: int | None = None) -> None:
        if isinstance(n_envs, bool) or not isinstance(n_envs, int | np.integer) or n_envs < 1:
            raise SpecError("n_envs", f"must be an integer >= 1, got {n_envs!r}")
        self.task = task
        self.render_mode = None
        self._block = episodes_per_draw
        self._sources = [PathSource(task.spec, task.periods, task.warmup, episodes_per_draw)
                         for _ in range(n_envs)]
        self._rngs: list[np.random.Generator | None] = [None] * n_envs
        self._actions: np.ndarray | None = None
        super().__init__(int(n_envs), task.observation_space, task.action_space)

    # --------------------------------------------------------------- stepping
    def _next_paths(self) -> SamplePaths:
        """One fresh path per environment (or the one given in its reset options)."""
        paths = []
        for i, source in enumerate(self._sources):
            given = self._options[i].get("paths") if self._options[i] else None
            if given is not None and (not isinstance(given, SamplePaths) or given.n_paths != 1):
                raise SpecError("options.paths", "must be a SamplePaths with one path")
            paths.append(given if given is not None else source.next(self._rngs[i]))
        return stack_paths(paths)

    def reset(self) -> VecEnvObs:
        """Reset every environment (with the seeds and options set before, used once)."""
        for i, seed in enumerate(self._seeds):
            if seed is not None:
                self._rngs[i] = seeding.np_random(seed)[0]
                self._sources[i].clear()
            elif self._rngs[i] is None:
                self._rngs[i] = seeding.np_random()[0]
        obs = self.task.start(self._next_paths())
        self.reset_infos = [{} for _ in range(self.num_envs)]
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        """Store the actions ``(n_envs, action_size)`` for :meth:`step_wait`."""
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        """Step every environment; reset them all, on fresh paths, when the episodes end."""
        if self._actions is None:
            raise RuntimeError("step_wait() needs step_async() first")
        obs, reward, done, info = self.task.step(self._actions.reshape(self.num_envs, -1))
        self._actions = None
        keys = list(info)
        columns = [info[k].tolist() for k in keys]
        infos = [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)] if keys \
            else [{} for _ in range(self.num_envs)]
        for i, item in enumerate(infos):
            item["TimeLimit.truncated"] = done
            if done:
                item["terminal_observation"] = obs[i]
        if done:
            obs = self.task.start(self._next_paths())
            self.reset_infos = [{} for _ in range(self.num_envs)]
        return obs, reward.astype(np.float32), np.full(self.num_envs, done), infos

    def close(self) -> None:
        """Nothing to release (no subprocesses)."""

    # ------------------------------------------------------------------ batch
    def set_distribution(self, distribution: ScenarioDistribution | None) -> None:
        """Draw later episodes of every environment from ``distribution`` (``None``: no randomisation)."""
        self.task.set_distribution(distribution)
        self._sources = [PathSource(self.task.spec, self.task.periods, self.task.warmup, self._block)
                         for _ in range(self.num_envs)]

    @property
    def anchor(self) -> Anchor:
        """The :class:`~rl.anchor.Anchor` of the task."""
        return self.task.anchor

    def _all(self, indices: VecEnvIndices, what: str) -> list[int]:
        chosen = list(self._get_indices(indices))
        if sorted(chosen) != list(range(self.num_envs)):
            raise ValueError(f"{type(self).__name__}.{what} acts on all environments together "
                             f"(they share one batched task); got indices {chosen}")
        return chosen

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The shared attribute ``attr_name`` (of the VecEnv, else of its task), once per index."""
        value = getattr(self, attr_name) if hasattr(self, attr_name) else getattr(self.task, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set a shared attribute of the task (all environments at once)."""
        self._all(indices, "set_attr")
        setattr(self.task, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None,
                   **method_kwargs) -> list[Any]:
        """Call a batch-wide method (e.g. ``set_distribution``) once; its result for every index."""
        chosen = self._all(indices, "env_method")
        target = self if hasattr(self, method_name) else self.task
        result = getattr(target, method_name)(*method_args, **method_kwargs)
        return [result for _ in chosen]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """No environment is wrapped (there are no per-environment objects)."""
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        """Nothing to render."""
        return [None for _ in range(self.num_envs)]


class BatchedTuneEnv(BatchedVecEnv):
    """``n_envs`` :class:`~rl.envs.TuneEnv` environments as one batched simulation.

    :param spec: a scenario or a built-in scenario name.
    :param n_envs: number of environments.
    :param episodes_per_draw: paths drawn at once per environment.
    :param options: the keyword options of :class:`~rl.envs.TuneEnv`.
    """

    def __init__(self, spec: Spec | str, n_envs: int, *, episodes_per_draw: int | None = None,
                 **options: Any) -> None:
        super().__init__(TuneTask(load(spec) if isinstance(spec, str) else spec, **options), n_envs,
                         episodes_per_draw)


class BatchedDirectOrderEnv(BatchedVecEnv):
    """``n_envs`` :class:`~rl.envs.DirectOrderEnv` environments as one batched simulation.

    :param spec: a scenario or a built-in scenario name.
    :param n_envs: number of environments.
    :param episodes_per_draw: paths drawn at once per environment.
    :param options: the keyword options of :class:`~rl.envs.DirectOrderEnv`.
    """

    def __init__(self, spec: Spec | str, n_envs: int, *, episodes_per_draw: int | None = None,
                 **options: Any) -> None:
        super().__init__(DirectOrderTask(load(spec) if isinstance(spec, str) else spec, **options), n_envs,
                         episodes_per_draw)
