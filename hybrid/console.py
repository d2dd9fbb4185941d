"""How the ``echelon`` command shows things: tables, progress bars and one-line errors.

The presentation half of :mod:`cli`, kept apart so each command there only
parses, calls the library and prints. rich is imported inside the functions,
so importing this module (and ``echelon --help``) stays fast. Nothing here
computes a result: the numbers come from :mod:`scenarios`, :mod:`milp` and
:mod:`hybrid`; these functions lay them out. :func:`user_errors` and
:func:`usage_error` turn a known error or a bad option into one line and exit
code 2; :func:`check_counts` is the commands' shared option check.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer

__all__ = ["BatchDisplay", "batch_table", "calibration_table", "check_counts", "clock", "drift_table",
           "evaluation_json", "fitting_table", "kpi_table", "output", "path_rows", "path_table",
           "print_batch_end", "print_error", "print_json", "progress", "progress_lines", "scenario_rows",
           "scenario_table", "seconds", "short", "solve_rows", "solve_table", "stderr_console",
           "stdout_to_stderr", "usage_error", "user_errors"]


def usage_error(err: Exception) -> Exception:
    """What to raise for click's usage error ``err``: ``typer.Exit(2)`` once it is printed as one line.

    "No arguments at all" is left as it is (click then shows the help, as ``no_args_is_help`` asks).
    """
    if type(err).__name__ == "NoArgsIsHelpError":
        return err
    command = err.ctx.command_path if getattr(err, "ctx", None) is not None else "echelon"
    print_error(f"{err.format_message()} (see {command} --help)")
    return typer.Exit(code=2)


def check_counts(**options: int | None) -> None:
    """Refuse a count option < 1 (``train_paths=0`` is ``--train-paths``); ``None`` means its default."""
    from scenarios.errors import SpecError

    for name, value in options.items():
        if value is not None and value < 1:
            raise SpecError(f"--{name.replace('_', '-')}", f"must be >= 1, got {value}")


def stderr_console() -> Any:
    """A rich console on stderr that never wraps a line (one error, one line, even in a pipe)."""
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def print_error(message: str) -> None:
    """Print ``error: message`` as one line on stderr; ``message`` is plain text, never markup."""
    from rich.text import Text

    one_line = " ".join(message.split("\n"))
    stderr_console().print(Text.assemble(("error:", "bold red"), " ", one_line), highlight=False)


@contextmanager
def stdout_to_stderr(enabled: bool) -> Iterator[None]:
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


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn known input errors into one line on stderr and exit code 2."""
    from scenarios.errors import SpecError

    try:
        yield
    except SpecError as err:
        print_error(str(err))  # the value may hold brackets: S=[nan, nan, nan] must show
        raise typer.Exit(code=2) from None


def print_json(obj: Any) -> None:
    """Print ``obj`` as one indented JSON object on stdout (NaN and infinities as ``null``)."""
    from scenarios.kpis import json_safe

    sys.stdout.write(json.dumps(json_safe(obj), indent=2) + "\n")


def output(as_json: bool, data: Any) -> Any:
    """``--json``: print ``data`` as one JSON object and return ``None``; else a console for the tables."""
    if as_json:
        print_json(data)
        return None
    from rich.console import Console

    return Console()


def seconds(results: list[Any]) -> dict[str, float]:
    """Wall time per policy (building -- tuning or loading -- and simulating it), for --json's top level."""
    return {r.label: round(r.seconds, 3) for r in results if r.seconds is not None}


def evaluation_json(spec: Any, results: list[Any], paths: int, seed: int) -> dict[str, Any]:
    """``echelon evaluate --json``: the setting, then every policy's result (the reference first)."""
    run = results[0].run
    return {"scenario": spec.name, "paths": paths, "periods": run.total_cost.shape[1] - run.warmup,
            "reference": results[0].label, "warmup": run.warmup, "seed": seed,
            "known_optimum": spec.known_optimum, "results": [r.to_dict(spec.known_optimum) for r in results],
            "seconds": seconds(results)}


