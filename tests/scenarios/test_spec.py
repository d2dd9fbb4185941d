"""Scenario specs: lossless TOML round trips and one named error per invalid field.

Every rule is tested on both sides: a minimal valid scenario must load, and
each single mutation of it must raise :class:`SpecError` naming the field.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from scenarios import builtin
from scenarios.errors import SpecError
from scenarios.paths import SamplePaths
from scenarios.policies import make_policy
from scenarios.simulator import simulate
from scenarios.spec import Spec, dumps, load, save

# Two nodes (A supplies B), two SKUs, one demand stream: every rule below is a
# one-line edit of this text.
BASE = """\
name = "tiny"
timing = "order-first"
shortage = "backlog"
correlation = 0.0

[[skus]]
id = "item"
shelf_life = 5

[[skus]]
id = "gadget"

[[nodes]]
id = "A"
holding_cost = 1.0
yield_rate = 1.0

[[nodes]]
id = "B"
holding_cost = [2.0, 3.0]

[[arcs]]
supplier = "external"
customer = "A"
lead_time = 2
unit_cost = 1.5

[[arcs]]
supplier = "A"
customer = "B"
lead_time = 1

[[demands]]
node = "B"
sku = "item"
process = { kind = "poisson", mean = 5.0 }
shortage_cost = 9.0

