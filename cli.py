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
from typer.core import TyperCommand, TyperGroup

try:  # typer >= 0.26 parses options with its own copy of click
    from typer._click import exceptions as _click_errors
except ImportError:  # older typer runs on click itself
    from click import exceptions as _click_errors


def _stderr() -> Any:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)  # one error, one line, even in a pipe


def _print_error(message: str) -> None:
    """Print ``error: message`` as one line on stderr; ``message`` is plain text, never markup."""
    from rich.text import Text

    one_line = " ".join(message.split("\n"))
    _stderr().print(Text.assemble(("error:", "bold red"), " ", one_line), highlight=False)


@contextmanager
def _one_line_usage_errors() -> Iterator[None]:
    """Turn click's usage errors into one line on stderr and exit code 2, like every other error."""
    try:
        yield
    except _click_errors.UsageError as err:
        if isinstance(err, getattr(_click_errors, "NoArgsIsHelpError", ())):
            raise  # no arguments at all: click shows the help, as `no_args_is_help` asks
        command = err.ctx.command_path if err.ctx is not None else "echelon"
        _print_error(f"{err.format_message()} (see {command} --help)")
        raise typer.Exit(code=2) from None


class _OneLineErrors(TyperGroup):
    """The command group; a bad, missing or unknown option prints one line, not typer's box.

    typer prints click's usage errors in several lines whatever the markup mode
    (``typer.core._main``: with Rich, ``rich_utils.rich_format_error`` prints the
    usage, a hint and a boxed panel; without, click's ``show`` prints the usage, a
    hint and ``Error: ...``). Catching them where they are raised, while parsing
    this group's options (:meth:`make_context`) or a subcommand's (:meth:`invoke`),
    leaves the rest of typer's handling alone.
    """

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        with _one_line_usage_errors():
            return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        with _one_line_usage_errors():
            return super().invoke(ctx)


app = typer.Typer(
    name="echelon",
    help="Multi-echelon inventory replenishment: simulate, tune and compare policies on common "
    "random numbers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are plain text: "[default: ...]" and ".[ray]" are not markup
    cls=_OneLineErrors,
)
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


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn known input errors into one line on stderr and exit code 2."""
    from scenarios.errors import SpecError

    try:
        yield
    except SpecError as err:
        _print_error(str(err))  # the value may hold brackets: S=[nan, nan, nan] must show
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


def _seconds(results: list[Any]) -> dict[str, float]:
    """Wall time per policy (building -- tuning or loading -- and simulating it), for --json's top level."""
    return {r.label: round(r.seconds, 3) for r in results if r.seconds is not None}


def _print_json(obj: Any) -> None:
    from scenarios.kpis import json_safe

    sys.stdout.write(json.dumps(json_safe(obj), indent=2) + "\n")


def _fitting_table(console: Any, title: str, rows: list[dict[str, Any]], *, key: str,
                   left: tuple[str, ...] = (), drop: tuple[str, ...] = (), caption: str | None = None,
                   key_width: int | None = None, key_min: int | None = None) -> Any:
    """A table of ``rows`` (column name -> cell text) that fits ``console`` and cuts no cell.

    Every column is as wide as its longest cell line (headers wrap between
    words); the ``key`` column -- what a user types back: a name, a policy --
    is ``key_width`` wide (default: its longest line; less if the columns that
    cannot be dropped need the room) and folds longer lines.
    While the table is wider than the console, the ``drop`` columns are left
    out in that order (before each, the key column narrows down to ``key_min``
    if that is enough) and the caption says which. Nothing ends in "…".
    """
    from rich.table import Table
    from rich.text import Text

    def plain(cell: Any) -> str:
        return cell.plain if isinstance(cell, Text) else str(cell)

    columns = list(rows[0]) if rows else [key]
    widths = {c: max([len(word) for word in c.split()]
                     + [len(line) for r in rows for line in plain(r[c]).splitlines()]) for c in columns}
    kept = sum(widths[c] + 3 for c in columns if c != key and c not in drop)
    widths[key] = max(min(key_width or widths[key], console.width - 4 - kept), 12)  # longer keys fold
    shown = list(columns)
    for col in drop:  # a column takes its width plus 2 of padding and 1 of rule
        excess = 1 + sum(widths[c] + 3 for c in shown) - console.width
        if excess <= 0:
            break
        if key_min is not None and widths[key] - excess >= key_min:  # fold the key a little more
            widths[key] -= excess
            break
        if col in shown:
            shown.remove(col)
    dropped = [c for c in columns if c not in shown]
    note = f"not shown at this width: {', '.join(dropped)} (widen the terminal or use --json)" \
        if dropped else None
    caption = "\n".join(c for c in (caption, note) if c)
    # Text, not markup: a scenario name or policy text may hold "["
    table = Table(title=Text(title), caption=Text(caption) if caption else None)
    for col in shown:
        table.add_column(col, justify="left" if col == key or col in left else "right",
                         overflow="fold", width=widths[col])
    for r in rows:
        table.add_row(*(r[c] if isinstance(r[c], Text) else Text(str(r[c])) for c in shown))
    return table


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

    cells = [{"name": r["name"], "nodes": str(r["nodes"]), "skus": str(r["skus"]),
              "demands": str(r["demands"]), "timing": r["timing"], "shortage": r["shortage"],
              "known optimum": "" if r["known_optimum"] is None else f"{r['known_optimum']:g}"}
             for r in rows]
    console = Console()
    console.print(_fitting_table(console, "Built-in scenarios", cells, key="name",
                                 left=("name", "timing", "shortage"),
                                 drop=("demands", "skus", "timing", "nodes", "known optimum",
                                       "shortage")))


