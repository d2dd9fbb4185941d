"""The Zipkin (2008) lost-sales test bed: optimal costs and echelon's tuned classical policies.

    python bench/zipkin.py                          # L = 1..4, p = 4, 9, 19, 39; ~3 min
    python bench/zipkin.py --saa --rl               # also the MILP and RL layers; ~15 min on one core
    python bench/zipkin.py --lead-times 1 2 --penalties 4 9 --paths 1000

One stock point, Poisson(5) demand per period, lost sales, lead time ``L``,
holding ``h = 1`` per unit on hand at the end of a period, penalty ``p`` per
lost sale, no ordering cost (Zipkin 2008, "Old and new methods for lost-sales
inventory systems", Operations Research 56(5); the test bed of Xin 2021 and of
the deep-RL papers on lost sales).

The optimum. The published table could not be found in this project's
sources, so its numbers are not quoted; instead the optimal long-run average
cost is computed here exactly, by relative value iteration on the lost-sales
MDP (:func:`scenarios.exact.lost_sales_optimum`), with the same event order as echelon's
``timing = "order-first"``: the order placed ``L`` periods ago arrives, the
new order is placed, demand is served, costs are charged on the end of the
period. State: stock on hand after the arrival and the ``L - 1`` orders still
in transit; orders that lift the inventory position above a cap are left out
(the cap is reported and set well above every optimal base-stock level).

echelon's side: each classical family is tuned by ``scenarios.tuning.tune``
on training paths, and capped base-stock also by a full integer grid on the
same paths (:func:`grid_capped`); all are evaluated on separate test paths
(common random numbers). The table gives the cost per period with its 95% CI
and the gap to the optimum. The last line is JSON.

Optional layers, evaluated on the same test paths:

* ``--saa``: the MILP layer, ``milp.optimise_static(spec, train, "base-stock")`` on the
  training paths (as ``bench/static.py`` runs it). The program is an approximation
  for lost sales (sales relaxed to ``<= min(demand, stock)``; the result's notes say so);
  its base-stock level is simulated exactly on the test paths.
* ``--rl``: the RL layer, one PPO agent on the TuneEnv per instance, trained by
  ``rl.train`` with the settings ``bench/rl_experiments.py`` uses for its known-optima
  agent on ``lost-sales-poisson`` (residual base-stock, one-period epochs, pipeline
  observed, relative reward; :func:`rl_settings`), ``--rl-timesteps`` steps, seed
  ``--rl-seed``; the kept model is the one with the lowest held-out cost.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import common  # bench/common.py: this checkout first on sys.path (why: there)
import numpy as np

from scenarios.exact import lost_sales_optimum

ROOT = common.ROOT
MEAN, HOLDING = 5.0, 1.0
LEAD_TIMES = (1, 2, 3, 4)
PENALTIES = (4.0, 9.0, 19.0, 39.0)
FAMILIES = ("base-stock", "capped-base-stock", "sS")
TRAIN_PERIODS = 300  # per training path, after the 50 warm-up periods
#: The known-optima agent's scenario in bench/rl_experiments.py: L = 2, p = 9 is lost-sales-poisson.
RL_SCENARIO = "lost-sales-poisson"


def zipkin_spec(lead_time: int, penalty: float):
    """The built-in ``lost-sales-poisson`` scenario with lead time ``L`` and penalty ``p``."""
    from scenarios import builtin
    from scenarios.processes import LeadTime

    base = builtin.get("lost-sales-poisson")
    arc = replace(base.arcs[0], lead_time=LeadTime(kind="fixed", value=lead_time))
    demand = replace(base.demands[0], shortage_cost=penalty)
    return replace(base, name=f"zipkin-L{lead_time}-p{penalty:g}", arcs=(arc,), demands=(demand,),
                   known_optimum=None, description=f"Zipkin (2008) lost-sales instance: Poisson(5), h = 1, "
                   f"p = {penalty:g}, lead time {lead_time}.")


def grid_capped(spec, train, chunk: int = 40) -> tuple[float, float, float]:
    """Best capped base-stock ``(S, r)`` over an integer grid on ``train`` (mean cost per period).

    The tuner's compass search can stall on the capped family (its start, ``r`` at a high
    demand quantile, leaves the cap slack, where the cost does not change with ``r``);
    a full grid does not. ``S`` runs over the mean lead-time demand plus 0 to 3 standard
    deviations (``L + 1`` periods), ``r`` from 1 to the mean plus 4 standard deviations.
    """
    from scenarios.policies import CappedBaseStock
    from scenarios.simulator import simulate

    L = spec.arcs[0].lead_time.value
    span = MEAN * (L + 1)
    S_values = np.arange(int(MEAN * L), int(np.ceil(span + 3 * np.sqrt(span))) + 1, dtype=float)
    r_values = np.arange(1, int(np.ceil(MEAN + 4 * np.sqrt(MEAN))) + 1, dtype=float)
    S_grid, r_grid = (g.ravel() for g in np.meshgrid(S_values, r_values, indexing="ij"))
    P = train.n_paths
    costs = []
    for start in range(0, len(S_grid), chunk):
        S, r = S_grid[start:start + chunk], r_grid[start:start + chunk]
        tiled = train.tile(len(S))  # copy-major: path c * P + i is path i under candidate c
        policy = CappedBaseStock(S=np.repeat(S, P)[:, None, None], r=np.repeat(r, P)[:, None, None])
        run = simulate(spec, tiled, policy, kpi_flows=False)
        costs.append(run.total_cost[:, train.warmup:].mean(1).reshape(len(S), P).mean(1))
    costs = np.concatenate(costs)
    best = int(np.argmin(costs))
    return float(S_grid[best]), float(r_grid[best]), float(costs[best])


def rl_settings() -> dict:
    """Training settings of the agents: ``bench/rl_experiments.py``'s for ``lost-sales-poisson``."""
    from bench.rl_experiments import SETTINGS

    return dict(SETTINGS[RL_SCENARIO]["tune"])


