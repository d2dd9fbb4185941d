"""Calibration: a scenario fitted to a demand history (and receipts), with a summary of the fit.

>>> from scenarios.calibrate import calibrate
>>> spec, summary = calibrate("examples/history.csv", receipts="examples/receipts.csv")  # doctest: +SKIP
>>> summary.stream("store-1", "milk").process.seasonality.period  # doctest: +SKIP
7

:mod:`~scenarios.calibrate.history` reads and checks the files (errors name the file, row and
column), :mod:`~scenarios.calibrate.fit` fits one stream (statsmodels, imported when fitting) and
one arc, :mod:`~scenarios.calibrate.build` assembles the scenario (:func:`calibrate`) and its
:class:`FitSummary`, :mod:`~scenarios.calibrate.plot` draws history against simulated quantiles.
"""

from __future__ import annotations

from scenarios.calibrate.build import FitSummary, calibrate, calibrate_file
from scenarios.calibrate.fit import StreamFit, classify
from scenarios.calibrate.history import History, read_history, read_receipts

__all__ = ["FitSummary", "History", "StreamFit", "calibrate", "calibrate_file", "classify", "read_history",
           "read_receipts"]
