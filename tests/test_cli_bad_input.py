"""Bad input through the ``echelon`` command line: one line on stderr, exit code 2, never a traceback.

The cases are the ones issue 12 found ending in a Python traceback, growing to
gigabytes, losing the bracketed part of a message, or drawing typer's error box.
Every bad file is built in ``tmp_path``. ``ECHELON_MEMORY_LIMIT`` is pinned so
that the size cases are refused on any machine, whatever its memory.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cli import app
from scenarios import builtin
from scenarios.spec import dumps

# Rich wraps at COLUMNS; 80 is what a log file or CI job sees.
ENV = {"COLUMNS": "80", "ECHELON_MEMORY_LIMIT": "2G"}
runner = CliRunner()
SERIAL = "base-stock:S=7,6,11"


def scenario_file(tmp_path: Path, old: str, new: str, name: str = "bad.toml") -> str:
    """serial-3 as TOML with ``old`` replaced by ``new`` (``old`` must occur)."""
    text = dumps(builtin.get("serial-3"))
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1))
    return str(path)


def unwritable_dir(tmp_path: Path) -> Path:
    """A directory nothing can be written in: read-only by mode, or, for root (whom modes do not
    stop), a path below a regular file."""
    if os.geteuid() == 0:
        blocker = tmp_path / "a-file"
        blocker.write_text("")
        return blocker / "out"
    target = tmp_path / "read-only"
    target.mkdir()
    target.chmod(0o500)
    return target


def copy_agent(agent: Path, tmp_path: Path, how: str) -> str:
    """A copy of ``agent``: intact, its model.zip cut to half or emptied, and/or its metadata a hybrid's."""
    copy = tmp_path / how
    shutil.copytree(agent, copy)
    model = copy / "model.zip"
    if "truncated" in how:
        model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    if "empty" in how:
        model.write_bytes(b"")
    if "hybrid" in how:  # what hybrid.training.train_hybrid writes for a hybrid-mpc agent
        meta = json.loads((copy / "metadata.json").read_text())
        meta.update(env="mpc", deploy={"horizon": 4, "mip_gap": 0.01},
                    env_options={"base": [[0.0]], "residual_scale": 2.0, "epoch": 13, "horizon": 6,
                                 "mip_gap": 0.05, "time_limit": 2.0, "periods": 10, "warmup": 50,
                                 "window": 13, "relative_reward": False})
        (copy / "metadata.json").write_text(json.dumps(meta))
    return str(copy)


@pytest.fixture(scope="module")
def results_db(tmp_path_factory) -> Path:
    """A results database with one run, stored as `echelon batch` and the demo store them."""
    from hybrid.batch import record
    from hybrid.store import Store, run_key
    from scenarios.evaluate import evaluate_policies

    spec = builtin.get("serial-3")
    db = tmp_path_factory.mktemp("db") / "results.duckdb"
    evaluation = evaluate_policies(spec, [SERIAL], paths=3, periods=5, seed=0)
    (result,) = evaluation.results
    with Store(db) as store:
        store.add(**record(run_key(spec.hash, SERIAL, 0, 3, 5), spec.name, spec, SERIAL, result.policy,
                           result, evaluation.test, 0, result.seconds))
    return db


def other_schema_db(tmp_path: Path) -> str:
    """A DuckDB file with a ``runs`` table of another program."""
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE runs (name VARCHAR, score DOUBLE)")
    con.execute("INSERT INTO runs VALUES ('a', 1.0)")
    con.close()
    return str(path)


def existing_file(tmp_path: Path) -> str:
    path = tmp_path / "taken.txt"
    path.write_text("keep me")
    return str(path)


def simulate(scenario: str, *extra: str) -> list[str]:
    return ["simulate", "-s", scenario, "-p", SERIAL, "--json", *extra]


def evaluate_agent(path: str) -> list[str]:
    return ["evaluate", "-s", "lost-sales-poisson", "--paths", "3", "--json", "-p", f"rl:path={path}"]


def tune(out: str) -> list[str]:
    return ["tune", "-s", "lost-sales-poisson", "--timesteps", "64", "--paths", "5", "--json", "--out", out]


