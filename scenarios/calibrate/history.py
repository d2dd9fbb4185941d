"""Reading and checking a demand history and a receipts table (CSV or Parquet).

A history is long-format: one row per period, node and SKU, with the columns
``date, node, sku, demand`` and optionally ``promotion`` (1 in a promoted period, else 0).
A receipts table has ``order_date, receipt_date, supplier, node, sku, quantity``.
Dates are ISO (``2024-01-31``). Every bad row raises :class:`~scenarios.errors.SpecError`
naming the file, the row (the header is row 1 of a CSV; a Parquet file's first row is row 1)
and the column: a gap in a stream's dates, a repeated date, a negative, non-numeric or
non-finite demand, an empty file, a missing column.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scenarios.errors import SpecError

__all__ = ["History", "Receipt", "Receipts", "Stream", "read_history", "read_receipt_rows", "read_receipts",
           "read_table"]

HISTORY_COLUMNS = ("date", "node", "sku", "demand")
RECEIPT_COLUMNS = ("order_date", "receipt_date", "supplier", "node", "sku", "quantity")
#: Fewest periods a stream needs to be fitted.
MIN_PERIODS = 8


@dataclass(frozen=True)
class Stream:
    """The history of one node and SKU, one value per period.

    :param node: node id.
    :param sku: SKU id.
    :param start: index of the stream's first period on the history's clock (0: the first date).
    :param demand: ``(periods,)`` demand per period, ``>= 0``.
    :param promotion: ``(periods,)`` bool, promoted periods; ``None`` when the file has no
        ``promotion`` column.
    """

    node: str
    sku: str
    start: int
    demand: np.ndarray
    promotion: np.ndarray | None


@dataclass(frozen=True)
class History:
    """A checked demand history: every stream on one clock of ``step_days`` per period.

    :param source: the file it was read from (for messages).
    :param first_date: the date of period 0.
    :param step_days: days per period (1: daily, 7: weekly).
    :param streams: one :class:`Stream` per node and SKU, in order of first appearance.
    :param rows: for each stream, ``(node, sku) -> first row number`` (for messages).
    """

    source: str
    first_date: dt.date
    step_days: int
    streams: tuple[Stream, ...]
    rows: dict[tuple[str, str], int]

    @property
    def periods(self) -> int:
        """Periods from the first date to the last, over all streams."""
        return max(s.start + s.demand.size for s in self.streams)


@dataclass(frozen=True)
class Receipts:
    """Observed lead times per arc, in periods of the history's clock.

    :param lead_times: ``(supplier, node) -> [(lead time in periods, row number), ...]``.
    """

    lead_times: dict[tuple[str, str], list[tuple[int, int]]]


def read_table(path: str | Path, columns: tuple[str, ...], optional: tuple[str, ...] = ()
               ) -> tuple[str, list[tuple[int, dict[str, Any]]]]:
    """Read a CSV or Parquet file into ``(name, [(row number, {column: value}), ...])``.

    :param path: a ``.csv`` or ``.parquet`` file.
    :param columns: columns that must be present.
    :param optional: columns kept when present; any other column is ignored.
    :raises SpecError: a missing or unreadable file, a missing column, no rows.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise SpecError(name, f"no such file: {path}")
    if path.suffix.lower() == ".parquet":
        header, rows, first = _read_parquet(path)
    else:
        try:
            with path.open(newline="", encoding="utf-8-sig") as f:
                table = list(csv.reader(f))
        except (OSError, UnicodeDecodeError) as err:
            raise SpecError(name, f"cannot read {path}: {err}") from None
        header, rows, first = (table[0] if table else []), table[1:], 2
    header = [str(h).strip() for h in header]
    for column in columns:
        if column not in header:
            raise SpecError(f"{name} header", f"missing column {column!r} (needs {', '.join(columns)}; "
                            f"got {', '.join(header) or 'nothing'})")
    keep = {c: header.index(c) for c in (*columns, *optional) if c in header}
    out = []
    for number, row in enumerate(rows, start=first):
        if not any(str(v).strip() for v in row):
            continue  # a blank line
        if len(row) < len(header):
            raise SpecError(f"{name} row {number}", f"has {len(row)} values, the header {len(header)}")
        out.append((number, {c: row[i] for c, i in keep.items()}))
    if not out:
        raise SpecError(name, "is empty: no data rows after the header")
    return name, out


def _read_parquet(path: Path) -> tuple[list[str], list[tuple[Any, ...]], int]:
    """Header and rows of a Parquet file, read with DuckDB (no pandas or pyarrow needed)."""
    import duckdb

    try:
        with duckdb.connect() as con:
            cursor = con.execute("SELECT * FROM read_parquet(?)", [str(path)])
            header = [d[0] for d in cursor.description]
            return header, cursor.fetchall(), 1
    except duckdb.Error as err:
        raise SpecError(path.name, f"cannot read Parquet {path}: {str(err).splitlines()[0]}") from None


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise SpecError(where, f"must be an ISO date like 2024-01-31, got {value!r}") from None


