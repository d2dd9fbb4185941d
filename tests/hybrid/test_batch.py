"""Batch runs: checked batch files, keyed jobs, resume after a kill, local and Ray agree."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import app
from hybrid.batch import run_batch, run_job
from hybrid.batchfile import DEFAULT_RANGES, load_batch, parse_batch
from hybrid.store import Store, run_key
from scenarios import builtin
from scenarios.errors import SpecError
from scenarios.evaluate import evaluate_policies

ROOT = Path(__file__).resolve().parents[2]
ENV = {"COLUMNS": "200"}

SMALL = """\
# a tiny batch: 2 scenarios x 2 policies x 2 seeds
paths = 3
periods = 6
seeds = [0, 1]
scenarios = [
    "lost-sales-poisson",
    "divergent-1w3r",
]
policies = ["base-stock", "sS"]
"""

runner = CliRunner()


def _write(tmp_path: Path, text: str, name: str = "batch.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _kpis(db: Path) -> dict[str, dict]:
    """Per key: the stored KPI columns and the result without timings (tuning seconds vary)."""
    with Store(db, read_only=True) as store:
        out = {}
        for r in store.runs():
            result = dict(r["result"])
            result.get("tuning", {}).pop("seconds", None)
            out[r["key"]] = {k: r[k] for k in ("scenario", "policy", "seed", "cost_mean", "cost_lo",
                                                "cost_hi", "fill_rate")} | {"result": result}
        for key, costs in store.path_costs().items():  # every run's cost on each test path
            assert np.isclose(np.mean(costs), out[key]["cost_mean"])
            out[key]["path_costs"] = costs
        return out


def _assert_close(a, b) -> None:
    """Equal; floats to rtol 1e-12: runs in other processes (workers, Ray) may round the last bits apart."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _assert_close(a[key], b[key])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _assert_close(x, y)
    elif isinstance(a, float):
        assert b == pytest.approx(a, rel=1e-12, abs=1e-9, nan_ok=True)
    else:
        assert a == b


# ------------------------------------------------------------------ batch files
def test_jobs_are_the_product_with_stable_keys(tmp_path):
    batch = load_batch(_write(tmp_path, SMALL))
    jobs = batch.jobs()
    assert len(jobs) == 8 and len({j.key for j in jobs}) == 8
    spec = builtin.get("lost-sales-poisson")
    assert jobs[0].key == run_key(spec.hash, "base-stock", 0, 3, 6)
    assert [j.key for j in load_batch(_write(tmp_path, SMALL)).jobs()] == [j.key for j in jobs]


def test_periods_default_to_the_horizon_and_seeds_may_be_a_count():
    batch = parse_batch('scenarios = ["serial-3"]\npolicies = ["sS"]\nseeds = 3\n')
    assert batch.seeds == (0, 1, 2)
    assert {j.periods for j in batch.jobs()} == {builtin.get("serial-3").horizon}


@pytest.mark.parametrize(("text", "line", "names"), [
    ('scenarios = ["serial-3",\n  "no-such-scenario"]\npolicies = ["sS"]\n', 2,
     ["scenarios[1]", "no-such-scenario"]),
    ('scenarios = ["serial-3"]\n# comment naming "sSs"\npolicies = [\n  "sS",\n  "sSs",\n]\n', 5,
     ["policies[1]", "sSs"]),
    ('scenarios = [\n  { distribution = "nowhere", draws = 2 },\n]\npolicies = ["sS"]\n', 2,
     ["scenarios[0]", "nowhere"]),
    ('scenarios = ["serial-3"]\npolicies = ["base-stock:S=1,2"]\n', 2, ["policies[0]", "needs 3 values"]),
    ('scenarios = ["serial-3"]\npolicies = ["sS"]\nseed = [1]\n', 3, ["seed", "unknown key"]),
    ('scenarios = ["serial-3"]\npolicies = ["sS"]\npaths = 0\n', 3, ["paths", ">= 1"]),
    ('scenarios = ["divergent-1w3r"]\npolicies = ["sS"]\n\nperiods = "ten"\n', 4, ["periods"]),
])
def test_bad_batch_file_names_line_and_value(text, line, names):
    with pytest.raises(SpecError) as err:
        parse_batch(text, source="b.toml")
    message = str(err.value)
    assert message.startswith(f"b.toml:{line} "), message
    for name in names:
        assert name in message


def test_cli_rejects_a_bad_batch_before_running_anything(tmp_path):
    db = tmp_path / "r.duckdb"
    for bad, name in (("lost-sales-poisson", "lost-sales-poison"), ('"sS"', '"sSx"')):
        path = _write(tmp_path, SMALL.replace(bad, name))
        result = runner.invoke(app, ["batch", str(path), "--db", str(db)], env=ENV)
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}:")
        assert name.strip('"') in lines[0]
        assert not db.exists()  # nothing ran, not even the store was created
    result = runner.invoke(app, ["batch", str(_write(tmp_path, SMALL)), "--backend", "dask"], env=ENV)
    assert result.exit_code == 2 and "--backend" in result.output


