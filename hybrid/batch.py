"""Batch runs: every (scenario, policy, seed) of a batch file, locally or on Ray, into DuckDB.

A job is one call of :func:`scenarios.evaluate.evaluate` for one policy; its
numbers depend only on its key (:func:`hybrid.store.run_key`): the test paths
come from ``seed`` and a bare policy name is tuned on paths from
``train_seed(seed)``. So a job gives the same KPIs in any process, on either
backend, and :func:`run_batch` skips every job whose key the store already
holds: kill a batch and start it again and it finishes the rest, with nothing
redone and nothing lost.

Workers only compute; the parent process is the only writer, storing each
job as it arrives, in one transaction (:meth:`hybrid.store.Store.add`).

Every job runs in a process of its own, on both backends. A worker reused
across jobs carried state from earlier jobs into the MILP solves: a
fixed-cost rolling-horizon job cost 378.77 on a reused Ray worker and 379.21
alone, in a fresh Ray worker and in the local pool. A fresh process per job
costs a few seconds of imports and makes a job's numbers depend on its key alone.

Backends:

* ``local`` -- a :class:`concurrent.futures.ProcessPoolExecutor` (spawned
  processes, ``workers`` of them, default: the machine's cores).
* ``ray`` -- ``ray.init()`` on this machine, or ``ray.init(address=...)`` to
  attach to a cluster (every node needs echelon installed). Install with
  ``pip install -e ".[ray]"``.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np

from hybrid.batchfile import Batch, Job
from hybrid.store import Store
from scenarios.errors import SpecError

__all__ = ["BACKENDS", "BatchSummary", "JobOutcome", "check_options", "run_batch", "run_job"]

BACKENDS = ("local", "ray")

_VERSIONED = ("echelon", "numpy", "scipy", "pyomo", "highspy", "duckdb", "torch", "stable-baselines3")


@dataclass
class JobOutcome:
    """What the parent learns about one job.

    :param job: the job.
    :param stored: ``True`` once its run is in the store.
    :param error: the error text when the job failed (nothing stored then).
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
    :param failed: ``(job, error)`` of jobs that raised; they run again next time.
    :param seconds: wall time of the batch.
    :param keys: keys of every job of the batch, in batch order.
    """

    jobs: int
    skipped: int
    stored: int
    failed: list[tuple[Job, str]] = field(default_factory=list)
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
    from scenarios.policies import parse_policy

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

    Registers every layer's policy names here (:func:`hybrid.arena.register_all`),
    as a fresh worker has none.

    :return: ``{"run": row, "trajectories": columns, "curves": rows}`` for
        :meth:`hybrid.store.Store.add` (plain Python values: cheap to pickle).
    """
    import milp
    from hybrid.arena import register_all
    from scenarios.evaluate import evaluate, train_seed
    from scenarios.paths import SamplePaths
    from scenarios.policies import build_policy

    register_all()
    started = time.perf_counter()
    spec = job.spec
    train: list[SamplePaths] = []

    def train_paths() -> SamplePaths:  # as evaluate() draws them for a policy text
        if not train:
            train.append(SamplePaths.draw(spec, 200, job.periods, seed=train_seed(job.seed)))
        return train[0]

    # Built here rather than by evaluate() so path 0 can be replayed with the same policy.
    policy = build_policy(spec, job.policy, train_paths)
    (result,) = evaluate(spec, [policy], paths=job.paths, periods=job.periods, seed=job.seed,
                         bound=milp.hindsight_bound if job.bound else None)
    test = SamplePaths.draw(spec, job.paths, job.periods, seed=job.seed)
    return record(job.key, job.scenario, spec, job.policy, policy, result, test, job.seed,
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


# ---------------------------------------------------------------------- backends
Finished = tuple[Job, dict[str, Any] | None, str | None]


def _local(jobs: list[Job], workers: int) -> Iterator[Finished]:
    """Yield jobs as they finish, each in a fresh spawned process (see the module notes)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, max_tasks_per_child=1) as pool:
        pending = {pool.submit(run_job, job): job for job in jobs}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    job = pending.pop(future)
                    try:
                        yield job, future.result(), None
                    except SpecError as err:
                        yield job, None, str(err)
                    except Exception as err:  # noqa: BLE001 - a failed job must not stop the batch
                        yield job, None, f"{type(err).__name__}: {err}"
        finally:
            for future in pending:
                future.cancel()


def _ray(jobs: list[Job], workers: int | None, address: str | None) -> Iterator[Finished]:
    """Yield jobs as they finish as Ray tasks (one CPU each), each in a fresh worker (module notes)."""
    try:
        import ray
    except ImportError:
        raise SpecError("--backend", "ray is not installed: pip install -e \".[ray]\"") from None
    started_here = not ray.is_initialized()
    if started_here:
        options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                   "configure_logging": False}
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=workers, **options)
    pending: dict[Any, Job] = {}
    try:
        task = ray.remote(num_cpus=1, max_retries=0, max_calls=1)(run_job)
        pending = {task.remote(job): job for job in jobs}
        while pending:
            (ref,), _ = ray.wait(list(pending), num_returns=1)
            job = pending.pop(ref)
            try:
                yield job, ray.get(ref), None
            except ray.exceptions.RayTaskError as err:
                cause = err.as_instanceof_cause()
                text = str(cause) if isinstance(cause, SpecError) else f"{type(cause).__name__}: {cause}"
                yield job, None, text.strip().splitlines()[-1] if text.strip() else repr(err)
    finally:
        for ref in pending:  # left over only when the caller stopped early
            ray.cancel(ref, force=True)
        if started_here:
            ray.shutdown()


def check_options(backend: str, workers: int | None, address: str | None) -> None:
    """Raise :class:`SpecError` for an unknown backend, a worker count < 1 or a misplaced address."""
    if backend not in BACKENDS:
        raise SpecError("--backend", f"must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if workers is not None and workers < 1:
        raise SpecError("--workers", f"must be >= 1, got {workers}")
    if address and backend != "ray":
        raise SpecError("--address", "only with --backend ray")


def run_batch(batch: Batch, store: Store, *, backend: str = "local", workers: int | None = None,
              address: str | None = None, on_start: Callable[[int, int], None] | None = None,
              on_job: Callable[[JobOutcome], None] | None = None) -> BatchSummary:
    """Run every job of ``batch`` whose key ``store`` lacks, storing each as it finishes.

    :param batch: a checked batch (:func:`hybrid.batchfile.load_batch`).
    :param store: the results store; only this process writes to it.
    :param backend: ``"local"`` (process pool) or ``"ray"``.
    :param workers: parallel jobs (default: the machine's cores; with Ray and
        an ``address``, the cluster decides).
    :param address: Ray cluster address (``ray`` backend only).
    :param on_start: called with ``(to_run, skipped)`` before the first job.
    :param on_job: called after each job is stored or has failed.
    :raises SpecError: unknown backend, bad worker count, Ray missing.
    """
    check_options(backend, workers, address)
    started = time.perf_counter()
    jobs = batch.jobs()
    stored_keys = store.keys()
    todo = [j for j in jobs if j.key not in stored_keys]
    summary = BatchSummary(jobs=len(jobs), skipped=len(jobs) - len(todo), stored=0,
                           keys=[j.key for j in jobs])
    if on_start:
        on_start(len(todo), summary.skipped)
    if todo:
        n = workers or os.cpu_count() or 1
        finished = _local(todo, min(n, len(todo))) if backend == "local" else _ray(todo, workers, address)
        for done, (job, out, error) in enumerate(finished, start=1):
            seconds = 0.0
            if out is not None:
                store.add(**out)
                summary.stored += 1
                seconds = out["run"]["seconds"]
            else:
                summary.failed.append((job, error or "failed"))
            if on_job:
                on_job(JobOutcome(job, out is not None, error, seconds, done, len(todo)))
    summary.seconds = time.perf_counter() - started
    return summary
