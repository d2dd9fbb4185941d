"""Scenario specs: the network, its costs and its randomness, as validated values.

A :class:`Spec` is immutable and checked when built; every rule raises
:class:`~scenarios.errors.SpecError` naming the field. Specs load from and save
to TOML (``load``/``dumps``) and the round trip is lossless:
``Spec.from_dict(spec.to_dict()) == spec``.

Conventions
-----------
* Nodes are stock points, listed in the order policy parameters use.
* An arc ``supplier -> customer`` carries one order per SKU per period. The
  reserved supplier name ``"external"`` is an outside source, unlimited unless
  the arc has a ``capacity``.
* A node with several suppliers splits its order by the arcs' ``split``
  fractions (``sourcing = "split"``, they must sum to 1) or fills them in
  ``priority`` order up to each arc's capacity (``sourcing = "priority"``).
* A supplier with several customers shares short stock ``proportional`` to the
  requests or by the arcs' ``priority`` (lower first), per its ``allocation``.
* Production nodes (``production_capacity``/``operating_cost``/``yield_rate``)
  limit and pay for what they receive; a yield below 1 loses that fraction of
  each shipment into them.
* Shelf life counts from arrival at a node: stock ages on hand only.
"""

from __future__ import annotations

import hashlib
import json
import numbers
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import tomli_w

from scenarios.distribution import ScenarioDistribution
from scenarios.errors import SpecError
from scenarios.processes import MAX_MAGNITUDE, DemandProcess, LeadTime

__all__ = ["Arc", "Demand", "Node", "SKU", "Spec", "EXTERNAL", "load", "dumps", "save"]

EXTERNAL = "external"
TIMINGS = ("order-first", "demand-first", "orgym")
SHORTAGES = ("backlog", "lost-sales")
ALLOCATIONS = ("proportional", "priority")
SOURCINGS = ("split", "priority")


def _check_nonneg(where: str, value: float | None) -> None:
    """Raise unless ``value`` is None or a number in ``[0, MAX_MAGNITUDE]`` (NaN is not)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise SpecError(where, f"must be a number, got {value!r}")
    if not 0 <= value < float("inf"):  # NaN fails too
        raise SpecError(where, f"must be a finite number >= 0, got {value}")
    if value > MAX_MAGNITUDE:
        raise SpecError(where, f"must be at most {MAX_MAGNITUDE:g}, got {value:g}")


def _check_count(where: str, value: Any, low: int) -> None:
    """Raise unless ``value`` is an integer in ``[low, MAX_MAGNITUDE]`` (a number of periods)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise SpecError(where, f"must be an integer >= {low}, got {value!r}")
    if value > MAX_MAGNITUDE:
        raise SpecError(where, f"must be at most {MAX_MAGNITUDE:g}, got {value}")


def _per_sku(where: str, value: Any, n_skus: int) -> tuple[float, ...]:
    """Normalise a scalar-or-list cost to one value per SKU (validated >= 0)."""
    listed = isinstance(value, list | tuple)
    values = value if listed else [value] * n_skus
    if len(values) != n_skus:
        raise SpecError(where, f"needs 1 or {n_skus} values (one per SKU), got {len(values)}")
    out = []
    for i, v in enumerate(values):
        if not isinstance(v, int | float) or isinstance(v, bool):
            raise SpecError(where, f"must be a number, got {v!r}")
        _check_nonneg(f"{where}[{i}]" if listed and len(values) > 1 else where, float(v))
        out.append(float(v))
    return tuple(out)


def _from_table(cls: type, data: Any, where: str, convert: dict[str, Any] | None = None) -> Any:
    """Build dataclass ``cls`` from a TOML table, rejecting unknown keys by name."""
    if not isinstance(data, dict):
        raise SpecError(where, f"must be a table, got {type(data).__name__}")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise SpecError(f"{where}.{unknown[0]}", f"unknown field (allowed: {', '.join(sorted(names))})")
    kwargs = dict(data)
    for key, fn in (convert or {}).items():
        if key in kwargs:
            kwargs[key] = fn(kwargs[key], f"{where}.{key}")
    try:
        return cls(**kwargs)
    except TypeError as err:  # a missing required field
        raise SpecError(where, str(err).split(".", 1)[-1].strip()) from None


