"""Fixtures shared across tests/.

They live here, not in tests/conftest.py: with --doctest-modules a tests/conftest.py is
collected as a module and collides with tests/bench/conftest.py by name.
"""

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def agent(tmp_path_factory) -> Path:
    """A tiny trained RL agent on lost-sales-poisson (about a second), for tests that need a saved agent."""
    from rl.training import TrainConfig, train

    out = tmp_path_factory.mktemp("agent")
    train(TrainConfig(scenario="lost-sales-poisson", timesteps=64, n_envs=2, n_steps=32, batch_size=64,
                      n_epochs=1, periods=10, eval_every=0, eval_paths=2, anchor_paths=4,
                      progress_bar=False, out=str(out)))
    return out
