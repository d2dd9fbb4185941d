"""Is there something to learn on regime-disruption? A hand-made state-dependent rule against tuned classics.

    python bench/regime_rule.py              # 200 training paths, 1000 test paths, seed 2026
    python bench/regime_rule.py --quick      # 100 training paths, 300 test paths
    python bench/regime_rule.py --json       # the results as one JSON line only
    python bench/regime_rule.py --seed 7     # other test paths (and training paths)

The rule is an echelon base-stock whose levels move with what a planner observes, never
with the hidden regimes:

* supplier trouble -- an order on the supplier arc that did not ship (it is owed) or a
  shipment still in transit more than one period after it was sent (late: the normal lead
  time is 2, so at a decision point only last period's shipment should be on its way;
  what was sent last period is ``owed before + ordered - owed now``). For ``memory``
  periods after such a sign the warehouse's echelon level is raised by ``trouble_boost``;
* demand volatility -- the standard deviation of each store's last ``window`` demands,
  averaged over the stores; each store's level is raised by ``volatility_boost`` times its
  excess over the nominal (calm) std the scenario states, 4, and the warehouse's echelon
  level by the sum of the stores' raises.

Both sides are tuned on the same training paths (seed ``train_seed(seed)``) and judged on
the same separate test paths (seed ``seed``): the classical families by the project's own
tuner (``scenarios.evaluate.evaluate_policies`` with bare names), the rule by the same kind
of batched compass search (its levels, both boosts), started from the tuned echelon
base-stock levels, for each ``memory`` in a small grid, keeping the best on the training
paths. Two ablations retune the rule with one signal switched off. Printed: the test cost
per period of every policy with its 95% CI, and the paired difference of each policy minus
the rule (a CI above zero: the rule is cheaper); then one JSON line.
"""

from __future__ import annotations

import json
import time

import common  # bench/common.py: this checkout first on sys.path (why: there)
import numpy as np

from scenarios import builtin
from scenarios.evaluate import evaluate_policies, training_paths
from scenarios.kpis import estimate
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.policy import PolicyDefaults, to_arc_orders
from scenarios.simulator import State, simulate
from scenarios.spec import Spec

SCENARIO = "regime-disruption"
CLASSICAL = ("echelon-base-stock", "base-stock", "sS")
MEMORIES = (1, 2, 4, 8)  # periods a sign of supplier trouble is remembered
WINDOW = 6  # periods of demand the volatility signal looks at
KNOBS = ("warehouse", "store", "trouble_boost", "volatility_boost")


class RegimeRule(PolicyDefaults):
    """Echelon base-stock with levels raised after observed supplier trouble or volatile demand.

    Every parameter is a number or a ``(paths,)`` array (one candidate per path, so that
    many candidates run in one batched simulation).

    :param warehouse: the warehouse's echelon level when nothing is seen.
    :param store: each store's level when nothing is seen.
    :param trouble_boost: added to the warehouse's echelon level while trouble is remembered.
    :param volatility_boost: per unit of recent demand std above the calm std, added to each
        store's level (and, summed over the stores, to the warehouse's echelon level).
    :param memory: periods a sign of trouble is remembered.
    :param calm_std: the demand std per store the scenario states for calm markets.
    """

    name = "regime-rule"

    def __init__(self, warehouse, store, trouble_boost, volatility_boost, memory: int,
                 calm_std: float) -> None:
        self.params = {"warehouse": warehouse, "store": store, "trouble_boost": trouble_boost,
                       "volatility_boost": volatility_boost}
        self.memory, self.calm_std = int(memory), float(calm_std)

    def describe(self) -> dict:
        """Parameters as plain JSON values."""
        out = {k: np.round(np.asarray(v, dtype=float), 3).tolist() for k, v in self.params.items()}
        return {**out, "memory": self.memory, "window": WINDOW, "calm_std": self.calm_std}

    def reset(self, network: Network, n_paths: int) -> None:
        """Find the supplier arc, the warehouse and the stores; forget everything seen."""
        self.network = network
        self.supply_arc = int(np.flatnonzero(network.external)[0])
        self.warehouse_node = int(network.customer[self.supply_arc])
        self.store_nodes = np.asarray(network.demand_node)
        self.last_sign = np.full(n_paths, -np.inf)
        self.demand_seen = np.full((n_paths, WINDOW, len(self.store_nodes)), np.nan)
        self.owed_before = np.zeros(n_paths)
        self.ordered_before = np.zeros(n_paths)

    def signals(self, state: State, t: int) -> tuple[np.ndarray, np.ndarray]:
        """``(trouble, excess_std)``, each ``(paths,)``, from what the state shows."""
        owed = state.owed[:, self.supply_arc].sum(-1)
        in_transit = state.in_transit[:, self.supply_arc].sum(-1)
        sent_last = self.owed_before + self.ordered_before - owed if t > 0 else np.zeros_like(owed)
        sign = (owed > 0.5) | (in_transit - sent_last > 0.5)
        self.last_sign = np.where(sign, t, self.last_sign)
        self.owed_before = owed
        if t > 0:  # last_demand is last period's: none before period 1
            self.demand_seen = np.roll(self.demand_seen, -1, axis=1)
            self.demand_seen[:, -1] = state.last_demand
        seen = np.isfinite(self.demand_seen[:, :, 0]).sum(1)
        std = np.zeros(len(owed))
        if seen.max() >= 2:
            std = np.nan_to_num(np.nanstd(self.demand_seen, axis=1, ddof=1)).mean(-1)
        excess = np.where(seen >= 2, np.maximum(std - self.calm_std, 0.0), 0.0)
        return (t - self.last_sign) < self.memory, excess

    def act(self, state: State, t: int) -> np.ndarray:
        """Orders ``(paths, arcs, skus)``: up to the raised echelon levels."""
        net = self.network
        trouble, excess = self.signals(state, t)
        p = {k: np.asarray(v, dtype=float) for k, v in self.params.items()}
        store_level = p["store"] + p["volatility_boost"] * excess  # (paths,)
        levels = np.zeros(state.on_hand.shape[:3])
        levels[:, self.store_nodes, 0] = store_level[..., None] if store_level.ndim else store_level
        levels[:, self.warehouse_node, 0] = (p["warehouse"] + p["trouble_boost"] * trouble
                                             + len(self.store_nodes) * (store_level - p["store"]))
        orders = to_arc_orders(net, np.maximum(levels - state.echelon_position, 0.0))
        self.ordered_before = np.rint(orders[:, self.supply_arc].sum(-1))
        return orders


