"""echelon against OR-Gym's InvManagement: the same model, the same numbers, and the speed.

    python bench/peers_orgym.py                 # parity on 500 paths x 3 level sets, then speed
    python bench/peers_orgym.py --paths 100     # quicker parity
    make bench-peers                            # builds .venv-peers first, then runs this

OR-Gym 0.5.0 (Hubbs et al. 2020) runs in ``.venv-peers`` (it pins gym 0.19
and numpy < 2); this script runs in echelon's environment and calls itself
there with ``--peer`` (see ``bench/peers_common.py``). Without
``.venv-peers`` the OR-Gym rows are skipped and only echelon's side runs.

**Parity.** For ``orgym-inv-v0`` (backlog) and ``orgym-inv-v1`` (lost sales)
the same Poisson(20) demand sequences (echelon's ``SamplePaths``, seed
``--seed``) are fed to OR-Gym (``dist=5``, ``user_D``) and to echelon's
simulator, both under OR-Gym's base-stock rule (written here: OR-Gym 0.5.0's
own ``base_stock_action`` reads the ``None`` that
``_update_base_stock_policy_state`` returns). Each path's discounted episode
profit (OR-Gym: the sum of its rewards; echelon: minus ``discounted_cost``)
must agree to 1e-9; the worst difference is printed.

**Speed.** Stage-periods per second (paths x periods x 3 stock-holding
stages), base-stock rule included on both sides: OR-Gym stepping one
environment episode after episode (timed on ``--episodes`` episodes; its rate
does not depend on the path count) against ``scenarios.simulator.simulate``
on 1, 64 and 1024 paths -- with the compiled kernel (the default; the rule
runs inside it, ``OrGymBaseStock.kernel_rule``) and with the numpy reference
(``ECHELON_BACKEND=numpy``, the rule acting in Python every period) -- in the
same run: the sides take turns three times, best of five each turn, and each
keeps its best time. ``speedup_P`` is the kernel's rate over OR-Gym's at ``P``
paths (``numpy_speedup_P`` the reference's). The last line is JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import common  # bench/common.py: this checkout first on sys.path (why: there)
import numpy as np

ROOT = common.ROOT
VARIABLE = "ECHELON_BACKEND"  # scenarios.kernel.VARIABLE (the peer side cannot import scenarios)
SCENARIOS = {"orgym-inv-v0": "InvManagement-v0", "orgym-inv-v1": "InvManagement-v1"}
#: Echelon base-stock levels z (OR-Gym's echelon order-up-to levels, retailer first): a sensible
#: set near the mean lead-time demand, a lean one where suppliers run short, and a generous one
#: where capacities bind. OR-Gym's rule caps each order at the capacity and the supplier's stock,
#: so few replenishment orders go unfilled; the last two sets order ``max(z - IP, 0)`` uncapped,
#: so unfilled orders are backlogged (v0) or lost (v1) and charged every period.
LEVEL_SETS = np.array([[100.0, 220.0, 420.0], [50.0, 110.0, 230.0], [160.0, 330.0, 560.0],
                       [100.0, 220.0, 420.0], [160.0, 330.0, 560.0]])
CAPPED = np.array([True, True, True, False, False])
SPEED_LEVELS = LEVEL_SETS[0]
TOLERANCE = 1e-9
REPEATS = 5  # timing: best of, on both sides, per round (the machine is shared)
ROUNDS = 3  # the sides take turns this many times


# ----------------------------------------------------------------------------- peer side
# Runs under .venv-peers: imports OR-Gym and numpy only.

def orgym_base_stock(env, z: np.ndarray, capped: bool = True) -> np.ndarray:
    """OR-Gym's base-stock rule on an ``InvManagementMasterEnv`` (its ``base_stock_action``, fixed).

    Echelon position ``IP = cumsum(I + T - B)`` over stages from the retailer
    (on hand and pipeline at the start of period ``n``, minus what each stage
    owes its customer after period ``n - 1``); order ``min(c, max(z - IP, 0),
    I_supplier)``, the supplier's start-of-period stock (unlimited for the
    raw-material stage). ``capped=False``: ``max(z - IP, 0)``.
    """
    n = env.period
    on_hand, pipeline = env.I[n], env.T[n]
    owed = env.B[n - 1, :-1] if n >= 1 else 0.0
    position = np.cumsum(on_hand + pipeline - owed)
    if not capped:
        return np.maximum(z - position, 0.0)
    supplier_stock = np.append(on_hand[1:], np.inf)
    return np.minimum(np.minimum(env.supply_capacity, np.maximum(z - position, 0.0)), supplier_stock)


def _orgym_env(env_id: str, periods: int):
    import or_gym

    return or_gym.make(env_id, env_config={"dist": 5, "user_D": np.zeros(periods), "periods": periods})


def _episode(env, demand: np.ndarray, z: np.ndarray, capped: bool = True) -> tuple[float, float]:
    """Run one episode on ``demand``; return (total reward, seconds spent inside ``env.step``)."""
    core = env.unwrapped
    core.user_D = demand
    core.demand_dist = demand  # what dist=5 reads from
    env.reset()
    total, in_step, done = 0.0, 0.0, False
    while not done:
        action = orgym_base_stock(core, z, capped)
        started = time.perf_counter()
        _, reward, done, _ = env.step(action)
        in_step += time.perf_counter() - started
        total += reward
    return total, in_step


def peer_parity(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-path OR-Gym profits ``(versions, level sets, paths)`` for the demands handed over."""
    demand, levels, capped = inputs["demand"], inputs["levels"], inputs["capped"]  # (V, P, T), (Z, 3), (Z,)
    V, P, T = demand.shape
    profit = np.zeros((V, len(levels), P))
    for v, env_id in enumerate(SCENARIOS.values()):
        env = _orgym_env(env_id, T)
        for j, z in enumerate(levels):
            for i in range(P):
                profit[v, j, i] = _episode(env, demand[v, i], z, bool(capped[j]))[0]
    return {"profit": profit}


