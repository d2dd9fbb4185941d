"""The MILP layer's speed, measured side by side in one run.

    python bench/milp_layer.py            # full: seasonal-grocery 50 paths x 104 periods
    python bench/milp_layer.py --quick    # seasonal-grocery 5 paths x 26 periods, fewer repeats
    python bench/milp_layer.py --json     # machine-readable results

Three comparisons, each printed with its ratio:

1. **Persistence** -- the rolling-horizon policy (H = 13) with one model kept
   in a persistent HiGHS instance, against rebuilding the Pyomo model and the
   solver every period; per-step wall time (parameter updates, solve and
   reading the plan), on an LP instance (``divergent-1w3r``: no setups) and on
   ``seasonal-grocery`` (fixed costs: a MILP).
2. **Formulation** -- tight (demand-based big-M plus the echelon cover
   inequalities of :mod:`milp.model`) against naive (one blanket big-M) on a
   4-stage, 3-SKU, 26-period serial instance with fixed costs at every stage,
   built here from ``scenarios.spec`` dataclasses: HiGHS branch-and-bound
   time to a 1% gap on a re-solve (cut at a time limit) and the LP-relaxation
   gap ``(best MILP - LP) / best MILP``, for lost sales and for backlog, over
   a few demand draws; plus the tight model under the default ``Solver``
   (LP-rounding certificate first).
3. **Rolling horizon at scale** -- median and 90th-percentile step time at a 1%
   MIP gap on ``seasonal-grocery`` with H = 13 over many paths, without safety
   stock and with a target of 5 units per node and SKU (as the hybrid planner
   runs it).
"""

from __future__ import annotations

import json
import time

import common  # bench/common.py: this checkout first on sys.path (why: there)
import numpy as np

from milp import RollingHorizonPolicy
from milp.model import build_model, set_state
from milp.solve import Solver, lp_bound
from scenarios import Network, SamplePaths, load, simulate
from scenarios.processes import DemandProcess, LeadTime
from scenarios.spec import EXTERNAL, SKU, Arc, Demand, Node, Spec


def serial_instance(shortage: str) -> Spec:
    """4 stages in series, 3 SKUs, fixed costs 300/150/100/50 from the source down, 26 periods."""
    skus = (SKU("a"), SKU("b"), SKU("c"))
    nodes = tuple(Node(f"stage{i}", holding_cost=(h, 0.8 * h, 0.6 * h))
                  for i, h in enumerate((4.0, 3.0, 2.0, 1.0)))
    fixed = LeadTime(kind="fixed", value=1)
    arcs = (Arc("stage1", "stage0", lead_time=fixed, fixed_cost=50.0),
            Arc("stage2", "stage1", lead_time=fixed, fixed_cost=100.0),
            Arc("stage3", "stage2", lead_time=fixed, fixed_cost=150.0),
            Arc(EXTERNAL, "stage3", lead_time=LeadTime(kind="fixed", value=2), fixed_cost=300.0,
                unit_cost=1.0))
    demands = tuple(Demand("stage0", k, DemandProcess(kind="poisson", mean=m), shortage_cost=20.0)
                    for k, m in zip("abc", (10.0, 6.0, 4.0), strict=True))
    return Spec(name=f"serial-4x3-{shortage}", nodes=nodes, arcs=arcs, demands=demands, skus=skus,
                timing="order-first", shortage=shortage, integer=False, horizon=26)


def step_times(spec: Spec, paths: SamplePaths, **options) -> np.ndarray:
    """Wall time of each rolling-horizon step (``act`` per path), seconds."""
    policy = RollingHorizonPolicy(spec, horizon=13, **options)
    original = policy.act
    times: list[float] = []

    def timed(state, t):
        start = time.perf_counter()
        orders = original(state, t)
        times.append((time.perf_counter() - start) / state.owed.shape[0])
        return orders

    policy.act = timed
    simulate(spec, paths, policy)
    return np.array(times), policy


def persistence(quick: bool) -> dict:
    out = {}
    for name, n_paths, periods in (("divergent-1w3r", 2, 12 if quick else 30),
                                   ("seasonal-grocery", 2, 8 if quick else 20)):
        spec = load(name)
        paths = SamplePaths.draw(spec, n_paths, periods, seed=0, warmup=0)
        kept, _ = step_times(spec, paths, persistent=True)
        rebuilt, _ = step_times(spec, paths, persistent=False)
        out[name] = {"persistent_median_s": float(np.median(kept)),
                     "rebuilt_median_s": float(np.median(rebuilt)),
                     "ratio": float(np.median(rebuilt) / np.median(kept)), "steps": int(kept.size)}
    return out


