"""The hybrid layer: the arena, hybrid policies (MILP + RL), batch runs, the results store and reports.

``hybrid.evaluate`` (:func:`hybrid.arena.evaluate`) runs any policies on the
same sample paths; ``hybrid.training.train_hybrid`` trains the hybrid agents;
``hybrid.batch`` runs many scenarios into DuckDB; ``hybrid.report`` writes the
HTML page.
"""

from hybrid.arena import evaluate

__all__ = ["evaluate"]
