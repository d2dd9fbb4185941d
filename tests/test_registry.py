"""The policy registry: every family known to every command, help generated from it, layers imported lazily.

Issue 13: ``echelon simulate -p rolling-horizon`` answered "unknown policy" while
``echelon evaluate`` took it (names existed only after an import side effect),
the ``--policy`` help listed 7 of 11 names by hand, and ``simulate`` showed a
rebuild of the policy from its rounded description instead of the evaluated run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from scenarios.registry import FAMILIES, factory, policy_names

ROOT = Path(__file__).resolve().parents[1]
ENV = {"COLUMNS": "80"}
runner = CliRunner()
SIZES = ["--paths", "2", "--periods", "3", "--json"]

#: One cheap policy text per family on serial-3 (three nodes).
TEXTS = {
    "base-stock": "base-stock:S=7,6,11",
    "echelon-base-stock": "echelon-base-stock:S=6.49,12.03,22.72",
    "sS": "sS:s=5,5,9;S=7,6,11",
    "sQ": "sQ:s=5,5,9;Q=3,3,3",
    "capped-base-stock": "capped-base-stock:S=7,6,11;r=8,8,8",
    "rolling-horizon": "rolling-horizon:horizon=5",
    "milp-static": "milp-static",
    "rolling-horizon-ss": "rolling-horizon-ss:horizon=5,k=0.5",
}
#: Families that run a saved agent: accepted by name, refused for the missing agent.
AGENTS = ("rl", "hybrid-mpc", "hybrid-anchor")


def run(*args: str):
    return runner.invoke(app, list(args), env=ENV)


def test_every_family_has_a_case_here() -> None:
    assert sorted([*TEXTS, *AGENTS]) == sorted(policy_names())


@pytest.mark.parametrize("family", list(TEXTS))
def test_simulate_accepts_every_family_evaluate_accepts(family: str) -> None:
    evaluated = run("evaluate", "-s", "serial-3", "-p", TEXTS[family], *SIZES)
    assert evaluated.exit_code == 0, evaluated.output
    simulated = run("simulate", "-s", "serial-3", "-p", TEXTS[family], *SIZES)
    assert simulated.exit_code == 0, simulated.output
    (result,) = json.loads(evaluated.stdout)["results"]
    assert json.loads(simulated.stdout)["policy"] == result  # the same run: the same numbers


@pytest.mark.parametrize("family", AGENTS)
def test_agent_families_are_known_to_simulate_and_need_their_agent(family: str, tmp_path: Path) -> None:
    text = f"{family}:path={tmp_path / 'missing'}"
    lines = {}
    for command in ("simulate", "evaluate"):
        result = run(command, "-s", "serial-3", "-p", text, *SIZES)
        assert result.exit_code == 2, result.output
        lines[command] = result.stderr.strip().splitlines()
    assert lines["simulate"] == lines["evaluate"]
    (line,) = lines["simulate"]
    assert line.startswith("error: policy.path:") and "unknown policy" not in line, line


def test_simulate_knows_every_family_in_a_fresh_process() -> None:
    """The issue's command, in a process where nothing else has imported a layer first."""
    code = ("import sys\nfrom cli import app\n"
            "for text in sys.argv[1:]:\n"
            "    try:\n"
            "        app(['simulate', '-s', 'serial-3', '-p', text, '--paths', '2', '--periods', '3',\n"
            "             '--json'])\n"
            "    except SystemExit as done:\n"
            "        print('exit', done.code, file=sys.stderr)\n")
    texts = ["rolling-horizon:horizon=5", "hybrid-mpc:path=/nowhere"]
    proc = subprocess.run([sys.executable, "-c", code, *texts], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, env={"COLUMNS": "80", "PATH": ""})
    assert "unknown policy" not in proc.stderr, proc.stderr
    exits = [line for line in proc.stderr.splitlines() if line.startswith("exit")]
    assert exits == ["exit 0", "exit 2"], proc.stderr


def test_simulate_runs_a_saved_agent(agent: Path) -> None:
    result = run("simulate", "-s", "lost-sales-poisson", "-p", f"rl:path={agent}", "--path", "1", *SIZES)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["policy"]["family"] == "rl" and len(data["periods"]) == 3
    # the agent's name read back by the other agent families: accepted, then refused for its kind
    for family in ("hybrid-anchor", "hybrid-mpc"):
        refused = run("simulate", "-s", "lost-sales-poisson", "-p", f"{family}:path={agent}", *SIZES)
        assert refused.exit_code == 2 and refused.stderr.startswith("error: policy.path:"), refused.output


@pytest.mark.parametrize("text", ["sS", "rolling-horizon:horizon=5"])
def test_the_simulate_trace_is_the_evaluated_run(text: str) -> None:
    """The periods shown are the evaluated path's own costs, not a rebuild from rounded parameters."""
    from scenarios.evaluate import evaluate_policies

    result = run("simulate", "-s", "serial-3", "-p", text, "--paths", "3", "--periods", "4", "--path", "2",
                 "--seed", "5", "--json")
    assert result.exit_code == 0, result.output
    shown = [row["cost"] for row in json.loads(result.stdout)["periods"]]
    (evaluated,) = evaluate_policies("serial-3", [text], paths=3, periods=4, seed=5).results
    assert shown == evaluated.run.total_cost[2, evaluated.run.warmup:].tolist()


def _help_words(command: str) -> str:
    result = run(command, "--help")
    assert result.exit_code == 0, result.output
    return re.sub(r"-\s+", "-", " ".join(result.stdout.split()))  # undo wrapping, also at hyphens


@pytest.mark.parametrize("command", ["simulate", "evaluate"])
def test_policy_help_lists_every_family(command: str) -> None:
    words = _help_words(command)
    for name in policy_names():
        assert re.search(rf"[ ,;:]{re.escape(name)}[ ,;:.(\[]", words), (name, words)
    assert "{families}" not in words


@pytest.mark.parametrize("command", ["simulate", "evaluate"])
def test_policy_help_imports_no_heavy_package(command: str) -> None:
    """The list comes from the registry's table alone: no numpy, scipy or layer behind a --help."""
    code = ("import sys, cli\n"
            f"try:\n    cli.app([{command!r}, '--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = ('numpy', 'scipy', 'milp', 'rl', 'hybrid', 'torch', 'pyomo')\n"
            "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "rolling-horizon-ss" in proc.stdout and proc.stderr.strip().splitlines()[-1] == "[]", proc.stderr


def test_every_family_resolves_to_a_factory() -> None:
    for name in FAMILIES:
        assert callable(factory(name)), name


def test_classical_families_match_scenarios_policies() -> None:
    from scenarios.policies import FAMILIES as CLASSICAL

    assert [f for f in FAMILIES if FAMILIES[f].target.startswith("scenarios.")] == list(CLASSICAL)


def test_importing_scenarios_imports_no_layer() -> None:
    code = ("import sys, scenarios, scenarios.registry\n"
            "scenarios.registry.parse_policy('rolling-horizon:horizon=5')\n"
            "print(sorted(m for m in ('milp', 'rl', 'hybrid', 'pyomo', 'torch') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.stdout.strip() == "[]", proc.stderr


def test_no_layer_registers_policies_on_import() -> None:
    """Names live in the registry alone: no module calls a registration function when imported."""
    sources = [p for d in ("scenarios", "milp", "rl", "hybrid") for p in (ROOT / d).glob("*.py")]
    assert not [p for p in sources if "register_policy(" in p.read_text() or "register_all(" in p.read_text()]
