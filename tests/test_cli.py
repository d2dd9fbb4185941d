"""The ``echelon`` command line, driven in-process with typer's CliRunner (fastapi-cli style)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from scenarios import builtin
from scenarios.spec import Spec

ROOT = Path(__file__).resolve().parents[1]
BUILTINS = ["serial-3", "lost-sales-poisson", "divergent-1w3r", "seasonal-grocery",
            "perishable-pharma", "retail-network"]
OPTIMAL = "echelon-base-stock:S=6.49,12.03,22.72"  # Snyder & Shen Example 6.1
CONTRACT = ["evaluate", "--scenario", "serial-3", "--policy", OPTIMAL, "--paths", "2000",
            "--periods", "300", "--json"]
# Rich wraps at COLUMNS (80 when output is not a terminal); pin it so error
# lines are checked as a log file or CI job would see them.
ENV = {"COLUMNS": "80"}

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), env=ENV)


def run_json(*args: str) -> dict:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # the whole of stdout is one JSON object


# A one-node scenario with a negative holding cost.
NEGATIVE_COST = """\
name = "bad-cost"

[[nodes]]
id = "store"
holding_cost = -1.0

[[arcs]]
supplier = "external"
customer = "store"
lead_time = 1

[[demands]]
node = "store"
sku = "item"
process = { kind = "poisson", mean = 5.0 }
shortage_cost = 9.0
"""

# Node B orders from A and from outside: not a tree.
NON_TREE = """\
name = "diamond"

[[nodes]]
id = "A"
holding_cost = 1.0

[[nodes]]
id = "B"
holding_cost = 2.0

[[arcs]]
supplier = "external"
customer = "A"
lead_time = 1

[[arcs]]
supplier = "A"
customer = "B"
lead_time = 1
split = 0.5

[[arcs]]
supplier = "external"
customer = "B"
lead_time = 2
split = 0.5

