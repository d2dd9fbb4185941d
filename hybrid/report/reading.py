"""Reading the results database: open it, and summarise its runs per scenario and policy."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hybrid.report.estimates import NO_ESTIMATE, Estimate, finite, pool, t_interval
from scenarios.errors import SpecError

# Okabe & Ito (2008): distinguishable with the common colour-vision deficiencies.
_POLICY_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
                   "#000000", "#999999", "#882255", "#44AA99", "#117733")


@dataclass
class PolicySummary:
    """One policy on one scenario, every seed pooled."""

    name: str
    runs: list[dict[str, Any]]
    cost: Estimate = NO_ESTIMATE
    fill: Estimate = NO_ESTIMATE
    parts: dict[str, Estimate] = field(default_factory=dict)
    gap: Estimate = NO_ESTIMATE  # relative gap to the hindsight bound
    bound: float = math.nan
    diff: Estimate | None = None  # paired, against the best policy
    diff_note: str = ""
    seconds: float = math.nan

    @property
    def seeds(self) -> list[int]:
        """The seeds it ran on, sorted."""
        return sorted({r["seed"] for r in self.runs})

    @property
    def paths(self) -> int:
        """Test paths over every seed."""
        return sum(r["paths"] for r in self.runs)

    @property
    def params(self) -> dict[str, Any]:
        """The parameters it ran with, when every seed used the same ones; else ``{}``."""
        shown = [(r.get("result") or {}).get("params") or {} for r in self.runs]
        return shown[0] if all(p == shown[0] for p in shown) else {}

    @property
    def params_vary(self) -> bool:
        """Whether the seeds ran with different parameters (tuned per seed)."""
        shown = [(r.get("result") or {}).get("params") or {} for r in self.runs]
        return any(p != shown[0] for p in shown)


def _summarise(name: str, runs: list[dict[str, Any]]) -> PolicySummary:
    p = PolicySummary(name, runs)
    results = [(r, r.get("result") or {}) for r in runs]
    p.cost = pool(((res.get("cost_per_period") or {}).get("mean", r["cost_mean"]),
                    (res.get("cost_per_period") or {}).get("ci95", [r["cost_lo"], r["cost_hi"]]),
                    r["paths"]) for r, res in results)
    p.fill = pool(((res.get("fill_rate") or {}).get("mean", r["fill_rate"]),
                    (res.get("fill_rate") or {}).get("ci95"), r["paths"]) for r, res in results)
    part_names = [k for _, res in results for k in (res.get("cost_parts") or {})]
    for part in dict.fromkeys(part_names):
        p.parts[part] = pool(((res.get("cost_parts") or {}).get(part, {}).get("mean"),
                               (res.get("cost_parts") or {}).get(part, {}).get("ci95"), r["paths"])
                              for r, res in results)
    bounded = [(r, res) for r, res in results if finite(r.get("bound_mean"))]
    if bounded:
        absolute = pool(((res.get("gap_to_bound") or {}).get("absolute", {}).get("mean"),
                          (res.get("gap_to_bound") or {}).get("absolute", {}).get("ci95"), r["paths"])
                         for r, res in bounded)
        paths = sum(r["paths"] for r, _ in bounded)
        p.bound = sum(r["bound_mean"] * r["paths"] for r, _ in bounded) / paths
        if finite(absolute.mean) and p.bound:
            p.gap = Estimate(absolute.mean / p.bound, absolute.low / p.bound, absolute.high / p.bound,
                         absolute.n)
        else:  # only the relative gap is known
            p.gap = Estimate(sum(r["gap_to_bound"] * r["paths"] for r, _ in bounded
                             if finite(r.get("gap_to_bound"))) / paths, math.nan, math.nan, paths)
    secs = [r["seconds"] for r in runs if finite(r.get("seconds"))]
    p.seconds = sum(secs) / len(secs) if secs else math.nan
    return p


def _ctx(run: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two runs share their sample paths."""
    return run.get("scenario_hash"), run["seed"], run["paths"], run["periods"]