def _to_table(obj: Any) -> dict[str, Any]:
    """Plain dict of a dataclass, leaving out fields equal to their defaults."""
    out: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, tuple) and value and len(set(value)) == 1:
            value = value[0]  # one number stands for "the same for every SKU"
        if value is None or value == f.default:
            continue
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


@dataclass(frozen=True)
class SKU:
    """A stock-keeping unit.

    :param id: unique name.
    :param shelf_life: periods a unit may stay on hand before it expires
        (``None``: never). Must be >= 1.
    :param waste_cost: cost per expired unit.
    """

    id: str
    shelf_life: int | None = None
    waste_cost: float = 0.0

    def validate(self, where: str) -> None:
        """Raise :class:`SpecError` if a field is invalid."""
        if not self.id or not isinstance(self.id, str):
            raise SpecError(f"{where}.id", f"must be a non-empty string, got {self.id!r}")
        if self.shelf_life is not None:
            _check_count(f"{where}.shelf_life", self.shelf_life, 1)
        _check_nonneg(f"{where}.waste_cost", self.waste_cost)


@dataclass(frozen=True)
class Node:
    """A stock point.

    Costs given per SKU accept one number (all SKUs) or a list (one per SKU).

    :param id: unique name (not ``"external"``).
    :param holding_cost: ``h``, per unit on hand per period.
    :param initial_inventory: on hand at the start, per SKU.
    :param storage_capacity: cap on total units on hand (all SKUs) after
        receipts; excess arrivals are refused and counted as overflow waste.
    :param price: revenue per unit sold to external demand, per SKU.
    :param allocation: how short stock is shared among customers.
    :param sourcing: how the order is split among several suppliers.
    :param production_capacity: cap on units received per period (all SKUs).
    :param operating_cost: cost per unit received (produced).
    :param yield_rate: fraction of each shipment into the node that survives.
    """

    id: str
    holding_cost: tuple[float, ...] | float = 0.0
    initial_inventory: tuple[float, ...] | float = 0.0
    storage_capacity: float | None = None
    price: tuple[float, ...] | float = 0.0
    allocation: str = "proportional"
    sourcing: str = "split"
    production_capacity: float | None = None
    operating_cost: float = 0.0
    yield_rate: float = 1.0

    def validate(self, where: str, n_skus: int) -> Node:
        """Return the node with per-SKU fields normalised to tuples; raise on bad input."""
        if not self.id or not isinstance(self.id, str):
            raise SpecError(f"{where}.id", f"must be a non-empty string, got {self.id!r}")
        if self.id == EXTERNAL:
            raise SpecError(f"{where}.id", f"'{EXTERNAL}' is reserved for outside supply")
        _check_nonneg(f"{where}.storage_capacity", self.storage_capacity)
        _check_nonneg(f"{where}.production_capacity", self.production_capacity)
        _check_nonneg(f"{where}.operating_cost", self.operating_cost)
        if not 0 < self.yield_rate <= 1:
            raise SpecError(f"{where}.yield_rate", f"must be in (0, 1], got {self.yield_rate}")
        if self.allocation not in ALLOCATIONS:
            raise SpecError(f"{where}.allocation", f"must be one of {ALLOCATIONS}, got {self.allocation!r}")
        if self.sourcing not in SOURCINGS:
            raise SpecError(f"{where}.sourcing", f"must be one of {SOURCINGS}, got {self.sourcing!r}")
        return replace(
            self,
            holding_cost=_per_sku(f"{where}.holding_cost", self.holding_cost, n_skus),
            initial_inventory=_per_sku(f"{where}.initial_inventory", self.initial_inventory, n_skus),
            price=_per_sku(f"{where}.price", self.price, n_skus),
        )