[randomisation]
demand_level = [0.8, 1.2]
"""

ARC_AB = 'supplier = "A"\ncustomer = "B"\nlead_time = 1\n'
DEMAND = """\
[[demands]]
node = "B"
sku = "item"
process = { kind = "poisson", mean = 5.0 }
shortage_cost = 9.0
"""


def second_supplier(split_ab: float | None, split_ext: float | None) -> tuple[str, str]:
    """Edit giving node B a second supplier (external) with the given split fractions."""
    ab = ARC_AB + ("" if split_ab is None else f"split = {split_ab}\n")
    ext = '\n[[arcs]]\nsupplier = "external"\ncustomer = "B"\nlead_time = 1\n'
    ext += "" if split_ext is None else f"split = {split_ext}\n"
    return ARC_AB, ab + ext


def mutate(*edits: tuple[str, str]) -> str:
    """BASE with each ``(old, new)`` edit applied; ``old`` must occur exactly once."""
    text = BASE
    for old, new in edits:
        assert text.count(old) == 1, f"edit target {old!r} is not unique in BASE"
        text = text.replace(old, new)
    return text


def load_text(tmp_path: Path, text: str) -> Spec:
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    return load(path)


# ---------------------------------------------------------------- round trips
@pytest.mark.parametrize("name", builtin.names())
def test_builtin_round_trips_through_toml(name: str) -> None:
    spec = builtin.get(name)
    back = Spec.from_dict(tomllib.loads(dumps(spec)))
    assert back == spec
    assert back.hash == spec.hash


@pytest.mark.parametrize("name", builtin.names())
def test_builtin_round_trips_through_a_file(name: str, tmp_path: Path) -> None:
    spec = builtin.get(name)
    path = tmp_path / f"{name}.toml"
    save(spec, path)
    back = load(path)
    assert back == spec
    assert back.hash == spec.hash


def test_builtin_names_are_the_contract() -> None:
    assert builtin.names() == ["serial-3", "lost-sales-poisson", "divergent-1w3r",
                               "seasonal-grocery", "perishable-pharma", "retail-network",
                               "orgym-inv-v0", "orgym-inv-v1", "rl-divergent-1w3r",
                               "rl-divergent-1w3r-ns", "rl-divergent-1w2r", "rl-divergent-1w2r-ns",
                               "regime-disruption"]


def test_load_by_builtin_name() -> None:
    assert load("serial-3") == builtin.get("serial-3")


def test_hash_changes_with_the_spec(tmp_path: Path) -> None:
    a = load_text(tmp_path, BASE)
    b = load_text(tmp_path, mutate(("holding_cost = 1.0", "holding_cost = 1.5")))
    assert a != b
    assert a.hash != b.hash


# ---------------------------------------------------- valid side of the rules
def test_base_text_is_valid(tmp_path: Path) -> None:
    spec = load_text(tmp_path, BASE)
    assert spec.node_ids == ["A", "B"]
    assert spec.sku_ids == ["item", "gadget"]
    assert spec.nodes[0].holding_cost == (1.0, 1.0)
    assert spec.nodes[1].holding_cost == (2.0, 3.0)
    assert spec.is_tree
    assert Spec.from_dict(tomllib.loads(dumps(spec))) == spec


@pytest.mark.parametrize(
    "edits",
    [
        pytest.param([("holding_cost = 1.0", "holding_cost = 0.0")], id="zero-holding-cost"),
        pytest.param([("unit_cost = 1.5", "unit_cost = 0.0")], id="zero-unit-cost"),
        pytest.param([("shelf_life = 5", "shelf_life = 1")], id="shelf-life-1"),
        pytest.param([("yield_rate = 1.0", "yield_rate = 0.01")], id="small-yield"),
        pytest.param([("correlation = 0.0", "correlation = 0.99")], id="correlation-0.99"),
        pytest.param([second_supplier(0.5, 0.5)], id="splits-sum-to-1"),
        pytest.param([second_supplier(0.7, 0.3)], id="splits-0.7-0.3"),
        pytest.param([("demand_level = [0.8, 1.2]", "demand_level = [1.0, 1.0]")],
                     id="randomisation-low-equals-high"),
        pytest.param([("holding_cost = [2.0, 3.0]", "holding_cost = 2.0")],
                     id="one-cost-for-all-skus"),
    ],
)
def test_boundary_values_are_valid(edits: list[tuple[str, str]], tmp_path: Path) -> None:
    spec = load_text(tmp_path, mutate(*edits))
    assert Spec.from_dict(tomllib.loads(dumps(spec))) == spec


# ------------------------------------------------------ invalid side: errors
ERRORS = [
    # (id, edits, field, words the message must contain)
    ("negative-holding-cost", [("holding_cost = 1.0", "holding_cost = -1.0")],
     "nodes[0].holding_cost", [">= 0", "-1"]),
    ("negative-sku-cost-in-list", [("holding_cost = [2.0, 3.0]", "holding_cost = [2.0, -3.0]")],
     "nodes[1].holding_cost[1]", [">= 0", "-3"]),
    ("wrong-number-of-sku-costs", [("holding_cost = [2.0, 3.0]", "holding_cost = [2.0, 3.0, 4.0]")],
     "nodes[1].holding_cost", ["one per SKU", "2", "got 3"]),
    ("negative-unit-cost", [("unit_cost = 1.5", "unit_cost = -0.5")],
     "arcs[0].unit_cost", [">= 0", "-0.5"]),
    ("unknown-arc-supplier", [('supplier = "A"', 'supplier = "Z"')],
     "arcs[1].supplier", ["unknown node", "Z"]),
    ("unknown-arc-customer", [('customer = "B"', 'customer = "Z"')],
     "arcs[1].customer", ["unknown node", "Z"]),
    ("unknown-demand-node", [('node = "B"', 'node = "Z"')],
     "demands[0].node", ["unknown node", "Z"]),
    ("unknown-demand-sku", [('sku = "item"', 'sku = "widget"')],
     "demands[0].sku", ["unknown SKU", "widget"]),
    ("cycle", [("[[demands]]", '[[arcs]]\nsupplier = "B"\ncustomer = "A"\n\n[[demands]]')],
     "arcs", ["cycle", "A -> B -> A"]),
    ("splits-do-not-sum-to-1", [second_supplier(0.5, 0.3)],
     "nodes[1].sourcing", ["sum to 1", "0.8", "'B'"]),
    ("missing-split-with-two-suppliers", [second_supplier(None, 0.5)],
     "arcs[1].split", ["'B'", "split"]),
    ("split-above-1", [second_supplier(1.5, -0.5)], "arcs[1].split", ["[0, 1]", "1.5"]),
    ("shelf-life-0", [("shelf_life = 5", "shelf_life = 0")],
     "skus[0].shelf_life", [">= 1", "0"]),
    ("no-demands-table", [(DEMAND, "")], "demands", ["missing"]),
    ("empty-demands", [(DEMAND, ""), ('name = "tiny"\n', 'name = "tiny"\ndemands = []\n')],
     "demands", ["missing"]),
    ("demand-without-process", [('process = { kind = "poisson", mean = 5.0 }\n', "")],
     "demands[0].process", ["missing"]),
    ("unknown-demand-kind", [('kind = "poisson"', 'kind = "gaussian"')],
     "demands[0].process.kind", ["gaussian"]),
    ("negative-lead-time", [("lead_time = 2\n", "lead_time = -1\n")],
     "arcs[0].lead_time.value", [">= 0", "-1"]),
    ("unknown-top-level-key", [("correlation = 0.0\n", 'correlation = 0.0\ncolour = "red"\n')],
     "scenario.colour", ["unknown"]),
    ("unknown-node-key", [("yield_rate = 1.0\n", 'yield_rate = 1.0\ncolour = "red"\n')],
     "nodes[0].colour", ["unknown"]),
    ("bad-timing", [('timing = "order-first"', 'timing = "whenever"')],
     "timing", ["whenever", "order-first", "demand-first"]),
    ("bad-shortage", [('shortage = "backlog"', 'shortage = "forget"')],
     "shortage", ["forget", "backlog", "lost-sales"]),
    ("duplicate-node-id", [('id = "B"', 'id = "A"')], "nodes[1].id", ["duplicate", "'A'"]),
    ("node-id-external", [('id = "A"', 'id = "external"')], "nodes[0].id", ["reserved"]),
    ("yield-rate-0", [("yield_rate = 1.0", "yield_rate = 0.0")],
     "nodes[0].yield_rate", ["(0, 1]", "0"]),
    ("yield-rate-above-1", [("yield_rate = 1.0", "yield_rate = 1.2")],
     "nodes[0].yield_rate", ["(0, 1]", "1.2"]),
    ("correlation-1", [("correlation = 0.0", "correlation = 1.0")], "correlation", ["[0, 1)", "1"]),
    ("correlation-above-1", [("correlation = 0.0", "correlation = 1.5")], "correlation", ["1.5"]),
    ("randomisation-low-above-high", [("demand_level = [0.8, 1.2]", "demand_level = [1.2, 0.8]")],
     "randomisation.demand_level", ["low <= high", "1.2", "0.8"]),
    ("invalid-toml", [('name = "tiny"', 'name = "tiny')], "scenario", ["not valid TOML"]),
]


@pytest.mark.parametrize(("edits", "field", "words"),
                         [pytest.param(*e[1:], id=e[0]) for e in ERRORS])
def test_invalid_spec_names_the_field(edits: list[tuple[str, str]], field: str, words: list[str],
                                      tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_text(tmp_path, mutate(*edits))
    err = info.value
    assert err.field == field, str(err)
    assert str(err) == f"{field}: {err.reason}"
    for word in words:
        assert word in err.reason, f"{word!r} not in {err.reason!r}"


def test_spec_errors_are_value_errors() -> None:
    with pytest.raises(ValueError):
        Spec.from_dict(tomllib.loads(mutate(("holding_cost = 1.0", "holding_cost = -1.0"))))


@pytest.mark.parametrize("source", ["no-such-scenario", "missing/dir/scenario.toml"])
def test_unknown_name_or_missing_file(source: str) -> None:
    with pytest.raises(SpecError) as info:
        load(source)
    assert info.value.field == "scenario"
    assert source in info.value.reason
    assert "serial-3" in info.value.reason  # lists the built-ins


def test_missing_file_in_tmp_dir(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load(tmp_path / "absent.toml")
    assert info.value.field == "scenario"


def test_spec_is_immutable(tmp_path: Path) -> None:
    spec = load_text(tmp_path, BASE)
    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]


# ------------------------------------------------- echelon policies need trees
def test_echelon_policy_on_a_non_tree_names_the_node(tmp_path: Path) -> None:
    spec = load_text(tmp_path, mutate(second_supplier(0.5, 0.5)))
    assert not spec.is_tree
    with pytest.raises(SpecError) as info:
        make_policy(spec, "echelon-base-stock", {"S": [10.0, 20.0]})
    assert info.value.field == "policy"
    assert "'B'" in info.value.reason
    assert "'A'" not in info.value.reason  # A has one supplier


def test_base_stock_on_a_non_tree_runs(tmp_path: Path) -> None:
    spec = load_text(tmp_path, mutate(second_supplier(0.5, 0.5)))
    policy = make_policy(spec, "base-stock", {"S": [10.0, 20.0]})
    paths = SamplePaths.draw(spec, 8, 20, seed=3)
    run = simulate(spec, paths, policy)
    assert run.total_cost.shape[0] == 8
    assert np.all(np.isfinite(run.total_cost))
    assert run.total_cost.sum() > 0


def test_echelon_policy_on_a_tree_is_accepted(tmp_path: Path) -> None:
    spec = load_text(tmp_path, BASE)
    policy = make_policy(spec, "echelon-base-stock", {"S": [10.0, 20.0]})
    assert policy.name == "echelon-base-stock"
