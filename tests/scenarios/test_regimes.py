"""Hidden Markov regimes: the chain, the draws they modulate, validation, round trips."""

from __future__ import annotations

import numpy as np
import pytest

from scenarios import builtin
from scenarios.errors import SpecError
from scenarios.paths import SamplePaths
from scenarios.processes import (
    DemandProcess,
    DemandRegime,
    LeadTime,
    SupplyRegime,
    draw_demand,
    draw_lead_times,
)
from scenarios.processes.regime import draw_chain, stationary_distribution
from scenarios.spec import Spec

STICKY = ((0.9, 0.1), (0.2, 0.8))  # stationary (2/3, 1/3)
THREE = ((0.5, 0.5, 0.0), (0.0, 0.5, 0.5), (0.25, 0.25, 0.5))


def within(value: float, target: float, se: float, z: float = 5.0) -> bool:
    """``value`` within ``z`` standard errors of ``target``."""
    return abs(value - target) <= z * se


# -- the chain ------------------------------------------------------------------------------------


@pytest.mark.parametrize("transition", [STICKY, THREE, ((1.0,),), ((0.0, 1.0), (1.0, 0.0))])
def test_stationary_distribution_is_left_invariant(transition) -> None:
    pi = stationary_distribution(transition)
    assert pi.sum() == pytest.approx(1.0) and np.all(pi >= 0)
    np.testing.assert_allclose(pi @ np.asarray(transition), pi, atol=1e-12)


def test_chain_starts_stationary_and_moves_by_the_matrix() -> None:
    state = draw_chain(THREE, 20_000, 30, np.random.default_rng(0))
    assert state.dtype == np.int64 and state.shape == (20_000, 30)
    pi = stationary_distribution(THREE)
    for t in (0, 29):  # the same marginal law in every period
        share = np.bincount(state[:, t], minlength=3) / len(state)
        assert all(within(s, p, np.sqrt(p * (1 - p) / len(state))) for s, p in zip(share, pi, strict=True))
    before, after = state[:, :-1].ravel(), state[:, 1:].ravel()
    for i in range(3):
        moved = np.bincount(after[before == i], minlength=3) / np.sum(before == i)
        n = np.sum(before == i)
        for j in range(3):
            p = THREE[i][j]
            assert within(moved[j], p, np.sqrt(max(p * (1 - p), 1e-12) / n)), (i, j, moved)


