"""One self-contained HTML page from a results database (``echelon report``).

The page reads a :class:`~hybrid.store.Store` file and shows, per scenario:

* a summary table -- cost per period with its 95% confidence interval over
  every test path of every seed, the paired difference against the cheapest
  policy, fill rate, gap to the hindsight bound, run time;
* the cost per period split into its parts (stacked bars);
* fill rate against cost, one point per policy with both CIs;
* stock and orders of sample path 0, node by node, for a few policies;
* the gap to the hindsight bound, when the runs computed it;
* learning curves of the RL agents trained for the runs.

Plots are PNGs drawn with matplotlib's Agg canvas and embedded as base64, the
CSS is inline: the file opens anywhere, offline, and can be mailed as is.

Pooling over seeds: seed ``i`` reports a mean ``m_i`` over ``n_i`` paths with a
Student-t interval, from which its path standard deviation ``s_i`` follows.
The pooled mean is ``sum(n_i m_i) / N`` and the pooled variance is that of all
``N`` paths, ``(sum((n_i - 1) s_i^2) + sum(n_i (m_i - m)^2)) / (N - 1)``; with
one seed this is the run's own interval.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import struct
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scenarios.errors import SpecError
from scenarios.outputs import writable_file

__all__ = ["write_report"]

# Okabe & Ito (2008): distinguishable with the common colour-vision deficiencies.
_POLICY_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
                   "#000000", "#999999", "#882255", "#44AA99", "#117733")
_PART_COLOURS = {"holding": "#4C72B0", "pipeline": "#8DA0CB", "shortage": "#C44E52",
                 "ordering": "#55A868", "fixed": "#A6D854", "transport": "#DD8452",
                 "operating": "#937860", "waste": "#8C8C8C", "revenue": "#B3B3B3"}
_MAX_TRAJECTORY_POLICIES = 4
_MAX_TRAJECTORY_NODES = 8
_MAX_TRAJECTORY_PERIODS = 104  # two years of weeks: longer paths are cut, or the lines become a blur


# ---------------------------------------------------------------------------- numbers
@dataclass(frozen=True)
class _Est:
    """A mean with its 95% interval over ``n`` paths (``low``/``high`` NaN when unknown)."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half(self) -> float:
        return (self.high - self.low) / 2

    @property
    def has_ci(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)

    @property
    def excludes_zero(self) -> bool:
        return self.has_ci and (self.low > 0 or self.high < 0)


_NAN = _Est(math.nan, math.nan, math.nan, 0)


def _t975(dof: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.975, dof))


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and math.isfinite(x)


def _pool(parts: Iterable[tuple[Any, Any, int]]) -> _Est:
    """Pool ``(mean, [low, high], n)`` estimates of disjoint path sets into one (module docstring)."""
    rows = [(float(m), ci, int(n)) for m, ci, n in parts if _finite(m) and n and n > 0]
    if not rows:
        return _NAN
    total = sum(n for _, _, n in rows)
    mean = sum(n * m for m, _, n in rows) / total
    within, known = 0.0, True
    for _m, ci, n in rows:
        if n < 2:
            continue
        if not (ci and len(ci) == 2 and _finite(ci[0]) and _finite(ci[1])):
            known = False
            continue
        std = (ci[1] - ci[0]) / 2 / _t975(n - 1) * math.sqrt(n)
        within += (n - 1) * std**2
    between = sum(n * (m - mean) ** 2 for m, _, n in rows)
    if total < 2 or not known:
        return _Est(mean, math.nan, math.nan, total)
    half = _t975(total - 1) * math.sqrt((within + between) / (total - 1) / total)
    return _Est(mean, mean - half, mean + half, total)


def _t_interval(values: Sequence[float]) -> _Est:
    """Mean and Student-t 95% interval of a few values (e.g. one per seed)."""
    values = [v for v in values if _finite(v)]
    n = len(values)
    if n == 0:
        return _NAN
    mean = sum(values) / n
    if n < 2:
        return _Est(mean, math.nan, math.nan, n)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = _t975(n - 1) * std / math.sqrt(n)
    return _Est(mean, mean - half, mean + half, n)


def _num(x: float, digits: int = 4) -> str:
    """A number to ``digits`` significant digits, thousands separated; '–' when missing."""
    if not _finite(x):
        return "–"
    if x != 0 and abs(x) < 10 ** (digits - 1):
        decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
        return f"{x:,.{decimals}f}"
    return f"{x:,.0f}"


def _signed(x: float) -> str:
    """A difference: signed, 4 significant digits, no trailing zeros (``+0.085``)."""
    text = _num(x)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return ("+" if _finite(x) and x > 0 else "") + text


def _diff_decimals(est: _Est) -> int | None:
    """Decimals that show a difference as precisely as its 95% CI: two significant digits of its half-width.

    ``None`` without an interval.
    """
    if not (est.has_ci and est.half > 0):
        return None
    return max(0, 1 - math.floor(math.log10(est.half)))


def _diff_text(x: float, decimals: int | None) -> str:
    """A signed difference to ``decimals`` places (``+23.5``, ``-0.00008``), or as :func:`_signed`."""
    if decimals is None or not _finite(x):
        return _signed(x)
    text = f"{x:+,.{decimals}f}"
    return text.replace("-", "+") if float(text.replace(",", "")) == 0 else text  # no "-0.0"


