"""The library calls behind ``echelon batch``, ``tune`` and ``solve``, used without the CLI."""

from __future__ import annotations

import pytest

import hybrid.batch
from hybrid.batchfile import Job
from hybrid.batchrun import run_batch_file
from hybrid.store import mean_over_seeds
from scenarios.errors import SpecError

TWO = """\
paths = 2
periods = 3
seeds = [0, 1]
scenarios = ["serial-3"]
policies = ["base-stock:S=5,5,5"]
"""


def _ok(job: Job) -> dict:
    """A job function for the workers: a minimal run whose cost is the seed."""
    return {"run": {"key": job.key, "scenario": job.scenario, "scenario_hash": job.spec.hash,
                    "policy": job.policy, "seed": job.seed, "paths": job.paths, "periods": job.periods,
                    "cost_mean": float(job.seed), "fill_rate": 1.0, "seconds": 0.0}}


def test_run_batch_file_returns_the_stored_runs_and_resumes(tmp_path, monkeypatch) -> None:
    batch, db = tmp_path / "b.toml", str(tmp_path / "r.duckdb")
    batch.write_text(TWO)
    monkeypatch.setattr(hybrid.batch, "run_job", _ok)  # what the workers run, by name
    started = []
    done = run_batch_file(batch, db, workers=2, on_start=lambda *args: started.append(args))
    assert started == [(str(batch), 2, 0, 0)] and not done.interrupted and done.failed == []
    assert sorted(r["seed"] for r in done.runs) == [0, 1]
    assert done.to_dict()["stored"] == 2 and len(done.to_dict()["runs"]) == 2
    assert mean_over_seeds(done.runs) == [{"scenario": "serial-3", "policy": "base-stock:S=5,5,5",
                                           "seeds": 2, "cost_mean": 0.5, "fill_rate": 1.0}]
    again = run_batch_file(batch, db)  # everything stored: nothing runs
    assert again.summary.skipped == 2 and again.summary.stored == 0 and len(again.runs) == 2


def test_run_batch_file_checks_the_database_before_anything_runs(tmp_path) -> None:
    batch = tmp_path / "b.toml"
    batch.write_text(TWO)
    with pytest.raises(SpecError, match="--db"):
        run_batch_file(batch, str(tmp_path))  # a directory is no DuckDB file


@pytest.mark.parametrize(("options", "field"), [({"env": "nope"}, "--env"), ({"algo": "dqn"}, "--algo"),
                                                ({"env": "hybrid-mpc", "algo": "sac"}, "--algo"),
                                                ({"timesteps": 0}, "--timesteps"),
                                                ({"eval_seed": -1}, "--eval-seed")])
def test_tune_agent_refuses_bad_options_before_training(tmp_path, options, field) -> None:
    from hybrid.tuning import tune_agent

    with pytest.raises(SpecError, match=field):
        tune_agent("serial-3", out=str(tmp_path / "agent"), **options)
    assert not (tmp_path / "agent").exists()


@pytest.mark.parametrize(("options", "field"), [({"method": "exact"}, "--method"),
                                                ({"method": "rolling", "backend": "pulp"}, "--backend"),
                                                ({"method": "static", "train_paths": 0}, "--train-paths"),
                                                ({"method": "rolling", "gap": 1.0}, "--gap")])
def test_solve_summary_refuses_bad_options(options, field) -> None:
    from milp import solve_summary

    with pytest.raises(SpecError, match=field):
        solve_summary("serial-3", **options)
