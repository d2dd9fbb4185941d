"""Sample paths: path i depends on the seed and i only, never on how many paths are drawn."""

from __future__ import annotations

import json
from dataclasses import fields

import numpy as np
import pytest
from typer.testing import CliRunner

from cli import app
from scenarios import builtin
from scenarios.paths import BLOCK, SamplePaths

ARRAYS = [f.name for f in fields(SamplePaths) if f.name not in ("spec_hash", "seed", "warmup")]


def assert_same_paths(a: SamplePaths, b: SamplePaths) -> None:
    """Every array equal bit for bit: the same blocks drawn by the same code in one process."""
    assert (a.spec_hash, a.seed, a.warmup) == (b.spec_hash, b.seed, b.warmup)
    for name in ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name, strict=True)


@pytest.mark.parametrize("name", builtin.names())
def test_first_paths_do_not_depend_on_the_number_drawn(name: str) -> None:
    spec = builtin.get(name)
    many = SamplePaths.draw(spec, 200, periods=6, seed=7, warmup=2)
    assert many.n_paths == 200 and many.n_periods == 8
    for paths in (20, BLOCK + 3):  # within the first block, and across a block boundary
        few = SamplePaths.draw(spec, paths, periods=6, seed=7, warmup=2)
        assert few.n_paths == paths
        assert_same_paths(few, many.subset(slice(0, paths)))


def test_one_path_is_the_first_path() -> None:
    spec = builtin.get("perishable-pharma")  # random lead times and disruptions: a per-period loop
    assert_same_paths(SamplePaths.draw(spec, 1, periods=5, seed=3),
                      SamplePaths.draw(spec, 2 * BLOCK + 1, periods=5, seed=3).subset(slice(0, 1)))


def test_blocks_are_independent_draws() -> None:
    spec = builtin.get("divergent-1w3r")
    paths = SamplePaths.draw(spec, 2 * BLOCK, periods=50, seed=0)
    first, second = paths.demand[:BLOCK], paths.demand[BLOCK:]
    assert not np.array_equal(first, second)
    assert not np.array_equal(paths.demand, SamplePaths.draw(spec, 2 * BLOCK, periods=50, seed=1).demand)


def test_tile_and_subset() -> None:
    spec = builtin.get("seasonal-grocery")
    paths = SamplePaths.draw(spec, 3, periods=4, seed=2)
    tiled = paths.tile(2)
    assert tiled.n_paths == 6
    assert_same_paths(tiled.subset(slice(3, 6)), paths)
    assert_same_paths(paths.subset(np.array([2])), paths.subset(slice(2, 3)))


def test_simulate_shows_the_same_path_whatever_the_number_of_paths() -> None:
    runner = CliRunner()
    traces = []
    for paths in ("20", "200"):
        result = runner.invoke(app, ["simulate", "-s", "divergent-1w3r", "-p", "base-stock:S=60,20,20,20",
                                     "--path", "3", "--paths", paths, "--periods", "8", "--json"],
                               env={"COLUMNS": "80"})
        assert result.exit_code == 0, result.output
        out = json.loads(result.stdout)
        assert out["path"] == 3 and len(out["periods"]) == 8
        traces.append(out["periods"])
    assert traces[0] == traces[1]  # one path simulated alone both times: the same computation