def test_distribution_draws_are_seeded_scenarios(tmp_path):
    text = ('scenarios = [{ distribution = "seasonal-grocery", draws = 3, seed = 7 }]\n'
            'policies = ["sS"]\n')
    first, again = parse_batch(text), parse_batch(text)
    specs = [e.spec for e in first.scenarios]
    assert [e.label for e in first.scenarios] == [f"seasonal-grocery~7.{i}" for i in range(3)]
    assert [s.hash for s in specs] == [e.spec.hash for e in again.scenarios]
    assert len({s.hash for s in specs}) == 3
    for s in specs:  # one multiplier per draw, inside the default ranges
        low, high = DEFAULT_RANGES.demand_level
        assert s.randomisation.demand_level[0] == s.randomisation.demand_level[1]
        assert low <= s.randomisation.demand_level[0] <= high
    other = parse_batch(text.replace("seed = 7", "seed = 8"))
    assert {e.spec.hash for e in other.scenarios}.isdisjoint(s.hash for s in specs)
    narrow = parse_batch(text.replace("seed = 7", "seed = 7, demand_level = [1.1, 1.1]"))
    assert {e.spec.randomisation.demand_level for e in narrow.scenarios} == {(1.1, 1.1)}


# ------------------------------------------------------------------ one job
def test_a_job_is_evaluate_for_one_policy():
    batch = parse_batch(SMALL)
    job = next(j for j in batch.jobs() if j.scenario == "divergent-1w3r" and j.policy == "sS")
    out = run_job(job)
    (direct,) = evaluate_policies(job.spec, ["sS"], paths=job.paths, periods=job.periods,
                                  seed=job.seed).results
    run = out["run"]
    assert run["key"] == job.key and run["policy"] == "sS"
    assert run["cost_mean"] == direct.kpis["cost_per_period"].mean
    assert run["fill_rate"] == direct.kpis["fill_rate"].mean
    assert run["result"]["cost_parts"] == direct.to_dict()["cost_parts"]
    spec = job.spec
    traj = out["trajectories"]  # path 0, warm-up included, every node and SKU
    assert len(traj["on_hand"]) == (spec.warmup + job.periods) * len(spec.nodes) * len(spec.skus)
    assert set(traj["node"]) == set(spec.node_ids) and set(traj["path"]) == {0}
    assert out["curves"] == []


# ------------------------------------------------------------------ resume
def test_stored_keys_are_skipped(tmp_path):
    batch = load_batch(_write(tmp_path, SMALL))
    jobs = batch.jobs()
    with Store(tmp_path / "r.duckdb") as store:
        done = run_job(jobs[0])
        store.add(done["run"], done["trajectories"])
        summary = run_batch(batch, store, workers=1)
        assert (summary.jobs, summary.skipped, summary.stored, summary.failed) == (8, 1, 7, [])
        assert store.keys() == {j.key for j in jobs}
        again = run_batch(batch, store, workers=1)
        assert (again.skipped, again.stored) == (8, 0)
        assert len(store) == 8


def _echelon() -> list[str]:
    script = Path(sys.executable).with_name("echelon")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from cli import app; app()"]


def test_killed_batch_resumes_with_nothing_lost_or_duplicated(tmp_path):
    text = SMALL.replace('"divergent-1w3r",', "").replace("[0, 1]", "[0, 1, 2, 3]")  # 8 short jobs
    path = _write(tmp_path, text)
    db, clean = tmp_path / "killed.duckdb", tmp_path / "clean.duckdb"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **ENV}
    proc = subprocess.Popen([*_echelon(), "batch", str(path), "--db", str(db), "--workers", "1"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    deadline, seen = time.monotonic() + 120, []
    try:
        for line in proc.stderr:  # the parent prints a line once a run is committed
            seen.append(line)
            if "] stored " in line or time.monotonic() > deadline:
                break
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole batch: parent and workers
        proc.wait()
    assert any("] stored " in line for line in seen), "".join(seen)
    with Store(db, read_only=True) as store:
        partial = len(store)
    assert 1 <= partial < 8

    rerun = subprocess.run([*_echelon(), "batch", str(path), "--db", str(db), "--workers", "1", "--json"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["skipped"] == partial and report["stored"] == 8 - partial
    jobs = load_batch(path).jobs()
    with Store(clean) as store:  # the same runs, uninterrupted, in this process
        for job in jobs:
            out = run_job(job)
            store.add(**out)

    keys = {j.key for j in jobs}
    with Store(db, read_only=True) as store:
        con = store.connection
        assert store.keys() == keys
        assert con.execute("SELECT count(*), count(DISTINCT key) FROM runs").fetchone() == (8, 8)
        per_key = con.execute("SELECT key, count(*) FROM trajectories GROUP BY key").fetchall()
        clean_counts = Store(clean, read_only=True)
        with clean_counts:
            expected = dict(clean_counts.connection.execute(
                "SELECT key, count(*) FROM trajectories GROUP BY key").fetchall())
        assert dict(per_key) == expected  # no run's rows written twice
    _assert_close(_kpis(db), _kpis(clean))


# ------------------------------------------------------------------ Ray
def test_local_and_ray_store_identical_kpis(tmp_path):
    pytest.importorskip("ray")
    text = SMALL.replace('"divergent-1w3r",\n', "").replace("seeds = [0, 1]", "seeds = [0]")
    batch = load_batch(_write(tmp_path, text))
    with Store(tmp_path / "local.duckdb") as store:
        local = run_batch(batch, store, backend="local", workers=2)
    with Store(tmp_path / "ray.duckdb") as store:
        remote = run_batch(batch, store, backend="ray", workers=2)
    assert local.stored == remote.stored == len(batch.jobs()) == 2
    assert local.failed == remote.failed == []
    _assert_close(_kpis(tmp_path / "local.duckdb"), _kpis(tmp_path / "ray.duckdb"))
