"""echelon against stockpyl on the serial systems stockpyl ships: exact optima and speed.

    python bench/peers_stockpyl.py                        # all instances, 1000 test paths
    python bench/peers_stockpyl.py --instances example_6_1 --no-saa
    python bench/peers_stockpyl.py --rl                   # also one RL agent per instance; ~3 min more
    make bench-peers                                      # builds .venv-peers first, then runs this

stockpyl (Snyder 2023) runs in ``.venv-peers``; this script runs in echelon's
environment and calls itself there with ``--peer`` (``bench/peers_common.py``).
Without ``.venv-peers`` there is nothing to compare against and it says so.

For each serial stochastic-service-model instance of ``stockpyl.instances``
with whole-period lead times (Snyder & Shen, *Fundamentals of Supply Chain
Theory*, Example 6.1 and Problems 6.1, 6.2(a)/(b) adjusted for periodic
review, 6.16), stockpyl's ``ssm_serial.optimize_base_stock_levels`` (Chen &
Zheng 1994) gives the optimal echelon base-stock levels ``S*`` and the exact
expected cost per period ``C*``. echelon builds the same system
(``timing = "demand-first"``, backlog, local holding on stock, pipeline
holding at the shipping stage's local rate, as ``serial-3``) and

* simulates ``S*`` on ``--paths`` test paths: the mean cost per period must
  lie within its 95% CI of ``C*`` (``max_rel_cost_diff`` is the largest
  ``|mean - C*| / C*``);
* tunes echelon base-stock levels (``scenarios.tuning.tune``, 200 training
  paths) and, unless ``--no-saa``, solves the SAA program
  (``milp.static.optimise_static``) on the same training paths, and compares
  each with ``S*`` on the test paths, paired;
* with ``--rl``, trains one PPO agent on the TuneEnv per instance
  (``rl.train``, the settings ``bench/rl_experiments.py`` uses for its
  known-optima agent on ``serial-3``, which is Example 6.1: residual
  base-stock, relative reward; :func:`rl_settings`), ``--rl-timesteps`` steps,
  seed ``--rl-seed``, the model with the lowest held-out cost kept, and
  compares it on the same test paths with ``C*``, with ``S*`` and with the
  tuned levels (paired).

Speed, on Example 6.1: stockpyl's ``sim.simulation`` (one path, echelon
base-stock at ``S*``) against ``scenarios.simulator.simulate`` on 1, 64 and
1024 paths, node-periods per second, best of 3, in the same run. The last
line is JSON.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import common  # bench/common.py: this checkout first on sys.path (why: there)
import numpy as np

ROOT = common.ROOT
#: stockpyl's serial SSM instances with lead times in whole periods. ``shang_song_*`` (lead times
#: 0.25) and ``problem_6_2a``/``6_2b`` (0.5) are continuous-time: their ``_adj`` versions are the
#: periodic-review forms.
INSTANCES = ("example_6_1", "problem_6_1", "problem_6_2a_adj", "problem_6_2b_adj", "problem_6_16")
#: The ``_adj`` instances hold no echelon holding costs and their local ones in reverse node order;
#: they are the unadjusted instance with time measured in periods of half a unit, so their echelon
#: costs are the unadjusted ones halved (local costs 3.5, 2.5, 1.5, 1.0, 0.5, downstream first).
ADJUSTED_FROM = {"problem_6_2a_adj": ("problem_6_2a", 0.5), "problem_6_2b_adj": ("problem_6_2b", 0.5)}
SPEED_INSTANCE = "example_6_1"
SPEED_PERIODS = 2000  # stockpyl simulation length (one path)
#: The known-optima agent's scenario in bench/rl_experiments.py: serial-3 is Example 6.1.
RL_SCENARIO = "serial-3"


# ----------------------------------------------------------------------------- peer side
# Runs under .venv-peers: imports stockpyl and numpy only.

def _serial_order(network) -> list:
    """Nodes downstream first (the node with demand, then its supplier, ...)."""
    node = next(n for n in network.nodes if not n.successors())
    order = [node]
    while node.predecessors():
        node = node.predecessors()[0]
        order.append(node)
    return order


def peer_instances(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """For each instance: its data (downstream first), ``S*`` and ``C*`` from Chen-Zheng."""
    from stockpyl import ssm_serial
    from stockpyl.instances import load_instance

    out = []
    for name in json.loads(str(inputs["names"])):
        network = load_instance(name)
        nodes = _serial_order(network)
        if name in ADJUSTED_FROM:
            base, scale = ADJUSTED_FROM[name]
            base_nodes = {n.index: n for n in load_instance(base).nodes}
            for n in nodes:
                n.echelon_holding_cost = scale * base_nodes[n.index].echelon_holding_cost
        echelon_h = [float(n.echelon_holding_cost) for n in nodes]
        source = nodes[0].demand_source
        demand = ({"kind": "poisson", "mean": float(source.mean)} if source.type == "P" else
                  {"kind": "normal", "mean": float(source.mean), "std": float(source.standard_deviation)})
        started = time.perf_counter()
        S, C = ssm_serial.optimize_base_stock_levels(network=network)
        out.append({
            "name": name, "nodes": [n.index for n in nodes], "echelon_holding_cost": echelon_h,
            "lead_time": [int(n.lead_time) for n in nodes], "lead_time_raw": [n.lead_time for n in nodes],
            "stockout_cost": float(nodes[0].stockout_cost), "demand": demand,
            "S": [float(S[n.index]) for n in nodes], "C": float(C),
            "seconds": time.perf_counter() - started,
        })
    return {"json": np.array(json.dumps(out))}


def peer_speed(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """stockpyl's simulator on one instance at echelon base-stock ``S``: best-of-3 time and mean cost."""
    from stockpyl.instances import load_instance
    from stockpyl.policy import Policy
    from stockpyl.sim import simulation

    name, S, periods = str(inputs["name"]), inputs["S"], int(inputs["periods"])
    best, cost = np.inf, np.nan
    for repeat in range(3):
        network = load_instance(name)
        for node, level in zip(_serial_order(network), S, strict=True):
            node.inventory_policy = Policy(type="EBS", base_stock_level=float(level), node=node)
        started = time.perf_counter()
        total = simulation(network, periods, rand_seed=repeat + 1, progress_bar=False, consistency_checks="N")
        best = min(best, time.perf_counter() - started)
        cost = total / periods if repeat == 0 else cost
    return {"seconds": np.array(best), "cost_per_period": np.array(cost),
            "nodes": np.array(len(S)), "periods": np.array(periods)}


