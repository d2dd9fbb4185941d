"""The deterministic planner with a per-node tuned safety stock against the best tuned classical policy.

    python bench/planner_baseline.py                 # the five scenarios, 30 test paths each
    python bench/planner_baseline.py --quick         # a smoke run: few, short paths
    python bench/planner_baseline.py --scenario divergent-1w3r --paths 50

Per scenario: echelon base-stock (on trees), base-stock, (s,S) and (s,Q) tuned by the project's
tuners (:mod:`scenarios.tuning`) on ``--train-paths`` training paths; the rolling-horizon planner's
fixed safety stock tuned per node (:func:`hybrid.baselines.tune_safety`: coordinate descent from the
levels the tuned base-stock implies) on the first ``--tune-paths`` of them (one ``k`` per node and
SKU with ``--per-sku``). Training paths come from ``train_seed(--seed)``, the test paths from
``--seed``: no policy sees a test path before it is measured. Every policy then runs on the same
test paths; the table gives the mean cost per period (after warm-up) with its 95% CI, and the
planner's paired difference against the classical policy cheapest on those test paths (a strict
reference: the minimum of four on the test paths is, if anything, optimistic for classical), in
units and in % of that policy's mean (the % interval is the unit interval over the same mean). The
last line printed is the results as one JSON line.
"""

from __future__ import annotations

import json
import time

import common  # bench/common.py: this checkout first on sys.path (why: there)

from hybrid.baselines import tune_safety
from scenarios.evaluate import evaluate_policies, train_seed
from scenarios.kpis import estimate
from scenarios.paths import SamplePaths
from scenarios.progress import messages
from scenarios.registry import build_policy
from scenarios.spec import load

SCENARIOS = ("serial-3", "divergent-1w3r", "lost-sales-poisson", "perishable-pharma", "seasonal-grocery")
CLASSICAL = ("echelon-base-stock", "base-stock", "sS", "sQ")


def run_scenario(name: str, args, say) -> dict:
    """Tune and measure one scenario; return its JSON-able results."""
    spec = load(name)
    train = SamplePaths.draw(spec, args.train_paths, args.periods, seed=train_seed(args.seed))
    started = time.perf_counter()
    classical = {f: build_policy(spec, f, lambda: train) for f in CLASSICAL
                 if f != "echelon-base-stock" or spec.is_tree}
    say(f"{name}: classical policies tuned on {train.n_paths} training paths "
        f"({time.perf_counter() - started:.0f} s)")
    started = time.perf_counter()
    tuned = tune_safety(spec, train.subset(slice(0, args.tune_paths)), horizon=args.horizon,
                        mip_gap=args.gap, anchor_paths=train, max_evaluations=args.evaluations,
                        per_sku=args.per_sku and len(spec.skus) > 1,
                        progress=messages(say) if args.verbose else None)
    tuning_seconds = time.perf_counter() - started
    start_cost = tuned.costs.get(tuple(round(v, 6) for v in tuned.start))
    say(f"{name}: planner safety tuned on {args.tune_paths} paths in {tuning_seconds:.0f} s, "
        f"{len(tuned.costs)} candidates; start k={','.join(f'{v:g}' for v in tuned.start)} "
        f"({tuned.anchor}) cost {start_cost:.3f} -> k={tuned.text} cost {tuned.costs[tuned.k]:.3f}")
    say(f"  levels: {tuned.levels()}")
    planner = f"rolling-horizon-ss:horizon={args.horizon},k={tuned.text},mip_gap={args.gap:g}"
    texts = [planner, *classical]
    policies = [build_policy(spec, planner, lambda: train), *classical.values()]
    test = SamplePaths.draw(spec, args.paths, args.periods, seed=args.seed)
    results = evaluate_policies(spec, policies, test=test).results
    costs = {t: r.run.total_cost[:, r.run.warmup:].mean(axis=1) for t, r in zip(texts, results, strict=True)}
    best = min(classical, key=lambda t: costs[t].mean())
    diff = estimate(costs[planner] - costs[best])
    ref = float(costs[best].mean())
    rows = [{"policy": t, "cost": estimate(costs[t]).to_dict()} for t in texts]
    return {"scenario": name, "planner": planner, "start_k": list(tuned.start), "anchor": tuned.anchor,
            "start_train_cost": start_cost, "train_cost": tuned.costs[tuned.k],
            "candidates": len(tuned.costs), "tuning_seconds": tuning_seconds, "levels": tuned.levels(),
            "rows": rows, "best_classical": best,
            "planner_minus_best": diff.to_dict(),
            "planner_minus_best_pct": {"mean": diff.mean / ref, "ci95": [diff.low / ref, diff.high / ref]},
            "test_paths": test.n_paths, "test_periods": test.n_periods - test.warmup}


def print_table(out: dict) -> None:
    """One scenario's table: every policy's cost and the planner against the best classical."""
    print(f"\n{out['scenario']}: {out['test_paths']} test paths x {out['test_periods']} periods "
          f"(after warm-up), cost per period, 95% CI")
    for row in out["rows"]:
        c = row["cost"]
        mark = "  <- best classical" if row["policy"] == out["best_classical"] else ""
        print(f"  {row['policy']:58s} {c['mean']:9.3f} [{c['ci95'][0]:9.3f}, {c['ci95'][1]:9.3f}]{mark}")
    d, p = out["planner_minus_best"], out["planner_minus_best_pct"]
    print(f"  planner minus {out['best_classical']}: {d['mean']:+.3f} [{d['ci95'][0]:+.3f}, "
          f"{d['ci95'][1]:+.3f}] = {p['mean']:+.1%} [{p['ci95'][0]:+.1%}, {p['ci95'][1]:+.1%}]")


def main() -> None:
    parser = common.parser(__doc__, quick="6 test paths and 2 tuning paths of 60 periods, 6 candidates: "
                           "a smoke run")
    parser.add_argument("--scenario", default=",".join(SCENARIOS), help="comma-separated scenario names")
    parser.add_argument("--paths", type=int, default=30, help="test paths")
    parser.add_argument("--periods", type=int, default=None, help="periods per path (default: the spec's)")
    parser.add_argument("--seed", type=int, default=777, help="seed of the test paths")
    parser.add_argument("--train-paths", type=int, default=200, help="training paths of the classical tuners")
    parser.add_argument("--tune-paths", type=int, default=4, help="training paths of the planner's tuning")
    parser.add_argument("--evaluations", type=int, default=30, help="most planner candidates per scenario")
    parser.add_argument("--horizon", type=int, default=6, help="the planner's window")
    parser.add_argument("--gap", type=float, default=0.05, help="the planner's MIP gap")
    parser.add_argument("--per-sku", action="store_true",
                        help="tune one safety k per node and SKU on multi-SKU scenarios (default: per node)")
    parser.add_argument("--verbose", action="store_true", help="report the tuning's progress")
    args = parser.parse_args()
    if args.quick:
        args.paths, args.periods, args.train_paths, args.tune_paths, args.evaluations = 6, 60, 50, 2, 6
    facts = common.machine_facts()
    began = time.perf_counter()

    def say(message: str, *_: object) -> None:
        print(f"[{time.perf_counter() - began:6.0f} s] {message}", flush=True)

    results = [run_scenario(name, args, say) for name in args.scenario.split(",")]
    for out in results:
        print_table(out)
    data = {"args": vars(args), "results": results, "seconds": time.perf_counter() - began}
    common.write_record(args.record, "planner_baseline", data, started=facts)
    print(json.dumps(data))


if __name__ == "__main__":
    main()
