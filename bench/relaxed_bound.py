"""A lower bound on any non-anticipative policy for seasonal-grocery, against the hindsight bound.

    python bench/relaxed_bound.py                 # the bound, then the hindsight bound on 20 paths
    python bench/relaxed_bound.py --paths 0       # the bound only (~1 min)

The hindsight bound (``milp.hindsight_bound``) lets the planner know every
future demand; no real policy can. This benchmark computes a second lower
bound that keeps the information structure and relaxes the network instead,
to ask whether *any* policy could come within 10% of the hindsight bound.

Relaxation, for the two-echelon lost-sales scenarios of this shape (stores fed
by one distribution centre with a fixed lead time of 1, ``timing =
"order-first"``, whole units):

* every store and SKU becomes its own single-item lost-sales problem: it
  orders any whole number of units each period, which arrive at the start of
  the next, at the unit cost along its supply chain (purchase plus transport);
  the DC's stock, capacities, storage limits, fixed order costs and DC holding
  are dropped (each only restricts a real policy or adds cost);
* real purchases are at least the units shipped to the stores minus the DC's
  initial stock, so ``unit cost * DC initial stock`` is subtracted once per SKU;
* the single-item problem is solved exactly by dynamic programming over the
  whole horizon from the initial stock, with the demand law of the scenario
  (negative binomial with its trend and seasonality) and *more* information
  than a real policy has: whether a promotion started in the previous period
  is revealed (a real policy only sees demand).

Every real policy's store deliveries are feasible in the relaxation at no more
cost, so the relaxed optimum is a lower bound on every real policy's expected
cost per period over the whole horizon (warm-up included, as the hindsight
bound). If it is above the hindsight bound by more than 10%, no policy can be
within 10% of the hindsight bound. The DP checks that its state space never
cuts the optimal order short (else the bound would not be valid).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

from scenarios import builtin  # noqa: E402
from scenarios.network import Network  # noqa: E402
from scenarios.spec import Spec  # noqa: E402

TEST_SEED = 777  # the test paths of bench/hybrid.py


def stream_bound(mean: np.ndarray, shape: float, lift: float, start_p: float, holding: float,
                 penalty: float, unit: float, fixed: float, x0: int) -> tuple[float, int]:
    """Optimal expected cost of one store-SKU over the horizon, and the largest order-up-to level used.

    :param mean: ``(T,)`` mean demand per period without promotion.
    :param shape: the negative binomial's ``n`` (fixed; the mean moves ``p``).
    :param lift: demand multiplier while a promotion runs (two periods from its start).
    :param start_p: chance a promotion starts in a period (0: none).
    :param holding: per unit on hand at the end of a period.
    :param penalty: per unit of demand lost.
    :param unit: per unit ordered.
    :param fixed: per period with an order (this SKU's share of the arc's fixed cost).
    :param x0: initial stock.
    """
    T = len(mean)
    peak = float(mean.max()) * max(lift, 1.0)
    X = int(np.ceil(6 * peak + 60)) + 1  # states 0..X-1
    xs = np.arange(X)
    promo_states = (0, 1) if start_p > 0 else (0,)
    starts = {0: 1.0 - start_p, 1: start_p} if start_p > 0 else {0: 1.0}
    # Hankel index r + a, clipped; orders that would leave the state space are priced out
    ra = xs[:, None] + xs[None, :]
    over = ra >= X
    ra = np.minimum(ra, X - 1)
    big = 1e9
    V = {b: np.zeros(X) for b in promo_states}
    top = 0
    for t in range(T - 1, -1, -1):
        new = {}
        for b in promo_states:
            total = np.zeros((X, X))
            expected_now = np.zeros(X)
            for s, ps in starts.items():
                m = mean[t] * (lift if (b or s) else 1.0)
                p = shape / (shape + m)
                pmf = stats.nbinom.pmf(xs, shape, p)
                sf = stats.nbinom.sf(xs - 1, shape, p)  # P(D >= x)
                emin = np.concatenate([[0.0], np.cumsum(stats.nbinom.sf(xs[:-1], shape, p))])  # E[min(D, x)]
                expected_now += ps * (holding * (xs - emin) + penalty * (m - emin))
                # M[x, r]: stock r left after demand from stock x
                diff = xs[:, None] - xs[None, :]
                M = np.where((diff >= 0) & (xs[None, :] >= 1), pmf[np.clip(diff, 0, X - 1)], 0.0)
                M[:, 0] = sf
                H = np.where(over, big, V[s][ra])
                total += ps * (M @ H)
            cost = total + unit * xs[None, :] + np.where(xs > 0, fixed, 0.0)[None, :]
            best = cost.argmin(axis=1)
            new[b] = expected_now + cost[xs, best]
            ordering = (xs <= 4 * peak) & (best > 0)  # order-up-to levels from states a policy visits
            if ordering.any():
                top = max(top, int((xs + best)[ordering].max()))
            if top >= X - 1:
                raise RuntimeError(f"the state space ({X} units) cuts the order short at t={t}")
        V = new
    if start_p > 0:  # a promotion may run in period 0 from a start in period -1: revealed too
        return float((1 - start_p) * V[0][x0] + start_p * V[1][x0]), top
    return float(V[0][x0]), top


def relaxed_bound(spec: Spec, periods: int, split: str = "demand") -> dict:
    """The relaxation's lower bound on the expected cost per period over ``periods`` (module notes).

    :param split: how each store arc's fixed cost is shared among its SKUs: ``"demand"`` (by
        mean demand) or ``"equal"``. Any split with shares summing to the fixed cost is valid.
    """
    net = Network(spec)
    if spec.timing != "order-first" or not spec.integer or spec.randomisation is not None:
        raise ValueError("the relaxation needs order-first timing, whole units and no randomisation")
    nodes, skus = list(spec.node_ids), list(spec.sku_ids)
    rows, total = [], 0.0
    dc_credit = 0.0
    for d, demand in enumerate(spec.demands):
        n, k = nodes.index(demand.node), skus.index(demand.sku)
        arcs = [e for e, a in enumerate(spec.arcs) if a.customer == demand.node]
        if len(arcs) != 1:
            raise ValueError(f"{demand.node} needs one supplier")
        e = arcs[0]
        lead = spec.arcs[e].lead_time
        if lead.kind != "fixed" or lead.value != 1 or lead.disruption is not None:
            raise ValueError(f"{demand.node}'s supply needs a fixed lead time of 1 without disruptions")
        up = [f for f, a in enumerate(spec.arcs) if a.customer == spec.arcs[e].supplier]
        unit = float(net.unit_cost[e] + net.transport_cost[e]
                     + sum(net.unit_cost[f] + net.transport_cost[f] for f in up))
        proc = demand.process
        if proc.kind != "negative-binomial":
            raise ValueError("the relaxation is written for negative-binomial demand")
        shape = proc.mean**2 / (proc.std**2 - proc.mean)
        promo = proc.promotion
        if promo is not None and promo.duration != 2:
            raise ValueError("promotions of two periods only")
        mean = proc.mean * proc.factor(periods)
        siblings = [dm for dm in spec.demands if dm.node == demand.node]
        share = (proc.mean / sum(dm.process.mean for dm in siblings) if split == "demand"
                 else 1.0 / len(siblings))
        fixed = share * float(net.fixed_cost[e])
        cost, top = stream_bound(mean, shape, promo.lift if promo else 1.0,
                                 promo.probability if promo else 0.0, float(net.holding_cost[n, k]),
                                 float(net.shortage_cost[d]), unit, fixed,
                                 int(round(net.initial_inventory[n, k])))
        rows.append({"stream": f"{demand.node}/{demand.sku}", "cost": cost, "unit_cost": unit,
                     "fixed_share": fixed, "max_order_up_to": top})
        total += cost
    for n, node in enumerate(spec.nodes):
        if not any(dm.node == node.id for dm in spec.demands):
            inbound = [f for f, a in enumerate(spec.arcs) if a.customer == node.id]
            price = float(sum(net.unit_cost[f] for f in inbound))
            dc_credit += price * float(net.initial_inventory[n].sum())
    return {"streams": rows, "dc_credit": dc_credit, "periods": periods, "split": split,
            "bound_per_period": (total - dc_credit) / periods}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="seasonal-grocery")
    parser.add_argument("--paths", type=int, default=20, help="test paths for the hindsight bound (0: skip)")
    parser.add_argument("--policy", default="rolling-horizon-ss:horizon=6,k=0,0.25,0.25,mip_gap=0.05",
                        help="a policy costed on the same paths, over all periods")
    parser.add_argument("--record", help="write the results as JSON here")
    args = parser.parse_args()
    spec = builtin.get(args.scenario)
    started = time.perf_counter()
    from scenarios.paths import SamplePaths

    periods = SamplePaths.draw(spec, 1, seed=0).n_periods
    splits = [relaxed_bound(spec, periods, split) for split in ("demand", "equal")]
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
    if args.record:
        Path(args.record).write_text(json.dumps(result, indent=1))
    keys = ("bound_per_period", "relaxed_over_hindsight", "policy_over_relaxed")
    print(json.dumps({k: result[k] for k in keys if k in result}))


if __name__ == "__main__":
    main()