@dataclass(frozen=True)
class Arc:
    """A supply lane ``supplier -> customer``; one order per SKU per period.

    :param supplier: node id, or ``"external"`` for outside supply.
    :param customer: node id.
    :param lead_time: lead-time distribution (periods from shipping to arrival).
    :param unit_cost: per unit shipped (purchase price).
    :param fixed_cost: ``K`` per period in which any quantity is ordered.
    :param transport_cost: per unit shipped.
    :param pipeline_holding_cost: per unit in transit per period.
    :param moq: minimum order quantity; a positive order below it is raised to it.
    :param capacity: cap on units shipped per period (all SKUs); ``None``: unlimited.
    :param split: fraction of the customer's order placed here (``sourcing = "split"``).
    :param priority: rank for allocation and priority sourcing (lower first).
    :param unfilled_cost: per unit of the arc's request (owed + new order) that
        the supplier does not ship in a period: charged every period while it
        stays owed (``internal_shortage = "backlog"``), once when it is lost
        (OR-Gym's ``k`` on replenishment orders); booked as ``shortage``.
    """

    supplier: str
    customer: str
    lead_time: LeadTime = field(default_factory=lambda: LeadTime(kind="fixed", value=1))
    unit_cost: float = 0.0
    fixed_cost: float = 0.0
    transport_cost: float = 0.0
    pipeline_holding_cost: float = 0.0
    moq: float = 0.0
    capacity: float | None = None
    split: float | None = None
    priority: int = 0
    unfilled_cost: float = 0.0

    def validate(self, where: str) -> None:
        """Raise :class:`SpecError` if a field is invalid."""
        for name in ("unit_cost", "fixed_cost", "transport_cost", "pipeline_holding_cost", "moq",
                     "unfilled_cost"):
            _check_nonneg(f"{where}.{name}", getattr(self, name))
        _check_nonneg(f"{where}.capacity", self.capacity)
        if self.split is not None and not 0 <= self.split <= 1:
            raise SpecError(f"{where}.split", f"must be in [0, 1], got {self.split}")
        if self.supplier == self.customer:
            raise SpecError(f"{where}.customer", f"an arc cannot supply its own supplier {self.supplier!r}")

    def to_dict(self) -> dict[str, Any]:
        """TOML-ready table."""
        out = _to_table(self)
        out["lead_time"] = self.lead_time.to_dict()
        return out


@dataclass(frozen=True)
class Demand:
    """External demand for one SKU at one node.

    :param node: node id where customers buy.
    :param sku: SKU id.
    :param process: the demand process.
    :param shortage_cost: ``p`` (or ``b``): per unit backlogged per period, or
        per lost sale, per the spec's ``shortage`` mode.
    """

    node: str
    sku: str
    process: DemandProcess
    shortage_cost: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """TOML-ready table."""
        out = _to_table(self)
        out["process"] = self.process.to_dict()
        return out