def saa_layer(spec, train) -> tuple[object, dict]:
    """The MILP layer: SAA base-stock level on the training paths (``milp.optimise_static``)."""
    from milp import optimise_static

    started = time.perf_counter()
    result = optimise_static(spec, train, "base-stock", threads=1)
    seconds = time.perf_counter() - started
    policy = result.policy(spec)
    policy.name = "saa base-stock"
    return policy, {"policy": "saa base-stock", "levels": np.ravel(result.levels).tolist(),
                    "train_cost": result.objective, "status": result.status, "exact": result.exact,
                    "iterations": result.iterations, "notes": list(result.notes), "seconds": seconds}


def rl_layer(spec, timesteps: int, seed: int, out: Path) -> tuple[object, dict]:
    """The RL layer: one PPO TuneEnv agent on ``spec`` with :func:`rl_settings` (``bench.rl_experiments``)."""
    from bench.rl_experiments import train_tune_agent

    return train_tune_agent(spec, {**rl_settings(), "timesteps": timesteps}, seed, out)


def tuned(lead_time: int, penalty: float, paths: int, train_paths: int, seed: int, *, saa: bool = False,
          rl: dict | None = None) -> tuple[list[dict], dict[str, dict]]:
    """Each classical family tuned on training paths (and capped base-stock by grid), on test paths.

    :param saa: also the SAA base-stock level (:func:`saa_layer`) from the same training paths.
    :param rl: also an agent (:func:`rl_layer`): ``{"timesteps": n, "seed": s, "out": dir}``.
    :return: the classical rows, and the extra layers by name (``"saa"``, ``"rl"``), each with its
        cost on the same test paths and its paired difference against the cheapest classical row.
    """
    from scenarios.evaluate import evaluate_policies, train_seed
    from scenarios.kpis import paired_difference
    from scenarios.paths import SamplePaths
    from scenarios.policies import CappedBaseStock

    spec = zipkin_spec(lead_time, penalty)
    train = SamplePaths.draw(spec, train_paths, TRAIN_PERIODS, seed=train_seed(seed))
    started = time.perf_counter()
    S, r, _ = grid_capped(spec, train)
    grid_seconds = time.perf_counter() - started
    grid = CappedBaseStock(S=[S], r=[r])
    grid.name = "capped-base-stock (grid)"
    extra: dict[str, tuple[object, dict]] = {}
    if saa:
        extra["saa"] = saa_layer(spec, train)
    if rl is not None:
        extra["rl"] = rl_layer(spec, rl["timesteps"], rl["seed"], Path(rl["out"]))
    policies = [*FAMILIES, grid, *(policy for policy, _ in extra.values())]
    results = evaluate_policies(spec, policies, paths=paths, seed=seed, train_paths=train_paths,
                                train_periods=TRAIN_PERIODS).results
    classical, layered = results[:len(FAMILIES) + 1], results[len(FAMILIES) + 1:]
    rows = []
    for res in classical:
        cost = res.kpis["cost_per_period"]
        rows.append({"policy": res.label, "params": res.params, "cost": cost.mean,
                     "ci95": [cost.low, cost.high],
                     "tuning_s": res.tuning.seconds if res.tuning else grid_seconds})
    best = min(classical, key=lambda res: res.kpis["cost_per_period"].mean)
    layers = {}
    for (name, (_, info)), res in zip(extra.items(), layered, strict=True):
        cost = res.kpis["cost_per_period"]
        diff = paired_difference(res.run, best.run)
        layers[name] = {**info, "cost": cost.mean, "ci95": [cost.low, cost.high],
                        "diff_vs_best_classical": {"policy": best.label, "mean": diff.mean,
                                                   "ci95": [diff.low, diff.high]}}
    return rows, layers