def _paired(policy: PolicySummary, best: PolicySummary, path_costs: dict[str, list[float]]) -> None:
    """Set ``policy.diff``: its cost minus the best policy's, on the same sample paths.

    Runs are paired when they share scenario content, seed, paths and periods.
    Where both runs stored their cost on each path, the differences are taken
    path by path and pooled over every shared seed (a t interval over paths);
    otherwise (files written before path costs were stored) seed means are
    paired, with a t interval over seeds.

    :param path_costs: ``key -> cost per path`` (:meth:`hybrid.store.Store.path_costs`).
    """
    mine = {_ctx(r): r for r in policy.runs}
    theirs = {_ctx(r): r for r in best.runs}
    shared = [c for c in mine if c in theirs]
    if not shared:
        policy.diff, policy.diff_note = None, "not run on the same sample paths as the best"
        return
    pairs = [(path_costs.get(mine[c]["key"]), path_costs.get(theirs[c]["key"])) for c in shared]
    if all(a is not None and b is not None and len(a) == len(b) for a, b in pairs):
        diffs = [x - y for a, b in pairs for x, y in zip(a, b, strict=True)]
        policy.diff = t_interval([d for d in diffs if finite(d)])
        policy.diff_note = "paired over paths"
        return
    policy.diff = t_interval([mine[c]["cost_mean"] - theirs[c]["cost_mean"] for c in shared
                               if finite(mine[c]["cost_mean"]) and finite(theirs[c]["cost_mean"])])
    policy.diff_note = (f"paired over {len(shared)} seeds" if len(shared) > 1
                        else "one seed: no interval")


@dataclass
class ScenarioSummary:
    """One scenario: its policies, cheapest first, each with its paired difference from the cheapest."""

    name: str
    policies: list[PolicySummary]  # cheapest first

    @property
    def best(self) -> PolicySummary:
        """The cheapest policy (lowest mean cost per period)."""
        return self.policies[0]

    @property
    def tied(self) -> list[PolicySummary]:
        """Policies whose paired difference from the cheapest has a 95% CI that includes zero."""
        return [p for p in self.policies[1:] if p.diff is not None and p.diff.has_ci
                and finite(p.diff.mean) and not p.diff.excludes_zero]

    @property
    def bounded(self) -> bool:
        """Whether any policy's runs computed the hindsight bound."""
        return any(finite(p.gap.mean) for p in self.policies)

    def colour(self, policy: str) -> str:
        """The colour of ``policy`` in every plot and table of the scenario, by its rank."""
        names = [p.name for p in self.policies]
        return _POLICY_COLOURS[names.index(policy) % len(_POLICY_COLOURS)]


def summarise_scenarios(runs: list[dict[str, Any]],
                        path_costs: dict[str, list[float]]) -> list[ScenarioSummary]:
    """Every scenario of ``runs`` by name, its policies summarised and paired against the cheapest.

    :param runs: rows of :meth:`hybrid.store.Store.runs`.
    :param path_costs: ``key -> cost per path`` (:meth:`hybrid.store.Store.path_costs`).
    """
    by: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in runs:
        by[r["scenario"]][r["policy"]].append(r)
    out = []
    for scenario in sorted(by):
        policies = [_summarise(name, rs) for name, rs in by[scenario].items()]
        policies.sort(key=lambda p: (not finite(p.cost.mean), p.cost.mean, p.name))
        for p in policies[1:]:
            _paired(p, policies[0], path_costs)
        out.append(ScenarioSummary(scenario, policies))
    return out


def open_store(db_path: Path) -> Any:
    """The store, read-only; missing, unreadable or empty files raise :class:`SpecError`."""
    import duckdb

    from hybrid.store import Store

    if not db_path.is_file():
        raise SpecError("DB", f"no results database at {db_path}")
    try:
        store = Store(db_path, read_only=True)
    except duckdb.Error as err:
        if "lock" in str(err).lower():  # DuckDB: one writer, and no reader while it writes
            raise SpecError("DB", f"{db_path} is open for writing in another process (a batch still "
                            "running?); make the report when it has finished") from None
        raise SpecError("DB", f"cannot open {db_path} as a DuckDB database "
                        f"({str(err).splitlines()[0]})") from None
    try:
        count = len(store)
    except duckdb.Error:
        store.close()
        raise SpecError("DB", f"{db_path} has no runs table; is it an echelon results "
                        "database?") from None
    missing = _missing_column(store)
    if missing:
        store.close()
        raise SpecError("DB", f"{db_path} has no column {missing}; is it a results database of this "
                        "echelon version?")
    if count == 0:
        store.close()
        raise SpecError("DB", f"{db_path} holds no runs yet; fill it with `echelon batch`")
    return store


def _missing_column(store: Any) -> str:
    """The first ``table.column`` the report reads that the database lacks, or ``""``."""
    from hybrid.store import CURVE_COLUMNS, PATH_COST_COLUMNS, RUN_COLUMNS, TRAJECTORY_COLUMNS

    have = set(store.connection.execute(
        "SELECT table_name, column_name FROM information_schema.columns").fetchall())
    for table, columns in (("runs", RUN_COLUMNS), ("trajectories", TRAJECTORY_COLUMNS),
                           ("learning_curves", CURVE_COLUMNS), ("path_costs", PATH_COST_COLUMNS)):
        for column in columns:
            if (table, column) not in have:
                return f"{table}.{column}"
    return ""
