"""Batch runs: every (scenario, policy, seed) of a batch file, locally or on Ray, into DuckDB.

A job is one call of :func:`scenarios.evaluate.evaluate_policies` for one policy; its
numbers depend only on its key (:func:`hybrid.store.run_key`): the test paths
come from ``seed`` and a bare policy name is tuned on paths from
``train_seed(seed)``. So a job gives the same KPIs in any process, on either
backend, and :func:`run_batch` skips every job whose key the store already
holds: kill a batch and start it again and it finishes the rest, with nothing
redone and nothing lost.

Workers only compute; the parent process is the only writer, storing each
job as it arrives, in one transaction (:meth:`hybrid.store.Store.add`).

A job that raises, or whose process dies, fails alone: the worker sends back
its error as one line of text (an exception object may not survive pickling),
the parent records it in the store's ``failures`` table and the other jobs
go on. Failed jobs are not in ``runs``, so the next start of the batch retries
them. Ctrl-C stops a batch cleanly: the workers ignore SIGINT, the parent
stores what has finished, stops the workers and reports how far it got.

Every job runs in a process of its own, on both backends. A worker reused
across jobs carried state from earlier jobs into the MILP solves: a
fixed-cost rolling-horizon job cost 378.77 on a reused Ray worker and 379.21
alone, in a fresh Ray worker and in the local pool. A fresh process per job
costs a few seconds of imports and makes a job's numbers depend on its key alone.

Backends:

* ``local`` -- spawned processes, one per job, ``workers`` at a time
  (default: the machine's cores).
* ``ray`` -- ``ray.init()`` on this machine, or ``ray.init(address=...)`` to
  attach to a cluster (every node needs echelon installed). Install with
  ``pip install -e ".[ray]"``.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from multiprocessing import connection
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from hybrid.batchfile import Batch, Job
from hybrid.store import Store
from scenarios.errors import SpecError
from scenarios.outputs import writable_file

__all__ = ["BACKENDS", "BatchSummary", "JobOutcome", "check_export", "check_options", "run_batch", "run_job"]

BACKENDS = ("local", "ray")

_VERSIONED = ("echelon", "numpy", "scipy", "pyomo", "highspy", "duckdb", "torch", "stable-baselines3")


@dataclass
class JobOutcome:
    """What the parent learns about one job.

    :param job: the job.
    :param stored: ``True`` once its run is in the store.
    :param error: the error on one line when the job failed (recorded as a failure then).
    :param seconds: the job's wall time in its worker.
    :param done: jobs finished so far (stored or failed), this one included.
    :param total: jobs to run in this batch (skipped ones excluded).
    """

    job: Job
    stored: bool
    error: str | None
    seconds: float
    done: int
    total: int


@dataclass
class BatchSummary:
    """How a batch went.

    :param jobs: jobs in the batch file.
    :param skipped: jobs whose key was already stored.
    :param stored: jobs run and stored now.
    :param failed: ``(job, error)`` of jobs that raised or whose worker died;
        they are recorded as failures and run again next time.
    :param retried: jobs run now that had failed in an earlier batch.
    :param interrupted: the batch was stopped by Ctrl-C before every job finished.
    :param seconds: wall time of the batch.
    :param keys: keys of every job of the batch, in batch order.
    """

    jobs: int
    skipped: int
    stored: int
    failed: list[tuple[Job, str]] = field(default_factory=list)
    retried: int = 0
    interrupted: bool = False
    seconds: float = 0.0
    keys: list[str] = field(default_factory=list)


def _versions() -> dict[str, str]:
    import platform

    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def _trajectory(spec: Any, test: Any, policy: Any) -> dict[str, list[Any]]:
    """Sample path 0 replayed with recording on: stock, backlog and orders per node and SKU."""
    from scenarios.simulator import Simulator

    first = test.subset(slice(0, 1))
    sim = Simulator(spec, first, record=True, policy_name=policy.name)
    policy.reset(sim.network, 1)
    backlog = []
    while not sim.done:
        sim.step(policy)
        backlog.append(sim.state.external_backlog[0])
    on_hand = sim.trace["stock"][0, 1:]  # (T, N, K): end of each period
    ordered = sim.network.at_customers(sim.trace["orders"])[0]  # (T, N, K): what each node ordered
    periods, nodes, skus = on_hand.shape
    t, n, k = (a.ravel() for a in np.meshgrid(np.arange(periods), np.arange(nodes), np.arange(skus),
                                              indexing="ij"))
    return {"path": [0] * len(t), "period": t.tolist(),
            "node": [spec.node_ids[i] for i in n], "sku": [spec.sku_ids[i] for i in k],
            "on_hand": on_hand.ravel().tolist(), "backlog": np.asarray(backlog).ravel().tolist(),
            "ordered": ordered.ravel().tolist()}


def _curve(policy_text: str) -> list[dict[str, Any]]:
    """The learning curve of a trained agent (``rl``, ``hybrid-mpc``, ``hybrid-anchor``), else nothing."""
    from scenarios.registry import parse_policy

    name, params = parse_policy(policy_text)
    if name not in ("rl", "hybrid-mpc", "hybrid-anchor") or not params:
        return []
    from rl.artifacts import read_metadata

    meta, _ = read_metadata(str(params["path"][0]))
    history = (meta.get("training") or {}).get("history") or []
    return [{"timesteps": int(h["timesteps"]), "cost": h.get("cost"), "anchor_cost": h.get("anchor_cost")}
            for h in history]


def run_job(job: Job) -> dict[str, Any]:
    """Run one job in this process: evaluate, replay path 0, read any learning curve.

    :return: ``{"run": row, "trajectories": columns, "curves": rows}`` for
        :meth:`hybrid.store.Store.add` (plain Python values: cheap to pickle).
    """
    import milp
    from scenarios.evaluate import evaluate_policies

    started = time.perf_counter()
    spec = job.spec
    evaluation = evaluate_policies(spec, [job.policy], paths=job.paths, periods=job.periods, seed=job.seed,
                                   bound=milp.hindsight_bound if job.bound else None)
    (result,) = evaluation.results
    return record(job.key, job.scenario, spec, job.policy, result.policy, result, evaluation.test, job.seed,
                  time.perf_counter() - started)


def record(key: str, scenario: str, spec: Any, text: str, policy: Any, result: Any, test: Any, seed: int,
           seconds: float) -> dict[str, Any]:
    """One evaluated policy as what :meth:`hybrid.store.Store.add` takes.

    :param key: the run's key (:func:`hybrid.store.run_key`).
    :param scenario: the scenario's name in the store.
    :param spec: the scenario.
    :param text: the policy text (label and key).
    :param policy: the policy object that ran (replayed on path 0 for the trajectories).
    :param result: its :class:`~scenarios.evaluate.PolicyResult` on ``test``.
    :param test: the test paths.
    :param seed: their seed.
    :param seconds: wall time of the run (building the policy, simulating it, the bound if asked).
    :return: the keyword arguments of :meth:`~hybrid.store.Store.add`: ``run``, ``trajectories``,
        ``curves`` and ``path_costs``.
    """
    result.label = text
    trajectories = _trajectory(spec, test, policy)
    cost = result.kpis["cost_per_period"]
    gap = (result.bound_gap.mean / result.bound_mean
           if result.bound_gap is not None and result.bound_mean else None)
    row = {
        "key": key, "scenario": scenario, "scenario_hash": spec.hash, "policy": text,
        "family": result.family, "seed": seed, "paths": test.n_paths,
        "periods": test.n_periods - test.warmup,
        "warmup": result.run.warmup, "cost_mean": cost.mean, "cost_lo": cost.low, "cost_hi": cost.high,
        "fill_rate": result.kpis["fill_rate"].mean, "bound_mean": result.bound_mean, "gap_to_bound": gap,
        "seconds": seconds, "result": result.to_dict(spec.known_optimum),
        "versions": _versions(),
    }
    per_path = result.run.total_cost[:, result.run.warmup:].mean(axis=1)
    return {"run": _finite(row), "trajectories": trajectories, "curves": _curve(text),
            "path_costs": {"path": list(range(len(per_path))), "cost": per_path.tolist()}}


def _finite(row: dict[str, Any]) -> dict[str, Any]:
    """NaN or infinite scalar columns (a one-path CI) become NULL."""
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}


# ---------------------------------------------------------------------- workers
class Finished(NamedTuple):
    """One job back from a worker: its result, or its error on one line and the traceback."""

    job: Job
    out: dict[str, Any] | None
    error: str | None = None
    detail: str | None = None


def _one_line(err: BaseException) -> str:
    """An error as one line: a :class:`SpecError` as the CLI prints it, others with their type."""
    text = str(err) if isinstance(err, SpecError) else f"{type(err).__name__}: {err}"
    return " ".join(part.strip() for part in text.splitlines() if part.strip()) or type(err).__name__


def _attempt(run: Callable[[Job], dict[str, Any]], job: Job) -> tuple[dict[str, Any] | None, str | None,
                                                                     str | None]:
    """``run(job)`` in a worker as ``(out, error, traceback)``: nothing a worker raises crosses back.

    An exception may not survive pickling (a class not importable in the
    parent, an ``__init__`` that takes other arguments), so only its text does.
    """
    try:
        return run(job), None, None
    except BaseException as err:  # every failure of a job is reported, none is raised
        return None, _one_line(err), traceback.format_exc()


def _work(conn: Connection, run: Callable[[Job], dict[str, Any]], job: Job) -> None:
    """A local worker: run one job and send ``(out, error, traceback)`` to the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    answer = _attempt(run, job)
    try:
        conn.send(answer)
    except Exception as err:  # a result that does not pickle fails this job only
        conn.send((None, f"the result could not be sent: {_one_line(err)}", traceback.format_exc()))
    conn.close()


