"""RL agents against tuned classical policies, on the same fresh test paths (issue 5's evidence).

    python bench/rl_experiments.py --scenario serial-3 --seeds 0
    python bench/rl_experiments.py --scenario lost-sales-poisson --env both --seeds 0
    python bench/rl_experiments.py --scenario seasonal-grocery --seeds 0,1,2
    python bench/rl_experiments.py --scenario perishable-pharma --seeds 0,1,2 --json
    python bench/rl_experiments.py --scenario seasonal-grocery --quick   # a smoke run, ~1 min
    python bench/rl_experiments.py --scenario lost-sales-poisson --agent runs/rl_experiments/X  # no training

For every training seed and environment kind the bench trains an agent with
:func:`rl.training.train` (one run at a time, one torch thread), then runs
:func:`scenarios.evaluate.evaluate_policies` once on ``--paths`` fresh test paths drawn
with ``--test-seed`` (never a training seed: training episodes come from the
environments' own generators seeded ``seed + i``, the anchor and the held-out
evaluation paths from seeds derived from ``seed``). On those same paths it
runs every agent, each agent's anchor (the tuned static policy a zero action
reproduces) and the classical families tuned by ``evaluate_policies`` on
``--train-paths`` separate training paths (``sS``, ``base-stock``, and
``capped-base-stock`` wherever sales are lost).

It prints mean cost per period with its 95% CI, the paired difference against
the tuned static (s, S) (95% CI; negative means cheaper than (s, S)), each
agent's paired difference against the cheapest tuned classical policy, and the
gap to the known optimum where the scenario has one. With several seeds it
also prints the win over (s, S) per seed and its mean and spread across seeds.

Per-scenario training settings are in :data:`SETTINGS` (each can be
overridden from the command line); they are recorded in the JSON output.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import common  # bench/common.py: this checkout first on sys.path (why: there)
import numpy as np

from rl.anchor import Anchor
from rl.policy import load as load_agent
from rl.training import TrainConfig, train
from scenarios.evaluate import evaluate_policies
from scenarios.kpis import estimate, paired_difference
from scenarios.spec import load

ROOT = common.ROOT

#: Training settings per scenario and environment kind (fields of :class:`TrainConfig`).
SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "serial-3": {
        # The anchor is already optimal: the agent can only lose, so it must keep still.
        "tune": {"timesteps": 100_000, "parametrisation": "base-stock", "residual_scale": 0.2,
                 "relative_reward": True, "log_std_init": -2.0, "anchor_paths": 200},
    },
    "lost-sales-poisson": {
        # Episodes of 200 periods (+50 warm-up), tested on the 1000-period horizon: no t/T feature.
        "tune": {"timesteps": 400_000, "parametrisation": "base-stock", "epoch": 1, "periods": 200,
                 "time_feature": False, "residual_scale": 0.2, "pipeline": True, "relative_reward": True,
                 "log_std_init": -1.5, "anchor_paths": 100},
        "direct": {"timesteps": 600_000, "periods": 200, "time_feature": False, "relative_reward": True,
                   "anchor_paths": 100},
    },
    "seasonal-grocery": {
        # The relative reward: -21.5 per week against (s, S) for seed 0, against -15.1 without it.
        "tune": {"timesteps": 1_000_000, "learning_rate": 1e-3, "relative_reward": True,
                 "anchor_paths": 200},
    },
    "perishable-pharma": {
        # Without the relative reward the deterministic policy drifts above its anchor (the gain,
        # about 1%, is lost in the demand noise of the reward).
        "tune": {"timesteps": 1_000_000, "learning_rate": 3e-4, "log_std_init": -1.5, "n_steps": 128,
                 "relative_reward": True, "anchor_paths": 200},
    },
}

#: Defaults for scenarios without an entry in :data:`SETTINGS`.
DEFAULT_SETTINGS: dict[str, Any] = {"timesteps": 200_000}

#: What ``--quick`` changes: a smoke run of the whole pipeline, not a result.
QUICK = {"timesteps": 8192, "eval_every": 4096, "eval_paths": 16, "anchor_paths": 16}


def classical_families(spec) -> list[str]:
    """The tuned classical policies to compare with: (s, S) first, then those that apply."""
    families = ["sS", "base-stock"]
    if spec.shortage == "lost-sales":
        families.append("capped-base-stock")
    return families


def git_commit() -> str:
    """The current commit (short hash, ``+dirty`` when the working tree differs)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "rl", "bench/rl_experiments.py"],
                               cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def train_agents(scenario: str, kinds: list[str], seeds: list[int], overrides: dict[str, Any],
                 out: Path, quick: bool, log) -> list[dict[str, Any]]:
    """Train one agent per kind and seed, one after the other; returns their descriptions."""
    agents = []
    for kind in kinds:
        for seed in seeds:
            settings = {**DEFAULT_SETTINGS, **SETTINGS.get(scenario, {}).get(kind, {}), **overrides}
            if quick:
                settings.update(QUICK)
            config = TrainConfig(scenario=scenario, env=kind, seed=seed, progress_bar=False,
                                 torch_threads=1, out=str(out / f"{scenario}-{kind}-seed{seed}"),
                                 **settings)
            log(f"training {kind} agent, seed {seed}, {config.timesteps} timesteps -> {config.out}")
            result = train(config)
            log(f"  {result.train_time_s:.0f} s; best held-out cost {result.best_cost:.4f} "
                f"(anchor {result.anchor_cost:.4f})")
            agents.append({"kind": kind, "seed": seed, "path": str(result.model_path.parent),
                           "config": asdict(config), "train_time_s": result.train_time_s,
                           "timesteps": result.timesteps, "held_out_cost": result.best_cost,
                           "held_out_anchor_cost": result.anchor_cost, "history": result.history})
    return agents


