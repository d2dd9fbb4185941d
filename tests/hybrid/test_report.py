"""``echelon report``: one self-contained HTML page from a results store."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import app
from hybrid.report import write_report
from hybrid.report.estimates import pool
from hybrid.store import Store, run_key
from scenarios.kpis import estimate

runner = CliRunner()
PARTS = ("holding", "shortage", "ordering", "fixed", "revenue")
DATA_URI = re.compile(r'data:image/png;base64,[A-Za-z0-9+/=]+')


def _result(policy: str, costs: np.ndarray, fill: float, *, bound: float | None) -> dict:
    est = estimate(costs).to_dict()
    share = np.array([0.3, 0.3, 0.3, 0.2, 0.1])
    out = {"policy": policy, "family": policy.split(":")[0], "params": {"S": [10.0, 20.0]},
           "cost_per_period": est, "fill_rate": estimate(np.full(len(costs), fill)
                                                         + np.linspace(-0.01, 0.01, len(costs))).to_dict(),
           "cost_parts": {p: estimate(costs * s).to_dict() for p, s in zip(PARTS, share, strict=True)}}
    if bound is not None:
        out["gap_to_bound"] = {"absolute": estimate(costs - bound).to_dict(),
                               "relative": float(costs.mean() / bound - 1)}
    return out


def _fill(db: Path, scenario: str, policies: dict[str, float], seeds: list[int], *, bound: float | None,
          trajectories: bool, curves: str | None = None, paths: int = 30, path_costs: bool = True) -> None:
    """Store one run per policy and seed (with its cost per path unless ``path_costs`` is false)."""
    with Store(db) as store:
        for seed in seeds:
            rng = np.random.default_rng(seed)
            common = rng.normal(0, 5, paths)  # common random numbers: shared by every policy
            for policy, level in policies.items():
                costs = level + common + rng.normal(0, 1, paths)
                result = _result(policy, costs, 0.9 + level / 1e4, bound=bound)
                key = run_key(scenario, policy, seed, paths, 20)
                traj = None
                if trajectories:
                    traj = [{"path": 0, "period": t, "node": node, "sku": "a",
                             "on_hand": float(50 + 10 * np.sin(t / 3)), "backlog": 0.0,
                             "ordered": float(t % 4 == 0) * 30}
                            for t in range(24) for node in ("dc", "store")]
                curve = None
                if policy == curves:
                    curve = {"timesteps": [1000, 2000, 3000], "cost": [level * 1.3, level * 1.1, level],
                             "anchor_cost": [level * 1.05] * 3}
                store.add({"key": key, "scenario": scenario, "scenario_hash": scenario, "policy": policy,
                           "family": result["family"], "seed": seed, "paths": paths, "periods": 20,
                           "warmup": 4, "cost_mean": result["cost_per_period"]["mean"],
                           "cost_lo": result["cost_per_period"]["ci95"][0],
                           "cost_hi": result["cost_per_period"]["ci95"][1],
                           "fill_rate": result["fill_rate"]["mean"],
                           "bound_mean": bound, "gap_to_bound": (result.get("gap_to_bound") or {})
                           .get("relative"), "seconds": 1.5, "result": result,
                           "versions": {"echelon": "0.1.0"}}, traj, curve,
                          {"path": list(range(paths)), "cost": costs.tolist()} if path_costs else None)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "results.duckdb"
    _fill(path, "alpha", {"rolling-horizon:horizon=8": 90.0, "sS": 100.0, "rl:path=runs/x": 95.0},
          [0, 1], bound=60.0, trajectories=True, curves="rl:path=runs/x")
    _fill(path, "beta", {"sQ": 55.0, "base-stock": 50.0}, [3], bound=None, trajectories=False,
          path_costs=False)
    return path


@pytest.fixture(scope="module")
def page(db: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = write_report(db, tmp_path_factory.mktemp("out") / "sub" / "report.html", title="Test <page>")
    return out.read_text(encoding="utf-8")


def test_report_has_the_plots(page: str) -> None:
    # alpha: breakdown, service vs cost, gap, trajectories, learning curves; beta: the first two
    assert page.count('<img src="data:image/png;base64,') == 7
    assert "<svg" not in page


def test_report_has_the_tables_with_every_policy(page: str) -> None:
    tables = [t.replace("<wbr>", "") for t in re.findall(r"<table>.*?</table>", page, flags=re.S)]
    assert len(tables) == 2
    for name in ("sS", "rolling-horizon:horizon=8", "rl:path=runs/x"):
        assert f'<span class="policy">{name}</span>' in tables[0]
    for name in ("base-stock", "sQ"):
        assert f'<span class="policy">{name}</span>' in tables[1]
    assert "Test &lt;page&gt;" in page  # titles are escaped
    # alpha: costs per path stored, paired path by path; beta: not stored, one seed gives no interval
    assert tables[0].index("rolling-horizon:horizon=8") < tables[0].index("rl:path=runs/x")
    assert tables[0].count('title="paired over paths"') == 2
    assert 'title="one seed: no interval"' in tables[1]
    assert "gap to<br>hindsight bound" in tables[0] and "hindsight bound" not in tables[1]


def test_report_is_self_contained(page: str) -> None:
    text = DATA_URI.sub("", page)
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text, flags=re.I)
    assert not re.search(r"<(script|link|iframe)\b", text)
    assert all(src == "" for src in re.findall(r'src="([^"]*)"', text))


def test_missing_parts_read_as_sentences(page: str) -> None:
    beta = page[page.index('<h2>beta</h2>'):]
    assert "No hindsight bound was computed" in beta
    assert "No trajectories stored" in beta
    assert "Learning curves" not in beta
    assert "Learning curves" in page[:page.index('<h2>beta</h2>')]


def test_pooling_seeds_is_pooling_paths() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.normal(10, 2, 40), rng.normal(11, 3, 25)
    pooled = pool([(e.mean, [e.low, e.high], e.n) for e in (estimate(a), estimate(b))])
    whole = estimate(np.concatenate([a, b]))
    assert pooled.n == whole.n
    assert pooled.mean == pytest.approx(whole.mean)
    assert (pooled.low, pooled.high) == pytest.approx((whole.low, whole.high))


def test_cli_writes_the_report(tmp_path: Path) -> None:
    db, out = tmp_path / "one.duckdb", tmp_path / "r.html"
    _fill(db, "gamma", {"sS": 10.0}, [0], bound=None, trajectories=False, paths=5)
    result = runner.invoke(app, ["report", str(db), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["report"] == str(out) and out.stat().st_size == info["bytes"] > 0


@pytest.mark.parametrize("kind", ["missing", "not-duckdb", "empty"])
def test_cli_bad_database_is_one_line_and_exit_2(kind: str, tmp_path: Path) -> None:
    db = tmp_path / "results.duckdb"
    if kind == "not-duckdb":
        db.write_text("not a database\n")
    elif kind == "empty":
        Store(db).close()
    result = runner.invoke(app, ["report", str(db), "--out", str(tmp_path / "r.html")],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: DB:"), result.output
    assert not (tmp_path / "r.html").exists()


def test_cli_database_being_written_is_one_line_and_exit_2(tmp_path: Path) -> None:
    db = tmp_path / "results.duckdb"
    Store(db).close()
    code = (f"import duckdb, sys; con = duckdb.connect({str(db)!r}); print('open', flush=True); "
            "sys.stdin.read()")
    writer = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert writer.stdout.readline().strip() == "open"
        result = runner.invoke(app, ["report", str(db), "--out", str(tmp_path / "r.html")],
                               env={"COLUMNS": "200"})
    finally:
        writer.communicate("")
    assert result.exit_code == 2
    assert "open for writing in another process" in result.output


def test_runs_with_only_the_required_columns(tmp_path: Path) -> None:
    db = tmp_path / "bare.duckdb"
    with Store(db) as store:
        base = {"scenario": "x", "scenario_hash": "h", "seed": 0, "paths": 1, "periods": 5}
        store.add({**base, "key": "a", "policy": "p1", "cost_mean": 3.0})
        store.add({**base, "key": "b", "policy": "p2"})  # no KPI at all
    page = write_report(db, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "No cost parts stored." in page and "No fill rate stored." in page
    assert "No hindsight bound was computed" in page


def test_paired_difference_is_path_by_path_over_every_seed(db: Path) -> None:
    from hybrid.report.reading import summarise_scenarios

    with Store(db, read_only=True) as store:
        runs, per_path = store.runs(), store.path_costs()
        alpha = next(sc for sc in summarise_scenarios(runs, per_path) if sc.name == "alpha")
    best, sS = alpha.best, next(p for p in alpha.policies if p.name == "sS")
    diffs = np.concatenate([np.subtract(per_path[a["key"]], per_path[b["key"]])
                            for a in sorted(sS.runs, key=lambda r: r["seed"])
                            for b in best.runs if b["seed"] == a["seed"]])
    expected = estimate(diffs)
    assert len(diffs) == 60 and sS.diff_note == "paired over paths"
    assert sS.diff.mean == pytest.approx(expected.mean)
    assert (sS.diff.low, sS.diff.high) == pytest.approx((expected.low, expected.high))
