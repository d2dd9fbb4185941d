"""Classical policies, tuned by simulation optimisation, against published optima.

    python bench/known_optima.py [--paths 2000] [--seed 1]

For every built-in scenario with a ``known_optimum``, each classical family
is tuned on separate training paths and evaluated on the same test paths;
the table gives the mean cost per period with its 95% CI and the gap to the
published optimum.
"""

from __future__ import annotations

import time

import common  # bench/common.py: this checkout first on sys.path (why: there)

from scenarios import builtin, evaluate_policies


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--paths", type=int, default=2000)
    parser.add_argument("--train-paths", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    facts = common.machine_facts()
    scenarios = []
    print("| scenario | optimum | policy | tuned parameters | cost / period (95% CI) | gap | tuning s |")
    print("|---|---:|---|---|---:|---:|---:|")
    for name in builtin.names():
        spec = builtin.get(name)
        if spec.known_optimum is None:
            continue
        families = ["base-stock", "sS", "sQ", "capped-base-stock"] + (
            ["echelon-base-stock"] if spec.is_tree else [])
        started = time.perf_counter()
        results = evaluate_policies(spec, families, paths=args.paths, seed=args.seed,
                                    train_paths=args.train_paths).results
        rows = []
        for r in results:
            cost = r.kpis["cost_per_period"]
            rows.append({"policy": r.label, "params": r.params, "cost": cost.to_dict(),
                         "gap": cost.mean / spec.known_optimum - 1, "tuning_s": r.tuning.seconds})
            params = "; ".join(f"{k}={', '.join(f'{v:.4g}' for v in vs)}" for k, vs in r.params.items())
            print(f"| {name} | {spec.known_optimum:g} | {r.label} | {params} | {cost.mean:.4f} "
                  f"[{cost.low:.4f}, {cost.high:.4f}] | {cost.mean / spec.known_optimum - 1:+.2%} | "
                  f"{r.tuning.seconds:.1f} |")
        print(f"<!-- {name}: {args.paths} test paths x {spec.horizon} periods after {spec.warmup} warm-up, "
              f"seed {args.seed}; {time.perf_counter() - started:.0f} s -->")
        scenarios.append({"scenario": name, "optimum": spec.known_optimum, "test_paths": args.paths,
                          "train_paths": args.train_paths, "periods": spec.horizon, "warmup": spec.warmup,
                          "seed": args.seed, "seconds": time.perf_counter() - started, "rows": rows})
    common.write_record(args.record, "known_optima", {"scenarios": scenarios}, started=facts)


if __name__ == "__main__":
    main()
