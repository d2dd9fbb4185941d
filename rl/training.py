"""Train an agent on the batched VecEnv: one config, one function (CleanRL-style), for every kind.

>>> from rl.training import TrainConfig, train          # doctest: +SKIP
>>> result = train(TrainConfig(scenario="serial-3", timesteps=200_000, seed=1))  # doctest: +SKIP
>>> policy = rl.load(result.model_path)               # doctest: +SKIP

What happens:

1. the environment kind (``TrainConfig.env``, :mod:`rl.kinds`) tunes or takes the
   anchor (:func:`~rl.anchor.make_anchor`; hybrid-anchor: the MILP's static levels)
   and builds the task: ``tune`` and ``direct`` here, ``hybrid-mpc`` and
   ``hybrid-anchor`` in :mod:`hybrid.training`;
2. ``n_envs`` environments run as one :class:`~rl.vec_env.BatchedVecEnv`,
   wrapped in ``VecMonitor`` and ``VecNormalize`` (observations and rewards);
3. PPO (default), SAC or A2C learns, seeded (``model.seed``, environment
   ``i`` seeded ``seed + i``); PPO's minibatch divides its rollout
   (:meth:`TrainConfig.minibatch`); SB3's progress bar shows progress on stderr
   (:func:`learn`, which also says when the step count is rounded up to whole rollouts);
   after each rollout the training episodes' mean cost per period is added to the curve;
4. before training and every ``eval_every`` timesteps the agent, as the :class:`~rl.policy.AgentPolicy`
   it will be deployed as, runs in ``scenarios.simulate`` on held-out
   evaluation paths next to the anchor on the same paths; the best model
   (lowest mean cost per period) is kept with the normalisation statistics
   of that moment (``eval_paths=0``: no evaluation, the final model is kept);
5. with ``curriculum=True`` the domain-randomisation ranges start at
   ``curriculum_start`` of their width and widen by ``curriculum_step``
   whenever the agent is no worse than the anchor on the evaluation paths
   (drawn from the full ranges);
6. ``out/`` receives ``model.zip``, ``final_model.zip``, ``vecnormalize.pkl``
   and ``metadata.json`` (:mod:`rl.artifacts`).

Same config and seed, same result (on one machine and thread count).
"""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from rl.anchor import Anchor
from rl.artifacts import (
    FINAL_MODEL_FILE,
    MODEL_FILE,
    NORMALIZE_FILE,
    agent_metadata,
    normalisation_stats,
    write_metadata,
)
from rl.kinds import KINDS, env_setup
from rl.policy import ALGORITHMS, algorithm
from rl.vec_env import BatchedVecEnv
from scenarios.distribution import ScenarioDistribution
from scenarios.errors import SpecError
from scenarios.paths import SamplePaths
from scenarios.simulator import simulate
from scenarios.spec import Spec, load

__all__ = ["DEFAULT_RANGES", "TrainConfig", "TrainResult", "learn", "trained_steps", "train"]

#: Domain randomisation used by ``randomise=True`` on a spec without its own ranges.
DEFAULT_RANGES = ScenarioDistribution(demand_level=(0.8, 1.2), demand_cv=(0.8, 1.2),
                                      holding_cost=(0.9, 1.1), shortage_cost=(0.9, 1.1))


