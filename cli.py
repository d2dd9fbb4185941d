"""The ``echelon`` command line: thin typer commands over the library.

Heavy packages are imported inside commands so ``echelon --help`` is fast.
Known errors (a bad scenario file, option or policy) print one line naming
the field and exit with code 2.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    name="echelon",
    help="Multi-echelon inventory replenishment: simulate, tune and compare policies on common "
    "random numbers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
scenarios_app = typer.Typer(help="List and show built-in scenarios.", no_args_is_help=True)
app.add_typer(scenarios_app, name="scenarios")

ScenarioOpt = Annotated[str, typer.Option("--scenario", "-s",
                                          help="Built-in scenario name or path of a TOML file.")]
PathsOpt = Annotated[int, typer.Option(help="Number of sample paths (Monte Carlo replications).")]
PeriodsOpt = Annotated[int | None, typer.Option(help="Periods measured per path, after the "
                                                "scenario's warm-up [default: the scenario's horizon].")]
SeedOpt = Annotated[int, typer.Option(help="Seed of the sample paths; same seed, same numbers.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object for scripts.")]


def _stderr() -> Any:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)  # one error, one line, even in a pipe


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn known input errors into one line on stderr and exit code 2."""
    from scenarios.errors import SpecError

    try:
        yield
    except SpecError as err:
        _stderr().print(f"[bold red]error:[/] {err}", highlight=False)
        raise typer.Exit(code=2) from None


@contextmanager
def _stdout_to_stderr(enabled: bool) -> Iterator[None]:
    """Send file descriptor 1 to stderr while ``enabled``.

    Solver libraries print banners from C; on stdout they would break the one
    JSON object a ``--json`` run promises.
    """
    if not enabled:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _check_positive(name: str, value: int | None) -> None:
    from scenarios.errors import SpecError

    if value is not None and value < 1:
        raise SpecError(f"--{name}", f"must be >= 1, got {value}")


def _print_json(obj: Any) -> None:
    from scenarios.kpis import json_safe

    sys.stdout.write(json.dumps(json_safe(obj), indent=2) + "\n")


@scenarios_app.command("list")
def scenarios_list(as_json: JsonOpt = False) -> None:
    """List the built-in scenarios."""
    from scenarios import builtin

    rows = []
    for name in builtin.names():
        spec = builtin.get(name)
        rows.append({"name": name, "nodes": len(spec.nodes), "arcs": len(spec.arcs),
                     "skus": len(spec.skus), "demands": len(spec.demands), "timing": spec.timing,
                     "shortage": spec.shortage, "known_optimum": spec.known_optimum,
                     "description": spec.description})
    if as_json:
        _print_json({"scenarios": rows})
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Built-in scenarios")
    for col in ("name", "nodes", "skus", "demands", "timing", "shortage", "known optimum"):
        table.add_column(col, justify="left" if col in ("name", "timing", "shortage") else "right")
    for r in rows:
        table.add_row(r["name"], str(r["nodes"]), str(r["skus"]), str(r["demands"]), r["timing"],
                      r["shortage"], "" if r["known_optimum"] is None else f"{r['known_optimum']:g}")
    Console().print(table)


@scenarios_app.command("show")
def scenarios_show(name: Annotated[str, typer.Argument(help="Built-in name or TOML path.")]) -> None:
    """Print a scenario as TOML (save it, edit it, pass the file to --scenario)."""
    with _user_errors():
        from scenarios.spec import dumps, load

        sys.stdout.write(dumps(load(name)))


