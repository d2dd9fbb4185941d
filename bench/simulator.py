"""Throughput of the batched simulator against a plain per-path Python loop.

    python bench/simulator.py            # full: 1, 64, 1024 paths, best of 3
    python bench/simulator.py --quick    # 1 and 64 paths, best of 2
    python bench/simulator.py --json     # machine-readable results

For ``divergent-1w3r`` and ``retail-network`` it draws sample paths (seed 0,
100 measured periods after the scenario's warm-up), runs a base-stock policy
at the heuristic levels of :func:`scenarios.tuning.initial_levels`, and times

* ``scenarios.simulator.simulate`` on all paths (best of the repeats), and
* ``bench/reference_loop.py`` -- the same model, one path and one period at a
  time in plain Python -- on the first ``min(paths, cap)`` paths (best of the
  repeats); its time per path does not depend on how many paths there are,
  so its rate is scaled to the full count (the output says how many it timed).

Before timing, the reference must reproduce the batched per-path, per-period
cost to 1e-9 (relative) on a few paths, at the benchmark levels and at
"stressed" levels (upstream levels halved, so short supplier stock is shared
proportionally); the benchmark is a correctness check as well.

Throughput is node-periods per second: paths x periods (warm-up included) x
nodes; retail-network also reports SKU-node-periods (x 20 SKUs).
"""

from __future__ import annotations

import json
import os
import sys
import time

import common  # bench/common.py: this checkout first on sys.path (why: there)
import numpy as np

from bench.reference_loop import ReferenceModel, check_agreement, node_sku_levels
from scenarios import builtin
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.policies import BaseStock
from scenarios.simulator import simulate
from scenarios.tuning import initial_levels

ROOT = common.ROOT

SCENARIOS = ("divergent-1w3r", "retail-network")
PERIODS = 100  # measured, after each scenario's own warm-up
SEED = 0
#: Paths the reference loop is timed on at most, per scenario (its cost per path is constant).
REFERENCE_CAP = {"divergent-1w3r": 64, "retail-network": 16}
CHECK_PATHS = 6


def _time(fn) -> tuple[float, float]:
    """Wall time (``perf_counter``) and CPU time (``process_time``) of one call, in seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _best_pair(batched, reference, repeats: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Best (wall, CPU) times of two calls, repeated alternately so both see the same load."""
    best_b, best_r = (np.inf, np.inf), (np.inf, np.inf)
    for _ in range(repeats):
        best_b = tuple(map(min, best_b, _time(batched)))
        best_r = tuple(map(min, best_r, _time(reference)))
    return best_b, best_r


def _stressed(S: np.ndarray, net: Network) -> np.ndarray:
    """Levels with every supplying node's ``S`` halved, so it runs short and allocates."""
    out = S.copy()
    suppliers = np.unique(net.supplier[net.supplier >= 0])
    out[suppliers] *= 0.5
    return out


def bench_scenario(name: str, path_counts: tuple[int, ...], repeats: int,
                   log=print) -> list[dict]:
    """Check agreement, then time batched vs reference for each path count."""
    spec = builtin.get(name)
    net = Network(spec)
    S = node_sku_levels(spec, initial_levels(spec, net)["local"])
    policy = BaseStock(S=S)
    reference = ReferenceModel(spec)
    N, K = net.n_nodes, net.n_skus

    # correctness first: reference == batched, per path and period
    check = SamplePaths.draw(spec, CHECK_PATHS, periods=PERIODS, seed=SEED)
    worst = 0.0
    for levels in (S, _stressed(S, net)):
        cost = simulate(spec, check, BaseStock(S=levels), network=net).total_cost
        worst = max(worst, check_agreement(spec, check, levels, cost, list(range(CHECK_PATHS)),
                                           model=reference))
    log(f"{name}: reference loop agrees with simulate on {CHECK_PATHS} paths x 2 level sets "
        f"(worst relative error {worst:.1e})")

    rows = []
    for P in path_counts:
        paths = SamplePaths.draw(spec, P, periods=PERIODS, seed=SEED)
        T = paths.n_periods
        n_ref = min(P, REFERENCE_CAP[name])
        (batched, batched_cpu), (ref, ref_cpu) = _best_pair(
            lambda: simulate(spec, paths, policy, network=net),  # noqa: B023
            lambda: reference.run(paths, S, range(n_ref)), repeats)  # noqa: B023
        ref_per_path = ref / n_ref
        node_periods = P * T * N
        row = {
            "scenario": name, "paths": P, "periods": T, "nodes": N, "skus": K,
            "batched_s": batched, "reference_s_per_path": ref_per_path,
            "reference_paths_timed": n_ref,
            "batched_node_periods_per_s": node_periods / batched,
            "reference_node_periods_per_s": n_ref * T * N / ref,
            "ratio": ref_per_path * P / batched,
            "batched_cpu_s": batched_cpu, "reference_cpu_s_per_path": ref_cpu / n_ref,
            "ratio_cpu": ref_cpu / n_ref * P / batched_cpu,
        }
        if K > 1:
            row["batched_sku_node_periods_per_s"] = node_periods * K / batched
            row["reference_sku_node_periods_per_s"] = n_ref * T * N * K / ref
        rows.append(row)
        log(f"  {P:5d} paths: batched {batched:8.4f} s, reference {ref_per_path * 1e3:7.2f} ms/path "
            f"(timed on {n_ref}), ratio {row['ratio']:6.1f}x (CPU time: {row['ratio_cpu']:.1f}x)")
    return rows