def peer_speed(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Best-of-``REPEATS`` wall time of ``episodes`` OR-Gym episodes, whole loop and inside ``env.step``."""
    demand, z = inputs["demand"], inputs["z"]  # (E, T)
    env = _orgym_env("InvManagement-v0", demand.shape[1])
    best_loop, best_step = np.inf, np.inf
    for _ in range(REPEATS):
        started, in_step = time.perf_counter(), 0.0
        for d in demand:
            in_step += _episode(env, d, z)[1]
        best_loop = min(best_loop, time.perf_counter() - started)
        best_step = min(best_step, in_step)
    return {"loop_s": np.array(best_loop), "step_s": np.array(best_step)}


def peer_main(task: str, src: str, dst: str) -> None:
    """Entry point under ``.venv-peers``: run ``task`` on ``src`` and write ``dst``."""
    import warnings

    warnings.filterwarnings("ignore")  # gym 0.19's deprecation chatter on newer numpy/python
    with np.load(src) as f:
        inputs = {k: f[k] for k in f.files}
    np.savez(dst, **{"parity": peer_parity, "speed": peer_speed}[task](inputs))


# ----------------------------------------------------------------------------- echelon side

class OrGymBaseStock:
    """OR-Gym's base-stock rule as an echelon :class:`~scenarios.policy.Policy`.

    For the serial ``orgym-inv-*`` scenarios (node ``i`` supplied by arc
    ``i`` from node ``i + 1``; ``timing = "orgym"``, so the state is the
    start of the period, before arrivals): ``IP = cumsum(stock + in_transit -
    owed_by)``, where ``owed_by`` is the retailer's backlog and, upstream, what
    the stage owes on its outbound arc; order ``min(c, max(z - IP, 0),
    supplier stock)``.

    :param z: echelon order-up-to levels, retailer first, ``(stages,)``.
    :param capped: cap orders at the capacity and the supplier's stock (OR-Gym's rule).
    """

    name = "orgym-base-stock"

    def __init__(self, z: np.ndarray, capped: bool = True) -> None:
        self.z = np.asarray(z, dtype=float)
        self.capped = capped

    def reset(self, network, n_paths: int) -> None:
        """Read the capacities; check the network is OR-Gym's serial line."""
        spec = network.spec
        for i, arc in enumerate(spec.arcs):
            supplier = spec.nodes[i + 1].id if i + 1 < len(spec.nodes) else "external"
            if (arc.customer, arc.supplier) != (spec.nodes[i].id, supplier):
                raise ValueError(f"{spec.name!r} is not an OR-Gym serial line in node order")
        self.capacity = np.array([a.capacity if a.capacity is not None else np.inf for a in spec.arcs])

    def act(self, state, t: int) -> np.ndarray:
        """Orders ``(paths, arcs, 1)``."""
        stock = state.stock[..., 0]  # (P, N)
        local = stock + state.in_transit[..., 0]
        local[:, 0] -= state.backlog[:, 0]
        local[:, 1:] -= state.owed[:, :-1, 0]  # what each upstream stage owes its customer
        orders = np.maximum(self.z - np.cumsum(local, axis=1), 0.0)
        if self.capped:
            np.minimum(orders, self.capacity, out=orders)
            # the raw-material stage (last) is unlimited; the others ship from their stock
            np.minimum(orders[:, :-1], stock[:, 1:], out=orders[:, :-1])
        return orders[..., None]

    def kernel_rule(self) -> tuple[str, dict]:
        """The same rule compiled (:data:`scenarios.kernel.policies.KERNEL_RULES`): a run is one call."""
        return "orgym-base-stock", {"z": self.z, "capped": self.capped}


