"""The OpenAPI contract of `echelon serve`, checked by schemathesis: generated requests, valid and not."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from hybrid.serve import DecisionService, create_app
from scenarios.spec import load

pytestmark = pytest.mark.filterwarnings("ignore:Using .httpx. with .starlette.testclient")

APP = create_app(DecisionService(load("serial-3"), "sS:s=5,10,20;S=8,14,25", max_order=30))
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)


@SCHEMA.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_keeps_the_contract(case) -> None:
    case.call_and_validate()