[[demands]]
node = "B"
sku = "item"
process = { kind = "poisson", mean = 5.0 }
shortage_cost = 9.0
"""


@pytest.fixture
def negative_cost_file(tmp_path: Path) -> str:
    path = tmp_path / "bad-cost.toml"
    path.write_text(NEGATIVE_COST)
    return str(path)


@pytest.fixture
def non_tree_file(tmp_path: Path) -> str:
    path = tmp_path / "diamond.toml"
    path.write_text(NON_TREE)
    return str(path)


# ------------------------------------------------------------------ scenarios
def test_scenarios_list_json() -> None:
    out = run_json("scenarios", "list", "--json")
    assert [row["name"] for row in out["scenarios"]] == builtin.names()
    assert set(BUILTINS) <= set(builtin.names())
    serial = out["scenarios"][0]
    assert serial["nodes"] == 3
    assert serial["timing"] == "demand-first"
    assert serial["known_optimum"] == 47.67


def test_scenarios_list_table() -> None:
    # A wide console: at 80 columns rich folds the name column.
    result = runner.invoke(app, ["scenarios", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in BUILTINS:
        assert name in result.stdout


def test_scenarios_show_prints_toml_that_loads_back() -> None:
    result = run("scenarios", "show", "serial-3")
    assert result.exit_code == 0, result.output
    spec = Spec.from_dict(tomllib.loads(result.stdout))
    assert spec == builtin.get("serial-3")


def test_scenarios_show_a_file(non_tree_file: str) -> None:
    result = run("scenarios", "show", non_tree_file)
    assert result.exit_code == 0, result.output
    assert Spec.from_dict(tomllib.loads(result.stdout)).name == "diamond"


# ------------------------------------------------------------------- contract
@pytest.fixture(scope="module")
def contract_seed_1() -> str:
    result = runner.invoke(app, [*CONTRACT, "--seed", "1"], env=ENV)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_evaluate_contract(contract_seed_1: str) -> None:
    out = json.loads(contract_seed_1)
    assert out["scenario"] == "serial-3"
    assert out["paths"] == 2000
    assert out["periods"] == 300
    assert len(out["results"]) == 1
    r = out["results"][0]
    assert r["policy"] == OPTIMAL
    assert r["params"] == {"S": [6.49, 12.03, 22.72]}
    cost = r["cost_per_period"]
    assert set(cost) >= {"mean", "ci95"}
    low, high = cost["ci95"]
    assert low < cost["mean"] < high
    assert high - low < 0.5  # 2000 paths x 300 periods pin the mean down
    # The simulator reproduces the published optimum (Snyder & Shen, Example 6.1).
    assert cost["mean"] == pytest.approx(47.67, rel=0.01)
    fill = r["fill_rate"]
    assert 0.9 < fill["mean"] < 1.0
    assert fill["ci95"][0] <= fill["mean"] <= fill["ci95"][1]
    assert r["gap_to_optimum"] == pytest.approx(cost["mean"] / 47.67 - 1)


def test_evaluate_same_seed_same_json(contract_seed_1: str) -> None:
    result = run(*CONTRACT, "--seed", "1")
    assert result.exit_code == 0, result.output
    again, first = json.loads(result.stdout), json.loads(contract_seed_1)
    assert again.pop("seconds").keys() == first.pop("seconds").keys()  # wall times, kept apart
    assert again == first


def test_evaluate_other_seed_other_mean(contract_seed_1: str) -> None:
    other = run_json(*CONTRACT, "--seed", "2")
    first = json.loads(contract_seed_1)
    assert other["seed"] == 2
    mean_1 = first["results"][0]["cost_per_period"]["mean"]
    mean_2 = other["results"][0]["cost_per_period"]["mean"]
    assert mean_1 != mean_2
    assert mean_2 == pytest.approx(47.67, rel=0.01)


def test_evaluate_tunes_a_bare_policy_name() -> None:
    out = run_json("evaluate", "-s", "lost-sales-poisson", "-p", "base-stock", "--paths", "200",
                   "--periods", "200", "--train-paths", "50", "--json")
    r = out["results"][0]
    assert r["policy"] == "base-stock"
    assert list(r["params"]) == ["S"]
    assert len(r["params"]["S"]) == 1
    assert "gap_to_optimum" in r
    assert r["gap_to_optimum"] == pytest.approx(r["cost_per_period"]["mean"] / 6.0936 - 1)
    assert "tuning" in r


def test_evaluate_two_policies_reports_paired_difference() -> None:
    out = run_json("evaluate", "-s", "serial-3", "-p", OPTIMAL,
                   "-p", "base-stock:S=6.49,5.54,10.69",
                   "--paths", "50", "--periods", "50", "--json")
    assert [r["policy"] for r in out["results"]] == [OPTIMAL, "base-stock:S=6.49,5.54,10.69"]
    assert "difference_vs_first" not in out["results"][0]
    assert "difference_vs_first" in out["results"][1]


# ------------------------------------------------------------------- simulate
def test_simulate_json_rows() -> None:
    out = run_json("simulate", "-s", "serial-3", "-p", OPTIMAL, "--paths", "20", "--periods", "30",
                   "--json")
    rows = out["periods"]
    assert [row["period"] for row in rows] == list(range(30))
    for row in rows:
        assert set(row) >= {"period", "stock", "orders", "demand", "cost"}
        assert len(row["stock"]) == 3  # one per node
        assert len(row["orders"]) == 3  # one per arc
        assert row["demand"] >= 0
        assert row["cost"] >= 0
    assert out["policy"]["params"] == {"S": [6.49, 12.03, 22.72]}


def test_simulate_table() -> None:
    result = run("simulate", "-s", "serial-3", "-p", OPTIMAL, "--paths", "5", "--periods", "10")
    assert result.exit_code == 0, result.output
    assert "serial-3" in result.stdout


# ----------------------------------------------------------------- bad input
def assert_one_clear_line(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Traceback" not in result.output
    assert result.stdout == ""  # errors go to stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got {lines}"
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"


def test_unknown_scenario() -> None:
    assert_one_clear_line(run("evaluate", "-s", "no-such-scenario", "-p", "base-stock"),
                          "no-such-scenario", "serial-3")


def test_negative_cost_file(negative_cost_file: str) -> None:
    assert_one_clear_line(run("evaluate", "-s", negative_cost_file, "-p", "base-stock:S=10"),
                          "nodes[0].holding_cost")


def test_wrong_number_of_policy_values() -> None:
    assert_one_clear_line(run("evaluate", "-s", "serial-3", "-p", "base-stock:S=1,2"),
                          "policy.S", "needs 3 values", "got 2")


def test_unknown_policy() -> None:
    assert_one_clear_line(run("evaluate", "-s", "serial-3", "-p", "newsvendor"),
                          "unknown policy", "newsvendor")


def test_echelon_policy_on_non_tree_file(non_tree_file: str) -> None:
    assert_one_clear_line(run("evaluate", "-s", non_tree_file, "-p", "echelon-base-stock:S=10,20"),
                          "echelon-base-stock", "'B'")


def test_tuned_echelon_policy_on_non_tree_file(non_tree_file: str) -> None:
    # --json keeps the "tuning ..." progress line off stderr; only the error remains.
    assert_one_clear_line(run("evaluate", "-s", non_tree_file, "-p", "echelon-base-stock",
                              "--paths", "10", "--periods", "10", "--train-paths", "5", "--json"),
                          "echelon-base-stock", "'B'")


def test_base_stock_on_non_tree_file_works(non_tree_file: str) -> None:
    out = run_json("evaluate", "-s", non_tree_file, "-p", "base-stock:S=10,20", "--paths", "20",
                   "--periods", "20", "--json")
    assert out["results"][0]["cost_per_period"]["mean"] > 0


@pytest.mark.parametrize("option", ["--paths", "--periods", "--train-paths"])
def test_non_positive_counts(option: str) -> None:
    assert_one_clear_line(run("evaluate", "-s", "serial-3", "-p", "base-stock", option, "0"),
                          option)


def test_simulate_bad_policy() -> None:
    assert_one_clear_line(run("simulate", "-s", "serial-3", "-p", "sS:3,4"), "policy")


def test_show_unknown_scenario() -> None:
    assert_one_clear_line(run("scenarios", "show", "no-such-scenario"), "no-such-scenario")


def test_bad_input_in_a_real_process() -> None:
    """Outside CliRunner too: exit code 2, one line on stderr, no traceback."""
    proc = subprocess.run(
        [sys.executable, "-c", "import cli; cli.app()", "evaluate", "-s", "serial-3", "-p",
         "base-stock:S=1,x"],
        capture_output=True, text=True, cwd=ROOT, env={"COLUMNS": "80", "PATH": ""}, timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == ["error: policy.S: 'x' is not a number"]


# ------------------------------------------------------------------------ help
def test_help() -> None:
    result = run("--help")
    assert result.exit_code == 0, result.output
    for command in ("evaluate", "simulate", "scenarios", "demo"):
        assert command in result.stdout


@pytest.mark.parametrize("command", [["evaluate"], ["simulate"], ["scenarios", "list"]])
def test_command_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage" in result.stdout


def test_help_does_not_import_heavy_packages() -> None:
    code = ("import sys, cli\n"
            "try:\n    cli.app(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = ('numpy', 'scipy', 'scenarios', 'torch', 'pyomo')\n"
            "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    assert proc.stderr.strip().splitlines()[-1] == "[]", proc.stderr


# -------------------------------------------------------------------- tune
def test_tune_trains_then_compares_on_fresh_paths(tmp_path):
    out = tmp_path / "agent"
    data = run_json("tune", "-s", "lost-sales-poisson", "--timesteps", "512", "--paths", "20",
                    "--out", str(out), "--json")
    assert data["model_path"] == str(out / "model.zip") and (out / "model.zip").exists()
    assert data["timesteps"] >= 512 and data["train_time_s"] > 0
    labels = [r["policy"] for r in data["results"]]
    assert labels[0] == f"rl:path={out}" and labels[1].startswith("anchor")
    assert {"base-stock", "sS", "capped-base-stock"} <= set(labels)
    for r in data["results"]:
        cost = r["cost_per_period"]
        assert cost["ci95"][0] <= cost["mean"] <= cost["ci95"][1]


@pytest.mark.parametrize(("option", "value", "field"),
                         [("--algo", "bogus", "--algo"), ("--env", "nope", "--env")])
def test_tune_bad_option_is_one_line(tmp_path, option, value, field):
    result = run("tune", "-s", "serial-3", option, value, "--timesteps", "10", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.strip().startswith(f"error: {field}:") and "Traceback" not in result.output


# ------------------------------------------------------------------- solve
def test_solve_static_serial_3_levels_within_1_percent():
    data = run_json("solve", "-s", "serial-3", "--method", "static", "--json")
    assert data["method"] == "static" and len(data["levels"]) == 3
    assert abs(data["cost_per_period"]["mean"] / 47.67 - 1) < 0.01, data["cost_per_period"]
    assert data["solve_time_s"]["median"] > 0 and data["status"]


def test_solve_rolling_reports_every_solve():
    data = run_json("solve", "-s", "lost-sales-poisson", "--method", "rolling", "--horizon", "4",
                    "--paths", "2", "--periods", "10", "--json")
    assert data["solves"] == 2 * (10 + 50)  # one solve per path and period, warm-up included
    assert data["status"] == "optimal"
    assert 0 < data["solve_time_s"]["median"] <= data["solve_time_s"]["max"]
    assert data["cost_per_period"]["mean"] > 0


@pytest.mark.parametrize("scenario", ["divergent-1w3r", "seasonal-grocery", "perishable-pharma"])
def test_solve_hindsight_same_bound_with_pulp_and_pyomo(scenario):
    # seasonal-grocery: fixed order costs (setup binaries); perishable-pharma: random lead
    # times per shipment, disruptions and path cost scales -- both backends see all of them
    args = ("solve", "-s", scenario, "--method", "hindsight", "--paths", "2", "--periods", "8",
            "--gap", "0", "--json")
    pyomo = run_json(*args)["cost_per_period"]["mean"]
    pulp = run_json(*args, "--backend", "pulp")["cost_per_period"]["mean"]
    assert pyomo == pytest.approx(pulp, rel=1e-6)


@pytest.mark.parametrize(("args", "field"), [(("--method", "magic"), "--method"),
                                             (("--backend", "gurobi"), "--backend"),
                                             (("--gap", "2"), "--gap")])
def test_solve_bad_option_is_one_line(args, field):
    result = run("solve", "-s", "serial-3", *args)
    assert result.exit_code == 2
    assert result.stderr.strip().startswith(f"error: {field}:") and "Traceback" not in result.output


def test_evaluate_bound_reports_a_nonnegative_gap_for_every_policy():
    data = run_json("evaluate", "-s", "lost-sales-poisson", "-p", "base-stock:S=19", "-p",
                    "capped-base-stock:S=19;r=6", "--paths", "4", "--periods", "20", "--bound", "--json")
    for r in data["results"]:
        gap = r["gap_to_bound"]
        assert gap["absolute"]["mean"] >= 0 and gap["relative"] >= 0  # the bound is below the cost


def test_milp_policies_are_known_to_evaluate():
    data = run_json("evaluate", "-s", "serial-3", "-p", "milp-static", "-p",
                    "rolling-horizon:horizon=5", "--paths", "3", "--periods", "10", "--train-paths", "50",
                    "--json")
    static, rolling = data["results"]
    assert static["family"] == "milp-static" and len(static["params"]["S"]) == 3
    assert rolling["policy"] == "rolling-horizon:horizon=5" and rolling["cost_per_period"]["mean"] > 0


@pytest.mark.parametrize("args, field", [(("--env", "hybrid-x"), "--env"),
                                         (("--env", "hybrid-mpc", "--algo", "sac"), "--algo")])
def test_tune_rejects_bad_hybrid_options(args, field):
    result = run("tune", "-s", "serial-3", *args)
    assert result.exit_code == 2 and result.stderr.strip().startswith(f"error: {field}:")