def _echelon_profit(spec, paths, z, capped: bool) -> np.ndarray:
    from scenarios.simulator import simulate

    run = simulate(spec, paths, OrGymBaseStock(z, capped))
    return -(run.total_cost * spec.discount ** np.arange(paths.n_periods)).sum(axis=1)


def parity(n_paths: int, seed: int, log=print) -> dict:
    """Compare per-path discounted profits, echelon vs OR-Gym; ``{}`` values when OR-Gym is absent."""
    from bench.peers_common import peer_missing, run_peer
    from scenarios import builtin
    from scenarios.paths import SamplePaths

    specs = [builtin.get(name) for name in SCENARIOS]
    paths = [SamplePaths.draw(spec, n_paths, seed=seed) for spec in specs]
    ours = np.array([[_echelon_profit(spec, p, z, c) for z, c in zip(LEVEL_SETS, CAPPED, strict=True)]
                     for spec, p in zip(specs, paths, strict=True)])  # (V, Z, P)
    missing = peer_missing("or_gym")
    result = {"echelon_mean_profit": ours.mean(axis=2)}
    if missing:
        log(f"parity: {missing}")
        return result
    demand = np.stack([p.demand[:, :, 0] for p in paths])  # (V, P, T)
    theirs = run_peer(Path(__file__), "parity", {"demand": demand, "levels": LEVEL_SETS,
                                                     "capped": CAPPED})["profit"]
    diff = np.abs(ours - theirs)
    result.update(orgym_mean_profit=theirs.mean(axis=2), max_abs_profit_diff=float(diff.max()),
                  max_abs_by_scenario={name: float(diff[v].max()) for v, name in enumerate(SCENARIOS)},
                  max_abs_by_case=diff.max(axis=2))
    for v, name in enumerate(SCENARIOS):
        for j, z in enumerate(LEVEL_SETS):
            rule = "" if CAPPED[j] else " uncapped"
            log(f"  {name} z={z.astype(int).tolist()}{rule}: mean profit echelon {ours[v, j].mean():9.3f}, "
                f"OR-Gym {theirs[v, j].mean():9.3f}; worst |diff| over {n_paths} paths "
                f"{diff[v, j].max():.1e}")
    if diff.max() > TOLERANCE:
        worst = np.unravel_index(diff.argmax(), diff.shape)
        raise AssertionError(f"parity broken: |profit diff| {diff.max():.3e} > {TOLERANCE:g} at "
                             f"(scenario, level set, path) = {worst}")
    log(f"parity: every path agrees, worst |profit diff| {diff.max():.1e} (tolerance {TOLERANCE:g})")
    return result


