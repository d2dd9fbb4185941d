"""Shadow mode: replay a demand history as a policy would have decided it, without acting.

The history's demand becomes one sample path of the scenario (its period 0 is the scenario's
period ``start_period``; lead times are drawn from the scenario's distributions, seeded), the
policy runs on it from the scenario's initial stock, and, when a receipts table is given, the
orders actually placed (each on its ``order_date``'s period, on the arc ``supplier -> node``)
run on the very same path, so the two costs are paired. It is one realised path: the numbers
have no confidence interval, and a difference says what happened on this history, not what to
expect. :func:`~scenarios.calibrate.drift.drift` then says whether the history still follows
the scenario's processes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from scenarios.calibrate.drift import DriftReport, drift
from scenarios.calibrate.history import History, read_history, read_receipt_rows
from scenarios.errors import SpecError
from scenarios.evaluate import Evaluation, evaluate_policies
from scenarios.paths import SamplePaths
from scenarios.policy import PolicyDefaults
from scenarios.progress import Progress
from scenarios.spec import Spec, load

__all__ = ["RecordedOrders", "ShadowResult", "history_paths", "recorded_orders", "shadow"]


class RecordedOrders(PolicyDefaults):
    """The orders a history records, replayed as a policy: ``orders[t]`` in period ``t``, then nothing.

    :param orders: ``(periods, arcs, skus)`` units ordered.
    """

    name = "recorded"

    def __init__(self, orders: np.ndarray) -> None:
        self.orders = np.asarray(orders, dtype=float)

    def reset(self, network: Any, n_paths: int) -> None:
        """Nothing to prepare."""

    def act(self, state: Any, t: int) -> np.ndarray:
        """The recorded orders of period ``t`` on every path ``(paths, arcs, skus)``."""
        now = self.orders[t] if t < len(self.orders) else np.zeros(self.orders.shape[1:])
        return np.broadcast_to(now, (state.owed.shape[0], *now.shape)).copy()


def history_paths(spec: Spec, history: History, start_period: int = 0, seed: int = 0) -> SamplePaths:
    """One sample path whose demand is the history's (period 0 = the history's first date).

    Lead times, disruptions and the forecasts (``expected_demand``) are the scenario's, drawn
    with ``seed`` over ``start_period + periods`` periods; the first ``start_period`` are dropped.

    :raises SpecError: a demand stream of the scenario the history lacks (or the reverse).
    """
    streams = {(s.node, s.sku): s for s in history.streams}
    for i, d in enumerate(spec.demands):
        if (d.node, d.sku) not in streams:
            raise SpecError(f"demands[{i}]", f"{d.node}/{d.sku} has no history in {history.source}")
    known = {(d.node, d.sku) for d in spec.demands}
    for key in streams:
        if key not in known:
            raise SpecError(f"{history.source} row {history.rows[key]}, node",
                            f"{key[0]}/{key[1]} has no demand stream in {spec.name!r}")
    paths = SamplePaths.draw(spec, paths=1, periods=start_period + history.periods, seed=seed, warmup=0)
    keep = slice(start_period, None)
    paths = replace(paths, **{name: getattr(paths, name)[:, keep] for name in
                              ("demand", "expected_demand", "lead_time", "disrupted", "rounding")})
    demand = np.zeros_like(paths.demand)
    for i, d in enumerate(spec.demands):
        s = streams[d.node, d.sku]
        demand[0, s.start:s.start + s.demand.size, i] = s.demand
    return replace(paths, demand=demand)


def recorded_orders(spec: Spec, history: History, receipts: str | Path) -> tuple[np.ndarray, int]:
    """The receipts table's orders ``(periods, arcs, skus)`` on the history's clock; how many fell outside.

    :raises SpecError: an arc or SKU the scenario does not have, naming the row.
    """
    name, rows = read_receipt_rows(receipts)
    arcs = {(a.supplier, a.customer): e for e, a in enumerate(spec.arcs)}
    orders = np.zeros((history.periods, len(spec.arcs), len(spec.skus)))
    outside = 0
    for r in rows:
        if (r.supplier, r.node) not in arcs:
            raise SpecError(f"{name} row {r.row}, supplier",
                            f"no arc {r.supplier} -> {r.node} in {spec.name!r}")
        if r.sku not in spec.sku_ids:
            raise SpecError(f"{name} row {r.row}, sku", f"unknown SKU {r.sku!r} in {spec.name!r}")
        t, off = divmod((r.order_date - history.first_date).days, history.step_days)
        if not 0 <= t < history.periods or off:
            outside += 1
            continue
        orders[t, arcs[r.supplier, r.node], spec.sku_ids.index(r.sku)] += r.quantity
    return orders, outside


@dataclass
class ShadowResult:
    """What :func:`shadow` found.

    :param evaluation: the policy (first) and the recorded orders (second, with receipts) on the
        history's path; the second's ``difference`` is recorded minus policy.
    :param drift: the history against the scenario's processes.
    :param notes: what was assumed or left out, in words.
    """

    evaluation: Evaluation
    drift: DriftReport
    notes: tuple[str, ...]


def shadow(history: str | Path | History, scenario: str | Path | Spec, policy: str,
           receipts: str | Path | None = None, start_period: int = 0, seed: int = 0,
           progress: Progress | None = None) -> ShadowResult:
    """Replay ``history`` under ``policy`` (and the recorded orders), and test it for drift.

    :param history: demand history (CSV or Parquet; see :mod:`scenarios.calibrate.history`).
    :param scenario: the scenario (name, TOML path or spec); every demand stream needs a history.
    :param policy: a policy text; bare names are tuned on the scenario's training paths first.
    :param receipts: the orders actually placed (a receipts table), replayed for comparison.
    :param start_period: the scenario period of the history's first date.
    :param seed: seed of the lead times, training paths and PIT randomisation.
    """
    spec = scenario if isinstance(scenario, Spec) else load(str(scenario))
    hist = history if isinstance(history, History) else read_history(history)
    if start_period < 0:
        raise SpecError("start_period", f"must be >= 0, got {start_period}")
    paths = history_paths(spec, hist, start_period, seed)
    policies: list[Any] = [policy]
    notes = [f"one path: {hist.source}'s {hist.periods} periods from {hist.first_date} as scenario periods "
             f"{start_period}..{start_period + hist.periods - 1}; lead times drawn (seed {seed}); no CI"]
    if receipts is not None:
        orders, outside = recorded_orders(spec, hist, receipts)
        policies.append(RecordedOrders(orders))
        if outside:
            notes.append(f"{outside} recorded orders outside the history's periods left out")
    evaluation = evaluate_policies(spec, policies, test=paths, seed=seed, progress=progress)
    return ShadowResult(evaluation, drift(spec, hist, start_period, seed=seed), tuple(notes))
