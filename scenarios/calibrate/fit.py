"""Fitting one stream's demand process, and one arc's lead time, from history.

The demand model is the spec's own (:class:`~scenarios.processes.DemandProcess`): a base
mean times a linear trend, a sine season and a promotion lift. It is fitted as a
generalised linear model with a log link, ``log m_t = b0 + b1 t + c sin(2 pi t / P) +
d cos(2 pi t / P) + g promoted_t``, by statsmodels (``GLM`` for Poisson and the normal,
``NegativeBinomial`` (NB2, its dispersion estimated) for the negative binomial), then
projected on the spec's form (:func:`to_process`). Every combination of family (Poisson,
negative binomial, normal with a constant CV), trend (with or without) and season (none
or one of the candidate periods with at least two full cycles in the stream) is fitted.
Per family, the structure (trend, season) with the smallest BIC (Schwarz 1978) is kept:
BIC's penalty grows with the history, so a trend or a season is kept only when the data
show it (AIC keeps a spurious season in about one stream in six). Between the families,
which differ by at most one parameter, the smallest AIC (Akaike 1974) wins. Discrete families
need whole-number demand; intermittent streams
(Syntetos, Boylan & Croston 2005: mean interval between non-zero demands ``ADI >= 1.32``)
are not offered the normal.

statsmodels is imported inside the fitting functions: ``import scenarios`` stays light.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import special, stats

from scenarios.calibrate.history import Stream
from scenarios.processes import DemandProcess, LeadTime, Promotion, Seasonality

__all__ = ["StreamFit", "classify", "fit_lead_time", "fit_stream", "to_process"]

#: Syntetos-Boylan-Croston cut-offs: mean inter-demand interval and squared CV of the sizes.
ADI_CUTOFF, CV2_CUTOFF = 1.32, 0.49
FAMILIES = ("poisson", "negative-binomial", "normal")
#: Largest season amplitude written to a spec (the spec needs < 1 so demand stays positive).
MAX_AMPLITUDE = 0.95


@dataclass(frozen=True)
class StreamFit:
    """What calibration found for one node and SKU.

    :param node: node id.
    :param sku: SKU id.
    :param periods: periods of history fitted.
    :param category: ``smooth``, ``erratic``, ``intermittent`` or ``lumpy`` (Syntetos-Boylan).
    :param adi: mean interval between non-zero demands, in periods.
    :param cv2: squared coefficient of variation of the non-zero demands.
    :param process: the fitted process on the history's clock (period 0 is the first date).
    :param aic: AIC per family tried, at its best structure by BIC (lower is better).
    :param trend: whether the chosen model has a trend.
    :param season_period: the chosen model's season length in periods, or ``None``.
    :param notes: anything the fit had to adjust, in words.
    """

    node: str
    sku: str
    periods: int
    category: str
    adi: float
    cv2: float
    process: DemandProcess
    aic: dict[str, float]
    trend: bool
    season_period: int | None
    notes: tuple[str, ...] = field(default=())

    @property
    def kind(self) -> str:
        """The family chosen by AIC."""
        return self.process.kind


def classify(demand: np.ndarray) -> tuple[str, float, float]:
    """Return ``(category, ADI, CV^2)`` of a demand series (Syntetos, Boylan & Croston 2005).

    >>> classify(np.array([0, 0, 3, 0, 0, 3, 0, 0, 3.0]))
    ('intermittent', 3.0, 0.0)
    """
    sizes = demand[demand > 0]
    if sizes.size == 0:
        return "intermittent", math.inf, 0.0
    adi = demand.size / sizes.size
    cv2 = float(np.var(sizes) / np.mean(sizes) ** 2)
    sparse, erratic = adi >= ADI_CUTOFF, cv2 >= CV2_CUTOFF
    category = {(False, False): "smooth", (False, True): "erratic",
                (True, False): "intermittent", (True, True): "lumpy"}[(sparse, erratic)]
    return category, float(adi), cv2


def _design(t: np.ndarray, span: int, trend: bool, period: int | None,
            promoted: np.ndarray | None) -> np.ndarray:
    """Regressors ``(periods, k)``: constant, ``t / span``, sine and cosine, promotion flag."""
    columns = [np.ones_like(t)]
    if trend:
        columns.append(t / span)
    if period is not None:
        columns += [np.sin(2 * np.pi * t / period), np.cos(2 * np.pi * t / period)]
    if promoted is not None:
        columns.append(promoted.astype(float))
    return np.column_stack(columns)


@dataclass(frozen=True)
class _Fit:
    family: str
    coef: np.ndarray  # log-link coefficients, in _design's order
    dispersion: float  # NB alpha (variance m + alpha m**2) or the normal's CV; 0 for Poisson
    loglik: float
    k: int  # parameters estimated

    @property
    def aic(self) -> float:
        return 2 * self.k - 2 * self.loglik

    def bic(self, n: int) -> float:
        return self.k * math.log(n) - 2 * self.loglik


def _fit_family(family: str, y: np.ndarray, x: np.ndarray) -> _Fit | None:
    """Fit one family by maximum likelihood (statsmodels); ``None`` if it does not converge."""
    import statsmodels.api as sm

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        start = sm.GLM(y, x, family=sm.families.Poisson()).fit()
        if family == "poisson":
            return _Fit(family, start.params, 0.0, start.llf, x.shape[1])
        if family == "negative-binomial":
            mu = start.fittedvalues  # a moment estimate of alpha starts the search
            alpha0 = max(float(np.mean((y - mu) ** 2 - mu) / np.mean(mu**2)), 1e-3)
            nb = sm.NegativeBinomial(y, x, loglike_method="nb2").fit(
                start_params=np.append(start.params, alpha0), disp=0, maxiter=500)
            alpha = float(nb.params[-1])
            if not (np.all(np.isfinite(nb.params)) and 0 < alpha < 1e6):  # alpha -> 0: Poisson
                return None
            return _Fit(family, nb.params[:-1], alpha, nb.llf, x.shape[1] + 1)
        gaussian = sm.GLM(y, x, family=sm.families.Gaussian(sm.families.links.Log())).fit(
            start_params=start.params)
        mu = gaussian.fittedvalues
        if not np.all(np.isfinite(mu)) or np.any(mu <= 0):
            return None
        cv = float(np.sqrt(np.mean(((y - mu) / mu) ** 2)))
        llf = stats.norm.logpdf(y, mu, cv * mu).sum() if cv > 0 else -math.inf
        return _Fit(family, gaussian.params, cv, float(llf), x.shape[1] + 1)


def to_process(fit: _Fit, trend: bool, period: int | None, promoted: np.ndarray | None,
               span: int) -> tuple[DemandProcess, list[str]]:
    """Project a log-link fit on the spec's form ``mean (1 + trend t)(1 + A sin(2 pi (t + phase)/P))``.

    The trend ``exp(b1 t)`` is replaced by its least-squares line over the ``span`` periods
    fitted; the season ``exp(R sin x)`` by its first Fourier term, ``I0(R) (1 + A sin x)``
    with ``A = 2 I1(R) / I0(R)`` (Bessel functions); the promotion lift is ``exp(g)``, its
    duration the mean length of a promoted run and its probability runs per period.
    """
    coef, notes = list(fit.coef), []
    base = math.exp(coef.pop(0))
    growth = 0.0
    if trend:
        slope = coef.pop(0) / span
        t = np.arange(span, dtype=float)
        line_slope, intercept = np.polyfit(t, np.exp(slope * t), 1)
        base, growth = base * intercept, line_slope / intercept
    season = None
    if period is not None:
        c, d = coef.pop(0), coef.pop(0)
        r = math.hypot(c, d)
        amplitude = 2 * special.ive(1, r) / special.ive(0, r)
        if amplitude > MAX_AMPLITUDE:
            notes.append(f"season amplitude {amplitude:.2f} capped at {MAX_AMPLITUDE}")
            amplitude = MAX_AMPLITUDE
        base *= special.i0(r)
        season = Seasonality(amplitude=float(amplitude), period=period,
                             phase=float(math.atan2(d, c) * period / (2 * np.pi) % period))
    promotion = None
    if promoted is not None:
        lift = math.exp(coef.pop(0))
        runs = np.diff(np.concatenate([[0], promoted.astype(int), [0]]))
        starts, ends = np.flatnonzero(runs == 1), np.flatnonzero(runs == -1)
        if lift < 1:
            notes.append(f"promotions lowered demand (lift {lift:.2f}): left out")
        else:
            promotion = Promotion(probability=starts.size / promoted.size, lift=lift,
                                  duration=max(1, round(float(np.mean(ends - starts)))))
    std = None
    if fit.family == "negative-binomial":
        std = math.sqrt(base + fit.dispersion * base**2)
    elif fit.family == "normal":
        std = fit.dispersion * base
    return DemandProcess(kind=fit.family, mean=base, std=std, trend=growth, seasonality=season,
                         promotion=promotion), notes


def fit_stream(stream: Stream, season_periods: tuple[int, ...], span: int | None = None) -> StreamFit:
    """Fit every candidate model to one stream: structure by BIC per family, then family by AIC.

    :param stream: the stream's history.
    :param season_periods: candidate season lengths in periods (7 for days of the week...);
        one is tried only when the stream holds two full cycles of it.
    :param span: periods over which the trend is linearised, from period 0 of the history's
        clock (default: to the stream's last period).
    """
    y = stream.demand
    t = stream.start + np.arange(y.size, dtype=float)
    span = span or int(t[-1]) + 1
    category, adi, cv2 = classify(y)
    promoted = stream.promotion if stream.promotion is not None and 0 < stream.promotion.sum() < y.size \
        else None
    families = [f for f in FAMILIES if f == "normal" or np.all(y == np.round(y))]
    if category in ("intermittent", "lumpy") and len(families) > 1:
        families.remove("normal")
    if not np.any(y > 0):  # nothing sold: nothing to fit
        return StreamFit(stream.node, stream.sku, int(y.size), category, adi, cv2,
                         DemandProcess(kind="poisson", mean=0.0), {"poisson": 0.0}, False, None,
                         ("no demand in the history: Poisson with mean 0",))
    best: dict[str, tuple[_Fit, bool, int | None]] = {}
    for trend in (False, True):
        for period in (None, *(p for p in season_periods if y.size >= 2 * p)):
            x = _design(t, span, trend, period, promoted)
            for family in families:
                fit = _fit_family(family, y, x)
                if fit is not None and (family not in best or fit.bic(y.size) < best[family][0].bic(y.size)):
                    best[family] = (fit, trend, period)
    fit, trend, period = min(best.values(), key=lambda entry: entry[0].aic)
    process, notes = to_process(fit, trend, period, promoted, span)
    return StreamFit(stream.node, stream.sku, int(y.size), category, adi, cv2, process,
                     {family: float(entry[0].aic) for family, entry in best.items()}, trend, period,
                     tuple(notes))


def fit_lead_time(observed: list[int]) -> LeadTime:
    """The empirical lead-time distribution: ``fixed`` if every receipt took as long, else ``discrete``.

    >>> fit_lead_time([2, 2, 3, 2]).to_dict()
    {'kind': 'discrete', 'values': [2, 3], 'probabilities': [0.75, 0.25]}
    """
    values, counts = np.unique(np.asarray(observed, dtype=int), return_counts=True)
    if values.size == 1:
        return LeadTime(kind="fixed", value=int(values[0]))
    return LeadTime(kind="discrete", values=tuple(int(v) for v in values),
                    probabilities=tuple(float(c) for c in counts / counts.sum()))