def test_chain_same_seed_same_states() -> None:
    a = draw_chain(STICKY, 50, 20, np.random.default_rng(3))
    b = draw_chain(STICKY, 50, 20, np.random.default_rng(3))
    c = draw_chain(STICKY, 50, 20, np.random.default_rng(4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


# -- demand ---------------------------------------------------------------------------------------


def test_demand_regime_moments_by_state_and_the_forecast_hides_the_state() -> None:
    regime = DemandRegime(transition=STICKY, mean=(1.0, 2.0), cv=(1.0, 3.0))
    process = DemandProcess("negative-binomial", mean=10.0, std=5.0, regime=regime)
    paths, periods = 4000, 25
    demand, expected = draw_demand([process], paths, periods, np.random.default_rng(7))
    # the chain is the first thing drawn here (no promotion), so the same seed gives the states
    state = draw_chain(STICKY, paths, periods, np.random.default_rng(7))
    n0 = 10.0**2 / (5.0**2 - 10.0)  # the negative binomial's n at cv 1
    for k, (m, c) in enumerate(zip(regime.mean, regime.cv, strict=True)):
        mean = 10.0 * m
        var = mean + mean**2 / (n0 / c**2)
        sample = demand[..., 0][state == k]
        assert within(sample.mean(), mean, np.sqrt(var / sample.size)), (k, sample.mean())
        assert sample.var() == pytest.approx(var, rel=0.1), (k, sample.var(), var)
    stationary = 10.0 * (2 / 3 * 1.0 + 1 / 3 * 2.0)
    np.testing.assert_allclose(expected, stationary)  # the same on every path and period
    np.testing.assert_allclose(process.mean_at(4), stationary)
    assert within(demand.mean(), stationary, demand.std() / np.sqrt(paths))  # persistence: rough se


@pytest.mark.parametrize("shared", [True, False])
def test_shared_regime_moves_streams_together(shared: bool) -> None:
    regime = DemandRegime(transition=STICKY, mean=(1.0, 4.0), shared=shared)
    process = DemandProcess("poisson", mean=5.0, regime=regime)
    demand, _ = draw_demand([process, process], 3000, 10, np.random.default_rng(1))
    rho = np.corrcoef(demand[..., 0].ravel(), demand[..., 1].ravel())[0, 1]
    assert rho > 0.5 if shared else abs(rho) < 0.05, rho


def test_normal_regime_forecast_is_the_clipped_mean_averaged_over_states() -> None:
    regime = DemandRegime(transition=STICKY, mean=(1.0, 1.0), cv=(1.0, 4.0))
    process = DemandProcess("normal", mean=2.0, std=1.0, regime=regime)
    demand, expected = draw_demand([process], 40_000, 5, np.random.default_rng(2))
    assert expected[0, 0, 0] > 2.0  # clipping at 0 raises the mean, more so when volatile
    assert within(demand.mean(), expected[0, 0, 0], demand.std() / np.sqrt(demand.size / 5))


# -- supply ---------------------------------------------------------------------------------------


def test_supply_regime_delays_and_disrupts_by_state() -> None:
    regime = SupplyRegime(transition=STICKY, disruption=(0.0, 0.6), delay=(0, 3))
    lt = LeadTime("discrete", values=(1, 2), probabilities=(0.5, 0.5), regime=regime)
    assert lt.max_value == 5 and lt.expected == pytest.approx(1.5 + 3 / 3)
    paths, periods = 5000, 30
    lead, disrupted = draw_lead_times([lt, LeadTime("fixed", value=1)], paths, periods,
                                      np.random.default_rng(5))
    assert lead.max() <= lt.max_value and lead[..., 0].min() == 1
    assert np.all(lead[..., 1] == 1) and not disrupted[..., 1].any()
    assert within(lead[..., 0].mean(), lt.expected, lead.std() / np.sqrt(paths))
    assert within(disrupted[..., 0].mean(), regime.disrupted_fraction, 0.5 / np.sqrt(paths))
    # persistence: a disruption makes the next one likelier than the long-run share
    now, nxt = disrupted[:, :-1, 0].ravel(), disrupted[:, 1:, 0].ravel()
    assert nxt[now].mean() > regime.disrupted_fraction + 0.1
    # in the normal state (lead time 1 or 2) nothing is disrupted
    assert not disrupted[..., 0][lead[..., 0] <= 2].any()


def test_regime_disruptions_add_to_a_plain_disruption() -> None:
    regime = SupplyRegime(transition=((1.0,),), disruption=(0.2,))
    lt = LeadTime.from_dict({"kind": "fixed", "value": 2, "regime": regime.to_dict(),
                             "disruption": {"probability": 0.1, "duration": 1}}, "a")
    _, disrupted = draw_lead_times([lt], 20_000, 4, np.random.default_rng(0))
    assert within(disrupted.mean(), 1 - 0.9 * 0.8, 0.5 / np.sqrt(disrupted.size))


# -- the built-in ---------------------------------------------------------------------------------


def test_regime_disruption_paths_hide_the_regimes() -> None:
    spec = builtin.get("regime-disruption")
    paths = SamplePaths.draw(spec, 64, periods=100, seed=0)
    np.testing.assert_allclose(paths.expected_demand, 10.0 * (1 + 0.25 * 0.04 / 0.14))
    supply = paths.lead_time[..., 0]
    assert set(np.unique(supply)) == {2, 5}  # normal and troubled
    assert not paths.disrupted[..., 0][supply == 2].any() and paths.disrupted[..., 0].any()
    assert (paths.lead_time[..., 1:] == 1).all() and not paths.disrupted[..., 1:].any()


# -- validation and round trips -------------------------------------------------------------------

W = "demands[0].process"
BAD = [
    ({"transition": [[0.5, 0.4], [0.1, 0.9]], "mean": [1, 1]}, "regime.transition[0]"),
    ({"transition": [[0.5, 0.5], [0.1]], "mean": [1, 1]}, "regime.transition[1]"),
    ({"transition": [[0.5, 0.5], [0.1, -0.1, 1.0]], "mean": [1, 1]}, "regime.transition[1][1]"),
    ({"transition": [[1, 0], [0, 1]], "mean": [1, 1]}, "regime.transition"),
    ({"transition": "abc", "mean": [1]}, "regime.transition"),
    ({"transition": [], "mean": []}, "regime.transition"),
    ({"transition": [[0.5, 0.5], [0.1, 0.9]], "mean": [1]}, "regime.mean"),
    ({"transition": [[0.5, 0.5], [0.1, 0.9]], "mean": [1, -1]}, "regime.mean[1]"),
    ({"transition": [[0.5, 0.5], [0.1, 0.9]], "mean": [1, 1], "cv": [1, 0]}, "regime.cv[1]"),
    ({"transition": [[0.5, 0.5], [0.1, 0.9]], "mean": [1, 1], "shared": 1}, "regime.shared"),
    ({"transition": [[0.5, 0.5], [0.1, 0.9]]}, "regime.mean"),
    ({"transition": [[1.0]], "mean": [1], "colour": 2}, "regime.colour"),
]


@pytest.mark.parametrize(("regime", "field"), BAD)
def test_bad_demand_regime_names_the_field(regime: dict, field: str) -> None:
    with pytest.raises(SpecError) as err:
        DemandProcess.from_dict({"kind": "normal", "mean": 5, "std": 1, "regime": regime}, W)
    assert err.value.field == f"{W}.{field}"


def test_poisson_regime_cannot_scale_variability() -> None:
    with pytest.raises(SpecError) as err:
        DemandProcess.from_dict({"kind": "poisson", "mean": 5, "regime": {
            "transition": [[0.5, 0.5], [0.1, 0.9]], "mean": [1, 2], "cv": [1, 2]}}, W)
    assert err.value.field == f"{W}.regime.cv"
    DemandProcess.from_dict({"kind": "poisson", "mean": 5, "regime": {  # cv 1 is fine
        "transition": [[0.5, 0.5], [0.1, 0.9]], "mean": [1, 2], "cv": [1, 1]}}, W)


BAD_SUPPLY = [
    ({"transition": [[1.0]], "disruption": [1.5]}, "regime.disruption[0]"),
    ({"transition": [[1.0]], "disruption": [0.1, 0.2]}, "regime.disruption"),
    ({"transition": [[1.0]], "disruption": [0.1], "delay": [1.5]}, "regime.delay[0]"),
    ({"transition": [[1.0]], "disruption": [0.1], "delay": [-1]}, "regime.delay[0]"),
    ({"transition": [[0.2, 0.9], [0.5, 0.5]], "disruption": [0, 0]}, "regime.transition[0]"),
    ({"disruption": [0.1]}, "regime.transition"),
]


@pytest.mark.parametrize(("regime", "field"), BAD_SUPPLY)
def test_bad_supply_regime_names_the_field(regime: dict, field: str) -> None:
    where = "arcs[0].lead_time"
    with pytest.raises(SpecError) as err:
        LeadTime.from_dict({"kind": "fixed", "value": 2, "regime": regime}, where)
    assert err.value.field == f"{where}.{field}"


def test_a_bad_regime_in_a_scenario_file_names_the_whole_path() -> None:
    data = builtin.get("regime-disruption").to_dict()
    data["arcs"][0]["lead_time"]["regime"]["transition"][1] = [0.5, 0.6]
    with pytest.raises(SpecError) as err:
        Spec.from_dict(data)
    assert err.value.field == "arcs[0].lead_time.regime.transition[1]"


@pytest.mark.parametrize("spec", [
    DemandProcess("negative-binomial", mean=4.0, std=3.0,
                  regime=DemandRegime(transition=THREE, mean=(1, 0.5, 2), cv=(1, 2, 0.5), shared=True)),
    DemandProcess("poisson", mean=4.0, regime=DemandRegime(transition=STICKY, mean=(1, 3))),
    LeadTime("fixed", value=2, regime=SupplyRegime(transition=STICKY, disruption=(0, 0.5), delay=(0, 3))),
    LeadTime("poisson", value=1, mean=1.0, maximum=4, regime=SupplyRegime(transition=STICKY,
                                                                          disruption=(0.1, 0.2))),
], ids=lambda spec: type(spec).__name__)
def test_regimes_round_trip_as_plain_lists(spec: DemandProcess | LeadTime) -> None:
    data = spec.to_dict()
    assert type(spec).from_dict(data, "x") == spec
    transition = data["regime"]["transition"]
    assert isinstance(transition, list) and all(isinstance(row, list) for row in transition)


def test_chain_can_start_from_a_given_law() -> None:
    state = draw_chain(STICKY, 6000, 3, np.random.default_rng(0), initial=np.array([0.0, 1.0]))
    assert np.all(state[:, 0] == 1)
    per_path = np.tile([[1.0, 0.0]], (6000, 1))
    per_path[::2] = [0.0, 1.0]
    state = draw_chain(STICKY, 6000, 3, np.random.default_rng(0), initial=per_path)
    assert np.all(state[::2, 0] == 1) and np.all(state[1::2, 0] == 0)
    moved = state[1::2, 1].mean()  # from state 0, to state 1 with chance 0.1
    assert within(moved, 0.1, np.sqrt(0.09 / 3000))
    for bad in (np.array([0.5, 0.4]), np.array([1.0, 0.0, 0.0]), np.array([1.5, -0.5])):
        with pytest.raises(SpecError, match="^initial: "):
            draw_chain(STICKY, 10, 3, np.random.default_rng(0), initial=bad)
