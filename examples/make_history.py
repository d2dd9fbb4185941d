"""Make the example history: two years of daily sales at two stores, and the receipts of their orders.

Run from the repository root (it rewrites ``examples/history.csv`` and ``examples/receipts.csv``)::

    python examples/make_history.py --seed 7

Every stream is drawn from a known process of the spec's own family (:data:`TRUTH`), so a test
can check that ``echelon calibrate`` recovers it (``tests/scenarios/test_calibrate.py``):

- ``store-1/milk``: Poisson, mean 20, a day-of-week season (amplitude 0.3), growth, promotions;
- ``store-1/coffee``: negative binomial (mean 8, std 5), promotions;
- ``store-1/spare-part`` and ``store-2/spare-part``: intermittent (most days sell nothing);
- ``store-2/milk``: normal (mean 40, std 6) with a day-of-week season, no promotions;
- ``store-2/coffee``: Poisson, mean 6, slowly falling.

Each period ``t`` (a day) draws demand with mean ``mean * (1 + trend t) * (1 + A sin(2 pi (t +
phase) / 7)) * lift`` (lift only on promoted days), as :func:`scenarios.processes.draw_demand`
does; promotions start with their probability each day and last ``duration`` days, and the
``promotion`` column flags the promoted days (as a retailer's promotion calendar would).
Receipts: each store orders every Monday from the DC (lead time 1 day with probability 0.7, 2 with
0.3), the DC orders every Monday from its supplier (lead time 3 days).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
from pathlib import Path

import numpy as np

from scenarios.processes import DemandProcess, Promotion, Seasonality

FIRST_DATE = dt.date(2024, 1, 1)
DAYS = 730
WEEKLY = 7
PROMO = Promotion(probability=0.02, lift=1.8, duration=3)

#: The true process of every stream, on the history's clock (day 0 is FIRST_DATE).
TRUTH: dict[tuple[str, str], DemandProcess] = {
    ("store-1", "milk"): DemandProcess(kind="poisson", mean=20.0, trend=0.0005,
                                       seasonality=Seasonality(amplitude=0.3, period=WEEKLY, phase=1.0),
                                       promotion=PROMO),
    ("store-1", "coffee"): DemandProcess(kind="negative-binomial", mean=8.0, std=5.0, promotion=PROMO),
    ("store-1", "spare-part"): DemandProcess(kind="negative-binomial", mean=0.4, std=1.2),
    ("store-2", "milk"): DemandProcess(kind="normal", mean=40.0, std=6.0,
                                       seasonality=Seasonality(amplitude=0.25, period=WEEKLY, phase=3.0)),
    ("store-2", "coffee"): DemandProcess(kind="poisson", mean=6.0, trend=-0.0003),
    ("store-2", "spare-part"): DemandProcess(kind="poisson", mean=0.3),
}
#: Lead times (days) of the arcs in the receipts: supplier -> node: (values, probabilities).
LEAD_TIMES = {("dc", "store-1"): ((1, 2), (0.7, 0.3)), ("dc", "store-2"): ((1, 2), (0.7, 0.3)),
              ("external", "dc"): ((3,), (1.0,))}


def promoted_days(promotion: Promotion | None, days: int, rng: np.random.Generator) -> np.ndarray:
    """``(days,)`` bool: a promotion started on this day or in the ``duration - 1`` before."""
    if promotion is None:
        return np.zeros(days, dtype=bool)
    starts = rng.random(days + promotion.duration - 1) < promotion.probability
    counts = np.concatenate([[0], np.cumsum(starts)])
    return counts[promotion.duration:] - counts[:-promotion.duration] > 0


def draw(process: DemandProcess, days: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One path of ``process`` over ``days``: ``(demand, promoted)``, as the simulator draws it."""
    promoted = promoted_days(process.promotion, days, rng)
    lift = np.where(promoted, process.promotion.lift if process.promotion else 1.0, 1.0)
    factor = process.factor(days) * lift
    mean = process.mean * factor
    if process.kind == "poisson":
        demand = rng.poisson(mean).astype(float)
    elif process.kind == "negative-binomial":
        n = process.mean**2 / (process.std**2 - process.mean)
        demand = rng.negative_binomial(n, n / (n + mean)).astype(float)
    else:
        demand = np.round(np.maximum(mean + process.std * factor * rng.standard_normal(days), 0.0), 2)
    return demand, promoted


def history_rows(seed: int, days: int = DAYS) -> list[tuple[str, str, str, float, int]]:
    """``(date, node, sku, demand, promotion)`` rows, stream by stream, each from its own child seed."""
    rows = []
    children = np.random.SeedSequence(seed).spawn(len(TRUTH))
    for (node, sku), rng in zip(TRUTH, map(np.random.default_rng, children), strict=True):
        demand, promoted = draw(TRUTH[node, sku], days, rng)
        rows += [((FIRST_DATE + dt.timedelta(days=t)).isoformat(), node, sku, float(demand[t]),
                  int(promoted[t])) for t in range(days)]
    return rows


def receipt_rows(seed: int, days: int = DAYS) -> list[tuple[str, str, str, str, str, int]]:
    """``(order_date, receipt_date, supplier, node, sku, quantity)``: weekly orders on Mondays."""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(len(TRUTH) + 1)[-1])
    rows = []
    for (supplier, node), (values, probabilities) in LEAD_TIMES.items():
        for t in range(0, days, 7):  # FIRST_DATE is a Monday
            ordered = FIRST_DATE + dt.timedelta(days=t)
            received = ordered + dt.timedelta(days=int(rng.choice(values, p=probabilities)))
            for sku in ("milk", "coffee", "spare-part"):
                rows.append((ordered.isoformat(), received.isoformat(), supplier, node, sku,
                             int(rng.integers(1, 200))))
    return rows


def main() -> None:
    """Write examples/history.csv and examples/receipts.csv."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    args = parser.parse_args()
    for name, header, rows in (
            ("history.csv", ("date", "node", "sku", "demand", "promotion"), history_rows(args.seed)),
            ("receipts.csv", ("order_date", "receipt_date", "supplier", "node", "sku", "quantity"),
             receipt_rows(args.seed))):
        with (args.out / name).open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows((*row[:3], f"{row[3]:g}", *row[4:]) if name == "history.csv" else row
                             for row in rows)
        print(f"wrote {args.out / name} ({len(rows)} rows)")


if __name__ == "__main__":
    main()