def _seconds(x: float) -> str:
    """A duration: 2 significant digits below 10 s (``0.012 s``), whole seconds above."""
    if not _finite(x):
        return "–"
    return f"{_num(x, 2)} s" if x < 10 else f"{x:,.0f} s"


def _pct(x: float, signed: bool = False) -> str:
    if not _finite(x):
        return "–"
    decimals = 2 if 0 < abs(x) < 0.001 else 1  # +0.03%, not +0.0%
    return f"{x:+.{decimals}%}" if signed else f"{x:.{decimals}%}"


# ---------------------------------------------------------------------------- data
@dataclass
class _Policy:
    """One policy on one scenario, every seed pooled."""

    name: str
    runs: list[dict[str, Any]]
    cost: _Est = _NAN
    fill: _Est = _NAN
    parts: dict[str, _Est] = field(default_factory=dict)
    gap: _Est = _NAN  # relative gap to the hindsight bound
    bound: float = math.nan
    diff: _Est | None = None  # paired, against the best policy
    diff_note: str = ""
    seconds: float = math.nan

    @property
    def seeds(self) -> list[int]:
        return sorted({r["seed"] for r in self.runs})

    @property
    def paths(self) -> int:
        return sum(r["paths"] for r in self.runs)

    @property
    def params(self) -> dict[str, Any]:
        shown = [(r.get("result") or {}).get("params") or {} for r in self.runs]
        return shown[0] if all(p == shown[0] for p in shown) else {}

    @property
    def params_vary(self) -> bool:
        shown = [(r.get("result") or {}).get("params") or {} for r in self.runs]
        return any(p != shown[0] for p in shown)


def _summarise(name: str, runs: list[dict[str, Any]]) -> _Policy:
    p = _Policy(name, runs)
    results = [(r, r.get("result") or {}) for r in runs]
    p.cost = _pool(((res.get("cost_per_period") or {}).get("mean", r["cost_mean"]),
                    (res.get("cost_per_period") or {}).get("ci95", [r["cost_lo"], r["cost_hi"]]),
                    r["paths"]) for r, res in results)
    p.fill = _pool(((res.get("fill_rate") or {}).get("mean", r["fill_rate"]),
                    (res.get("fill_rate") or {}).get("ci95"), r["paths"]) for r, res in results)
    part_names = [k for _, res in results for k in (res.get("cost_parts") or {})]
    for part in dict.fromkeys(part_names):
        p.parts[part] = _pool(((res.get("cost_parts") or {}).get(part, {}).get("mean"),
                               (res.get("cost_parts") or {}).get(part, {}).get("ci95"), r["paths"])
                              for r, res in results)
    bounded = [(r, res) for r, res in results if _finite(r.get("bound_mean"))]
    if bounded:
        absolute = _pool(((res.get("gap_to_bound") or {}).get("absolute", {}).get("mean"),
                          (res.get("gap_to_bound") or {}).get("absolute", {}).get("ci95"), r["paths"])
                         for r, res in bounded)
        paths = sum(r["paths"] for r, _ in bounded)
        p.bound = sum(r["bound_mean"] * r["paths"] for r, _ in bounded) / paths
        if _finite(absolute.mean) and p.bound:
            p.gap = _Est(absolute.mean / p.bound, absolute.low / p.bound, absolute.high / p.bound,
                         absolute.n)
        else:  # only the relative gap is known
            p.gap = _Est(sum(r["gap_to_bound"] * r["paths"] for r, _ in bounded
                             if _finite(r.get("gap_to_bound"))) / paths, math.nan, math.nan, paths)
    secs = [r["seconds"] for r in runs if _finite(r.get("seconds"))]
    p.seconds = sum(secs) / len(secs) if secs else math.nan
    return p


def _ctx(run: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two runs share their sample paths."""
    return run.get("scenario_hash"), run["seed"], run["paths"], run["periods"]


def _paired(policy: _Policy, best: _Policy, path_costs: dict[str, list[float]]) -> None:
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
        policy.diff = _t_interval([d for d in diffs if _finite(d)])
        policy.diff_note = "paired over paths"
        return
    policy.diff = _t_interval([mine[c]["cost_mean"] - theirs[c]["cost_mean"] for c in shared
                               if _finite(mine[c]["cost_mean"]) and _finite(theirs[c]["cost_mean"])])
    policy.diff_note = (f"paired over {len(shared)} seeds" if len(shared) > 1
                        else "one seed: no interval")


@dataclass
class _Scenario:
    name: str
    policies: list[_Policy]  # cheapest first

    @property
    def best(self) -> _Policy:
        return self.policies[0]

    @property
    def tied(self) -> list[_Policy]:
        """Policies whose paired difference from the cheapest has a 95% CI that includes zero."""
        return [p for p in self.policies[1:] if p.diff is not None and p.diff.has_ci
                and _finite(p.diff.mean) and not p.diff.excludes_zero]

    @property
    def bounded(self) -> bool:
        return any(_finite(p.gap.mean) for p in self.policies)

    def colour(self, policy: str) -> str:
        names = [p.name for p in self.policies]
        return _POLICY_COLOURS[names.index(policy) % len(_POLICY_COLOURS)]


def _scenarios(runs: list[dict[str, Any]], path_costs: dict[str, list[float]]) -> list[_Scenario]:
    by: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in runs:
        by[r["scenario"]][r["policy"]].append(r)
    out = []
    for scenario in sorted(by):
        policies = [_summarise(name, rs) for name, rs in by[scenario].items()]
        policies.sort(key=lambda p: (not _finite(p.cost.mean), p.cost.mean, p.name))
        for p in policies[1:]:
            _paired(p, policies[0], path_costs)
        out.append(_Scenario(scenario, policies))
    return out


def _open(db_path: Path) -> Any:
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


# ---------------------------------------------------------------------------- plots
def _label(name: str, width: int = 34) -> str:
    """A policy name short enough for a plot: long ones keep their start and end."""
    return name if len(name) <= width else f"{name[:width // 2 - 1]}…{name[-(width // 2):]}"


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def _style(ax: Any, grid: str = "both") -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#888888")
    ax.tick_params(colors="#333333", labelsize=9)
    ax.grid(True, axis=grid, color="#e6e6e6", linewidth=0.8)
    ax.set_axisbelow(True)


def _img(fig: Any, alt: str) -> str:
    """The figure as an ``<img>`` with a base64 PNG, shown at its size in CSS pixels (sharp on HiDPI)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=200, facecolor="white")
    data = buf.getvalue()
    width = struct.unpack(">I", data[16:20])[0] * 96 // 200  # PNG header: IHDR width
    encoded = base64.b64encode(data).decode("ascii")
    return (f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(alt)}" '
            f'style="width:{width}px">')