def _fmt(x: float) -> str:
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.1f} k"


def table(rows: list[dict]) -> str:
    """Markdown table of the results."""
    lines = ["| scenario | paths | nodes x SKUs | periods | batched s | batched node-periods/s "
             "| reference node-periods/s (paths timed) | ratio | ratio, CPU time "
             "| SKU-node-periods/s batched / reference |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        sku = (f"{_fmt(r['batched_sku_node_periods_per_s'])} / {_fmt(r['reference_sku_node_periods_per_s'])}"
               if "batched_sku_node_periods_per_s" in r else "-")
        lines.append(f"| {r['scenario']} | {r['paths']} | {r['nodes']} x {r['skus']} | {r['periods']} "
                     f"| {r['batched_s']:.4f} | {_fmt(r['batched_node_periods_per_s'])} "
                     f"| {_fmt(r['reference_node_periods_per_s'])} ({r['reference_paths_timed']}) "
                     f"| {r['ratio']:.1f}x | {r['ratio_cpu']:.1f}x | {sku} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = common.parser(__doc__, quick="1 and 64 paths, best of 2", json="print JSON instead of a table")
    args = parser.parse_args(argv)
    facts = common.machine_facts()
    path_counts = (1, 64) if args.quick else (1, 64, 1024)
    repeats = 2 if args.quick else 3
    log = (lambda *a, **k: print(*a, file=sys.stderr, **k)) if args.json else print

    meta = dict(facts)
    started = time.perf_counter()
    rows = [r for name in SCENARIOS for r in bench_scenario(name, path_counts, repeats, log)]
    meta["seconds"] = round(time.perf_counter() - started, 1)
    meta["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    settings = {"periods_measured": PERIODS, "seed": SEED, "repeats": repeats,
                "policy": "base-stock at initial_levels(spec)['local'], spread over SKUs by demand share"}
    common.write_record(args.record, "simulator", {"settings": settings, "results": rows}, started=facts)
    if args.json:
        print(json.dumps({"machine": meta, "settings": settings, "results": rows}, indent=2))
        return 0
    print()
    print(f"python bench/simulator.py{' --quick' if args.quick else ''}  --  {meta['date']}, "
          f"{meta['nproc']} CPUs ({meta['cpu']}), Python {meta['python']}, numpy {meta['numpy']}, "
          f"commit {meta['commit']}, load average {meta['load_average']} -> {meta['load_average_end']}")
    print(f"base-stock at the heuristic local levels; seed {SEED}; {PERIODS} periods + warm-up; "
          f"best of {repeats} (wall clock; CPU-time ratio alongside);\nthe reference loop is timed on "
          f"at most {', '.join(f'{k} {v}' for k, v in REFERENCE_CAP.items())} paths and scaled per path.")
    print(table(rows))
    at_1024 = [r for r in rows if r["paths"] == 1024]
    if at_1024:
        verdict = ", ".join(f"{r['scenario']} {r['ratio']:.0f}x" for r in at_1024)
        goal = "met" if all(r["ratio"] >= 100 for r in at_1024) else "NOT met"
        print(f"goal >= 100x at 1024 paths: {goal} ({verdict})")
    print(f"total {meta['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