def _number(value: Any, where: str) -> float:
    try:
        number = float(str(value).strip()) if not isinstance(value, int | float) else float(value)
    except ValueError:
        raise SpecError(where, f"must be a number, got {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise SpecError(where, f"must be a finite number >= 0, got {value!r}")
    return number


def _text(value: Any, where: str) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise SpecError(where, "must not be empty")
    return text


def read_history(path: str | Path) -> History:
    """Read and check a long-format demand history (see the module docstring).

    The period is the smallest step between two dates of a stream (a day, a week...);
    every stream must then have one row per period from its first date to its last.

    :raises SpecError: naming the file, row and column of the first bad value.
    """
    name, rows = read_table(path, HISTORY_COLUMNS, optional=("promotion",))
    has_promotion = "promotion" in rows[0][1]
    series: dict[tuple[str, str], list[tuple[dt.date, float, bool, int]]] = {}
    for number, row in rows:
        where = f"{name} row {number}"
        key = (_text(row["node"], f"{where}, node"), _text(row["sku"], f"{where}, sku"))
        promoted = False
        if has_promotion:
            flag = _number(row["promotion"], f"{where}, promotion")
            if flag not in (0, 1):
                raise SpecError(f"{where}, promotion", f"must be 0 or 1, got {row['promotion']!r}")
            promoted = bool(flag)
        date, demand = _date(row["date"], f"{where}, date"), _number(row["demand"], f"{where}, demand")
        series.setdefault(key, []).append((date, demand, promoted, number))
    for key, values in series.items():
        values.sort()
        if len(values) < MIN_PERIODS:
            raise SpecError(f"{name} row {values[0][3]}", f"{key[0]}/{key[1]} has {len(values)} rows; "
                            f"a stream needs at least {MIN_PERIODS} periods to be fitted")
    steps = Counter((b[0] - a[0]).days for v in series.values() for a, b in zip(v, v[1:], strict=False))
    step = min(steps)
    for (node, sku), values in series.items():
        for a, b in zip(values, values[1:], strict=False):
            if a[0] == b[0]:
                raise SpecError(f"{name} row {max(a[3], b[3])}, date", f"{b[0]} appears twice for "
                                f"{node}/{sku} (also row {min(a[3], b[3])})")
    first = min(v[0][0] for v in series.values())
    streams = []
    for (node, sku), values in series.items():
        for a, b in zip(values, values[1:], strict=False):
            if (b[0] - a[0]).days != step:
                raise SpecError(f"{name} row {b[3]}, date", f"gap in the dates of {node}/{sku}: {b[0]} "
                                f"follows {a[0]} (one row per period of {step} day(s) expected)")
        offset = (values[0][0] - first).days
        if offset % step:
            raise SpecError(f"{name} row {values[0][3]}, date", f"{values[0][0]} is off the {step}-day "
                            f"clock that starts on {first}")
        streams.append(Stream(node, sku, offset // step, np.array([v[1] for v in values]),
                              np.array([v[2] for v in values]) if has_promotion else None))
    first_rows = {key: min(v[3] for v in values) for key, values in series.items()}
    return History(name, first, step, tuple(streams), first_rows)


@dataclass(frozen=True)
class Receipt:
    """One row of a receipts table (``row``: its row number in the file)."""

    row: int
    order_date: dt.date
    receipt_date: dt.date
    supplier: str
    node: str
    sku: str
    quantity: float


def read_receipt_rows(path: str | Path) -> tuple[str, list[Receipt]]:
    """Read and check a receipts table: ``(file name, rows)``.

    :raises SpecError: a receipt before its order, a bad date or quantity, naming the row.
    """
    name, rows = read_table(path, RECEIPT_COLUMNS)
    out = []
    for number, row in rows:
        where = f"{name} row {number}"
        ordered = _date(row["order_date"], f"{where}, order_date")
        received = _date(row["receipt_date"], f"{where}, receipt_date")
        if received < ordered:
            raise SpecError(f"{where}, receipt_date", f"{received} is before the order date {ordered}")
        out.append(Receipt(number, ordered, received, _text(row["supplier"], f"{where}, supplier"),
                           _text(row["node"], f"{where}, node"), _text(row["sku"], f"{where}, sku"),
                           _number(row["quantity"], f"{where}, quantity")))
    return name, out


def read_receipts(path: str | Path, step_days: int) -> Receipts:
    """Read a receipts table into observed lead times per arc, in periods of ``step_days`` days.

    A lead time is ``(receipt_date - order_date) / step_days``, rounded to the nearest period.

    :raises SpecError: a receipt before its order, a bad date or quantity, naming the row.
    """
    out: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for r in read_receipt_rows(path)[1]:
        periods = round((r.receipt_date - r.order_date).days / step_days)
        out.setdefault((r.supplier, r.node), []).append((periods, r.row))
    return Receipts(out)