def _calm_std(spec: Spec) -> float:
    """The demand std per store the scenario states (its calm markets)."""
    return float(np.mean([d.process.std for d in spec.demands]))


def train_cost(spec: Spec, train: SamplePaths, x: np.ndarray, memory: int) -> np.ndarray:
    """Mean training cost per period of candidates ``x`` ``(candidates, len(KNOBS))``, one batched run."""
    P, n = train.n_paths, len(x)
    values = {k: np.repeat(x[:, i], P) for i, k in enumerate(KNOBS)}
    run = simulate(spec, train.tile(n), RegimeRule(**values, memory=memory, calm_std=_calm_std(spec)),
                   kpi_flows=False)
    return run.total_cost[:, train.warmup:].mean(1).reshape(n, P).mean(1)


def tune_rule(spec: Spec, train: SamplePaths, start: np.ndarray, memory: int, iterations: int = 40,
              frozen: tuple[str, ...] = ()) -> tuple[np.ndarray, float, int]:
    """Compass search over :data:`KNOBS` (whole units, steps halved to 1): ``(x, cost, evaluations)``.

    :param frozen: knobs kept at their start value (an ablation).
    """
    x = np.round(start)
    best = float(train_cost(spec, train, x[None], memory)[0])
    step = np.array([0.2 * abs(x[0]), 0.2 * abs(x[1]), 20.0, 2.0])
    step = np.where(np.isin(KNOBS, frozen), 0.0, np.maximum(np.round(step), 1.0))
    evaluations = 1
    for _ in range(iterations):
        if not step.any():
            break
        moves = np.vstack([np.diag(step), -np.diag(step)])[np.tile(step > 0, 2)]
        candidates = np.maximum(x + moves, 0.0)
        costs = train_cost(spec, train, candidates, memory)
        evaluations += len(candidates)
        i = int(np.argmin(costs))
        if costs[i] < best - 1e-12:
            x, best = candidates[i], float(costs[i])
        else:
            step = np.where(step / 2 >= 1, np.round(step / 2), 0.0)
    return x, best, evaluations


def _estimate(values: np.ndarray) -> dict:
    """Mean and 95% CI of per-path values, as JSON."""
    e = estimate(values)
    return {"mean": e.mean, "ci95": [e.low, e.high]}


def _cost(run) -> np.ndarray:
    """Cost per period of each path, warm-up left out."""
    return run.total_cost[:, run.warmup:].mean(1)


def _row(label: str, train: float, run, rule_run, params: dict) -> dict:
    """One table row: training cost, test cost and the paired difference minus the rule."""
    test = _estimate(_cost(run))
    diff = _estimate(_cost(run) - _cost(rule_run))
    return {"policy": label, "params": params, "train_cost": train, "test_cost": test,
            "minus_rule": {**diff, "relative": diff["mean"] / test["mean"]}}


