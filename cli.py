"""The ``echelon`` command line: thin typer commands over the library.

Each command parses its options, calls one library function and prints the result with
:mod:`hybrid.console` (tables, progress, one-line errors). Packages, that one included, are imported
inside commands so ``echelon --help`` is fast and imports no layer. Known errors (a bad scenario file,
option or policy) print one line naming the field and exit with code 2.
"""

from __future__ import annotations

import functools
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

try:  # typer >= 0.26 parses options with its own copy of click
    from typer._click import exceptions as _click_errors
except ImportError:  # older typer runs on click itself
    from click import exceptions as _click_errors


class _OneLineErrors(TyperGroup):
    """The command group; a bad, missing or unknown option prints one line, not typer's box.

    typer prints click's usage errors in several lines whatever the markup mode; they are caught where
    they are raised, parsing this group's options or a subcommand's, and typer's handling stays as is.
    """

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except _click_errors.UsageError as err:
            from hybrid.console import usage_error
            raise usage_error(err) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _click_errors.UsageError as err:
            from hybrid.console import usage_error
            raise usage_error(err) from None


_FAMILIES = "{families}"  # filled in from scenarios.registry when the help is shown (_PolicyHelp)


class _PolicyHelp(TyperCommand):
    """A command whose ``--policy`` help lists every family of :mod:`scenarios.registry` (made when shown)."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from scenarios.registry import policy_help

        for param in self.params:
            if param.name == "policy" and param.help:
                param.help = param.help.replace(_FAMILIES, policy_help())
        super().format_help(ctx, formatter)


# Help texts are plain text (rich_markup_mode=None): "[default: ...]" and ".[ray]" are not markup.
app = typer.Typer(name="echelon", help="Multi-echelon inventory replenishment: simulate, tune and compare "
                  "policies on common random numbers.", no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None, cls=_OneLineErrors)
scenarios_app = typer.Typer(help="List and show built-in scenarios.", no_args_is_help=True,
                            rich_markup_mode=None)
app.add_typer(scenarios_app, name="scenarios")

ScenarioOpt = Annotated[str, typer.Option("--scenario", "-s",
                                          help="Built-in scenario name or path of a TOML file.")]
PathsOpt = Annotated[int, typer.Option(help="Number of sample paths (Monte Carlo replications).")]
PeriodsOpt = Annotated[int | None, typer.Option(help="Periods measured per path, after the scenario's "
                                                "warm-up.", show_default="the scenario's horizon")]
SeedOpt = Annotated[int, typer.Option(help="Seed of the sample paths; same seed, same numbers.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object for scripts. Rates and gaps "
                                       "are fractions (0.05 is 5%); wall times, in seconds, stay out of the "
                                       "results (top level), so the same seed prints the same results.")]


@scenarios_app.command("list")
def scenarios_list(as_json: JsonOpt = False) -> None:
    """List the built-in scenarios."""
    from hybrid import console as ui

    rows = ui.scenario_rows()
    if console := ui.output(as_json, {"scenarios": rows}):
        console.print(ui.scenario_table(console, rows))


@scenarios_app.command("show")
def scenarios_show(name: Annotated[str, typer.Argument(help="Built-in name or TOML path.")]) -> None:
    """Print a scenario as TOML (save it, edit it, pass the file to --scenario)."""
    from hybrid import console as ui
    from scenarios.spec import dumps, load

    with ui.user_errors():
        sys.stdout.write(dumps(load(name)))


@app.command(cls=_PolicyHelp)
def simulate(
    scenario: ScenarioOpt,
    policy: Annotated[str, typer.Option("--policy", "-p", help="Policy: NAME (tuned or solved on "
                                        "separate training paths) or NAME:key=v1,v2,... (one value per "
                                        f"node where a key takes one per node). {_FAMILIES}")],
    paths: PathsOpt = 100,
    periods: PeriodsOpt = None,
    seed: SeedOpt = 0,
    path: Annotated[int, typer.Option(help="Which sample path to show period by period.")] = 0,
    show: Annotated[int, typer.Option(help="Periods to show in the table.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Simulate one policy and show one sample path period by period, with the KPIs over all paths."""
    from hybrid import console as ui
    from scenarios.errors import SpecError
    from scenarios.evaluate import evaluate_policies
    from scenarios.spec import load

    with ui.user_errors(), ui.stdout_to_stderr(as_json):
        ui.check_counts(paths=paths, periods=periods)
        if not 0 <= path < paths:
            raise SpecError("--path", f"must be in [0, {paths - 1}], got {path}")
        if show < 0:
            raise SpecError("--show", f"must be >= 0, got {show}")
        spec = load(scenario)
        with ui.progress(as_json) as progress:  # recorded: the trace shown is the evaluated run's own
            (result,) = evaluate_policies(spec, [policy], paths=paths, periods=periods, seed=seed,
                                          record=True, progress=progress).results
        rows = ui.path_rows(result.run, path)
    if console := ui.output(as_json, {"scenario": spec.name, "policy": result.to_dict(spec.known_optimum),
                                      "path": path, "periods": rows, "seconds": ui.seconds([result])}):
        console.print(ui.path_table(spec, policy, path, rows, show))
        ui.kpi_table(spec, [result], paths, console)


