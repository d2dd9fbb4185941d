"""The built-ins that restate the published RL settings: their demand and lead-time constructions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from scenarios import builtin
from scenarios.builtin import _poisson_uniform_history, _rounded_normal_lead_time


def test_poisson_uniform_history_has_the_mixture_moments() -> None:
    # Poisson(U[5, 15]): mean 10, variance E[rate] + Var(rate) = 10 + 100 / 12.
    history = np.array(_poisson_uniform_history(5.0, 15.0, points=2000))
    assert abs(history.mean() - 10.0) < 0.02
    assert abs(history.var() - (10 + 100 / 12)) < 0.1
    assert np.all(history == np.round(history))


def test_poisson_uniform_history_matches_a_simulated_mixture() -> None:
    rng = np.random.default_rng(7)
    draws = rng.poisson(rng.uniform(5, 15, 200_000))
    history = np.array(_poisson_uniform_history(5.0, 15.0, points=2000))
    for q in (0.1, 0.5, 0.9, 0.99):
        assert abs(np.quantile(history, q) - np.quantile(draws, q)) <= 1


def test_rounded_normal_lead_time_matches_simulation() -> None:
    lead = _rounded_normal_lead_time(2.0, 1.2, spike_prob=0.08, spike=4, low=1, high=10)
    assert abs(sum(lead.probabilities) - 1) < 1e-9
    rng = np.random.default_rng(3)
    x = rng.normal(2.0, 1.2, 400_000) + 4 * (rng.random(400_000) < 0.08)
    sim = np.clip(np.round(x), 1, 10)
    for v, p in zip(lead.values, lead.probabilities, strict=True):
        assert abs((sim == v).mean() - p) < 3e-3, v


def test_rounded_normal_without_spikes_clips_low_values_to_the_minimum() -> None:
    lead = _rounded_normal_lead_time(2.0, 1.0, spike_prob=0.0, spike=0, low=1, high=8)
    assert lead.values[0] == 1
    assert lead.probabilities[0] == pytest.approx(stats.norm.cdf(1.5, 2.0, 1.0), abs=1e-9)


@pytest.mark.parametrize("name", ["rl-divergent-1w3r", "rl-divergent-1w3r-ns", "rl-divergent-1w2r",
                                  "rl-divergent-1w2r-ns"])
def test_rl_settings_are_divergent_trees(name: str) -> None:
    spec = builtin.get(name)
    assert spec.is_tree
    assert len(spec.demands) == (3 if "1w3r" in name else 2)