def speed(path_counts: tuple[int, ...], episodes: int, seed: int, log=print) -> list[dict]:
    """Stage-periods per second, echelon at each path count and OR-Gym one episode at a time.

    The two sides take turns, ``ROUNDS`` times (OR-Gym best of ``REPEATS`` per round, then
    echelon best of ``REPEATS`` at every path count), and each keeps its best time, so both
    see the same spells of load from whatever else runs on the machine.
    """
    from bench.peers_common import peer_missing, run_peer
    from scenarios import builtin
    from scenarios.network import Network
    from scenarios.paths import SamplePaths
    from scenarios.simulator import simulate

    spec = builtin.get("orgym-inv-v0")
    net = Network(spec)
    stages = net.n_nodes
    missing = peer_missing("or_gym")
    if missing:
        log(f"speed: OR-Gym {missing}")
    demand = SamplePaths.draw(spec, episodes, seed=seed + 1).demand[:, :, 0]
    sims = {P: SamplePaths.draw(spec, P, seed=seed + 2) for P in path_counts}
    policy = OrGymBaseStock(SPEED_LEVELS)
    peer_loop = peer_step = np.inf
    best = {(b, P): np.inf for b in ("kernel", "numpy") for P in path_counts}
    simulate(spec, sims[path_counts[0]], policy, network=net)  # compiled (or loaded) before timing
    for _ in range(ROUNDS):
        if not missing:
            out = run_peer(Path(__file__), "speed", {"demand": demand, "z": SPEED_LEVELS})
            peer_loop, peer_step = min(peer_loop, float(out["loop_s"])), min(peer_step, float(out["step_s"]))
        for backend in ("kernel", "numpy"):
            os.environ[VARIABLE] = backend
            for P, paths in sims.items():
                for _ in range(REPEATS):
                    started = time.perf_counter()
                    simulate(spec, paths, policy, network=net)
                    best[backend, P] = min(best[backend, P], time.perf_counter() - started)
    os.environ.pop(VARIABLE)
    peer_rate = peer_step_rate = None
    if not missing:
        stage_periods = demand.size * stages
        peer_rate, peer_step_rate = stage_periods / peer_loop, stage_periods / peer_step
        log(f"  OR-Gym: {episodes} episodes x {demand.shape[1]} periods in {peer_loop:.3f} s "
            f"({peer_step:.3f} s inside env.step): {peer_rate:,.0f} stage-periods/s "
            f"({peer_step_rate:,.0f} counting env.step only)")
    rows = []
    for P, paths in sims.items():
        rate = P * paths.n_periods * stages / best["kernel", P]
        numpy_rate = P * paths.n_periods * stages / best["numpy", P]
        row = {"paths": P, "backend": "kernel", "echelon_s": best["kernel", P],
               "echelon_stage_periods_per_s": rate, "orgym_stage_periods_per_s": peer_rate,
               "ratio": rate / peer_rate if peer_rate else None,
               "ratio_vs_step_only": rate / peer_step_rate if peer_step_rate else None,
               "numpy_s": best["numpy", P], "numpy_stage_periods_per_s": numpy_rate,
               "numpy_ratio": numpy_rate / peer_rate if peer_rate else None,
               "kernel_over_numpy": rate / numpy_rate}
        rows.append(row)
        ratio = f"{row['ratio']:.1f}x (vs env.step alone {row['ratio_vs_step_only']:.1f}x), numpy " \
            f"{row['numpy_ratio']:.1f}x" if peer_rate else "OR-Gym skipped"
        log(f"  echelon {P:5d} paths: kernel {best['kernel', P]:.4f} s ({rate:,.0f} stage-periods/s), numpy "
            f"{best['numpy', P]:.4f} s ({numpy_rate:,.0f}); kernel/numpy {row['kernel_over_numpy']:.1f}x; "
            f"ratio to OR-Gym {ratio}")
    return rows