def saved_agents(paths: list[str]) -> list[dict[str, Any]]:
    """Descriptions of agents trained before (directories ``rl.train`` wrote), from their metadata."""
    agents = []
    for path in paths:
        meta = json.loads((Path(path) / "metadata.json").read_text())
        t = meta["training"]
        agents.append({"kind": meta["env"], "seed": t["config"]["seed"], "path": path, "config": t["config"],
                       "train_time_s": t["train_time_s"], "timesteps": t["timesteps"],
                       "held_out_cost": t["best_cost"], "held_out_anchor_cost": t["anchor_cost"],
                       "history": t["history"]})
    return agents


def run(args: argparse.Namespace, log) -> dict[str, Any]:
    """Train, evaluate on fresh paths, and return every number the report shows."""
    spec = load(args.scenario)
    kinds = ["tune", "direct"] if args.env == "both" else [args.env]
    overrides: dict[str, Any] = {}
    if args.timesteps is not None:
        overrides["timesteps"] = args.timesteps
    for item in args.set or []:
        key, _, value = item.partition("=")
        try:  # numbers, true/false, null, lists as JSON; anything else is a string
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    commit, date = git_commit(), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    started = time.perf_counter()
    if args.agent:
        agents = saved_agents(args.agent)
        kinds = sorted({a["kind"] for a in agents}, key=["tune", "direct"].index)
    else:
        agents = train_agents(args.scenario, kinds, args.seeds, overrides, Path(args.out), args.quick, log)
    train_time = time.perf_counter() - started

    policies: list[Any] = []
    labels: list[str] = []
    for a in agents:
        policies.append(load_agent(a["path"]))
        labels.append(f"rl-{a['kind']} seed {a['seed']}")
    anchors = {}
    for a in agents:  # one row per distinct anchor (agents whose anchors agree share it)
        meta = json.loads((Path(a["path"]) / "metadata.json").read_text())
        anchor = Anchor.from_dict(meta["anchor"])
        key = (anchor.family, tuple(sorted((k, v) for k, v in anchor.params.items())))
        anchors.setdefault(key, (anchor, f"anchor {anchor.family} (seed {a['seed']}, {a['kind']})"))
    for anchor, label in anchors.values():
        policy = anchor.policy()
        policy.name = label
        policies.append(policy)
        labels.append(label)
    families = classical_families(spec)
    policies += families
    labels += [f"{f} (tuned)" for f in families]

    log(f"evaluating {len(policies)} policies on {args.paths} fresh paths, seed {args.test_seed}")
    t0 = time.perf_counter()
    results = evaluate_policies(spec, policies, paths=args.paths, seed=args.test_seed,
                                train_paths=args.train_paths).results
    eval_time = time.perf_counter() - t0
    reference = results[labels.index("sS (tuned)")]
    classical = [r for label, r in zip(labels, results, strict=True) if label.endswith("(tuned)")]
    best = min(classical, key=lambda r: r.kpis["cost_per_period"].mean)
    optimum = spec.known_optimum
    rows = []
    for label, r in zip(labels, results, strict=True):
        cost = r.kpis["cost_per_period"]
        row = {"policy": label, "params": r.params if not label.startswith("rl-") else None,
               "cost_per_period": cost.to_dict(), "fill_rate": r.kpis["fill_rate"].to_dict()
               if "fill_rate" in r.kpis else None}
        if r is not reference:
            row["diff_vs_sS"] = paired_difference(r.run, reference.run).to_dict()
        if label.startswith("rl-"):
            row["diff_vs_best_classical"] = {"policy": best.label,
                                             **paired_difference(r.run, best.run).to_dict()}
        if optimum:
            row["gap_to_optimum"] = cost.mean / optimum - 1
        rows.append(row)
    summary = {}
    for kind in kinds:
        diffs = [row["diff_vs_sS"]["mean"] for row in rows if row["policy"].startswith(f"rl-{kind} ")]
        if diffs:
            across = estimate(np.array(diffs)) if len(diffs) > 1 else None
            summary[kind] = {"seeds": len(diffs), "diff_vs_sS_per_seed": diffs,
                             "mean": float(np.mean(diffs)),
                             "relative": float(np.mean(diffs)) / reference.kpis["cost_per_period"].mean,
                             "across_seeds_ci95": [across.low, across.high] if across else None,
                             "all_seeds_exclude_zero": all(row["diff_vs_sS"]["ci95"][1] < 0 for row in rows
                                                           if row["policy"].startswith(f"rl-{kind} "))}
    return {"scenario": spec.name, "known_optimum": optimum, "test_paths": args.paths,
            "test_seed": args.test_seed, "train_paths": args.train_paths,
            "periods": spec.horizon, "warmup": spec.warmup, "seeds": args.seeds, "quick": args.quick,
            "commit": commit, "date_utc": date,
            "python": platform.python_version(), "train_time_s": train_time, "eval_time_s": eval_time,
            "agents": agents, "results": rows, "summary": summary}