def _rc() -> Any:
    import matplotlib

    return matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 9.5,
                                  "axes.titlesize": 10, "axes.titleweight": "bold",
                                  "axes.labelsize": 9.5, "legend.fontsize": 9,
                                  "legend.frameon": False})


def _cost_breakdown(sc: _Scenario) -> str:
    parts = [k for k in dict.fromkeys(k for p in sc.policies for k in p.parts)
             if any(abs(p.parts[k].mean) > 1e-9 for p in sc.policies if k in p.parts)]
    if not parts:
        return '<p class="note">No cost parts stored.</p>'
    policies = sc.policies
    fig = _figure(9.0, 0.9 + 0.42 * len(policies))
    ax = fig.add_subplot()
    y = list(range(len(policies)))[::-1]
    left_pos = [0.0] * len(policies)
    left_neg = [0.0] * len(policies)
    for part in parts:
        values = [p.parts[part].mean if part in p.parts and _finite(p.parts[part].mean) else 0.0
                  for p in policies]
        if part == "revenue":
            values = [-v for v in values]
        starts = [ln if v < 0 else lp for v, lp, ln in zip(values, left_pos, left_neg, strict=True)]
        ax.barh(y, values, left=starts, height=0.62, color=_PART_COLOURS.get(part, "#777777"),
                label=part if part != "revenue" else "revenue (−)", edgecolor="white", linewidth=0.6)
        left_pos = [lp + max(v, 0) for v, lp in zip(values, left_pos, strict=True)]
        left_neg = [ln + min(v, 0) for v, ln in zip(values, left_neg, strict=True)]
    span = max(left_pos) - min(left_neg + [0.0])
    for yi, p, lp in zip(y, policies, left_pos, strict=True):
        ax.text(lp + 0.01 * span, yi, _num(p.cost.mean), va="center", fontsize=9, color="#222222")
    ax.set_yticks(y, [_label(p.name) for p in policies])
    ax.set_xlim(min(left_neg + [0.0]), max(left_pos) + 0.1 * span)
    ax.set_xlabel("cost per period (mean over paths and seeds)")
    _style(ax, "x")
    ax.legend(ncols=min(len(parts), 6), loc="lower left", bbox_to_anchor=(0, 1.0), borderaxespad=0.3,
              handlelength=1.2, columnspacing=1.2)
    return _img(fig, f"cost breakdown per policy, {sc.name}")


def _overlaps(xy: Sequence[tuple[float, float]], near: tuple[float, float]) -> list[list[int]]:
    """Groups (two or more) of points closer than ``near`` = (dx, dy) on both axes, chained."""
    group = list(range(len(xy)))

    def root(i: int) -> int:
        while group[i] != i:
            i = group[i]
        return i

    for i, (xi, yi) in enumerate(xy):
        for j in range(i):
            if abs(xi - xy[j][0]) <= near[0] and abs(yi - xy[j][1]) <= near[1]:
                group[root(i)] = root(j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(xy)):
        groups[root(i)].append(i)
    return [g for g in groups.values() if len(g) > 1]


