"""From a checked history to a scenario: :func:`calibrate` and its :class:`FitSummary`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from scenarios.calibrate.fit import StreamFit, fit_lead_time, fit_stream
from scenarios.calibrate.history import History, Receipts, read_history, read_receipts
from scenarios.errors import SpecError
from scenarios.processes import DemandProcess, LeadTime, Seasonality
from scenarios.spec import EXTERNAL, SKU, Arc, Demand, Node, Spec, load

__all__ = ["DEFAULTS", "FitSummary", "calibrate", "calibrate_file", "season_candidates", "shift"]

#: Costs of a scenario calibrated without ``--network`` (stated in its description).
DEFAULTS = {"holding_cost": 1.0, "shortage_cost": 9.0, "lead_time": 1, "horizon": 100}


@dataclass(frozen=True)
class FitSummary:
    """What :func:`calibrate` fitted, for the table, the JSON and the tests.

    :param source: the history file's name.
    :param first_date: the date of period 0 of the fits.
    :param step_days: days per period.
    :param periods: periods of history; the scenario's period 0 is the one after the last.
    :param streams: one :class:`~scenarios.calibrate.fit.StreamFit` per node and SKU, each process on
        the history's clock (period 0 is ``first_date``).
    :param lead_times: ``(supplier, node) -> (fitted lead time, receipts seen)``.
    :param notes: what was assumed or adjusted, in words.
    """

    source: str
    first_date: dt.date
    step_days: int
    periods: int
    streams: tuple[StreamFit, ...]
    lead_times: dict[tuple[str, str], tuple[LeadTime, int]]
    notes: tuple[str, ...]

    def stream(self, node: str, sku: str) -> StreamFit:
        """The fit of one node and SKU."""
        return next(s for s in self.streams if (s.node, s.sku) == (node, sku))

    def rows(self) -> list[dict[str, Any]]:
        """One dict per stream: the chosen family, its parameters and every family's AIC."""
        out = []
        for s in self.streams:
            p = s.process
            out.append({"node": s.node, "sku": s.sku, "periods": s.periods, "category": s.category,
                        "adi": s.adi, "cv2": s.cv2, "kind": p.kind, "mean": p.mean, "std": p.std,
                        "trend": p.trend, "season": None if p.seasonality is None else p.seasonality.__dict__,
                        "promotion": None if p.promotion is None else p.promotion.__dict__,
                        "aic": s.aic, "notes": list(s.notes)})
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {"source": self.source, "first_date": self.first_date.isoformat(), "step_days": self.step_days,
                "periods": self.periods, "streams": self.rows(),
                "lead_times": [{"supplier": a[0], "node": a[1], "receipts": n, **lt.to_dict()}
                               for a, (lt, n) in self.lead_times.items()],
                "notes": list(self.notes)}


def season_candidates(step_days: int) -> tuple[int, ...]:
    """Season lengths tried, in periods: days of the week and of the year for daily data, weeks of the year.

    >>> season_candidates(1), season_candidates(7), season_candidates(30)
    ((7, 365), (52,), ())
    """
    return {1: (7, 365), 7: (52,)}.get(step_days, ())


def shift(process: DemandProcess, periods: int) -> DemandProcess:
    """The same process with period 0 moved ``periods`` later (the scenario starts after the history).

    ``mean (1 + trend (t + T))`` is ``mean (1 + trend T) (1 + trend / (1 + trend T) t)``; the season's
    phase moves by ``T``.
    """
    if process.kind == "empirical":
        return process
    level = 1 + process.trend * periods
    if level <= 0:
        raise SpecError("trend", f"the fitted trend {process.trend:g} per period takes demand to zero "
                        f"within the {periods} periods of history; shorten the history or drop the trend")
    season = process.seasonality
    if season is not None:
        season = Seasonality(season.amplitude, season.period, (season.phase + periods) % season.period)
    std = None if process.std is None else process.std * (level if process.kind == "normal" else 1)
    if process.kind == "negative-binomial":  # keep n = mean**2 / (std**2 - mean) at the new mean
        n = process.mean**2 / (process.std**2 - process.mean)
        std = (process.mean * level + (process.mean * level) ** 2 / n) ** 0.5
    return replace(process, mean=process.mean * level, std=std, trend=process.trend / level,
                   seasonality=season)


def _check_known(history: History, spec: Spec) -> None:
    for s in history.streams:
        row = history.rows[s.node, s.sku]
        if s.node not in spec.node_ids:
            raise SpecError(f"{history.source} row {row}, node", f"unknown node {s.node!r}; the network's "
                            f"nodes are {', '.join(spec.node_ids)}")
        if s.sku not in spec.sku_ids:
            raise SpecError(f"{history.source} row {row}, sku", f"unknown SKU {s.sku!r}; the network's "
                            f"SKUs are {', '.join(spec.sku_ids)}")


def _default_network(history: History, receipts: Receipts | None, name: str) -> Spec:
    """One node per history node (and per supplier in the receipts), each fed from outside if nothing else."""
    demand_nodes = list(dict.fromkeys(s.node for s in history.streams))
    arcs = list(receipts.lead_times) if receipts else []
    suppliers = [a[0] for a in arcs if a[0] != EXTERNAL and a[0] not in demand_nodes]
    ids = list(dict.fromkeys([*suppliers, *demand_nodes, *(a[1] for a in arcs)]))
    fed = {a[1] for a in arcs}
    lanes = [(EXTERNAL, n) for n in ids if n not in fed] + arcs
    skus = list(dict.fromkeys(s.sku for s in history.streams))
    return Spec(name=name, nodes=tuple(Node(n, holding_cost=DEFAULTS["holding_cost"]) for n in ids),
                arcs=tuple(Arc(a, c, LeadTime(kind="fixed", value=DEFAULTS["lead_time"])) for a, c in lanes),
                skus=tuple(SKU(s) for s in skus),
                demands=tuple(Demand(s.node, s.sku, DemandProcess(kind="poisson", mean=1.0),
                                     DEFAULTS["shortage_cost"]) for s in history.streams),
                horizon=DEFAULTS["horizon"])


