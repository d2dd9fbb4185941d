"""The one contract every policy implements: classical, MILP, RL and hybrid.

A policy sees the simulator's :class:`~scenarios.simulator.State` each period
and returns the orders it places, one per arc and SKU, for every sample path
at once::

    orders = policy.act(state, t)    # (paths, arcs, skus), >= 0

The simulator rounds (integer specs), applies MOQs, capacities and budgets;
the policy need not. ``reset`` is called once before period 0 with the
compiled network and the number of paths, so a policy can size its buffers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from scenarios.network import Network
    from scenarios.simulator import State

__all__ = ["Policy", "to_arc_orders"]


@runtime_checkable
class Policy(Protocol):
    """A replenishment policy, batched over sample paths."""

    name: str

    def reset(self, network: Network, n_paths: int) -> None:
        """Prepare for a run of ``n_paths`` paths on ``network``."""

    def act(self, state: State, t: int) -> np.ndarray:
        """Orders ``(paths, arcs, skus)`` for period ``t`` given ``state``."""


def to_arc_orders(network: Network, node_orders: np.ndarray) -> np.ndarray:
    """Split each node's order ``(paths, nodes, skus)`` over its inbound arcs.

    ``sourcing = "split"``: arc ``e`` gets the fraction ``split[e]`` (1 for a
    single supplier). ``sourcing = "priority"``: arcs are filled in priority
    order up to their capacity; the last takes the remainder.

    :return: ``(paths, arcs, skus)``.
    """
    per_arc = node_orders[:, network.customer, :]  # (P, E, K)
    prio = network.priority_sourcing[network.customer]
    if not prio.any():
        return per_arc * network.split[None, :, None]
    cap = network.capacity
    cap_before = np.where(network.sourcing_before > 0, cap[:, None], 0.0).sum(axis=0)  # (E,)
    remainder = np.maximum(per_arc - cap_before[None, :, None], 0.0)
    by_priority = np.where(network.last_source[None, :, None], remainder,
                           np.minimum(remainder, cap[None, :, None]))
    return np.where(prio[None, :, None], by_priority, per_arc * network.split[None, :, None])
