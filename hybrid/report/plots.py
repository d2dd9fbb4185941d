"""The plots of a scenario's section: ``<img>`` tags holding base64 PNGs drawn by matplotlib (Agg)."""

from __future__ import annotations

import base64
import html
import io
import struct
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from hybrid.report.estimates import finite
from hybrid.report.formatting import num
from hybrid.report.reading import PolicySummary, ScenarioSummary

_PART_COLOURS = {"holding": "#4C72B0", "pipeline": "#8DA0CB", "shortage": "#C44E52",
                 "ordering": "#55A868", "fixed": "#A6D854", "transport": "#DD8452",
                 "operating": "#937860", "waste": "#8C8C8C", "revenue": "#B3B3B3"}
_MAX_TRAJECTORY_POLICIES = 4
_MAX_TRAJECTORY_NODES = 8
_MAX_TRAJECTORY_PERIODS = 104  # two years of weeks: longer paths are cut, or the lines become a blur


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


def plot_style() -> Any:
    """A context manager in which matplotlib draws in the report's fonts and sizes."""
    import matplotlib

    return matplotlib.rc_context({"font.family": "DejaVu Sans", "font.size": 9.5,
                                  "axes.titlesize": 10, "axes.titleweight": "bold",
                                  "axes.labelsize": 9.5, "legend.fontsize": 9,
                                  "legend.frameon": False})


def cost_breakdown(sc: ScenarioSummary) -> str:
    """Mean cost per period of each policy split into its parts, as stacked bars (revenue below zero)."""
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
        values = [p.parts[part].mean if part in p.parts and finite(p.parts[part].mean) else 0.0
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
        ax.text(lp + 0.01 * span, yi, num(p.cost.mean), va="center", fontsize=9, color="#222222")
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


def service_figure(sc: ScenarioSummary) -> tuple[Any, list[str]] | None:
    """Fill rate against cost, one point per policy: the figure and the policies shifted apart.

    Points closer than about a marker's size are drawn side by side, a few points
    apart on the page (the data are not changed), and their legend entries say so.
    ``None`` when no fill rate is stored.
    """
    from matplotlib.transforms import offset_copy

    points = [p for p in sc.policies if finite(p.cost.mean) and finite(p.fill.mean)]
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


def service_vs_cost(sc: ScenarioSummary) -> tuple[str, list[str]]:
    """The plot as HTML and the names of the policies shifted apart (see :func:`service_figure`)."""
    drawn = service_figure(sc)
    if drawn is None:
        return '<p class="note">No fill rate stored.</p>', []
    fig, shifted = drawn
    return _img(fig, f"fill rate against cost, {sc.name}"), shifted


def gap_plot(sc: ScenarioSummary) -> str:
    """Each bounded policy's gap to the hindsight bound, % of the bound, with its 95% CI."""
    policies = [p for p in sc.policies if finite(p.gap.mean)]
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


def trajectory_plot(sc: ScenarioSummary, store: Any) -> tuple[str, str]:
    """Stock and orders of path 0, node by node; returns (html, caption) or ("", reason)."""
    con = store.connection
    keys = [r["key"] for p in sc.policies for r in p.runs]
    stored = {k for (k,) in con.execute(
        "SELECT DISTINCT key FROM trajectories WHERE key IN (SELECT unnest(?::VARCHAR[])) AND path = 0",
        [keys]).fetchall()}
    candidates: dict[int, list[tuple[PolicySummary, dict[str, Any]]]] = defaultdict(list)
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


def learning_figure(sc: ScenarioSummary, store: Any) -> Any:
    """One panel per trained policy (its seeds as lines), each on its own axes; ``None``: no curves.

    An RL agent's curve is its cost on held-out paths per environment step; a hybrid
    agent's is the cost of its training episodes per agent step (for hybrid-mpc an epoch
    of planned periods). On one axis a hybrid's few steps would sit at step 0 of an RL
    agent's thousands, and its training cost would stretch the cost axis.
    """
    from matplotlib.ticker import EngFormatter

    panels: dict[str, list[tuple[PolicySummary, dict[str, Any], list[dict[str, Any]]]]] = {}
    for p in sc.policies:
        for r in sorted(p.runs, key=lambda r: r["seed"]):
            rows = [c for c in store.learning_curve(r["key"]) if finite(c.get("cost"))]
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
            anchors = [c.get("anchor_cost") for c in rows if finite(c.get("anchor_cost"))]
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


def learning_plot(sc: ScenarioSummary, store: Any) -> str:
    """The learning curves (:func:`learning_figure`) as HTML; ``""`` when none are stored."""
    fig = learning_figure(sc, store)
    return "" if fig is None else _img(fig, f"learning curves, {sc.name}")
