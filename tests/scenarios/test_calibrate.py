"""Calibration from history: recovery of the example generator's parameters, and bad files."""

from __future__ import annotations

import csv
import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from scenarios.calibrate import calibrate, classify, read_history
from scenarios.calibrate.build import shift
from scenarios.errors import SpecError
from scenarios.processes import DemandProcess, Promotion, Seasonality
from scenarios.spec import load

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _generator():
    spec = importlib.util.spec_from_file_location("make_history", EXAMPLES / "make_history.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()


def _write(path: Path, header: tuple[str, ...], rows: list[tuple]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _history(tmp_path: Path, seed: int) -> Path:
    rows = [(*r[:3], f"{r[3]:g}", r[4]) for r in GEN.history_rows(seed)]
    return _write(tmp_path / "history.csv", ("date", "node", "sku", "demand", "promotion"), rows)


def test_the_shipped_history_is_what_the_documented_generator_makes() -> None:
    with (EXAMPLES / "history.csv").open() as f:
        shipped = list(csv.reader(f))[1:]
    made = GEN.history_rows(7)
    assert len(shipped) == len(made)
    assert [r[:3] for r in shipped] == [list(r[:3]) for r in made]
    np.testing.assert_allclose([float(r[3]) for r in shipped], [r[3] for r in made], rtol=0, atol=0.011)
    assert [int(r[4]) for r in shipped] == [r[4] for r in made]


def _recovered(fitted: DemandProcess, truth: DemandProcess, periods: int) -> list[str]:
    """What is off, beyond the stated tolerances, between a fitted process and the true one.

    Tolerances: the mean within 3 standard errors of a sample mean (true std / sqrt(periods), the
    std from the family); the std within 3 standard errors of a sample std (``std sqrt((kurtosis + 2)
    / (4 periods))``, excess kurtosis from the family: 12% of the std for the intermittent stream,
    3% for the others); a Poisson truth may come back negative binomial only with
    variance/mean <= 1.25; season present exactly where it is, amplitude within 0.05 and phase within
    0.3 periods; trend present exactly where it is and within 1.5e-4 per period; promotion lift within
    15%, duration exact, start probability within a factor 1.5.
    """
    off = []
    true_std = truth.std if truth.std is not None else math.sqrt(truth.mean)
    if abs(fitted.mean - truth.mean) > 3 * true_std / math.sqrt(periods):
        off.append(f"mean {fitted.mean:.3f} vs {truth.mean}")
    if truth.kind == "poisson":
        if fitted.kind == "negative-binomial" and fitted.std**2 / fitted.mean > 1.25:
            off.append(f"overdispersed: std {fitted.std:.3f} at mean {fitted.mean:.3f}")
        elif fitted.kind not in ("poisson", "negative-binomial"):
            off.append(f"kind {fitted.kind}")
    elif fitted.kind != truth.kind:
        off.append(f"kind {fitted.kind} vs {truth.kind}")
    elif abs(fitted.std - truth.std) > 3 * _std_error(truth, periods):
        off.append(f"std {fitted.std:.3f} vs {truth.std}")
    if (fitted.seasonality is None) != (truth.seasonality is None):
        off.append(f"season {fitted.seasonality} vs {truth.seasonality}")
    elif truth.seasonality is not None:
        s, u = fitted.seasonality, truth.seasonality
        shift_ = (s.phase - u.phase + u.period / 2) % u.period - u.period / 2
        if s.period != u.period or abs(s.amplitude - u.amplitude) > 0.05 or abs(shift_) > 0.3:
            off.append(f"season {s} vs {u}")
    if (fitted.trend == 0) != (truth.trend == 0) or abs(fitted.trend - truth.trend) > 1.5e-4:
        off.append(f"trend {fitted.trend:.2e} vs {truth.trend:.2e}")
    if (fitted.promotion is None) != (truth.promotion is None):
        off.append(f"promotion {fitted.promotion} vs {truth.promotion}")
    elif truth.promotion is not None:
        p, q = fitted.promotion, truth.promotion
        if (abs(p.lift / q.lift - 1) > 0.15 or p.duration != q.duration
                or not q.probability / 1.5 <= p.probability <= q.probability * 1.5):
            off.append(f"promotion {p} vs {q}")
    return off


def _std_error(truth: DemandProcess, periods: int) -> float:
    """Standard error of a sample std of ``periods`` iid draws of ``truth`` (delta method)."""
    kurtosis = 0.0
    if truth.kind == "negative-binomial":
        n = truth.mean**2 / (truth.std**2 - truth.mean)
        kurtosis = float(stats.nbinom.stats(n, n / (n + truth.mean), moments="k"))
    return truth.std * math.sqrt((kurtosis + 2) / (4 * periods))


@pytest.mark.parametrize("seed", [7, 11])
def test_calibration_recovers_the_generators_parameters(tmp_path: Path, seed: int) -> None:
    path = EXAMPLES / "history.csv" if seed == 7 else _history(tmp_path, seed)
    spec, summary = calibrate(path, network=EXAMPLES / "network.toml", receipts=EXAMPLES / "receipts.csv")
    off = {f"{key}": _recovered(summary.stream(*key).process, truth, GEN.DAYS)
           for key, truth in GEN.TRUTH.items()}
    assert not {k: v for k, v in off.items() if v}, off
    for key in GEN.TRUTH:
        expected = "intermittent" if key[1] == "spare-part" else "smooth"
        assert summary.stream(*key).category.replace("lumpy", "intermittent") == expected, key
    arcs = {(a.supplier, a.customer): a.lead_time for a in spec.arcs}
    assert arcs["external", "dc"].to_dict() == {"kind": "fixed", "value": 3}
    assert arcs["dc", "store-1"].values == (1, 2)
    assert abs(arcs["dc", "store-1"].probabilities[0] - 0.7) < 0.15  # 105 receipts: se 0.045
    assert load(_saved(spec, tmp_path)) == spec


def _saved(spec, tmp_path: Path) -> Path:
    from scenarios.spec import save

    save(spec, tmp_path / "calibrated.toml")
    return tmp_path / "calibrated.toml"


def test_the_scenario_starts_after_the_history() -> None:
    process = DemandProcess(kind="negative-binomial", mean=10.0, std=5.0, trend=0.01,
                            seasonality=Seasonality(0.3, 7, 2.0), promotion=Promotion(0.1, 1.5, 2))
    moved = shift(process, 30)
    np.testing.assert_allclose(moved.mean_at(20), process.mean_at(50)[30:], rtol=1e-12)
    n = lambda p: p.mean**2 / (p.std**2 - p.mean)  # noqa: E731 -- the NB's shape stays
    assert n(moved) == pytest.approx(n(process))
    with pytest.raises(SpecError, match="trend"):
        shift(DemandProcess(kind="poisson", mean=5.0, trend=-0.1), 30)


def test_classify_by_interval_and_size_variation() -> None:
    assert classify(np.array([5, 6, 5, 6, 5.0]))[0] == "smooth"
    assert classify(np.array([1, 20, 1, 20, 1.0]))[0] == "erratic"
    assert classify(np.array([0, 0, 1, 0, 0, 30, 0, 0, 1.0]))[0] == "lumpy"


def test_empirical_keeps_the_raw_history() -> None:
    spec, _ = calibrate(EXAMPLES / "history.csv", empirical=True)
    demand = {(d.node, d.sku): d.process for d in spec.demands}
    milk = demand["store-1", "milk"]
    assert milk.kind == "empirical" and len(milk.history) == GEN.DAYS
    assert [n.id for n in spec.nodes] == ["store-1", "store-2"]  # no network: one node each, fed from outside
    assert {a.supplier for a in spec.arcs} == {"external"}


def test_parquet_reads_as_the_csv(tmp_path: Path) -> None:
    import duckdb

    out = tmp_path / "history.parquet"
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{EXAMPLES / 'history.csv'}')) TO '{out}' (FORMAT parquet)")
    a, b = read_history(EXAMPLES / "history.csv"), read_history(out)
    assert (a.first_date, a.step_days, a.periods) == (b.first_date, b.step_days, b.periods)
    for s, t in zip(a.streams, b.streams, strict=True):
        np.testing.assert_array_equal(s.demand, t.demand)
        np.testing.assert_array_equal(s.promotion, t.promotion)


HEADER = ("date", "node", "sku", "demand")


def _rows(n: int = 10, node: str = "s1") -> list[tuple]:
    return [(f"2024-01-{d + 1:02d}", node, "a", 3) for d in range(n)]


def _one(change: tuple[int, str, object]) -> list[tuple]:
    """:func:`_rows` with row ``i`` (0-based) given another date and demand."""
    i, date, demand = change
    return [(date, "s1", "a", demand) if j == i else r for j, r in enumerate(_rows())]


@pytest.mark.parametrize("rows, message", [
    ([r for i, r in enumerate(_rows()) if i != 4], r"history.csv row 6, date: gap in the dates of s1/a: "
                                                    r"2024-01-06 follows 2024-01-04"),
    (_one((3, "2024-01-04", -2)), r"row 5, demand: must be a finite number >= 0"),
    (_one((3, "2024-01-04", "lots")), r"row 5, demand: must be a number, got 'lots'"),
    (_one((3, "2024-01-04", "nan")), r"row 5, demand: must be a finite number"),
    (_one((3, "04/01/2024", 1)), r"row 5, date: must be an ISO date"),
    (_rows() + [("2024-01-03", "s1", "a", 1)], r"row 12, date: 2024-01-03 appears twice for s1/a"),
    (_rows(3), r"row 2: s1/a has 3 rows; a stream needs at least 8"),
    ([], r"history.csv: is empty"),
])
def test_bad_history_names_the_row_and_column(tmp_path: Path, rows: list, message: str) -> None:
    path = _write(tmp_path / "history.csv", HEADER, rows)
    with pytest.raises(SpecError, match=message):
        calibrate(path)


def test_missing_column_and_unknown_node_or_arc(tmp_path: Path) -> None:
    path = _write(tmp_path / "history.csv", ("date", "node", "demand"), [("2024-01-01", "s1", 3)])
    with pytest.raises(SpecError, match=r"history.csv header: missing column 'sku'"):
        calibrate(path)
    path = _write(tmp_path / "history.csv", HEADER, _rows(node="store-1"))
    with pytest.raises(SpecError, match=r"history.csv row 2, sku: unknown SKU 'a'; the network's SKUs are "):
        calibrate(path, network=EXAMPLES / "network.toml")
    path = _write(tmp_path / "history.csv", HEADER, [(d, "store-9", "milk", q) for d, _, _, q in _rows()])
    with pytest.raises(SpecError, match=r"row 2, node: unknown node 'store-9'; the network's nodes are dc, "):
        calibrate(path, network=EXAMPLES / "network.toml")
    receipts = _write(tmp_path / "receipts.csv", GEN_RECEIPTS, [
        ("2024-01-01", "2024-01-03", "dc", "s1", "a", 5),
        ("2024-01-05", "2024-01-03", "dc", "s1", "a", 1)])
    with pytest.raises(SpecError, match=r"receipts.csv row 3, receipt_date: 2024-01-03 is before the order"):
        calibrate(_write(tmp_path / "h.csv", HEADER, _rows()), receipts=receipts)
    path = _write(tmp_path / "history.csv", HEADER, [(d, "store-1", "milk", q) for d, _, _, q in _rows()])
    receipts = _write(tmp_path / "receipts.csv", GEN_RECEIPTS, [("2024-01-01", "2024-01-03", "store-2",
                                                                 "store-1", "milk", 5)])
    with pytest.raises(SpecError, match=r"receipts.csv row 2, supplier: no arc store-2 -> store-1"):
        calibrate(path, network=EXAMPLES / "network.toml", receipts=receipts)


GEN_RECEIPTS = ("order_date", "receipt_date", "supplier", "node", "sku", "quantity")


def test_calibrating_imports_no_layer_and_statsmodels_only_when_fitting() -> None:
    code = ("import sys, scenarios.calibrate; assert 'statsmodels' not in sys.modules; "
            "assert not {'pyomo', 'torch', 'milp', 'rl', 'hybrid'} & set(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_a_stream_that_never_sold_is_a_zero_mean_poisson(tmp_path: Path) -> None:
    rows = [(f"2024-01-{d + 1:02d}", "s1", sku, 0 if sku == "dead" else d % 3, int(d == 4)) for d in range(20)
            for sku in ("dead", "live")]
    path = _write(tmp_path / "history.csv", ("date", "node", "sku", "demand", "promotion"), rows)
    spec, summary = calibrate(path)
    dead = summary.stream("s1", "dead")
    assert dead.process.kind == "poisson" and dead.process.mean == 0 and dead.notes
    assert {(d.sku, d.process.mean) for d in spec.demands if d.sku == "dead"} == {("dead", 0.0)}