def _service_figure(sc: _Scenario) -> tuple[Any, list[str]] | None:
    """Fill rate against cost, one point per policy: the figure and the policies shifted apart.

    Points closer than about a marker's size are drawn side by side, a few points
    apart on the page (the data are not changed), and their legend entries say so.
    ``None`` when no fill rate is stored.
    """
    from matplotlib.transforms import offset_copy

    points = [p for p in sc.policies if _finite(p.cost.mean) and _finite(p.fill.mean)]
    if not points:
        return None
    fig = _figure(6.4, 3.4)
    ax = fig.add_subplot()
    xy = [(p.cost.mean, 100 * p.fill.mean) for p in points]
    span = [max(v) - min(v) for v in zip(*xy, strict=True)]
    # about a 7-point marker on this figure, as a share of the points' span (margins added)
    near = tuple(share * (s if s > 0 else max(abs(v) for v in axis) or 1.0)
                 for share, s, axis in zip((0.03, 0.06), span, zip(*xy, strict=True), strict=True))
    shift: dict[int, float] = {}
    for g in _overlaps(xy, near):
        for rank, i in enumerate(g):
            shift[i] = 7.0 * (rank - (len(g) - 1) / 2)  # points: side by side, centred on the data
    shifted = []
    for i, (marker, p) in enumerate(zip("oDs^vP*X" * 4, points, strict=False)):
        xerr = [[p.cost.mean - p.cost.low], [p.cost.high - p.cost.mean]] if p.cost.has_ci else None
        yerr = ([[100 * (p.fill.mean - p.fill.low)], [100 * (p.fill.high - p.fill.mean)]]
                if p.fill.has_ci else None)
        label = _label(p.name)
        if i in shift:
            label += " (shifted: overlaps)"
            shifted.append(p.name)
        lines = ax.errorbar(p.cost.mean, 100 * p.fill.mean, xerr=xerr, yerr=yerr, fmt=marker, markersize=7,
                            color=sc.colour(p.name), ecolor=sc.colour(p.name), elinewidth=1.2, capsize=3,
                            label=label, alpha=0.9)
        if i in shift:
            moved = offset_copy(ax.transData, fig=fig, x=shift[i], y=0.0, units="points")
            for artist in lines.get_children():
                artist.set_transform(moved)
    ax.set_xlabel("cost per period (lower is better)")
    ax.set_ylabel("fill rate, % (higher is better)")
    ax.margins(x=0.15, y=0.2)
    _style(ax)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return fig, shifted


def _service_vs_cost(sc: _Scenario) -> tuple[str, list[str]]:
    """The plot as HTML and the names of the policies shifted apart (see :func:`_service_figure`)."""
    drawn = _service_figure(sc)
    if drawn is None:
        return '<p class="note">No fill rate stored.</p>', []
    fig, shifted = drawn
    return _img(fig, f"fill rate against cost, {sc.name}"), shifted


def _gap_plot(sc: _Scenario) -> str:
    policies = [p for p in sc.policies if _finite(p.gap.mean)]
    fig = _figure(9.0, 0.8 + 0.42 * len(policies))
    ax = fig.add_subplot()
    y = list(range(len(policies)))[::-1]
    values = [100 * p.gap.mean for p in policies]
    err = [[100 * (p.gap.mean - p.gap.low) if p.gap.has_ci else 0 for p in policies],
           [100 * (p.gap.high - p.gap.mean) if p.gap.has_ci else 0 for p in policies]]
    ax.barh(y, values, xerr=err, height=0.6, color=[sc.colour(p.name) for p in policies],
            error_kw={"ecolor": "#333333", "elinewidth": 1, "capsize": 3})
    top = max([v + e for v, e in zip(values, err[1], strict=True)] + [0.0])
    for yi, v, e in zip(y, values, err[1], strict=True):
        ax.text(v + e + 0.015 * max(top, 1e-9), yi, f"{v:+.1f}%", va="center", fontsize=9)
    ax.set_yticks(y, [_label(p.name) for p in policies])
    ax.axvline(0, color="#555555", linewidth=0.8)
    ax.set_xlim(min(values + [0.0]) * 1.1, top * 1.15 + 1e-9)
    ax.set_xlabel("cost above the hindsight bound, % of the bound (95% CI)")
    _style(ax, "x")
    return _img(fig, f"gap to the hindsight bound, {sc.name}")


