"""Policy texts (``NAME`` or ``NAME:key=v1,v2;...``) and parameter checks in ``make_policy``."""

from __future__ import annotations

import pytest

from scenarios import builtin
from scenarios.errors import SpecError
from scenarios.policies import FAMILIES, make_policy
from scenarios.registry import parse_policy


@pytest.fixture(scope="module")
def serial():
    return builtin.get("serial-3")


# --------------------------------------------------------------- valid texts
@pytest.mark.parametrize(
    ("text", "family", "params"),
    [
        ("base-stock", "base-stock", None),
        ("echelon-base-stock", "echelon-base-stock", None),
        ("sS", "sS", None),
        ("sQ", "sQ", None),
        ("  base-stock  ", "base-stock", None),
        ("base-stock:", "base-stock", None),
        ("echelon-base-stock:S=6.49,12.03,22.72", "echelon-base-stock",
         {"S": [6.49, 12.03, 22.72]}),
        ("sS:s=3,4;S=8,9", "sS", {"s": [3.0, 4.0], "S": [8.0, 9.0]}),
        ("sS:s=3,4,S=8,9", "sS", {"s": [3.0, 4.0], "S": [8.0, 9.0]}),
        ("sS: s = 3, 4 ; S = 8, 9", "sS", {"s": [3.0, 4.0], "S": [8.0, 9.0]}),
        ("sQ:s=-1.5;Q=2e1", "sQ", {"s": [-1.5], "Q": [20.0]}),
    ],
)
def test_parse_valid(text: str, family: str, params: dict | None) -> None:
    assert parse_policy(text) == (family, params)


@pytest.mark.parametrize(
    ("alias", "family"),
    [("rq", "sQ"), ("RQ", "sQ"), ("r-q", "sQ"), ("s-q", "sQ"), ("sq", "sQ"),
     ("ss", "sS"), ("SS", "sS"), ("s-s", "sS")],
)
def test_aliases(alias: str, family: str) -> None:
    assert parse_policy(alias) == (family, None)


def test_alias_with_parameters() -> None:
    assert parse_policy("rq:s=2;Q=5") == ("sQ", {"s": [2.0], "Q": [5.0]})
    assert parse_policy("ss:s=2;S=5") == ("sS", {"s": [2.0], "S": [5.0]})


def test_every_family_parses_by_its_own_name() -> None:
    for name in FAMILIES:
        assert parse_policy(name) == (name, None)


# ------------------------------------------------------------- invalid texts
@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        pytest.param("newsvendor", "policy", ["unknown policy", "newsvendor", "base-stock", "sQ"],
                     id="unknown-family"),
        pytest.param("newsvendor:S=1", "policy", ["unknown policy"],
                     id="unknown-family-with-params"),
        pytest.param("", "policy", ["unknown policy"], id="empty"),
        pytest.param("base-stock:S=", "policy.S", ["no value"], id="no-value"),
        pytest.param("sS:s=1;s=2", "policy.s", ["given twice"], id="key-twice"),
        pytest.param("sS:s=1,2,s=3,4", "policy.s", ["given twice"], id="key-twice-comma"),
        pytest.param("sS:3,4", "policy", ["key=values"], id="values-without-key"),
    ],
)
def test_parse_invalid(text: str, field: str, words: list[str]) -> None:
    with pytest.raises(SpecError) as info:
        parse_policy(text)
    assert info.value.field == field, str(info.value)
    for word in words:
        assert word in info.value.reason, f"{word!r} not in {info.value.reason!r}"


def test_text_values_stay_strings_for_other_layers() -> None:
    # rl:path=model.zip needs a string value; classical families reject it when built.
    assert parse_policy("base-stock:S=1,x,3") == ("base-stock", {"S": [1.0, "x", 3.0]})