# (id, the arguments from tmp_path and a fixture getter, words the error line must contain)
CASES = [
    # issue 12, item 3: tracebacks
    ("horizon-1e20", lambda t, f: simulate(scenario_file(t, "horizon = 300", f"horizon = {10**20}"),
                                           "--paths", "5"), ["horizon", "1e+12"]),
    ("mean-1e308", lambda t, f: simulate(scenario_file(t, "mean = 5.0", "mean = 1e308"), "--paths", "5"),
     ["demands[0].process.mean", "1e+308"]),
    ("lead-time-1e9", lambda t, f: simulate(scenario_file(t, "value = 2", "value = 1000000000"),
                                            "--paths", "5", "--periods", "10"),
     ["arcs[2].lead_time", "GB", "ECHELON_MEMORY_LIMIT"]),
    ("scenario-is-a-directory", lambda t, f: simulate(str(t)), ["scenario", "directory"]),
    ("truncated-model-zip", lambda t, f: evaluate_agent(copy_agent(f("agent"), t, "truncated")),
     ["policy.path", "model.zip"]),
    ("empty-model-zip", lambda t, f: evaluate_agent(copy_agent(f("agent"), t, "empty")),
     ["policy.path", "model.zip"]),
    ("hybrid-mpc-truncated-model-zip", lambda t, f: [
        "evaluate", "-s", "lost-sales-poisson", "--json",
        "-p", "hybrid-mpc:path=" + copy_agent(f("agent"), t, "hybrid-truncated")],
     ["policy.path", "model.zip"]),
    ("rl-path-at-a-hybrid-agent", lambda t, f: evaluate_agent(copy_agent(f("agent"), t, "hybrid")),
     ["policy.path", "hybrid-mpc:path="]),
    ("tune-out-is-a-file", lambda t, f: tune(existing_file(t)), ["--out", "is a file"]),
    ("demo-out-is-a-file", lambda t, f: ["demo", "--out", existing_file(t), "--paths", "5", "--periods", "5"],
     ["out", "is a file"]),
    ("demo-out-unwritable", lambda t, f: ["demo", "--out", str(unwritable_dir(t)), "--paths", "5",
                                          "--periods", "5"], ["out", "cannot write"]),
    ("report-out-unwritable", lambda t, f: ["report", str(f("results_db")),
                                            "--out", str(unwritable_dir(t) / "report.html")],
     ["out", "cannot write"]),
    ("report-other-schema", lambda t, f: ["report", other_schema_db(t), "--out", str(t / "r.html")],
     ["other.duckdb", "no column"]),
    ("report-out-is-a-directory", lambda t, f: ["report", str(f("results_db")), "--out", str(t)],
     ["out", "is a directory"]),
    ("paths-1e8-periods-1e5", lambda t, f: simulate("serial-3", "--paths", "100000000",
                                                    "--periods", "100000"), ["paths × periods", "TB"]),
    # item 7: silent surprises
    ("tune-out-holds-an-agent", lambda t, f: tune(copy_agent(f("agent"), t, "intact")),
     ["--out", "--overwrite"]),
    ("initial-inventory-1e300", lambda t, f: simulate(
        scenario_file(t, "initial_inventory = 6.49", "initial_inventory = 1e300"), "--paths", "5"),
     ["nodes[0].initial_inventory", "1e+300"]),
    # item 4: no size check before allocating
    ("paths-2e6-periods-1000", lambda t, f: simulate("serial-3", "--paths", "2000000", "--periods", "1000"),
     ["paths × periods", "2000000 paths", "GB"]),
    ("warmup-1e8", lambda t, f: simulate(scenario_file(t, "warmup = 20", "warmup = 100000000"),
                                         "--paths", "5", "--periods", "10"), ["warmup", "GB"]),
    ("rolling-horizon-100000", lambda t, f: ["solve", "-s", "serial-3", "--method", "rolling", "--horizon",
                                             "100000", "--paths", "2", "--json"],
     ["horizon", "100000", "GB"]),
    # item 5: brackets in messages survive
    ("nan-levels-keep-their-brackets", lambda t, f: ["evaluate", "-s", "serial-3", "--paths", "3", "--json",
                                                     "-p", "base-stock:S=nan,nan,nan"], ["[nan, nan, nan]"]),
    ("missing-nodes-keeps-its-brackets", lambda t, f: simulate(scenario_file(t, "nodes = [", "knots = [")),
     ["[[nodes]]"]),
    # item 10: usage errors are one line, not typer's box
    ("option-value-not-an-integer", lambda t, f: simulate("serial-3", "--paths", "x"),
     ["--paths", "simulate --help"]),
    ("missing-option", lambda t, f: ["simulate", "-s", "serial-3"], ["--policy"]),
    ("unknown-option", lambda t, f: ["evaluate", "-s", "serial-3", "-p", SERIAL, "--bogus"], ["--bogus"]),
    ("unknown-command", lambda t, f: ["simulat"], ["simulat"]),
]


@pytest.mark.parametrize(("build", "words"), [pytest.param(c[1], c[2], id=c[0]) for c in CASES])
def test_bad_input_is_one_line_and_exit_2(build, words, tmp_path, request) -> None:
    result = runner.invoke(app, build(tmp_path, request.getfixturevalue), env=ENV)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_tune_overwrite_lets_an_agent_be_replaced(agent, tmp_path) -> None:
    from hybrid.tuning import check_agent_out as _check_agent_out
    from scenarios.errors import SpecError

    out = copy_agent(agent, tmp_path, "intact")
    with pytest.raises(SpecError, match="--overwrite"):
        _check_agent_out(out, overwrite=False)
    _check_agent_out(out, overwrite=True)  # training may then write over it
    _check_agent_out(str(tmp_path / "new"), overwrite=False)