@dataclass(frozen=True)
class Spec:
    """A whole scenario: network, costs, randomness and run settings.

    :param name: scenario name.
    :param nodes: stock points, in parameter order.
    :param arcs: supply lanes.
    :param skus: stock-keeping units (default: one SKU named ``"item"``).
    :param demands: external demand streams.
    :param timing: ``"order-first"`` (orders before demand: Zipkin),
        ``"demand-first"`` (demand before orders: Clark-Scarf as in Snyder &
        Shen) or ``"orgym"`` (OR-Gym's ``InvManagement``: orders are placed and
        shipped from the suppliers' start-of-period stock, then arrivals are
        received, then demand is served).
    :param shortage: ``"backlog"`` or ``"lost-sales"`` for external demand.
    :param internal_shortage: what happens to the part of a replenishment
        order a supplier cannot ship: ``"backlog"`` (owed, shipped later) or
        ``"lost-sales"``.
    :param integer: round orders to whole units.
    :param horizon: default number of periods measured.
    :param warmup: periods simulated before measuring.
    :param discount: per-period discount factor for the discounted total.
    :param budget: cap on ordering spend per period (``None``: none); orders
        above it are scaled down.
    :param correlation: equicorrelation ``rho`` between demand streams.
    :param randomisation: ranges drawn per sample path (domain randomisation).
    :param known_optimum: published optimal cost per period, if any (source in
        ``description``); results report their gap to it.
    :param description: what the scenario is, with its source.
    :param notes: conventions worth knowing (cost accounting, references).
    """

    name: str
    nodes: tuple[Node, ...]
    arcs: tuple[Arc, ...]
    demands: tuple[Demand, ...]
    skus: tuple[SKU, ...] = (SKU("item"),)
    timing: str = "order-first"
    shortage: str = "backlog"
    internal_shortage: str = "backlog"
    integer: bool = True
    horizon: int = 100
    warmup: int = 0
    discount: float = 1.0
    budget: float | None = None
    correlation: float = 0.0
    randomisation: ScenarioDistribution | None = None
    known_optimum: float | None = None
    description: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            raise SpecError("name", "must be a non-empty string")
        for key, allowed in (("timing", TIMINGS), ("shortage", SHORTAGES), ("internal_shortage", SHORTAGES)):
            if getattr(self, key) not in allowed:
                raise SpecError(key, f"must be one of {allowed}, got {getattr(self, key)!r}")
        _check_count("horizon", self.horizon, 1)
        _check_count("warmup", self.warmup, 0)
        if not 0 < self.discount <= 1:
            raise SpecError("discount", f"must be in (0, 1], got {self.discount}")
        _check_nonneg("budget", self.budget)
        _check_nonneg("known_optimum", self.known_optimum)
        if not 0 <= self.correlation < 1:
            raise SpecError("correlation", f"must be in [0, 1), got {self.correlation}")
        if not self.skus:
            raise SpecError("skus", "at least one SKU is needed")
        if not self.nodes:
            raise SpecError("nodes", "at least one node is needed")
        self._check_unique("skus", [s.id for s in self.skus])
        for i, sku in enumerate(self.skus):
            sku.validate(f"skus[{i}]")
        nodes = tuple(n.validate(f"nodes[{i}]", len(self.skus)) for i, n in enumerate(self.nodes))
        object.__setattr__(self, "nodes", nodes)
        self._check_unique("nodes", [n.id for n in nodes])
        self._check_arcs()
        self._check_demands()

    @staticmethod
    def _check_unique(where: str, ids: list[str]) -> None:
        seen: set[str] = set()
        for i, x in enumerate(ids):
            if x in seen:
                raise SpecError(f"{where}[{i}].id", f"duplicate id {x!r}")
            seen.add(x)

    def _check_arcs(self) -> None:
        ids = set(self.node_ids)
        lanes: set[tuple[str, str]] = set()
        for i, arc in enumerate(self.arcs):
            where = f"arcs[{i}]"
            if arc.supplier != EXTERNAL and arc.supplier not in ids:
                raise SpecError(f"{where}.supplier", f"unknown node {arc.supplier!r}")
            if arc.customer not in ids:
                raise SpecError(f"{where}.customer", f"unknown node {arc.customer!r}")
            if (arc.supplier, arc.customer) in lanes:
                raise SpecError(where, f"duplicate arc {arc.supplier} -> {arc.customer}")
            lanes.add((arc.supplier, arc.customer))
            arc.validate(where)
        cycle = self._find_cycle()
        if cycle:
            raise SpecError("arcs", f"the network has a cycle: {' -> '.join(cycle)}")
        for n, node in enumerate(self.nodes):
            inbound = [i for i, a in enumerate(self.arcs) if a.customer == node.id]
            if len(inbound) > 1 and node.sourcing == "split":
                splits = [self.arcs[i].split for i in inbound]
                if any(s is None for s in splits):
                    i = inbound[splits.index(None)]
                    raise SpecError(f"arcs[{i}].split", f"node {node.id!r} has {len(inbound)} suppliers "
                                    "and sourcing 'split': every inbound arc needs a split fraction")
                if abs(sum(splits) - 1) > 1e-9:
                    raise SpecError(f"nodes[{n}].sourcing", f"split fractions of the arcs into {node.id!r} "
                                    f"must sum to 1, got {sum(splits):g}")

    def _find_cycle(self) -> list[str]:
        """Return one directed cycle as a list of node ids, or [] (depth-first search)."""
        children: dict[str, list[str]] = {n: [] for n in self.node_ids}
        for arc in self.arcs:
            if arc.supplier != EXTERNAL:
                children[arc.supplier].append(arc.customer)
        state: dict[str, int] = {}
        stack: list[str] = []

        def visit(n: str) -> list[str]:
            state[n] = 1
            stack.append(n)
            for c in children[n]:
                if state.get(c) == 1:
                    return stack[stack.index(c):] + [c]
                if c not in state and (found := visit(c)):
                    return found
            stack.pop()
            state[n] = 2
            return []

        for n in self.node_ids:
            if n not in state and (found := visit(n)):
                return found
        return []

    def _check_demands(self) -> None:
        if not self.demands:
            raise SpecError("demands", "missing: a scenario needs at least one demand stream")
        ids, skus = set(self.node_ids), set(self.sku_ids)
        seen: set[tuple[str, str]] = set()
        for i, d in enumerate(self.demands):
            if d.node not in ids:
                raise SpecError(f"demands[{i}].node", f"unknown node {d.node!r}")
            if d.sku not in skus:
                raise SpecError(f"demands[{i}].sku", f"unknown SKU {d.sku!r}")
            if (d.node, d.sku) in seen:
                raise SpecError(f"demands[{i}]", f"duplicate demand for {d.node}/{d.sku}")
            seen.add((d.node, d.sku))
            _check_nonneg(f"demands[{i}].shortage_cost", d.shortage_cost)
        for n, node in enumerate(self.nodes):
            if not any(a.customer == node.id for a in self.arcs) and node.production_capacity is None:
                # A node with no supplier can only sell what it starts with.
                if not any(d.node == node.id for d in self.demands) and not any(
                    a.supplier == node.id for a in self.arcs
                ):
                    raise SpecError(f"nodes[{n}]", f"node {node.id!r} is connected to nothing")

    # ----------------------------------------------------------------- views
    @property
    def node_ids(self) -> list[str]:
        """Node ids in parameter order."""
        return [n.id for n in self.nodes]

    @property
    def sku_ids(self) -> list[str]:
        """SKU ids in order."""
        return [s.id for s in self.skus]

    def node_index(self, node_id: str) -> int:
        """Position of a node in parameter order."""
        return self.node_ids.index(node_id)

    @property
    def is_tree(self) -> bool:
        """True when every node has at most one supplier (echelon policies need it)."""
        inbound = [a.customer for a in self.arcs]
        return len(inbound) == len(set(inbound))

    def require_tree(self, what: str) -> None:
        """Raise :class:`SpecError` when the network is not a tree."""
        if not self.is_tree:
            multi = sorted({c for c in (a.customer for a in self.arcs)
                            if sum(a.customer == c for a in self.arcs) > 1})
            raise SpecError("policy", f"{what} needs a tree-shaped network (one supplier per node); "
                            f"{', '.join(repr(m) for m in multi)} in {self.name!r} have several suppliers")

    def downstream_order(self) -> list[int]:
        """Node indices, every customer before its suppliers (reverse topological order)."""
        order: list[int] = []
        done: set[str] = set()
        children = {n: [a.customer for a in self.arcs if a.supplier == n] for n in self.node_ids}

        def visit(n: str) -> None:
            if n in done:
                return
            done.add(n)
            for c in children[n]:
                visit(c)
            order.append(self.node_index(n))

        for n in self.node_ids:
            visit(n)
        return order

    @property
    def hash(self) -> str:
        """Short content hash (stable across processes), for results keys and model metadata."""
        text = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    # ------------------------------------------------------------------ TOML
    def to_dict(self) -> dict[str, Any]:
        """TOML-ready dict; ``Spec.from_dict(spec.to_dict()) == spec``."""
        out = {k: v for k, v in _to_table(self).items()
               if k not in ("nodes", "arcs", "demands", "skus", "randomisation")}
        if self.randomisation is not None:
            out["randomisation"] = self.randomisation.to_dict()
        out["skus"] = [_to_table(s) for s in self.skus]
        out["nodes"] = [_to_table(n) for n in self.nodes]
        out["arcs"] = [a.to_dict() for a in self.arcs]
        out["demands"] = [d.to_dict() for d in self.demands]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Spec:
        """Build and validate a spec from a parsed TOML document."""
        if not isinstance(data, dict):
            raise SpecError("scenario", "must be a TOML table")
        data = dict(data)
        for key in ("nodes", "demands"):
            if key not in data:
                raise SpecError(key, "missing: every scenario needs [[" + key + "]] tables")

        def lst(key: str) -> list[Any]:
            value = data.pop(key, [])
            if not isinstance(value, list):
                raise SpecError(key, f"must be an array of tables ([[{key}]]), got {type(value).__name__}")
            return value

        skus = tuple(_from_table(SKU, s, f"skus[{i}]") for i, s in enumerate(lst("skus"))) or (SKU("item"),)
        nodes = tuple(_from_table(Node, n, f"nodes[{i}]") for i, n in enumerate(lst("nodes")))
        arcs = tuple(
            _from_table(Arc, a, f"arcs[{i}]", {"lead_time": LeadTime.from_dict})
            for i, a in enumerate(lst("arcs"))
        )
        demands = []
        for i, d in enumerate(lst("demands")):
            if isinstance(d, dict) and "process" not in d:
                raise SpecError(f"demands[{i}].process", "missing: give the demand process, e.g. "
                                "process = { kind = \"poisson\", mean = 5 }")
            demands.append(_from_table(Demand, d, f"demands[{i}]", {"process": DemandProcess.from_dict}))
        if "randomisation" in data:
            data["randomisation"] = ScenarioDistribution.from_dict(data["randomisation"])
        return _from_table(cls, {**data, "skus": skus, "nodes": nodes, "arcs": arcs,
                                 "demands": tuple(demands)}, "scenario")


def load(source: str | Path) -> Spec:
    """Load a spec from a built-in name or a TOML file path.

    :param source: a built-in scenario name (see ``scenarios.builtin.names()``)
        or the path of a TOML file.
    :raises SpecError: unknown name, unreadable file, bad TOML or invalid spec.
    """
    from scenarios import builtin

    text = str(source)
    if text in builtin.names():
        return builtin.get(text)
    path = Path(text)
    if not path.exists():
        raise SpecError("scenario", f"{text!r} is neither a built-in scenario "
                        f"({', '.join(builtin.names())}) nor an existing TOML file")
    if path.is_dir():
        raise SpecError("scenario", f"{text!r} is a directory; give a TOML file or a built-in name")
    try:
        data = tomllib.loads(path.read_text())
    except OSError as err:
        raise SpecError("scenario", f"cannot read {path}: {err.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise SpecError("scenario", f"{path} is not valid TOML: {err}") from None
    return Spec.from_dict(data)


def dumps(spec: Spec) -> str:
    """The spec as a TOML document."""
    return tomli_w.dumps(spec.to_dict())


def save(spec: Spec, path: str | Path) -> None:
    """Write the spec to a TOML file."""
    Path(path).write_text(dumps(spec))
