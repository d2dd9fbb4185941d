"""`echelon calibrate`: a scenario file and a fit table from the example history; bad files in one line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli import app
from scenarios.spec import load

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
runner = CliRunner()
ENV = {"COLUMNS": "200"}


def test_calibrate_writes_a_scenario_that_loads_and_a_plot(tmp_path: Path) -> None:
    out, plot = tmp_path / "cal.toml", tmp_path / "fit.png"
    result = runner.invoke(app, ["calibrate", str(EXAMPLES / "history.csv"), "--network",
                                 str(EXAMPLES / "network.toml"), "--receipts", str(EXAMPLES / "receipts.csv"),
                                 "--out", str(out), "--plot", str(plot)], env=ENV)
    assert result.exit_code == 0, result.output
    assert "store-1/milk" in result.output and "negative-binomial" in result.output
    spec = load(out)
    assert spec.name == "example-stores" and len(spec.demands) == 6
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_calibrate_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["calibrate", str(EXAMPLES / "history.csv"), "--out",
                                 str(tmp_path / "cal.toml"), "--json"], env=ENV)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["step_days"] == 1 and data["periods"] == 730
    milk = next(s for s in data["streams"] if (s["node"], s["sku"]) == ("store-1", "milk"))
    assert milk["season"]["period"] == 7 and set(milk["aic"]) == {"poisson", "negative-binomial", "normal"}


def test_a_bad_history_is_one_line_with_the_row_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,node,sku,demand\n" + "".join(f"2024-01-{d:02d},s,a,{-1 if d == 5 else 2}\n"
                                                      for d in range(1, 11)))
    result = runner.invoke(app, ["calibrate", str(bad), "--out", str(tmp_path / "x.toml")], env=ENV)
    assert result.exit_code == 2
    assert result.output.strip() == "error: bad.csv row 6, demand: must be a finite number >= 0, got '-1'"
    assert not (tmp_path / "x.toml").exists()


def test_shadow_reports_costs_and_drift(tmp_path: Path) -> None:
    scenario = tmp_path / "cal.toml"
    made = runner.invoke(app, ["calibrate", str(EXAMPLES / "history.csv"), "--network",
                               str(EXAMPLES / "network.toml"), "--out", str(scenario)], env=ENV)
    assert made.exit_code == 0, made.output
    args = ["shadow", "--history", str(EXAMPLES / "history.csv"), "--scenario", str(scenario),
            "--policy", "base-stock:S=300,60,90", "--receipts", str(EXAMPLES / "receipts.csv")]
    result = runner.invoke(app, [*args, "--json"], env=ENV)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [r["policy"] for r in data["results"]] == ["base-stock:S=300,60,90", "recorded"]
    # the scenario starts after the history it was fitted to: replayed as periods 0.., the season is off
    assert "store-1/milk" in data["drift"]["drifted"]
    table = runner.invoke(app, args, env=ENV)
    assert table.exit_code == 0 and "Drift against the scenario's processes" in table.output
    bad = runner.invoke(app, [*args[:-2], "--start-period", "-1"], env=ENV)
    assert bad.exit_code == 2 and bad.output.strip() == "error: start_period: must be >= 0, got -1"
