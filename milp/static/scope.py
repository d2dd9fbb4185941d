"""What the SAA program can model: refusals (named :class:`~scenarios.errors.SpecError`) and notes."""

from __future__ import annotations

import numpy as np

from milp.errors import require_timing
from scenarios.errors import SpecError
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.spec import Spec

__all__ = ["FAMILIES", "check_supported"]

#: Policy families the program optimises.
FAMILIES = ("echelon-base-stock", "base-stock")


def check_supported(spec: Spec, family: str, paths: SamplePaths, net: Network) -> list[str]:
    """Raise :class:`SpecError` for what the program cannot express; return approximation notes."""
    if family not in FAMILIES:
        raise SpecError("family", f"optimise_static supports {', '.join(FAMILIES)}, got {family!r}")
    paths.check(spec)
    require_timing(spec, "optimise_static")
    spec.require_tree(f"optimise_static ({family})")
    refuse = []
    for i, node in enumerate(spec.nodes):
        where = f"nodes[{i}]"
        if node.storage_capacity is not None:
            refuse.append((f"{where}.storage_capacity", "storage capacities"))
        if node.production_capacity is not None:
            refuse.append((f"{where}.production_capacity", "production capacities"))
        if node.yield_rate != 1:
            refuse.append((f"{where}.yield_rate", "yields below 1"))
        if any(p != 0 for p in node.price):
            refuse.append((f"{where}.price", "prices (revenue)"))
        if net.children[i] and any(d.node == node.id for d in spec.demands):
            refuse.append((f"{where}.id", "external demand at a node that also supplies others"))
    for e, arc in enumerate(spec.arcs):
        where = f"arcs[{e}]"
        if arc.capacity is not None:
            refuse.append((f"{where}.capacity", "arc capacities"))
        if arc.moq > 0:
            refuse.append((f"{where}.moq", "minimum order quantities"))
        if arc.split not in (None, 1.0):
            refuse.append((f"{where}.split", "split sourcing"))
    for k, sku in enumerate(spec.skus):
        if sku.shelf_life is not None:
            refuse.append((f"skus[{k}].shelf_life", "perishable SKUs"))
    for d, dem in enumerate(spec.demands):
        if dem.process.goodwill is not None:
            refuse.append((f"demands[{d}].process.goodwill", "goodwill (demand that reacts to stockouts)"))
    pairs = [(d.node, d.sku) for d in spec.demands]
    if len(pairs) != len(set(pairs)):
        refuse.append(("demands", "two demand streams for one node and SKU"))
    if spec.budget is not None:
        refuse.append(("budget", "ordering budgets"))
    if spec.internal_shortage != "backlog":
        refuse.append(("internal_shortage", "lost internal orders"))
    if paths.disrupted.any():
        refuse.append(("arcs.lead_time.disruption", "supplier disruptions"))
    if refuse:
        where, what = refuse[0]
        raise SpecError(where, f"optimise_static cannot model {what} (scenario {spec.name!r}); "
                        "simulation-optimise it with scenarios.tuning.tune instead")
    if paths.n_periods <= paths.warmup:
        raise SpecError("paths", f"need measured periods after the warm-up of {paths.warmup}")

    notes = []
    if any(len(c) > 1 for c in net.children):
        notes.append("a supplier with several customers shares short stock proportionally (rounded "
                     "down): the program simulates that exactly, but its cuts are not those of a convex "
                     "cost and its LP may split as it likes")
    if spec.shortage == "lost-sales":
        notes.append("lost sales: sales are relaxed to <= min(demand, stock) and the burn-in periods "
                     "are charged in the program like measured ones")
        if np.any(net.fixed_cost > 0):
            notes.append("lost sales: fixed order costs are charged in periods with demand, "
                         "not periods with sales")
    if spec.integer and np.any(paths.demand != np.round(paths.demand)):
        notes.append("integer spec with fractional demand: the simulator rounds orders, the program does not")
    return notes