def print_report(report: dict[str, Any]) -> None:
    """The tables, as text."""
    opt = report["known_optimum"]
    print(f"\n{report['scenario']}: {report['test_paths']} fresh test paths x {report['periods']} periods "
          f"after {report['warmup']} warm-up, seed {report['test_seed']}; classical policies tuned on "
          f"{report['train_paths']} training paths; commit {report['commit']}, {report['date_utc']}")
    for a in report["agents"]:
        c = a["config"]
        print(f"  agent {a['kind']} seed {a['seed']}: {a['timesteps']} timesteps "
              f"in {a['train_time_s']:.0f} s "
              f"(n_envs {c['n_envs']}, epoch {c['epoch']}, {c['parametrisation']}, residual "
              f"{c['residual_scale']}, lr {c['learning_rate']}); held-out {a['held_out_cost']:.4f} vs anchor "
              f"{a['held_out_anchor_cost']:.4f}")
    head = f"{'policy':<34}{'cost/period (95% CI)':>31}{'vs tuned sS (paired 95% CI)':>31}"
    if opt:
        head += f"{'gap to ' + format(opt, 'g'):>16}"
    print(head)
    for row in report["results"]:
        c = row["cost_per_period"]
        line = f"{row['policy']:<34}{c['mean']:>12.4f} [{c['ci95'][0]:.4f}, {c['ci95'][1]:.4f}]"
        d = row.get("diff_vs_sS")
        line += f"{d['mean']:>+12.4f} [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]" if d else f"{'-':>31}"
        if opt:
            line += f"{row['gap_to_optimum']:>+15.2%}"
        print(line)
    for row in report["results"]:
        d = row.get("diff_vs_best_classical")
        if d:
            print(f"{row['policy']} vs the best tuned classical policy ({d['policy']}): {d['mean']:+.4f} "
                  f"[{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}] per period (paired 95% CI)")
    for kind, s in report["summary"].items():
        span = s["across_seeds_ci95"]
        print(f"rl-{kind} vs tuned sS over {s['seeds']} seed(s): mean {s['mean']:+.4f} per period "
              f"({s['relative']:+.2%})" + (f", across-seed 95% CI [{span[0]:+.4f}, {span[1]:+.4f}]"
                                           if span else "")
              + f"; every seed's paired CI entirely below zero: {s['all_seeds_exclude_zero']}")