def main(argv: list[str] | None = None) -> int:
    """Parity, then speed; the last printed line is JSON."""
    parser = common.parser(__doc__)
    parser.add_argument("--paths", type=int, default=500, help="parity paths per scenario and level set")
    parser.add_argument("--episodes", type=int, default=200, help="OR-Gym episodes timed")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    facts = common.machine_facts()
    print(f"python bench/peers_orgym.py --paths {args.paths} --episodes {args.episodes} --seed {args.seed}"
          f"  --  {facts['date']}, commit {facts['commit']}, {facts['nproc']} CPUs ({facts['cpu']}), "
          f"load {facts['load_average']}")
    print(f"parity: OR-Gym's base-stock rule at z = {LEVEL_SETS.astype(int).tolist()} "
          f"(capped: {CAPPED.tolist()}), "
          f"{args.paths} paths x 30 periods, seed {args.seed}")
    result = parity(args.paths, args.seed)
    print(f"speed: stage-periods/s (paths x periods x 3 stages), base-stock rule included; {ROUNDS} turns "
          f"each, best of {REPEATS} per turn")
    rows = speed((1, 64, 1024), args.episodes, args.seed)
    at = {r["paths"]: r for r in rows}
    summary = {
        "max_abs_profit_diff": result.get("max_abs_profit_diff"),
        "max_abs_profit_diff_by_scenario": result.get("max_abs_by_scenario"),
        "parity_paths": args.paths, "level_sets": LEVEL_SETS.tolist(), "capped": CAPPED.tolist(),
        "orgym_stage_periods_per_s": rows[0]["orgym_stage_periods_per_s"],
        "echelon_stage_periods_per_s": {str(p): r["echelon_stage_periods_per_s"] for p, r in at.items()},
        "speedup_1": at[1]["ratio"], "speedup_64": at[64]["ratio"], "speedup_1024": at[1024]["ratio"],
        "numpy_speedup_1": at[1]["numpy_ratio"], "numpy_speedup_1024": at[1024]["numpy_ratio"],
        "speedup_1024_vs_step_only": at[1024]["ratio_vs_step_only"],
        "date": facts["date"], "commit": facts["commit"],
    }
    print(json.dumps(summary))
    parity_rows = _parity_rows(result)
    common.write_record(args.record, "peers_orgym",
                        {"summary": summary, "skipped": peer_missing_reason(), "episodes": args.episodes,
                         "parity": parity_rows, "speed": rows}, started=facts)
    return 0


def peer_missing_reason() -> str | None:
    """Why OR-Gym could not run (``None``: it ran)."""
    from bench.peers_common import peer_missing

    return peer_missing("or_gym")


def _parity_rows(result: dict) -> list[dict]:
    """One row per scenario and level set: mean profits on both sides and the worst difference."""
    rows = []
    for v, name in enumerate(SCENARIOS):
        for j, z in enumerate(LEVEL_SETS):
            row = {"scenario": name, "z": z.tolist(), "capped": bool(CAPPED[j]),
                   "echelon_mean_profit": float(result["echelon_mean_profit"][v, j])}
            if "orgym_mean_profit" in result:
                row.update(orgym_mean_profit=float(result["orgym_mean_profit"][v, j]),
                           max_abs_diff=float(result["max_abs_by_case"][v, j]))
            rows.append(row)
    return rows


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--peer":
        peer_main(*sys.argv[2:5])
    else:
        raise SystemExit(main())
