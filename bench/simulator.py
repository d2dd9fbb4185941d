"""Throughput of the simulator's compiled kernel and numpy reference against a plain per-path Python loop.

    python bench/simulator.py            # full: 1, 64, 1024 paths, best of 3
    python bench/simulator.py --quick    # 1 and 64 paths, best of 2
    python bench/simulator.py --json     # machine-readable results

For ``divergent-1w3r`` and ``retail-network`` it draws sample paths (seed 0,
100 measured periods after the scenario's warm-up), runs a base-stock policy
at the heuristic levels of :func:`scenarios.tuning.initial_levels`, and times,
taking turns so all three see the same load:

* ``scenarios.simulator.simulate`` with the compiled kernel (``ECHELON_BACKEND=kernel``,
  the default: the whole run is one compiled call, paths on every core), the
  "batched" columns; at 1024 paths also on one thread (``numba.set_num_threads(1)``);
* the same with the numpy reference (``ECHELON_BACKEND=numpy``), and
* ``bench/reference_loop.py`` -- the same model, one path and one period at a
  time in plain Python -- on the first ``min(paths, cap)`` paths (best of the
  repeats); its time per path does not depend on how many paths there are,
  so its rate is scaled to the full count (the output says how many it timed).

Then tuning: :func:`scenarios.tuning.tune` of echelon base-stock on ``serial-3``
(400 training paths, seed 1) with each backend, in turns (best of 2), and the
levels each finds.

Last, the kernel's compile time: a fresh process with an empty numba cache
(``NUMBA_CACHE_DIR`` a new folder) runs a small simulation with each entry point
(cold: compiling), and a second process the same (warm: loading the cache).

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
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

import common  # bench/common.py: this checkout first on sys.path (why: there)
import numpy as np

from bench.reference_loop import ReferenceModel, check_agreement, node_sku_levels
from scenarios import builtin
from scenarios.kernel import VARIABLE
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.policies import BaseStock
from scenarios.simulator import simulate
from scenarios.tuning import initial_levels, tune

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


@contextmanager
def _backend(name: str):
    """Simulations inside run on backend ``name`` (``kernel`` or ``numpy``)."""
    before = os.environ.get(VARIABLE)
    os.environ[VARIABLE] = name
    try:
        yield
    finally:
        os.environ.pop(VARIABLE) if before is None else os.environ.__setitem__(VARIABLE, before)


def _best_of(calls: dict, repeats: int) -> dict[str, tuple[float, float]]:
    """Best (wall, CPU) times of each call, the calls taking turns so all see the same load."""
    best = dict.fromkeys(calls, (np.inf, np.inf))
    for _ in range(repeats):
        for name, call in calls.items():
            best[name] = tuple(map(min, best[name], _time(call)))
    return best


def _threads(n: int | None) -> None:
    """Kernel threads: ``n``, or ``None`` for numba's default (one per core)."""
    import numba

    numba.set_num_threads(n or numba.config.NUMBA_NUM_THREADS)


