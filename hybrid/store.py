"""The results store: one embedded DuckDB file per batch of runs.

A *run* is one policy evaluated on one scenario with one seed, ``paths`` test
paths and ``periods`` measured periods. Its key (:func:`run_key`) is a hash of
exactly those inputs, so a batch that is killed and started again finds what
it has already stored and runs only the rest.

Tables (the report reads them; names are a contract):

``runs``
    one row per run: ``key`` (primary key), ``scenario``, ``scenario_hash``,
    ``policy`` (the text asked for), ``family``, ``seed``, ``paths``,
    ``periods`` (measured), ``warmup``, ``cost_mean``/``cost_lo``/``cost_hi``
    (cost per period and its 95% CI), ``fill_rate``, ``bound_mean`` and
    ``gap_to_bound`` (relative; NULL unless the hindsight bound was asked for),
    ``seconds`` (wall time of the run: tuning or loading the policy and
    simulating it, and the hindsight bound when asked for), ``result`` (JSON: the full
    :meth:`~scenarios.evaluate.PolicyResult.to_dict`, cost parts and every
    KPI included), ``versions`` (JSON), ``created``.
``trajectories``
    sample path 0 of each run, period by period (warm-up included, period 0
    first) and node by node: ``on_hand`` at the end of the period,
    ``backlog`` (external demand owed at the node), ``ordered`` (units the
    node ordered from all its suppliers).
``path_costs``
    the run's cost per period on each test path (after warm-up): ``path``,
    ``cost``. Runs on the same scenario, seed, paths and periods share their
    sample paths, so the report pairs these path by path.
``learning_curves``
    for runs of a trained RL agent: its evaluation history (``timesteps``,
    ``cost`` of the agent, ``anchor_cost`` of the policy it learns around).
``failures``
    jobs of a batch that raised or whose worker died, one row per key (the
    latest attempt): ``key``, ``scenario``, ``policy``, ``seed``, ``error``
    (one line), ``traceback``, ``created``. A failed job has no row in
    ``runs``, so a batch started again retries it; storing its run deletes
    its failure.

Only one process writes (DuckDB allows one writer per file); :meth:`Store.add`
writes a run and its rows in one transaction, so a kill never leaves half a
run behind.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from scenarios.errors import SpecError
from scenarios.kpis import json_safe

__all__ = ["RUN_COLUMNS", "TRAJECTORY_COLUMNS", "CURVE_COLUMNS", "PATH_COST_COLUMNS", "FAILURE_COLUMNS",
           "Store", "mean_over_seeds", "run_key"]

RUN_COLUMNS: dict[str, str] = {
    "key": "VARCHAR PRIMARY KEY",
    "scenario": "VARCHAR NOT NULL",
    "scenario_hash": "VARCHAR NOT NULL",
    "policy": "VARCHAR NOT NULL",
    "family": "VARCHAR",
    "seed": "INTEGER NOT NULL",
    "paths": "INTEGER NOT NULL",
    "periods": "INTEGER NOT NULL",
    "warmup": "INTEGER",
    "cost_mean": "DOUBLE",
    "cost_lo": "DOUBLE",
    "cost_hi": "DOUBLE",
    "fill_rate": "DOUBLE",
    "bound_mean": "DOUBLE",
    "gap_to_bound": "DOUBLE",
    "seconds": "DOUBLE",
    "result": "JSON",
    "versions": "JSON",
    "created": "TIMESTAMP",
}
"""Columns of ``runs`` and their SQL types, in table order."""

TRAJECTORY_COLUMNS: dict[str, str] = {
    "key": "VARCHAR NOT NULL",
    "path": "INTEGER",
    "period": "INTEGER",
    "node": "VARCHAR",
    "sku": "VARCHAR",
    "on_hand": "DOUBLE",
    "backlog": "DOUBLE",
    "ordered": "DOUBLE",
}
"""Columns of ``trajectories``."""

CURVE_COLUMNS: dict[str, str] = {
    "key": "VARCHAR NOT NULL",
    "timesteps": "BIGINT",
    "cost": "DOUBLE",
    "anchor_cost": "DOUBLE",
}
"""Columns of ``learning_curves``."""

PATH_COST_COLUMNS: dict[str, str] = {
    "key": "VARCHAR NOT NULL",
    "path": "INTEGER",
    "cost": "DOUBLE",
}
"""Columns of ``path_costs``."""

FAILURE_COLUMNS: dict[str, str] = {
    "key": "VARCHAR PRIMARY KEY",
    "scenario": "VARCHAR",
    "policy": "VARCHAR",
    "seed": "INTEGER",
    "error": "VARCHAR NOT NULL",
    "traceback": "VARCHAR",
    "created": "TIMESTAMP",
}
"""Columns of ``failures``."""

_TABLES = {"runs": RUN_COLUMNS, "trajectories": TRAJECTORY_COLUMNS, "learning_curves": CURVE_COLUMNS,
           "path_costs": PATH_COST_COLUMNS, "failures": FAILURE_COLUMNS}
_JSON_COLUMNS = ("result", "versions")

Rows = Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]]
"""Rows as a list of dicts, or columns as a dict of equal-length sequences."""


def run_key(scenario_hash: str, policy: str, seed: int, paths: int, periods: int) -> str:
    """The stable key of a run: a hash of what determines its numbers.

    The same scenario content, policy text, seed, number of paths and measured
    periods give the same key in any process and on any machine (a bare policy
    name is tuned on paths from :func:`~scenarios.evaluate.train_seed`, so it is
    deterministic too).

    >>> run_key("abc", "sS", 0, 10, 20) == run_key("abc", "sS", 0, 10, 20)
    True
    >>> run_key("abc", "sS", 0, 10, 20) == run_key("abc", "sS", 1, 10, 20)
    False
    """
    text = json.dumps([scenario_hash, policy.strip(), int(seed), int(paths), int(periods)])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _columns(rows: Rows | None, names: Sequence[str], key: str) -> dict[str, list[Any]] | None:
    """Rows (dicts) or columns (dict of sequences) as columns, each prefixed by ``key``."""
    if rows is None or len(rows) == 0:
        return None
    if isinstance(rows, Mapping):
        cols = {n: list(rows[n]) for n in names if n != "key"}
    else:
        cols = {n: [r.get(n) for r in rows] for n in names if n != "key"}
    lengths = {len(v) for v in cols.values()}
    if len(lengths) != 1:
        raise ValueError(f"columns must have equal lengths, got {sorted(lengths)}")
    n = lengths.pop()
    return {"key": [key] * n, **cols} if n else None


class Store:
    """A DuckDB file of runs, trajectories and learning curves.

    ::

        with Store("results.duckdb") as store:
            if not store.has(key):
                store.add(row, trajectories, curves)
            store.export("results.parquet")

    :param path: the database file (created with its tables if missing).
    :param read_only: open for reading only; several read-only stores of one
        file may be open at once, but not while a writer holds it.
    :raises SpecError: the file's ``runs`` (or another table of these names)
        lacks columns of this store: another program's database.
    """

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise FileNotFoundError(f"no results database at {self.path}")
        self._con = duckdb.connect(str(self.path), read_only=read_only)
        try:
            self._check_schema()  # before creating anything in another program's file
            if not read_only:
                for table, columns in _TABLES.items():
                    cols = ", ".join(f"{name} {sql}" for name, sql in columns.items())
                    self._con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({cols})")
        except BaseException:
            self.close()
            raise

    def _check_schema(self) -> None:
        """Refuse a database whose tables of these names have other columns (another program's file)."""
        for table, columns in _TABLES.items():
            have = [name for (name,) in self.connection.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = ? ORDER BY ordinal_position", [table]).fetchall()]
            missing = [c for c in columns if c not in have]
            if have and missing:
                raise SpecError(str(self.path), f"not an echelon results database: its table {table} "
                                f"has no column {', '.join(missing)} (it has {', '.join(have)})")

    # ------------------------------------------------------------------ life cycle
    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The open DuckDB connection, for queries of your own."""
        if self._con is None:
            raise RuntimeError(f"store {self.path} is closed")
        return self._con

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = self.connection
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    # ------------------------------------------------------------------ writing
    def add(self, run: Mapping[str, Any], trajectories: Rows | None = None,
            curves: Rows | None = None, path_costs: Rows | None = None) -> bool:
        """Store one run with its trajectory, learning-curve and path-cost rows, all or nothing.

        :param run: a row of ``runs``; ``key`` is required, ``result`` and
            ``versions`` may be dicts (stored as JSON), ``created`` defaults to
            now (UTC). Unknown columns are rejected.
        :param trajectories: rows of ``trajectories`` without ``key``, as a list
            of dicts or a dict of columns.
        :param curves: rows of ``learning_curves`` without ``key``, likewise.
        :param path_costs: rows of ``path_costs`` without ``key``, likewise.
        :return: ``True`` if stored, ``False`` if the key was already there
            (nothing is written then).
        :raises ValueError: no key, an unknown column or ragged columns.
        """
        key = run.get("key")
        if not key:
            raise ValueError("run needs a 'key' (see run_key)")
        unknown = sorted(set(run) - set(RUN_COLUMNS))
        if unknown:
            raise ValueError(f"unknown run column {unknown[0]!r}; known: {', '.join(RUN_COLUMNS)}")
        row = {name: run.get(name) for name in RUN_COLUMNS}
        for name in _JSON_COLUMNS:
            if row[name] is not None and not isinstance(row[name], str):
                row[name] = json.dumps(json_safe(row[name]), allow_nan=False, default=_json_default)
        if row["created"] is None:
            row["created"] = datetime.now(UTC).replace(tzinfo=None)
        traj = _columns(trajectories, list(TRAJECTORY_COLUMNS), key)
        curve = _columns(curves, list(CURVE_COLUMNS), key)
        per_path = _columns(path_costs, list(PATH_COST_COLUMNS), key)
        with self._transaction() as con:
            if con.execute("SELECT 1 FROM runs WHERE key = ?", [key]).fetchone():
                return False
            con.execute(f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                        list(row.values()))
            for table, cols in (("trajectories", traj), ("learning_curves", curve), ("path_costs", per_path)):
                if cols:
                    # one statement for all rows: lists in, unnest side by side
                    select = ", ".join(f"unnest(?::{_TABLES[table][c].split()[0]}[])" for c in cols)
                    con.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {select}",
                                list(cols.values()))
            con.execute("DELETE FROM failures WHERE key = ?", [key])
        return True

    def add_failure(self, key: str, scenario: str, policy: str, seed: int, error: str,
                    traceback: str | None = None) -> bool:
        """Record that the run ``key`` failed, replacing an earlier failure of it.

        :param error: what went wrong, on one line.
        :param traceback: the worker's traceback, if any.
        :return: ``False`` (nothing written) if the run is stored: it did not fail.
        """
        with self._transaction() as con:
            if con.execute("SELECT 1 FROM runs WHERE key = ?", [key]).fetchone():
                return False
            con.execute("DELETE FROM failures WHERE key = ?", [key])
            con.execute(f"INSERT INTO failures ({', '.join(FAILURE_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [key, scenario, policy, int(seed), error, traceback,
                         datetime.now(UTC).replace(tzinfo=None)])
        return True

    # ------------------------------------------------------------------ reading
    def has(self, key: str) -> bool:
        """Whether a run with ``key`` is stored."""
        return self.connection.execute("SELECT 1 FROM runs WHERE key = ?", [key]).fetchone() is not None

    def keys(self) -> set[str]:
        """Every stored run key."""
        return {k for (k,) in self.connection.execute("SELECT key FROM runs").fetchall()}

    def __len__(self) -> int:
        return self.connection.execute("SELECT count(*) FROM runs").fetchone()[0]

    def _dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.connection.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        out = []
        for values in cur.fetchall():
            row = dict(zip(names, values, strict=True))
            for name in _JSON_COLUMNS:
                if isinstance(row.get(name), str):
                    row[name] = json.loads(row[name])
            out.append(row)
        return out

    def runs(self, **where: Any) -> list[dict[str, Any]]:
        """Stored runs as dicts (``result`` and ``versions`` parsed), oldest first.

        :param where: equality filters on ``runs`` columns, e.g. ``scenario="serial-3"``.
        """
        unknown = sorted(set(where) - set(RUN_COLUMNS))
        if unknown:
            raise ValueError(f"unknown run column {unknown[0]!r}")
        clause = " AND ".join(f"{c} = ?" for c in where)
        return self._dicts(f"SELECT * FROM runs {'WHERE ' + clause if clause else ''} "
                           "ORDER BY created, key", where.values())

    def failures(self) -> dict[str, dict[str, Any]]:
        """Jobs whose last attempt failed and that have no run stored, ``key -> row``.

        Empty for files written before failures were recorded.
        """
        if "failures" not in self._tables():
            return {}
        return {r["key"]: r for r in self._dicts("SELECT * FROM failures ORDER BY created, key")}

    def _tables(self) -> set[str]:
        return {t for (t,) in self.connection.execute("SHOW TABLES").fetchall()}

    def trajectories(self, key: str) -> list[dict[str, Any]]:
        """The trajectory rows of run ``key``, by path, period, node and SKU."""
        return self._dicts("SELECT * FROM trajectories WHERE key = ? ORDER BY path, period, node, sku",
                           [key])

    def learning_curve(self, key: str) -> list[dict[str, Any]]:
        """The learning-curve rows of run ``key`` by timesteps (empty unless an RL agent ran)."""
        return self._dicts("SELECT * FROM learning_curves WHERE key = ? ORDER BY timesteps", [key])

    def path_costs(self) -> dict[str, list[float]]:
        """Every run's cost per period on each test path, ``key -> [cost of path 0, 1, ...]``.

        Runs stored without them (older files) are absent.
        """
        out: dict[str, list[float]] = {}
        if "path_costs" not in self._tables():
            return out
        rows = self.connection.execute("SELECT key, cost FROM path_costs ORDER BY key, path").fetchall()
        for key, cost in rows:
            out.setdefault(key, []).append(cost)
        return out

    def export(self, path: str | Path, table: str = "runs") -> Path:
        """Write ``table`` to a Parquet file with DuckDB's own writer (no pyarrow needed).

        :param path: the Parquet file to write (overwritten).
        :param table: ``runs``, ``trajectories``, ``learning_curves`` or ``path_costs``.
        :return: the path written.
        """
        if table not in _TABLES:
            raise ValueError(f"unknown table {table!r}; known: {', '.join(_TABLES)}")
        path = Path(path)
        literal = str(path).replace("'", "''")
        self.connection.execute(f"COPY (SELECT * FROM {table} ORDER BY ALL) TO '{literal}' "
                                "(FORMAT PARQUET)")
        return path


def mean_over_seeds(runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Average stored runs over their seeds: one row per (scenario, policy), in first-seen order.

    :param runs: rows of :meth:`Store.runs`.
    :returns: dicts with ``scenario``, ``policy``, ``seeds`` (how many runs), ``cost_mean``
        (the mean of the runs' mean cost per period) and ``fill_rate`` (the mean over runs
        that have one; ``None`` if none has).

    >>> mean_over_seeds([{"scenario": "a", "policy": "sS", "cost_mean": 2.0, "fill_rate": 0.9},
    ...                  {"scenario": "a", "policy": "sS", "cost_mean": 4.0, "fill_rate": None}])
    [{'scenario': 'a', 'policy': 'sS', 'seeds': 2, 'cost_mean': 3.0, 'fill_rate': 0.9}]
    """
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for r in runs:
        groups.setdefault((r["scenario"], r["policy"]), []).append(r)
    means = []
    for (scenario, policy), group in groups.items():
        fills = [r["fill_rate"] for r in group if r["fill_rate"] is not None]
        means.append({"scenario": scenario, "policy": policy, "seeds": len(group),
                      "cost_mean": sum(r["cost_mean"] for r in group) / len(group),
                      "fill_rate": sum(fills) / len(fills) if fills else None})
    return means


def _json_default(value: Any) -> Any:
    """Plain JSON for numpy scalars and arrays."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
