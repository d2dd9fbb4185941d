"""The batched engines behind every environment: episodes on many sample paths at once.

A task runs one episode per sample path, all in step: ``start(paths)`` begins
them on a batch of paths, ``step(actions)`` advances every path by one
decision with actions ``(paths, action_size)``. The single-path gymnasium
environments (:mod:`rl.envs`) run a task on one path; the VecEnvs
(:mod:`rl.vec_env`) run one task on all their environments' paths. Both run
the same code, which is why they agree (up to the last bits of floating point,
which kernels may round differently for another batch size on some CPUs).

Episodes have a fixed length (``warmup + periods``), so every path of a batch
finishes on the same step; the horizon is a time limit on an ongoing system,
so the last step is *truncated*, not terminated.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import replace
from typing import Any

import numpy as np
from gymnasium import spaces

from rl.actions import OrderMap, ResidualMap
from rl.anchor import ANCHOR_FAMILIES, Anchor, make_anchor
from rl.observation import Observer
from scenarios.distribution import ScenarioDistribution
from scenarios.errors import SpecError
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.policies import ParametricPolicy
from scenarios.simulator import Simulator, State
from scenarios.spec import Spec
from scenarios.tuning import TuneResult

__all__ = ["DirectOrderTask", "Task", "TuneTask"]


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise SpecError(name, f"must be an integer >= 1, got {value!r}")
    return int(value)


class Task(ABC):
    """Shared episode logic; subclasses say what an action does.

    :param spec: the scenario.
    :param anchor: the reference policy: an :class:`~rl.anchor.Anchor`, a
        classical policy or a :class:`~scenarios.tuning.TuneResult` to measure,
        or ``None`` to tune one (:func:`~rl.anchor.make_anchor`).
    :param anchor_family: family tuned when ``anchor`` is ``None``.
    :param distribution: domain randomisation drawn per episode; ``None`` keeps
        the spec's own ``randomisation`` (if any).
    :param periods: periods measured per episode (default ``spec.horizon``).
    :param warmup: periods before them (default ``spec.warmup``); episodes
        include them.
    :param periods_per_step: periods one step covers.
    :param window: periods of demand history and forecast in the observation.
    :param fill_target: fill rate the reward is shaped toward (``None``: no shaping).
    :param fill_weight: penalty per unit of fill rate below the target.
    :param anchor_paths: training paths for tuning the anchor and its cost.
    :param anchor_seed: seed of those paths.
    :param param_names: policy parameters shown in the observation.
    :param pipeline: show the pipeline per arc in the observation.
    :param time_feature: show ``t / T`` in the observation.
    :param relative_reward: subtract from each step's cost what the anchor
        costs over the same periods of the same path (run alongside on common
        random numbers). The anchor's cost does not depend on the agent's
        actions, so the best policy is unchanged, but most of the demand noise
        cancels out of the reward: a control variate for the policy gradient.
    """

    def __init__(self, spec: Spec, *, anchor: Anchor | ParametricPolicy | TuneResult | None,
                 anchor_family: str, distribution: ScenarioDistribution | None, periods: int | None,
                 warmup: int | None, periods_per_step: int, window: int, fill_target: float | None,
                 fill_weight: float, anchor_paths: int, anchor_seed: int,
                 param_names: tuple[str, ...] = (), pipeline: bool = False,
                 time_feature: bool = True, relative_reward: bool = False) -> None:
        self.base_spec = spec
        self.relative_reward = bool(relative_reward)
        self.spec = spec if distribution is None else replace(spec, randomisation=distribution)
        self.periods = spec.horizon if periods is None else _positive_int("periods", periods)
        self.warmup = spec.warmup if warmup is None else warmup
        if isinstance(self.warmup, bool) or not isinstance(self.warmup, int | np.integer) or self.warmup < 0:
            raise SpecError("warmup", f"must be an integer >= 0, got {self.warmup!r}")
        self.periods_per_step = _positive_int("epoch", periods_per_step)
        if fill_target is not None and not 0 < fill_target <= 1:
            raise SpecError("fill_target", f"must be in (0, 1], got {fill_target}")
        if not (np.isfinite(fill_weight) and fill_weight >= 0):
            raise SpecError("fill_weight", f"must be a number >= 0, got {fill_weight}")
        self.fill_target, self.fill_weight = fill_target, float(fill_weight)
        self.network = Network(self.spec)
        if isinstance(anchor, Anchor):
            self.anchor = anchor
        else:
            family = anchor_family
            if anchor is not None:  # measure the given policy in its own family
                name = anchor.family if isinstance(anchor, TuneResult) else anchor.name
                family = name if name in ANCHOR_FAMILIES else family
            self.anchor = make_anchor(self.spec, family, policy=anchor, paths=anchor_paths,
                                      periods=self.periods, seed=anchor_seed)
        # An epoch that costs what the anchor costs on average scores -1.
        self.cost_scale = max(abs(self.anchor.cost_per_period), 1e-9)
        self.n_periods = self.warmup + self.periods
        self.n_steps = -(-self.n_periods // self.periods_per_step)
        self.observer = Observer(self.spec, self.network, window=_positive_int("window", window),
                                 n_periods=self.n_periods, param_names=param_names, pipeline=pipeline,
                                 time_feature=time_feature)
        self.observation_space = spaces.Box(-self.observer.clip, self.observer.clip,
                                            (self.observer.size,), np.float32)
        self._sim: Simulator | None = None
        self._shadow: Simulator | None = None  # the anchor on the same paths (relative reward)
        self._shadow_policy: ParametricPolicy | None = None

    # ------------------------------------------- the decision rule (subclasses say what an action does)
    # Public: :meth:`step` calls them inside its periods, and a trained agent run as a Policy
    # (:class:`rl.policy.AgentPolicy`) calls them in the simulator's period loop, the same way.
    @property
    @abstractmethod
    def action_size(self) -> int:
        """Length of one action."""

    def begin(self, n_paths: int, network: Network | None = None) -> None:  # noqa: B027 - optional hook
        """Prepare the decision rule for a batch of ``n_paths`` new episodes.

        :param network: the network the episodes run on (default: the task's own).
        """

    def apply(self, action: np.ndarray) -> None:  # noqa: B027 - optional hook
        """Take in the actions ``(paths, action_size)`` of this step."""

    @abstractmethod
    def orders_at(self, state: State, t: int) -> np.ndarray:
        """Orders ``(paths, arcs, skus)`` for period ``t`` of the current step."""

    def params(self) -> dict[str, np.ndarray]:
        """Current policy parameters shown in the observation."""
        return {}

    # ----------------------------------------------------------------- public
    @property
    def action_space(self) -> spaces.Box:
        """``Box(-1, 1, (action_size,), float32)``."""
        return spaces.Box(-1.0, 1.0, (self.action_size,), np.float32)

    def set_distribution(self, distribution: ScenarioDistribution | None) -> None:
        """Draw later episodes from ``distribution`` (``None``: none); running ones finish as they are."""
        self.spec = replace(self.base_spec, randomisation=distribution)

    def spec_for(self, paths: SamplePaths) -> Spec:
        """The spec ``paths`` were drawn for (the task's, or its base spec without randomisation)."""
        for spec in (self.spec, self.base_spec):
            if paths.spec_hash == spec.hash:
                return spec
        paths.check(self.spec)  # raises, naming both hashes
        return self.spec

    @property
    def t(self) -> int:
        """The current period of the running episodes."""
        return 0 if self._sim is None else self._sim.t

    def start(self, paths: SamplePaths) -> np.ndarray:
        """Begin one episode per path; return the first observations ``(paths, obs_size)``."""
        if paths.n_periods != self.n_periods:
            raise SpecError("paths", f"episodes have {self.n_periods} periods "
                            f"(warm-up {self.warmup} + {self.periods}), the paths {paths.n_periods}")
        spec = self.spec_for(paths)
        self._sim = Simulator(spec, paths, self.network, kpi_flows=self.fill_target is not None)
        if self.relative_reward:
            self._shadow = Simulator(spec, paths, self.network, kpi_flows=False)
            self._shadow_policy = self.anchor.policy()
            self._shadow_policy.reset(self.network, paths.n_paths)
        self.observer.reset(paths.n_paths)
        self.begin(paths.n_paths)
        state = self._sim.begin_period()
        self.observer.record(state)
        return self.observer.observe(state, 0, self.params())

    def step(self, action: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool, dict[str, np.ndarray]]:
        """Advance every episode by one step.

        :param action: ``(paths, action_size)``, in ``[-1, 1]`` (clipped).
        :return: ``(obs, reward, truncated, info)``: observations ``(paths,
            obs_size)`` float32, rewards ``(paths,)`` float64, whether the
            episodes ended (all together), and info arrays ``(paths,)``:
            ``cost`` (this step's cost), with ``relative_reward`` ``anchor_cost``
            (the anchor's cost over the same periods and path) and, with a fill
            target, ``fill_rate`` and ``fill_penalty`` (already subtracted from
            the reward).
        """
        sim = self._sim
        if sim is None or sim.done:
            raise RuntimeError("step() needs start() first (the episodes are over)")
        action = np.asarray(action, dtype=float)
        if action.shape != (sim.n_paths, self.action_size):
            raise ValueError(f"actions must be shaped (paths, action_size) = "
                             f"{(sim.n_paths, self.action_size)}, got {action.shape}")
        self.apply(action)
        start = sim.t
        stop = min(start + self.periods_per_step, self.n_periods)
        state = sim.state
        for t in range(start, stop):
            sim.end_period(self.orders_at(state, t))
            if t + 1 < self.n_periods:
                state = sim.begin_period()
                self.observer.record(state)
        cost = sim.total_cost(start, stop).sum(axis=1)
        info = {"cost": cost}
        if self._shadow is not None:
            for _ in range(start, stop):
                self._shadow.step(self._shadow_policy)
            info["anchor_cost"] = self._shadow.total_cost(start, stop).sum(axis=1)
            reward = -(cost - info["anchor_cost"]) / (self.cost_scale * (stop - start))
        else:
            reward = -cost / (self.cost_scale * (stop - start))
        if self.fill_target is not None:
            demand = sim.flows["demand"][:, start:stop].sum(axis=1)
            filled = sim.flows["filled"][:, start:stop].sum(axis=1)
            fill = np.where(demand > 0, filled / np.where(demand > 0, demand, 1.0), 1.0)
            penalty = self.fill_weight * np.maximum(self.fill_target - fill, 0.0)
            reward = reward - penalty
            info.update(fill_rate=fill, fill_penalty=penalty)
        obs = self.observer.observe(state, stop, self.params())
        return obs, reward, sim.done, info


class TuneTask(Task):
    """One step is a review epoch: set (s, S) or base-stock levels, then simulate ``epoch`` periods.

    See :class:`~rl.envs.TuneEnv` for the parameters.
    """

    def __init__(self, spec: Spec, *, epoch: int = 4, parametrisation: str = "sS",
                 anchor: Anchor | ParametricPolicy | TuneResult | None = None,
                 distribution: ScenarioDistribution | None = None, periods: int | None = None,
                 warmup: int | None = None, residual_scale: float = 0.5, window: int | None = None,
                 fill_target: float | None = None, fill_weight: float = 1.0, anchor_paths: int = 64,
                 anchor_seed: int = 0, time_feature: bool = True, relative_reward: bool = False,
                 pipeline: bool = False) -> None:
        family = "sS" if parametrisation == "sS" else "base-stock"
        names = ("s", "S") if parametrisation == "sS" else ("S",)
        super().__init__(spec, anchor=anchor, anchor_family=family, distribution=distribution,
                         periods=periods, warmup=warmup, periods_per_step=epoch,
                         window=epoch if window is None else window, fill_target=fill_target,
                         fill_weight=fill_weight, anchor_paths=anchor_paths, anchor_seed=anchor_seed,
                         param_names=names, pipeline=pipeline, time_feature=time_feature,
                         relative_reward=relative_reward)
        self.epoch = self.periods_per_step
        self.residuals = ResidualMap(self.anchor, self.network, parametrisation, residual_scale)
        self.policy = self.residuals.policy()
        self._levels: dict[str, np.ndarray] = {}

    @property
    def action_size(self) -> int:
        """Residuals per parameter, ordering node and SKU."""
        return self.residuals.size

    def begin(self, n_paths: int, network: Network | None = None) -> None:
        """Start the (s, S) or base-stock policy at the anchor's levels."""
        self.policy.reset(network or self.network, n_paths)
        self._levels = self.residuals.zero(n_paths)

    def apply(self, action: np.ndarray) -> None:
        """Set the levels the residuals ``action`` give."""
        self._levels = self.residuals(action)
        self.policy.set_levels(self._levels)

    def orders_at(self, state: State, t: int) -> np.ndarray:
        """What the policy orders with the current levels."""
        return self.policy.act(state, t)

    def params(self) -> dict[str, np.ndarray]:
        """The current levels."""
        return self._levels


class DirectOrderTask(Task):
    """One step is one period: the action is the order per arc and SKU.

    See :class:`~rl.envs.DirectOrderEnv` for the parameters.
    """

    def __init__(self, spec: Spec, *, max_order: float | np.ndarray | None = None,
                 max_order_factor: float = 3.0, anchor: Anchor | ParametricPolicy | TuneResult | None = None,
                 distribution: ScenarioDistribution | None = None, periods: int | None = None,
                 warmup: int | None = None, window: int = 4, fill_target: float | None = None,
                 fill_weight: float = 1.0, anchor_paths: int = 64, anchor_seed: int = 0,
                 time_feature: bool = True, relative_reward: bool = False) -> None:
        super().__init__(spec, anchor=anchor, anchor_family="base-stock", distribution=distribution,
                         periods=periods, warmup=warmup, periods_per_step=1, window=window,
                         fill_target=fill_target, fill_weight=fill_weight, anchor_paths=anchor_paths,
                         anchor_seed=anchor_seed, pipeline=True, time_feature=time_feature,
                         relative_reward=relative_reward)
        self.orders = OrderMap(self.network, max_order, max_order_factor)
        self._placed: np.ndarray | None = None

    @property
    def action_size(self) -> int:
        """One order per arc and SKU."""
        return self.orders.size

    def apply(self, action: np.ndarray) -> None:
        """Map ``action`` to this period's orders."""
        self._placed = self.orders(action)

    def orders_at(self, state: State, t: int) -> np.ndarray:
        """The orders :meth:`apply` mapped."""
        return self._placed