def _trajectory_plot(sc: _Scenario, store: Any) -> tuple[str, str]:
    """Stock and orders of path 0, node by node; returns (html, caption) or ("", reason)."""
    con = store.connection
    keys = [r["key"] for p in sc.policies for r in p.runs]
    stored = {k for (k,) in con.execute(
        "SELECT DISTINCT key FROM trajectories WHERE key IN (SELECT unnest(?::VARCHAR[])) AND path = 0",
        [keys]).fetchall()}
    candidates: dict[int, list[tuple[_Policy, dict[str, Any]]]] = defaultdict(list)
    for p in sc.policies:  # cheapest first
        for r in p.runs:
            if r["key"] in stored:
                candidates[r["seed"]].append((p, r))
    if not candidates:
        return "", "No trajectories stored for this scenario."
    seed = max(candidates, key=lambda s: (len(candidates[s]), -s))
    chosen = candidates[seed][:_MAX_TRAJECTORY_POLICIES]
    # name -> node -> {"stock": {period: units}, "ordered": {period: units}}, summed over SKUs
    series: dict[str, dict[str, dict[str, dict[int, float]]]] = {}
    nodes: dict[str, None] = {}
    backlog_any = False
    for p, r in chosen:
        per: dict[str, dict[str, dict[int, float]]] = defaultdict(lambda: {"stock": {}, "ordered": {}})
        rows = con.execute(
            "SELECT node, period, sum(coalesce(on_hand, 0)), sum(coalesce(backlog, 0)), "
            "sum(coalesce(ordered, 0)) FROM trajectories WHERE key = ? AND path = 0 "
            "GROUP BY node, period ORDER BY node, period", [r["key"]]).fetchall()
        for node, t, on_hand, backlog, ordered in rows:
            nodes.setdefault(node)
            backlog_any = backlog_any or backlog > 0
            per[node]["stock"][int(t)] = on_hand - backlog
            per[node]["ordered"][int(t)] = ordered
        series[p.name] = per
    periods = 1 + max((t for per in series.values() for d in per.values() for t in d["stock"]),
                      default=0)
    shown_nodes = _node_order(sc.name, list(nodes))[:_MAX_TRAJECTORY_NODES]
    warmup = max((r.get("warmup") or 0) for _, r in chosen)
    fig = _figure(10.0, 0.7 + 1.9 * len(shown_nodes))
    axes = fig.subplots(len(shown_nodes), 2, sharex=True, squeeze=False)
    stock_label = "net stock (on hand − backlog)" if backlog_any else "on hand"
    for i, node in enumerate(shown_nodes):
        for j, what in enumerate(("stock", "ordered")):
            ax = axes[i][j]
            for rank, (p, _) in enumerate(chosen):
                values = series[p.name].get(node, {}).get(what, {})
                ts = [t for t in sorted(values) if t < _MAX_TRAJECTORY_PERIODS]
                # the cheapest policy is drawn on top: where lines coincide, it is the one seen
                style = {"color": sc.colour(p.name), "label": _label(p.name),
                         "zorder": len(chosen) - rank + 2}
                if what == "ordered":  # dots, one per order placed: a policy ordering in lots
                    ts = [t for t in ts if values[t] > 1e-9]  # would hide the others as a comb
                    ax.plot(ts, [values[t] for t in ts], linestyle="none", marker="os^D"[rank % 4],
                            markersize=3.2, alpha=0.85, markeredgewidth=0, **style)
                else:
                    ax.plot(ts, [values[t] for t in ts], linewidth=1.2, **style)
            if warmup:
                ax.axvspan(-0.5, warmup - 0.5, color="#f2f2f2", zorder=0)
            _style(ax)
            ax.set_ylabel(node, fontweight="bold" if j == 0 else "normal")
            if i == 0:
                ax.set_title(stock_label if what == "stock" else "units ordered (dots: orders placed)",
                             loc="left")
            if i == len(shown_nodes) - 1:
                ax.set_xlabel("period")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=len(labels), markerscale=2)
    caption = (f"Sample path 0 of seed {seed}, units summed over SKUs"
               + ("; where lines coincide, the cheapest policy's is the one seen" if len(chosen) > 1
                  else "")
               + (f"; the shaded periods are the warm-up ({warmup}), left out of the KPIs" if warmup
                  else "")
               + (f"; showing {len(chosen)} of {len(sc.policies)} policies, cheapest first"
                  if len(sc.policies) > len(chosen) else "")
               + (f"; first {len(shown_nodes)} of {len(nodes)} nodes" if len(nodes) > len(shown_nodes)
                  else "")
               + (f"; periods 0–{_MAX_TRAJECTORY_PERIODS - 1} of {periods}"
                  if periods > _MAX_TRAJECTORY_PERIODS else "") + ".")
    return _img(fig, f"stock and orders of sample path 0, {sc.name}"), caption


def _node_order(scenario: str, nodes: list[str]) -> list[str]:
    """Nodes in the built-in scenario's order (upstream first, as written); else as stored.

    A batch names draws of a scenario distribution ``<base>~<seed>.<i>``: they keep the base's nodes.
    """
    from scenarios import builtin

    base = scenario.split("~")[0]
    if base not in builtin.names():
        return nodes
    order = {n: i for i, n in enumerate(builtin.get(base).node_ids)}
    return sorted(nodes, key=lambda n: (order.get(n, len(order)), n))


def _curve_axes(family: str) -> tuple[str, str]:
    """(x label, y label) of a learning curve: what a step is and where the cost was measured."""
    if family == "hybrid-mpc":
        return ("agent steps (each sets the planner's safety stock for an epoch of periods)",
                "cost per period,\ntraining episodes")
    if family.startswith("hybrid"):
        return "training timesteps", "cost per period,\ntraining episodes"
    return "training timesteps", "cost per period,\nheld-out paths"


def _learning_figure(sc: _Scenario, store: Any) -> Any:
    """One panel per trained policy (its seeds as lines), each on its own axes; ``None``: no curves.

    An RL agent's curve is its cost on held-out paths per environment step; a hybrid
    agent's is the cost of its training episodes per agent step (for hybrid-mpc an epoch
    of planned periods). On one axis a hybrid's few steps would sit at step 0 of an RL
    agent's thousands, and its training cost would stretch the cost axis.
    """
    from matplotlib.ticker import EngFormatter

    panels: dict[str, list[tuple[_Policy, dict[str, Any], list[dict[str, Any]]]]] = {}
    for p in sc.policies:
        for r in sorted(p.runs, key=lambda r: r["seed"]):
            rows = [c for c in store.learning_curve(r["key"]) if _finite(c.get("cost"))]
            if rows:
                panels.setdefault(p.name, []).append((p, r, rows))
    if not panels:
        return None
    fig = _figure(8.0, 0.6 + 2.6 * len(panels))
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    styles = ("-", "--", ":", "-.")
    for ax, (name, curves) in zip(axes, panels.items(), strict=True):
        colour = sc.colour(name)
        for i, (_p, r, rows) in enumerate(curves):
            ax.plot([c["timesteps"] for c in rows], [c["cost"] for c in rows], color=colour, marker="o",
                    markersize=3, linewidth=1.4, linestyle=styles[i % len(styles)], label=f"seed {r['seed']}")
            anchors = [c.get("anchor_cost") for c in rows if _finite(c.get("anchor_cost"))]
            if anchors:
                ax.axhline(anchors[-1], color=colour, linewidth=1.0, linestyle=(0, (2, 2)), alpha=0.7,
                           label=f"its anchor · seed {r['seed']}")
        xlabel, ylabel = _curve_axes(curves[0][1].get("family") or name)
        ax.set_title(_label(name, 60), loc="left")
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))
        ax.set_ylabel(ylabel)
        _style(ax)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return fig


