"""Batch runs that go wrong: a failing job fails alone, Ctrl-C stops cleanly, bad options stop early.

Heavy imports happen inside the tests: the local backend's workers import this
module to find the job functions below, and should start quickly.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hybrid.batch import run_batch
from hybrid.batchfile import Batch, Job, parse_batch
from hybrid.store import Store
from scenarios.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
ENV = {"COLUMNS": "200"}


# ------------------------------------------------------------------ errors cross processes
def test_spec_errors_survive_pickling():
    from milp.errors import InfeasibleWindow

    err = pickle.loads(pickle.dumps(SpecError("horizon", "must be at least 5, got 2")))
    assert (type(err), err.field, err.reason, str(err)) == (
        SpecError, "horizon", "must be at least 5, got 2", "horizon: must be at least 5, got 2")
    sub = pickle.loads(pickle.dumps(InfeasibleWindow(("storage",), "elastic re-solve")))
    assert type(sub) is InfeasibleWindow and sub.families == ("storage",) and sub.field == "milp"
    assert str(sub) == str(InfeasibleWindow(("storage",), "elastic re-solve"))


# ------------------------------------------------------------------ the pre-check
ISSUE = """\
paths = 5
periods = 10
seeds = 3
scenarios = ["serial-3"]
policies = [
    "rolling-horizon:horizon=2",
    "base-stock:S=5,5,5",
    "sS:s=4,4,4;S=6,6,6",
]
"""


def test_precheck_rejects_what_evaluate_rejects():
    from scenarios import builtin
    from scenarios.evaluate import evaluate_policies

    with pytest.raises(SpecError) as direct:
        evaluate_policies(builtin.get("serial-3"), ["rolling-horizon:horizon=2"], paths=2, periods=3)
    with pytest.raises(SpecError) as err:
        parse_batch(ISSUE, source="b.toml")
    message = str(err.value)
    assert message.startswith("b.toml:6 policies[0]: 'rolling-horizon:horizon=2' on serial-3: ")
    assert message.endswith(str(direct.value))  # the same check, word for word


def test_precheck_does_not_tune():

    began = time.perf_counter()
    batch = parse_batch('scenarios = ["serial-3"]\npolicies = ["sS", "milp-static", "rolling-horizon"]\n')
    assert batch.policies == ("sS", "milp-static", "rolling-horizon")
    assert time.perf_counter() - began < 2  # tuning sS or solving milp-static takes longer


# ------------------------------------------------------------------ failing jobs
def _jobs_batch(policies: tuple[str, ...], seeds: tuple[int, ...]) -> Batch:
    """A batch built directly, so it can hold jobs the pre-check would refuse."""
    from scenarios import builtin

    spec = builtin.get("serial-3")
    entry = parse_batch('scenarios = ["serial-3"]\npolicies = ["sS"]\n').scenarios[0]
    assert entry.spec.hash == spec.hash
    return Batch("<test>", (entry,), policies, seeds, paths=2, periods=3, bound=False)


def test_a_job_that_raises_fails_alone_with_its_message(tmp_path):
    """The issue's batch without the pre-check: the bad job fails with its reason, the other is stored."""
    batch = _jobs_batch(("rolling-horizon:horizon=2", "base-stock:S=5,5,5"), (0,))
    bad, good = batch.jobs()
    with Store(tmp_path / "r.duckdb") as store:
        summary = run_batch(batch, store, workers=2)
        assert summary.stored == 1 and store.keys() == {good.key}
        ((job, error),) = summary.failed
        assert job == bad and error.startswith("horizon: must be at least 5 on 'serial-3', got 2")
        (failure,) = store.failures().values()
        assert failure["key"] == bad.key and failure["error"] == error
        assert "SpecError" in failure["traceback"]


class _TwoArgumentError(Exception):
    """Pickles, but does not unpickle: ``__init__`` needs two arguments."""

    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")


def _flaky(job: Job) -> dict:
    """A job function for the workers.

    Seed 0 raises an error that does not unpickle, seed 1 kills its own
    process, the others return a minimal run.
    """
    if job.seed == 0:
        raise _TwoArgumentError("disk", "full\nsecond line")
    if job.seed == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return _minimal(job)


def _minimal(job: Job) -> dict:
    return {"run": {"key": job.key, "scenario": job.scenario, "scenario_hash": job.spec.hash,
                    "policy": job.policy, "seed": job.seed, "paths": job.paths, "periods": job.periods,
                    "cost_mean": 1.0, "fill_rate": 1.0, "seconds": 0.0}}


def _ok(job: Job) -> dict:
    return _minimal(job)


THREE = """\
paths = 2
periods = 3
seeds = 3
scenarios = ["serial-3"]
policies = ["base-stock:S=5,5,5"]
"""


