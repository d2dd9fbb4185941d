"""Actions: bounded residuals around the anchor, and order quantities.

:class:`ResidualMap` turns a :class:`~rl.envs.TuneEnv` action into policy
parameters; :class:`OrderMap` turns a :class:`~rl.envs.DirectOrderEnv` action
into orders. Both take actions in ``[-1, 1]`` (values outside are clipped), as
SB3 recommends for continuous actions.
"""

from __future__ import annotations

import numpy as np

from rl.anchor import Anchor
from scenarios.errors import SpecError
from scenarios.network import Network
from scenarios.policies import SS, BaseStock, EchelonBaseStock, ParametricPolicy

__all__ = ["PARAMETRISATIONS", "OrderMap", "ResidualMap", "tunable_policy"]

#: How a TuneEnv action is read: (s, S) or a base-stock level.
PARAMETRISATIONS = ("sS", "base-stock")


class _Tunable:
    """Mixin: parameters replaced between periods, per path, without a reset."""

    def set_levels(self, levels: dict[str, np.ndarray]) -> None:
        """Use ``levels`` (name -> broadcastable to ``(paths, nodes, skus)``) from now on."""
        self._current = levels

    def level(self, name: str, t: int) -> np.ndarray:
        """The level set last, for every period."""
        return self._current[name]


class _TunableSS(_Tunable, SS):
    """(s, S) with settable per-path levels."""


class _TunableBaseStock(_Tunable, BaseStock):
    """Base-stock with settable per-path levels."""


class _TunableEchelonBaseStock(_Tunable, EchelonBaseStock):
    """Echelon base-stock with settable per-path levels."""


_TUNABLE: dict[str, type[ParametricPolicy]] = {
    "sS": _TunableSS, "base-stock": _TunableBaseStock, "echelon-base-stock": _TunableEchelonBaseStock}


def tunable_policy(family: str, params: dict[str, tuple[float, ...]]) -> ParametricPolicy:
    """A classical policy of ``family`` whose levels :meth:`set_levels` replaces between periods.

    It orders exactly as the family does (same ``act``), reading the levels
    last set instead of its construction parameters.
    """
    return _TUNABLE[family](**{k: np.array(v) for k, v in params.items()})


