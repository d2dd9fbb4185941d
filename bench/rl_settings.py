"""The published RL settings as scenarios: their tuned classical baselines, on the same test paths.

    python bench/rl_settings.py                                  # the four settings, 500 test paths
    python bench/rl_settings.py --scenarios rl-divergent-1w3r --paths 100

For each built-in setting (``rl-divergent-1w3r``, ``-ns``, ``rl-divergent-1w2r``,
``-ns``) every classical family is tuned on ``--train-paths`` training paths and
evaluated on the same ``--paths`` test paths (seed ``--seed``), as
``echelon evaluate -s SCENARIO -p base-stock -p echelon-base-stock -p sS -p sQ
-p capped-base-stock --json`` does (the same library call, ``scenarios.evaluate_policies``);
differences are paired against base-stock. These are the baselines a re-run of
the published RL claims has to beat.
"""

from __future__ import annotations

import time

import common  # bench/common.py: this checkout first on sys.path (why: there)

from scenarios.evaluate import evaluate_policies
from scenarios.spec import load

SCENARIOS = ("rl-divergent-1w3r", "rl-divergent-1w3r-ns", "rl-divergent-1w2r", "rl-divergent-1w2r-ns")
FAMILIES = ("base-stock", "echelon-base-stock", "sS", "sQ", "capped-base-stock")


def run_scenario(name: str, paths: int, train_paths: int, seed: int) -> dict:
    """Tune and evaluate every family on one setting; the rows ``echelon evaluate --json`` prints."""
    spec = load(name)
    started = time.perf_counter()
    results = evaluate_policies(spec, list(FAMILIES), paths=paths, seed=seed, train_paths=train_paths).results
    return {"scenario": name, "description": spec.description, "paths": paths, "train_paths": train_paths,
            "seed": seed, "periods": spec.horizon, "warmup": spec.warmup,
            "seconds": time.perf_counter() - started,
            "results": [r.to_dict(spec.known_optimum) for r in results]}


def main(argv: list[str] | None = None) -> int:
    """Run every setting, print one line per policy, record the rows."""
    parser = common.parser(__doc__)
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS))
    parser.add_argument("--paths", type=int, default=500, help="test paths")
    parser.add_argument("--train-paths", type=int, default=100, help="training paths for tuning")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    facts = common.machine_facts()
    out = []
    for name in args.scenarios:
        scenario = run_scenario(name, args.paths, args.train_paths, args.seed)
        out.append(scenario)
        for row in scenario["results"]:
            cost = row["cost_per_period"]
            diff = row.get("difference_vs_first")
            paired = f"  vs base-stock {diff['mean']:+.2f}" if diff else ""
            print(f"{name:22s} {row['policy']:20s} {cost['mean']:10.2f} [{cost['ci95'][0]:.2f}, "
                  f"{cost['ci95'][1]:.2f}]{paired}", flush=True)
        print(f"  {name}: {scenario['seconds']:.0f} s", flush=True)
    common.write_record(args.record, "rl_settings", {"scenarios": out}, started=facts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