def peer_main(task: str, src: str, dst: str) -> None:
    """Entry point under ``.venv-peers``: run ``task`` on ``src`` and write ``dst``."""
    import warnings

    warnings.filterwarnings("ignore")
    with np.load(src) as f:
        inputs = {k: f[k] for k in f.files}
    np.savez(dst, **{"instances": peer_instances, "speed": peer_speed}[task](inputs))


# ----------------------------------------------------------------------------- echelon side

def serial_spec(data: dict):
    """An echelon :class:`~scenarios.spec.Spec` of a stockpyl serial SSM instance (stage 1 first).

    Local holding ``h_i = sum of echelon h_j over j >= i`` (upstream), charged on
    stock; items in transit to stage ``i`` at the shipping stage's local rate
    ``h_{i+1}`` (nothing from the outside supplier); backlog cost ``p`` per unit
    per period; demand served before orders are placed (Snyder & Shen's
    periodic-review convention); initial stock at the optimal local levels.
    """
    from scenarios.processes import DemandProcess, LeadTime
    from scenarios.spec import EXTERNAL, Arc, Demand, Node, Spec

    echelon_h, S, L = data["echelon_holding_cost"], data["S"], data["lead_time"]
    N = len(S)
    local_h = [float(sum(echelon_h[i:])) for i in range(N)]
    local_S = [S[0]] + [S[i] - S[i - 1] for i in range(1, N)]
    ids = [f"stage{data['nodes'][i]}" for i in range(N)]
    arcs = tuple(Arc(ids[i + 1] if i + 1 < N else EXTERNAL, ids[i],
                     lead_time=LeadTime(kind="fixed", value=L[i]),
                     pipeline_holding_cost=local_h[i + 1] if i + 1 < N else 0.0) for i in range(N))
    return Spec(
        name=f"stockpyl-{data['name'].replace('_', '-')}",
        description=f"stockpyl instance {data['name']} (Snyder & Shen), serial, {N} stages.",
        timing="demand-first", shortage="backlog", integer=False, horizon=300,
        warmup=max(20, 2 * sum(L)),
        nodes=tuple(Node(ids[i], holding_cost=local_h[i], initial_inventory=round(max(local_S[i], 0.0), 4))
                    for i in range(N)),
        arcs=arcs,
        demands=(Demand(ids[0], "item", DemandProcess(**data["demand"]),
                        shortage_cost=data["stockout_cost"]),),
    )