def _kernel_one_thread(run) -> None:
    _threads(1)
    try:
        run()
    finally:
        _threads(None)


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

        def kernel(paths=paths):
            with _backend("kernel"):
                simulate(spec, paths, policy, network=net)

        def numpy(paths=paths):
            with _backend("numpy"):
                simulate(spec, paths, policy, network=net)

        calls = {"kernel": kernel, "numpy": numpy,
                 "reference": lambda paths=paths, n_ref=n_ref: reference.run(paths, S, range(n_ref))}
        if P >= 1024:
            calls["kernel_1_thread"] = lambda kernel=kernel: _kernel_one_thread(kernel)
        kernel()  # compiled (or loaded from the cache) before timing
        best = _best_of(calls, repeats)
        (batched, batched_cpu), (npy, _), (ref, ref_cpu) = best["kernel"], best["numpy"], \
            best["reference"]
        ref_per_path = ref / n_ref
        node_periods = P * T * N
        row = {
            "scenario": name, "paths": P, "periods": T, "nodes": N, "skus": K, "backend": "kernel",
            "batched_s": batched, "reference_s_per_path": ref_per_path,
            "reference_paths_timed": n_ref,
            "batched_node_periods_per_s": node_periods / batched,
            "reference_node_periods_per_s": n_ref * T * N / ref,
            "ratio": ref_per_path * P / batched,
            "batched_cpu_s": batched_cpu, "reference_cpu_s_per_path": ref_cpu / n_ref,
            "ratio_cpu": ref_cpu / n_ref * P / batched_cpu,
            "numpy_s": npy, "numpy_node_periods_per_s": node_periods / npy,
            "numpy_ratio": ref_per_path * P / npy, "kernel_over_numpy": npy / batched,
        }
        if "kernel_1_thread" in best:
            row["kernel_1_thread_s"] = best["kernel_1_thread"][0]
            row["threads_2_over_1"] = best["kernel_1_thread"][0] / batched
        if K > 1:
            row["batched_sku_node_periods_per_s"] = node_periods * K / batched
            row["reference_sku_node_periods_per_s"] = n_ref * T * N * K / ref
        rows.append(row)
        threads = f", 1 thread {row['kernel_1_thread_s']:.4f} s (2 threads: {row['threads_2_over_1']:.2f}x)" \
            if "threads_2_over_1" in row else ""
        log(f"  {P:5d} paths: kernel {batched:8.4f} s, numpy {npy:8.4f} s, reference "
            f"{ref_per_path * 1e3:7.2f} ms/path (timed on {n_ref}); kernel/loop {row['ratio']:7.1f}x, "
            f"numpy/loop {row['numpy_ratio']:6.1f}x, kernel/numpy {row['kernel_over_numpy']:5.1f}x{threads}")
    return rows


def tuning_speed(repeats: int = 2, log=print) -> dict:
    """Wall time of tuning echelon base-stock on serial-3 (400 paths) with each backend, and the levels."""
    spec = builtin.get("serial-3")
    train = SamplePaths.draw(spec, 400, seed=1)
    results: dict = {}

    def run(backend: str) -> None:
        with _backend(backend):
            results[backend] = tune(spec, "echelon-base-stock", train)

    calls = {b: (lambda b=b: run(b)) for b in ("kernel", "numpy")}
    best = _best_of(calls, repeats)
    levels = {b: r.params["S"] for b, r in results.items()}
    gap = float(np.max(np.abs(np.subtract(levels["kernel"], levels["numpy"]))))
    out = {"kernel_s": best["kernel"][0], "numpy_s": best["numpy"][0],
           "speedup": best["numpy"][0] / best["kernel"][0], "levels": levels, "max_level_gap": gap,
           "train_cost": {b: r.train_cost for b, r in results.items()},
           "evaluations": {b: r.evaluations for b, r in results.items()}}
    log(f"tuning echelon base-stock on serial-3, 400 paths: kernel {out['kernel_s']:.2f} s, numpy "
        f"{out['numpy_s']:.2f} s ({out['speedup']:.1f}x); levels kernel {levels['kernel']}, numpy "
        f"{levels['numpy']} (largest gap {gap:g}); {out['evaluations']['kernel']} candidates each")
    return out


_COMPILE_SCRIPT = """
import json, time
from scenarios import builtin
from scenarios.kernel import VARIABLE
from scenarios.kernel import compile_seconds
from scenarios.paths import SamplePaths
from scenarios.policies import BaseStock
from scenarios.simulator import Simulator, simulate
import numpy as np
started = time.perf_counter()
spec = builtin.get("serial-3")
paths = SamplePaths.draw(spec, 4, periods=5, seed=0)
simulate(spec, paths, BaseStock(S=[5.0, 5.0, 5.0]))  # run_policy
sim = Simulator(spec, paths)
sim.begin_period()  # begin_all
sim.end_period(np.zeros((4, 3, 1)))  # end_all
print(json.dumps({"entry_points": compile_seconds(), "process_s": time.perf_counter() - started}))
"""


