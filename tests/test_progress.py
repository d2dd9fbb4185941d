"""Progress of long work (``scenarios.progress``): what the library reports and how the CLI shows it."""

from __future__ import annotations

import dataclasses
import io
import json

import pytest
from rich.console import Console
from typer.testing import CliRunner

import cli
from hybrid import console
from hybrid.baselines import tune_safety
from milp import RollingHorizonPolicy, hindsight_bound
from scenarios import builtin
from scenarios.evaluate import evaluate_policies
from scenarios.paths import SamplePaths
from scenarios.simulator import simulate
from scenarios.spec import dumps

runner = CliRunner()


class Recorder:
    """A progress callable that keeps every report."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int | None]] = []

    def __call__(self, task: str, done: int, total: int | None) -> None:
        self.calls.append((task, done, total))

    def counted(self, task: str) -> list[tuple[int, int | None]]:
        return [(d, t) for k, d, t in self.calls if k == task]


def assert_counts_up(reports: list[tuple[int, int | None]], total: int) -> None:
    done = [d for d, _ in reports]
    assert reports and {t for _, t in reports} == {total}
    assert done[0] == 0 and done[-1] == total
    assert all(a < b for a, b in zip(done, done[1:], strict=False)), done


@pytest.fixture(scope="module")
def small() -> tuple:
    spec = dataclasses.replace(builtin.get("lost-sales-poisson"), warmup=2)
    return spec, SamplePaths.draw(spec, 2, 4, seed=0)


@pytest.fixture(scope="module")
def small_file(small, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("progress") / "small.toml"
    path.write_text(dumps(small[0]))
    return str(path)


def test_a_rolling_horizon_simulation_reports_every_period(small) -> None:
    spec, paths = small
    progress = Recorder()
    simulate(spec, paths, RollingHorizonPolicy(spec, horizon=3), progress=progress)
    assert_counts_up(progress.counted("simulating rolling-horizon on 2 paths"), paths.n_periods)
    assert len(progress.calls) == paths.n_periods + 1


def test_the_hindsight_bound_reports_every_path(small) -> None:
    spec, paths = small
    progress = Recorder()
    hindsight_bound(spec, paths, progress=progress)
    assert progress.calls == [("hindsight bound on 2 paths", p, 2) for p in range(3)]


def test_safety_tuning_is_one_task_over_every_candidate(small) -> None:
    spec, paths = small
    progress = Recorder()
    result = tune_safety(spec, paths.subset(slice(0, 1)), horizon=3, start=(1.0,), max_evaluations=3,
                         progress=progress)
    tasks = {task for task, _, _ in progress.calls}
    assert tasks == {"tuning the planner's safety stock on 1 paths"}
    done = [d for _, d, _ in progress.calls]
    assert all(a <= b for a, b in zip(done, done[1:], strict=False))
    last_done, last_total = progress.calls[-1][1:]
    assert last_done == last_total == len(result.costs) * paths.n_periods


def test_evaluate_reports_each_stage_and_a_factory_s_tuning(small) -> None:

    spec, _ = small
    progress = Recorder()
    evaluate_policies(spec, ["rolling-horizon-ss:horizon=3,paths=1"], paths=2, periods=4, train_paths=2,
             progress=progress, bound=hindsight_bound)
    tasks = list(dict.fromkeys(task for task, _, _ in progress.calls))
    assert tasks == ["preparing rolling-horizon-ss:horizon=3,paths=1", "drawing 2 training paths",
                     "tuning the planner's safety stock on 1 paths",
                     "simulating rolling-horizon-ss on 2 paths", "hindsight bound on 2 paths"]


def test_no_progress_costs_nothing_and_changes_nothing(small) -> None:
    spec, paths = small
    policy = RollingHorizonPolicy(spec, horizon=3)
    quiet = simulate(spec, paths, policy).total_cost
    told = simulate(spec, paths, policy, progress=Recorder()).total_cost
    assert (quiet == told).all()


def rolling(scenario: str) -> list[str]:
    return ["solve", "-s", scenario, "--method", "rolling", "--horizon", "3", "--paths", "2",
            "--periods", "4"]


def test_json_output_carries_no_progress(small_file: str) -> None:
    result = runner.invoke(cli.app, [*rolling(small_file), "--json"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)  # stdout is the JSON object alone
    assert result.stderr == ""


def test_a_pipe_gets_a_line_per_task_on_stderr(small_file: str) -> None:
    result = runner.invoke(cli.app, rolling(small_file), env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == ["… simulating rolling-horizon on 2 paths"]
    assert "simulating" not in result.stdout


def test_a_terminal_gets_a_bar_with_an_eta(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100)
    monkeypatch.setattr(console, "stderr_console", lambda: terminal)
    ticks = [0.0, 0.0, 1.0]  # the task starts at 0 s, one path takes 1 s
    monkeypatch.setattr(console.time, "perf_counter", lambda: ticks.pop(0) if len(ticks) > 1 else ticks[0])
    with console.progress(False) as progress:
        progress("drawing 200 training paths", 0, None)
        progress("hindsight bound on 4 paths", 0, 4)
        progress("hindsight bound on 4 paths", 1, 4)  # left here: the last frame shows it
    last = screen.getvalue().split("\x1b[2K")[-2:]  # rich clears each line before drawing it
    text = "".join(last)
    assert "hindsight bound on 4 paths" in text and "1/4" in text and "ETA 0:00:03" in text


def test_a_pipe_gets_an_eta_line_at_most_every_30_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    progress = console.progress_lines(Console(file=screen, width=200))
    now = [0.0]
    monkeypatch.setattr(console.time, "perf_counter", lambda: now[0])
    progress("hindsight bound on 10 paths", 0, 10)
    for p in range(1, 11):
        now[0] = 10.0 * p  # ten seconds a path
        progress("hindsight bound on 10 paths", p, 10)
    lines = screen.getvalue().splitlines()
    assert lines[0] == "… hindsight bound on 10 paths"
    assert lines[1] == "… hindsight bound on 10 paths: 3/10, ETA 0:01:10"
    assert len(lines) == 4  # at 30, 60 and 90 s