def _death(exitcode: int | None) -> str:
    """Why a worker process ended without a result."""
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name
        hint = " (out of memory?)" if -exitcode == signal.SIGKILL else ""
        return f"the worker process was killed by {name}{hint} before it returned a result"
    return f"the worker process exited with code {exitcode} before it returned a result"


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Hold back SIGINT while a worker starts.

    The worker inherits the blocked mask, so a Ctrl-C cannot interrupt its
    imports; the parent receives the signal as soon as the mask is restored.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


# ---------------------------------------------------------------------- backends
_POLL = 0.2  # seconds between checks for an interrupt while waiting for workers


def _local(jobs: list[Job], workers: int, run: Callable[[Job], dict[str, Any]],
           stop: Callable[[], bool]) -> Iterator[Finished]:
    """Yield jobs as they finish, each in a spawned process of its own (see the module notes).

    A job that raises, or whose process dies, comes back failed; the others
    are not affected. Once ``stop()`` is true no job starts, finished answers
    are still yielded, and the running workers are terminated.
    """
    context = multiprocessing.get_context("spawn")
    queue = list(jobs)
    running: dict[Connection, tuple[BaseProcess, Job]] = {}
    try:
        while queue or running:
            while queue and len(running) < workers and not stop():
                job = queue.pop(0)
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=_work, args=(send, run, job))
                with _sigint_blocked():
                    process.start()
                send.close()  # the worker holds the only sending end: its exit reads as EOF
                running[receive] = (process, job)
            waiting = [*running, *(process.sentinel for process, _ in running.values())]
            ready = set(connection.wait(waiting, timeout=_POLL))
            for receive, (process, job) in list(running.items()):
                if receive not in ready and process.sentinel not in ready:
                    continue
                try:
                    out, error, detail = receive.recv() if receive.poll() else (None, None, None)
                except (EOFError, OSError):
                    out, error, detail = None, None, None
                del running[receive]
                receive.close()
                _reap(process)
                if out is None and error is None:
                    error = _death(process.exitcode)
                yield Finished(job, out, error, detail)
            if stop():
                return
    finally:
        for receive, (process, _) in running.items():  # left over only when stopped
            process.terminate()
            _reap(process)
            receive.close()


