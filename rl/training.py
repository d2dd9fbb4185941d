"""Train an agent on the batched VecEnv: one config, one function (CleanRL-style).

>>> from rl.training import TrainConfig, train          # doctest: +SKIP
>>> result = train(TrainConfig(scenario="serial-3", timesteps=200_000, seed=1))  # doctest: +SKIP
>>> policy = rl.load(result.model_path)               # doctest: +SKIP

What happens:

1. the anchor is tuned on training paths (:func:`~rl.anchor.make_anchor`);
2. ``n_envs`` environments run as one :class:`~rl.vec_env.BatchedVecEnv`,
   wrapped in ``VecMonitor`` and ``VecNormalize`` (observations and rewards);
3. PPO (default), SAC or A2C learns, seeded (``model.seed``, environment
   ``i`` seeded ``seed + i``); SB3's progress bar shows progress on stderr
   (:func:`learn`, which also says when the step count is rounded up to whole rollouts);
4. before training and every ``eval_every`` timesteps the agent, as the :class:`~rl.policy.AgentPolicy`
   it will be deployed as, runs in ``scenarios.simulate`` on held-out
   evaluation paths next to the anchor on the same paths; the best model
   (lowest mean cost per period) is kept with the normalisation statistics
   of that moment;
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
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from rl.anchor import Anchor, make_anchor
from rl.artifacts import (
    FINAL_MODEL_FILE,
    MODEL_FILE,
    NORMALIZE_FILE,
    agent_metadata,
    normalisation_stats,
    write_metadata,
)
from rl.policy import ALGORITHMS, AgentPolicy, algorithm
from rl.tasks import DirectOrderTask, TuneTask
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

    scenario: str = "serial-3"
    """Built-in scenario name or TOML path."""
    env: str = "tune"
    """``"tune"`` (TuneEnv: residual (s, S) per epoch) or ``"direct"`` (DirectOrderEnv: orders)."""
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
    """Held-out evaluation paths."""
    eval_every: int = 20_000
    """Evaluate every this many timesteps (0: only at the end)."""
    learning_rate: float = 3e-4
    """Optimiser step size."""
    n_steps: int = 64
    """PPO/A2C: steps per environment per rollout."""
    batch_size: int = 512
    """PPO/SAC: minibatch size."""
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

    @property
    def output_dir(self) -> Path:
        """Where the model and metadata go."""
        name = Path(self.scenario).stem if self.scenario.endswith(".toml") else self.scenario
        return Path(self.out or f"runs/{name}-{self.env}-{self.algo}-seed{self.seed}")

    @property
    def eval_seed(self) -> int:
        """Seed of the held-out evaluation paths (derived from ``seed``, never used in training)."""
        return int(np.random.SeedSequence([self.seed, 0xE7A1]).generate_state(1)[0])

    def validate(self) -> None:
        """Raise :class:`SpecError` naming the first invalid field."""
        if self.env not in ("tune", "direct"):
            raise SpecError("env", f"must be 'tune' or 'direct', got {self.env!r}")
        if self.algo not in ALGORITHMS:
            raise SpecError("algo", f"must be one of {', '.join(ALGORITHMS)}, got {self.algo!r}")
        for name in ("timesteps", "n_envs", "n_steps", "batch_size", "n_epochs", "eval_paths",
                     "anchor_paths", "gradient_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SpecError(name, f"must be an integer >= 1, got {value!r}")
        if isinstance(self.torch_threads, bool) or not isinstance(self.torch_threads, int) \
                or self.torch_threads < 0:
            raise SpecError("torch_threads", f"must be an integer >= 0, got {self.torch_threads!r}")
        if isinstance(self.eval_every, bool) or not isinstance(self.eval_every, int) or self.eval_every < 0:
            raise SpecError("eval_every", f"must be an integer >= 0, got {self.eval_every!r}")
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
    :param best_cost: the kept model's mean cost per period on the evaluation paths.
    :param anchor_cost: the anchor's on the same paths.
    :param history: one row per evaluation (``timesteps``, ``cost``, ``anchor_cost``, ``width``).
    """

    model_path: Path
    metadata_path: Path
    timesteps: int
    train_time_s: float
    best_cost: float
    anchor_cost: float
    history: list[dict[str, float]]


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