def _learning_plot(sc: _Scenario, store: Any) -> str:
    fig = _learning_figure(sc, store)
    return "" if fig is None else _img(fig, f"learning curves, {sc.name}")


# ---------------------------------------------------------------------------- HTML
_CSS = """
:root { --ink:#1d2430; --muted:#5f6b7a; --line:#e3e7ec; --accent:#0b63a8; --bg:#ffffff;
        --soft:#f6f8fa; --good:#1a7f37; --bad:#b42318; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 28px 32px 64px; }
header { border-bottom: 1px solid var(--line); padding-bottom: 14px; margin-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 21px; margin: 40px 0 6px; padding-top: 12px; border-top: 3px solid var(--ink); }
h3 { font-size: 16px; margin: 28px 0 6px; }
p { margin: 6px 0; }
.lede { color: var(--muted); margin: 0 0 10px; max-width: 80ch; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; font-size: 13.5px;
        color: var(--muted); margin: 0; }
.meta dt { font-weight: 600; color: var(--ink); }
.meta dd { margin: 0; overflow-wrap: anywhere; }
code { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
       background: var(--soft); padding: 1px 4px; border-radius: 3px; }
nav { font-size: 14px; margin: 12px 0 0; }
nav a { margin-right: 14px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.verdict { font-size: 15px; margin: 10px 0 4px; max-width: 95ch; }
.note { color: var(--muted); font-size: 13.5px; max-width: 85ch; }
.caption { color: var(--muted); font-size: 13px; margin: 2px 0 10px; max-width: 90ch; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin: 8px 0 4px;
        font-variant-numeric: tabular-nums; }
th { text-align: right; font-weight: 600; color: var(--muted); font-size: 12.5px; white-space: nowrap;
     border-bottom: 2px solid var(--ink); padding: 6px 10px; vertical-align: bottom; }
td { text-align: right; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top;
     white-space: nowrap; }
th:first-child, td:first-child { text-align: left; white-space: normal; min-width: 210px; max-width: 330px; }
tbody tr:hover { background: var(--soft); }
tr.best td { background: #eef6ee; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 7px; }
.policy { font-weight: 600; white-space: nowrap; }
.params { display: block; color: var(--muted); font-size: 12px; font-weight: 400; margin-left: 17px;
          overflow-wrap: anywhere; }
.ci { color: var(--muted); font-size: 12.5px; }
.badge { font-size: 11px; font-weight: 600; color: var(--good); border: 1px solid var(--good);
         border-radius: 3px; padding: 0 4px; margin-left: 6px; }
.sig { color: var(--bad); }
.ns { color: var(--muted); }
figure { margin: 8px 0 4px; overflow-x: auto; }
.scroll { overflow-x: auto; }
figure img { max-width: 100%; height: auto; display: block; }
.grid2 { display: grid; grid-template-columns: minmax(0, 1fr); gap: 8px; }
footer { margin-top: 48px; border-top: 1px solid var(--line); padding-top: 10px; color: var(--muted);
         font-size: 12.5px; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text))


def _breakable(name: str) -> str:
    """A policy name for HTML that may wrap after ``:``, ``,`` or ``/`` (long model paths)."""
    return "".join(_e(c) + ("<wbr>" if c in ":,/" else "") for c in name)


def _value_text(value: Any) -> str:
    """A parameter value: numbers to 4 significant digits, lists comma-separated."""
    if isinstance(value, list | tuple):
        return ", ".join(_value_text(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _params_text(p: _Policy, limit: int = 110) -> str:
    """The parameters the policy ran with, on one short line (nested ones flattened: ``anchor.s``)."""
    if p.params_vary:
        return "parameters tuned per seed"

    def flat(params: dict[str, Any], prefix: str = "") -> Iterable[str]:
        for k, v in params.items():
            if isinstance(v, dict):
                yield from flat(v, f"{prefix}{k}.")
            else:
                yield f"{prefix}{k} = {_value_text(v)}"

    text = "; ".join(flat(p.params))
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _ci(est: _Est, fmt: Any = _num) -> str:
    if not est.has_ci:
        return ""
    return f'<br><span class="ci">{fmt(est.low)} … {fmt(est.high)}</span>'


def _table(sc: _Scenario) -> str:
    bounded = sc.bounded
    head = ["policy", "seeds × paths", "cost per period<br>mean, 95% CI",
            "vs best, paired<br>difference, 95% CI", "fill rate<br>mean, 95% CI"]
    if bounded:
        head.append("gap to<br>hindsight bound")
    head.append("run time<br>per seed")
    rows = []
    tied = sc.tied
    badge = "tied" if tied else "best"  # the cheapest is the best only if no other is as cheap
    for p in sc.policies:
        seeds = p.seeds
        seeds_text = (f"{len(seeds)} × {p.paths // max(len(p.runs), 1):,}" if len(set(
            r["paths"] for r in p.runs)) == 1 else f"{len(seeds)} seeds, {p.paths:,} paths")
        name = (f'<span class="swatch" style="background:{sc.colour(p.name)}"></span>'
                f'<span class="policy">{_breakable(p.name)}</span>'
                + (f'<span class="badge">{badge}</span>' if p is sc.best or p in tied else "")
                + (f'<span class="params">{_e(_params_text(p))}</span>' if _params_text(p) else ""))
        if p is sc.best:
            diff = '<span class="ns">reference</span>'
        elif p.diff is None:
            diff = f'<span class="ns" title="{_e(p.diff_note)}">–</span>'
        else:
            rel = p.diff.mean / sc.best.cost.mean if sc.best.cost.mean else math.nan
            cls = "sig" if p.diff.excludes_zero else "ns"
            places = _diff_decimals(p.diff)
            diff = (f'<span class="{cls}" title="{_e(p.diff_note)}">'
                    f"{_diff_text(p.diff.mean, places)} ({_pct(rel, True)})</span>"
                    + _ci(p.diff, lambda x, places=places: _diff_text(x, places))
                    + ("" if p.diff.has_ci else f'<br><span class="ci">{_e(p.diff_note)}</span>'))
        cells = [name, seeds_text, f"<b>{_num(p.cost.mean)}</b>{_ci(p.cost)}", diff,
                 f"{_pct(p.fill.mean)}{_ci(p.fill, _pct)}"]
        if bounded:
            cells.append(f"{_pct(p.gap.mean, True)}{_ci(p.gap, lambda x: _pct(x, True))}"
                         if _finite(p.gap.mean) else "–")
        cells.append(_seconds(p.seconds))
        cls = ' class="best"' if p is sc.best or p in tied else ""
        rows.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return ('<div class="scroll"><table><thead><tr>' + "".join(f"<th>{h}</th>" for h in head)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>")


def _diff_note(sc: _Scenario) -> str:
    notes = {p.diff_note for p in sc.policies[1:] if p.diff is not None}
    how = []
    if "paired over paths" in notes:
        how.append("path by path, on common random numbers")
    seeds = sorted(int(n.split()[2]) for n in notes if n.startswith("paired over") and "seeds" in n)
    if seeds:
        how.append(f"seed by seed, with an interval over {_ranges(sorted(set(seeds)))} seeds")
    if "one seed: no interval" in notes:
        how.append("from one seed's means, so without an interval")
    if not how:
        return ""
    return (f"Paired difference: each policy's cost per period minus that of {_e(sc.best.name)}, the "
            f"cheapest, on the same sample paths ({_e('; '.join(how))}); shown in "
            "<span class='sig'>red</span> when its 95% interval excludes zero"
            + ("; the policies marked <i>tied</i> are not distinguishable from it (their interval "
               "includes zero)." if sc.tied else "."))


def _verdict(sc: _Scenario) -> str:
    """One sentence: the cheapest policy (and those tied with it) and how far the next is behind."""
    best, tied = sc.best, sc.tied
    text = (f"Cheapest: <b>{_e(best.name)}</b> at {_num(best.cost.mean)} per period"
            + (f", fill rate {_pct(best.fill.mean)}" if _finite(best.fill.mean) else ""))
    if tied:
        names = [f"<b>{_e(p.name)}</b>" for p in tied]
        text = (f"No single cheapest policy: <b>{_e(best.name)}</b> ({_num(best.cost.mean)} per period) is "
                f"tied with {', '.join(names[:-1]) + ' and ' if len(names) > 1 else ''}{names[-1]} "
                "(the paired 95% interval of each difference includes zero)")
    rest = [p for p in sc.policies[1:] if p not in tied]
    if not rest:
        return text + "."
    second = rest[0]
    d = second.diff
    if d is None or not _finite(d.mean):
        return text + f"; next: {_e(second.name)} at {_num(second.cost.mean)}."
    rel = d.mean / best.cost.mean if best.cost.mean else math.nan
    if d.excludes_zero:
        verdict = "a significant difference (the paired 95% interval excludes zero)"
    elif d.has_ci:
        verdict = "not a significant difference (the paired 95% interval includes zero)"
    else:
        verdict = "with no paired interval to judge it by (runs on more seeds give one)"
    return text + (f"; next: {_e(second.name)}, {_diff_text(d.mean, _diff_decimals(d))} "
                   f"({_pct(rel, True)}) per period, {verdict}.")


def _section(sc: _Scenario, store: Any, anchor: str) -> str:
    out = [f'<section id="{anchor}"><h2>{_e(sc.name)}</h2>']
    periods = sorted({r["periods"] for p in sc.policies for r in p.runs})
    seeds = sorted({r["seed"] for p in sc.policies for r in p.runs})
    out.append(f'<p class="note">{len(sc.policies)} policies · seeds {_e(_ranges(seeds))} · '
               f'{_e(", ".join(map(str, periods)))} measured periods per path · costs per period, '
               "mean over every test path of every seed with its 95% confidence interval.</p>")
    out.append(f'<p class="verdict">{_verdict(sc)}</p>')
    out.append(_table(sc))
    note = _diff_note(sc)
    if note:
        out.append(f'<p class="caption">{note}</p>')
    if sc.bounded:
        bounds = [p.bound for p in sc.policies if _finite(p.bound)]
        out.append(f'<p class="caption">Hindsight bound: {_num(sum(bounds) / len(bounds))} per period '
                   "(perfect information on each path, warm-up included): a lower bound on any "
                   "policy's cost on the same paths.</p>")
    with _rc():
        out.append("<h3>Cost breakdown</h3>")
        out.append(f"<figure>{_cost_breakdown(sc)}</figure>")
        out.append('<p class="caption">Mean cost per period by part; the number is the total '
                   "(net of revenue).</p>")
        out.append("<h3>Service level against cost</h3>")
        img, shifted = _service_vs_cost(sc)
        out.append(f"<figure>{img}</figure>")
        out.append('<p class="caption">One point per policy, bars are 95% confidence intervals; '
                   "better policies sit towards the top left."
                   + (f" {_e(', '.join(shifted))} lie on the same point: their markers are drawn "
                      "side by side, a few pixels apart." if shifted else "") + "</p>")
        out.append("<h3>Gap to the hindsight bound</h3>")
        if sc.bounded:
            out.append(f"<figure>{_gap_plot(sc)}</figure>")
            missing = [p.name for p in sc.policies if not _finite(p.gap.mean)]
            out.append('<p class="caption">Cost per period over all periods (warm-up included) '
                       "above the perfect-information bound on the same paths."
                       + (f" Run without the bound, so not shown: {_e(', '.join(missing))}." if missing
                          else "") + "</p>")
        else:
            out.append('<p class="note">No hindsight bound was computed for these runs, so there is '
                       "no gap to show (ask the batch for the bound to see one).</p>")
        out.append("<h3>Inventory and orders on a sample path</h3>")
        img, caption = _trajectory_plot(sc, store)
        if img:
            out.append(f"<figure>{img}</figure>")
        out.append(f'<p class="{"caption" if img else "note"}">{_e(caption)}</p>')
        curves = _learning_plot(sc, store)
        if curves:
            out.append("<h3>Learning curves</h3>")
            out.append(f"<figure>{curves}</figure>")
            out.append('<p class="caption">Cost per period of each agent during training, one panel '
                       "per agent on its own axes: an RL agent evaluated on held-out paths, a hybrid "
                       "agent on its training episodes (its steps are epochs, not periods); the dotted "
                       "line is the anchor policy it learns around.</p>")
    out.append("</section>")
    return "\n".join(out)


def _ranges(values: Sequence[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0–2, 5"``."""
    out, start, prev = [], None, None
    for v in values:
        if start is None:
            start = prev = v
        elif v == prev + 1:
            prev = v
        else:
            out.append(f"{start}–{prev}" if prev != start else str(start))
            start = prev = v
    if start is not None:
        out.append(f"{start}–{prev}" if prev != start else str(start))
    return ", ".join(out)