def train_tune_agent(spec, settings: dict[str, Any], seed: int, out: Path) -> tuple[Any, dict[str, Any]]:
    """One PPO TuneEnv agent trained on ``spec`` (saved as TOML under ``out``) for a benchmark's RL layer.

    :param spec: the scenario (any spec: it is written to ``out/<name>.toml`` for ``TrainConfig``).
    :param settings: ``TrainConfig`` fields (e.g. ``SETTINGS[name]["tune"]`` with ``timesteps``).
    :param seed: the training seed.
    :param out: where the scenario file and the agent go.
    :return: the loaded agent (named ``rl-tune seed <seed>``) and what the result file keeps of it.
    """
    from scenarios.spec import save

    out.mkdir(parents=True, exist_ok=True)
    scenario = out / f"{spec.name}.toml"
    save(spec, scenario)
    config = TrainConfig(scenario=str(scenario), env="tune", seed=seed, progress_bar=False, torch_threads=1,
                         out=str(out / f"{spec.name}-tune-seed{seed}"), **settings)
    result = train(config)
    kept = next((h["timesteps"] for h in result.history if h["cost"] == result.best_cost), None)
    agent = load_agent(result.model_path)
    agent.name = f"rl-tune seed {seed}"
    return agent, {"policy": agent.name, "algo": config.algo, "env": config.env, "seed": seed,
                   "steps": result.timesteps, "kept_at_step": kept, "settings": settings,
                   "train_time_s": result.train_time_s, "held_out_cost": result.best_cost,
                   "held_out_anchor_cost": result.anchor_cost, "path": str(result.model_path.parent)}


def main(argv: list[str] | None = None) -> None:
    """Parse options, run, print."""
    parser = common.parser(__doc__, quick="a smoke run: tiny training and evaluation",
                           json="print the JSON report only")
    parser.add_argument("--scenario", default="seasonal-grocery",
                        help="scenario, or several comma-separated (run one after the other)")
    parser.add_argument("--env", choices=["tune", "direct", "both"], default="tune")
    parser.add_argument("--seeds", default="0", help="comma-separated training seeds")
    parser.add_argument("--timesteps", type=int, default=None, help="override the scenario's setting")
    parser.add_argument("--set", action="append", metavar="FIELD=VALUE",
                        help="override a TrainConfig field (repeatable), e.g. --set learning_rate=1e-3")
    parser.add_argument("--paths", type=int, default=None, help="fresh test paths (default 500; quick 50)")
    parser.add_argument("--test-seed", type=int, default=2026, help="seed of the test paths")
    parser.add_argument("--train-paths", type=int, default=None,
                        help="training paths for tuning the classical policies (default 200; quick 32)")
    parser.add_argument("--out", default="runs/rl_experiments", help="where the agents are saved")
    parser.add_argument("--agent", action="append", metavar="DIR",
                        help="evaluate this saved agent instead of training (repeatable)")
    args = parser.parse_args(argv)
    facts = common.machine_facts()
    args.seeds = [int(s) for s in args.seeds.split(",")]
    args.paths = args.paths or (50 if args.quick else 500)
    args.train_paths = args.train_paths or (32 if args.quick else 200)
    if args.test_seed in args.seeds:
        parser.error("--test-seed must differ from the training seeds")
    log = (lambda msg: print(msg, file=sys.stderr, flush=True)) if args.json else \
        (lambda msg: print(msg, flush=True))
    reports = []
    for scenario in args.scenario.split(","):
        report = run(argparse.Namespace(**{**vars(args), "scenario": scenario}), log)
        reports.append(report)
        if args.json:
            print(json.dumps(report, indent=2, default=float))
        else:
            print_report(report)
    common.write_record(args.record, "rl_experiments", {"runs": reports}, started=facts)


if __name__ == "__main__":
    main()