def _ci(pair: list[float]) -> str:
    return f"[{pair[0]:.2f}, {pair[1]:.2f}]"


def _print(report: dict) -> None:
    """The human-readable table."""
    print(f"{SCENARIO}: cost per period on {report['test_paths']} test paths (seed {report['seed']}; "
          f"tuned on {report['train_paths']} training paths), mean and 95% CI")
    print(f"{'policy':<26}{'train':>9}{'test':>9}{'95% CI':>18}{'minus rule':>12}{'95% CI':>18}{'rel.':>8}")
    for row in report["classical"] + report["ablations"]:
        t, d = row["test_cost"], row["minus_rule"]
        print(f"{row['policy']:<26}{row['train_cost']:>9.2f}{t['mean']:>9.2f}{_ci(t['ci95']):>18}"
              f"{d['mean']:>12.2f}{_ci(d['ci95']):>18}{d['relative']:>8.1%}")
    rule = report["rule"]
    print(f"{'regime-rule':<26}{rule['train_cost']:>9.2f}{rule['test_cost']['mean']:>9.2f}"
          f"{_ci(rule['test_cost']['ci95']):>18}")
    print(f"rule: {json.dumps(rule['params'])}")
    saving = report["rule_saving_vs_best"]
    verdict = "cheaper" if report["rule_wins"] else "not significantly cheaper"
    print(f"the rule is {verdict} than the best tuned classical policy ({report['best_classical']}): "
          f"{saving['mean']:.2f} per period ({saving['relative']:.1%}), 95% CI {_ci(saving['ci95'])}")


def run(seed: int, n_train: int, n_test: int) -> dict:
    """Tune everything on training paths, evaluate on test paths; the report as JSON."""
    spec = builtin.get(SCENARIO)
    train = training_paths(spec, n_train, None, seed)
    began = time.perf_counter()
    classical = evaluate_policies(spec, list(CLASSICAL), paths=n_test, seed=seed, train=train)
    classical_seconds = time.perf_counter() - began
    echelon = classical.results[0].params["S"]  # the tuned fixed levels: the rule's starting point
    start = np.array([echelon[0], float(np.mean(echelon[1:])), 0.0, 0.0])
    began = time.perf_counter()
    tuned = [(m, *tune_rule(spec, train, start, m)) for m in MEMORIES]
    memory, x, rule_train, evaluations = min(tuned, key=lambda r: r[2])
    rule_seconds = time.perf_counter() - began
    rule = RegimeRule(*x, memory=memory, calm_std=_calm_std(spec))
    rule_run = simulate(spec, classical.test, rule)
    rows = [_row(r.label, r.tuning.train_cost, r.run, rule_run, r.params) for r in classical.results]
    ablations = []  # each signal alone, retuned the same way at the chosen memory
    for label, frozen in (("rule, trouble only", ("volatility_boost",)),
                          ("rule, volatility only", ("trouble_boost",))):
        xa, cost_a, _ = tune_rule(spec, train, start, memory, frozen=frozen)
        run_a = simulate(spec, classical.test, RegimeRule(*xa, memory=memory, calm_std=_calm_std(spec)))
        ablations.append(_row(label, cost_a, run_a, rule_run, dict(zip(KNOBS, xa.tolist(), strict=True))))
    best = min(rows, key=lambda row: row["test_cost"]["mean"])
    return {
        "scenario": SCENARIO, "spec_hash": spec.hash, "seed": seed, "train_paths": n_train,
        "test_paths": n_test, "periods": spec.horizon, "warmup": spec.warmup,
        "classical": rows, "ablations": ablations,
        "rule": {"params": rule.describe(), "train_cost": rule_train, "evaluations": evaluations,
                 "train_cost_by_memory": {m: c for m, _, c, _ in tuned},
                 "test_cost": _estimate(_cost(rule_run))},
        "best_classical": best["policy"],
        "rule_saving_vs_best": best["minus_rule"],
        "rule_wins": best["minus_rule"]["ci95"][0] > 0,
        "seconds": {"classical_tuning_and_test": classical_seconds, "rule_tuning": rule_seconds},
    }


def main() -> None:
    """Tune, evaluate, print the table and the JSON line."""
    parser = common.parser(__doc__, quick="100 training paths, 300 test paths",
                           json="print only the JSON line")
    parser.add_argument("--seed", type=int, default=2026,
                        help="seed of the test paths; the training paths use train_seed(seed)")
    args = parser.parse_args()
    n_train, n_test = (100, 300) if args.quick else (200, 1000)
    report = run(args.seed, n_train, n_test)
    if not args.json:
        _print(report)
    print(json.dumps(report))
    common.write_record(args.record, "regime_rule", report)


if __name__ == "__main__":
    main()
