"""Optimal static base-stock levels (milp.static) against the simulation-optimisation tuner.

    python bench/static.py            # serial-3, divergent-1w3r, lost-sales-poisson
    python bench/static.py --quick    # 100 training paths, 1000 test paths
    python bench/static.py --full-lp  # also the convex-concave steps as full LPs (slow)
    python bench/static.py --json     # machine-readable results

Per scenario both methods get the same training paths (200 paths x 200 measured
periods after the scenario's warm-up, seed ``train_seed(1)``) and are judged on
the same separate test paths (2000 x 300, seed 1):

* ``optimise_static`` -- the SAA program, convex-concave procedure with Benders
  steps (``method="ccp"``); with ``--full-lp`` also each step as one LP over all
  cells (``method="ccp-lp"``);
* ``scenarios.tuning.tune`` -- the batched compass search on the same training paths.

Printed per method: levels, training cost (the SAA objective each minimises), test
cost per period with its 95% CI, wall time; then the paired test-cost difference
(SAA minus tuner, CI over paths) and the time ratio (tuner / SAA). Where a known
optimum exists the gap to it is shown. ``divergent-1w3r`` and ``lost-sales-poisson``
are approximate for the program (shared supplier, lost sales; the result's notes say
why): its levels are still simulated exactly on the test paths.
"""

from __future__ import annotations

import json
import platform
import time

import common  # bench/common.py: this checkout first on sys.path (why: there)
import numpy as np

from milp.static import optimise_static
from scenarios import builtin
from scenarios.evaluate import train_seed
from scenarios.kpis import estimate, paired_difference
from scenarios.paths import SamplePaths
from scenarios.policies import make_policy
from scenarios.simulator import simulate
from scenarios.tuning import tune

ROOT = common.ROOT

SCENARIOS = {"serial-3": "echelon-base-stock", "divergent-1w3r": "echelon-base-stock",
             "lost-sales-poisson": "base-stock"}
SEED = 1


def run_scenario(name: str, family: str, train_paths: int, test_paths: int, full_lp: bool) -> dict:
    spec = builtin.get(name)
    train = SamplePaths.draw(spec, paths=train_paths, periods=200, seed=train_seed(SEED))
    test = SamplePaths.draw(spec, paths=test_paths, periods=300, seed=SEED)
    rows: dict[str, dict] = {}
    runs = {}

    methods = ["ccp", "ccp-lp"] if full_lp else ["ccp"]
    for method in methods:
        began = time.perf_counter()
        result = optimise_static(spec, train, family, method=method)
        seconds = time.perf_counter() - began
        runs[method] = simulate(spec, test, result.policy(spec))
        rows[f"saa-{method}"] = {"levels": result.levels, "train_cost": result.objective,
                                 "seconds": seconds, "status": result.status, "exact": result.exact,
                                 "iterations": result.iterations, "notes": list(result.notes)}

    began = time.perf_counter()
    tuned = tune(spec, family, train)
    seconds = time.perf_counter() - began
    runs["tuner"] = simulate(spec, test, make_policy(spec, family, tuned.params))
    rows["tuner"] = {"levels": tuned.params["S"], "train_cost": tuned.train_cost, "seconds": seconds,
                     "evaluations": tuned.evaluations}

    for key, run in zip(rows, runs.values(), strict=True):
        cost = estimate(run.total_cost[:, test.warmup:].mean(1))
        rows[key]["test_cost"] = {"mean": cost.mean, "ci95": [cost.low, cost.high]}
        if spec.known_optimum:
            rows[key]["gap_to_optimum"] = cost.mean / spec.known_optimum - 1
    diff = paired_difference(runs["ccp"], runs["tuner"])
    return {"scenario": name, "family": family, "train": [train_paths, 200, train.warmup],
            "test": [test_paths, 300, test.warmup], "known_optimum": spec.known_optimum,
            "methods": rows,
            "saa_minus_tuner": {"mean": diff.mean, "ci95": [diff.low, diff.high]},
            "time_ratio_tuner_over_saa": rows["tuner"]["seconds"] / rows["saa-ccp"]["seconds"]}


def print_scenario(out: dict) -> None:
    print(f"\n{out['scenario']} ({out['family']}); train {out['train'][0]} paths x {out['train'][1]} "
          f"periods (+{out['train'][2]} warm-up), test {out['test'][0]} x {out['test'][1]}, cost per period"
          + (f"; known optimum {out['known_optimum']}" if out["known_optimum"] else ""))
    print(f"  {'method':<12} {'levels':<34} {'train':>9} {'test (95% CI)':>26} {'time':>8}")
    for key, row in out["methods"].items():
        levels = "[" + ", ".join(f"{v:.3f}".rstrip("0").rstrip(".") for v in row["levels"]) + "]"
        low, high = row["test_cost"]["ci95"]
        test = f"{row['test_cost']['mean']:.3f} [{low:.3f}, {high:.3f}]"
        extra = f"  gap {row['gap_to_optimum']:+.2%}" if "gap_to_optimum" in row else ""
        print(f"  {key:<12} {levels:<34} {row['train_cost']:>9.4f} {test:>26} {row['seconds']:>7.2f}s{extra}")
    ccp = out["methods"]["saa-ccp"]
    detail = f"status {ccp['status']}, {ccp['iterations']} master LPs, exact {ccp['exact']}"
    print(f"  saa: {detail}" + "".join(f"\n  note: {n}" for n in ccp["notes"]))
    d = out["saa_minus_tuner"]
    print(f"  saa - tuner on the test paths: {d['mean']:+.4f} [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]"
          f"; time ratio tuner/saa {out['time_ratio_tuner_over_saa']:.2f}x")


def main() -> None:
    parser = common.parser(__doc__, quick="100 training paths, 1000 test paths", json="print JSON only")
    parser.add_argument("--full-lp", action="store_true", help="also run method='ccp-lp'")
    args = parser.parse_args()
    facts = common.machine_facts()
    train_paths, test_paths = (100, 1000) if args.quick else (200, 2000)
    results = []
    for name, family in SCENARIOS.items():
        out = run_scenario(name, family, train_paths, test_paths, args.full_lp)
        results.append(out)
        if not args.json:
            print_scenario(out)
    common.write_record(args.record, "static", {"results": results}, started=facts)
    if args.json:
        print(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                          "numpy": np.__version__, "results": results}, indent=2))


if __name__ == "__main__":
    main()
