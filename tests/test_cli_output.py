"""What the ``echelon`` commands print: help texts, tables at narrow widths, notices, tidy JSON."""

from __future__ import annotations

import io
import json
import re

import pytest
from typer.testing import CliRunner

from cli import app

runner = CliRunner()


def run(*args: str, columns: int = 80):
    return runner.invoke(app, list(args), env={"COLUMNS": str(columns)})


def _help(*command: str) -> str:
    result = run(*command, "--help", columns=100)
    assert result.exit_code == 0, result.output
    return result.stdout


def _entry(help_text: str, option: str) -> str:
    """The help of one option, joined into one line (help wraps at any word)."""
    entries = re.split(r"\n(?=  (?:-\w, )?--[a-z])", help_text)  # continuation lines indent more
    mine = [e for e in entries if re.match(rf"\s+(?:-\w, )?{option}\b", e)]
    assert len(mine) == 1, help_text
    return " ".join(mine[0].split())


# ------------------------------------------------------------------------ help
@pytest.mark.parametrize(("command", "option", "default"), [
    (["simulate"], "--periods", "the scenario's horizon"),
    (["simulate"], "--paths", "100"),
    (["evaluate"], "--periods", "the scenario's horizon"),
    (["evaluate"], "--reference", "the first"),
    (["batch"], "--workers", "the machine's cores"),
    (["batch"], "--address", "start Ray on this machine"),
    (["tune"], "--timesteps", "200000"),
    (["tune"], "--out", "runs/SCENARIO-ALGO-ENV-seedK"),
    (["solve"], "--paths", "20; static: 2000"),
    (["solve"], "--periods", "the scenario's horizon"),
    (["demo"], "--periods", "52"),
    (["report"], "--title", "from the file name"),
])
def test_help_shows_each_default_once(command, option, default):
    entry = _entry(_help(*command), option)
    assert entry.count("[default:") == 1, entry
    assert default in entry.split("[default:")[1], entry


def test_help_keeps_square_brackets_in_texts():
    assert "pip install -e '.[ray]'" in _entry(_help("batch"), "--backend")


# ---------------------------------------------------------------------- tables
def _first_column(output: str) -> str:
    """The first column of a rich table, its folded lines joined back together."""
    return "".join(line.split("│")[1].strip() for line in output.splitlines() if line.startswith("│"))


@pytest.mark.parametrize("columns", [80, 60])
def test_scenarios_list_shows_every_name_whole(columns):
    from scenarios import builtin

    result = run("scenarios", "list", columns=columns)
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    shown = [line.split("│")[1].strip() for line in result.stdout.splitlines() if line.startswith("│")]
    assert shown == builtin.names()
    assert max(len(line) for line in result.stdout.splitlines()) <= columns


LONG = ["capped-base-stock:S=6.4912345,12.0312345,22.7212345;r=100.5,100.25,100.125",
        "echelon-base-stock:S=6.4900001,12.0300001,22.7200001"]


@pytest.mark.parametrize("columns", [80, 60, 120])
def test_kpi_table_shows_labels_and_parameters_whole(columns):
    result = run("evaluate", "-s", "serial-3", *(a for p in LONG for a in ("-p", p)), "--paths", "4",
                 "--periods", "5", columns=columns)
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= columns
    policy = _first_column(result.stdout)
    for text in LONG:
        assert text in policy
    assert "S=6.491,12.03,22.72;r=100.5,100.2,100.1" in policy.replace(" ", "")  # parameters, 4 digits


