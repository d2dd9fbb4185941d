"""How the report reads: ties, the precision of differences, run times, overlapping points, learning curves.

One small store: three policies on common random numbers, two of them tied (their costs
differ by a hair on every path), an RL agent's learning curve over thousands of timesteps
and a hybrid agent's over a few agent steps.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from hybrid.report import write_report
from hybrid.report.reading import summarise_scenarios
from hybrid.store import Store, run_key
from scenarios.kpis import estimate

PATHS = 30
TIED = 0.0006 + 0.002 * np.tile([-1.0, 1.0], PATHS // 2)  # a hair dearer; the paired CI includes zero


def _run(policy: str, family: str, costs: np.ndarray, fill: float, seconds: float) -> dict:
    cost, fills = estimate(costs).to_dict(), estimate(np.full(PATHS, fill) + np.linspace(0, 1e-3, PATHS))
    return {"key": run_key("h", policy, 0, PATHS, 20), "scenario": "tie", "scenario_hash": "h",
            "policy": policy, "family": family, "seed": 0, "paths": PATHS, "periods": 20, "warmup": 2,
            "cost_mean": cost["mean"], "cost_lo": cost["ci95"][0], "cost_hi": cost["ci95"][1],
            "fill_rate": fills.mean, "seconds": seconds,
            "result": {"policy": policy, "family": family, "params": {}, "cost_per_period": cost,
                       "fill_rate": fills.to_dict()}}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reading") / "results.duckdb"
    common = 33 + np.random.default_rng(0).normal(0, 4, PATHS)
    rl_curve = [{"timesteps": t, "cost": c, "anchor_cost": 32.3}
                for t, c in ((0, 32.3), (5000, 32.4), (10000, 32.7), (20000, 32.8))]
    hybrid_curve = [{"timesteps": 68, "cost": 84.8, "anchor_cost": 32.3},
                    {"timesteps": 136, "cost": 79.5, "anchor_cost": 32.3}]
    runs = [("rl:path=runs/a", "rl", common, 0.988, 0.013, rl_curve),
            ("sS", "sS", common + TIED, 0.988, 2.5, None),
            ("hybrid-mpc:path=runs/b", "hybrid-mpc", common + 23.5, 0.956, 37.0, hybrid_curve)]
    with Store(path) as store:
        for policy, family, costs, fill, seconds, curve in runs:
            store.add(_run(policy, family, costs, fill, seconds), None, curve,
                      {"path": list(range(PATHS)), "cost": costs.tolist()})
    return path


@pytest.fixture(scope="module")
def page(db: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    text = write_report(db, tmp_path_factory.mktemp("out") / "report.html").read_text(encoding="utf-8")
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text).replace("<wbr>", "")


@pytest.fixture(scope="module")
def scenario(db: Path):
    with Store(db, read_only=True) as store:
        (sc,) = summarise_scenarios(store.runs(), store.path_costs())
    return sc


def _row(page: str, policy: str) -> str:
    return next(r for r in re.findall(r"<tr.*?</tr>", page, flags=re.S) if f">{policy}</span>" in r)


def test_tied_policies_are_marked_tied_not_best(page: str) -> None:
    assert page.count('<span class="badge">tied</span>') == 2
    assert '<span class="badge">best</span>' not in page
    assert '<span class="badge">tied</span>' in _row(page, "sS")
    assert "badge" not in _row(page, "hybrid-mpc:path=runs/b")
    assert "No single cheapest policy: <b>rl:path=runs/a</b>" in page
    assert "tied with <b>sS</b>" in page and "next: hybrid-mpc:path=runs/b" in page


def test_differences_are_as_precise_as_their_interval(page: str) -> None:
    # the paired difference is 0.0006 +- 0.00076: two significant digits of the half-width
    diff = estimate(TIED)
    assert round(diff.mean, 5) == 0.0006 and 0.0001 < (diff.high - diff.low) / 2 < 0.001
    row = _row(page, "sS")
    assert "+0.00060 (+0.00%)" in row and f"{diff.low:+.5f} … {diff.high:+.5f}" in row
    assert not re.search(r"\d\.\d{6,}", row), row  # no "+0.0005999"
    assert "+23.5 (+" in _row(page, "hybrid-mpc:path=runs/b")


def test_run_times_below_a_tenth_of_a_second_are_not_zero(page: str) -> None:
    assert "<td>0.013 s</td>" in _row(page, "rl:path=runs/a")
    assert "<td>2.5 s</td>" in _row(page, "sS")
    assert "<td>37 s</td>" in _row(page, "hybrid-mpc:path=runs/b")
    assert "0.0 s" not in page


def test_coinciding_points_are_drawn_side_by_side_and_say_so(scenario, page: str) -> None:
    from hybrid.report.plots import service_figure

    fig, shifted = service_figure(scenario)
    assert shifted == ["rl:path=runs/a", "sS"]
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["rl:path=runs/a (shifted: overlaps)", "sS (shifted: overlaps)",
                      "hybrid-mpc:path=runs/b"]
    markers = [line for line in ax.lines if line.get_marker() not in (None, "None", "", "|", "_")]
    data = [tuple(line.get_xydata()[0]) for line in markers]
    screen = [tuple(line.get_transform().transform(line.get_xydata())[0]) for line in markers]
    assert data[0] == pytest.approx(data[1], rel=1e-3)  # the data are untouched ...
    assert abs(screen[0][0] - screen[1][0]) > 5  # ... the markers sit apart on the page
    assert screen[2] == pytest.approx(tuple(ax.transData.transform(data[2])))
    assert "lie on the same point" in page


def test_each_learning_curve_has_its_own_axes(scenario, db: Path) -> None:
    from hybrid.report.plots import learning_figure

    with Store(db, read_only=True) as store:
        fig = learning_figure(scenario, store)
    rl, hybrid = fig.axes
    assert rl.get_title(loc="left") == "rl:path=runs/a"
    assert hybrid.get_title(loc="left") == "hybrid-mpc:path=runs/b"
    # the hybrid's two agent steps at 68 and 136 with training costs near 80 no longer sit at
    # "step 0" of the RL agent's 20k timesteps, nor stretch its cost axis
    assert rl.get_ylim()[1] < 34 and rl.get_xlim()[1] > 20000
    assert hybrid.get_xlim()[0] > 50 and hybrid.get_ylim()[1] > 84
    assert "held-out" in rl.get_ylabel() and "training episodes" in hybrid.get_ylabel()
    assert "epoch" in hybrid.get_xlabel()