def test_classical_policy_rejects_non_number(serial) -> None:
    with pytest.raises(SpecError) as info:
        make_policy(serial, "base-stock", {"S": [1.0, "x", 3.0]})
    assert info.value.field == "policy.S"
    assert "'x'" in info.value.reason and "not a number" in info.value.reason


# -------------------------------------------------------------- make_policy
@pytest.mark.parametrize(
    ("family", "params"),
    [
        ("base-stock", {"S": [1.0, 2.0]}),
        ("echelon-base-stock", {"S": [1.0, 2.0, 3.0, 4.0]}),
        ("sS", {"s": [1.0, 2.0], "S": [5.0, 6.0, 7.0]}),
    ],
)
def test_wrong_value_count_names_count_and_nodes(serial, family: str, params: dict) -> None:
    with pytest.raises(SpecError) as info:
        make_policy(serial, family, params)
    bad = next(k for k, v in params.items() if len(v) != 3)
    got = len(params[bad])
    assert info.value.field == f"policy.{bad}"
    assert "needs 3 values" in info.value.reason
    assert f"got {got}" in info.value.reason
    assert "stage1, stage2, stage3" in info.value.reason


def test_right_value_count_is_accepted(serial) -> None:
    policy = make_policy(serial, "echelon-base-stock", {"S": [6.49, 12.03, 22.72]})
    assert policy.name == "echelon-base-stock"
    assert policy.describe() == {"S": [6.49, 12.03, 22.72]}


def test_one_node_scenario_takes_one_value() -> None:
    spec = builtin.get("lost-sales-poisson")
    assert make_policy(spec, "base-stock", {"S": [18.0]}).describe() == {"S": [18.0]}
    with pytest.raises(SpecError, match="needs 1 values|needs 1 value"):
        make_policy(spec, "base-stock", {"S": [18.0, 3.0]})


def test_sS_rejects_s_above_S(serial) -> None:
    with pytest.raises(SpecError) as info:
        make_policy(serial, "sS", {"s": [3.0, 10.0, 5.0], "S": [8.0, 9.0, 20.0]})
    assert info.value.field == "policy.s"
    assert "s <= " in info.value.reason or "<= order-up-to" in info.value.reason


def test_sS_accepts_s_equal_to_S(serial) -> None:
    policy = make_policy(serial, "sS", {"s": [3.0, 9.0, 5.0], "S": [8.0, 9.0, 20.0]})
    assert policy.name == "sS"


@pytest.mark.parametrize("q", [0.0, -2.0])
def test_sQ_rejects_non_positive_Q(serial, q: float) -> None:
    with pytest.raises(SpecError) as info:
        make_policy(serial, "sQ", {"s": [3.0, 4.0, 5.0], "Q": [5.0, q, 5.0]})
    assert info.value.field == "policy.Q"
    assert "> 0" in info.value.reason


def test_sQ_accepts_small_positive_Q(serial) -> None:
    assert make_policy(serial, "sQ", {"s": [3.0, 4.0, 5.0], "Q": [5.0, 1e-3, 5.0]}).name == "sQ"


@pytest.mark.parametrize(
    ("family", "params", "field"),
    [
        ("base-stock", {"Q": [1.0, 2.0, 3.0]}, "policy.Q"),  # the family's key is S
        ("sS", {"s": [1.0, 2.0, 3.0]}, "policy.S"),  # S missing
        ("base-stock", {"S": [1.0, float("nan"), 3.0]}, "policy.S"),
    ],
)
def test_unknown_missing_or_non_finite_parameters(serial, family: str, params: dict,
                                                  field: str) -> None:
    with pytest.raises(SpecError) as info:
        make_policy(serial, family, params)
    assert info.value.field == field, str(info.value)


def test_parse_then_make(serial) -> None:
    family, params = parse_policy("ss:s=3,4,5,S=8,9,20")
    policy = make_policy(serial, family, params)
    assert policy.describe() == {"s": [3.0, 4.0, 5.0], "S": [8.0, 9.0, 20.0]}