def _reap(process: BaseProcess, timeout: float = 10.0) -> None:
    """Wait for a worker to exit; kill one that lingers (it has answered, or been told to stop)."""
    process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join()


def _ray(jobs: list[Job], workers: int | None, address: str | None, run: Callable[[Job], dict[str, Any]],
         stop: Callable[[], bool]) -> Iterator[Finished]:
    """Yield jobs as they finish as Ray tasks (one CPU each), each in a fresh worker (module notes)."""
    try:
        import ray
    except ImportError:
        raise SpecError("--backend", "ray is not installed: pip install -e \".[ray]\"") from None
    started_here = not ray.is_initialized()
    if started_here:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                   "configure_logging": False}
        with _sigint_blocked():  # Ray's own processes start here and must not see Ctrl-C either
            if address:
                ray.init(address=address, **options)
            else:
                ray.init(num_cpus=workers, **options)
    pending: dict[Any, Job] = {}
    try:
        task = ray.remote(num_cpus=1, max_retries=0, max_calls=1)(_attempt)
        pending = {task.remote(run, job): job for job in jobs}
        while pending and not stop():
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=_POLL)
            for ref in ready:
                job = pending.pop(ref)
                try:
                    yield Finished(job, *ray.get(ref))
                except ray.exceptions.RayError as err:  # the worker died: only this job fails
                    first = (str(err).strip().splitlines() or [""])[0]
                    yield Finished(job, None, f"{type(err).__name__}: {first}", str(err))
    finally:
        for ref in pending:  # left over only when stopped
            ray.cancel(ref, force=True)
        if started_here:
            ray.shutdown()


