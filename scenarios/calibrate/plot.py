"""History against the fitted process's simulated quantiles, one panel per stream (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scenarios.calibrate.build import FitSummary
from scenarios.calibrate.history import History
from scenarios.processes import draw_demand

__all__ = ["plot_fit"]


def plot_fit(history: History, summary: FitSummary, out: str | Path, paths: int = 400, seed: int = 0) -> Path:
    """Write a PNG: each stream's history over the 5-95% and 25-75% bands of its fitted process.

    The bands come from ``paths`` sample paths of the fitted process (:func:`draw_demand`, seeded) over
    the history's own periods; promotions are drawn at random, as in a simulation, not on the
    recorded promotion days.

    :return: the file written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    n = len(history.streams)
    fig, axes = plt.subplots(n, 1, figsize=(10, 2.2 * n), squeeze=False)
    for ax, stream, fit in zip(axes[:, 0], history.streams, summary.streams, strict=True):
        periods = stream.start + stream.demand.size
        draws, _ = draw_demand([fit.process], paths, periods, rng)
        low, q25, q75, high = np.percentile(draws[:, stream.start:, 0], [5, 25, 75, 95], axis=0)
        t = np.arange(stream.start, periods)
        ax.fill_between(t, low, high, color="tab:blue", alpha=0.2, label="fitted 5-95%")
        ax.fill_between(t, q25, q75, color="tab:blue", alpha=0.35, label="fitted 25-75%")
        ax.plot(t, stream.demand, color="black", lw=0.6, label="history")
        ax.set_title(f"{stream.node}/{stream.sku}: {fit.kind} ({fit.category})", fontsize=9)
        ax.set_ylabel("demand")
    axes[0, 0].legend(loc="upper left", fontsize=7)
    axes[-1, 0].set_xlabel(f"period ({summary.step_days} day(s) from {summary.first_date})")
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return out