def rl_settings() -> dict:
    """Training settings of the agents: ``bench/rl_experiments.py``'s for ``serial-3``."""
    from bench.rl_experiments import SETTINGS

    return dict(SETTINGS[RL_SCENARIO]["tune"])


def rl_layer(spec, timesteps: int, seed: int, out: Path) -> tuple[object, dict]:
    """The RL layer: one PPO TuneEnv agent on ``spec`` with :func:`rl_settings` (``bench.rl_experiments``)."""
    from bench.rl_experiments import train_tune_agent

    return train_tune_agent(spec, {**rl_settings(), "timesteps": timesteps}, seed, out)


def compare(data: dict, test_paths: int, train_paths: int, seed: int, saa: bool, log=print, *,
            rl: dict | None = None) -> dict:
    """Simulated cost at ``S*`` against ``C*``; tuned and SAA levels (and an agent) against ``S*``, paired.

    :param rl: also an agent (:func:`rl_layer`): ``{"timesteps": n, "seed": s, "out": dir}``; its row
        has the paired difference against ``S*`` and against the tuned levels (``minus_tuner``).
    """
    from scenarios.evaluate import train_seed
    from scenarios.kpis import estimate, paired_difference
    from scenarios.paths import SamplePaths
    from scenarios.policies import EchelonBaseStock
    from scenarios.simulator import simulate
    from scenarios.tuning import tune

    spec = serial_spec(data)
    test = SamplePaths.draw(spec, test_paths, seed=seed)
    train = SamplePaths.draw(spec, train_paths, periods=200, seed=train_seed(seed))
    optimal = simulate(spec, test, EchelonBaseStock(S=data["S"]), kpi_flows=False)
    cost = estimate(optimal.total_cost[:, test.warmup:].mean(1))
    C = data["C"]
    row = {"instance": data["name"], "stages": len(data["S"]), "S_star": data["S"], "C_star": C,
           "stockpyl_seconds": data["seconds"], "cost_at_S_star": cost.to_dict(),
           "rel_diff": abs(cost.mean - C) / C, "within_ci": bool(cost.low <= C <= cost.high)}
    log(f"  {data['name']}: S* = {np.round(data['S'], 3).tolist()}, C* = {C:.4f}; echelon simulates "
        f"{cost.mean:.4f} [{cost.low:.4f}, {cost.high:.4f}] ({test_paths} paths x {spec.horizon} periods) "
        f"-> {'within' if row['within_ci'] else 'OUTSIDE'} the CI, |diff| {row['rel_diff']:.2%}")
    methods = [("tuner", lambda: tune(spec, "echelon-base-stock", train).params["S"])]
    if saa:
        from milp.static import optimise_static

        methods.append(("saa", lambda: optimise_static(spec, train, "echelon-base-stock",
                                                      time_limit=120).levels))
    runs = {}
    for key, find in methods:
        started = time.perf_counter()
        levels = np.ravel(np.asarray(find(), dtype=float))
        seconds = time.perf_counter() - started
        run = runs[key] = simulate(spec, test, EchelonBaseStock(S=levels), kpi_flows=False)
        c = estimate(run.total_cost[:, test.warmup:].mean(1))
        diff = paired_difference(run, optimal)
        row[key] = {"levels": levels.tolist(), "cost": c.to_dict(), "minus_S_star": diff.to_dict(),
                    "seconds": seconds, "gap_to_C_star": c.mean / C - 1}
        log(f"    {key:5s}: S = {np.round(levels, 3).tolist()} in {seconds:.1f} s: {c.mean:.4f} "
            f"[{c.low:.4f}, {c.high:.4f}], minus cost at S* {diff.mean:+.4f} "
            f"[{diff.low:+.4f}, {diff.high:+.4f}] (paired), gap to C* {row[key]['gap_to_C_star']:+.2%}")
    if rl is not None:
        agent, info = rl_layer(spec, rl["timesteps"], rl["seed"], Path(rl["out"]))
        run = simulate(spec, test, agent, kpi_flows=False)
        c = estimate(run.total_cost[:, test.warmup:].mean(1))
        diff, vs_tuner = paired_difference(run, optimal), paired_difference(run, runs["tuner"])
        row["rl"] = {**info, "cost": c.to_dict(), "minus_S_star": diff.to_dict(),
                     "minus_tuner": vs_tuner.to_dict(), "gap_to_C_star": c.mean / C - 1}
        log(f"    rl   : {info['policy']}, {info['steps']} steps in {info['train_time_s']:.0f} s "
            f"(kept at step {info['kept_at_step']}): {c.mean:.4f} [{c.low:.4f}, {c.high:.4f}], minus cost "
            f"at S* {diff.mean:+.4f} [{diff.low:+.4f}, {diff.high:+.4f}], minus tuner {vs_tuner.mean:+.4f} "
            f"[{vs_tuner.low:+.4f}, {vs_tuner.high:+.4f}] (paired), gap to C* "
            f"{row['rl']['gap_to_C_star']:+.2%}")
    return row


