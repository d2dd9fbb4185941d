"""Demand and lead-time processes, and the vectorised draws sample paths are made of.

Specs are frozen dataclasses checked when built; a bad value raises
:class:`~scenarios.errors.SpecError` naming the field and the value seen, and
``from_dict(data, where)`` prefixes the field with ``where`` (``"demands[2].process"``).
Draws take a :class:`numpy.random.Generator`, never global state, and return arrays
shaped ``(paths, periods, ...)``; no Python loop runs over paths. The draw order,
documented on :func:`draw_demand` and :func:`draw_lead_times`, is part of the contract:
one generator state gives one set of numbers.

The modules: :mod:`~scenarios.processes.demand` (:class:`DemandProcess`, its
:class:`Seasonality`, :class:`Promotion` and :class:`Goodwill`, and :func:`draw_demand`),
:mod:`~scenarios.processes.lead_times` (:class:`LeadTime`, :class:`Disruption` and
:func:`draw_lead_times`), :mod:`~scenarios.processes.regime` (the hidden Markov regimes
:class:`DemandRegime` and :class:`SupplyRegime`) and :mod:`~scenarios.processes.validation`
(the field checks and dict round trips all share). Import the names from here.
"""

from __future__ import annotations

from scenarios.processes.demand import (
    DEMAND_KINDS,
    DemandProcess,
    Goodwill,
    Promotion,
    Seasonality,
    draw_demand,
)
from scenarios.processes.lead_times import LEAD_TIME_KINDS, Disruption, LeadTime, draw_lead_times
from scenarios.processes.regime import DemandRegime, SupplyRegime
from scenarios.processes.validation import MAX_MAGNITUDE

__all__ = ["DEMAND_KINDS", "LEAD_TIME_KINDS", "MAX_MAGNITUDE", "DemandProcess", "DemandRegime", "Disruption",
           "Goodwill", "LeadTime", "Promotion", "Seasonality", "SupplyRegime", "draw_demand",
           "draw_lead_times"]
