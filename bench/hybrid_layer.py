"""hybrid-mpc against tuned (s,S), the planner with a tuned fixed safety stock and an RL agent, same paths.

    python bench/hybrid_layer.py --scenario seasonal-grocery --seeds 0,1,2
    python bench/hybrid_layer.py --scenario divergent-1w3r --seeds 0 --quick

Per scenario: (s,S) and base-stock tuned on training paths; the planner's fixed
safety stock tuned on training paths (``rolling-horizon-ss``); per training
seed, one hybrid-mpc agent whose residuals start from the tuned safety stock;
one PPO TuneEnv agent (``rl``, first seed). Then every policy runs in the
arena on the same fresh test paths (a seed no training used), with the hindsight bound on
those paths when ``--bound``; paired differences are against each hybrid
agent. Results are appended to ``bench/results/hybrid-<scenario>.json``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import common  # bench/common.py: this checkout first on sys.path (why: there)
import numpy as np

import rl
from hybrid.baselines import k_text, tune_safety, two_level_grid
from hybrid.training import train_hybrid
from milp import hindsight_bound
from scenarios.evaluate import evaluate_policies, train_seed
from scenarios.kpis import estimate
from scenarios.paths import SamplePaths
from scenarios.progress import messages
from scenarios.registry import build_policy
from scenarios.spec import load

TEST_SEED = 777


def main() -> None:
    parser = common.parser(__doc__, quick="6 test paths, 64 hybrid and 2048 RL steps: a smoke run",
                           record=False)
    parser.add_argument("--scenario", default="seasonal-grocery")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--paths", type=int, default=30, help="test paths")
    parser.add_argument("--horizon", type=int, default=6)
    parser.add_argument("--hybrid-timesteps", type=int, default=1024)
    parser.add_argument("--gap", type=float, default=0.01, help="MIP gap of the deployed planners")
    parser.add_argument("--train-gap", type=float, default=0.05, help="MIP gap while training hybrid-mpc")
    parser.add_argument("--tune-paths", type=int, default=8, help="training paths for the safety grid")
    parser.add_argument("--two-level", action="store_true",
                        help="also tune the safety stock with one multiple at the stores and one upstream")
    parser.add_argument("--relative-reward", action="store_true",
                        help="train hybrid-mpc on its cost relative to the (s,S) anchor on the same paths")
    parser.add_argument("--epoch", type=int, default=13, help="periods per hybrid agent step")
    parser.add_argument("--residual-scale", type=float, default=2.0,
                        help="largest safety move of the hybrid agent, in periods of mean demand")
    parser.add_argument("--rl-timesteps", type=int, default=30_000)
    parser.add_argument("--bound", action="store_true", help="hindsight bound on the test paths")
    parser.add_argument("--out", default="runs/bench-hybrid")
    parser.add_argument("--rl-agent", action="append", default=[],
                        help="a saved RL agent to include instead of training one (repeatable)")
    parser.add_argument("--reuse", action="store_true", help="keep hybrid agents already saved in --out")
    args = parser.parse_args()
    if args.quick:
        args.paths, args.hybrid_timesteps, args.rl_timesteps = 6, 64, 2048
    seeds = [int(s) for s in args.seeds.split(",")]
    spec = load(args.scenario)
    started = time.perf_counter()
    train = SamplePaths.draw(spec, 200, None, seed=train_seed(TEST_SEED))
    say = lambda m: print(f"[{time.perf_counter() - started:7.0f} s] {m}", flush=True)  # noqa: E731
    say(f"{spec.name}: tuning sS, base-stock and the planner's safety stock (H = {args.horizon})")
    policies = {t: build_policy(spec, t, lambda: train) for t in ("sS", "base-stock")}
    safety = tune_safety(spec, train.subset(slice(0, args.tune_paths)), horizon=args.horizon,
                         grid=[0.0, 0.5, 1.0, 2.0, *(two_level_grid(spec) if args.two_level else [])],
                         mip_gap=args.gap, progress=messages(say))
    say(f"safety: k = {safety.text} periods of demand; costs "
        + ", ".join(f"{k_text(k)}: {c:.2f}" for k, c in safety.costs.items()))
    planner = f"rolling-horizon-ss:horizon={args.horizon},k={safety.text},mip_gap={args.gap:g}"
    policies[planner] = build_policy(spec, planner, lambda: train)
    out = Path(args.out) / spec.name
    hybrids, agents = [], []
    for seed in seeds:
        if seed == seeds[0] and not args.rl_agent:  # one RL agent; the seeds are the hybrid's
            say(f"seed {seed}: PPO TuneEnv agent, {args.rl_timesteps} steps")
            agent = rl.train(rl.TrainConfig(scenario=args.scenario, timesteps=args.rl_timesteps, seed=seed,
                                            eval_every=max(args.rl_timesteps // 4, 1), eval_paths=50,
                                            out=str(out / f"rl-seed{seed}"), progress_bar=False))
            text = f"rl:path={agent.model_path.parent}"
            policies[text] = build_policy(spec, text, lambda: train)
            agents.append(text)
        text = f"hybrid-mpc:path={out / f'hybrid-mpc-seed{seed}'}"
        if args.reuse and (out / f"hybrid-mpc-seed{seed}" / "model.zip").exists():
            say(f"seed {seed}: hybrid-mpc agent reused from {out}")
            policies[text] = build_policy(spec, text, lambda: train)
            hybrids.append(text)
            continue
        say(f"seed {seed}: hybrid-mpc agent, {args.hybrid_timesteps} steps")
        t0 = time.perf_counter()
        result = train_hybrid(spec, "mpc", timesteps=args.hybrid_timesteps, n_envs=8, seed=seed,
                              out=out / f"hybrid-mpc-seed{seed}", base=safety.safety, horizon=args.horizon,
                              train_horizon=args.horizon, train_gap=args.train_gap, mip_gap=args.gap,
                              epoch=args.epoch, residual_scale=args.residual_scale,
                              relative_reward=args.relative_reward, progress_bar=False)
        policies[text] = build_policy(spec, text, lambda: train)
        hybrids.append(text)
        curve = [round(c["cost"], 1) for c in result.curve]
        say(f"  trained in {time.perf_counter() - t0:.0f} s; training cost per period by rollout {curve}")
    for directory in args.rl_agent:
        text = f"rl:path={directory}"
        policies[text] = build_policy(spec, text, lambda: train)
        agents.append(text)
    texts = [*hybrids, planner, "sS", "base-stock", *agents]
    say(f"arena: {len(texts)} policies on {args.paths} test paths (seed {TEST_SEED})")
    results = evaluate_policies(spec, [policies[t] for t in texts], paths=args.paths, seed=TEST_SEED,
                                bound=hindsight_bound if args.bound else None).results
    costs = {t: r.run.total_cost[:, r.run.warmup:].mean(axis=1) for t, r in zip(texts, results, strict=True)}
    rows = []
    for t, r in zip(texts, results, strict=True):
        row = {"policy": t, "cost": r.kpis["cost_per_period"].to_dict(),
               "fill_rate": r.kpis["fill_rate"].mean}
        if r.bound_gap is not None:
            row["gap_to_bound"] = r.bound_gap.mean / r.bound_mean
        row["vs_hybrid"] = {h: estimate(costs[t] - costs[h]).to_dict() for h in hybrids if h != t}
        rows.append(row)
        gap = f"  gap to bound {row['gap_to_bound']:+.1%}" if "gap_to_bound" in row else ""
        print(f"{t:60s} {r.kpis['cost_per_period']}  fill {row['fill_rate']:.1%}{gap}")
    # the hybrid's seeds pooled: mean over seeds of (other - hybrid) per path, paired
    pooled = {}
    for t in texts:
        if t in hybrids:
            continue
        diff = np.mean([costs[t] - costs[h] for h in hybrids], axis=0)
        pooled[t] = estimate(diff).to_dict()
        print(f"  {t:58s} minus hybrid-mpc (mean over {len(hybrids)} seeds): {estimate(diff)}")
    record = {"scenario": spec.name, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "args": vars(args), "safety_k": safety.text,
              "safety_costs": {k_text(k): c for k, c in safety.costs.items()}, "results": rows,
              "pooled_vs_hybrid": pooled, "seconds": time.perf_counter() - started}
    path = Path(__file__).parent / "results" / f"hybrid-{spec.name}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(record, indent=1))
    say(f"written {path}")


if __name__ == "__main__":
    main()