def speed(data: dict, seed: int, log=print) -> list[dict]:
    """Node-periods per second: stockpyl's simulator (one path) against echelon at 1, 64, 1024 paths."""
    from bench.peers_common import run_peer
    from scenarios.network import Network
    from scenarios.paths import SamplePaths
    from scenarios.policies import EchelonBaseStock
    from scenarios.simulator import simulate

    out = run_peer(Path(__file__), "speed", {"name": np.array(data["name"]), "S": np.array(data["S"]),
                                              "periods": np.array(SPEED_PERIODS)})
    N = int(out["nodes"])
    peer_rate = SPEED_PERIODS * N / float(out["seconds"])
    log(f"  stockpyl sim.simulation: {SPEED_PERIODS} periods x {N} nodes in {float(out['seconds']):.2f} s: "
        f"{peer_rate:,.0f} node-periods/s (its cost per period on that path "
        f"{float(out['cost_per_period']):.3f})")
    spec = serial_spec(data)
    net = Network(spec)
    rows = []
    for P in (1, 64, 1024):
        paths = SamplePaths.draw(spec, P, seed=seed + 2)
        policy = EchelonBaseStock(S=data["S"])
        best = np.inf
        for _ in range(3):
            started = time.perf_counter()
            simulate(spec, paths, policy, network=net)
            best = min(best, time.perf_counter() - started)
        rate = P * paths.n_periods * N / best
        rows.append({"paths": P, "echelon_s": best, "echelon_node_periods_per_s": rate,
                     "stockpyl_node_periods_per_s": peer_rate, "ratio": rate / peer_rate,
                     "stockpyl_cost_per_period": float(out["cost_per_period"])})
        log(f"  echelon {P:5d} paths x {paths.n_periods} periods: {best:.4f} s, {rate:,.0f} node-periods/s; "
            f"ratio {rate / peer_rate:.1f}x")
    return rows


