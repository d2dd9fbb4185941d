"""Observations: what an agent sees, built from the simulator's State alone.

The same :class:`Observer` runs inside the environments and inside a deployed
:class:`~rl.policy.AgentPolicy`, fed the :class:`~scenarios.simulator.State` at
every decision point, so a trained agent sees in ``simulate`` exactly what it
saw in training.

Layout of one observation (float32, clipped to ``[-clip, clip]``), feature-major;
each block is ``(nodes, skus)`` flattened node-major:

=====================  ==========================================================
``inventory_position``  local inventory position, / level scale
``on_hand``             stock on hand, / level scale
``inbound``             in transit to the node plus owed to it, / level scale
``shortage``            backlog: external backlog, / level scale; lost sales:
                        estimated lost sales per period over the window, / rate
``demand_mean``         mean realised external demand over the window, / rate
``demand_std``          its standard deviation, / rate
``forecast``            mean expected demand over the next ``window`` periods
                        (``SamplePaths.expected_demand``), / rate
``expiring``            only when some SKU perishes: stock on hand that expires
                        within :data:`EXPIRY_HORIZON` periods, / level scale
``<parameter>``         each current policy parameter (``s``, ``S``), / level scale
=====================  ==========================================================

then, with ``pipeline=True``, units in transit per arc arriving in 1, 2, ...
periods and units owed per arc ``(arcs, skus)``, / the customer's level scale;
then ``t / T`` (unless ``time_feature=False``), ``sin`` and ``cos`` of ``2 pi t / period`` for every season
length in the spec, and the path's holding- and shortage-cost multipliers.

Scales: ``rate`` is the mean demand per period through the node and SKU
(:attr:`Network.demand_rate`; 1 where none flows), ``level = rate * (L + 1)``
with ``L`` the node's mean lead time. Nodes without external demand show zero
demand features.

Lost sales are not in the State, so they are estimated: demand in excess of
the stock seen at the previous decision point. For ``order-first`` timing at a
node that ships nothing onward and receives nothing with lead time 0 (every
demand node of the built-ins) that stock is exactly what demand meets, and the
estimate is exact. With ``orgym`` timing the policy decides before the
period's arrivals, which are then received before demand: the stock demand
meets is the stock seen plus the pipeline slot arriving in that period (exact
for a node that ships nothing onward, as OR-Gym's retailer).
"""

from __future__ import annotations

import numpy as np

from scenarios.network import Network
from scenarios.simulator import State
from scenarios.spec import Spec

__all__ = ["EXPIRY_HORIZON", "Observer"]

#: The ``expiring`` feature counts stock whose remaining shelf life is at most this many periods.
EXPIRY_HORIZON = 2