# ------------------------------------------------------------ silent surprises
@pytest.mark.parametrize(("args", "message"), [
    (["tune", "-s", "serial-3", "--timesteps", "0"], "error: --timesteps: must be >= 1, got 0"),
    (["tune", "-s", "serial-3", "--eval-seed", "-1"], "error: --eval-seed: must be >= 0, got -1"),
    (["tune", "-s", "serial-3", "--seed", "-1"], "error: --seed: must be >= 0, got -1"),
    (["tune", "-s", "serial-3", "--algo", "dqn"], "error: --algo: must be ppo, sac or a2c, got 'dqn'"),
    (["simulate", "-s", "serial-3", "-p", "base-stock:S=6,12,22", "--show", "-3"],
     "error: --show: must be >= 0, got -3"),
    (["evaluate", "-s", "serial-3", "-p", "rolling-horizon:horizon=4,5", "--paths", "2"],
     "error: policy.horizon: takes one value, got 2: 4,5"),
])
def test_bad_option_is_refused_before_any_work(args, message, tmp_path):
    result = runner.invoke(app, [*args, *(["--out", str(tmp_path / "agent")] if args[0] == "tune" else [])],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines()[-1] == message  # after "… preparing" lines, if any
    assert "Traceback" not in result.output
    assert not (tmp_path / "agent").exists()  # nothing trained


# ------------------------------------------------------------------------ json
def test_same_seed_same_json_results_and_timings_kept_apart():
    args = ("evaluate", "-s", "serial-3", "-p", "base-stock", "-p", "sS:s=4,8,16;S=6,12,22", "--paths", "4",
            "--periods", "5", "--train-paths", "8", "--json")
    first, second = (json.loads(run(*args).stdout) for _ in range(2))
    assert first["results"][0]["tuning"]["evaluations"] > 0  # tuned, and its tuning time ...
    assert first["results"] == second["results"]  # ... is not part of the results
    assert set(first["seconds"]) == {"base-stock", "sS:s=4,8,16;S=6,12,22"}
    assert min(first["seconds"].values()) > 0
    del first["seconds"], second["seconds"]
    assert first == second


# ----------------------------------------------------------------------- solve
def test_solve_table_has_labels_units_and_percentages():
    from hybrid.console import solve_rows as _solve_rows

    static = {"scenario": "serial-3", "method": "static", "paths": 50, "seed": 0, "status": "optimal",
              "family": "echelon-base-stock", "levels": [6.45, 12.07, 22.7], "objective": 47.65,
              "exact": True, "cost_per_period": {"mean": 47.85, "ci95": [47.53, 48.16]},
              "fill_rate": {"mean": 0.9752, "ci95": [0.9732, 0.9772]},
              "solve_time_s": {"median": 2.75, "max": 2.75}, "gap": None, "train_paths": 20,
              "wall_time_s": 3.69, "gap_to_optimum": 0.003728}
    rows = dict(_solve_rows(static, 47.67))
    assert rows["program"].startswith("exact") and rows["levels per node"] == "6.45, 12.07, 22.7"
    assert rows["fill rate"] == "97.52%  (95% CI 97.32% – 97.72%)"
    assert rows["gap to known optimum"] == "+0.37% (optimum 47.67 per period)"
    assert rows["time per solve"] == "2.75 s" and rows["wall time"] == "3.7 s"
    assert "gap" not in rows and "None" not in str(rows) and "True" not in str(rows)
    rolling = {"method": "rolling", "gap": {"median": 0.0, "max": 0.0083}, "solves": 1200,
               "solve_time_s": {"median": 0.0071, "max": 0.0319}, "horizon": 13, "safety": 0.0}
    rows = dict(_solve_rows(rolling, None))
    assert rows["MIP gap reached"] == "median 0.00%, max 0.83%" and rows["solves"] == "1,200"
    assert rows["time per solve"] == "median 0.0071 s, max 0.0319 s" and rows["horizon"] == "13 periods"
    unreported = dict(_solve_rows({"method": "rolling", "gap": {"median": None, "max": None}}, None))
    assert unreported["MIP gap reached"] == "not reported by the solver"


def test_solve_prints_the_readable_table():
    result = run("solve", "-s", "serial-3", "--method", "hindsight", "--paths", "2", "--periods", "8")
    assert result.exit_code == 0, result.output
    assert "hindsight bound per period" in result.stdout and "MIP gap tolerance" in result.stdout
    assert "1.00%" in result.stdout
    for raw in ("cost_per_period", "wall_time_s", "objective", "None"):
        assert raw not in result.stdout


def test_fitting_table_prints_brackets_as_text():
    from rich.console import Console

    from hybrid.console import fitting_table as _fitting_table

    console = Console(width=60, record=True, file=io.StringIO())
    console.print(_fitting_table(console, "runs/[best]", [{"name": "grid[2]", "n": "1"}], key="name"))
    text = console.export_text()
    assert "runs/[best]" in text and "grid[2]" in text


def test_command_summaries_are_whole():
    result = run("--help")
    assert result.exit_code == 0
    assert "..." not in result.stdout.split("Commands:")[1]
    assert "with the KPIs over all paths." in " ".join(result.stdout.split())
