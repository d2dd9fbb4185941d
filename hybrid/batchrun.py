"""What ``echelon batch`` does below its printing: a batch file run into a DuckDB file.

:func:`run_batch_file` checks the options and the whole file before anything
runs, opens the store, runs the jobs not stored yet (:func:`hybrid.batch.run_batch`),
exports the runs table if asked and returns the batch's stored runs. Ctrl-C
returns how many runs were stored instead of raising: the same call resumes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hybrid.batch import BatchSummary, JobOutcome, check_options, run_batch
from hybrid.batchfile import load_batch
from hybrid.store import Store
from scenarios.errors import SpecError

__all__ = ["BatchRun", "run_batch_file"]

#: The columns of a run in :meth:`BatchRun.to_dict`.
RUN_FIELDS = ("key", "scenario", "policy", "seed", "paths", "periods", "cost_mean", "cost_lo", "cost_hi",
              "fill_rate", "gap_to_bound", "seconds")


@dataclass
class BatchRun:
    """What :func:`run_batch_file` did.

    :param db: the DuckDB file; ``export``: the Parquet file written, if any; ``backend``: as given.
    :param source: the batch file as loaded (``None`` if stopped before it was read).
    :param summary: how the batch went (``None`` if stopped by Ctrl-C).
    :param runs: the stored runs of this batch's jobs (rows of :meth:`Store.runs`).
    :param interrupted: stopped by Ctrl-C; then ``stored`` of ``jobs`` runs are in ``db``
        (``stored`` is ``None`` if nothing ran).
    """

    db: str
    export: str | None
    backend: str
    source: str | None = None
    summary: BatchSummary | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False
    stored: int | None = None
    jobs: int = 0

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The jobs that failed now: key, scenario, policy, seed and the error's one line."""
        failed = self.summary.failed if self.summary else []
        return [{"key": j.key, "scenario": j.scenario, "policy": j.policy, "seed": j.seed, "error": e}
                for j, e in failed]

    def to_dict(self) -> dict[str, Any]:
        """The JSON ``echelon batch --json`` prints."""
        s = self.summary
        return {"db": self.db, "export": self.export, "backend": self.backend, "jobs": s.jobs,
                "skipped": s.skipped, "stored": s.stored, "failed": self.failed, "retried": s.retried,
                "seconds": round(s.seconds, 3), "runs": [{k: r[k] for k in RUN_FIELDS} for r in self.runs]}


def _open(db: str) -> Store:
    import duckdb

    try:
        return Store(db)
    except duckdb.Error as err:
        raise SpecError("--db", f"cannot open {db}: {str(err).splitlines()[0]}") from None


def run_batch_file(file: str | Path, db: str = "results.duckdb", *, backend: str = "local",
                   workers: int | None = None, address: str | None = None, export: str | None = None,
                   on_start: Callable[[str, int, int, int], None] | None = None,
                   on_job: Callable[[JobOutcome], None] | None = None) -> BatchRun:
    """Run every job of a batch file not yet stored in ``db``; export and return the batch's runs.

    :param file: the batch file (TOML; see :func:`hybrid.batchfile.load_batch`).
    :param db: the DuckDB results file (created if missing).
    :param backend: ``"local"`` or ``"ray"``; ``workers``, ``address``: see :func:`hybrid.batch.run_batch`.
    :param export: also write the runs table to this Parquet file (checked before anything runs).
    :param on_start: called once with the file's source, the jobs to run, the jobs skipped
        and the jobs retried.
    :param on_job: called with each job's outcome as it is stored or fails.
    :raises SpecError: a bad option, batch file or database -- before anything runs.
    """
    plan, store = None, None
    try:
        check_options(backend, workers, address, export)
        plan = load_batch(file)  # the whole file is checked before anything runs
        store = _open(db)
        started = functools.partial(on_start, plan.source) if on_start else None
        with store:
            summary = run_batch(plan, store, backend=backend, workers=workers, address=address,
                                on_start=started, on_job=on_job)
            if summary.interrupted:
                raise KeyboardInterrupt
            if export:
                store.export(export)
            keys = set(summary.keys)
            runs = [r for r in store.runs() if r["key"] in keys]
    except KeyboardInterrupt:
        done = BatchRun(db, export, backend, plan.source if plan else None, interrupted=True)
        if plan is not None and store is not None:
            keys = {j.key for j in plan.jobs()}
            with Store(db, read_only=True) as stored:
                done.stored, done.jobs = len(stored.keys() & keys), len(keys)
        return done
    return BatchRun(db, export, backend, plan.source, summary, runs, jobs=summary.jobs)
