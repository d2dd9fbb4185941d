"""Demand and lead-time processes: moments against theory, validation, round trips."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from scenarios.errors import SpecError
from scenarios.processes import (
    DemandProcess,
    Disruption,
    Goodwill,
    LeadTime,
    Promotion,
    Seasonality,
    draw_demand,
    draw_lead_times,
)
from scenarios.processes.demand import _poisson_quantile

PATHS = 20_000
Z = 5.0  # tolerance in standard errors

HISTORY = (0.0, 3.0, 4.0, 4.0, 7.0, 12.0)
STATIONARY = {
    "poisson": (DemandProcess("poisson", mean=6.0), 6.0, 6.0),
    "negative-binomial": (DemandProcess("negative-binomial", mean=6.0, std=4.0), 6.0, 16.0),
    "normal": (DemandProcess("normal", mean=50.0, std=8.0), 50.0, 64.0),
    "empirical": (DemandProcess("empirical", history=HISTORY), np.mean(HISTORY), np.var(HISTORY)),
}


def assert_mean_near(samples: np.ndarray, target: np.ndarray, axis: int = 0) -> None:
    """Sample means along ``axis`` within Z standard errors of ``target``."""
    n = samples.shape[axis]
    se = samples.std(axis=axis, ddof=1) / np.sqrt(n)
    err = np.abs(samples.mean(axis=axis) - target)
    assert np.all(err <= Z * np.maximum(se, 1e-12)), (samples.mean(axis=axis), target, se)


def assert_variance_near(samples: np.ndarray, target: float) -> None:
    """Sample variance within Z standard errors, se = sqrt((m4 - s2**2) / n)."""
    centred = samples - samples.mean()
    s2 = np.mean(centred**2)
    se = np.sqrt((np.mean(centred**4) - s2**2) / samples.size)
    assert abs(s2 - target) <= Z * se, (s2, target, se)


# -- demand moments -------------------------------------------------------------------------------


@pytest.mark.parametrize("correlation", [0.0, 0.5], ids=["direct", "copula"])
@pytest.mark.parametrize("kind", list(STATIONARY))
def test_stationary_mean_and_variance(kind: str, correlation: float) -> None:
    process, mean, variance = STATIONARY[kind]
    other = DemandProcess("poisson", mean=3.0)
    demand, expected = draw_demand([process, other], PATHS, 2, np.random.default_rng(1),
                                   correlation=correlation)
    assert demand.shape == expected.shape == (PATHS, 2, 2)
    assert demand.dtype == np.float64 and np.all(demand >= 0)
    assert np.allclose(expected[:, :, 0], mean)
    assert_mean_near(demand[:, 0, 0], mean)
    assert_variance_near(demand[:, 0, 0], variance)
    if process.integer:
        assert np.array_equal(demand, np.round(demand))


@pytest.mark.parametrize("kind", list(STATIONARY))
def test_trend_and_seasonality_follow_mean_at(kind: str) -> None:
    base = STATIONARY[kind][0]
    season = Seasonality(amplitude=0.5, period=4, phase=0.5)
    process = DemandProcess.from_dict({**base.to_dict(), "trend": 0.1,
                                       "seasonality": season.__dict__}, "d")
    periods = 8
    demand, expected = draw_demand([process], PATHS, periods, np.random.default_rng(2))
    mean_at = process.mean_at(periods)
    t = np.arange(periods)
    factor = (1 + 0.1 * t) * (1 + 0.5 * np.sin(2 * np.pi * (t + 0.5) / 4))
    assert np.allclose(process.factor(periods), factor)
    assert np.allclose(expected[0, :, 0], mean_at)
    assert_mean_near(demand[:, :, 0], mean_at)
    if process.integer:
        assert np.array_equal(demand, np.round(demand))


def test_negative_trend_clips_level_at_zero() -> None:
    process = DemandProcess("poisson", mean=5.0, trend=-0.5)
    assert np.allclose(process.factor(4), [1.0, 0.5, 0.0, 0.0])
    demand, _ = draw_demand([process], 100, 4, np.random.default_rng(0))
    assert np.all(demand[:, 2:] == 0)


def test_normal_mean_at_accounts_for_clipping_at_zero() -> None:
    process = DemandProcess("normal", mean=0.0, std=2.0)
    assert process.mean_at(1)[0] == pytest.approx(2.0 * stats.norm.pdf(0.0))
    demand, expected = draw_demand([process], PATHS, 3, np.random.default_rng(3))
    assert demand.min() == 0.0
    assert_mean_near(demand.reshape(-1, 1), expected[0, 0, 0])


def test_level_and_cv_multipliers() -> None:
    level = np.where(np.arange(PATHS) % 2 == 0, 0.5, 2.0)
    cv = np.where(np.arange(PATHS) % 2 == 0, 2.0, 1.0)
    processes = [DemandProcess("normal", mean=40.0, std=4.0),
                 DemandProcess("negative-binomial", mean=6.0, std=4.0),
                 DemandProcess("poisson", mean=6.0)]
    demand, expected = draw_demand(processes, PATHS, 1, np.random.default_rng(4),
                                   level=level, cv=cv)
    low, high = demand[::2, 0], demand[1::2, 0]
    assert np.allclose(expected[::2, 0], [20.0, 3.0, 3.0])
    assert np.allclose(expected[1::2, 0], [80.0, 12.0, 12.0])
    assert_mean_near(low, expected[0, 0])
    assert_mean_near(high, expected[1, 0])
    assert_variance_near(low[:, 0], (4.0 * 0.5 * 2.0) ** 2)  # std scales with mean and cv
    assert_variance_near(high[:, 0], (4.0 * 2.0) ** 2)
    n = 6.0**2 / (16.0 - 6.0)  # NB keeps n fixed; cv scales the mixing CV: n -> n / cv**2
    assert_variance_near(low[:, 1], 3.0 + 3.0**2 * 4.0 / n)
    assert_variance_near(high[:, 1], 12.0 + 12.0**2 / n)
    assert_variance_near(low[:, 2], 3.0)


def test_empirical_integer_history_stays_integer_under_scaling() -> None:
    process = DemandProcess("empirical", history=(1, 2, 5), trend=0.13)
    assert process.integer
    assert not DemandProcess("empirical", history=(1.5, 2.0)).integer
    demand, _ = draw_demand([process], PATHS, 5, np.random.default_rng(5))
    assert np.array_equal(demand, np.round(demand))
    assert_mean_near(demand[:, :, 0], process.mean_at(5))


def test_promotion_raises_mean_by_expected_lift() -> None:
    promotion = Promotion(probability=0.2, lift=1.5, duration=3)
    process = DemandProcess("poisson", mean=10.0, promotion=promotion)
    lift = 1 + 0.5 * (1 - 0.8**3)
    assert promotion.expected_multiplier == pytest.approx(lift)
    assert np.allclose(process.mean_at(6), 10.0 * lift)
    demand, expected = draw_demand([process], PATHS, 6, np.random.default_rng(6))
    assert np.allclose(expected[0, :, 0], 10.0 * lift)
    assert_mean_near(demand[:, :, 0], process.mean_at(6))
    assert demand.mean() > 10.0 + 10 * Z * np.sqrt(10.0 / demand.size)


def test_promotion_lasts_its_duration() -> None:
    # With certain starts, lift 2 and a huge mean, every period is promoted; with a
    # single possible start window, promoted periods come in runs of `duration`.
    always = DemandProcess("normal", mean=100.0, std=0.0,
                           promotion=Promotion(probability=1.0, lift=2.0, duration=4))
    demand, _ = draw_demand([always], 10, 6, np.random.default_rng(7))
    assert np.all(demand == 200.0)
    rare = DemandProcess("normal", mean=1.0, std=0.0,
                         promotion=Promotion(probability=0.01, lift=2.0, duration=3))
    demand, _ = draw_demand([rare], 2000, 40, np.random.default_rng(8))
    promoted = demand[:, :, 0] == 2.0
    assert promoted.any()
    starts = promoted[:, 1:] & ~promoted[:, :-1]
    ends = ~promoted[:, 1:] & promoted[:, :-1]
    # every interior run is at least `duration` long (overlaps merge runs)
    for path, t in zip(*np.nonzero(starts), strict=True):
        if t + 4 < 40:
            assert promoted[path, t + 1:t + 4].all()
    assert ends.sum() > 0


# -- correlation ----------------------------------------------------------------------------------


def copula_poisson_correlation(mean: float, rho: float) -> float:
    """Pearson correlation of two Poisson(mean) joined by a Gaussian copula (Hoeffding)."""
    k = np.arange(int(mean + 12 * np.sqrt(mean)) + 1)
    a = special.ndtri(np.clip(stats.poisson.cdf(k, mean), 0, 1 - 1e-16))
    grid = np.stack([np.repeat(a, a.size), np.tile(a, a.size)], axis=1)
    joint = stats.multivariate_normal(cov=[[1, rho], [rho, 1]]).cdf(grid)
    return float(np.sum(joint - special.ndtr(grid[:, 0]) * special.ndtr(grid[:, 1])) / mean)


@pytest.mark.parametrize("rho", [0.0, 0.8])
def test_correlated_poisson_streams(rho: float) -> None:
    processes = [DemandProcess("poisson", mean=10.0)] * 2
    demand, _ = draw_demand(processes, PATHS, 2, np.random.default_rng(9), correlation=rho)
    sample = np.corrcoef(demand[:, 1, 0], demand[:, 1, 1])[0, 1]
    target = copula_poisson_correlation(10.0, rho)
    assert abs(sample - target) <= Z * (1 - target**2) / np.sqrt(PATHS)
    if rho:
        assert sample > 0.5
    independent = np.corrcoef(demand[:, 0, 0], demand[:, 1, 0])[0, 1]  # across periods
    assert abs(independent) <= Z / np.sqrt(PATHS)


def test_fast_poisson_quantile_matches_scipy() -> None:
    rng = np.random.default_rng(16)
    u = np.concatenate([rng.random(4000), [1e-300, 1e-12, 0.5, 1 - 1e-12, 1 - 2**-53]])
    for mean in (0.0, 0.02, 0.7, 9.0, 400.0, 1e5):
        lam = mean * rng.uniform(0.5, 1.5, u.size)
        k = _poisson_quantile(u.reshape(-1, 5), lam.reshape(-1, 5))
        assert k.shape == (u.size // 5, 5)
        k, inner = k.ravel(), u <= 1 - 1e-12  # in the extreme tail the cdf rounds to 1
        assert np.all(np.isfinite(k)) and np.all(k >= 0)
        k, u_, lam = k[inner], u[inner], lam[inner]
        # the smallest k with F(k) >= u, as scipy's numerical inversion gives it
        assert np.all(special.pdtr(k, lam) >= u_)
        assert np.all((k == 0) | (special.pdtr(k - 1, lam) < u_))
        assert np.array_equal(k, stats.poisson.ppf(u_, lam))


def test_correlation_matrix_singular_but_psd_is_accepted() -> None:
    corr = np.ones((2, 2))
    processes = [DemandProcess("normal", mean=10.0, std=1.0)] * 2
    demand, _ = draw_demand(processes, 200, 3, np.random.default_rng(10), correlation=corr)
    assert np.allclose(demand[:, :, 0], demand[:, :, 1])


@pytest.mark.parametrize("corr", [
    np.array([[1.0, 0.9, 0.9], [0.9, 1.0, -0.9], [0.9, -0.9, 1.0]]),  # not PSD
    np.array([[1.0, 0.5, 0.0], [0.4, 1.0, 0.0], [0.0, 0.0, 1.0]]),  # not symmetric
    np.diag([1.0, 2.0, 1.0]),  # not a unit diagonal
    np.eye(2),  # wrong shape
    1.0,  # scalar out of [0, 1)
    -0.1,
])
def test_bad_correlation_raises(corr: float | np.ndarray) -> None:
    processes = [DemandProcess("poisson", mean=1.0)] * 3
    with pytest.raises(SpecError) as err:
        draw_demand(processes, 10, 2, np.random.default_rng(0), correlation=corr)
    assert err.value.field == "correlation"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"level": np.ones(3)}, "level"), ({"level": -np.ones(10)}, "level"),
    ({"cv": np.zeros(10)}, "cv"), ({"paths": 0}, "paths"), ({"periods": 2.0}, "periods"),
])
def test_bad_draw_arguments_raise(kwargs: dict, field: str) -> None:
    args = {"paths": 10, "periods": 2, **kwargs}
    with pytest.raises(SpecError) as err:
        draw_demand([DemandProcess("poisson", mean=1.0)], rng=np.random.default_rng(0), **args)
    assert err.value.field == field


# -- lead times -----------------------------------------------------------------------------------


def test_fixed_lead_time_is_exact_and_ignores_scale() -> None:
    lead, disrupted = draw_lead_times([LeadTime.from_dict(3, "a")], 50, 7,
                                      np.random.default_rng(0), scale=np.full(50, 2.0))
    assert lead.dtype == np.int64 and lead.shape == (50, 7, 1)
    assert np.all(lead == 3) and not disrupted.any()
    assert LeadTime("fixed", value=3).expected == 3.0 == LeadTime("fixed", value=3).max_value


def test_discrete_frequencies() -> None:
    lt = LeadTime("discrete", values=(1, 2, 5), probabilities=(0.2, 0.5, 0.3))
    lead, _ = draw_lead_times([lt], PATHS, 3, np.random.default_rng(11))
    n = lead.size
    for value, p in zip(lt.values, lt.probabilities, strict=True):
        assert abs(np.mean(lead == value) - p) <= Z * np.sqrt(p * (1 - p) / n)
    assert set(np.unique(lead)) == {1, 2, 5}
    assert lt.expected == pytest.approx(0.2 + 1.0 + 1.5) and lt.max_value == 5


def test_poisson_shifted_mean_and_cap() -> None:
    wide = LeadTime("poisson", value=2, mean=1.5, maximum=30)
    capped = LeadTime("poisson", value=2, mean=1.5, maximum=3)
    assert wide.expected == pytest.approx(3.5)
    assert capped.expected == pytest.approx(2 + 1 - stats.poisson.pmf(0, 1.5))
    lead, _ = draw_lead_times([wide, capped], PATHS, 2, np.random.default_rng(12))
    assert lead[:, :, 0].min() == 2 and lead[:, :, 1].max() == 3
    for a, lt in enumerate([wide, capped]):
        assert_mean_near(lead[:, :, a].ravel().astype(float), lt.expected)


def test_heavy_tailed_never_exceeds_maximum_and_matches_expected() -> None:
    lt = LeadTime("heavy-tailed", value=1, shape=1.5, scale=2.0, maximum=12)
    # brute force: P(extra = k) = P(k <= 2 Y < k + 1) for Y ~ Lomax(1.5), the cap taking the rest
    k = np.arange(11)
    pmf = stats.lomax.cdf((k + 1) / 2.0, 1.5) - stats.lomax.cdf(k / 2.0, 1.5)
    brute = 1 + np.dot(k, pmf) + 11 * stats.lomax.sf(11 / 2.0, 1.5)
    assert lt.expected == pytest.approx(brute)
    lead, _ = draw_lead_times([lt], PATHS, 3, np.random.default_rng(13))
    assert lead.min() >= 1 and lead.max() == 12
    assert_mean_near(lead.ravel().astype(float), lt.expected)


def test_scale_stretches_the_extra_delay() -> None:
    lts = [LeadTime("poisson", value=1, mean=2.0, maximum=60),
           LeadTime("discrete", values=(2, 4, 8), probabilities=(0.5, 0.25, 0.25)),
           LeadTime("discrete", values=(2, 4), probabilities=(0.5, 0.5))]
    scale = np.where(np.arange(PATHS) < PATHS // 2, 0.75, 3.0)
    lead, _ = draw_lead_times(lts, PATHS, 2, np.random.default_rng(14), scale=scale)
    low, high = lead[: PATHS // 2].astype(float), lead[PATHS // 2:]
    assert_mean_near(low[:, :, 0].ravel(), 1 + 0.75 * 2.0)
    assert_mean_near(high[:, :, 0].ravel().astype(float), 1 + 3.0 * 2.0)
    # 2 + 0.75 * (0, 2, 6), stochastically rounded: mean 2 + 0.75 * 2
    assert set(np.unique(low[:, :, 1])) == {2, 3, 4, 6, 7}
    assert_mean_near(low[:, :, 1].ravel(), 2 + 0.75 * 2.0)
    assert set(np.unique(high[:, :, 2])) == {2, 4}  # 2 + 3 * 2 = 8 is capped at 4


@pytest.mark.parametrize(("p", "d"), [(0.1, 3), (0.3, 1), (0.05, 6), (1.0, 2), (0.0, 4)])
def test_disruption_fraction_is_stationary(p: float, d: int) -> None:
    disruption = Disruption(probability=p, duration=d)
    lts = [LeadTime("fixed", value=1), LeadTime("fixed", value=1, disruption=disruption)]
    paths, periods = 8000, 30
    _, disrupted = draw_lead_times(lts, paths, periods, np.random.default_rng(15))
    assert not disrupted[:, :, 0].any()
    pi = p * d / (1 - p + p * d)
    assert disruption.stationary_fraction == pytest.approx(pi)
    se = np.sqrt(pi * (1 - pi) / paths)
    for t in (0, periods // 2, periods - 1):  # the same share in every period
        assert abs(disrupted[:, t, 1].mean() - pi) <= Z * se + 1e-12
    # every disruption run that starts and ends inside the horizon lasts a multiple of d
    flags = np.pad(disrupted[:, :, 1], ((0, 0), (1, 1)))
    edges = np.diff(flags.astype(np.int8), axis=1)
    starts, ends = np.nonzero(edges == 1), np.nonzero(edges == -1)
    lengths = ends[1] - starts[1]
    inner = (starts[1] > 0) & (ends[1] < periods)
    assert np.all(lengths[inner] % d == 0)


# -- determinism ----------------------------------------------------------------------------------


def _draw_everything(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    processes = [
        DemandProcess("poisson", mean=4.0, promotion=Promotion(0.1, 1.4, 2)),
        DemandProcess("negative-binomial", mean=4.0, std=3.0, trend=0.01),
        DemandProcess("normal", mean=20.0, std=5.0, seasonality=Seasonality(0.3, 7)),
        DemandProcess("empirical", history=(1, 2, 6), trend=0.05),
    ]
    lts = [LeadTime("discrete", values=(1, 3), probabilities=(0.5, 0.5)),
           LeadTime("heavy-tailed", shape=2.0, scale=1.0, maximum=9,
                    disruption=Disruption(0.1, 2))]
    out = []
    for correlation in (0.0, 0.4):
        out += draw_demand(processes, 64, 10, rng, correlation=correlation,
                           level=np.linspace(0.5, 1.5, 64), cv=np.linspace(0.8, 1.2, 64))
    out += draw_lead_times(lts, 64, 10, rng, scale=np.linspace(0.5, 2.0, 64))
    return out


def test_same_seed_same_numbers_different_seed_different() -> None:
    first, again, other = _draw_everything(0), _draw_everything(0), _draw_everything(1)
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a, b)
    random = [0, 2, 4, 5]  # demand (direct), demand (copula), lead time, disrupted
    assert all(not np.array_equal(first[i], other[i]) for i in random)


# -- validation -----------------------------------------------------------------------------------

W = "demands[2].process"
BAD_DEMAND = [
    ({"kind": "poisson", "mean": -1}, "mean"),
    ({"kind": "poisson", "mean": "5"}, "mean"),
    ({"kind": "poisson", "mean": float("nan")}, "mean"),
    ({"kind": "poisson", "mean": True}, "mean"),
    ({"kind": "normal", "mean": 5}, "std"),
    ({"kind": "normal", "mean": 5, "std": -1}, "std"),
    ({"kind": "negative-binomial", "mean": 5}, "std"),
    ({"kind": "negative-binomial", "mean": 4, "std": 2}, "std"),
    ({"kind": "negative-binomial", "mean": 0, "std": 1}, "mean"),
    ({"kind": "poisson", "mean": 1, "std": 1}, "std"),
    ({"kind": "poisson", "mean": 1, "history": [1]}, "history"),
    ({"kind": "empirical"}, "history"),
    ({"kind": "empirical", "history": []}, "history"),
    ({"kind": "empirical", "history": [1, -1]}, "history[1]"),
    ({"kind": "empirical", "history": "123"}, "history"),
    ({"kind": "empirical", "history": [1, 2], "mean": 1.5}, "mean"),
    ({"kind": "poisson", "colour": 1}, "colour"),
    ({"mean": 1}, "kind"),
    ({"kind": "gamma"}, "kind"),
    ({"kind": "poisson", "trend": float("inf")}, "trend"),
    ({"kind": "poisson", "seasonality": 3}, "seasonality"),
    ({"kind": "poisson", "seasonality": {"amplitude": 1, "period": 12}}, "seasonality.amplitude"),
    ({"kind": "poisson", "seasonality": {"amplitude": -0.1, "period": 12}},
     "seasonality.amplitude"),
    ({"kind": "poisson", "seasonality": {"amplitude": 0.1, "period": 1}}, "seasonality.period"),
    ({"kind": "poisson", "seasonality": {"amplitude": 0.1, "period": 2.5}}, "seasonality.period"),
    ({"kind": "poisson", "seasonality": {"amplitude": 0.1}}, "seasonality.period"),
    ({"kind": "poisson", "seasonality": {"amplitude": 0.1, "period": 4, "x": 1}},
     "seasonality.x"),
    ({"kind": "poisson", "promotion": {"probability": 1.5, "lift": 2}}, "promotion.probability"),
    ({"kind": "poisson", "promotion": {"probability": 0.5, "lift": 0.9}}, "promotion.lift"),
    ({"kind": "poisson", "promotion": {"probability": 0.5, "lift": 2, "duration": 0}},
     "promotion.duration"),
    ({"kind": "poisson", "goodwill": {"sensitivity": -1, "recovery": 0.5}}, "goodwill.sensitivity"),
    ({"kind": "poisson", "goodwill": {"sensitivity": 1, "recovery": 1.5}}, "goodwill.recovery"),
    ({"kind": "poisson", "goodwill": {"sensitivity": 1, "recovery": 0.5, "floor": 2}},
     "goodwill.floor"),
]
BAD_LEAD_TIME = [
    (-1, "value"),
    (2.5, ""),
    ({"kind": "fixed", "value": -1}, "value"),
    ({"kind": "fixed", "value": 1.5}, "value"),
    ({"kind": "fixed", "value": 1, "mean": 2}, "mean"),
    ({"kind": "discrete", "values": [1, 2], "probabilities": [0.5, 0.4]}, "probabilities"),
    ({"kind": "discrete", "values": [1, 2], "probabilities": [1.0]}, "probabilities"),
    ({"kind": "discrete", "values": [1, 2], "probabilities": [1.5, -0.5]}, "probabilities[1]"),
    ({"kind": "discrete", "values": [-1, 2], "probabilities": [0.5, 0.5]}, "values[0]"),
    ({"kind": "discrete", "values": [2, 2], "probabilities": [0.5, 0.5]}, "values"),
    ({"kind": "discrete"}, "values"),
    ({"kind": "poisson", "value": 1, "mean": 2}, "maximum"),
    ({"kind": "poisson", "value": 3, "mean": 2, "maximum": 2}, "maximum"),
    ({"kind": "poisson", "mean": -2, "maximum": 9}, "mean"),
    ({"kind": "heavy-tailed", "shape": 1, "scale": 1, "maximum": 9}, "shape"),
    ({"kind": "heavy-tailed", "shape": 2, "scale": 0, "maximum": 9}, "scale"),
    ({"kind": "heavy-tailed", "shape": 2, "scale": 1}, "maximum"),
    ({"kind": "fixed", "disruption": {"probability": 2, "duration": 1}}, "disruption.probability"),
    ({"kind": "fixed", "disruption": {"probability": 0.1, "duration": 0}}, "disruption.duration"),
    ({"kind": "fixed", "disruption": {"probability": 0.1}}, "disruption.duration"),
    ({"kind": "fixed", "speed": 1}, "speed"),
    ({"value": 1}, "kind"),
    ({"kind": "uniform"}, "kind"),
]


@pytest.mark.parametrize(("data", "field"), BAD_DEMAND)
def test_bad_demand_raises_naming_the_field(data: dict, field: str) -> None:
    with pytest.raises(SpecError) as err:
        DemandProcess.from_dict(data, W)
    assert err.value.field == f"{W}.{field}"
    assert str(err.value).startswith(f"{W}.{field}: ")


@pytest.mark.parametrize(("data", "field"), BAD_LEAD_TIME)
def test_bad_lead_time_raises_naming_the_field(data: dict | int, field: str) -> None:
    where = "arcs[0].lead_time"
    with pytest.raises(SpecError) as err:
        LeadTime.from_dict(data, where)
    assert err.value.field == (f"{where}.{field}" if field else where)


def test_reasons_show_the_value_seen() -> None:
    with pytest.raises(SpecError, match=r"^d\.mean: must be >= 0, got -1$"):
        DemandProcess.from_dict({"kind": "poisson", "mean": -1}, "d")
    with pytest.raises(SpecError, match=r"^shape: must be > 1, got 0\.5$"):
        LeadTime("heavy-tailed", shape=0.5, scale=1.0, maximum=3)


EDGE_VALID = [
    lambda: DemandProcess("poisson"),
    lambda: DemandProcess("normal", mean=0.0, std=0.0),
    lambda: DemandProcess("negative-binomial", mean=4.0, std=2.0 + 1e-9),
    lambda: DemandProcess("empirical", history=(0,)),
    lambda: DemandProcess("poisson", mean=1.0, trend=-1.0),
    lambda: Seasonality(amplitude=0.0, period=2),
    lambda: Seasonality(amplitude=0.999, period=2, phase=-3.5),
    lambda: Promotion(probability=0.0, lift=1.0),
    lambda: Promotion(probability=1.0, lift=1.0, duration=1),
    lambda: Goodwill(sensitivity=0.0, recovery=0.0, floor=1.0),
    lambda: Goodwill(sensitivity=5.0, recovery=1.0),
    lambda: LeadTime("fixed"),
    lambda: LeadTime.from_dict(0, "a"),
    lambda: LeadTime("discrete", values=[0], probabilities=[1 - 1e-10]),
    lambda: LeadTime("poisson", value=2, mean=0.0, maximum=2),
    lambda: LeadTime("heavy-tailed", shape=1.0001, scale=1e-6, maximum=0),
    lambda: Disruption(probability=0.0, duration=1),
    lambda: Disruption(probability=1.0, duration=1),
]


@pytest.mark.parametrize("build", EDGE_VALID)
def test_valid_edge_values_do_not_raise(build) -> None:
    build()


# -- round trip -----------------------------------------------------------------------------------

ROUND_TRIP = [
    DemandProcess("poisson", mean=3),
    DemandProcess("negative-binomial", mean=4.0, std=3.0, trend=-0.01),
    DemandProcess("normal", mean=12.5, std=2.0, seasonality=Seasonality(0.4, 52, 13.0),
                  promotion=Promotion(0.05, 1.8, 2), goodwill=Goodwill(0.3, 0.2, 0.5)),
    DemandProcess("empirical", history=[3, 0, 7.5], goodwill=Goodwill(1.0, 0.0)),
    LeadTime("fixed", value=2),
    LeadTime("fixed"),
    LeadTime("discrete", values=(1, 2, 4), probabilities=(0.25, 0.5, 0.25),
             disruption=Disruption(0.02, 5)),
    LeadTime("poisson", value=1, mean=2.5, maximum=10),
    LeadTime("heavy-tailed", value=2, shape=2.5, scale=1.5, maximum=40),
]


@pytest.mark.parametrize("spec", ROUND_TRIP, ids=lambda spec: f"{type(spec).__name__}")
def test_round_trip(spec: DemandProcess | LeadTime) -> None:
    data = spec.to_dict()
    assert type(spec).from_dict(data, "x") == spec
    pending = [data]
    while pending:  # plain TOML-ready values only, defaults left out
        for value in pending.pop().values():
            assert value is not None and value != ()
            if isinstance(value, dict):
                pending.append(value)
            else:
                assert isinstance(value, str | int | float | list)


def test_to_dict_leaves_out_defaults() -> None:
    assert DemandProcess("poisson", mean=3).to_dict() == {"kind": "poisson", "mean": 3.0}
    assert LeadTime("fixed").to_dict() == {"kind": "fixed"}
    spec = DemandProcess("normal", mean=1.0, std=0.5, seasonality=Seasonality(0.2, 4))
    assert spec.to_dict()["seasonality"] == {"amplitude": 0.2, "period": 4}
    assert DemandProcess("empirical", history=(1, 2)).to_dict()["history"] == [1.0, 2.0]