def test_unpicklable_errors_and_dead_workers_fail_only_their_job_and_are_retried(tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    import hybrid.batch
    from cli import app

    batch, db = tmp_path / "b.toml", tmp_path / "r.duckdb"
    batch.write_text(THREE)
    command = ["batch", str(batch), "--db", str(db), "--workers", "3"]
    monkeypatch.setattr(hybrid.batch, "run_job", _flaky)  # what the workers run, by name
    result = CliRunner().invoke(app, [*command, "--json"], env=ENV)
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    errors = {f["seed"]: f["error"] for f in report["failed"]}
    assert report["stored"] == 1 and [r["seed"] for r in report["runs"]] == [2]
    assert errors[0] == "_TwoArgumentError: disk: full second line"  # one line
    assert errors[1].startswith("the worker process was killed by SIGKILL")
    tail = result.stderr.strip().splitlines()[-3:]  # the summary says which and why
    assert tail[0] == f"2 of 3 runs failed (recorded in {db}); run the same command again to retry them:"
    assert sorted(tail[1:]) == [f"  serial-3 · base-stock:S=5,5,5 · seed {i}: {errors[i]}" for i in range(2)]
    with Store(db, read_only=True) as store:
        assert len(store) == 1 and {f["seed"] for f in store.failures().values()} == {0, 1}

    monkeypatch.setattr(hybrid.batch, "run_job", _ok)
    again = CliRunner().invoke(app, command, env=ENV)
    assert again.exit_code == 0, again.output
    assert "3 runs, 1 already in" in again.stderr and "2 to run on local (2 failed before and are retried)" \
        in again.stderr
    with Store(db, read_only=True) as store:
        assert len(store) == 3 and store.failures() == {}


def test_failures_are_not_runs(tmp_path):
    with Store(tmp_path / "r.duckdb") as store:
        assert store.add_failure("k1", "s", "sS", 0, "first") is True
        assert store.add_failure("k1", "s", "sS", 0, "second", "Traceback ...") is True
        assert [(k, r["error"]) for k, r in store.failures().items()] == [("k1", "second")]
        assert store.keys() == set()  # a rerun runs it again
        store.add({"key": "k1", "scenario": "s", "scenario_hash": "h", "policy": "sS", "seed": 0,
                   "paths": 1, "periods": 1})
        assert store.failures() == {}
        assert store.add_failure("k1", "s", "sS", 0, "late") is False  # stored: it did not fail
    with Store(tmp_path / "r.duckdb", read_only=True) as store:
        assert store.failures() == {} and store.keys() == {"k1"}


# ------------------------------------------------------------------ the command
SMALL = """\
paths = 2
periods = 3
seeds = [0, 1, 2, 3]
scenarios = ["lost-sales-poisson"]
policies = ["base-stock:S=3"]
"""


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from cli import app; app()", *args]


def test_ctrl_c_stops_the_batch_in_one_line_and_keeps_what_finished(tmp_path):
    batch, db = tmp_path / "b.toml", tmp_path / "r.duckdb"
    batch.write_text(SMALL)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **ENV}
    proc = subprocess.Popen(_cli("batch", str(batch), "--db", str(db), "--workers", "1"), cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    seen = []
    try:
        for line in proc.stderr:  # the parent prints a line once a run is committed
            seen.append(line)
            if "] stored " in line:
                os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: parent and workers
                break
        seen.extend(proc.stderr)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = "".join(seen)
    assert code == 130, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
    with Store(db, read_only=True) as store:
        stored = len(store)
    assert 1 <= stored < 4
    assert seen[-1] == (f"interrupted: {stored} of 4 runs stored in {db}; run the same command again "
                        "to resume\n")


@pytest.mark.parametrize("case", ["missing parent", "parent is a file", "a directory", "read-only"])
def test_export_path_is_checked_before_anything_runs(tmp_path, monkeypatch, case):
    from typer.testing import CliRunner

    import scenarios.outputs
    from cli import app

    batch, db = tmp_path / "b.toml", tmp_path / "r.duckdb"
    batch.write_text(SMALL)
    (tmp_path / "file").write_text("")
    (tmp_path / "dir").mkdir()
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    if case == "read-only" and os.access(locked, os.W_OK):  # root writes anyway: refuse the probe

        def refused(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(scenarios.outputs.tempfile, "NamedTemporaryFile", refused)
    export = {"missing parent": tmp_path / "nowhere" / "r.parquet",
              "parent is a file": tmp_path / "file" / "r", "a directory": tmp_path / "dir",
              "read-only": locked / "r.parquet"}[case]
    result = CliRunner().invoke(app, ["batch", str(batch), "--db", str(db), "--export", str(export)], env=ENV)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --export: "), lines
    assert not db.exists()  # nothing ran


def test_help_documents_the_batch_file_not_a_source_path():
    import typer

    from cli import app

    command = typer.main.get_command(app).commands["batch"]
    assert "batchfile.py" not in command.help and "hybrid/" not in command.help
    for key in ("scenarios =", "policies =", "seeds =", "paths =", "periods =", "bound =", "distribution ="):
        assert key in command.help
    backend = next(p for p in command.params if p.name == "backend")
    assert "pip install -e '.[ray]'" in backend.help


def test_another_programs_database_is_refused_untouched(tmp_path):
    import duckdb
    from typer.testing import CliRunner

    from cli import app

    batch, db = tmp_path / "b.toml", tmp_path / "theirs.duckdb"
    batch.write_text(SMALL)
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE runs (id INTEGER, name VARCHAR)")
    result = CliRunner().invoke(app, ["batch", str(batch), "--db", str(db)], env=ENV)
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith(f"error: {db}: not an echelon results database: its table runs has no column key")
    with pytest.raises(SpecError, match="it has id, name"):
        Store(db, read_only=True)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SHOW TABLES").fetchall() == [("runs",)]  # nothing created in it
