"""The one contract every policy implements: classical, MILP, RL and hybrid.

A policy sees the simulator's :class:`~scenarios.simulator.State` each period
and returns the orders it places, one per arc and SKU, for every sample path
at once::

    orders = policy.act(state, t)    # (paths, arcs, skus), >= 0

The simulator rounds (integer specs), applies MOQs, capacities and budgets;
the policy need not. ``reset`` is called once before period 0 with the
compiled network and the number of paths, so a policy can size its buffers.

Three members are optional; a policy without them gets the defaults of
:class:`PolicyDefaults` (a base class a policy may inherit), and callers read
them through :func:`describe`, :func:`tuning` and :func:`solve_stats`, which
supply the same defaults for any policy:

* ``describe() -> dict`` -- its parameters as plain JSON values (default ``{}``);
* ``tuning`` -- how its parameters were tuned, a
  :class:`~scenarios.tuning.TuneResult` (default ``None``);
* ``stats`` -- one record per solve for policies that solve programs, e.g.
  :class:`milp.SolveStats` (default: none).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from scenarios.network import Network
    from scenarios.simulator import State
    from scenarios.tuning import TuneResult

__all__ = ["Policy", "PolicyDefaults", "describe", "solve_stats", "to_arc_orders", "tuning"]


@runtime_checkable
class Policy(Protocol):
    """A replenishment policy, batched over sample paths.

    Optional members (``describe``, ``tuning``, ``stats``): see the module notes
    and :class:`PolicyDefaults`.
    """

    name: str

    def reset(self, network: Network, n_paths: int) -> None:
        """Prepare for a run of ``n_paths`` paths on ``network``."""

    def act(self, state: State, t: int) -> np.ndarray:
        """Orders ``(paths, arcs, skus)`` for period ``t`` given ``state``."""


class PolicyDefaults:
    """The optional members of :class:`Policy` with their defaults; inherit to have them."""

    tuning: TuneResult | None = None
    stats: Sequence[Any] = ()

    def describe(self) -> dict[str, Any]:
        """Parameters as plain JSON values; none by default."""
        return {}


def describe(policy: Policy) -> dict[str, Any]:
    """``policy.describe()``, or ``{}`` for a policy without it."""
    own = getattr(policy, "describe", None)
    return own() if own is not None else {}


def tuning(policy: Policy) -> TuneResult | None:
    """``policy.tuning``, or ``None`` for a policy without it."""
    return getattr(policy, "tuning", PolicyDefaults.tuning)


def solve_stats(policy: Policy) -> Sequence[Any]:
    """``policy.stats`` (one record per solve), or ``()`` for a policy without it."""
    return getattr(policy, "stats", PolicyDefaults.stats)


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