def formulation(quick: bool, time_limit: float) -> dict:
    out = {}
    draws = 2 if quick else 3
    for shortage in ("lost-sales", "backlog"):
        spec = serial_instance(shortage)
        net = Network(spec)
        rows = {"tight": [], "naive": [], "tight+rounding": []}
        for seed in range(draws):
            demand = np.random.default_rng(seed).poisson(
                net.demand_rate[net.demand_node, net.demand_sku][:, None], (net.n_demands, 26)).astype(float)
            for form in rows:
                model = build_model(net, 26, formulation=form.split("+")[0])
                set_state(model, on_hand=np.zeros((net.n_nodes, net.n_skus)), demand=demand)
                relaxed = lp_bound(model)
                rounding = form.endswith("rounding")
                solver = Solver(model, time_limit=time_limit, mip_gap=0.01, rounding=rounding)
                solver.solve()  # loads the model: the timing below is a re-solve, as in a rolling step
                stats = solver.solve()
                rows[form].append((stats.seconds, stats.status, stats.objective, stats.bound, relaxed))
        best = [min(rs[i][2] for rs in rows.values() if rs[i][2] is not None) for i in range(draws)]
        summary = {}
        for form, rs in rows.items():
            summary[form] = {
                "median_s": float(np.median([r[0] for r in rs])),
                "statuses": sorted({r[1] for r in rs}),
                "lp_gap_median": float(np.median([(b - r[4]) / b for r, b in zip(rs, best, strict=True)])),
                "final_gap_median": float(np.median([(r[2] - r[3]) / r[2] for r in rs if r[2] is not None])),
            }
        summary["time_ratio"] = summary["naive"]["median_s"] / summary["tight"]["median_s"]
        summary["time_ratio_rounding"] = summary["naive"]["median_s"] / summary["tight+rounding"]["median_s"]
        out[shortage] = summary
    return out


def at_scale(quick: bool, safety: float) -> dict:
    spec = load("seasonal-grocery")
    n_paths, periods = (5, 26) if quick else (50, 104)
    paths = SamplePaths.draw(spec, n_paths, periods, seed=0, warmup=0)
    start = time.perf_counter()
    _, policy = step_times(spec, paths, persistent=True, mip_gap=0.01, safety=safety)
    wall = time.perf_counter() - start
    seconds = np.array([s.seconds for s in policy.stats])
    gaps = np.array([s.gap for s in policy.stats if s.gap is not None])
    statuses = [s.status for s in policy.stats]
    return {"paths": n_paths, "periods": periods, "safety": safety, "solves": int(seconds.size),
            "wall_s": wall, "median_s": float(np.median(seconds)), "p90_s": float(np.quantile(seconds, 0.9)),
            "max_s": float(seconds.max()), "max_gap": float(gaps.max()),
            "statuses": {k: statuses.count(k) for k in sorted(set(statuses))}}


def main() -> None:
    parser = common.parser(__doc__, quick="seasonal-grocery 5 paths x 26 periods, fewer repeats",
                           json="print JSON results only")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per formulation solve")
    args = parser.parse_args()
    facts = common.machine_facts()
    results = {"persistence": persistence(args.quick),
               "formulation": formulation(args.quick, args.time_limit),
               "rolling_at_scale": [at_scale(args.quick, safety) for safety in (0.0, 5.0)]}
    common.write_record(args.record, "milp", {"quick": args.quick, "time_limit": args.time_limit, **results},
                        started=facts)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print("1. persistent HiGHS vs rebuilding the Pyomo model every period (rolling horizon, H = 13)")
    for name, r in results["persistence"].items():
        print(f"   {name:18s} persistent {1e3 * r['persistent_median_s']:8.1f} ms/step   rebuilt "
              f"{1e3 * r['rebuilt_median_s']:8.1f} ms/step   ratio {r['ratio']:5.1f}x  ({r['steps']} steps)")
    print(f"2. tight vs naive big-M, 4-stage 3-SKU 26-period serial with fixed costs "
          f"(1% gap, limit {args.time_limit:g} s)")
    for shortage, r in results["formulation"].items():
        for form in ("naive", "tight", "tight+rounding"):
            f = r[form]
            print(f"   {shortage:10s} {form:14s} {f['median_s']:8.3f} s  "
                  f"LP gap {100 * f['lp_gap_median']:5.1f}%  "
                  f"final gap {100 * f['final_gap_median']:5.2f}%  {','.join(f['statuses'])}")
        print(f"   {shortage:10s} ratio naive/tight time {r['time_ratio']:.1f}x, "
              f"naive/(tight+rounding) {r['time_ratio_rounding']:.1f}x")
    for s in results["rolling_at_scale"]:
        print(f"3. seasonal-grocery rolling horizon, H = 13, 1% gap, safety {s['safety']:g}, "
              f"{s['paths']} paths x {s['periods']} periods: median {1e3 * s['median_s']:.1f} ms, "
              f"p90 {1e3 * s['p90_s']:.1f} ms, max {s['max_s']:.2f} s per solve; "
              f"max gap {100 * s['max_gap']:.2f}%; {s['statuses']}; wall {s['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
