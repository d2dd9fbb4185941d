"""One self-contained HTML page from a results database (``echelon report``).

The page reads a :class:`~hybrid.store.Store` file and shows, per scenario:

* a summary table -- cost per period with its 95% confidence interval over
  every test path of every seed, the paired difference against the cheapest
  policy, fill rate, gap to the hindsight bound, run time;
* the cost per period split into its parts (stacked bars);
* fill rate against cost, one point per policy with both CIs;
* stock and orders of sample path 0, node by node, for a few policies;
* the gap to the hindsight bound, when the runs computed it;
* learning curves of the RL agents trained for the runs.

Plots are PNGs drawn with matplotlib's Agg canvas and embedded as base64, the
CSS is inline: the file opens anywhere, offline, and can be mailed as is.

Pooling over seeds: seed ``i`` reports a mean ``m_i`` over ``n_i`` paths with a
Student-t interval, from which its path standard deviation ``s_i`` follows.
The pooled mean is ``sum(n_i m_i) / N`` and the pooled variance is that of all
``N`` paths, ``(sum((n_i - 1) s_i^2) + sum(n_i (m_i - m)^2)) / (N - 1)``; with
one seed this is the run's own interval.

The modules, in the order a page is made: :mod:`~hybrid.report.reading` opens the store and
summarises its runs per scenario and policy (with :mod:`~hybrid.report.estimates`, the
intervals and the pooling); :mod:`~hybrid.report.plots` draws the figures;
:mod:`~hybrid.report.page` writes the HTML, its numbers shown by
:mod:`~hybrid.report.formatting`. Only :func:`write_report` is meant for callers.
"""

from __future__ import annotations

from pathlib import Path

from hybrid.report.page import render_page
from hybrid.report.reading import open_store
from scenarios.outputs import writable_file

__all__ = ["write_report"]


def write_report(db_path: str | Path, out_path: str | Path, title: str | None = None) -> Path:
    """Write one self-contained HTML page summarising a results database.

    :param db_path: a DuckDB file written by :class:`~hybrid.store.Store`
        (``echelon batch``); opened read-only.
    :param out_path: the HTML file to write (overwritten; parent folders made).
    :param title: the page title [default: ``echelon report · <db file name>``].
    :return: the path written.
    :raises SpecError: the database is missing, unreadable, of another schema or holds no runs;
        ``out_path`` is a directory or cannot be written.
    """
    db_path = Path(db_path)
    store = open_store(db_path)
    try:
        out_path = writable_file("out", out_path)  # before the plots are drawn
        page = render_page(db_path, store, title)
    finally:
        store.close()
    out_path.write_text(page, encoding="utf-8")
    return out_path