# ---------------------------------------------------------------------- the batch
def check_export(path: str | Path) -> Path:
    """Check that a Parquet file can be written at ``path`` before anything runs.

    Unlike ``--out`` elsewhere, a missing folder is not made: a typo in it should not
    leave a new folder behind. The rest is :func:`scenarios.outputs.writable_file`.

    :raises SpecError: field ``--export``: a directory, a missing or
        non-directory parent, or no permission to write there.
    """
    target = Path(path)
    if not target.parent.exists():
        raise SpecError("--export", f"directory {str(target.parent)!r} does not exist (for {str(path)!r})")
    return writable_file("--export", target)


def check_options(backend: str, workers: int | None, address: str | None,
                  export: str | Path | None = None) -> None:
    """Check the batch command's options before anything runs.

    :raises SpecError: an unknown backend, a worker count < 1, an address
        without Ray, or an export file that cannot be written (:func:`check_export`).
    """
    if backend not in BACKENDS:
        raise SpecError("--backend", f"must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if workers is not None and workers < 1:
        raise SpecError("--workers", f"must be >= 1, got {workers}")
    if address and backend != "ray":
        raise SpecError("--address", "only with --backend ray")
    if export is not None:
        check_export(export)


@contextmanager
def _interrupts() -> Iterator[Callable[[], bool]]:
    """Turn SIGINT into a flag the batch checks between jobs (main thread only).

    A Ctrl-C then never lands inside a store write: the batch stores what has
    finished, stops its workers and returns.
    """
    seen: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        yield lambda: bool(seen)
    finally:
        signal.signal(signal.SIGINT, previous)


def run_batch(batch: Batch, store: Store, *, backend: str = "local", workers: int | None = None,
              address: str | None = None, on_start: Callable[[int, int, int], None] | None = None,
              on_job: Callable[[JobOutcome], None] | None = None,
              run: Callable[[Job], dict[str, Any]] | None = None) -> BatchSummary:
    """Run every job of ``batch`` whose key ``store`` lacks, storing each as it finishes.

    A job that raises, or whose worker dies, is recorded as failed with its
    error on one line (:meth:`hybrid.store.Store.add_failure`) and the others
    go on; failed jobs are not in ``runs``, so the next run of the batch
    retries them. A Ctrl-C (SIGINT) stops the batch: what has finished is
    stored, the workers are stopped, and the summary says ``interrupted``.

    :param batch: a checked batch (:func:`hybrid.batchfile.load_batch`).
    :param store: the results store; only this process writes to it.
    :param backend: ``"local"`` (a process per job) or ``"ray"``.
    :param workers: parallel jobs (default: the machine's cores; with Ray and
        an ``address``, the cluster decides).
    :param address: Ray cluster address (``ray`` backend only).
    :param on_start: called with ``(to_run, skipped, retried)`` before the first
        job; ``retried`` of the jobs to run failed in an earlier batch.
    :param on_job: called after each job is stored or has failed.
    :param run: what a worker calls with a job, a module-level function (it is
        pickled by name) [default: :func:`run_job`].
    :raises SpecError: unknown backend, bad worker count, Ray missing.
    """
    check_options(backend, workers, address)
    started = time.perf_counter()
    jobs = batch.jobs()
    stored_keys = store.keys()
    failed_before = store.failures()
    todo = [j for j in jobs if j.key not in stored_keys]
    summary = BatchSummary(jobs=len(jobs), skipped=len(jobs) - len(todo), stored=0,
                           retried=sum(j.key in failed_before for j in todo), keys=[j.key for j in jobs])
    if on_start:
        on_start(len(todo), summary.skipped, summary.retried)
    if todo:
        n = min(workers or os.cpu_count() or 1, len(todo))
        run = run or run_job
        with _interrupts() as stop:
            finished = (_local(todo, n, run, stop) if backend == "local"
                        else _ray(todo, workers, address, run, stop))
            for done, (job, out, error, detail) in enumerate(finished, start=1):
                seconds = 0.0
                if out is not None:
                    store.add(**out)
                    summary.stored += 1
                    seconds = out["run"]["seconds"]
                else:
                    error = error or "failed"
                    store.add_failure(job.key, job.scenario, job.policy, job.seed, error, detail)
                    summary.failed.append((job, error))
                if on_job:
                    on_job(JobOutcome(job, out is not None, error, seconds, done, len(todo)))
            summary.interrupted = stop() and summary.stored + len(summary.failed) < len(todo)
    summary.seconds = time.perf_counter() - started
    return summary
