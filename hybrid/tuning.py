"""What ``echelon tune`` does: train an RL or hybrid agent, then compare it on fresh paths.

:func:`tune_agent` trains one agent (with :func:`rl.train` for the ``tune``
and ``direct`` environments, with :func:`hybrid.training.train_hybrid` for
``hybrid-mpc`` and ``hybrid-anchor``) and evaluates it with
:func:`scenarios.evaluate_policies` beside its anchor and tuned baselines on
fresh test paths.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenarios.errors import SpecError
from scenarios.evaluate import PolicyResult, evaluate_policies, train_seed
from scenarios.progress import Progress
from scenarios.spec import Spec, load

__all__ = ["ENVS", "TuneResult", "check_agent_out", "tune_agent"]

#: The environments :func:`tune_agent` trains in.
ENVS = ("tune", "direct", "hybrid-mpc", "hybrid-anchor")

#: Opens a progress display for one stage and yields its callable (or ``None``).
Display = Callable[[], AbstractContextManager[Progress | None]]


@dataclass
class TuneResult:
    """What :func:`tune_agent` produced.

    :param spec: the scenario.
    :param env: the environment trained in.
    :param model_path: the saved agent, ``out/model.zip``.
    :param timesteps: environment steps trained.
    :param train_time_s: wall time of the training (the planner's tuning included for ``hybrid-mpc``).
    :param results: the agent, its anchor and the baselines on the fresh test paths, the agent first.
    """

    spec: Spec
    env: str
    model_path: Path
    timesteps: int
    train_time_s: float
    results: list[PolicyResult]

    def to_dict(self, paths: int, seed: int) -> dict[str, Any]:
        """The JSON ``echelon tune --json`` prints (``paths`` and ``seed``: of the comparison)."""
        optimum = self.spec.known_optimum
        return {"scenario": self.spec.name, "env": self.env, "model_path": str(self.model_path),
                "timesteps": self.timesteps, "train_time_s": self.train_time_s, "paths": paths, "seed": seed,
                "results": [r.to_dict(optimum) for r in self.results],
                "seconds": {r.label: round(r.seconds, 3) for r in self.results if r.seconds is not None}}


def check_agent_out(out: str, overwrite: bool) -> None:
    """Refuse an ``--out`` that cannot be written, or that holds an agent, before training starts."""
    from rl.artifacts import METADATA_FILE, MODEL_FILE
    from scenarios.outputs import writable_dir

    saved = [name for name in (MODEL_FILE, METADATA_FILE) if (Path(out) / name).exists()]
    if saved and not overwrite:
        raise SpecError("--out", f"{out} already holds an agent ({', '.join(saved)}); pass --overwrite to "
                        "replace it, or give another --out")
    writable_dir("--out", out)


def _check(env: str, algo: str, sizes: dict[str, int | None], seeds: dict[str, int]) -> None:
    if env not in ENVS:
        raise SpecError("--env", f"must be tune, direct, hybrid-mpc or hybrid-anchor, got {env!r}")
    if algo not in ("ppo", "sac", "a2c"):
        raise SpecError("--algo", f"must be ppo, sac or a2c, got {algo!r}")
    if env.startswith("hybrid") and algo != "ppo":
        raise SpecError("--algo", f"{env} trains with ppo, got {algo!r}")
    for name, value in sizes.items():  # 0 timesteps is an error, not the default
        if value is not None and value < 1:
            raise SpecError(f"--{name}", f"must be >= 1, got {value}")
    for name, value in seeds.items():  # checked before any training
        if value < 0:
            raise SpecError(f"--{name}", f"must be >= 0, got {value}")


def _train_hybrid(spec: Spec, env: str, timesteps: int, seed: int, horizon: int, out: str,
                  display: Display, progress_bar: bool) -> tuple[float, int, Any, list[str]]:
    """Train a hybrid agent; return (seconds, steps, anchor policy, baseline policy texts).

    For ``hybrid-mpc`` the planner's fixed safety stock is tuned first (on 8 training
    paths, shown in ``display``); the agent moves around it, and the planner with it is a baseline.
    """
    from hybrid.baselines import tune_safety
    from hybrid.training import train_hybrid
    from scenarios.paths import SamplePaths

    started = time.perf_counter()
    baselines: list[str] = ["milp-static"]
    base = 0.0
    if env == "hybrid-mpc":
        train = SamplePaths.draw(spec, 8, None, seed=train_seed(seed))
        with display() as progress:
            tuned = tune_safety(spec, train, horizon=horizon, progress=progress)
        base = tuned.safety
        baselines = [f"rolling-horizon-ss:horizon={horizon},k={tuned.text}"]
    result = train_hybrid(spec, env.removeprefix("hybrid-"), timesteps=timesteps, seed=seed, out=out,
                          base=base, horizon=horizon, train_horizon=horizon, progress_bar=progress_bar)
    return time.perf_counter() - started, result.timesteps, result.anchor.policy(), baselines


def tune_agent(scenario: str, *, algo: str = "ppo", env: str = "tune", timesteps: int | None = None,
               seed: int = 0, randomise: bool = False, horizon: int = 6, out: str | None = None,
               paths: int = 500, eval_seed: int = 2026, overwrite: bool = False,
               display: Display | None = None, progress_bar: bool = True) -> TuneResult:
    """Train an RL or hybrid agent, then compare it with its anchor and tuned baselines on fresh paths.

    :param scenario: a built-in name or TOML path.
    :param algo: ``"ppo"``, ``"sac"`` or ``"a2c"`` (hybrid agents: ``"ppo"``).
    :param env: ``"tune"`` (residuals on a tuned (s, S) anchor), ``"direct"`` (order
        quantities), ``"hybrid-mpc"`` (the agent sets the rolling-horizon planner's
        safety stock) or ``"hybrid-anchor"`` (residuals on MILP-optimised static levels).
    :param timesteps: environment steps (default 200000; hybrid-mpc: 1024).
    :param seed: seeds the training; ``randomise``: train on the scenario's domain randomisation.
    :param horizon: hybrid-mpc: the planner's window.
    :param out: directory for ``model.zip`` and ``metadata.json`` (default
        ``runs/SCENARIO-ALGO-ENV-seedK``); an agent already there is replaced only with ``overwrite``.
    :param paths: fresh test paths of the comparison, drawn from ``eval_seed``.
    :param display: opens a progress display for one stage at a time (the planner's
        tuning, the comparison), e.g. ``functools.partial(hybrid.console.progress, False)``.
    :param progress_bar: show SB3's bar while the agent trains (between the displays).
    :raises SpecError: an unknown env or algo, a size < 1, a negative seed, or an ``out`` that
        cannot be written or holds an agent -- all before any training.
    """
    import rl

    _check(env, algo, {"timesteps": timesteps, "paths": paths, "horizon": horizon},
           {"seed": seed, "eval-seed": eval_seed})
    timesteps = (1024 if env == "hybrid-mpc" else 200_000) if timesteps is None else timesteps
    display = display or (lambda: nullcontext(None))
    spec = load(scenario)
    out = out or f"runs/{spec.name}-{algo}-{env}-seed{seed}"
    check_agent_out(out, overwrite)
    families = ["base-stock", "sS", "capped-base-stock"] + (["echelon-base-stock"] if spec.is_tree else [])
    if env.startswith("hybrid"):
        train_time, steps, anchor, baselines = _train_hybrid(spec, env, timesteps, seed, horizon, out,
                                                             display, progress_bar)
        agent_text, model_path = f"{env}:path={out}", Path(out) / "model.zip"
        families = [*baselines, *families]
    else:
        trained = rl.train(rl.TrainConfig(scenario=scenario, algo=algo, env=env, timesteps=timesteps,
                                          seed=seed, randomise=True if randomise else None, out=out,
                                          progress_bar=progress_bar))
        train_time, steps, model_path = trained.train_time_s, trained.timesteps, trained.model_path
        anchor = rl.Anchor.from_dict(json.loads(trained.metadata_path.read_text())["anchor"]).policy()
        agent_text = f"rl:path={out}"
    anchor.name = f"anchor ({anchor.name})"
    with display() as progress:
        results = evaluate_policies(spec, [agent_text, anchor, *families], paths=paths, seed=eval_seed,
                                    progress=progress).results
    return TuneResult(spec, env, model_path, steps, train_time, results)
