"""Classical replenishment policies, batched over sample paths.

Every family orders per node and SKU from an inventory position, then splits
the order over the node's inbound arcs (:func:`~scenarios.policy.to_arc_orders`):

* ``base-stock`` -- order up to ``S`` from the local inventory position.
* ``echelon-base-stock`` -- order up to ``S`` from the echelon inventory
  position (Clark & Scarf 1960; optimal for serial systems, Chen & Zheng 1994).
  Tree-shaped networks only.
* ``sS`` -- (s, S): when the position is at or below ``s``, order up to ``S``.
* ``sQ`` -- (s, Q), also called (R, Q): when the position is at or below
  ``s``, order the smallest multiple of ``Q`` that lifts it above ``s``.
* ``capped-base-stock`` -- order up to ``S`` but never more than ``r`` at once
  (Xin 2021, strong for lost sales).

Parameters are read by their number of dimensions: ``(nodes,)`` -- one value
per node, in the spec's node order, spread over SKUs by each SKU's share of
the node's mean demand (:attr:`~scenarios.network.Network.sku_share`);
``(nodes, skus)`` -- every SKU set directly; ``(paths, nodes, skus)`` -- per
path (how the tuner evaluates many candidates in one run). With
``by_period=True`` each has a leading period axis.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from scenarios.errors import SpecError
from scenarios.network import Network
from scenarios.policy import Policy, PolicyDefaults, to_arc_orders
from scenarios.registry import PolicyFactory, canonical

if TYPE_CHECKING:
    from scenarios.paths import SamplePaths
    from scenarios.simulator import State
    from scenarios.spec import Spec

__all__ = ["BaseStock", "CappedBaseStock", "EchelonBaseStock", "SS", "SQ", "FAMILIES", "ParametricPolicy",
           "classical_factory", "make_policy"]


class ParametricPolicy(PolicyDefaults, ABC):
    """A policy family with named per-node parameters.

    :param by_period: parameters carry a leading period axis (period ``t``
        uses index ``t``, the last one after the end).
    :param params: ``name=values`` for each of the family's ``param_names``.
    """

    name: ClassVar[str]
    param_names: ClassVar[tuple[str, ...]]
    needs_tree: ClassVar[bool] = False
    echelon: ClassVar[bool] = False

    def __init__(self, by_period: bool = False, **params: np.ndarray | list[float] | float) -> None:
        missing = [p for p in self.param_names if p not in params]
        unknown = [p for p in params if p not in self.param_names]
        if unknown or missing:
            bad = unknown[0] if unknown else missing[0]
            raise SpecError(f"policy.{bad}", f"{self.name} takes parameters {', '.join(self.param_names)}"
                            f"; {'unknown' if unknown else 'missing'}: {bad}")
        self.by_period = by_period
        self.params = {k: np.asarray(v, dtype=float) for k, v in params.items()}
        for k, v in self.params.items():
            if not np.all(np.isfinite(v)):
                raise SpecError(f"policy.{k}", f"must be finite numbers, got {v.tolist()}")
        self._check()
        self._levels: dict[str, np.ndarray] = {}

    def _check(self) -> None:  # families without extra rules keep it (not abstract)
        """Family-specific parameter rules."""

    def __repr__(self) -> str:
        values = ",".join(f"{k}={np.round(v, 3).tolist()}" for k, v in self.params.items())
        return f"{self.name}({values})"

    def describe(self) -> dict[str, list]:
        """Parameters as plain lists (for JSON)."""
        return {k: np.round(v, 6).tolist() for k, v in self.params.items()}

    def reset(self, network: Network, n_paths: int) -> None:
        """Expand per-node parameters to ``(..., nodes, skus)`` for ``network``."""
        if self.needs_tree:
            network.spec.require_tree(self.name)
        self.network = network
        # Arcs into each level of nodes, customers first (levels without inbound arcs skipped).
        into = [np.isin(network.customer, level) for level in network.levels]
        self._level_arcs = [m for m in into if m.any()] or [np.zeros(network.n_arcs, dtype=bool)]
        N, K = network.n_nodes, network.n_skus
        self._levels = {}
        for k, v in self.params.items():
            body = v.shape[1:] if self.by_period else v.shape
            if body == (N,):
                v = v[..., None] * network.sku_share
            elif not (len(body) in (2, 3) and body[-2:] == (N, K)):
                raise SpecError(f"policy.{k}", f"needs one value per node ({N}: "
                                f"{', '.join(network.spec.node_ids)}), ({N}, {K}) per node and SKU or "
                                f"(paths, {N}, {K}); got shape {v.shape}")
            self._levels[k] = v

    def level(self, name: str, t: int) -> np.ndarray:
        """Parameter ``name`` for period ``t``, broadcastable to ``(paths, nodes, skus)``."""
        v = self._levels[name]
        return v[min(t, len(v) - 1)] if self.by_period else v

    def position(self, state: State) -> np.ndarray:
        """The inventory position the family orders from, ``(paths, nodes, skus)``."""
        return state.inventory_position

    @abstractmethod
    def node_orders(self, position: np.ndarray, t: int) -> np.ndarray:
        """Order per node and SKU ``(paths, nodes, skus)`` from the position."""

    def act(self, state: State, t: int) -> np.ndarray:
        """Orders ``(paths, arcs, skus)`` for period ``t``.

        Nodes order level by level, customers first, and a supplier's local
        position already counts the orders its customers place this period
        (as in stockpyl's and most textbook simulations); without that, every
        echelon would react one period late. Echelon positions are unchanged
        by orders placed inside the echelon, so echelon policies order at once.
        """
        net = self.network
        position = self.position(state)
        if self.echelon:
            return to_arc_orders(net, np.maximum(self.node_orders(position, t), 0.0))
        orders = None
        for i, mine in enumerate(self._level_arcs):
            placed = to_arc_orders(net, np.maximum(self.node_orders(position, t), 0.0))
            orders = placed if orders is None else np.where(mine[None, :, None], placed, orders)
            if i + 1 < len(self._level_arcs):  # suppliers above see these orders
                position = position - net.at_suppliers(np.where(mine[None, :, None], placed, 0.0))
        return orders


class BaseStock(ParametricPolicy):
    """Order up to ``S`` from the local inventory position: ``q = max(S - IP, 0)``."""

    name = "base-stock"
    param_names = ("S",)

    def node_orders(self, position: np.ndarray, t: int) -> np.ndarray:
        """``S - IP``."""
        return self.level("S", t) - position


class EchelonBaseStock(BaseStock):
    """Order up to ``S`` from the echelon inventory position (Clark & Scarf 1960)."""

    name = "echelon-base-stock"
    needs_tree = True
    echelon = True

    def position(self, state: State) -> np.ndarray:
        """Echelon inventory position."""
        return state.echelon_position


class SS(ParametricPolicy):
    """(s, S): if ``IP <= s`` order ``S - IP``, else nothing. Needs ``s <= S``."""

    name = "sS"
    param_names = ("s", "S")

    def _check(self) -> None:
        s, S = np.broadcast_arrays(self.params["s"], self.params["S"])
        if np.any(s > S):
            raise SpecError("policy.s", f"reorder point s must be <= order-up-to S, got s={s.tolist()} "
                            f"and S={S.tolist()}")

    def node_orders(self, position: np.ndarray, t: int) -> np.ndarray:
        """``S - IP`` where ``IP <= s``."""
        return np.where(position <= self.level("s", t), self.level("S", t) - position, 0.0)


class SQ(ParametricPolicy):
    """(s, Q) / (R, Q): if ``IP <= s`` order ``n Q`` with the smallest ``n`` making ``IP + n Q > s``."""

    name = "sQ"
    param_names = ("s", "Q")

    def _check(self) -> None:
        if np.any(self.params["Q"] <= 0):
            raise SpecError("policy.Q", f"order quantity Q must be > 0, got {self.params['Q'].tolist()}")

    def node_orders(self, position: np.ndarray, t: int) -> np.ndarray:
        """``n Q`` with ``n = floor((s - IP) / Q) + 1`` where ``IP <= s``."""
        s, Q = self.level("s", t), self.level("Q", t)
        lot = np.where(Q > 0, Q, 1.0)  # a SKU with no demand through the node gets Q = 0: no order
        batches = np.floor((s - position) / lot + 1e-9) + 1
        return np.where((position <= s) & (Q > 0), batches * lot, 0.0)


class CappedBaseStock(ParametricPolicy):
    """Capped base-stock: order ``min(max(S - IP, 0), r)`` (Xin 2021).

    Caps each order at ``r``; near-optimal for lost-sales systems with long
    lead times, where plain base-stock over-orders after a run of lost sales.
    """

    name = "capped-base-stock"
    param_names = ("S", "r")

    def _check(self) -> None:
        if np.any(self.params["r"] < 0):
            raise SpecError("policy.r", f"order cap r must be >= 0, got {self.params['r'].tolist()}")

    def node_orders(self, position: np.ndarray, t: int) -> np.ndarray:
        """``min(S - IP, r)``."""
        return np.minimum(self.level("S", t) - position, self.level("r", t))


FAMILIES: dict[str, type[ParametricPolicy]] = {
    cls.name: cls for cls in (BaseStock, EchelonBaseStock, SS, SQ, CappedBaseStock)
}


def make_policy(spec: Spec, family: str, params: dict[str, list[float] | np.ndarray]) -> ParametricPolicy:
    """Build a classical policy for ``spec``, checking parameter counts and the network shape.

    :raises SpecError: an unknown or non-classical family, a wrong count of values,
        invalid values, or an echelon policy on a non-tree network.
    """
    name = canonical(family)
    if name not in FAMILIES:
        raise SpecError("policy", f"{name!r} is not a classical family; classical: {', '.join(FAMILIES)}")
    cls = FAMILIES[name]
    if cls.needs_tree:
        spec.require_tree(cls.name)
    n = len(spec.nodes)
    for k, v in params.items():
        bad = [x for x in np.ravel(np.asarray(v, dtype=object)) if not isinstance(x, int | float)]
        if bad:
            raise SpecError(f"policy.{k}", f"{bad[0]!r} is not a number")
        arr = np.asarray(v, dtype=float)
        if arr.ndim == 1 and arr.shape[0] != n:
            raise SpecError(f"policy.{k}", f"needs {n} values, one per node "
                            f"({', '.join(spec.node_ids)}), got {arr.shape[0]}")
    return cls(**params)


def classical_factory(family: str) -> PolicyFactory:
    """The :data:`~scenarios.registry.PolicyFactory` of a classical family.

    Given parameters build the policy (:func:`make_policy`); a bare name is
    tuned on the training paths (:func:`scenarios.tuning.tune`).
    """
    def build(spec: Spec, params: dict | None, train: Callable[[], SamplePaths]) -> Policy:
        if params is not None:
            return make_policy(spec, family, params)
        from scenarios.tuning import tune  # tuning builds on this module

        if FAMILIES[family].needs_tree:
            spec.require_tree(family)
        result = tune(spec, family, train())
        policy = make_policy(spec, family, result.params)
        policy.tuning = result
        return policy

    return build
