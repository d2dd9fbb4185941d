"""Policy decisions over HTTP: ``echelon serve`` (FastAPI + uvicorn, requests checked by pydantic).

``POST /decide`` takes the state of the network now -- stock on hand per node and SKU, what is in
transit on each arc by periods until arrival, what suppliers still owe, the external backlog --
and returns the orders the policy places, its current parameters, its name and version, and an
explanation a planner can check: for a classical policy (and an RL agent tuning one) the inventory
position of each node and SKU against its current levels (``s``, ``S``...); for a policy that
solves a program (the rolling horizon) the solve's status, gap and time. A ``--max-order``
guardrail caps every order and says which it cut. ``GET /health`` says what is served;
``/docs`` and ``/openapi.json`` are FastAPI's.

A bad state -- a NaN or negative quantity, an unknown node, SKU or arc, a missing node, a
pipeline longer than the arc's longest lead time -- gets HTTP 422 naming the field, and the server
keeps serving. Decisions run one at a time (a lock): policies keep state between periods (an
agent's observation history, the planner's previous plan) and solvers are not thread-safe.

:class:`DecisionService` is the part without HTTP (tests and scripts call :meth:`~DecisionService.decide`
directly); :func:`create_app` wraps it; :func:`serve` runs it with uvicorn.
"""

from __future__ import annotations

import threading
import time
from importlib import metadata
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from scenarios.errors import SpecError
from scenarios.evaluate import training_paths
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.policies import ParametricPolicy
from scenarios.policy import describe, solve_stats
from scenarios.registry import build_policy, parse_policy
from scenarios.simulator import State
from scenarios.spec import Spec, load

__all__ = ["DecideRequest", "DecideResponse", "DecisionService", "StateError", "create_app",
           "request_from_state", "serve", "state_contract"]

#: Units: a finite number >= 0; strict, so ``true`` or ``"3"`` is refused rather than read as a number.
Quantity = Annotated[float, Field(ge=0, allow_inf_nan=False, strict=True)]
PerNode = dict[str, dict[str, Quantity]]


class DecideRequest(BaseModel):
    """The state of the network at the start of a period, as the policy sees it.

    Nodes, SKUs and arcs are named as in the scenario; an arc is ``"supplier->customer"``
    (``"external->dc"``). SKUs left out of a node count as 0.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "period": 0, "on_hand": {"store-1": {"milk": 12}},
        "pipeline": {"dc->store-1": {"milk": [5, 0]}}, "backlog": {"store-1": {"milk": 0}}}]})

    period: int = Field(0, ge=0, strict=True, description="Periods since the scenario's start (its "
                        "forecasts and season are indexed by it).")
    on_hand: PerNode = Field(description="Units on hand: node -> SKU -> units; every node of the scenario.")
    pipeline: dict[str, dict[str, list[Quantity]]] = Field(
        default_factory=dict, description="In transit: arc -> SKU -> units arriving in 1, 2, ... periods.")
    owed: PerNode = Field(default_factory=dict,
                          description="Ordered but not shipped yet: arc -> SKU -> units.")
    backlog: PerNode = Field(default_factory=dict, description="External demand owed: node -> SKU -> units.")
    last_demand: PerNode = Field(default_factory=dict, description="Last period's demand: node -> SKU -> "
                                 "units (agents that watch demand use it).")

    @field_validator("period", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        """JSON Schema's integers include ``206.0``; strict parsing alone would refuse it."""
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value


class Order(BaseModel):
    """One order: what the policy proposed and what the guardrails let through."""

    supplier: str
    customer: str
    sku: str
    quantity: float = Field(description="Units to order (after the guardrails).")
    proposed: float = Field(description="Units the policy proposed.")
    reference: float | None = Field(None, description="Units the reference policy would order (with "
                                    "--max-deviation).")
    guarded: bool = Field(description="Whether a guardrail changed the proposal.")


class DecideResponse(BaseModel):
    """The decision and why."""

    policy: str
    family: str
    version: str = Field(description="echelon's version and the scenario's content hash.")
    period: int
    orders: list[Order]
    parameters: dict[str, Any] = Field(description="The policy's current parameters.")
    explanation: dict[str, Any]
    guardrails: dict[str, Any]
    seconds: float = Field(description="Time the policy took to decide.")


