"""Fixtures of the RL tests."""

from __future__ import annotations

import pytest
from rl_testing import SCENARIOS


@pytest.fixture(params=SCENARIOS)
def scenario(request) -> str:
    """The scenarios every environment is checked on."""
    return request.param