class ResidualMap:
    """Residuals in ``[-1, 1]`` per parameter, ordering node and SKU -> levels around the anchor.

    ``parametrisation="sS"`` (needs an ``sS`` or ``base-stock`` anchor; a
    base-stock anchor is ``s = S``): two residuals per node and SKU, the first
    shifting the reorder point and the order-up-to level together, the second
    widening or narrowing the gap ``S - s``::

        s = s0 + a_s * u_s        S = max(S0 + a_s * u_s + a_gap * u_gap, s)

    ``parametrisation="base-stock"`` (a ``base-stock`` or ``echelon-base-stock``
    anchor): one residual, a safety-stock adjustment ``S = S0 + a * u``.

    Units: ``u_s = u = scale * max(|S0|, mu)`` and ``u_gap = scale * max(S0 - s0, mu)``,
    with ``mu`` the mean demand per period through the node and SKU (1 where
    both are 0). A zero action gives ``s0`` and ``S0`` exactly. Nodes without
    a supplier never order and get no residual.

    :param anchor: the static policy moved from.
    :param network: the compiled scenario.
    :param parametrisation: ``"sS"`` or ``"base-stock"``.
    :param scale: residual range as a fraction of the anchor's level.
    """

    def __init__(self, anchor: Anchor, network: Network, parametrisation: str = "sS",
                 scale: float = 0.5) -> None:
        if parametrisation not in PARAMETRISATIONS:
            raise SpecError("parametrisation", f"must be one of {', '.join(PARAMETRISATIONS)}, "
                            f"got {parametrisation!r}")
        if not (np.isfinite(scale) and scale > 0):
            raise SpecError("residual_scale", f"must be a number > 0, got {scale}")
        family = anchor.family
        if parametrisation == "sS" and family == "echelon-base-stock" or \
                parametrisation == "base-stock" and family == "sS":
            raise SpecError("anchor", f"parametrisation {parametrisation!r} cannot move a {family} anchor")
        levels = anchor.levels(network)
        self.parametrisation, self.scale, self.network = parametrisation, float(scale), network
        if parametrisation == "sS":
            self.family = "sS"
            self.base = {"s": levels.get("s", levels["S"]), "S": levels["S"]}
            self.params = {"s": anchor.params.get("s", anchor.params["S"]), "S": anchor.params["S"]}
        else:
            self.family = family
            self.base = {"S": levels["S"]}
            self.params = {"S": anchor.params["S"]}
        rate = network.demand_rate

        def unit(x: np.ndarray) -> np.ndarray:
            u = np.maximum(np.abs(x), rate)
            return scale * np.where(u > 0, u, 1.0)

        self._units = [unit(self.base["S"])]
        if parametrisation == "sS":
            self._units.append(unit(self.base["S"] - self.base["s"]))
        self.ordering = np.isin(np.arange(network.n_nodes), network.customer)  # nodes with a supplier
        self.names = [f"{p}[{network.spec.node_ids[n]}/{k}]"
                      for p in (("shift", "gap") if parametrisation == "sS" else ("safety_stock",))
                      for n in np.flatnonzero(self.ordering) for k in network.spec.sku_ids]

    @property
    def size(self) -> int:
        """Length of one action."""
        return len(self.names)

    def policy(self) -> ParametricPolicy:
        """A fresh :func:`tunable_policy` of the right family (call ``reset`` before use)."""
        return tunable_policy(self.family, self.params)

    def zero(self, n_paths: int) -> dict[str, np.ndarray]:
        """The anchor's levels ``(paths, nodes, skus)`` (what a zero action gives)."""
        return {k: np.broadcast_to(v, (n_paths, *v.shape)).copy() for k, v in self.base.items()}

    def __call__(self, action: np.ndarray) -> dict[str, np.ndarray]:
        """Levels ``(paths, nodes, skus)`` for actions ``(paths, size)``."""
        net = self.network
        P = action.shape[0]
        a = np.clip(np.asarray(action, dtype=float), -1.0, 1.0).reshape(P, len(self._units), -1, net.n_skus)
        full = np.zeros((P, len(self._units), net.n_nodes, net.n_skus))
        full[:, :, self.ordering] = a
        shift = full[:, 0] * self._units[0]
        if self.parametrisation == "base-stock":
            return {"S": self.base["S"] + shift}
        s = self.base["s"] + shift
        return {"s": s, "S": np.maximum(self.base["S"] + shift + full[:, 1] * self._units[1], s)}


class OrderMap:
    """Actions in ``[-1, 1]`` per arc and SKU -> orders ``(a + 1) / 2 * max_order``.

    :param network: the compiled scenario.
    :param max_order: largest order per arc and SKU: a number, an ``(arcs, skus)``
        array, or ``None`` for ``factor`` times the mean demand per period the
        arc serves (its customer's flow times the arc's split share; at least 1).
    :param factor: multiple of mean demand used when ``max_order`` is ``None``
        (3: a zero action orders 1.5 times the mean demand).
    """

    def __init__(self, network: Network, max_order: float | np.ndarray | None = None,
                 factor: float = 3.0) -> None:
        net = network
        if max_order is None:
            n_in = np.bincount(net.customer, minlength=net.n_nodes)[net.customer]
            share = np.where(net.priority_sourcing[net.customer], 1.0 / n_in, net.split)
            flow = net.demand_rate[net.customer] * share[:, None]  # (E, K)
            max_order = np.maximum(factor * flow, 1.0)
        high = np.broadcast_to(np.asarray(max_order, dtype=float), (net.n_arcs, net.n_skus)).copy()
        if not np.all(np.isfinite(high) & (high > 0)):
            raise SpecError("max_order", f"must be finite numbers > 0, got {high.tolist()}")
        self.network, self.max_order = net, high
        self.names = [f"order[{a.supplier}->{a.customer}/{k}]" for a in net.spec.arcs
                      for k in net.spec.sku_ids]

    @property
    def size(self) -> int:
        """Length of one action."""
        return self.max_order.size

    def __call__(self, action: np.ndarray) -> np.ndarray:
        """Orders ``(paths, arcs, skus)`` for actions ``(paths, size)``."""
        a = np.clip(np.asarray(action, dtype=float), -1.0, 1.0).reshape(-1, *self.max_order.shape)
        return (a + 1.0) / 2.0 * self.max_order
