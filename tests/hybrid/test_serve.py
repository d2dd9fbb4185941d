"""echelon serve: decisions equal the policy's in the simulator; bad states get 422 and the server goes on."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hybrid.serve import DecideRequest, DecisionService, create_app, request_from_state
from scenarios.errors import SpecError
from scenarios.paths import SamplePaths
from scenarios.registry import build_policy
from scenarios.simulator import Network, Simulator
from scenarios.spec import load

pytestmark = pytest.mark.filterwarnings("ignore:Using .httpx. with .starlette.testclient")

SERIAL = "sS:s=5,10,20;S=8,14,25"


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    return TestClient(create_app(DecisionService(load("serial-3"), SERIAL, max_order=30)))


def _body(**changes) -> dict:
    body = {"on_hand": {"stage1": {"item": 3}, "stage2": {"item": 5}, "stage3": {"item": 0}},
            "pipeline": {"stage2->stage1": {"item": [1]}}, "backlog": {"stage1": {"item": 2}}}
    return {**body, **changes}


@pytest.mark.parametrize("scenario, policy", [("serial-3", SERIAL),
                                              ("divergent-1w3r", "base-stock:S=40,12,20,28"),
                                              ("serial-3", "echelon-base-stock:S=6.49,12.03,22.72")])
def test_decisions_are_the_policys_in_the_simulator(scenario: str, policy: str) -> None:
    spec = load(scenario)
    service = DecisionService(spec, policy)
    paths = SamplePaths.draw(spec, paths=3, periods=15, seed=4)
    reference = build_policy(spec, policy, lambda: None)
    sim = Simulator(spec, paths, Network(spec))
    reference.reset(sim.network, 3)
    checked = 0
    while not sim.done:
        state = sim.begin_period()
        orders = reference.act(state, sim.t)
        for p in range(3):
            answer = service.decide(request_from_state(spec, state, p))
            served = np.array([o.proposed for o in answer.orders]).reshape(orders.shape[1:])
            expected = np.maximum(orders[p], 0)
            np.testing.assert_allclose(served, np.round(expected) if spec.integer else expected, atol=1e-9)
            checked += 1
        sim.end_period(orders)
    assert checked == 3 * paths.n_periods


def test_the_explanation_shows_positions_against_levels_and_the_guardrail_cuts(client) -> None:
    answer = client.post("/decide", json=_body()).json()
    stage1 = answer["explanation"]["nodes"][0]
    # on hand 3 + arriving 1 - backlog 2 = 2 <= s = 5: order S - IP = 8 - 2
    assert (stage1["node"], stage1["inventory_position"], stage1["s"], stage1["S"], stage1["order"]) == \
        ("stage1", 2.0, 5.0, 8.0, 6.0)
    stage3 = next(o for o in answer["orders"] if o["customer"] == "stage3")
    assert stage3["proposed"] > 30 and stage3["quantity"] == 30 and stage3["guarded"]
    assert answer["guardrails"] == {"max_order": 30, "max_deviation": None, "reference": None, "guarded": 1}
    assert answer["parameters"] == {"s": [5.0, 10.0, 20.0], "S": [8.0, 14.0, 25.0]}
    assert answer["family"] == "sS" and "scenario" in answer["version"]


@pytest.mark.parametrize("body, loc, words", [
    (_body(on_hand={"stage1": {"item": math.nan}, "stage2": {}, "stage3": {}}), ["on_hand", "stage1", "item"],
     "finite"),
    (_body(on_hand={"stage1": {"item": -1}, "stage2": {}, "stage3": {}}), ["on_hand", "stage1", "item"],
     "greater than or equal to 0"),
    (_body(on_hand={"stage1": {"item": 1}, "stage2": {}}), ["on_hand", "stage3"], "missing"),
    (_body(on_hand={"stage1": {}, "stage2": {}, "stage3": {}, "stage9": {}}), ["on_hand", "stage9"],
     "unknown node"),
    (_body(on_hand={"stage1": {"milk": 1}, "stage2": {}, "stage3": {}}), ["on_hand", "stage1", "milk"],
     "unknown SKU"),
    (_body(pipeline={"stage3->stage1": {"item": [1]}}), ["pipeline", "stage3->stage1"], "unknown arc"),
    (_body(pipeline={"stage2->stage1": {"item": [1, 1, 1]}}), ["pipeline", "stage2->stage1", "item"],
     "longest lead time"),
    (_body(backlog={"stage2": {"item": 1}}), ["backlog", "stage2", "item"], "no external demand"),
    (_body(period=-1), ["period"], "greater than or equal to 0"),
    (_body(period=10**6), ["period"], "must be below"),
    (_body(stock=1), ["stock"], "Extra inputs"),
    ({"pipeline": {}}, ["on_hand"], "Field required"),
])
def test_a_bad_state_gets_422_naming_the_field_and_the_server_goes_on(client, body, loc, words) -> None:
    response = client.post("/decide", content=json.dumps(body), headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", *loc] and words in error["msg"], error
    assert client.post("/decide", json=_body()).status_code == 200


def test_health_and_the_openapi_contract(client) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["nodes"] == ["stage1", "stage2", "stage3"]
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) == {"/decide", "/health"}
    body = schema["paths"]["/decide"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"].endswith("DecideRequest")
    assert client.get("/docs").status_code == 200


def test_rl_agent_explains_its_levels_against_the_anchor(agent) -> None:
    spec = load("lost-sales-poisson")
    service = DecisionService(spec, f"rl:path={agent}")
    answer = service.decide(DecideRequest(on_hand={"store": {"item": 2}}))
    explanation = answer.explanation
    assert explanation["kind"] == "inventory position against levels" and "anchor" in explanation
    assert explanation["nodes"][0]["inventory_position"] == 2.0


def test_the_deviation_guardrail_keeps_orders_near_the_reference() -> None:
    spec = load("divergent-1w3r")  # integer orders
    service = DecisionService(spec, "base-stock:S=80,20,30,40", reference="base-stock:S=40,12,20,28",
                              max_deviation=0.25, max_order=30)
    on_hand = {n: {"item": 5} for n in spec.node_ids}
    answer = service.decide(DecideRequest(on_hand=on_hand))
    for o in answer.orders:
        low, high = math.ceil(o.reference * 0.75 - 1e-9), math.floor(o.reference * 1.25 + 1e-9)
        expected = min(max(o.proposed, min(low, high)), high, 30)
        assert o.quantity == expected and o.guarded == (o.quantity != o.proposed), o
    assert answer.guardrails["guarded"] >= 1 and answer.guardrails["reference"] == "base-stock:S=40,12,20,28"
    with pytest.raises(SpecError, match="--reference"):
        DecisionService(spec, "base-stock:S=80,20,30,40", max_deviation=0.25)


def test_bad_options_are_spec_errors() -> None:
    with pytest.raises(SpecError, match="--max-order"):
        DecisionService(load("serial-3"), SERIAL, max_order=-1)
    with pytest.raises(SpecError, match="unknown policy"):
        DecisionService(load("serial-3"), "nope")


def test_rolling_horizon_explains_its_plan() -> None:
    spec = load("lost-sales-poisson")
    service = DecisionService(spec, "rolling-horizon:horizon=4")
    answer = service.decide(DecideRequest(on_hand={"store": {"item": 3}},
                                          pipeline={"external->store": {"item": [4, 0]}}))
    explanation = answer.explanation
    assert explanation["kind"] == "plan" and explanation["solve"]["status"] == "optimal"
    planned = explanation["planned_orders"][0]
    assert len(planned["by_period"]) == 4
    assert planned["by_period"][0] == pytest.approx(answer.orders[0].proposed)
