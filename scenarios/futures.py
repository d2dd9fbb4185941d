"""Futures for a stochastic planner: the scenario's own processes, drawn forward from now.

A planner that plans against sampled futures must draw them from what it
knows at period ``t``: the processes of the spec (their seasons, trends,
promotions and distributions), the forecast of the mean, and nothing it could
not observe. :func:`demand_futures` draws ``count`` demand futures over the
next ``horizon`` periods as the forecast times a multiplicative noise, the
ratio of an independent draw of the process to its mean at the same periods:
with a perfect mean forecast (``paths.expected_demand``) a future has the
process's own distribution in every period. :func:`supply_futures` draws
lead times and supplier disruptions from the stationary law of the arcs'
processes. Neither sees the sample path's own future draws.
"""

from __future__ import annotations

import numpy as np

from scenarios.processes import draw_demand, draw_lead_times
from scenarios.spec import Spec

__all__ = ["demand_futures", "supply_futures"]


def demand_futures(spec: Spec, forecast: np.ndarray, t: int, count: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Demand futures ``(count, D, H)`` around a forecast ``(D, H)`` of periods ``t .. t+H-1``.

    Future ``i`` is ``forecast * draw_i / mean``, ``draw_i`` a fresh draw of the
    streams' processes (correlation included) over periods ``0 .. t+H-1`` of
    which the last ``H`` are kept, ``mean`` the processes' mean there; where the
    mean is 0 the future is the forecast. A stream whose forecast is 0 in a
    period (e.g. the already-served period 0 under ``demand-first``) stays 0.

    :param spec: the scenario.
    :param forecast: ``(D, H)`` the forecast mean per stream and window period.
    :param t: the window's first period.
    :param count: number of futures.
    :param rng: the generator to draw from.
    """
    forecast = np.asarray(forecast, dtype=float)
    horizon = forecast.shape[1]
    draw, mean = draw_demand([d.process for d in spec.demands], count, t + horizon, rng,
                             correlation=spec.correlation)
    draw, mean = draw[:, t:], mean[:, t:]  # (count, H, D)
    ratio = np.where(mean > 0, draw / np.where(mean > 0, mean, 1.0), 1.0)
    return forecast[None] * np.transpose(ratio, (0, 2, 1))


def supply_futures(spec: Spec, horizon: int, count: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Lead times and arc availability of ``count`` futures over ``horizon`` periods.

    :return: ``(lead_time, available)``: int ``(count, H, E)`` lead time of a shipment sent in
        each period on each arc, and float ``(count, E, H)`` 1 where the arc can ship, 0 where
        disrupted (from the disruption process's stationary state).
    """
    lead, disrupted = draw_lead_times([a.lead_time for a in spec.arcs], count, horizon, rng)
    return lead, np.transpose(1.0 - disrupted, (0, 2, 1))