@app.command()
def simulate(
    scenario: ScenarioOpt,
    policy: Annotated[str, typer.Option("--policy", "-p", help="Policy: NAME (tuned) or "
                                        "NAME:key=v1,v2,... with one value per node.")],
    paths: PathsOpt = 100,
    periods: PeriodsOpt = None,
    seed: SeedOpt = 0,
    path: Annotated[int, typer.Option(help="Which sample path to show period by period.")] = 0,
    show: Annotated[int, typer.Option(help="Periods to show in the table.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Simulate one policy and show one sample path period by period, with the KPIs over all paths."""
    with _user_errors():
        from scenarios.errors import SpecError
        from scenarios.evaluate import evaluate
        from scenarios.simulator import simulate as run_sim
        from scenarios.spec import load

        _check_positive("paths", paths)
        _check_positive("periods", periods)
        if not 0 <= path < paths:
            raise SpecError("--path", f"must be in [0, {paths - 1}], got {path}")
        spec = load(scenario)
        with _progress(as_json) as progress:
            result = evaluate(spec, [policy], paths=paths, periods=periods, seed=seed, progress=progress)[0]
        from scenarios.paths import SamplePaths
        from scenarios.policies import make_policy

        sample = SamplePaths.draw(spec, paths, periods, seed=seed).subset(slice(path, path + 1))
        run = run_sim(spec, sample, make_policy(spec, result.family, result.params), record=True)
        rows = []
        for t in range(sample.warmup, sample.n_periods):
            rows.append({
                "period": t - sample.warmup,
                "stock": run.trace["stock"][0, t + 1].sum(-1).tolist(),
                "orders": run.trace["orders"][0, t].sum(-1).tolist(),
                "demand": float(run.flows["demand"][0, t]),
                "backlog": float(run.flows["backlog"][0, t]),
                "lost": float(run.flows["lost"][0, t]),
                "cost": float(run.total_cost[0, t]),
            })
    if as_json:
        _print_json({"scenario": spec.name, "policy": result.to_dict(spec.known_optimum),
                     "path": path, "periods": rows})
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{spec.name} · {policy} · path {path} (first {min(show, len(rows))} periods)")
    table.add_column("t", justify="right")
    table.add_column("demand", justify="right")
    table.add_column("stock by node: " + " ".join(spec.node_ids))
    table.add_column("orders by arc")
    table.add_column("backlog" if spec.shortage == "backlog" else "lost", justify="right")
    table.add_column("cost", justify="right")
    for r in rows[:show]:
        table.add_row(str(r["period"]), f"{r['demand']:.4g}", " ".join(f"{v:.4g}" for v in r["stock"]),
                      " ".join(f"{v:.4g}" for v in r["orders"]),
                      f"{r['backlog'] if spec.shortage == 'backlog' else r['lost']:.4g}",
                      f"{r['cost']:.4g}")
    console = Console()
    console.print(table)
    _kpi_table(spec, [result], paths, console)


@contextmanager
def _progress(quiet: bool) -> Iterator[Any]:
    """Show the library's progress reports (:mod:`scenarios.progress`) on stderr while the block runs.

    In a terminal: a bar per task with its count, elapsed time and ETA. Elsewhere (a pipe,
    a log): a line when a task starts and, for long ones, one every 30 s with the count and
    the ETA. ``quiet`` (``--json``): nothing. Yields the progress callable, or ``None``.
    """
    if quiet:
        yield None
        return
    console = _stderr()
    if not console.is_terminal:
        yield _progress_lines(console)
        return
    from rich import progress as rp

    bar = rp.Progress(rp.SpinnerColumn(finished_text="[green]✓[/]"),
                      rp.TextColumn("{task.description}", markup=False), rp.BarColumn(),
                      rp.TextColumn("{task.fields[count]}"), rp.TimeElapsedColumn(),
                      rp.TextColumn("{task.fields[eta]}"), console=console)
    current: dict[str, Any] = {}

    def report(task: str, done: int, total: int | None) -> None:
        now = time.perf_counter()
        if not current:  # drawn from the first report on: a command that fails first shows no bar
            bar.start()
        if current.get("task") != task or done < current["done"]:
            if current:  # tasks run one after another: a new one means the last has finished
                last = bar.tasks[-1]
                bar.update(last.id, total=last.total or 1, completed=last.total or 1, eta="")
            bar.add_task(task, total=total, count="", eta="")
            current.update(task=task, done=done, started=now)
        current["done"] = done
        eta = ""
        if total and 0 < done < total:
            eta = f"ETA {_clock((now - current['started']) / done * (total - done))}"
        bar.update(bar.tasks[-1].id, total=total, completed=done if total else 0, eta=eta,
                   count=f"{done:,}/{total:,}" if total else "")

    try:
        yield report
    finally:
        bar.stop()


def _progress_lines(console: Any) -> Callable[[str, int, int | None], None]:
    """Progress for a pipe or a log: a line per task, then at most one every 30 s with an ETA."""
    current: dict[str, Any] = {}

    def report(task: str, done: int, total: int | None) -> None:
        now = time.perf_counter()
        if current.get("task") != task or done < current["done"]:
            current.update(task=task, done=done, started=now, shown=now)
            console.print(f"… {task}", style="dim", markup=False, highlight=False)
            return
        current["done"] = done
        if total and 0 < done < total and now - current["shown"] >= 30:
            current["shown"] = now
            eta = (now - current["started"]) / done * (total - done)
            console.print(f"… {task}: {done:,}/{total:,}, ETA {_clock(eta)}", style="dim", markup=False,
                          highlight=False)

    return report


def _clock(seconds: float) -> str:
    """``0:01:05`` for 65 s."""
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _short(value: Any) -> str:
    """A parameter value for a table cell: numbers to 4 significant digits, lists comma-separated."""
    if isinstance(value, list | tuple):
        return ",".join(_short(v) for v in value)
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _kpi_table(spec: Any, results: list[Any], paths: int, console: Any) -> None:
    from rich.table import Table

    optimum = spec.known_optimum
    bounded = results[0].bound_gap is not None
    table = Table(title=f"{spec.name}: {paths} paths, mean ± 95% CI half-width, per period")
    for col in ("policy", "cost/period", "vs reference", "wins", "fill rate", "CSL", "avg inventory", "waste",
                "bullwhip", *(("gap to optimum",) if optimum else ()),
                *(("gap to hindsight bound",) if bounded else ())):
        table.add_column(col, justify="left" if col == "policy" else "right")
    for r in results:
        k = r.kpis
        label = r.label + ("" if not r.tuning else " (tuned)")
        params = "; ".join(f"{n}={_short(v)}" for n, v in r.params.items())
        params = params if len(params) <= 48 else params[:47] + "…"
        table.add_row(
            f"{label}\n[dim]{params}[/]", str(k["cost_per_period"]),
            "reference" if r.difference is None else str(r.difference),
            "" if r.win_rate is None else f"{r.win_rate:.0%}",
            f"{k['fill_rate'].mean:.2%}", f"{k['cycle_service_level'].mean:.2%}",
            f"{k['average_inventory'].mean:.4g}", f"{k['waste'].mean:.3g}",
            f"{k['bullwhip'].mean:.3g}",
            *((f"{k['cost_per_period'].mean / optimum - 1:+.2%}",) if optimum else ()),
            *((f"{r.bound_gap.mean / r.bound_mean:+.1%}",) if bounded else ()),
        )
    console.print(table)
    if bounded:
        console.print(f"[dim]hindsight bound: {results[0].bound_mean:.4g} per period over all periods "
                      "(warm-up included; perfect information, a lower bound on any policy)[/]")
    if optimum:
        console.print(f"[dim]known optimum: {optimum:g} per period ({spec.name})[/]")


@app.command()
def evaluate(
    scenario: ScenarioOpt,
    policy: Annotated[list[str], typer.Option("--policy", "-p", help="Policy, repeatable: NAME "
                                              "(tuned on separate training paths) or "
                                              "NAME:key=v1,v2,... with one value per node. Names: "
                                              "base-stock, echelon-base-stock, sS, sQ, "
                                              "capped-base-stock, rolling-horizon, rl:path=DIR.")],
    paths: PathsOpt = 1000,
    periods: PeriodsOpt = None,
    seed: SeedOpt = 0,
    train_paths: Annotated[int, typer.Option(help="Training paths for tuned policies.")] = 200,
    bound: Annotated[bool, typer.Option("--bound", help="Also solve the hindsight bound per path "
                                        "(MILP) and report every policy's gap to it.")] = False,
    reference: Annotated[str | None, typer.Option(help="The policy (as given to --policy) the others "
                                                  "are compared with [default: the first].")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare policies on the same sample paths: KPIs with 95% CIs, paired differences and win rates."""
    with _user_errors(), _stdout_to_stderr(as_json):
        from hybrid.arena import evaluate as run_arena
        from scenarios.spec import load

        _check_positive("paths", paths)
        _check_positive("periods", periods)
        _check_positive("train-paths", train_paths)
        spec = load(scenario)
        with _progress(as_json) as progress:
            results = run_arena(spec, policy, paths=paths, periods=periods, seed=seed,
                                train_paths=train_paths, reference=reference, bound=bound, progress=progress)
    measured = results[0].run.total_cost.shape[1] - results[0].run.warmup
    if as_json:
        _print_json({"scenario": spec.name, "paths": paths, "periods": measured,
                     "reference": results[0].label, "warmup": results[0].run.warmup, "seed": seed,
                     "known_optimum": spec.known_optimum,
                     "results": [r.to_dict(spec.known_optimum) for r in results]})
        return
    from rich.console import Console

    _kpi_table(spec, results, paths, Console())


@app.command()
def batch(
    file: Annotated[str, typer.Argument(help="Batch file (TOML): scenarios, policies, seeds, paths, "
                                        "periods, bound; see hybrid/batchfile.py.")],
    backend: Annotated[str, typer.Option(help="local (a process pool) or ray (pip install -e "
                                         "'.[ray]').")] = "local",
    workers: Annotated[int | None, typer.Option(help="Jobs run in parallel [default: the machine's "
                                                "cores].")] = None,
    address: Annotated[str | None, typer.Option(help="Ray cluster to attach to (with --backend ray) "
                                                "[default: start Ray on this machine].")] = None,
    db: Annotated[str, typer.Option(help="DuckDB results file; runs already in it are skipped, so "
                                    "a killed batch resumes.")] = "results.duckdb",
    export: Annotated[str | None, typer.Option(help="Also write the runs table to this Parquet "
                                               "file.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run every scenario × policy × seed of a batch file into DuckDB, skipping runs already stored."""
    with _user_errors():
        import duckdb
        from rich import progress as rp

        from hybrid.arena import register_all
        from hybrid.batch import check_options, run_batch
        from hybrid.batchfile import load_batch
        from hybrid.store import Store
        from scenarios.errors import SpecError

        check_options(backend, workers, address)
        register_all()
        plan = load_batch(file)  # the whole file is checked before anything runs
        try:
            store = Store(db)
        except duckdb.Error as err:
            raise SpecError("--db", f"cannot open {db}: {str(err).splitlines()[0]}") from None
        console = _stderr()
        bar = rp.Progress(rp.TextColumn("[bold]batch"), rp.BarColumn(), rp.MofNCompleteColumn(),
                          rp.TextColumn("elapsed"), rp.TimeElapsedColumn(), rp.TextColumn("ETA"),
                          rp.TimeRemainingColumn(), console=console, disable=not console.is_terminal)
        task = bar.add_task("batch", total=None)

        def started(to_run: int, skipped: int) -> None:
            console.print(f"[dim]{plan.source}: {to_run + skipped} runs, {skipped} already in {db}, "
                          f"{to_run} to run on {backend}[/]", highlight=False)
            bar.update(task, total=to_run)

        def finished(out: Any) -> None:
            j = out.job
            what = f"{j.scenario} · {j.policy} · seed {j.seed}"
            line = (f"[{out.done}/{out.total}] stored {what} ({out.seconds:.1f} s)" if out.stored
                    else f"[red][{out.done}/{out.total}] failed {what}: {out.error}[/]")
            bar.console.print(line, highlight=False, markup=not out.stored)
            bar.advance(task)

        with store, bar, _stdout_to_stderr(as_json):
            summary = run_batch(plan, store, backend=backend, workers=workers, address=address,
                                on_start=started, on_job=finished)
            if export:
                store.export(export)
            keys = set(summary.keys)
            rows = [r for r in store.runs() if r["key"] in keys]
    failed = [{"key": j.key, "scenario": j.scenario, "policy": j.policy, "seed": j.seed, "error": e}
              for j, e in summary.failed]
    if as_json:
        _print_json({"db": db, "export": export, "backend": backend, "jobs": summary.jobs,
                     "skipped": summary.skipped, "stored": summary.stored, "failed": failed,
                     "seconds": round(summary.seconds, 3),
                     "runs": [{k: r[k] for k in ("key", "scenario", "policy", "seed", "paths", "periods",
                                                 "cost_mean", "cost_lo", "cost_hi", "fill_rate",
                                                 "gap_to_bound", "seconds")} for r in rows]})
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"{db}: mean over seeds",
                      caption=f"{len(rows)} of {summary.jobs} runs of {plan.source} stored: "
                      f"{summary.stored} new, {summary.skipped} skipped, {len(failed)} failed "
                      f"({summary.seconds:.1f} s)")
        for col in ("scenario", "policy", "seeds", "cost/period", "fill rate"):
            table.add_column(col, justify="left" if col in ("scenario", "policy") else "right")
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for r in rows:
            groups.setdefault((r["scenario"], r["policy"]), []).append(r)
        for (scenario_name, policy_text), group in groups.items():
            fills = [r["fill_rate"] for r in group if r["fill_rate"] is not None]
            table.add_row(scenario_name, policy_text, str(len(group)),
                          f"{sum(r['cost_mean'] for r in group) / len(group):.4g}",
                          f"{sum(fills) / len(fills):.2%}" if fills else "")
        Console().print(table)
    if failed:
        raise typer.Exit(code=1)


@app.command()
def demo(
    scenario: ScenarioOpt = "divergent-1w3r",
    out: Annotated[str, typer.Option(help="Directory for the agents, results.duckdb and "
                                     "report.html.")] = "demo",
    paths: PathsOpt = 100,
    periods: PeriodsOpt = 52,
    seed: SeedOpt = 0,
) -> None:
    """Every layer on one scenario in a few minutes: tuned classical, MILP, RL, hybrid; DuckDB and HTML.

    What `make demo` runs. The agents train briefly (a demonstration, not a result;
    BENCHMARKS.md has the measured comparisons).
    """
    with _user_errors():
        from rich.console import Console

        from hybrid.demo import run_demo
        from scenarios.spec import load

        _check_positive("paths", paths)
        _check_positive("periods", periods)
        spec = load(scenario)
        console = Console()
        console.print(f"[bold]echelon demo[/] · {spec.name}: {spec.description}")
        with _progress(False) as progress:
            result = run_demo(scenario, out=out, paths=paths, periods=periods, seed=seed, progress=progress)
        _kpi_table(spec, result.results, paths, console)
        console.print(f"results: {result.db}\nreport:  {result.report}  ({result.seconds:.0f} s in all)")


@app.command()
def report(
    db: Annotated[str, typer.Argument(help="Results database (DuckDB) written by `echelon batch`.")],
    out: Annotated[str, typer.Option(help="HTML file to write.")] = "report.html",
    title: Annotated[str | None, typer.Option(help="Page title [default: from the file name].")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write one self-contained HTML page (tables and plots, no network) from a results database."""
    with _user_errors():
        from hybrid.report import write_report

        path = write_report(db, out, title=title)
    size = path.stat().st_size
    if as_json:
        _print_json({"report": str(path), "db": db, "bytes": size})
        return
    sys.stdout.write(f"report: {path} ({size / 1e6:.1f} MB)\n")


@app.command()
def tune(
    scenario: ScenarioOpt,
    algo: Annotated[str, typer.Option(help="SB3 algorithm: ppo, sac or a2c (hybrid agents: ppo).")] = "ppo",
    env: Annotated[str, typer.Option(help="tune: residuals on a tuned (s,S) anchor; direct: order "
                                     "quantities (the classic formulation); hybrid-mpc: the agent sets "
                                     "the rolling-horizon MILP's safety stock; hybrid-anchor: residuals "
                                     "on MILP-optimised static levels.")] = "tune",
    timesteps: Annotated[int | None, typer.Option(help="Environment steps to train [default: 200000; "
                                                  "hybrid-mpc: 1024, each step plans an epoch].")] = None,
    seed: SeedOpt = 0,
    randomise: Annotated[bool, typer.Option("--randomise", help="Train on the scenario's domain "
                                            "randomisation (or ranges around it).")] = False,
    horizon: Annotated[int, typer.Option(help="hybrid-mpc: the planner's window.")] = 6,
    out: Annotated[str | None, typer.Option(help="Directory for model.zip and metadata.json "
                                            "[default: runs/SCENARIO-ALGO-ENV-seedK].")] = None,
    paths: Annotated[int, typer.Option(help="Fresh test paths for the final comparison.")] = 500,
    eval_seed: Annotated[int, typer.Option(help="Seed of the fresh test paths.")] = 2026,
    as_json: JsonOpt = False,
) -> None:
    """Train an RL or hybrid agent, then compare it with its anchor and tuned baselines on fresh paths."""
    with _user_errors(), _stdout_to_stderr(as_json):
        import rl
        from hybrid.arena import evaluate as run_arena
        from scenarios.errors import SpecError
        from scenarios.spec import load

        if env not in ("tune", "direct", "hybrid-mpc", "hybrid-anchor"):
            raise SpecError("env", f"must be tune, direct, hybrid-mpc or hybrid-anchor, got {env!r}")
        if env.startswith("hybrid") and algo != "ppo":
            raise SpecError("algo", f"{env} trains with ppo, got {algo!r}")
        timesteps = timesteps or (1024 if env == "hybrid-mpc" else 200_000)
        _check_positive("timesteps", timesteps)
        _check_positive("paths", paths)
        _check_positive("horizon", horizon)
        spec = load(scenario)
        out = out or f"runs/{spec.name}-{algo}-{env}-seed{seed}"
        families = ["base-stock", "sS", "capped-base-stock"]
        if spec.is_tree:
            families.append("echelon-base-stock")
        if env.startswith("hybrid"):
            train_time, steps, anchor, baselines = _train_hybrid(spec, env, timesteps, seed, horizon, out,
                                                                 quiet=as_json)
            agent_text, model_path = f"{env}:path={out}", Path(out) / "model.zip"
            families = [*baselines, *families]
        else:
            result = rl.train(rl.TrainConfig(scenario=scenario, algo=algo, env=env, timesteps=timesteps,
                                             seed=seed, randomise=True if randomise else None, out=out,
                                             progress_bar=not as_json))
            train_time, steps, model_path = result.train_time_s, result.timesteps, result.model_path
            meta = json.loads(result.metadata_path.read_text())
            anchor = rl.Anchor.from_dict(meta["anchor"]).policy()
            agent_text = f"rl:path={out}"
        anchor.name = f"anchor ({anchor.name})"
        with _progress(as_json) as progress:
            results = run_arena(spec, [agent_text, anchor, *families], paths=paths, seed=eval_seed,
                                progress=progress)
    if as_json:
        _print_json({"scenario": spec.name, "env": env, "model_path": str(model_path), "timesteps": steps,
                     "train_time_s": train_time, "paths": paths, "seed": eval_seed,
                     "results": [r.to_dict(spec.known_optimum) for r in results]})
        return
    from rich.console import Console

    console = Console()
    console.print(f"model: {model_path} · {steps} steps in {train_time:.0f} s")
    _kpi_table(spec, results, paths, console)


def _train_hybrid(spec: Any, env: str, timesteps: int, seed: int, horizon: int, out: str,
                  quiet: bool) -> tuple[float, int, Any, list[str]]:
    """Train a hybrid agent for `echelon tune`; return (seconds, steps, anchor policy, baseline texts).

    Progress is shown while the planner's safety stock is tuned and SB3's bar while the agent
    trains (``quiet``: neither); one live display at a time.
    """
    from hybrid.baselines import tune_safety
    from hybrid.training import train_hybrid
    from scenarios.evaluate import train_seed
    from scenarios.paths import SamplePaths

    started = time.perf_counter()
    baselines: list[str] = []
    base = 0.0
    if env == "hybrid-mpc":
        train = SamplePaths.draw(spec, 8, None, seed=train_seed(seed))
        with _progress(quiet) as progress:
            tuned = tune_safety(spec, train, horizon=horizon, progress=progress)
        base = tuned.safety
        baselines = [f"rolling-horizon-ss:horizon={horizon},k={tuned.text}"]
    else:
        baselines = ["milp-static"]
    result = train_hybrid(spec, env.removeprefix("hybrid-"), timesteps=timesteps, seed=seed, out=out,
                          base=base, horizon=horizon, train_horizon=horizon, progress_bar=not quiet)
    return time.perf_counter() - started, result.timesteps, result.anchor.policy(), baselines


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
    paths: Annotated[int | None, typer.Option(help="Sample paths [default: 20; static: 2000 test "
                                              "paths, its training uses --train-paths].")] = None,
    periods: PeriodsOpt = None,
    train_paths: Annotated[int, typer.Option(help="static: training paths of the SAA program.")] = 200,
    seed: SeedOpt = 0,
    as_json: JsonOpt = False,
) -> None:
    """Solve with the MILP layer: rolling-horizon plans, the hindsight bound, or optimal static levels."""
    with _user_errors(), _stdout_to_stderr(as_json), _progress(as_json) as progress:

        import numpy as np

        from scenarios.errors import SpecError
        from scenarios.evaluate import train_seed
        from scenarios.kpis import estimate, kpis
        from scenarios.paths import SamplePaths
        from scenarios.policies import make_policy
        from scenarios.simulator import simulate
        from scenarios.spec import load

        if method not in ("rolling", "hindsight", "static"):
            raise SpecError("--method", f"must be rolling, hindsight or static, got {method!r}")
        if backend not in ("pyomo", "pulp"):
            raise SpecError("--backend", f"must be pyomo or pulp, got {backend!r}")
        if backend == "pulp" and method != "hindsight":
            raise SpecError("--backend", "pulp is the cross-check backend of --method hindsight only")
        for name, value in (("paths", paths), ("periods", periods), ("horizon", horizon),
                            ("train-paths", train_paths)):
            _check_positive(name, value)
        if time_limit <= 0 or not 0 <= gap < 1:
            raise SpecError("--time-limit" if time_limit <= 0 else "--gap",
                            "must be > 0" if time_limit <= 0 else f"must be in [0, 1), got {gap}")
        paths = paths or (2000 if method == "static" else 20)
        spec = load(scenario)
        test = SamplePaths.draw(spec, paths, periods, seed=seed)
        out: dict[str, Any] = {"scenario": spec.name, "method": method, "paths": paths, "seed": seed}
        started = time.perf_counter()
        if method == "rolling":
            from milp import RollingHorizonPolicy

            policy = RollingHorizonPolicy(spec, horizon=horizon, safety=safety, time_limit=time_limit,
                                          mip_gap=gap)
            k = kpis(simulate(spec, test, policy, progress=progress))
            times = [s.seconds for s in policy.stats]
            statuses = sorted({s.status for s in policy.stats})
            gaps = [s.gap for s in policy.stats if s.gap is not None]
            out.update(status=statuses[0] if len(statuses) == 1 else ",".join(statuses),
                       cost_per_period=k["cost_per_period"].to_dict(), fill_rate=k["fill_rate"].to_dict(),
                       solves=len(times),
                       solve_time_s={"median": float(np.median(times)), "max": float(np.max(times))},
                       gap={"median": float(np.median(gaps)) if gaps else None,
                            "max": float(np.max(gaps)) if gaps else None},
                       horizon=horizon, safety=safety)
        elif method == "hindsight":
            from milp import hindsight_bound

            bound = hindsight_bound(spec, test, time_limit=time_limit, mip_gap=gap, backend=backend,
                                    progress=progress)
            out.update(status="bound", objective=estimate(bound).to_dict(),
                       cost_per_period=estimate(bound).to_dict(),
                       note="per-path lower bound on any policy's cost per period, warm-up included",
                       gap=gap)
        else:
            from milp.static import optimise_static

            family = "echelon-base-stock" if spec.is_tree else "base-stock"
            train = SamplePaths.draw(spec, train_paths, periods, seed=train_seed(seed))
            if progress:
                progress(f"optimal static levels: the SAA program on {train_paths} training paths", 0, None)
            result = optimise_static(spec, train, family, time_limit=time_limit)
            policy = make_policy(spec, family, result.params)
            k = kpis(simulate(spec, test, policy, progress=progress))
            out.update(status=result.status, family=family, levels=result.levels,
                       objective=result.objective, exact=result.exact,
                       cost_per_period=k["cost_per_period"].to_dict(), fill_rate=k["fill_rate"].to_dict(),
                       solve_time_s={"median": result.solve_time_s, "max": result.solve_time_s},
                       gap=None, train_paths=train_paths)
        out["wall_time_s"] = time.perf_counter() - started
        if spec.known_optimum and method != "hindsight":
            out["gap_to_optimum"] = out["cost_per_period"]["mean"] / spec.known_optimum - 1
    if as_json:
        _print_json(out)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"echelon solve · {spec.name} · {method}", show_header=False)
    for key, value in out.items():
        if isinstance(value, dict) and "ci95" in value:
            value = f"{value['mean']:.4g}  (95% CI {value['ci95'][0]:.4g} – {value['ci95'][1]:.4g})"
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={_short(v)}" for k, v in value.items())
        table.add_row(key, _short(value))
    Console().print(table)