def _table_row(L: int, p: float, optimum: float, policy: str, params: str, row: dict) -> str:
    return (f"| {L} | {p:g} | {optimum:.4f} | {policy} | {params} | {row['cost']:.4f} "
            f"[{row['ci95'][0]:.4f}, {row['ci95'][1]:.4f}] | {row['gap']:+.2%} |")


def main(argv: list[str] | None = None) -> int:
    """Optimal costs by value iteration, then the tuned families; a markdown table and a JSON line."""
    parser = common.parser(__doc__)
    parser.add_argument("--lead-times", type=int, nargs="+", default=list(LEAD_TIMES))
    parser.add_argument("--penalties", type=float, nargs="+", default=list(PENALTIES))
    parser.add_argument("--paths", type=int, default=2000, help="test paths (1000 periods after 50 warm-up)")
    parser.add_argument("--train-paths", type=int, default=200,
                        help=f"training paths ({TRAIN_PERIODS} periods each)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--saa", action="store_true",
                        help="also the MILP layer: SAA base-stock level (milp.optimise_static; approximate "
                             "for lost sales)")
    parser.add_argument("--rl", action="store_true",
                        help="also the RL layer: one PPO TuneEnv agent per instance")
    parser.add_argument("--rl-timesteps", type=int, default=None,
                        help=f"steps per agent (default: bench/rl_experiments.py's for {RL_SCENARIO})")
    parser.add_argument("--rl-seed", type=int, default=0, help="training seed of every agent")
    parser.add_argument("--out", default="runs/bench/zipkin",
                        help="where the agents and their specs are saved")
    args = parser.parse_args(argv)
    if args.rl and args.rl_seed == args.seed:
        parser.error("--rl-seed must differ from --seed (the test paths)")
    rl = {"timesteps": args.rl_timesteps or rl_settings()["timesteps"], "seed": args.rl_seed,
          "out": args.out} if args.rl else None
    facts = common.machine_facts()
    penalties = " ".join(f"{p:g}" for p in args.penalties)
    layers = (" --saa" if args.saa else "") + (f" --rl --rl-timesteps {rl['timesteps']} --rl-seed "
                                               f"{rl['seed']}" if rl else "")
    print(f"python bench/zipkin.py --lead-times {' '.join(map(str, args.lead_times))} --penalties "
          f"{penalties} --paths {args.paths} --train-paths {args.train_paths} --seed {args.seed}{layers}"
          f"  --  "
          f"{facts['date']}, commit {facts['commit']}, load {facts['load_average']}")
    if args.saa:
        print("SAA: milp.optimise_static(spec, training paths, 'base-stock'); approximate for lost sales "
              "(the program relaxes sales to <= min(demand, stock)); its level is simulated exactly on the "
              "test paths.")
    if rl:
        print(f"RL: one PPO TuneEnv agent per instance, {rl['timesteps']} steps, seed {rl['seed']}, "
              f"settings of bench/rl_experiments.py for {RL_SCENARIO}: {rl_settings()}")
    print("| L | p | optimum (value iteration) | policy | tuned parameters | cost / period (95% CI) | gap |")
    print("|---:|---:|---:|---|---|---:|---:|")
    out = []
    for L in args.lead_times:
        for p in args.penalties:
            opt = asdict(lost_sales_optimum(L, p, mean=MEAN, holding=HOLDING))
            rows, extra = tuned(L, p, args.paths, args.train_paths, args.seed, saa=args.saa, rl=rl)
            for r in rows:
                r["gap"] = r["cost"] / opt["cost"] - 1
                params = "; ".join(f"{k}={', '.join(f'{v:.4g}' for v in vs)}"
                                   for k, vs in r["params"].items())
                print(_table_row(L, p, opt["cost"], r["policy"], params, r), flush=True)
            for layer in extra.values():
                layer["gap"] = layer["cost"] / opt["cost"] - 1
            note = ""
            if "saa" in extra:
                saa = extra["saa"]
                note += f"; SAA {saa['status']}, {saa['seconds']:.1f} s"
                levels = ", ".join(f"{v:.4g}" for v in saa["levels"])
                print(_table_row(L, p, opt["cost"], "saa base-stock (approximate: lost sales)", f"S={levels}",
                                 saa), flush=True)
            if "rl" in extra:
                agent = extra["rl"]
                note += f"; agent trained in {agent['train_time_s']:.0f} s"
                print(_table_row(L, p, opt["cost"], f"{agent['policy']} ({agent['steps']} steps)",
                                 f"kept at step {agent['kept_at_step']}", agent), flush=True)
            print(f"<!-- L={L}, p={p:g}: value iteration {opt['iterations']} iterations, "
                  f"{opt['states']} states, cap {opt['cap']} (binds: {opt['cap_binds']}), "
                  f"bounds [{opt['bounds'][0]:.6f}, {opt['bounds'][1]:.6f}], "
                  f"{opt['seconds']:.0f} s{note} -->", flush=True)
            out.append({"lead_time": L, "penalty": p, "optimum": opt, "policies": rows, **extra})
    best = {f"L{o['lead_time']}-p{o['penalty']:g}": min(r["gap"] for r in o["policies"]) for o in out}
    summary = {"best_gap": best}
    for name in ("saa", "rl"):
        if any(name in o for o in out):
            summary[f"{name}_gap"] = {f"L{o['lead_time']}-p{o['penalty']:g}": o[name]["gap"] for o in out}
    print(json.dumps({**summary, "date": facts["date"], "commit": facts["commit"]}))
    common.write_record(args.record, "zipkin", {"paths": args.paths, "train_paths": args.train_paths,
                                                "seed": args.seed, "saa_layer": args.saa, "rl_layer": rl,
                                                "instances": out, **summary}, started=facts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