def _lead_times(spec: Spec, receipts: Receipts, source: str) -> dict[tuple[str, str], tuple[LeadTime, int]]:
    lanes = {(a.supplier, a.customer) for a in spec.arcs}
    out = {}
    for arc, seen in receipts.lead_times.items():
        if arc not in lanes:
            raise SpecError(f"{source} row {seen[0][1]}, supplier",
                            f"no arc {arc[0]} -> {arc[1]} in the network")
        out[arc] = (fit_lead_time([lt for lt, _ in seen]), len(seen))
    return out


def calibrate(history: str | Path | History, network: str | Path | Spec | None = None,
              receipts: str | Path | None = None, empirical: bool = False,
              season_periods: tuple[int, ...] | None = None) -> tuple[Spec, FitSummary]:
    """Fit a scenario to a demand history: a demand process per node and SKU, a lead time per arc.

    :param history: a long-format CSV or Parquet file ``date,node,sku,demand[,promotion]`` (see
        :mod:`scenarios.calibrate.history`), or a :class:`History` already read.
    :param network: a scenario (name, TOML path or :class:`Spec`) whose nodes, arcs and costs are
        kept; its demand processes for the history's streams are replaced, and every node and SKU of
        the history must be in it. ``None``: one node per history node, fed from outside with a lead
        time of 1 period, holding cost 1 and shortage cost 9 (:data:`DEFAULTS`), backlog.
    :param receipts: a receipts table ``order_date,receipt_date,supplier,node,sku,quantity``; each
        arc it names gets its empirical lead-time distribution.
    :param empirical: write every stream as an empirical bootstrap of its raw history instead of
        the fitted process (the summary still reports the fits).
    :param season_periods: season lengths to try, in periods (default: :func:`season_candidates`).
    :return: ``(spec, summary)``: the scenario starts the period after the history ends (trend
        and season carried forward, see :func:`shift`); the summary's processes are on the
        history's clock.
    :raises SpecError: bad rows (file, row and column named), unknown nodes, SKUs or arcs.
    """
    hist = history if isinstance(history, History) else read_history(history)
    seen = read_receipts(receipts, hist.step_days) if receipts is not None else None
    name = f"calibrated-{Path(hist.source).stem}"
    spec = (_default_network(hist, seen, name) if network is None
            else network if isinstance(network, Spec) else load(network))
    _check_known(hist, spec)
    candidates = season_candidates(hist.step_days) if season_periods is None else tuple(season_periods)
    fits = tuple(fit_stream(s, candidates, hist.periods) for s in hist.streams)
    by_stream = {(s.node, s.sku): (s, f) for s, f in zip(hist.streams, fits, strict=True)}
    demands = [d for d in spec.demands if (d.node, d.sku) not in by_stream]
    cost = {d.node: d.shortage_cost for d in spec.demands}
    for (node, sku), (stream, fit) in by_stream.items():
        old = next((d for d in spec.demands if (d.node, d.sku) == (node, sku)), None)
        process = (DemandProcess(kind="empirical", history=tuple(stream.demand.tolist())) if empirical
                   else shift(fit.process, hist.periods))
        demands.append(Demand(node, sku, process, old.shortage_cost if old else
                              cost.get(node, DEFAULTS["shortage_cost"])))
    lead_times = _lead_times(spec, seen, Path(str(receipts)).name) if seen else {}
    arcs = tuple(replace(a, lead_time=lead_times[a.supplier, a.customer][0])
                 if (a.supplier, a.customer) in lead_times else a for a in spec.arcs)
    notes = [f"{len(fits)} streams of {hist.periods} periods of {hist.step_days} day(s) from "
             f"{hist.first_date}; structure by BIC, family by AIC"]
    if network is None:
        notes.append("no network given: " + ", ".join(f"{k} {v}" for k, v in DEFAULTS.items()))
    description = (f"Calibrated from {hist.source} by echelon calibrate: " + "; ".join(notes) +
                   ". Period 0 is the period after the history's last date.")
    spec = Spec.from_dict({**spec.to_dict(), "name": spec.name if network is not None else name,
                           "description": description})
    spec = replace(spec, arcs=arcs, demands=tuple(demands))
    summary = FitSummary(hist.source, hist.first_date, hist.step_days, hist.periods, fits, lead_times,
                         tuple(notes))
    return Spec.from_dict(spec.to_dict()), summary


def calibrate_file(history: str | Path, out: str | Path, network: str | Path | None = None,
                   receipts: str | Path | None = None, empirical: bool = False,
                   plot: str | Path | None = None) -> tuple[Spec, FitSummary]:
    """What ``echelon calibrate`` runs: :func:`calibrate`, then the scenario saved to ``out`` (TOML).

    The output paths are checked before the work. ``plot``: also a PNG of the history against
    the fitted processes' simulated quantiles (:func:`scenarios.calibrate.plot.plot_fit`).
    """
    from scenarios.outputs import writable_file
    from scenarios.spec import save

    writable_file("--out", out)
    if plot is not None:
        writable_file("--plot", plot)
    hist = read_history(history)
    spec, summary = calibrate(hist, network, receipts, empirical)
    save(spec, out)
    if plot is not None:
        from scenarios.calibrate.plot import plot_fit

        plot_fit(hist, summary, plot)
    return spec, summary