class StateError(ValueError):
    """A state inconsistent with the scenario; ``loc`` is the field's path in the request."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        self.loc, self.message = loc, message
        super().__init__(f"{'.'.join(map(str, loc))}: {message}")


def _version(spec: Spec) -> str:
    try:
        package = metadata.version("echelon")
    except metadata.PackageNotFoundError:  # run from a source tree
        package = "source"
    return f"echelon {package}, scenario {spec.hash}"


class DecisionService:
    """One policy on one scenario, deciding for one state at a time.

    :param spec: the scenario (its network, costs and demand forecasts).
    :param policy: a policy text (``base-stock``, ``sS:s=...;S=...``, ``rl:path=DIR``...); bare names
        are tuned or solved on training paths of the scenario first.
    :param max_order: guardrail: no order above this many units (``None``: none).
    :param reference: a reference policy text (with ``max_deviation``).
    :param max_deviation: guardrail: every order within this fraction of the reference policy's order
        for the same state (``0.5``: between half and one and a half times it; a reference order of 0
        allows 0). Applied before ``max_order``.
    :param forecast_periods: periods of forecast kept; a request's ``period`` must be below it.
    :param seed: seed of the training paths for bare names.
    """

    def __init__(self, spec: Spec, policy: str, max_order: float | None = None,
                 reference: str | None = None, max_deviation: float | None = None,
                 forecast_periods: int | None = None, seed: int = 0) -> None:
        if max_order is not None and not max_order >= 0:
            raise SpecError("--max-order", f"must be >= 0, got {max_order}")
        if max_deviation is not None and not max_deviation >= 0:
            raise SpecError("--max-deviation", f"must be >= 0, got {max_deviation}")
        if (max_deviation is None) != (reference is None):
            raise SpecError("--reference", "give --reference and --max-deviation together")
        self.spec, self.text, self.max_order = spec, policy, max_order
        self.reference_text, self.max_deviation = reference, max_deviation
        self.family = parse_policy(policy)[0]
        train = lambda: training_paths(spec, 200, None, seed)  # noqa: E731 -- drawn only for bare names
        self.policy = build_policy(spec, policy, train)
        self.reference = None if reference is None else build_policy(spec, reference, train)
        self.network = Network(spec)
        periods = forecast_periods or spec.warmup + spec.horizon
        # One path of the scenario: the policy's forecasts (expected demand) and cost scales come from it.
        self.paths = SamplePaths.draw(spec, paths=1, periods=periods, seed=seed, warmup=0)
        for p in (self.policy, self.reference):
            if p is not None:
                p.reset(self.network, 1)
        self.version = _version(spec)
        self._lock = threading.Lock()
        self._arcs = {f"{a.supplier}->{a.customer}": e for e, a in enumerate(spec.arcs)}
        self._streams = {(d.node, d.sku): i for i, d in enumerate(spec.demands)}

    # ------------------------------------------------------------------ state
    def _sku(self, loc: tuple[str | int, ...], sku: str) -> int:
        if sku not in self.spec.sku_ids:
            raise StateError(loc, f"unknown SKU {sku!r}; the scenario's SKUs are "
                             f"{', '.join(self.spec.sku_ids)}")
        return self.spec.sku_ids.index(sku)

    def _node(self, loc: tuple[str | int, ...], node: str) -> int:
        if node not in self.spec.node_ids:
            raise StateError(loc, f"unknown node {node!r}; the scenario's nodes are "
                             f"{', '.join(self.spec.node_ids)}")
        return self.spec.node_index(node)

    def _arc(self, loc: tuple[str | int, ...], arc: str) -> int:
        if arc not in self._arcs:
            raise StateError(loc, f"unknown arc {arc!r}; the scenario's arcs are {', '.join(self._arcs)}")
        return self._arcs[arc]

    def _per_stream(self, field: str, values: dict[str, dict[str, float]], out: np.ndarray) -> None:
        for node, by_sku in values.items():
            for sku, q in by_sku.items():
                key = (node, sku)
                self._node((field, node), node)
                self._sku((field, node, sku), sku)
                if key not in self._streams:
                    raise StateError((field, node, sku),
                                     f"{node}/{sku} has no external demand in the scenario")
                out[0, self._streams[key]] = q

    def state(self, request: DecideRequest) -> State:
        """The simulator's :class:`~scenarios.simulator.State` (one path) for a request.

        On-hand stock is taken as fresh (the request has no ages).

        :raises StateError: naming the field that does not fit the scenario.
        """
        net, spec = self.network, self.spec
        if request.period >= self.paths.n_periods:
            raise StateError(("period",), f"must be below {self.paths.n_periods} (the forecast kept; "
                             "start the server with a longer horizon)")
        missing = [n for n in spec.node_ids if n not in request.on_hand]
        if missing:
            raise StateError(("on_hand", missing[0]),
                             f"missing: give every node ({', '.join(spec.node_ids)})")
        state = State.initial(net, self.paths)
        state.t = request.period
        state.on_hand[:] = 0.0
        for node, by_sku in request.on_hand.items():
            n = self._node(("on_hand", node), node)
            for sku, q in by_sku.items():
                k = self._sku(("on_hand", node, sku), sku)
                state.on_hand[0, n, k, net.fresh_bucket[k]] = q
        slots = state.pipeline.shape[2]
        for arc, by_sku in request.pipeline.items():
            e = self._arc(("pipeline", arc), arc)
            longest = spec.arcs[e].lead_time.max_value
            for sku, arriving in by_sku.items():
                k = self._sku(("pipeline", arc, sku), sku)
                if len(arriving) > max(longest, 1):
                    raise StateError(("pipeline", arc, sku), f"lists {len(arriving)} periods; the "
                                     f"arc's longest lead time is {longest}")
                for i, q in enumerate(arriving, start=1):
                    state.pipeline[0, e, (request.period + i) % slots, k] += q
        state.in_transit[:] = state.pipeline.sum(axis=2)
        for arc, by_sku in request.owed.items():
            e = self._arc(("owed", arc), arc)
            for sku, q in by_sku.items():
                state.owed[0, e, self._sku(("owed", arc, sku), sku)] = q
        self._per_stream("backlog", request.backlog, state.backlog)
        self._per_stream("last_demand", request.last_demand, state.last_demand)
        return state

    # --------------------------------------------------------------- decision
    def decide(self, request: DecideRequest) -> DecideResponse:
        """The policy's orders for the state in ``request``, with its parameters and an explanation.

        :raises StateError: the state does not fit the scenario.
        """
        with self._lock:
            state = self.state(request)
            start = time.perf_counter()
            proposed = self._orders(self.policy.act(state, request.period))
            seconds = time.perf_counter() - start
            explanation = self.explain(state, proposed)
            reference = (None if self.reference is None
                         else self._orders(self.reference.act(state, request.period)))
        applied = self.guard(proposed, reference)
        orders = [Order(supplier=a.supplier, customer=a.customer, sku=sku, quantity=float(applied[e, k]),
                        proposed=float(proposed[e, k]),
                        reference=None if reference is None else float(reference[e, k]),
                        guarded=bool(applied[e, k] != proposed[e, k]))
                  for e, a in enumerate(self.spec.arcs) for k, sku in enumerate(self.spec.sku_ids)]
        return DecideResponse(policy=self.text, family=self.family, version=self.version,
                              period=request.period, orders=orders, parameters=_plain(describe(self.policy)),
                              explanation=explanation,
                              guardrails={"max_order": self.max_order, "max_deviation": self.max_deviation,
                                          "reference": self.reference_text,
                                          "guarded": sum(o.guarded for o in orders)},
                              seconds=seconds)

    def _orders(self, acted: np.ndarray) -> np.ndarray:
        """Path 0's orders ``(arcs, skus)``, >= 0 and whole in an integer scenario (as the simulator does)."""
        orders = np.maximum(np.asarray(acted, dtype=float)[0], 0.0)
        return np.round(orders) if self.spec.integer else orders

    def guard(self, proposed: np.ndarray, reference: np.ndarray | None) -> np.ndarray:
        """What the guardrails let through: within ``max_deviation`` of the reference, then ``max_order``."""
        out = proposed
        if reference is not None:
            low, high = reference * (1 - self.max_deviation), reference * (1 + self.max_deviation)
            if self.spec.integer:  # whole units inside the band (the band's floor if it holds none)
                low, high = np.minimum(np.ceil(low - 1e-9), np.floor(high + 1e-9)), np.floor(high + 1e-9)
            out = np.clip(out, np.maximum(low, 0.0), high)
        return out if self.max_order is None else np.minimum(out, self.max_order)

    def explain(self, state: State, orders: np.ndarray) -> dict[str, Any]:
        """Why the policy ordered ``orders`` ``(arcs, skus)``: positions against levels, or the last solve."""
        policy = self.policy
        # an RL agent tuning a classical policy holds it in its task
        levels_of = getattr(getattr(policy, "task", None), "policy", None)
        classical = policy if isinstance(policy, ParametricPolicy) else levels_of
        if isinstance(classical, ParametricPolicy):
            position = classical.position(state)[0]
            if not classical.echelon:  # a supplier orders after its customers, counting their orders
                for e, arc in enumerate(self.spec.arcs):
                    if arc.supplier in self.spec.node_ids:
                        position[self.spec.node_index(arc.supplier)] -= orders[e]
            rows = []
            for n, node in enumerate(self.spec.node_ids):
                for k, sku in enumerate(self.spec.sku_ids):
                    levels = {name: float(np.broadcast_to(classical.level(name, state.t),
                                                          (1, *position.shape))[0, n, k])
                              for name in classical.param_names}
                    inbound = [e for e, a in enumerate(self.spec.arcs) if a.customer == node]
                    rows.append({"node": node, "sku": sku, "inventory_position": float(position[n, k]),
                                 **levels,
                                 "order": float(orders[inbound, k].sum())})
            out: dict[str, Any] = {"kind": "inventory position against levels", "policy": classical.name,
                                   "position": "echelon" if classical.echelon else "local, after the "
                                   "orders its customers placed this period", "nodes": rows}
            if classical is not policy:
                out["anchor"] = _plain(getattr(policy, "metadata", {}).get("anchor", {}).get("params"))
            return out
        stats = solve_stats(policy)
        if stats:
            solve = {k: _plain(v) for k, v in getattr(stats[-1], "__dict__", {}).items()}
            out = {"kind": "plan", "solve": solve}
            plan = getattr(policy, "planned_orders", lambda: None)()
            if plan is not None:  # what the window plans to order, period by period, now first
                out["planned_orders"] = [{"arc": f"{a.supplier}->{a.customer}", "sku": sku,
                                          "by_period": np.round(plan[e, k], 6).tolist()}
                                         for e, a in enumerate(self.spec.arcs)
                                         for k, sku in enumerate(self.spec.sku_ids)]
            return out
        return {"kind": "parameters only", "parameters": _plain(describe(policy))}

    def health(self) -> dict[str, Any]:
        """What is served."""
        return {"status": "ok", "policy": self.text, "family": self.family, "scenario": self.spec.name,
                "version": self.version, "nodes": self.spec.node_ids, "skus": self.spec.sku_ids,
                "arcs": list(self._arcs), "max_order": self.max_order, "reference": self.reference_text,
                "max_deviation": self.max_deviation}


