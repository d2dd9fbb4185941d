"""A lower bound on any non-anticipative policy for seasonal-grocery, against the hindsight bound.

    python bench/relaxed_bound.py                 # the bound, then the hindsight bound on 20 paths
    python bench/relaxed_bound.py --paths 0       # the bound only (~1 min)

The hindsight bound (``milp.hindsight_bound``) lets the planner know every
future demand; no real policy can. This benchmark computes a second lower
bound that keeps the information structure and relaxes the network instead,
to ask whether *any* policy could come within 10% of the hindsight bound.

The bound is :func:`scenarios.exact.relaxed_lower_bound` (its docstring gives
the relaxation: every store and SKU an exact single-item lost-sales DP with a
share of its arc's fixed cost, the DC relaxed away, promotions revealed). Every
real policy's store deliveries are feasible in the relaxation at no more cost,
so it bounds every real policy's expected cost per period over the whole
horizon (warm-up included, as the hindsight bound). If it is above the
hindsight bound by more than 10%, no policy can be within 10% of the hindsight
bound. Both fixed-cost splits are valid bounds; the larger is reported.
"""

from __future__ import annotations

import json
import time

import common  # bench/common.py: this checkout first on sys.path (why: there)

from scenarios import builtin
from scenarios.exact import relaxed_lower_bound
from scenarios.paths import SamplePaths

TEST_SEED = 777  # the test paths of bench/hybrid_layer.py


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--scenario", default="seasonal-grocery")
    parser.add_argument("--paths", type=int, default=20, help="test paths for the hindsight bound (0: skip)")
    parser.add_argument("--policy", default="rolling-horizon-ss:horizon=6,k=0,0.25,0.25,mip_gap=0.05",
                        help="a policy costed on the same paths, over all periods")
    args = parser.parse_args()
    facts = common.machine_facts()
    spec = builtin.get(args.scenario)
    started = time.perf_counter()
    periods = SamplePaths.draw(spec, 1, seed=0).n_periods
    splits = [relaxed_lower_bound(spec, periods, split) for split in ("demand", "equal")]
    result = max(splits, key=lambda r: r["bound_per_period"])  # every split is a valid bound
    print("fixed cost split by demand: {:.2f}, equally: {:.2f} per period".format(
        *(r["bound_per_period"] for r in splits)))
    for r in result["streams"]:
        print(f"{r['stream']:22s} expected cost {r['cost']:10.2f}  unit cost {r['unit_cost']:.2f}  "
              f"fixed share {r['fixed_share']:.2f}  largest order-up-to {r['max_order_up_to']}")
    print(f"DC initial stock credit {result['dc_credit']:.1f}; relaxed lower bound "
          f"{result['bound_per_period']:.2f} per period over {periods} periods "
          f"({time.perf_counter() - started:.0f} s)")
    if args.paths:
        from milp import hindsight_bound
        from scenarios.kpis import estimate
        from scenarios.registry import build_policy
        from scenarios.simulator import simulate

        paths = SamplePaths.draw(spec, args.paths, seed=TEST_SEED)
        hb = hindsight_bound(spec, paths)
        run = simulate(spec, paths, build_policy(spec, args.policy, lambda: None), kpi_flows=False)
        cost = run.total_cost.mean(axis=1)
        lb = result["bound_per_period"]
        result.update({"hindsight": estimate(hb).to_dict(), "policy": args.policy,
                       "policy_cost": estimate(cost).to_dict(), "test_paths": args.paths,
                       "relaxed_over_hindsight": lb / hb.mean() - 1,
                       "policy_over_relaxed": cost.mean() / lb - 1})
        print(f"hindsight bound on {args.paths} paths (seed {TEST_SEED}): {estimate(hb)}")
        print(f"{args.policy}: {estimate(cost)} over all periods")
        print(f"relaxed bound / hindsight bound - 1 = {lb / hb.mean() - 1:+.1%}; "
              f"policy / relaxed bound - 1 = {cost.mean() / lb - 1:+.1%}")
    result["seconds"] = time.perf_counter() - started
    common.write_record(args.record, "relaxed_bound", result, started=facts)
    keys = ("bound_per_period", "relaxed_over_hindsight", "policy_over_relaxed")
    print(json.dumps({k: result[k] for k in keys if k in result}))


if __name__ == "__main__":
    main()