@dataclass
class TrainConfig:
    """Everything a training run depends on."""

    scenario: str | Spec = "serial-3"
    """Built-in scenario name, TOML path or spec."""
    env: str = "tune"
    """The environment kind (:mod:`rl.kinds`): ``"tune"`` (TuneEnv: residual (s, S) per epoch),
    ``"direct"`` (DirectOrderEnv: orders), ``"hybrid-mpc"`` (the planner's safety stock per epoch) or
    ``"hybrid-anchor"`` (tune around the MILP's static levels); see :mod:`hybrid.training`."""
    algo: str = "ppo"
    """``"ppo"``, ``"sac"`` or ``"a2c"``."""
    timesteps: int = 200_000
    """Environment steps in total (over all environments), rounded up to whole rollouts."""
    n_envs: int = 64
    """Environments stepped together (sample paths of the batched simulation)."""
    seed: int = 0
    """Seeds the model and the environments (environment ``i`` gets ``seed + i``)."""
    epoch: int = 4
    """TuneEnv: periods per review epoch (one step)."""
    parametrisation: str = "sS"
    """TuneEnv: ``"sS"`` or ``"base-stock"``."""
    residual_scale: float = 0.5
    """TuneEnv: residual range as a fraction of the anchor's level."""
    pipeline: bool = False
    """TuneEnv: also observe the pipeline by arrival period and what is owed per arc (DirectOrderEnv
    always does)."""
    max_order_factor: float = 3.0
    """DirectOrderEnv: largest order as a multiple of the arc's mean demand."""
    periods: int | None = None
    """Measured periods per episode (default: the scenario's horizon)."""
    warmup: int | None = None
    """Warm-up periods per episode (default: the scenario's)."""
    time_feature: bool = True
    """Observe ``t / T``."""
    fill_target: float | None = None
    """Shape the reward toward this fill rate (e.g. 0.95); ``None``: no shaping."""
    fill_weight: float = 1.0
    """Penalty per unit of fill rate below the target."""
    relative_reward: bool = False
    """Reward the cost saved against the anchor run on the same path (a control variate that
    cancels most demand noise; the best policy is unchanged)."""
    randomise: bool | None = None
    """Domain randomisation: ``None`` as the scenario says; ``False`` none; ``True`` the scenario's
    ranges, or :data:`DEFAULT_RANGES` if it has none (``distribution`` overrides both)."""
    distribution: dict[str, tuple[float, float]] | None = None
    """Ranges of multipliers (``{"demand_level": (0.7, 1.3)}``), as in a scenario's ``[randomisation]``."""
    curriculum: bool = False
    """Start with narrow ranges and widen them as the agent matches the anchor."""
    curriculum_start: float = 0.25
    """Initial width of the ranges (fraction of their full width)."""
    curriculum_step: float = 0.25
    """Width added at each widening."""
    anchor_paths: int = 64
    """Training paths for tuning the anchor and estimating its cost."""
    eval_paths: int = 100
    """Held-out evaluation paths (0: no evaluation; ``model.zip`` is then the final model)."""
    eval_every: int = 20_000
    """Evaluate every this many timesteps (0: only at the end)."""
    learning_rate: float = 3e-4
    """Optimiser step size."""
    n_steps: int | None = 64
    """PPO/A2C: steps per environment per rollout (``None``: one episode)."""
    batch_size: int = 512
    """PPO/SAC: minibatch size; PPO uses the divisor of its rollout (``n_steps × n_envs``) nearest
    to it (:meth:`minibatch`), so that every minibatch is full."""
    n_epochs: int = 10
    """PPO: passes over each rollout."""
    gamma: float = 0.99
    """Discount factor of the RL objective."""
    gradient_steps: int = 8
    """SAC: gradient steps per environment step (of all environments)."""
    log_std_init: float = -1.0
    """Initial log standard deviation of the Gaussian actions (PPO/A2C/SAC)."""
    net_arch: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the policy and value networks."""
    normalize: bool = True
    """Normalise observations and rewards with running statistics (VecNormalize)."""
    out: str | None = None
    """Output directory (default ``runs/<scenario>-<env>-<algo>-seed<seed>``)."""
    progress_bar: bool = True
    """Show SB3's progress bar."""
    device: str = "cpu"
    """Torch device."""
    torch_threads: int = 1
    """Torch CPU threads, set for the process (small networks run fastest on one thread; 0 leaves
    torch's default)."""
    env_options: dict[str, Any] = field(default_factory=dict)
    """Options of the environment kind the fields here do not cover (hybrid-mpc: ``base``,
    ``horizon``, ``train_horizon``, ``mip_gap``, ``train_gap``, ``time_limit``)."""
    anchor: Anchor | None = None
    """The anchor (default: tuned on ``anchor_paths`` training paths; hybrid-anchor: the MILP's
    static levels)."""

    @property
    def scenario_name(self) -> str:
        """The scenario's name (a TOML path's stem)."""
        if isinstance(self.scenario, Spec):
            return self.scenario.name
        return Path(self.scenario).stem if self.scenario.endswith(".toml") else self.scenario

    @property
    def output_dir(self) -> Path:
        """Where the model and metadata go."""
        return Path(self.out or f"runs/{self.scenario_name}-{self.env}-{self.algo}-seed{self.seed}")

    def minibatch(self, rollout: int) -> int:
        """PPO's minibatch size for a rollout of ``rollout`` steps (``n_steps × n_envs``).

        The divisor of ``rollout`` nearest to ``batch_size`` (the smaller on a tie; at least 2),
        so that every minibatch is full and SB3 has nothing to warn about.

        >>> TrainConfig(batch_size=64).minibatch(136), TrainConfig(batch_size=64).minibatch(34)
        (68, 34)

        :raises SpecError: ``rollout`` < 2 (SB3 needs minibatches of 2 or more).
        """
        if rollout < 2:
            raise SpecError("n_steps", f"a PPO rollout (n_steps × n_envs) needs >= 2 steps, got {rollout}")
        divisors = [d for d in range(2, rollout + 1) if rollout % d == 0]
        return min(divisors, key=lambda d: (abs(d - self.batch_size), d))

    @property
    def eval_seed(self) -> int:
        """Seed of the held-out evaluation paths (derived from ``seed``, never used in training)."""
        return int(np.random.SeedSequence([self.seed, 0xE7A1]).generate_state(1)[0])

    def validate(self) -> None:
        """Raise :class:`SpecError` naming the first invalid field."""
        if self.env not in KINDS:
            raise SpecError("env", f"must be one of {', '.join(KINDS)}, got {self.env!r}")
        if self.algo not in ALGORITHMS:
            raise SpecError("algo", f"must be one of {', '.join(ALGORITHMS)}, got {self.algo!r}")
        if not isinstance(self.env_options, dict):
            raise SpecError("env_options", f"must be a mapping of option names, got {self.env_options!r}")
        if self.anchor is not None and not isinstance(self.anchor, Anchor):
            raise SpecError("anchor", f"must be an rl.Anchor or None, got {type(self.anchor).__name__}")
        for name in ("timesteps", "n_envs", "n_steps", "batch_size", "n_epochs", "anchor_paths",
                     "gradient_steps"):
            value = getattr(self, name)
            if name == "n_steps" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SpecError(name, f"must be an integer >= 1, got {value!r}")
        if isinstance(self.torch_threads, bool) or not isinstance(self.torch_threads, int) \
                or self.torch_threads < 0:
            raise SpecError("torch_threads", f"must be an integer >= 0, got {self.torch_threads!r}")
        for name in ("eval_every", "eval_paths"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise SpecError(name, f"must be an integer >= 0, got {value!r}")
        for name in ("curriculum_start", "curriculum_step"):
            if not 0 < getattr(self, name) <= 1:
                raise SpecError(name, f"must be in (0, 1], got {getattr(self, name)}")


@dataclass
class TrainResult:
    """What :func:`train` produced.

    :param model_path: the kept model (best on evaluation), ``out/model.zip``.
    :param metadata_path: ``out/metadata.json``.
    :param timesteps: environment steps trained.
    :param train_time_s: wall time of training (anchor tuning included).
    :param best_cost: the kept model's mean cost per period on the evaluation paths (NaN without
        evaluation).
    :param anchor_cost: the anchor's on the same paths (NaN without evaluation).
    :param history: one row per evaluation (``timesteps``, ``cost``, ``anchor_cost``, ``width``).
    :param anchor: the anchor the agent's task starts from (and its reward is scaled by).
    :param curve: one row per rollout (``timesteps``, ``cost``): the mean cost per period of the
        training episodes that finished in it, read from their rewards (:func:`_curve_callback`).
    """

    model_path: Path
    metadata_path: Path
    timesteps: int
    train_time_s: float
    best_cost: float
    anchor_cost: float
    history: list[dict[str, float]]
    anchor: Anchor | None = None
    curve: list[dict[str, float]] = field(default_factory=list)


def _collected(model: Any) -> int:
    """Environment steps SB3 collects between two checks of the step budget."""
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

    per_env = model.n_steps if isinstance(model, OnPolicyAlgorithm) else model.train_freq.frequency
    return model.n_envs * per_env


def trained_steps(model: Any, timesteps: int) -> int:
    """The environment steps ``model.learn(timesteps)`` really trains.

    SB3 stops only between collections: PPO and A2C collect whole rollouts of
    ``n_envs × n_steps`` steps, SAC ``n_envs × train_freq``, so the count is
    rounded up to a multiple of that.
    """
    chunk = _collected(model)
    return -(-timesteps // chunk) * chunk  # learn() counts from 0 (reset_num_timesteps)


def learn(model: Any, timesteps: int, callback: Any = None, progress_bar: bool = True) -> None:
    """``model.learn(timesteps)`` with SB3's progress bar on stderr; says first if the count is rounded up.

    SB3's own bar (``progress_bar=True``) draws on stdout, where it lands in redirected
    output; this is the same tqdm/rich bar on a stderr console, sized to the real count.
    """
    from stable_baselines3.common.callbacks import CallbackList, ProgressBarCallback

    steps, chunk = trained_steps(model, timesteps), _collected(model)
    if steps != timesteps:
        print(f"note: training {steps:,} steps, not {timesteps:,}: {type(model).__name__} collects "
              f"{chunk:,} at a time ({model.n_envs} environments × {chunk // model.n_envs} steps)",
              file=sys.stderr)

    class StderrProgressBar(ProgressBarCallback):
        """SB3's tqdm/rich progress bar, drawn on stderr."""

        def _on_training_start(self) -> None:
            from rich.console import Console
            from tqdm import TqdmExperimentalWarning
            from tqdm.rich import tqdm

            with warnings.catch_warnings():  # "rich is experimental" (SB3 silences it the same way)
                warnings.simplefilter("ignore", TqdmExperimentalWarning)
                self.pbar = tqdm(total=steps, options={"console": Console(stderr=True)})

    callbacks = [c for c in (callback, StderrProgressBar() if progress_bar else None) if c is not None]
    model.learn(timesteps, callback=CallbackList(callbacks) if callbacks else None, progress_bar=False)


def _target_spec(spec: Spec, config: TrainConfig) -> Spec:
    """The spec with the domain randomisation the config asks for."""
    if config.distribution is not None:
        return replace(spec, randomisation=ScenarioDistribution.from_dict(
            {k: list(v) for k, v in config.distribution.items()}))
    if config.randomise is False:
        return replace(spec, randomisation=None)
    if config.randomise and spec.randomisation is None:
        return replace(spec, randomisation=DEFAULT_RANGES)
    return spec


def _jsonable(value: Any) -> Any:
    """``value`` with numpy arrays and scalars, tuples, specs and anchors as plain JSON values."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    if isinstance(value, Spec):
        return value.name
    if isinstance(value, Anchor):
        return value.to_dict()
    return value


def _curve_callback(task: Any, n_envs: int, curve: list[dict[str, float]]) -> Any:
    """An SB3 callback that appends to ``curve`` after each rollout.

    Each row is the mean cost per period of the training episodes that finished in the rollout
    (the last ``n_envs`` in SB3's episode buffer).
    An episode's return is minus its cost over the anchor's expected cost per step; with a relative
    reward it is the anchor's cost on its path minus the agent's, so the curve then shows the
    anchor's expected cost minus that saving (a fill-rate penalty counts as cost).
    """
    from stable_baselines3.common.callbacks import BaseCallback

    offset = task.anchor.cost_per_period if task.relative_reward else 0.0
    per_return = task.cost_scale * task.periods_per_step / task.n_periods

    class Curve(BaseCallback):
        def _on_rollout_end(self) -> None:
            episodes = list(self.model.ep_info_buffer)[-n_envs:]
            if episodes:
                cost = np.mean([offset - e["r"] * per_return for e in episodes])
                curve.append({"timesteps": int(self.num_timesteps), "cost": float(cost)})

        def _on_step(self) -> bool:
            return True

    return Curve()


class _Trainer:
    """Holds a run's pieces: environments, model, evaluation, curriculum, saving."""

    def __init__(self, config: TrainConfig) -> None:
        from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

        config.validate()
        if config.torch_threads:
            import torch

            torch.set_num_threads(config.torch_threads)
        self.config = config
        self.started = time.perf_counter()
        spec = config.scenario if isinstance(config.scenario, Spec) else load(config.scenario)
        self.target = _target_spec(spec, config)
        self.width = config.curriculum_start if config.curriculum and self.target.randomisation else 1.0
        self.setup = env_setup(config, self.target, self._distribution())
        task = self.setup.task
        self.anchor: Anchor = task.anchor
        self.batched = BatchedVecEnv(task, config.n_envs)
        env = VecMonitor(self.batched)
        self.env = VecNormalize(env, norm_obs=True, norm_reward=True, gamma=config.gamma) \
            if config.normalize else env
        self.n_steps = config.n_steps or task.n_steps
        self.model = self._model()
        self.best_cost, self.best_stats, self.anchor_cost = np.nan, None, np.nan
        if config.eval_paths:  # held-out paths from the full target distribution, the anchor's cost on them
            self.eval_paths = SamplePaths.draw(self.target, config.eval_paths, task.periods,
                                               seed=config.eval_seed, warmup=task.warmup)
            self.best_cost, self.anchor_cost = np.inf, self._cost(self.anchor.policy())
        self.history: list[dict[str, float]] = []
        self.curve: list[dict[str, float]] = []
        self.out = config.output_dir
        self.out.mkdir(parents=True, exist_ok=True)

    def _distribution(self) -> ScenarioDistribution | None:
        dist = self.target.randomisation
        return None if dist is None else dist.widened(self.width)

    def _model(self) -> Any:
        c = self.config
        cls = algorithm(c.algo)
        policy_kwargs: dict[str, Any] = {"net_arch": list(c.net_arch), "log_std_init": c.log_std_init}
        kwargs: dict[str, Any] = {"learning_rate": c.learning_rate, "gamma": c.gamma, "seed": c.seed,
                                  "device": c.device, "verbose": 0}
        if c.algo == "ppo":
            rollout = self.n_steps * c.n_envs
            batch = c.minibatch(rollout)
            if batch != c.batch_size and c.batch_size < rollout:  # (a larger one: the whole rollout)
                print(f"note: PPO minibatch {batch}, not {c.batch_size}: the nearest size that divides the "
                      f"rollout of {rollout} steps ({c.n_envs} environments × {self.n_steps} steps)",
                      file=sys.stderr)
            kwargs.update(n_steps=self.n_steps, batch_size=batch, n_epochs=c.n_epochs)
        elif c.algo == "a2c":
            kwargs.update(n_steps=self.n_steps)
        else:  # SAC
            kwargs.update(batch_size=c.batch_size, gradient_steps=c.gradient_steps,
                          learning_starts=min(1000, c.timesteps // 10))
        return cls("MlpPolicy", self.env, policy_kwargs=policy_kwargs, **kwargs)

    def normalisation(self) -> dict[str, Any] | None:
        """The observation statistics in use now (a copy)."""
        if not self.config.normalize:
            return None
        return normalisation_stats(self.env)

    def metadata(self, normalisation: dict[str, dict | None]) -> dict[str, Any]:
        """The metadata of the agent (see :mod:`rl.artifacts`)."""
        c, setup = self.config, self.setup
        batch = getattr(self.model, "batch_size", None)
        # without evaluation, the learning curve of the report (hybrid.batch) is the training curve
        history = self.history or [{**row, "anchor_cost": self.anchor.cost_per_period} for row in self.curve]
        return agent_metadata(
            algo=c.algo, env=setup.saved_as, env_options=_jsonable(setup.options), spec=self.target,
            anchor=self.anchor, task=setup.task, normalisation=normalisation, action=setup.action,
            training={"config": _jsonable({f.name: getattr(c, f.name) for f in fields(c)}),
                      "timesteps": int(self.model.num_timesteps),
                      "n_steps": self.n_steps, "batch_size": batch,
                      "train_time_s": time.perf_counter() - self.started, "history": history,
                      "curve": self.curve, "eval_paths": c.eval_paths, "eval_seed": c.eval_seed,
                      **{k: None if np.isnan(v) else v for k, v in (("best_cost", self.best_cost),
                                                                     ("anchor_cost", self.anchor_cost))}},
            **setup.extra)

    def _cost(self, policy: Any) -> float:
        """Mean cost per period (after the warm-up) on the evaluation paths."""
        run = simulate(self.target, self.eval_paths, policy, kpi_flows=False)
        return float(run.total_cost[:, self.eval_paths.warmup:].mean())

    def evaluate(self) -> None:
        """Evaluate the current model as deployed; keep it if best; widen the curriculum."""
        stats = self.normalisation()
        agent = self.setup.agent(self.model, self.metadata({MODEL_FILE: stats}), normalisation=stats)
        cost = self._cost(agent)
        self.history.append({"timesteps": int(self.model.num_timesteps), "cost": cost,
                             "anchor_cost": self.anchor_cost, "width": self.width})
        if cost < self.best_cost:
            self.best_cost, self.best_stats = cost, stats
            self.model.save(self.out / MODEL_FILE)
        if self.width < 1.0 and cost <= self.anchor_cost:
            self.width = min(1.0, self.width + self.config.curriculum_step)
            self.batched.set_distribution(self._distribution())

    def run(self) -> TrainResult:
        """Learn, evaluating along the way (if asked); save everything."""
        from stable_baselines3.common.callbacks import BaseCallback, CallbackList

        trainer, every, evaluating = self, self.config.eval_every, bool(self.config.eval_paths)

        class Evaluate(BaseCallback):
            """Calls :meth:`_Trainer.evaluate` every ``eval_every`` timesteps."""

            def _init_callback(self) -> None:
                self.last = 0

            def _on_step(self) -> bool:
                if evaluating and every and self.num_timesteps - self.last >= every:
                    self.last = self.num_timesteps
                    trainer.evaluate()
                return True

        if evaluating:
            self.evaluate()  # the untrained agent: the first point of the learning curve
        callbacks = [Evaluate(), _curve_callback(self.setup.task, self.config.n_envs, self.curve)]
        learn(self.model, self.config.timesteps, CallbackList(callbacks), self.config.progress_bar)
        if evaluating and self.history[-1]["timesteps"] != self.model.num_timesteps:
            self.evaluate()
        final = self.normalisation()
        if not evaluating:  # the final model is the one kept
            self.best_stats = final
            self.model.save(self.out / MODEL_FILE)
        self.model.save(self.out / FINAL_MODEL_FILE)
        if self.config.normalize:
            self.env.save(str(self.out / NORMALIZE_FILE))
        metadata = self.metadata({MODEL_FILE: self.best_stats, FINAL_MODEL_FILE: final})
        path = write_metadata(self.out, metadata)
        return TrainResult(self.out / MODEL_FILE, path, int(self.model.num_timesteps),
                           metadata["training"]["train_time_s"], self.best_cost, self.anchor_cost,
                           self.history, self.anchor, self.curve)


def train(config: TrainConfig | str | None = None, **overrides: Any) -> TrainResult:
    """Train an agent and save it; see the module docstring for the steps.

    :param config: a :class:`TrainConfig`, or a scenario name (then ``overrides``
        set the other fields: ``train("serial-3", algo="a2c", timesteps=50_000)``).
    :param overrides: fields of :class:`TrainConfig` to replace.
    :return: a :class:`TrainResult`; ``rl.load(result.model_path)`` gives the agent as a Policy.
    :raises SpecError: an invalid field or scenario.
    """
    if isinstance(config, str):
        config = TrainConfig(scenario=config, **overrides)
    else:
        config = replace(config or TrainConfig(), **overrides)
    return _Trainer(config).run()