def request_from_state(spec: Spec, state: State, path: int = 0) -> DecideRequest:
    """The request that describes path ``path`` of a simulator state (tests, benchmarks, shadow runs).

    The inverse of :meth:`DecisionService.state` for ``order-first`` and ``demand-first`` timing: stock
    ages are summed, the pipeline is listed by periods until arrival.
    """
    t, slots = state.t, state.pipeline.shape[2]
    arcs = [f"{a.supplier}->{a.customer}" for a in spec.arcs]
    stock = state.stock[path]
    pipeline = {}
    for e, arc in enumerate(arcs):
        longest = max(spec.arcs[e].lead_time.max_value, 1)
        arriving = state.pipeline[path, e, [(t + i) % slots for i in range(1, slots)], :][:longest]
        pipeline[arc] = {sku: arriving[:, k].tolist() for k, sku in enumerate(spec.sku_ids)}
    streams = [(d.node, d.sku) for d in spec.demands]

    def per_stream(values: np.ndarray) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for i, (node, sku) in enumerate(streams):
            out.setdefault(node, {})[sku] = float(values[path, i])
        return out

    return DecideRequest(
        period=t, on_hand={n: {s: float(stock[i, k]) for k, s in enumerate(spec.sku_ids)}
                           for i, n in enumerate(spec.node_ids)},
        pipeline=pipeline, owed={arc: {s: float(state.owed[path, e, k]) for k, s in enumerate(spec.sku_ids)}
                                 for e, arc in enumerate(arcs)},
        backlog=per_stream(state.backlog), last_demand=per_stream(state.last_demand))