def fitting_table(console: Any, title: str, rows: list[dict[str, Any]], *, key: str,
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


@contextmanager
def progress(quiet: bool) -> Iterator[Any]:
    """Show the library's progress reports (:mod:`scenarios.progress`) on stderr while the block runs.

    In a terminal: a bar per task with its count, elapsed time and ETA. Elsewhere (a pipe,
    a log): a line when a task starts and, for long ones, one every 30 s with the count and
    the ETA. ``quiet`` (``--json``): nothing. Yields the progress callable, or ``None``.
    """
    if quiet:
        yield None
        return
    console = stderr_console()
    if not console.is_terminal:
        yield progress_lines(console)
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
            eta = f"ETA {clock((now - current['started']) / done * (total - done))}"
        bar.update(bar.tasks[-1].id, total=total, completed=done if total else 0, eta=eta,
                   count=f"{done:,}/{total:,}" if total else "")

    try:
        yield report
    finally:
        bar.stop()


def progress_lines(console: Any) -> Callable[[str, int, int | None], None]:
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
            console.print(f"… {task}: {done:,}/{total:,}, ETA {clock(eta)}", style="dim", markup=False,
                          highlight=False)

    return report


def clock(seconds: float) -> str:
    """``0:01:05`` for 65 s."""
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def short(value: Any) -> str:
    """A parameter value for a table cell: numbers to 4 significant digits, lists comma-separated."""
    if isinstance(value, list | tuple):
        return ",".join(short(v) for v in value)
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def kpi_table(spec: Any, results: list[Any], paths: int, console: Any) -> None:
    """Print the KPI table of ``results``: one row per policy, its label and parameters whole."""
    from rich.text import Text

    optimum = spec.known_optimum
    bounded = results[0].bound_gap is not None
    rows = []
    for r in results:
        k = r.kpis
        label = r.label + ("" if not r.tuning else " (tuned)")
        params = "; ".join(f"{n}={short(v)}" for n, v in r.params.items())
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
    table = fitting_table(console, f"{spec.name}: {paths} paths, mean ± 95% CI half-width, per period",
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


def solve_rows(out: dict[str, Any], optimum: float | None) -> list[tuple[str, str]]:
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




def solve_table(out: dict[str, Any], optimum: float | None) -> Any:
    """``echelon solve``'s result (:func:`milp.solve_summary`) as a two-column table of :func:`solve_rows`."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(f"echelon solve · {out['scenario']} · {out['method']}"), show_header=False,
                  caption=Text(out["note"]) if "note" in out else None)
    table.add_column(overflow="fold")
    table.add_column(overflow="fold")
    for label, value in solve_rows(out, optimum):
        table.add_row(label, value)
    return table


def scenario_rows() -> list[dict[str, Any]]:
    """One dict per built-in scenario: its name, sizes, timing, shortage, known optimum and description."""
    from scenarios import builtin

    rows = []
    for name in builtin.names():
        spec = builtin.get(name)
        rows.append({"name": name, "nodes": len(spec.nodes), "arcs": len(spec.arcs),
                     "skus": len(spec.skus), "demands": len(spec.demands), "timing": spec.timing,
                     "shortage": spec.shortage, "known_optimum": spec.known_optimum,
                     "description": spec.description})
    return rows


def scenario_table(console: Any, rows: list[dict[str, Any]]) -> Any:
    """``echelon scenarios list``: one row per scenario (rows as in its ``--json``), fitted to ``console``."""
    cells = [{"name": r["name"], "nodes": str(r["nodes"]), "skus": str(r["skus"]),
              "demands": str(r["demands"]), "timing": r["timing"], "shortage": r["shortage"],
              "known optimum": "" if r["known_optimum"] is None else f"{r['known_optimum']:g}"}
             for r in rows]
    return fitting_table(console, "Built-in scenarios", cells, key="name",
                         left=("name", "timing", "shortage"),
                         drop=("demands", "skus", "timing", "nodes", "known optimum", "shortage"))


def calibration_table(console: Any, summary: Any, out: str) -> Any:
    """``echelon calibrate``: one row per stream (the family chosen, its parameters, every family's AIC)."""
    def num(x: float | None, digits: int = 3) -> str:
        return "" if x is None else f"{x:.{digits}g}"

    cells = []
    for r in summary.rows():
        season, promo = r["season"], r["promotion"]
        cells.append({"stream": f"{r['node']}/{r['sku']}", "class": r["category"], "kind": r["kind"],
                      "mean": num(r["mean"]), "std": num(r["std"]), "trend": num(r["trend"], 2),
                      "season": "" if season is None else
                      f"A={season['amplitude']:.2f} P={season['period']} ph={season['phase']:.1f}",
                      "promotion": "" if promo is None else
                      f"p={promo['probability']:.3f} lift={promo['lift']:.2f} d={promo['duration']}",
                      "AIC": " ".join(f"{k[:4]}={v:.0f}" for k, v in r["aic"].items())})
    arcs = "; ".join(f"{a}->{n}: " + (f"{lt.value}" if lt.kind == "fixed" else
                                       " ".join(f"{v}({p:.2f})" for v, p in zip(lt.values, lt.probabilities,
                                                                                 strict=True)))
                     for (a, n), (lt, _) in summary.lead_times.items())
    caption = (f"{summary.periods} periods of {summary.step_days} day(s) from {summary.first_date}; "
               f"means at the first date; structure by BIC, family by AIC. Scenario written to {out}"
               + (f". Lead times (periods): {arcs}" if arcs else ""))
    return fitting_table(console, f"Calibrated from {summary.source}", cells, key="stream",
                         left=("stream", "class", "kind", "season", "promotion", "AIC"),
                         drop=("AIC", "promotion", "class", "trend", "season", "std"), caption=caption)


def drift_table(console: Any, report: Any, notes: tuple[str, ...] = ()) -> Any:
    """``echelon shadow``: each stream's drift test (KS of randomised PITs) and whether it drifted."""
    cells = [{"stream": f"{s.node}/{s.sku}", "periods": str(s.periods), "mean seen": f"{s.observed_mean:.3g}",
              "mean expected": f"{s.expected_mean:.3g}", "KS": f"{s.statistic:.3f}",
              "p-value": f"{s.p_value:.3g}", "drifted": "yes" if s.drifted else "no"} for s in report.streams]
    verdict = (f"recalibrate: {', '.join(report.drifted)} drifted" if report.drifted
               else "no stream drifted")
    caption = "\n".join([f"KS of randomised PITs against U(0,1); drifted when p < {report.threshold:.2g} "
                         f"(alpha {report.alpha:g} over {len(report.streams)} streams). {verdict}.", *notes])
    return fitting_table(console, "Drift against the scenario's processes", cells, key="stream",
                         drop=("KS", "periods", "mean expected"), caption=caption)


def path_rows(run: Any, path: int) -> list[dict[str, Any]]:
    """One sample path of a recorded run, period by period after the warm-up (``echelon simulate``)."""
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
    return rows


def path_table(spec: Any, policy: str, path: int, rows: list[dict[str, Any]], show: int) -> Any:
    """The first ``show`` of :func:`path_rows` as a table: demand, stock by node, orders by arc, cost."""
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
    return table


class BatchDisplay:
    """``echelon batch``'s live display on stderr: a bar in a terminal, a line per finished run.

    Pass :meth:`started` and :meth:`finished` to :func:`hybrid.batchrun.run_batch_file`
    (``on_start``, ``on_job``) inside ``with display:``; the bar is drawn from
    :meth:`started` on, so a batch refused before it runs prints only its error.
    """

    def __init__(self, db: str, backend: str) -> None:
        from rich import progress as rp

        self.db, self.backend = db, backend
        self.console = stderr_console()
        self.bar = rp.Progress(rp.TextColumn("[bold]batch"), rp.BarColumn(), rp.MofNCompleteColumn(),
                               rp.TextColumn("elapsed"), rp.TimeElapsedColumn(), rp.TextColumn("ETA"),
                               rp.TimeRemainingColumn(), console=self.console,
                               disable=not self.console.is_terminal)
        self.task = self.bar.add_task("batch", total=None)

    def __enter__(self) -> BatchDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def started(self, source: str, to_run: int, skipped: int, retried: int) -> None:
        """Say how many runs there are, how many are stored already and how many are retried."""
        from rich.text import Text

        self.bar.start()
        again = f" ({retried} failed before and are retried)" if retried else ""
        self.console.print(Text(f"{source}: {to_run + skipped} runs, {skipped} already in {self.db}, "
                                f"{to_run} to run on {self.backend}{again}", style="dim"))
        self.bar.update(self.task, total=to_run)

    def finished(self, out: Any) -> None:
        """One line for a run that was stored or failed (a :class:`hybrid.batch.JobOutcome`)."""
        from rich.text import Text

        j = out.job
        what = f"{j.scenario} · {j.policy} · seed {j.seed}"
        self.bar.console.print(Text(f"[{out.done}/{out.total}] stored {what} ({out.seconds:.1f} s)")
                               if out.stored else
                               Text(f"[{out.done}/{out.total}] failed {what}: {out.error}", style="red"))
        self.bar.advance(self.task)


def batch_table(run: Any) -> Any:
    """The runs of a :class:`hybrid.batchrun.BatchRun` averaged over seeds (``mean_over_seeds``)."""
    from rich.table import Table

    from hybrid.store import mean_over_seeds

    s = run.summary
    table = Table(title=f"{run.db}: mean over seeds",
                  caption=f"{len(run.runs)} of {s.jobs} runs of {run.source} stored: {s.stored} new, "
                  f"{s.skipped} skipped, {len(s.failed)} failed ({s.seconds:.1f} s)")
    for col in ("scenario", "policy", "seeds", "cost/period", "fill rate"):
        names = col in ("scenario", "policy")  # typed back by users: folded, never cut
        table.add_column(col, justify="left" if names else "right", overflow="fold" if names else "ellipsis")
    for m in mean_over_seeds(run.runs):
        table.add_row(m["scenario"], m["policy"], str(m["seeds"]), f"{m['cost_mean']:.4g}",
                      "" if m["fill_rate"] is None else f"{m['fill_rate']:.2%}")
    return table


def print_batch_end(run: Any) -> None:
    """On stderr: how far a stopped batch got, or which runs failed (to be retried by the same command)."""
    err = stderr_console()
    if run.interrupted:
        err.print("interrupted: nothing ran" if run.stored is None else
                  f"interrupted: {run.stored} of {run.jobs} runs stored in {run.db}; run the same command "
                  "again to resume", markup=False, highlight=False)
        return
    failed = run.failed
    if failed:
        err.print(f"{len(failed)} of {run.summary.jobs} runs failed (recorded in {run.db}); run the same "
                  "command again to retry them:", markup=False, highlight=False)
    for f in failed:
        err.print(f"  {f['scenario']} · {f['policy']} · seed {f['seed']}: {f['error']}", markup=False,
                  highlight=False)