class Observer:
    """Builds normalised observations from the State, batched over paths.

    :param spec: the scenario.
    :param network: its compiled network.
    :param window: periods of demand history summarised, and of the forecast.
    :param n_periods: episode length ``T`` (for the ``t / T`` feature).
    :param param_names: policy parameters shown (each ``(paths, nodes, skus)``).
    :param pipeline: add the pipeline by arrival period and what is owed per arc.
    :param clip: observations are clipped to ``[-clip, clip]``.
    :param time_feature: include ``t / T`` (an agent deployed on a longer
        horizon than it was trained on sees values it never saw).
    """

    def __init__(self, spec: Spec, network: Network, *, window: int, n_periods: int,
                 param_names: tuple[str, ...] = (), pipeline: bool = False, clip: float = 10.0,
                 time_feature: bool = True) -> None:
        net = network
        self.spec, self.network, self.window, self.n_periods = spec, net, window, n_periods
        self.param_names, self.pipeline, self.clip = tuple(param_names), pipeline, float(clip)
        self.time_feature = bool(time_feature)
        rate = net.demand_rate
        self._rate_scale = np.where(rate > 0, rate, 1.0)  # (N, K)
        self._level_scale = self._rate_scale * (net.mean_lead_time + 1)[:, None]
        self._arc_scale = self._level_scale[net.customer]  # (E, K)
        self._seasons = sorted({d.process.seasonality.period for d in spec.demands
                                if d.process.seasonality is not None})
        self._order_first = spec.timing in ("order-first", "orgym")  # no demand seen at period 0
        self._arrivals_after = spec.timing == "orgym"  # the period's arrivals come after the decision
        self._initial = net.initial_inventory[net.demand_node, net.demand_sku]  # (D,)
        # Age buckets that run out soon (bucket 0 expires first); none without perishables.
        self._expiring = min(EXPIRY_HORIZON, net.ages) if net.perishable.any() else 0

    # ------------------------------------------------------------------ shape
    @property
    def node_features(self) -> list[str]:
        """Names of the per-(node, SKU) feature blocks, in order."""
        expiring = ["expiring"] if self._expiring else []
        return ["inventory_position", "on_hand", "inbound", "shortage", "demand_mean", "demand_std",
                "forecast", *expiring, *self.param_names]

    @property
    def feature_names(self) -> list[str]:
        """One name per observation entry (``"on_hand[dc/dairy]"``, ``"t/T"``, ...)."""
        spec, net = self.spec, self.network
        cells = [f"{n}/{k}" for n in spec.node_ids for k in spec.sku_ids]
        names = [f"{f}[{c}]" for f in self.node_features for c in cells]
        if self.pipeline:
            arcs = [f"{a.supplier}->{a.customer}" for a in spec.arcs]
            for d in range(1, net.max_lead_time + 1):
                names += [f"arriving_in_{d}[{a}/{k}]" for a in arcs for k in spec.sku_ids]
            names += [f"owed[{a}/{k}]" for a in arcs for k in spec.sku_ids]
        if self.time_feature:
            names.append("t/T")
        for period in self._seasons:
            names += [f"sin(2pi t/{period})", f"cos(2pi t/{period})"]
        return [*names, "holding_scale", "shortage_scale"]

    @property
    def size(self) -> int:
        """Length of one observation."""
        net = self.network
        n = len(self.node_features) * net.n_nodes * net.n_skus
        if self.pipeline:
            n += net.n_arcs * net.n_skus * (net.max_lead_time + 1)
        return n + int(self.time_feature) + 2 * len(self._seasons) + 2

    # ---------------------------------------------------------------- history
    def reset(self, n_paths: int) -> None:
        """Forget the history; call before period 0 of a run on ``n_paths`` paths."""
        D = self.network.n_demands
        self._demand = np.zeros((self.window, n_paths, D))
        self._lost = np.zeros((self.window, n_paths, D))
        self._count = 0
        self._available = np.broadcast_to(self._initial, (n_paths, D)).copy()

    def record(self, state: State) -> None:
        """Take in the State at a decision point (call once per period, before observing)."""
        net = self.network
        stock = state.stock[:, net.demand_node, net.demand_sku]
        if not (self._order_first and state.t == 0):  # order-first period 0: no demand seen yet
            demand = state.last_demand
            slot = self._count % self.window
            self._demand[slot] = demand
            if not net.backlog:
                self._lost[slot] = np.maximum(demand - self._available, 0.0)
            self._count += 1
        self._available = stock.copy()
        if self._arrivals_after:
            arriving = state.pipeline[:, :, state.t % state.pipeline.shape[2]]  # (P, E, K)
            self._available += net.at_customers(arriving)[:, net.demand_node, net.demand_sku]

    def _to_nodes(self, per_stream: np.ndarray) -> np.ndarray:
        """Scatter ``(paths, demands)`` into ``(paths, nodes, skus)`` (zero elsewhere)."""
        net = self.network
        out = np.zeros((per_stream.shape[0], net.n_nodes, net.n_skus))
        out[:, net.demand_node, net.demand_sku] = per_stream
        return out

    # ------------------------------------------------------------ observation
    def observe(self, state: State, t: int, params: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """The observation ``(paths, size)`` at the decision point of period ``t``.

        :param state: the simulator state (after :meth:`record`).
        :param t: the period (``T`` for the state after the last period).
        :param params: current value of each parameter in ``param_names``,
            broadcastable to ``(paths, nodes, skus)``.
        """
        net = self.network
        P = state.on_hand.shape[0]
        level, rate = self._level_scale, self._rate_scale
        n = min(self._count, self.window)
        if n:
            mean, std = self._demand[:n].mean(axis=0), self._demand[:n].std(axis=0)
        else:
            mean = std = np.zeros((P, net.n_demands))
        if net.backlog:
            shortage = state.external_backlog / level
        else:
            lost = self._lost[:n].mean(axis=0) if n else np.zeros((P, net.n_demands))
            shortage = self._to_nodes(lost) / rate
        expected = state.paths.expected_demand
        ahead = np.minimum(np.arange(t, t + self.window), expected.shape[1] - 1)
        forecast = expected[:, ahead].mean(axis=1)
        blocks = [state.inventory_position / level, state.stock / level,
                  net.at_customers(state.in_transit + state.owed) / level, shortage,
                  self._to_nodes(mean) / rate, self._to_nodes(std) / rate, self._to_nodes(forecast) / rate]
        if self._expiring:
            # Non-perishable SKUs keep all stock in the last (fresh) bucket: masked, they show zero.
            soon = state.on_hand[..., :self._expiring].sum(axis=-1) * self.network.perishable
            blocks.append(soon / level)
        shape = (P, net.n_nodes, net.n_skus)
        blocks += [np.broadcast_to(params[k], shape) / level for k in self.param_names]
        parts = [b.reshape(P, -1) for b in blocks]
        if self.pipeline:
            W = state.pipeline.shape[2]
            slots = (t + np.arange(1, W)) % W  # arriving in 1, 2, ..., W - 1 periods
            arriving = state.pipeline[:, :, slots] / self._arc_scale[None, :, None, :]
            parts += [arriving.transpose(0, 2, 1, 3).reshape(P, -1),
                      (state.owed / self._arc_scale).reshape(P, -1)]
        time = [np.full(P, t / self.n_periods)] if self.time_feature else []
        for period in self._seasons:
            angle = 2 * np.pi * t / period
            time += [np.full(P, np.sin(angle)), np.full(P, np.cos(angle))]
        time += [state.paths.holding_scale, state.paths.shortage_scale]
        parts.append(np.stack(time, axis=1))
        obs = np.concatenate(parts, axis=1)
        return np.clip(obs, -self.clip, self.clip).astype(np.float32)
