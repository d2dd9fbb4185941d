"""Env steps per second: the batched VecEnv against SB3's DummyVecEnv over the single env.

    python bench/rl_env.py                  # TuneEnv and DirectOrderEnv on serial-3; 1, 64, 256 envs
    python bench/rl_env.py --quick          # 1 and 64 envs, shorter runs
    python bench/rl_env.py --scenario seasonal-grocery --env tune
    python bench/rl_env.py --json

Both sides run the same environments with the same options and seeds
(``vec.seed(0)``: environment ``i`` seeded ``i``), so before timing the bench
checks they return identical observations and rewards for a few steps. Each
side is then stepped with random actions in ``[-1, 1]`` for about ``--seconds``
of wall time, including the automatic resets that start fresh sample paths
(episodes are ``--periods`` periods plus the scenario's warm-up, so several
end in a run); measurements alternate between the two sides and the best of
``--repeats`` is kept. An env step is one environment advanced one step: one
review epoch (4 periods) for TuneEnv, one period for DirectOrderEnv.

The anchor is tuned once (16 paths) and passed to every environment, so
construction time is not measured.
"""

from __future__ import annotations

import json
import platform
import time

import common  # bench/common.py: this checkout first on sys.path (why: there)
import numpy as np
from stable_baselines3.common.vec_env import DummyVecEnv

from rl.anchor import make_anchor
from rl.envs import DirectOrderEnv, TuneEnv
from rl.vec_env import BatchedDirectOrderEnv, BatchedTuneEnv
from scenarios import builtin

ROOT = common.ROOT

KINDS = {"tune": (TuneEnv, BatchedTuneEnv), "direct": (DirectOrderEnv, BatchedDirectOrderEnv)}


def rate(env, n_envs: int, seconds: float, seed: int = 0) -> float:
    """Env steps per second over about ``seconds`` of stepping with random actions."""
    rng = np.random.default_rng(seed)
    shape = (64, n_envs, *env.action_space.shape)
    actions = rng.uniform(-1, 1, shape).astype(np.float32)
    env.step(actions[0])  # warm caches
    steps, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds or steps < 3:
        env.step(actions[steps % 64])
        steps += 1
    return steps * n_envs / elapsed


def check_same(reference, batched, n_envs: int, steps: int = 5) -> None:
    """Both sides must agree before being timed: floats to 1e-6 (float32 observations; a batch and
    a single path may differ in the last bits on another CPU), done flags exactly."""
    for env in (reference, batched):
        env.seed(0)
    np.testing.assert_allclose(reference.reset(), batched.reset(), rtol=1e-6, atol=1e-6)
    rng = np.random.default_rng(1)
    for _ in range(steps):
        actions = rng.uniform(-1, 1, (n_envs, *batched.action_space.shape)).astype(np.float32)
        (o1, r1, d1, _), (o2, r2, d2, _) = reference.step(actions), batched.step(actions)
        np.testing.assert_allclose(o1, o2, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(r1, r2, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(d1, d2)


def bench(scenario: str, kind: str, n_envs: int, periods: int, seconds: float, repeats: int) -> dict:
    """Time one configuration; returns env steps per second of both sides and their ratio."""
    spec = builtin.get(scenario)
    anchor = make_anchor(spec, "sS", paths=16, periods=periods, max_iterations=20)
    single, batched_cls = KINDS[kind]
    options = {"anchor": anchor, "periods": periods}
    reference = DummyVecEnv([lambda: single(spec, **options) for _ in range(n_envs)])
    batched = batched_cls(spec, n_envs, **options)
    check_same(reference, batched, n_envs)
    best = {"batched": 0.0, "dummy": 0.0}
    for _ in range(repeats):  # alternate, so both sides see the same machine load
        for name, env in (("batched", batched), ("dummy", reference)):
            env.seed(0)
            env.reset()
            best[name] = max(best[name], rate(env, n_envs, seconds))
    return {"scenario": scenario, "env": kind, "n_envs": n_envs,
            "periods_per_step": 4 if kind == "tune" else 1,
            "batched_steps_per_s": best["batched"], "dummy_steps_per_s": best["dummy"],
            "ratio": best["batched"] / best["dummy"]}


def main() -> None:
    parser = common.parser(__doc__, quick="1 and 64 envs, 0.5 s, best of 2", json="print JSON results only")
    parser.add_argument("--scenario", default="serial-3")
    parser.add_argument("--env", choices=["tune", "direct", "both"], default="both")
    parser.add_argument("--envs", default=None, help="comma-separated env counts (default 1,64,256)")
    parser.add_argument("--periods", type=int, default=100, help="measured periods per episode")
    parser.add_argument("--seconds", type=float, default=None, help="wall time per measurement")
    parser.add_argument("--repeats", type=int, default=None, help="measurements per side (best kept)")
    args = parser.parse_args()
    facts = common.machine_facts()
    counts = [int(x) for x in (args.envs or ("1,64" if args.quick else "1,64,256")).split(",")]
    seconds = args.seconds or (0.5 if args.quick else 1.5)
    repeats = args.repeats or (2 if args.quick else 3)
    kinds = ["tune", "direct"] if args.env == "both" else [args.env]
    results = [bench(args.scenario, kind, n, args.periods, seconds, repeats)
               for kind in kinds for n in counts]
    common.write_record(args.record, "rl_env", {"scenario": args.scenario, "periods": args.periods,
                                                "seconds_per_measurement": seconds, "repeats": repeats,
                                                "results": results}, started=facts)
    if args.json:
        print(json.dumps({"python": platform.python_version(), "machine": platform.machine(),
                          "results": results}, indent=2))
        return
    print(f"rl env throughput on {args.scenario} ({args.periods} periods + warm-up per episode), "
          f"env steps/s, best of {repeats} x {seconds:g} s; Python {platform.python_version()}")
    print(f"{'env':<8}{'n_envs':>7}{'batched VecEnv':>16}{'DummyVecEnv':>13}{'ratio':>8}")
    for r in results:
        print(f"{r['env']:<8}{r['n_envs']:>7}{r['batched_steps_per_s']:>16,.0f}"
              f"{r['dummy_steps_per_s']:>13,.0f}{r['ratio']:>7.1f}x")
    at64 = [r for r in results if r["n_envs"] == 64]
    for r in at64:
        verdict = "meets" if r["ratio"] >= 20 else "misses"
        print(f"{r['env']} at 64 envs: {r['ratio']:.1f}x ({verdict} the 20x goal)")


if __name__ == "__main__":
    main()