def main(argv: list[str] | None = None) -> int:
    """Optima parity, tuners, then speed; the last printed line is JSON."""
    from bench.peers_common import peer_missing, run_peer

    parser = common.parser(__doc__)
    parser.add_argument("--instances", nargs="+", default=list(INSTANCES), choices=INSTANCES)
    parser.add_argument("--paths", type=int, default=1000, help="test paths (300 periods each)")
    parser.add_argument("--train-paths", type=int, default=200, help="training paths (200 periods each)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-saa", action="store_true", help="skip the SAA program (milp.static)")
    parser.add_argument("--rl", action="store_true",
                        help="also the RL layer: one PPO TuneEnv agent per instance")
    parser.add_argument("--rl-timesteps", type=int, default=None,
                        help=f"steps per agent (default: bench/rl_experiments.py's for {RL_SCENARIO})")
    parser.add_argument("--rl-seed", type=int, default=0, help="training seed of every agent")
    parser.add_argument("--out", default="runs/bench/peers_stockpyl",
                        help="where the agents and their specs are saved")
    args = parser.parse_args(argv)
    if args.rl and args.rl_seed == args.seed:
        parser.error("--rl-seed must differ from --seed (the test paths)")
    rl = {"timesteps": args.rl_timesteps or rl_settings()["timesteps"], "seed": args.rl_seed,
          "out": args.out} if args.rl else None
    facts = common.machine_facts()
    layer = f" --rl --rl-timesteps {rl['timesteps']} --rl-seed {rl['seed']}" if rl else ""
    print(f"python bench/peers_stockpyl.py --paths {args.paths} --train-paths {args.train_paths} "
          f"--seed {args.seed}{' --no-saa' if args.no_saa else ''}{layer}  --  {facts['date']}, commit "
          f"{facts['commit']}, {facts['nproc']} CPUs ({facts['cpu']}), load {facts['load_average']}")
    missing = peer_missing("stockpyl")
    if missing:
        print(f"stockpyl: {missing}; nothing to compare against")
        print(json.dumps({"max_rel_cost_diff": None, "speedup_1024": None, "skipped": missing}))
        common.write_record(args.record, "peers_stockpyl", {"skipped": missing}, started=facts)
        return 0
    instances = json.loads(str(run_peer(Path(__file__), "instances",
                                        {"names": np.array(json.dumps(args.instances))})["json"]))
    print("optima: stockpyl's Chen-Zheng S* and C*, echelon's simulated cost at S*, and echelon's tuners")
    if rl:
        print(f"RL: one PPO TuneEnv agent per instance, {rl['timesteps']} steps, seed {rl['seed']}, "
              f"settings of bench/rl_experiments.py for {RL_SCENARIO}: {rl_settings()}")
    rows = [compare(d, args.paths, args.train_paths, args.seed, not args.no_saa, rl=rl) for d in instances]
    speed_rows = []
    by_name = {d["name"]: d for d in instances}
    if SPEED_INSTANCE in by_name:
        print(f"speed on {SPEED_INSTANCE}: node-periods/s, echelon base-stock at S*, best of 3")
        speed_rows = speed(by_name[SPEED_INSTANCE], args.seed)
    at = {r["paths"]: r for r in speed_rows}
    summary = {
        "max_rel_cost_diff": max(r["rel_diff"] for r in rows),
        "all_within_ci": all(r["within_ci"] for r in rows),
        "instances": {r["instance"]: {"C_star": r["C_star"], "cost_at_S_star": r["cost_at_S_star"],
                                      "tuner": r["tuner"]["cost"], "saa": r.get("saa", {}).get("cost")}
                      for r in rows},
        "stockpyl_node_periods_per_s": speed_rows[0]["stockpyl_node_periods_per_s"] if speed_rows else None,
        "speedup_1": at.get(1, {}).get("ratio"), "speedup_64": at.get(64, {}).get("ratio"),
        "speedup_1024": at.get(1024, {}).get("ratio"),
        "date": facts["date"], "commit": facts["commit"],
    }
    print(json.dumps(summary))
    common.write_record(args.record, "peers_stockpyl",
                        {"summary": summary, "skipped": None, "paths": args.paths,
                         "train_paths": args.train_paths, "seed": args.seed, "rl_layer": rl,
                         "instances": rows, "speed": speed_rows}, started=facts)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--peer":
        peer_main(*sys.argv[2:5])
    else:
        raise SystemExit(main())
