"""The hybrid layer: hybrid policies (MILP + RL), batch runs, the results store and reports.

``hybrid.training.train_hybrid`` trains the hybrid agents; ``hybrid.policies``
and ``hybrid.baselines`` build the families ``hybrid-mpc``, ``hybrid-anchor``
and ``rolling-horizon-ss`` (named in :mod:`scenarios.registry`);
``hybrid.batch`` runs many scenarios into DuckDB (``hybrid.batchrun`` a whole
batch file, as ``echelon batch``); ``hybrid.report`` writes the HTML page;
``hybrid.tuning`` trains and compares an agent, as ``echelon tune``;
``hybrid.console`` is how the command line shows results. Policies of every layer are compared by
:func:`scenarios.evaluate_policies` (pass ``bound=milp.hindsight_bound`` for the
gap to the hindsight bound).
"""