def compile_times(log=print) -> dict:
    """Seconds of the kernel's first calls in a fresh process: cold (empty cache), then warm."""
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
        env.pop(VARIABLE, None)
        for kind in ("cold", "warm"):
            done = subprocess.run([sys.executable, "-c", _COMPILE_SCRIPT], env=env, cwd=ROOT, check=True,
                                  capture_output=True, text=True)
            out[kind] = json.loads(done.stdout.strip().splitlines()[-1])
            seconds = out[kind]["entry_points"]
            each = ", ".join(f"{k} {v:.2f} s" for k, v in seconds.items())
            log(f"kernel first calls, {kind} cache: {each} (total {sum(seconds.values()):.1f} s)")
    return out


def _fmt(x: float) -> str:
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.1f} k"


def table(rows: list[dict]) -> str:
    """Markdown table of the results."""
    lines = ["| scenario | paths | nodes x SKUs | periods | kernel s | kernel node-periods/s "
             "| numpy s | numpy node-periods/s | reference node-periods/s (paths timed) "
             "| kernel / loop | numpy / loop | kernel / numpy | 2 threads / 1 |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        threads = f"{r['threads_2_over_1']:.2f}x" if "threads_2_over_1" in r else "-"
        lines.append(f"| {r['scenario']} | {r['paths']} | {r['nodes']} x {r['skus']} | {r['periods']} "
                     f"| {r['batched_s']:.4f} | {_fmt(r['batched_node_periods_per_s'])} "
                     f"| {r['numpy_s']:.4f} | {_fmt(r['numpy_node_periods_per_s'])} "
                     f"| {_fmt(r['reference_node_periods_per_s'])} ({r['reference_paths_timed']}) "
                     f"| {r['ratio']:.1f}x | {r['numpy_ratio']:.1f}x | {r['kernel_over_numpy']:.1f}x "
                     f"| {threads} |")
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
    tuning = tuning_speed(log=log)
    compiling = compile_times(log)
    meta["seconds"] = round(time.perf_counter() - started, 1)
    meta["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    settings = {"periods_measured": PERIODS, "seed": SEED, "repeats": repeats,
                "policy": "base-stock at initial_levels(spec)['local'], spread over SKUs by demand share"}
    extra = {"tuning": tuning, "compile_seconds": compiling}
    common.write_record(args.record, "simulator", {"settings": settings, "results": rows, **extra},
                        started=facts)
    if args.json:
        print(json.dumps({"machine": meta, "settings": settings, "results": rows, **extra}, indent=2))
        return 0
    print()
    print(f"python bench/simulator.py{' --quick' if args.quick else ''}  --  {meta['date']}, "
          f"{meta['nproc']} CPUs ({meta['cpu']}), Python {meta['python']}, numpy {meta['numpy']}, "
          f"commit {meta['commit']}, load average {meta['load_average']} -> {meta['load_average_end']}")
    print(f"base-stock at the heuristic local levels; seed {SEED}; {PERIODS} periods + warm-up; "
          f"best of {repeats}, the three taking turns (wall clock);\nthe reference loop is timed on "
          f"at most {', '.join(f'{k} {v}' for k, v in REFERENCE_CAP.items())} paths and scaled per path.")
    print(table(rows))
    at_1024 = [r for r in rows if r["paths"] == 1024]
    if at_1024:
        verdict = ", ".join(f"{r['scenario']} {r['ratio']:.0f}x" for r in at_1024)
        goal = "met" if all(r["ratio"] >= 1000 for r in at_1024) else "NOT met"
        print(f"goal kernel >= 1000x the loop at 1024 paths: {goal} ({verdict})")
        verdict = ", ".join(f"{r['scenario']} {r['threads_2_over_1']:.2f}x" for r in at_1024)
        goal = "met" if all(r["threads_2_over_1"] >= 1.6 for r in at_1024) else "NOT met"
        print(f"goal 2 threads >= 1.6x one thread at 1024 paths: {goal} ({verdict}; load average "
              f"{meta['load_average']} -> {meta['load_average_end']}: needs a quiet machine)")
    print(f"total {meta['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