def _plain(value: Any) -> Any:
    """JSON-ready: arrays to lists, numpy scalars to floats."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def state_contract(service: DecisionService, request: dict[str, Any]) -> dict[str, Any]:
    """``DecideRequest``'s JSON schema narrowed to the served scenario: its nodes, SKUs, arcs and periods.

    The generic model takes any names; the served one takes these only (every node in
    ``on_hand``, a pipeline no longer than each arc's longest lead time, a backlog only where
    there is external demand), so the OpenAPI document is the whole contract.
    """
    spec = service.spec
    quantity = {"type": "number", "minimum": 0}

    def table(keys: list[str], value: Any, required: bool = False) -> dict[str, Any]:
        out = {"type": "object", "properties": {k: value(k) for k in keys}, "additionalProperties": False}
        return {**out, "required": keys} if required else out

    per_sku = lambda _: table(spec.sku_ids, lambda _: quantity)  # noqa: E731
    streams: dict[str, list[str]] = {}
    for d in spec.demands:
        streams.setdefault(d.node, []).append(d.sku)
    per_stream = lambda node: table(streams[node], lambda _: quantity)  # noqa: E731
    arcs = list(service._arcs)

    def arriving(arc: str) -> dict[str, Any]:
        longest = max(spec.arcs[service._arcs[arc]].lead_time.max_value, 1)
        return table(spec.sku_ids, lambda _: {"type": "array", "items": quantity, "maxItems": longest})

    properties = request["properties"]
    narrowed = {"on_hand": table(spec.node_ids, per_sku, required=True), "pipeline": table(arcs, arriving),
                "owed": table(arcs, per_sku), "backlog": table(list(streams), per_stream),
                "last_demand": table(list(streams), per_stream)}
    for name, schema in narrowed.items():
        properties[name] = {**schema, "description": properties[name].get("description", "")}
    properties["period"]["maximum"] = service.paths.n_periods - 1
    request["examples"] = [{"period": 0, "on_hand": {n: {s: 0 for s in spec.sku_ids} for n in spec.node_ids}}]
    return request


def create_app(service: DecisionService) -> Any:
    """The FastAPI app serving ``service``: ``POST /decide``, ``GET /health``, ``/docs``.

    Its OpenAPI document names the scenario's nodes, SKUs and arcs (:func:`state_contract`).
    """
    from fastapi import FastAPI, HTTPException
    from fastapi.exceptions import RequestValidationError
    from fastapi.openapi.utils import get_openapi
    from fastapi.responses import JSONResponse

    app = FastAPI(title="echelon decisions", version=service.version,
                  description=f"Orders from {service.text} on {service.spec.name}.")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            state_contract(service, schema["components"]["schemas"]["DecideRequest"])
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi

    @app.exception_handler(RequestValidationError)
    def invalid(request: Any, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes the input, and a NaN in it cannot be written as JSON (a 500)
        return JSONResponse(status_code=422, content={"detail": [
            {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]})

    @app.get("/health")
    def health() -> dict[str, Any]:
        """What is served."""
        return service.health()

    @app.post("/decide", response_model=DecideResponse,
              responses={400: {"description": "A body that is not JSON."},
                         422: {"description": "A state that does not fit the scenario, the field named."}})
    def decide(request: DecideRequest) -> DecideResponse:
        """Orders for the state given, with the policy's parameters and an explanation."""
        try:
            return service.decide(request)
        except StateError as err:
            raise HTTPException(422, detail=[{"loc": ["body", *err.loc], "msg": err.message,
                                              "type": "value_error"}]) from None

    return app


def serve(scenario: str, policy: str, host: str = "127.0.0.1", port: int = 8000,
          max_order: float | None = None, reference: str | None = None, max_deviation: float | None = None,
          seed: int = 0) -> None:
    """What ``echelon serve`` runs: build the policy (tuning a bare name first), then serve it until stopped.

    :raises SpecError: a bad scenario, policy or option (before the server starts).
    """
    import uvicorn

    if not 0 < port < 65536:
        raise SpecError("--port", f"must be in 1..65535, got {port}")
    service = DecisionService(load(scenario), policy, max_order=max_order, reference=reference,
                              max_deviation=max_deviation, seed=seed)
    uvicorn.run(create_app(service), host=host, port=port, log_level="warning")
