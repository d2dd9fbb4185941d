"""`echelon serve`: its options are checked (one line, exit 2) before a server starts."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli import app

runner = CliRunner()
ENV = {"COLUMNS": "200"}


@pytest.mark.parametrize("args, line", [
    (["--scenario", "serial-3", "--policy", "nope"], "error: policy: unknown policy 'nope'"),
    (["--scenario", "serial-3", "--policy", "sS:s=5,10,20;S=8,14,25", "--max-order", "-1"],
     "error: --max-order: must be >= 0, got -1.0"),
    (["--scenario", "serial-3", "--policy", "sS:s=5,10,20;S=8,14,25", "--port", "70000"],
     "error: --port: must be in 1..65535, got 70000"),
    (["--scenario", "nowhere.toml", "--policy", "sS"], "error: scenario: 'nowhere.toml' is neither"),
])
def test_bad_serve_options_are_one_line_and_exit_2(args: list[str], line: str) -> None:
    result = runner.invoke(app, ["serve", *args], env=ENV)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(line) and result.output.count("\n") == 1, result.output


def test_serve_help_lists_the_policy_families() -> None:
    result = runner.invoke(app, ["serve", "--help"], env=ENV)
    assert result.exit_code == 0 and "--max-order" in result.output and "rolling-horizon" in result.output