@app.command("evaluate", cls=_PolicyHelp)
def compare(
    scenario: ScenarioOpt,
    policy: Annotated[list[str], typer.Option("--policy", "-p", help="Policy, repeatable: NAME "
                                              "(tuned or solved on separate training paths) or "
                                              "NAME:key=v1,v2,... (one value per node where a key "
                                              f"takes one per node). {_FAMILIES}")],
    paths: PathsOpt = 1000,
    periods: PeriodsOpt = None,
    seed: SeedOpt = 0,
    train_paths: Annotated[int, typer.Option(help="Training paths for tuned policies.")] = 200,
    bound: Annotated[bool, typer.Option("--bound", help="Also solve the hindsight bound per path "
                                        "(MILP) and report every policy's gap to it.")] = False,
    reference: Annotated[str | None, typer.Option(help="The policy (as given to --policy) the others "
                                                  "are compared with.", show_default="the first")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare policies on the same sample paths: KPIs with 95% CIs, paired differences and win rates."""
    from hybrid import console as ui
    from scenarios.evaluate import evaluate_policies
    from scenarios.spec import load

    with ui.user_errors(), ui.stdout_to_stderr(as_json):
        ui.check_counts(paths=paths, periods=periods, train_paths=train_paths)
        spec = load(scenario)
        lower_bound = None
        if bound:
            from milp import hindsight_bound as lower_bound
        with ui.progress(as_json) as progress:
            results = evaluate_policies(spec, policy, paths=paths, periods=periods, seed=seed,
                                        train_paths=train_paths, reference=reference, bound=lower_bound,
                                        progress=progress).results
    if console := ui.output(as_json, ui.evaluation_json(spec, results, paths, seed)):
        ui.kpi_table(spec, results, paths, console)


@app.command()
def batch(
    file: Annotated[str, typer.Argument(help="Batch file (TOML): scenarios, policies and optionally "
                                        "seeds, paths, periods, bound; the format is below.")],
    backend: Annotated[str, typer.Option(help="local (a process per job) or ray (needs "
                                         "pip install -e '.[ray]').")] = "local",
    workers: Annotated[int | None, typer.Option(help="Jobs run in parallel.",
                                                show_default="the machine's cores")] = None,
    address: Annotated[str | None, typer.Option(help="Ray cluster to attach to (with --backend ray).",
                                                show_default="start Ray on this machine")] = None,
    db: Annotated[str, typer.Option(help="DuckDB results file; runs already in it are skipped (a "
                                    "stopped batch resumes), failed runs are retried.")] = "results.duckdb",
    export: Annotated[str | None, typer.Option(help="Also write the runs table to this Parquet "
                                               "file (checked before anything runs).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run every scenario × policy × seed of a batch file into DuckDB, skipping runs already stored.

    A batch file is TOML; scenarios and policies are required, the rest have defaults:

    \b
        scenarios = ["serial-3", "my-network.toml",
                     { distribution = "seasonal-grocery", draws = 3, seed = 1 }]
        policies = ["sS", "base-stock:S=5,5,5", "rolling-horizon:horizon=13"]
        seeds = 5          # a count (seeds 0..4) or a list [0, 1, 2]; default [0]
        paths = 50         # test paths per run; default 100
        periods = 52       # measured periods per run; default: each scenario's horizon
        bound = false      # also solve the hindsight bound (MILP) per path

    A scenario is a built-in name (echelon scenarios list) or a TOML file, relative to the batch file; a
    distribution entry draws that many scenarios from the base scenario's [randomisation] ranges or from
    ranges given in the entry (demand_level = [0.8, 1.2]). A policy is a text as for evaluate --policy.
    The whole file is checked before anything runs. Exit code 0: every run stored; 1: some runs failed
    (each is recorded with its error and retried when the same command runs again); 2: bad input; 130:
    stopped by Ctrl-C (finished runs are kept; the same command resumes).
    """  # noqa: D301 - "\b" keeps click from rewrapping the example
    from hybrid import console as ui
    from hybrid.batchrun import run_batch_file

    with ui.user_errors(), ui.BatchDisplay(db, backend) as display, ui.stdout_to_stderr(as_json):
        done = run_batch_file(file, db, backend=backend, workers=workers, address=address, export=export,
                              on_start=display.started, on_job=display.finished)
    if not done.interrupted and (console := ui.output(as_json, done.to_dict())):
        console.print(ui.batch_table(done))
    ui.print_batch_end(done)
    if done.interrupted or done.failed:
        raise typer.Exit(code=130 if done.interrupted else 1)


@app.command()
def demo(
    scenario: ScenarioOpt = "divergent-1w3r",
    out: Annotated[str, typer.Option(help="Directory for the agents, results.duckdb and "
                                     "report.html.")] = "demo",
    paths: PathsOpt = 100,
    periods: Annotated[int, typer.Option(help="Periods measured per path, after the scenario's "
                                         "warm-up.")] = 52,
    seed: SeedOpt = 0,
) -> None:
    """Every layer on one scenario in a few minutes: tuned classical, MILP, RL, hybrid; DuckDB and HTML.

    What `make demo` runs. The agents train briefly (a demonstration, not a result;
    BENCHMARKS.md has the measured comparisons).
    """
    from rich.console import Console
    from rich.text import Text

    from hybrid import console as ui
    from hybrid.demo import run_demo
    from scenarios.spec import load

    with ui.user_errors():
        ui.check_counts(paths=paths, periods=periods)
        spec = load(scenario)
        console = Console()
        console.print(Text.assemble(("echelon demo", "bold"), f" · {spec.name}: {spec.description}"))
        with ui.progress(False) as progress:
            result = run_demo(scenario, out=out, paths=paths, periods=periods, seed=seed, progress=progress)
        ui.kpi_table(spec, result.results, paths, console)
        console.print(f"results: {result.db}\nreport:  {result.report}  ({result.seconds:.0f} s in all)",
                      markup=False)


@app.command()
def report(
    db: Annotated[str, typer.Argument(help="Results database (DuckDB) written by `echelon batch`.")],
    out: Annotated[str, typer.Option(help="HTML file to write.")] = "report.html",
    title: Annotated[str | None, typer.Option(help="Page title.", show_default="from the file name")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write one self-contained HTML page (tables and plots, no network) from a results database."""
    from hybrid import console as ui
    from hybrid.report import write_report

    with ui.user_errors():
        path = write_report(db, out, title=title)
    size = path.stat().st_size
    if ui.output(as_json, {"report": str(path), "db": db, "bytes": size}):  # a console: not --json
        sys.stdout.write(f"report: {path} ({size / 1e6:.1f} MB)\n")


@app.command()
def tune(
    scenario: ScenarioOpt,
    algo: Annotated[str, typer.Option(help="SB3 algorithm: ppo, sac or a2c (hybrid agents: ppo).")] = "ppo",
    env: Annotated[str, typer.Option(help="tune: residuals on a tuned (s,S) anchor; direct: order "
                                     "quantities (the classic formulation); hybrid-mpc: the agent sets "
                                     "the rolling-horizon MILP's safety stock; hybrid-anchor: residuals "
                                     "on MILP-optimised static levels.")] = "tune",
    timesteps: Annotated[int | None, typer.Option(help="Environment steps to train, rounded up to whole "
                                                  "rollouts.", show_default="200000; hybrid-mpc: 1024, "
                                                  "each step plans an epoch")] = None,
    seed: SeedOpt = 0,
    randomise: Annotated[bool, typer.Option("--randomise", help="Train on the scenario's domain "
                                            "randomisation (or ranges around it).")] = False,
    horizon: Annotated[int, typer.Option(help="hybrid-mpc: the planner's window.")] = 6,
    out: Annotated[str | None, typer.Option(help="Directory for model.zip and metadata.json.",
                                            show_default="runs/SCENARIO-ALGO-ENV-seedK")] = None,
    paths: Annotated[int, typer.Option(help="Fresh test paths for the final comparison.")] = 500,
    eval_seed: Annotated[int, typer.Option(help="Seed of the fresh test paths.")] = 2026,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an agent already saved in "
                                            "--out.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Train an RL or hybrid agent, then compare it with its anchor and tuned baselines on fresh paths."""
    from hybrid import console as ui
    from hybrid.tuning import tune_agent

    with ui.user_errors(), ui.stdout_to_stderr(as_json):
        result = tune_agent(scenario, algo=algo, env=env, timesteps=timesteps, seed=seed, randomise=randomise,
                            horizon=horizon, out=out, paths=paths, eval_seed=eval_seed, overwrite=overwrite,
                            display=functools.partial(ui.progress, as_json), progress_bar=not as_json)
    if console := ui.output(as_json, result.to_dict(paths, eval_seed)):
        console.print(f"model: {result.model_path} · {result.timesteps:,} steps in "
                      f"{result.train_time_s:.0f} s", markup=False)
        ui.kpi_table(result.spec, result.results, paths, console)


@app.command()
def solve(
    scenario: ScenarioOpt,
    method: Annotated[str, typer.Option(help="rolling: the rolling-horizon MILP policy simulated on "
                                        "sample paths; hindsight: the perfect-information bound per "
                                        "path; static: optimal static base-stock levels (SAA).")] = "rolling",
    horizon: Annotated[int, typer.Option(help="Rolling-horizon window in periods.")] = 13,
    safety: Annotated[float, typer.Option(help="Rolling horizon: safety stock per node and SKU, "
                                          "units.")] = 0.0,
    time_limit: Annotated[float, typer.Option(help="Seconds per solve.")] = 10.0,
    gap: Annotated[float, typer.Option(help="Relative MIP gap per solve.")] = 0.01,
    backend: Annotated[str, typer.Option(help="pyomo (persistent HiGHS) or pulp (cross-check; "
                                         "hindsight only).")] = "pyomo",
    paths: Annotated[int | None, typer.Option(help="Sample paths (static: test paths; its training "
                                              "uses --train-paths).",
                                              show_default="20; static: 2000")] = None,
    periods: PeriodsOpt = None,
    train_paths: Annotated[int, typer.Option(help="static: training paths of the SAA program.")] = 200,
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Solve with the MILP layer: rolling-horizon plans, the hindsight bound, or optimal static levels."""
    from hybrid import console as ui
    from milp import solve_summary
    from scenarios.spec import load

    with ui.user_errors(), ui.stdout_to_stderr(as_json), ui.progress(as_json) as progress:
        out = solve_summary(scenario, method, horizon=horizon, safety=safety, time_limit=time_limit, gap=gap,
                            backend=backend, paths=paths, periods=periods, train_paths=train_paths, seed=seed,
                            progress=progress)
        optimum = load(scenario).known_optimum  # for the table's gap to it
    if console := ui.output(as_json, out):
        console.print(ui.solve_table(out, optimum))


@app.command()
def calibrate(
    history: Annotated[str, typer.Argument(help="Demand history, CSV or Parquet: date,node,sku,demand "
                                           "and optionally promotion (0/1), one row per period.")],
    out: Annotated[str, typer.Option(help="Scenario TOML to write.")],
    network: Annotated[str | None, typer.Option(help="Scenario (TOML or built-in) whose nodes, arcs and "
                                                "costs are kept.", show_default="one node per history "
                                                "node, fed from outside")] = None,
    receipts: Annotated[str | None, typer.Option(help="Receipts, CSV or Parquet: order_date,receipt_date,"
                                                 "supplier,node,sku,quantity; fits lead times.")] = None,
    empirical: Annotated[bool, typer.Option("--empirical", help="Bootstrap the raw history instead of "
                                            "the fitted processes.")] = False,
    plot: Annotated[str | None, typer.Option(help="Also write a PNG of the history against the fitted "
                                             "processes' simulated quantiles.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Fit a scenario to a demand history: a demand process per node and SKU, lead times per arc."""
    from hybrid import console as ui
    from scenarios.calibrate import calibrate_file

    with ui.user_errors():
        _, summary = calibrate_file(history, out, network=network, receipts=receipts, empirical=empirical,
                                    plot=plot)
    if console := ui.output(as_json, {"scenario": out, "plot": plot, **summary.to_dict()}):
        console.print(ui.calibration_table(console, summary, out))


@app.command(cls=_PolicyHelp)
def serve(
    scenario: ScenarioOpt,
    policy: Annotated[str, typer.Option("--policy", "-p", help=f"Policy to serve (a bare name is tuned "
                                        f"first). {_FAMILIES}")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    max_order: Annotated[float | None, typer.Option(help="Guardrail: no order above this many units "
                                                    "(cut orders are reported).")] = None,
    reference: Annotated[str | None, typer.Option(help="Reference policy for --max-deviation.")] = None,
    max_deviation: Annotated[float | None, typer.Option(
        help="Guardrail: orders within this fraction of the reference policy's (0.5: x0.5 to x1.5).")] = None,
    seed: SeedOpt = 0,
) -> None:
    """Serve the policy's decisions over HTTP: POST /decide, GET /health, docs at /docs."""
    from hybrid import console as ui
    from hybrid.serve import serve as run_server

    with ui.user_errors():
        run_server(scenario, policy, host=host, port=port, max_order=max_order, reference=reference,
                   max_deviation=max_deviation, seed=seed)


@app.command(cls=_PolicyHelp)
def shadow(
    history: Annotated[str, typer.Option(help="Demand history to replay (CSV or Parquet, as for "
                                         "calibrate).")],
    scenario: ScenarioOpt,
    policy: Annotated[str, typer.Option("--policy", "-p", help=f"Policy to shadow. {_FAMILIES}")],
    receipts: Annotated[str | None, typer.Option(help="Orders actually placed (receipts table), replayed "
                                                 "on the same path for comparison.")] = None,
    start_period: Annotated[int, typer.Option(help="Scenario period of the history's first date.")] = 0,
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Replay a history as the policy would have decided it (vs recorded orders) and test it for drift."""
    from hybrid import console as ui
    from scenarios.calibrate.shadow import shadow as replay

    with ui.user_errors(), ui.stdout_to_stderr(as_json), ui.progress(as_json) as progress:
        result = replay(history, scenario, policy, receipts=receipts, start_period=start_period, seed=seed,
                        progress=progress)
    results, spec = result.evaluation.results, result.evaluation.results[0].run.spec
    if console := ui.output(as_json, {**ui.evaluation_json(spec, results, 1, seed),
                                      "drift": result.drift.to_dict(), "notes": list(result.notes)}):
        ui.kpi_table(spec, results, 1, console)
        console.print(ui.drift_table(console, result.drift, result.notes))


# In plain help, click cuts each command's summary to fit one line ("..."); give it whole (it wraps).
for _command in (*app.registered_commands, *scenarios_app.registered_commands):
    _command.short_help = _command.short_help or (_command.callback.__doc__ or "").strip().splitlines()[0]