@scenarios_app.command("show")
def scenarios_show(name: Annotated[str, typer.Argument(help="Built-in name or TOML path.")]) -> None:
    """Print a scenario as TOML (save it, edit it, pass the file to --scenario)."""
    with _user_errors():
        from scenarios.spec import dumps, load

        sys.stdout.write(dumps(load(name)))


_FAMILIES = "{families}"  # filled in from scenarios.registry when the help is shown (_PolicyHelp)


class _PolicyHelp(TyperCommand):
    """A command whose ``--policy`` help lists every policy family of :mod:`scenarios.registry`.

    The list is made when the help is shown, so ``echelon --help`` and every
    command that does not show it import nothing from the library.
    """

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from scenarios.registry import policy_help

        for param in self.params:
            if param.name == "policy" and param.help:
                param.help = param.help.replace(_FAMILIES, policy_help())
        super().format_help(ctx, formatter)


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
    with _user_errors(), _stdout_to_stderr(as_json):
        from scenarios.errors import SpecError
        from scenarios.evaluate import evaluate_policies
        from scenarios.spec import load

        _check_positive("paths", paths)
        _check_positive("periods", periods)
        if not 0 <= path < paths:
            raise SpecError("--path", f"must be in [0, {paths - 1}], got {path}")
        if show < 0:
            raise SpecError("--show", f"must be >= 0, got {show}")
        spec = load(scenario)
        with _progress(as_json) as progress:  # recorded: the trace shown is the evaluated run's own
            (result,) = evaluate_policies(spec, [policy], paths=paths, periods=periods, seed=seed,
                                          record=True, progress=progress).results
        run = result.run
        rows = []
        for t in range(run.warmup, run.total_cost.shape[1]):
            rows.append({
                "period": t - run.warmup,
                "stock": run.trace["stock"][path, t + 1].sum(-1).tolist(),
                "orders": run.trace["orders"][path, t].sum(-1).tolist(),
                "demand": float(run.flows["demand"][path, t]),
                "backlog": float(run.flows["backlog"][path, t]),
                "lost": float(run.flows["lost"][path, t]),
                "cost": float(run.total_cost[path, t]),
            })
    if as_json:
        _print_json({"scenario": spec.name, "policy": result.to_dict(spec.known_optimum),
                     "path": path, "periods": rows, "seconds": _seconds([result])})
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
    """Print the KPI table of ``results``: one row per policy, its label and parameters whole."""
    from rich.text import Text

    optimum = spec.known_optimum
    bounded = results[0].bound_gap is not None
    rows = []
    for r in results:
        k = r.kpis
        label = r.label + ("" if not r.tuning else " (tuned)")
        params = "; ".join(f"{n}={_short(v)}" for n, v in r.params.items())
        row = {
            "policy": Text.assemble(label, *(("\n", (params, "dim")) if params else ())),
            "cost/period": str(k["cost_per_period"]),
            "vs reference": "reference" if r.difference is None else str(r.difference),
            "wins": "" if r.win_rate is None else f"{r.win_rate:.0%}",
            "fill rate": f"{k['fill_rate'].mean:.2%}", "CSL": f"{k['cycle_service_level'].mean:.2%}",
            "avg inventory": f"{k['average_inventory'].mean:.4g}", "waste": f"{k['waste'].mean:.3g}",
            "bullwhip": f"{k['bullwhip'].mean:.3g}",
        }
        if optimum:
            row["gap to optimum"] = f"{k['cost_per_period'].mean / optimum - 1:+.2%}"
        if bounded:
            row["gap to hindsight bound"] = f"{r.bound_gap.mean / r.bound_mean:+.1%}"
        rows.append(row)
    longest = max(len(line) for r in rows for line in r["policy"].plain.splitlines())
    table = _fitting_table(console, f"{spec.name}: {paths} paths, mean ± 95% CI half-width, per period",
                           rows, key="policy", key_width=min(longest, max(24, console.width * 35 // 100)),
                           key_min=20,
                           drop=("bullwhip", "waste", "avg inventory", "CSL", "wins", "vs reference"))
    console.print(table)
    if bounded:
        console.print(f"hindsight bound: {results[0].bound_mean:.4g} per period over all periods "
                      "(warm-up included; perfect information, a lower bound on any policy)",
                      style="dim", markup=False)
    if optimum:
        console.print(f"known optimum: {optimum:g} per period ({spec.name})", style="dim", markup=False)


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
    with _user_errors(), _stdout_to_stderr(as_json):
        from scenarios.evaluate import evaluate_policies
        from scenarios.spec import load

        _check_positive("paths", paths)
        _check_positive("periods", periods)
        _check_positive("train-paths", train_paths)
        spec = load(scenario)
        lower_bound = None
        if bound:
            from milp import hindsight_bound as lower_bound
        with _progress(as_json) as progress:
            results = evaluate_policies(spec, policy, paths=paths, periods=periods, seed=seed,
                                        train_paths=train_paths, reference=reference, bound=lower_bound,
                                        progress=progress).results
    measured = results[0].run.total_cost.shape[1] - results[0].run.warmup
    if as_json:
        _print_json({"scenario": spec.name, "paths": paths, "periods": measured,
                     "reference": results[0].label, "warmup": results[0].run.warmup, "seed": seed,
                     "known_optimum": spec.known_optimum,
                     "results": [r.to_dict(spec.known_optimum) for r in results],
                     "seconds": _seconds(results)})
        return
    from rich.console import Console

    _kpi_table(spec, results, paths, Console())


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

    A scenario is a built-in name (echelon scenarios list) or a TOML file, relative to the
    batch file; a distribution entry draws that many scenarios from the base scenario's
    [randomisation] ranges or from ranges given in the entry (demand_level = [0.8, 1.2]).
    A policy is a text as for evaluate --policy. The whole file is checked before anything
    runs. Exit code 0: every run stored; 1: some runs failed (each is recorded with its
    error and retried when the same command runs again); 2: bad input; 130: stopped by
    Ctrl-C (finished runs are kept; the same command resumes).
    """  # noqa: D301 - "\b" keeps click from rewrapping the example
    from scenarios.errors import SpecError

    plan, store = None, None
    try:
        with _user_errors():
            import duckdb
            from rich import progress as rp
            from rich.text import Text

            from hybrid.batch import check_options, run_batch
            from hybrid.batchfile import load_batch
            from hybrid.store import Store

            check_options(backend, workers, address, export)
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

            def started(to_run: int, skipped: int, retried: int) -> None:
                again = f" ({retried} failed before and are retried)" if retried else ""
                console.print(Text(f"{plan.source}: {to_run + skipped} runs, {skipped} already in {db}, "
                                   f"{to_run} to run on {backend}{again}", style="dim"))
                bar.update(task, total=to_run)

            def finished(out: Any) -> None:
                j = out.job
                what = f"{j.scenario} · {j.policy} · seed {j.seed}"
                bar.console.print(Text(f"[{out.done}/{out.total}] stored {what} ({out.seconds:.1f} s)")
                                  if out.stored else
                                  Text(f"[{out.done}/{out.total}] failed {what}: {out.error}", style="red"))
                bar.advance(task)

            with store, bar, _stdout_to_stderr(as_json):
                summary = run_batch(plan, store, backend=backend, workers=workers, address=address,
                                    on_start=started, on_job=finished)
                keys = set(summary.keys)
                if summary.interrupted:
                    raise KeyboardInterrupt
                if export:
                    store.export(export)
                rows = [r for r in store.runs() if r["key"] in keys]
    except KeyboardInterrupt:
        _interrupted(plan, db if store is not None else None)
    failed = [{"key": j.key, "scenario": j.scenario, "policy": j.policy, "seed": j.seed, "error": e}
              for j, e in summary.failed]
    if as_json:
        _print_json({"db": db, "export": export, "backend": backend, "jobs": summary.jobs,
                     "skipped": summary.skipped, "stored": summary.stored, "failed": failed,
                     "retried": summary.retried, "seconds": round(summary.seconds, 3),
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
            names = col in ("scenario", "policy")  # typed back by users: folded, never cut
            table.add_column(col, justify="left" if names else "right",
                             overflow="fold" if names else "ellipsis")
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
        err = _stderr()
        err.print(f"{len(failed)} of {summary.jobs} runs failed (recorded in {db}); run the same command "
                  "again to retry them:", markup=False, highlight=False)
        for f in failed:
            err.print(f"  {f['scenario']} · {f['policy']} · seed {f['seed']}: {f['error']}", markup=False,
                      highlight=False)
        raise typer.Exit(code=1)


def _interrupted(plan: Any, db: str | None) -> None:
    """After Ctrl-C in ``batch``: one line saying how far it got, exit code 130 (128 + SIGINT)."""
    if plan is None or db is None:
        _stderr().print("interrupted: nothing ran", markup=False, highlight=False)
        raise typer.Exit(code=130)
    from hybrid.store import Store

    keys = {j.key for j in plan.jobs()}
    with Store(db, read_only=True) as store:
        stored = len(store.keys() & keys)
    _stderr().print(f"interrupted: {stored} of {len(keys)} runs stored in {db}; run the same command "
                    "again to resume", markup=False, highlight=False)
    raise typer.Exit(code=130)


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
    with _user_errors():
        from rich.console import Console
        from rich.text import Text

        from hybrid.demo import run_demo
        from scenarios.spec import load

        _check_positive("paths", paths)
        _check_positive("periods", periods)
        spec = load(scenario)
        console = Console()
        console.print(Text.assemble(("echelon demo", "bold"), f" · {spec.name}: {spec.description}"))
        with _progress(False) as progress:
            result = run_demo(scenario, out=out, paths=paths, periods=periods, seed=seed, progress=progress)
        _kpi_table(spec, result.results, paths, console)
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
    with _user_errors(), _stdout_to_stderr(as_json):
        import rl
        from scenarios.errors import SpecError
        from scenarios.evaluate import evaluate_policies
        from scenarios.spec import load

        if env not in ("tune", "direct", "hybrid-mpc", "hybrid-anchor"):
            raise SpecError("--env", f"must be tune, direct, hybrid-mpc or hybrid-anchor, got {env!r}")
        if algo not in ("ppo", "sac", "a2c"):
            raise SpecError("--algo", f"must be ppo, sac or a2c, got {algo!r}")
        if env.startswith("hybrid") and algo != "ppo":
            raise SpecError("--algo", f"{env} trains with ppo, got {algo!r}")
        _check_positive("timesteps", timesteps)  # 0 is an error, not the default
        timesteps = (1024 if env == "hybrid-mpc" else 200_000) if timesteps is None else timesteps
        _check_positive("paths", paths)
        _check_positive("horizon", horizon)
        for name, value in (("seed", seed), ("eval-seed", eval_seed)):  # checked before any training
            if value < 0:
                raise SpecError(f"--{name}", f"must be >= 0, got {value}")
        spec = load(scenario)
        out = out or f"runs/{spec.name}-{algo}-{env}-seed{seed}"
        _check_agent_out(out, overwrite)
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
            results = evaluate_policies(spec, [agent_text, anchor, *families], paths=paths, seed=eval_seed,
                                        progress=progress).results
    if as_json:
        _print_json({"scenario": spec.name, "env": env, "model_path": str(model_path), "timesteps": steps,
                     "train_time_s": train_time, "paths": paths, "seed": eval_seed,
                     "results": [r.to_dict(spec.known_optimum) for r in results],
                     "seconds": _seconds(results)})
        return
    from rich.console import Console

    console = Console()
    console.print(f"model: {model_path} · {steps:,} steps in {train_time:.0f} s", markup=False)
    _kpi_table(spec, results, paths, console)


def _check_agent_out(out: str, overwrite: bool) -> None:
    """Refuse an ``--out`` that cannot be written, or that holds an agent, before training starts."""
    from rl.artifacts import METADATA_FILE, MODEL_FILE
    from scenarios.errors import SpecError
    from scenarios.outputs import writable_dir

    saved = [name for name in (MODEL_FILE, METADATA_FILE) if (Path(out) / name).exists()]
    if saved and not overwrite:
        raise SpecError("--out", f"{out} already holds an agent ({', '.join(saved)}); pass --overwrite to "
                        "replace it, or give another --out")
    writable_dir("--out", out)


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
    paths: Annotated[int | None, typer.Option(help="Sample paths (static: test paths; its training "
                                              "uses --train-paths).",
                                              show_default="20; static: 2000")] = None,
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
        from scenarios.policy import solve_stats
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
            times = [s.seconds for s in solve_stats(policy)]
            statuses = sorted({s.status for s in solve_stats(policy)})
            gaps = [s.gap for s in solve_stats(policy) if s.gap is not None]
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
    from rich.text import Text

    table = Table(title=Text(f"echelon solve · {spec.name} · {method}"), show_header=False,
                  caption=Text(out["note"]) if "note" in out else None)
    table.add_column(overflow="fold")
    table.add_column(overflow="fold")
    for label, value in _solve_rows(out, spec.known_optimum):
        table.add_row(label, value)
    Console().print(table)


def _solve_rows(out: dict[str, Any], optimum: float | None) -> list[tuple[str, str]]:
    """``echelon solve``'s JSON as (label, value) rows with units; fractions as percentages."""
    def ci(value: dict[str, Any], fmt: str) -> str:
        low, high = value["ci95"]
        return f"{value['mean']:{fmt}}  (95% CI {low:{fmt}} – {high:{fmt}})"

    def spread(value: dict[str, Any], fmt: str, unit: str = "") -> str:
        if value["median"] is None:
            return "not reported by the solver"
        if value["median"] == value["max"]:
            return f"{value['median']:{fmt}}{unit}"
        return f"median {value['median']:{fmt}}{unit}, max {value['max']:{fmt}}{unit}"

    method = out["method"]
    cost_label = "hindsight bound per period" if method == "hindsight" else "cost per period"
    formats: dict[str, tuple[str, Callable[[Any], str]]] = {
        "scenario": ("scenario", str),
        "method": ("method", str),
        "paths": ("test paths" if method == "static" else "sample paths", str),
        "train_paths": ("training paths", str),
        "seed": ("seed", str),
        "status": ("solver status", str),
        "family": ("policy family", str),
        "levels": ("levels per node", lambda v: ", ".join(f"{x:.4g}" for x in v)),
        "objective": ("SAA objective per period", lambda v: f"{v:.4g}"),
        "exact": ("program", lambda v: "exact (reproduces the simulator)" if v
                  else "approximate (see milp.static)"),
        "cost_per_period": (cost_label, lambda v: ci(v, ".4g")),
        "fill_rate": ("fill rate", lambda v: ci(v, ".2%")),
        "solves": ("solves", lambda v: f"{v:,}"),
        "solve_time_s": ("time per solve", lambda v: spread(v, ".3g", " s")),
        "gap": ("MIP gap reached" if method == "rolling" else "MIP gap tolerance",
                lambda v: spread(v, ".2%") if isinstance(v, dict) else f"{v:.2%}"),
        "horizon": ("horizon", lambda v: f"{v} periods"),
        "safety": ("safety stock", lambda v: f"{v:g} units per node and SKU"),
        "wall_time_s": ("wall time", lambda v: f"{v:.1f} s"),
        "gap_to_optimum": ("gap to known optimum", lambda v: f"{v:+.2%} (optimum {optimum:g} per period)"),
    }
    rows = []
    for key, value in out.items():
        if key in formats and value is not None and not (method == "hindsight" and key == "objective"):
            label, fmt = formats[key]  # hindsight's objective is its cost per period: shown once
            rows.append((label, fmt(value)))
    return rows


# In plain help, click cuts each command's summary to fit one line ("..."); give it whole (it wraps).
for _command in (*app.registered_commands, *scenarios_app.registered_commands):
    _command.short_help = _command.short_help or (_command.callback.__doc__ or "").strip().splitlines()[0]
