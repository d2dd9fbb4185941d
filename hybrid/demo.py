"""``echelon demo``: every layer on one scenario, in a few minutes on two cores.

1. classical policies tuned on training paths ((s, S), base-stock);
2. the rolling-horizon MILP with a fixed safety stock tuned on training paths
   (``rolling-horizon-ss``);
3. a short RL run (PPO, TuneEnv residuals on the tuned (s, S));
4. a short hybrid-mpc run (PPO sets the planner's safety stock per epoch,
   starting from the tuned fixed one);
5. all of them in the arena on the same fresh test paths, the tuned (s, S)
   the reference; written to a DuckDB file and an HTML report.

Training is deliberately short, so the agents are demonstrations, not results;
``BENCHMARKS.md`` has the measured comparisons.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from scenarios.evaluate import PolicyResult
from scenarios.progress import Progress

__all__ = ["DemoResult", "run_demo"]


@dataclass
class DemoResult:
    """What the demo produced.

    :param results: the arena's results, the reference first.
    :param db: the DuckDB file.
    :param report: the HTML report.
    :param seconds: wall time.
    """

    results: list[PolicyResult]
    db: Path
    report: Path
    seconds: float


def run_demo(scenario: str = "divergent-1w3r", *, out: str | Path = "demo", paths: int = 100,
             periods: int = 52, seed: int = 0, rl_timesteps: int = 20_000, hybrid_timesteps: int = 96,
             horizon: int = 6, progress: Progress | None = None) -> DemoResult:
    """Run the demo and write ``out/results.duckdb`` and ``out/report.html``.

    :param scenario: a built-in name or TOML path.
    :param out: output directory (agents, database, report).
    :param paths: test paths of the arena.
    :param periods: measured periods per path.
    :param seed: seed of the test paths; training uses other seeds.
    :param rl_timesteps: PPO steps of the RL agent.
    :param hybrid_timesteps: PPO steps of the hybrid agent (each step plans an epoch of periods).
    :param horizon: the planner's window.
    :param progress: told of each stage and of the long ones' steps (:mod:`scenarios.progress`).
    """
    import rl
    from hybrid.baselines import tune_safety
    from hybrid.batch import record
    from hybrid.report import write_report
    from hybrid.store import Store, run_key
    from hybrid.training import train_hybrid
    from scenarios.evaluate import evaluate_policies, training_paths
    from scenarios.outputs import writable_dir
    from scenarios.spec import load

    def say(stage: str) -> None:
        if progress:
            progress(stage, 0, None)

    started = time.perf_counter()
    spec = load(scenario)
    out = writable_dir("out", out)  # before minutes of training, not after
    train = training_paths(spec, 200, periods, seed)  # the arena's own, passed to it below
    say("tuning the planner's fixed safety stock on 8 training paths")
    safety = tune_safety(spec, train.subset(slice(0, 8)), horizon=horizon, max_evaluations=12,
                         progress=progress)
    planner_text = f"rolling-horizon-ss:horizon={horizon},k={safety.text}"
    say(f"training the RL agent ({rl_timesteps} steps)")
    agent = rl.train(rl.TrainConfig(scenario=scenario, timesteps=rl_timesteps, seed=seed,
                                    eval_every=max(rl_timesteps // 4, 1), eval_paths=50,
                                    out=str(out / "rl-agent"), progress_bar=False))
    say(f"training the hybrid-mpc agent ({hybrid_timesteps} steps, the planner in the loop)")
    train_hybrid(spec, "mpc", timesteps=hybrid_timesteps, n_envs=4, seed=seed, out=out / "hybrid-mpc",
                 base=safety.safety, horizon=horizon, train_horizon=horizon, epoch=13, progress_bar=False)
    texts = ["sS", "base-stock", planner_text, f"rl:path={agent.model_path.parent}",
             f"hybrid-mpc:path={out / 'hybrid-mpc'}"]
    say(f"the arena: {len(texts)} policies on the same {paths} test paths ((s,S) and base-stock tuned on "
        "200 training paths)")
    evaluation = evaluate_policies(spec, texts, paths=paths, periods=periods, seed=seed, train=train,
                                   progress=progress)
    results = evaluation.results
    db = out / "results.duckdb"
    say(f"writing {db}")
    db.unlink(missing_ok=True)  # this run's agents are new: older rows under the same keys would be stale
    with Store(db) as store:
        for text, result in zip(texts, results, strict=True):
            key = run_key(spec.hash, text, seed, paths, periods)
            row = record(key, spec.name, spec, text, result.policy, result, evaluation.test, seed,
                         result.seconds)  # as a batch job times it: build, then simulate
            store.add(**row)
    say("writing the report")
    report = write_report(db, out / "report.html", title=f"echelon demo · {spec.name}")
    return DemoResult(results, db, report, time.perf_counter() - started)