def _versions(runs: list[dict[str, Any]]) -> str:
    seen: dict[str, set[str]] = defaultdict(set)
    for r in runs:
        versions = r.get("versions") or {}
        if isinstance(versions, str):
            versions = json.loads(versions)
        for k, v in versions.items():
            seen[k].add(str(v))
    if not seen:
        return "not recorded"
    return " · ".join(f"{_e(k)} {_e(' / '.join(sorted(v)))}" for k, v in sorted(seen.items()))


def _render(db_path: Path, store: Any, title: str | None) -> str:
    runs = store.runs()
    scenarios = _scenarios(runs, store.path_costs())
    created = [r["created"] for r in runs if r.get("created") is not None]
    when = (f"{min(created):%Y-%m-%d %H:%M} – {max(created):%Y-%m-%d %H:%M} UTC" if created
            else "not recorded")
    title = title or f"echelon report · {db_path.name}"
    anchors = [f"s{i}-" + "".join(c if c.isalnum() else "-" for c in sc.name)
               for i, sc in enumerate(scenarios)]
    nav = ("<nav>" + "".join(f'<a href="#{a}">{_e(sc.name)}</a>' for a, sc in
                             zip(anchors, scenarios, strict=True)) + "</nav>") if len(scenarios) > 1 else ""
    header = f"""<header>
<h1>{_e(title)}</h1>
<p class="lede">Replenishment policies compared on common random numbers: every policy of a scenario
ran on the same sample paths for a seed, so differences between them are paired.</p>
<dl class="meta">
<dt>database</dt><dd><code>{_e(db_path.resolve())}</code></dd>
<dt>contents</dt><dd>{len(runs)} runs · {len(scenarios)} scenario{"s" if len(scenarios) != 1 else ""}</dd>
<dt>runs made</dt><dd>{_e(when)}</dd>
<dt>report made</dt><dd>{datetime.now(UTC):%Y-%m-%d %H:%M} UTC</dd>
<dt>versions</dt><dd>{_versions(runs)}</dd>
</dl>
{nav}
</header>"""
    sections = [_section(sc, store, a) for sc, a in zip(scenarios, anchors, strict=True)]
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
{header}
{"".join(sections)}
<footer>Made by <code>echelon report</code> from <code>{_e(db_path.name)}</code>. Self-contained:
plots are embedded PNG images, no external resources.</footer>
</main>
</body>
</html>
"""


def write_report(db_path: str | Path, out_path: str | Path, title: str | None = None) -> Path:
    """Write one self-contained HTML page summarising a results database.

    :param db_path: a DuckDB file written by :class:`~hybrid.store.Store`
        (``echelon batch``); opened read-only.
    :param out_path: the HTML file to write (overwritten; parent folders made).
    :param title: the page title [default: ``echelon report · <db file name>``].
    :return: the path written.
    :raises SpecError: the database is missing, unreadable, of another schema or holds no runs;
        ``out_path`` is a directory or cannot be written.
    """
    db_path = Path(db_path)
    store = _open(db_path)
    try:
        out_path = writable_file("out", out_path)  # before the plots are drawn
        page = _render(db_path, store, title)
    finally:
        store.close()
    out_path.write_text(page, encoding="utf-8")
    return out_path