def _env_options(config: TrainConfig) -> dict[str, Any]:
    """Keyword options of the task (as saved in the metadata)."""
    common = {"periods": config.periods, "warmup": config.warmup, "fill_target": config.fill_target,
              "fill_weight": config.fill_weight, "time_feature": config.time_feature,
              "relative_reward": config.relative_reward}
    if config.env == "tune":
        return {**common, "epoch": config.epoch, "parametrisation": config.parametrisation,
                "residual_scale": config.residual_scale, "pipeline": config.pipeline}
    return {**common, "max_order_factor": config.max_order_factor}


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
        spec = load(config.scenario)
        self.target = _target_spec(spec, config)
        options = _env_options(config)
        family = "base-stock" if config.env == "direct" or config.parametrisation == "base-stock" else "sS"
        self.anchor: Anchor = make_anchor(self.target, family, paths=config.anchor_paths,
                                          periods=config.periods or spec.horizon, seed=config.seed)
        self.width = config.curriculum_start if config.curriculum and self.target.randomisation else 1.0
        task_cls = TuneTask if config.env == "tune" else DirectOrderTask
        task = task_cls(self.target, anchor=self.anchor, distribution=self._distribution(), **options)
        self.options = {k: v for k, v in options.items()}
        self.batched = BatchedVecEnv(task, config.n_envs)
        env = VecMonitor(self.batched)
        self.env = VecNormalize(env, norm_obs=True, norm_reward=True, gamma=config.gamma) \
            if config.normalize else env
        self.model = self._model()
        # Held-out evaluation paths from the full target distribution, and the anchor's cost on them.
        self.eval_paths = SamplePaths.draw(self.target, config.eval_paths, task.periods,
                                           seed=config.eval_seed, warmup=task.warmup)
        self.anchor_cost = self._cost(self.anchor.policy())
        self.best_cost, self.best_stats = np.inf, None
        self.history: list[dict[str, float]] = []
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
            kwargs.update(n_steps=c.n_steps, batch_size=c.batch_size, n_epochs=c.n_epochs)
        elif c.algo == "a2c":
            kwargs.update(n_steps=c.n_steps)
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
        task = self.batched.task
        c = self.config
        return agent_metadata(
            algo=c.algo, env=c.env, env_options=self.options, spec=self.target, anchor=self.anchor, task=task,
            normalisation=normalisation,
            action={"size": task.action_size,
                    "names": task.residuals.names if c.env == "tune" else task.orders.names},
            training={"config": asdict(c), "timesteps": int(self.model.num_timesteps),
                      "train_time_s": time.perf_counter() - self.started, "history": self.history,
                      "eval_paths": c.eval_paths, "eval_seed": c.eval_seed, "best_cost": self.best_cost,
                      "anchor_cost": self.anchor_cost})

    def _cost(self, policy: Any) -> float:
        """Mean cost per period (after the warm-up) on the evaluation paths."""
        run = simulate(self.target, self.eval_paths, policy, kpi_flows=False)
        return float(run.total_cost[:, self.eval_paths.warmup:].mean())

    def evaluate(self) -> None:
        """Evaluate the current model as deployed; keep it if best; widen the curriculum."""
        stats = self.normalisation()
        agent = AgentPolicy(self.model, self.metadata({MODEL_FILE: stats}), normalisation=stats)
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
        """Learn, evaluating along the way; save everything."""
        from stable_baselines3.common.callbacks import BaseCallback

        trainer, every = self, self.config.eval_every

        class Evaluate(BaseCallback):
            """Calls :meth:`_Trainer.evaluate` every ``eval_every`` timesteps."""

            def _init_callback(self) -> None:
                self.last = 0

            def _on_step(self) -> bool:
                if every and self.num_timesteps - self.last >= every:
                    self.last = self.num_timesteps
                    trainer.evaluate()
                return True

        self.evaluate()  # the untrained agent: the first point of the learning curve
        learn(self.model, self.config.timesteps, Evaluate(), self.config.progress_bar)
        if not self.history or self.history[-1]["timesteps"] != self.model.num_timesteps:
            self.evaluate()
        self.model.save(self.out / FINAL_MODEL_FILE)
        if self.config.normalize:
            self.env.save(str(self.out / NORMALIZE_FILE))
        metadata = self.metadata({MODEL_FILE: self.best_stats, FINAL_MODEL_FILE: self.normalisation()})
        path = write_metadata(self.out, metadata)
        return TrainResult(self.out / MODEL_FILE, path, int(self.model.num_timesteps),
                           metadata["training"]["train_time_s"], self.best_cost, self.anchor_cost,
                           self.history)


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
