"""The results store: round trip, one run per key, all-or-nothing writes, Parquet export."""

import math

import duckdb
import pytest

from hybrid.store import RUN_COLUMNS, Store, run_key


def _run(key: str, cost: float = 12.5) -> dict:
    return {"key": key, "scenario": "serial-3", "scenario_hash": "abc", "policy": "sS", "family": "sS",
            "seed": 3, "paths": 8, "periods": 20, "warmup": 5, "cost_mean": cost, "cost_lo": cost - 1,
            "cost_hi": cost + 1, "fill_rate": 0.9, "seconds": 0.25,
            "result": {"policy": "sS", "bullwhip": {"mean": math.nan, "ci95": [math.inf, 1.0]},
                       "cost_parts": {"holding": {"mean": 3.0, "ci95": [2.0, 4.0]}}},
            "versions": {"python": "3.11"}}


def _trajectory(n: int = 6) -> dict:
    return {"path": [0] * n, "period": list(range(n)), "node": ["a"] * n, "sku": ["item"] * n,
            "on_hand": [float(t) for t in range(n)], "backlog": [0.0] * n, "ordered": [1.0] * n}


def test_run_key_is_stable_and_sensitive():
    key = run_key("abc", "sS", 3, 8, 20)
    assert key == run_key("abc", " sS ", 3, 8, 20)
    assert len({key, run_key("abd", "sS", 3, 8, 20), run_key("abc", "sQ", 3, 8, 20),
                run_key("abc", "sS", 4, 8, 20), run_key("abc", "sS", 3, 9, 20),
                run_key("abc", "sS", 3, 8, 21)}) == 6


def test_round_trip(tmp_path):
    db = tmp_path / "r.duckdb"
    key = run_key("abc", "sS", 3, 8, 20)
    curves = [{"timesteps": 100, "cost": 5.0, "anchor_cost": 6.0},
              {"timesteps": 200, "cost": 4.5, "anchor_cost": 6.0}]
    with Store(db) as store:
        assert store.add(_run(key), _trajectory(), curves)
    with Store(db, read_only=True) as store:
        assert store.has(key) and not store.has("nope") and len(store) == 1
        (row,) = store.runs()
        assert set(row) == set(RUN_COLUMNS)
        assert row["cost_mean"] == 12.5 and row["seed"] == 3 and row["created"] is not None
        assert row["result"]["bullwhip"] == {"mean": None, "ci95": [None, 1.0]}  # NaN/inf -> null
        assert row["result"]["cost_parts"]["holding"]["mean"] == 3.0
        assert store.runs(policy="sQ") == [] and len(store.runs(scenario="serial-3")) == 1
        traj = store.trajectories(key)
        assert [r["period"] for r in traj] == list(range(6)) and traj[4]["on_hand"] == 4.0
        assert [r["timesteps"] for r in store.learning_curve(key)] == [100, 200]


def test_same_key_is_stored_once(tmp_path):
    key = run_key("abc", "sS", 3, 8, 20)
    with Store(tmp_path / "r.duckdb") as store:
        assert store.add(_run(key), _trajectory())
        assert not store.add(_run(key, cost=99.0), _trajectory())
        assert len(store) == 1 and store.runs()[0]["cost_mean"] == 12.5
        count = store.connection.execute("SELECT count(*) FROM trajectories").fetchone()[0]
        assert count == 6


def test_a_failed_add_leaves_nothing(tmp_path):
    key = run_key("abc", "sS", 3, 8, 20)
    with Store(tmp_path / "r.duckdb") as store:
        bad = _trajectory()
        bad["on_hand"] = ["not a number"] * 6
        with pytest.raises(duckdb.Error):
            store.add(_run(key), bad)
        assert not store.has(key)
        assert store.connection.execute("SELECT count(*) FROM trajectories").fetchone()[0] == 0
        with pytest.raises(ValueError, match="unknown run column"):
            store.add({**_run(key), "colour": "red"})


def test_export_parquet(tmp_path):
    with Store(tmp_path / "r.duckdb") as store:
        for seed in range(3):
            key = run_key("abc", "sS", seed, 8, 20)
            store.add({**_run(key), "seed": seed}, _trajectory())
        out = store.export(tmp_path / "runs.parquet")
        store.export(tmp_path / "traj.parquet", table="trajectories")
    rows = duckdb.sql(f"SELECT seed, cost_mean FROM '{out}' ORDER BY seed").fetchall()
    assert rows == [(0, 12.5), (1, 12.5), (2, 12.5)]
    assert duckdb.sql(f"SELECT count(*) FROM '{tmp_path / 'traj.parquet'}'").fetchall() == [(18,)]
