"""Drift (KS of randomised PITs) and shadow replays of a history."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from test_calibrate import EXAMPLES, GEN  # the example generator, loaded once (tests/scenarios)

from scenarios.calibrate import calibrate, read_history
from scenarios.calibrate.drift import drift, pit
from scenarios.calibrate.shadow import RecordedOrders, history_paths, recorded_orders, shadow
from scenarios.errors import SpecError
from scenarios.processes import DemandProcess, Promotion, Seasonality
from scenarios.simulator import simulate
from scenarios.spec import load

SPLIT = "2025-05-15"  # the example history: 500 days to calibrate on, 230 to test


def _split(tmp_path: Path, scale: dict | None = None) -> tuple[Path, Path]:
    with (EXAMPLES / "history.csv").open() as f:
        head, *rows = list(csv.reader(f))
    scale = scale or {}
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    for path, keep in ((old, [r for r in rows if r[0] < SPLIT]), (new, [r for r in rows if r[0] >= SPLIT])):
        with path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(head)
            writer.writerows([*r[:3], f"{float(r[3]) * scale.get(tuple(r[1:3]), 1):.2f}", *r[4:]]
                             for r in keep)
    return old, new


@pytest.mark.parametrize("process, flags", [
    (DemandProcess(kind="poisson", mean=6.0, trend=0.002, seasonality=Seasonality(0.3, 7, 1.0),
                   promotion=Promotion(0.05, 1.8, 2)), False),
    (DemandProcess(kind="poisson", mean=6.0, promotion=Promotion(0.05, 1.8, 2)), True),
    (DemandProcess(kind="negative-binomial", mean=0.5, std=1.5), False),
    (DemandProcess(kind="normal", mean=10.0, std=4.0, seasonality=Seasonality(0.2, 7)), False),
])
def test_the_test_holds_its_level_when_the_process_is_right(process: DemandProcess, flags: bool) -> None:
    """Under the null, the KS p-values of the PITs fall below 0.05 about 5% of the time (300 series)."""
    rng = np.random.default_rng(3)
    rejected = 0
    for _ in range(300):
        demand, promoted = GEN.draw(process, 120, rng)
        u = pit(process, demand, np.arange(120), promoted if flags else None, rng)
        rejected += stats.kstest(u, "uniform").pvalue < 0.05
    assert 0.02 <= rejected / 300 <= 0.09, rejected  # binomial(300, 0.05): 0.025..0.075 at 99.7%


def test_recent_history_does_not_drift_a_shifted_one_does(tmp_path: Path) -> None:
    old, new = _split(tmp_path)
    spec, _ = calibrate(old, network=EXAMPLES / "network.toml")
    assert drift(spec, read_history(new)).drifted == []
    assert set(drift(spec, read_history(new), start_period=3).drifted) == {"store-1/milk", "store-2/milk"}
    (tmp_path / "lifted").mkdir()
    _, lifted = _split(tmp_path / "lifted", {("store-1", "coffee"): 1.3})
    assert drift(spec, read_history(lifted)).drifted == ["store-1/coffee"]


def test_shadow_replays_the_history_and_the_recorded_orders_on_one_path(tmp_path: Path) -> None:
    old, new = _split(tmp_path)
    spec, _ = calibrate(old, network=EXAMPLES / "network.toml", receipts=EXAMPLES / "receipts.csv")
    hist = read_history(new)
    paths = history_paths(spec, hist, seed=2)
    milk = next(s for s in hist.streams if (s.node, s.sku) == ("store-1", "milk"))
    np.testing.assert_array_equal(paths.demand[0, :, 0], milk.demand)
    orders, outside = recorded_orders(spec, hist, EXAMPLES / "receipts.csv")
    assert outside == 945 - (orders > 0).sum() and orders.shape == (230, 3, 3)
    run = simulate(spec, paths, RecordedOrders(orders), record=True)
    np.testing.assert_allclose(run.trace["orders"][0], orders)
    result = shadow(new, spec, "base-stock:S=300,60,90", receipts=EXAMPLES / "receipts.csv", seed=2)
    mine, recorded = result.evaluation.results
    assert recorded.label == "recorded" and result.drift.drifted == []
    gap = recorded.run.total_cost.mean() - mine.run.total_cost.mean()
    assert recorded.difference.mean == pytest.approx(gap)


def test_shadow_refuses_a_history_that_does_not_fit(tmp_path: Path) -> None:
    _, new = _split(tmp_path)
    with pytest.raises(SpecError, match=r"demands\[0\]: store/item has no history in new.csv"):
        shadow(new, "lost-sales-poisson", "base-stock:S=19")
    spec = load(EXAMPLES / "network.toml")
    bad = tmp_path / "receipts.csv"
    bad.write_text("order_date,receipt_date,supplier,node,sku,quantity\n2025-05-20,2025-05-21,store-1,dc,milk,3\n")
    with pytest.raises(SpecError, match=r"receipts.csv row 2, supplier: no arc store-1 -> dc"):
        shadow(new, spec, "base-stock:S=300,60,90", receipts=bad)
