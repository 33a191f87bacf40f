"""Prediction intervals for every law's forecast, and their coverage in backtests.

A forecast of a benchmark score at a compute :math:`C_0` beyond the fitted runs is wrong
for three reasons, and an interval that is to cover the score of a *new* run (a
prediction interval, not the confidence band of the curve; lmfit draws the same
distinction) must account for all three. In the transformed space of the laws,
:math:`y = \\log(-\\log Q)`, the predictive variance is

.. math::

    \\sigma^2(C_0) = \\underbrace{\\mathrm{Var}\\,\\hat y(C_0)}_{\\text{curve}}
    + \\underbrace{s^2}_{\\text{new run's noise}}
    + \\underbrace{\\tau^2 d_0^2}_{\\text{extrapolation drift}},
    \\qquad d_0 = \\max\\left(0, \\log \\frac{C_0}{C_{\\max}}, \\log \\frac{C_{\\min}}{C_0}\\right),

1. **curve**: the parameters are estimated from finitely many noisy runs. Either the
   analytic OLS variance where the law is linear in :math:`y` (Eq. 2, Eq. 5), or a
   bootstrap over runs (resample runs with replacement, refit, predict);
2. **noise of the new run**: its score scatters about the curve as the fitted runs did.
   Either resampled residuals of the fit in :math:`y` (default; the analytic interval
   uses their variance :math:`s^2`), or the binomial evaluation noise of a benchmark of
   ``n_items`` items, :math:`\\sqrt{p (1 - p) / n}`, in accuracy;
3. **extrapolation drift**: no law is exact, and its error grows with the distance
   :math:`d_0` (in e-folds of compute) beyond the largest fitted run :math:`C_{\\max}`,
   or below the smallest :math:`C_{\\min}` (the drift is calibrated beyond, and applied
   in both directions: a law fitted above a compute says no more about it than below).
   The rate :math:`\\tau` is calibrated by *rolling-origin backtests inside the
   training runs* (:func:`estimate_drift_rate`): the law is refitted on the runs below
   several inner cuts and its errors on the runs above them are compared with what
   noise alone explains. No held-out run is used. As :math:`\\tau` rests on a handful
   of overlapping inner backtests, its term takes a Student-t quantile with
   :data:`DRIFT_DEGREES_OF_FREEDOM` degrees of freedom.

Without the third term, nominal 90% intervals cover far fewer than 90% of the
held-out runs of the released data (the laws' errors beyond the cut are mostly
systematic, not noise); ``benchmarks/run.py --coverage`` measures it.

Intervals are formed in :math:`y` and mapped back to raw accuracy, so they stay within
(chance, 1). Runs that lie exactly on the law (a flat benchmark: zero scatter) would get
an interval of zero width; their prediction band is the evaluation noise of one run,
:math:`\\sqrt{p (1 - p) / n}`, instead (it needs ``n_items``). Every interval knows the
compute range it was fitted on, and :meth:`PredictionInterval.to_frame` says where each
forecast stands: below, inside or beyond that range, and by how many e-folds.
Everything random is drawn from generators seeded by ``seed``.

This module holds

* :class:`PredictionInterval`, :data:`IntervalPredictor`, :data:`IntervalFitter` -- the
  interval counterparts of :mod:`scalelib.backtest`'s Predictor and Fitter (defined in
  :mod:`scalelib.interfaces`, which imports no law, and re-exported here);
* analytic intervals: :func:`direct_law_interval` (Eq. 2) and
  :func:`pass_at_k_law_interval` (Eq. 5, and its fitter :func:`pass_at_k_interval_fitter`);
  :func:`extrapolation_efolds`, :func:`extrapolation_distance` and :func:`range_position`
  (where a forecast stands relative to the fitted runs), :func:`share_beyond_fitted_compute` (how many
  held-out rows lie beyond the fitted runs);
* the bootstrap: :func:`resample_runs`, :func:`direct_law_bootstrap` (all resamples at
  once, vectorised), :func:`bootstrap_predictions` (any fitter, one refit per resample);
* calibration: :func:`estimate_drift_rate`;
* interval fitters: :func:`law_interval_fitter` (any law of :data:`scalelib.laws.LAWS`:
  analytic or vectorised for Eq. 2, robust laws refitted from the point estimate) and
  :func:`bootstrap_interval_fitter` (any :data:`~scalelib.backtest.Fitter`, e.g. two-stage);
* :func:`forecast_interval` (an interval at given compute), :func:`interval_forecasts`
  (one fit per benchmark below a cut, its interval as a function of compute, for a figure),
  :func:`backtest_intervals`, :func:`backtest_split_intervals` and
  :func:`summarise_intervals` (coverage per benchmark).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import ndtri, stdtrit
from tqdm import tqdm  # plain bar: tqdm.auto warns in notebooks without ipywidgets

from scalelib.backtest import (
    Fitter,
    Predictor,
    _group_columns,
    single_chance_level,
    backtest_split,
    forecast_rows,
    forecasts_below_cut,
    summarise_backtest,
)
from scalelib.direct_law import direct_law_forecaster, fit_direct_law
from scalelib.interfaces import (
    IntervalFitter,
    IntervalPredictor,
    PredictionInterval,
    extrapolation_distance,
    extrapolation_efolds,
    range_position,
    rows_compute,
)
from scalelib.laws import LAWS as REGISTERED_LAWS
from scalelib.laws import Law
from scalelib.laws import law as registered_law
from scalelib.normalise import (
    ScalingDataError,
    accuracy_from_neg_log_q,
    log_compute_offset,
    neg_log_q,
)
from scalelib.pass_at_k import fit_pass_at_k_law
from scalelib.profile_fit import bootstrap_by_profile, polish_huber
from scalelib.validation import (
    as_numbers,
    check_compute,
    check_distinct_compute,
    check_n_items,
    check_resamples,
)

__all__ = [
    "LEVEL",
    "N_RESAMPLES",
    "ROLLING_ORIGIN_FRACTIONS",
    "LAWS",
    "PredictionInterval",
    "IntervalPredictor",
    "IntervalFitter",
    "transformed",
    "untransformed",
    "extrapolation_efolds",
    "extrapolation_distance",
    "range_position",
    "direct_law_interval",
    "pass_at_k_law_interval",
    "pass_at_k_interval_fitter",
    "share_beyond_fitted_compute",
    "resample_runs",
    "direct_law_bootstrap",
    "bootstrap_predictions",
    "inner_backtest_errors",
    "estimate_drift_rate",
    "direct_law_variance_terms",
    "law_interval_fitter",
    "bootstrap_interval_fitter",
    "forecast_interval",
    "interval_forecasts",
    "backtest_intervals",
    "backtest_split_intervals",
    "summarise_intervals",
]

LEVEL = 0.9
"""Default nominal coverage of the intervals."""

N_RESAMPLES = 200
"""Default number of bootstrap resamples (at least
:data:`~scalelib.validation.MIN_BOOTSTRAP_RESAMPLES`, 20, are required)."""

ROLLING_ORIGIN_FRACTIONS = tuple(float(f) for f in np.linspace(0.1, 0.5, 9))
"""Inner cuts of :func:`estimate_drift_rate`: each holds out the runs in the top fraction
``f`` of the training runs' log-compute range (10%, 15%, ... 50%)."""

DRIFT_DEGREES_OF_FREEDOM = 2
"""Degrees of freedom of Student's t for the drift term. The drift rate is estimated from
inner backtests whose held-out runs overlap, in effect from about two independent
extrapolations; like a variance estimated from so few observations it is itself
uncertain, and a normal quantile would undercover (``benchmarks/run.py --coverage``)."""

ACCURACY_MARGIN = 1e-9
"""Predicted accuracies are kept this far inside (chance, 1) before the transform
``log(-log Q)``; only forecasters not built on ``-log Q`` (e.g. a linear two-stage map)
can predict outside."""

Band = Literal["prediction", "confidence"]
Noise = Literal["residuals", "binomial"]

MIN_INTERVAL_RUNS = 3
"""Fewest runs an interval is formed from: two parameters plus one residual degree of
freedom (with two runs, half the bootstrap resamples would hold one run)."""

LAWS = tuple(REGISTERED_LAWS)
"""Laws :func:`law_interval_fitter` knows by name: every law of :data:`scalelib.laws.LAWS`."""

ZERO_SCATTER = 1e-9
"""Root-mean-square residual in ``log(-log Q)`` at or below which runs lie exactly on the
law (a flat benchmark, or noise-free synthetic runs). Their scatter says a new run would
land exactly on the curve, an interval of zero width; their prediction band is the
binomial evaluation noise of one run instead (:func:`direct_law_interval`). Real runs
scatter by about 1e-2."""


def _check_level(level: float) -> float:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}.")
    return float(level)


def _check_option(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"Unknown {name} {value!r}; use one of {list(allowed)}.")


def _t_quantile(level: float, degrees_of_freedom: float) -> float:
    """Student's t quantile at ``(1 + level) / 2``: the half-width of a central ``level`` interval in sd units."""
    return float(stdtrit(degrees_of_freedom, 0.5 + level / 2))


def _check_interval_runs(compute: ArrayLike, minimum: int) -> None:
    """Refuse fewer than ``minimum`` runs, or runs at a single compute value (no slope to fit)."""
    compute = np.asarray(compute, dtype=float).ravel()
    if len(compute) < minimum:
        raise ScalingDataError(
            f"An interval needs at least {minimum} runs (one residual degree of freedom); got {len(compute)}."
        )
    check_distinct_compute(compute)


def transformed(accuracy: ArrayLike, chance: float) -> np.ndarray:
    """The laws' linearising transform ``y = log(-log Q)``, accuracy kept inside (chance, 1).

    Accuracies within :data:`ACCURACY_MARGIN` of chance or of 1 (or beyond) are moved to
    that margin first, so that forecasts of any method can be transformed.
    """
    accuracy = np.clip(np.asarray(accuracy, dtype=float), chance + ACCURACY_MARGIN, 1.0 - ACCURACY_MARGIN)
    return np.log(neg_log_q(accuracy, chance))


def untransformed(y: ArrayLike, chance: float) -> np.ndarray:
    """Inverse of :func:`transformed`: ``acc = chance + (1 - chance) exp(-exp(y))``."""
    return accuracy_from_neg_log_q(np.exp(np.asarray(y, dtype=float)), chance)


def share_beyond_fitted_compute(
    frame: pd.DataFrame, held_out: pd.Series, *, compute_column: str = "flops"
) -> float:
    """Share of the held-out rows whose compute exceeds the largest fitted run of their benchmark.

    Those rows get a drift term, as do rows below the smallest fitted run
    (:func:`extrapolation_distance` is zero for the rows in between): for a split that is
    not a compute cut (e.g. leave one ratio out) this says how much of its coverage the
    drift calibration, made beyond the fitted runs, can affect.
    """
    largest_fitted = frame[~held_out].groupby("benchmark")[compute_column].max()
    rows = frame[held_out]
    return float((rows[compute_column] > rows["benchmark"].map(largest_fitted)).mean())


def _fitted_range(compute: ArrayLike) -> tuple[float, float]:
    compute = np.asarray(compute, dtype=float)
    return float(compute.min()), float(compute.max())


def _interval_from_y(
    predicted: np.ndarray, y_low: np.ndarray, y_high: np.ndarray, chance: float, *, level: float,
    method: str, drift_rate: float, fitted_compute: tuple[float, float],
) -> PredictionInterval:
    """Map bounds on y back to accuracy; y falls as accuracy rises, so the bounds swap."""
    return PredictionInterval(
        predicted=predicted, lower=untransformed(y_high, chance), upper=untransformed(y_low, chance),
        level=level, method=method, drift_rate=drift_rate, fitted_compute=fitted_compute,
    )


def _lies_on_the_law(residuals: np.ndarray) -> bool:
    """Zero scatter: the runs' root-mean-square residual in y is at most :data:`ZERO_SCATTER`."""
    return bool(np.sqrt(np.mean(np.square(residuals))) <= ZERO_SCATTER)


def _floor_items(n_items: ArrayLike | None) -> np.ndarray:
    """The item counts of the evaluation-noise floor; refuses their absence (None or NaN)."""
    if n_items is None or np.isnan(as_numbers(n_items, "n_items")).any():
        raise ScalingDataError(
            "The runs lie exactly on the law (zero scatter, e.g. every accuracy equal), so the prediction "
            "interval would have zero width: give the benchmark's number of items (n_items) for an "
            "evaluation-noise floor sqrt(p (1 - p) / n_items)."
        )
    return check_n_items(n_items, purpose="The evaluation-noise floor of runs that lie exactly on the law")


def _with_evaluation_noise_floor(
    interval: PredictionInterval, n_items: ArrayLike | None, chance: float
) -> PredictionInterval:
    """Widen an interval to at least ``p +- z sqrt(p (1 - p) / n)``, the evaluation noise of one run.

    For runs with zero scatter (:func:`_lies_on_the_law`); z is the normal quantile of
    the interval's level, the bounds stay within [chance, 1].
    """
    p = interval.predicted
    half_width = ndtri(0.5 + interval.level / 2) * np.sqrt(p * (1.0 - p) / _floor_items(n_items))
    return replace(
        interval,
        lower=np.clip(np.minimum(interval.lower, p - half_width), chance, 1.0),
        upper=np.clip(np.maximum(interval.upper, p + half_width), chance, 1.0),
        method=f"{interval.method}, evaluation-noise floor",
    )


def _rows_n_items(rows: pd.DataFrame, training_rows: pd.DataFrame) -> np.ndarray | float | None:
    """The forecast rows' ``n_items``, else the benchmark's (its first training row's), else None."""
    if "n_items" in rows.columns:
        return rows["n_items"].to_numpy()
    if "n_items" in training_rows.columns:
        return training_rows["n_items"].iloc[0]
    return None


# --------------------------------------------------------------------------- analytic


def direct_law_interval(
    compute: ArrayLike,
    accuracy: ArrayLike,
    *,
    chance: float,
    at_compute: ArrayLike,
    level: float = LEVEL,
    band: Band = "prediction",
    drift_rate: float = 0.0,
    labels: Sequence[str] | None = None,
    n_items: ArrayLike | None = None,
    drift_degrees_of_freedom: float = DRIFT_DEGREES_OF_FREEDOM,
) -> PredictionInterval:
    """Analytic interval of Eq. 2 at ``at_compute``: the OLS interval of ``log(-log Q)``.

    Eq. 2 is the line :math:`y = \\log A - \\alpha \\log C` in
    :math:`y = \\log(-\\log Q)`. Its closed-form fit (ordinary least squares, as in
    :func:`scalelib.direct_law.fit_direct_law`) has, at :math:`x_0 = \\log C_0`, the
    textbook interval

    .. math::

        \\hat y_0 \\pm t_{n-2,\\,(1+\\text{level})/2}
        \\sqrt{g_0^\\top \\Sigma\\, g_0 + s^2},
        \\qquad g_0 = (1, -x_0), \\quad s^2 = \\frac{\\sum_i r_i^2}{n - 2},

    with :math:`\\Sigma = s^2 (X^\\top X)^{-1}` the covariance of :math:`(\\log A, \\alpha)`.
    ``band="prediction"`` covers a new run (the :math:`s^2` term); ``"confidence"``
    covers the curve only. With ``drift_rate`` :math:`\\tau > 0`
    (:func:`estimate_drift_rate`), the drift term is added in quadrature with its own
    quantile, :math:`\\nu` = :data:`DRIFT_DEGREES_OF_FREEDOM`:

    .. math::

        \\hat y_0 \\pm \\sqrt{t_{n-2}^2 \\left(g_0^\\top \\Sigma\\, g_0 + s^2\\right)
        + t_{\\nu}^2\\, \\tau^2 d_0^2},

    :math:`d_0` the e-folds of compute beyond the largest fitted run or below the
    smallest (:func:`extrapolation_distance`): the textbook interval inside the fitted
    range, wider outside it. The bounds are mapped back to raw accuracy (monotone, so
    the coverage is kept). Runs with zero scatter (:data:`ZERO_SCATTER`, e.g. a flat
    benchmark) would give a prediction interval of zero width; it is widened to the
    evaluation noise of one run, :math:`p \\pm z \\sqrt{p (1 - p) / n}` (``n_items``).

    Parameters
    ----------
    compute, accuracy, chance, labels
        The runs, as for :func:`scalelib.direct_law.fit_direct_law`.
    at_compute
        Compute (FLOPs) of the forecasts.
    level
        Nominal coverage.
    band
        ``"prediction"`` (a new run) or ``"confidence"`` (the fitted curve).
    drift_rate
        Extrapolation drift rate tau, in ``log(-log Q)`` per e-fold of compute.
    n_items
        Number of items of the benchmark (scalar, or one per ``at_compute``): used only
        for the evaluation-noise floor of runs with zero scatter.
    drift_degrees_of_freedom
        :math:`\\nu` of the drift term's Student-t quantile.

    Returns
    -------
    PredictionInterval

    Raises
    ------
    ScalingDataError
        On inputs the law refuses, fewer than 3 runs (no residual degree of freedom),
        ``at_compute`` that is not a finite number > 0, or runs with zero scatter
        without ``n_items`` for a prediction band.
    """
    level = _check_level(level)
    _check_option("band", band, ("prediction", "confidence"))
    fit, residuals, terms = _direct_law_terms(compute, accuracy, chance, at_compute, drift_rate, labels)
    at_compute = terms["flops"].to_numpy()
    variance = terms["curve"].to_numpy()
    if band == "prediction":
        variance = variance + terms["scatter"].to_numpy()
    half_width = np.sqrt(
        _t_quantile(level, fit.n_points - 2) ** 2 * variance
        + _t_quantile(level, drift_degrees_of_freedom) ** 2 * terms["drift"].to_numpy()
    )
    centre = np.log(fit.A) - fit.alpha * np.log(at_compute)
    calibrated = ", calibrated" if drift_rate > 0 else ""
    interval = _interval_from_y(
        fit.predict(at_compute), centre - half_width, centre + half_width, chance, level=level,
        method=f"analytic, {band}{calibrated}", drift_rate=float(drift_rate), fitted_compute=_fitted_range(compute),
    )
    if band == "prediction" and _lies_on_the_law(residuals):
        return _with_evaluation_noise_floor(interval, n_items, chance)
    return interval


def _direct_law_terms(
    compute: ArrayLike, accuracy: ArrayLike, chance: float, at_compute: ArrayLike, drift_rate: float,
    labels: Sequence[str] | None,
) -> tuple[Any, np.ndarray, pd.DataFrame]:
    """Eq. 2's closed-form fit, its residuals in y, and the variance terms at ``at_compute``."""
    fit = fit_direct_law(compute, accuracy, chance=chance, labels=labels)
    _check_interval_runs(compute, MIN_INTERVAL_RUNS)
    log_compute = np.log(np.asarray(compute, dtype=float).ravel())
    residuals = transformed(accuracy, chance).ravel() - (np.log(fit.A) - fit.alpha * log_compute)
    at_compute = np.atleast_1d(check_compute(at_compute, name="at_compute"))
    gradient = np.column_stack([np.ones_like(at_compute), -np.log(at_compute)])
    distance = extrapolation_distance(at_compute, compute)
    terms = pd.DataFrame({
        "flops": at_compute,
        "curve": np.einsum("ij,jk,ik->i", gradient, fit.covariance, gradient),
        "scatter": np.sum(residuals**2) / (fit.n_points - 2),
        "drift": (drift_rate * distance) ** 2,
        "efolds_beyond": distance,
    })
    return fit, residuals, terms


def direct_law_variance_terms(
    compute: ArrayLike,
    accuracy: ArrayLike,
    *,
    chance: float,
    at_compute: ArrayLike,
    drift_rate: float = 0.0,
    labels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The three variance terms of the direct law's prediction interval, on the scale y = log(-log Q).

    At compute :math:`C_0` the interval of :func:`direct_law_interval` adds

    .. math::

        \\sigma^2(C_0) = \\underbrace{g_0^\\top \\Sigma\\, g_0}_{\\text{curve}}
        + \\underbrace{s^2}_{\\text{scatter}} + \\underbrace{\\tau^2 d_0^2}_{\\text{drift}},

    each with its own quantile (Student t with :math:`n - 2` degrees of freedom for the
    first two, :data:`DRIFT_DEGREES_OF_FREEDOM` for the drift). This returns the terms
    themselves, to show which one dominates where.

    Parameters
    ----------
    compute, accuracy, chance, labels
        The runs, as for :func:`scalelib.direct_law.fit_direct_law`.
    at_compute
        Compute (FLOPs) at which to evaluate the terms.
    drift_rate
        :math:`\\tau` (e.g. from :func:`estimate_drift_rate`); 0 gives the textbook terms.

    Returns
    -------
    pandas.DataFrame
        One row per ``at_compute``: ``flops``, ``curve``, ``scatter``, ``drift`` (variances
        in :math:`y`) and ``efolds_beyond`` (:math:`d_0`).

    Raises
    ------
    ScalingDataError
        As :func:`direct_law_interval`.
    """
    return _direct_law_terms(compute, accuracy, chance, at_compute, drift_rate, labels)[2]


def pass_at_k_law_interval(
    compute: ArrayLike,
    k: ArrayLike,
    pass_at_k_values: ArrayLike,
    *,
    at_compute: ArrayLike,
    at_k: ArrayLike,
    level: float = LEVEL,
    band: Band = "prediction",
    labels: Sequence[str] | None = None,
) -> PredictionInterval:
    """Analytic interval of Eq. 5 (pass@k): the OLS interval of ``log(-log pass@k)``.

    Eq. 5, :math:`y = \\log A + \\alpha \\log C + \\beta \\log k + \\delta \\log C \\log k`,
    is linear in its four parameters; for its unweighted least-squares fit
    (:func:`scalelib.pass_at_k.fit_pass_at_k_law`) the interval at :math:`(C_0, k_0)` is

    .. math::

        \\hat y_0 \\pm t_{n-4,\\,(1+\\text{level})/2} \\sqrt{g_0^\\top \\Sigma\\, g_0 + s^2},
        \\qquad g_0 = (1, \\log C_0, \\log k_0, \\log C_0 \\log k_0),

    :math:`s^2` the residual variance on :math:`n - 4` degrees of freedom (without it,
    ``band="confidence"``). Classical errors: the pass@k values of one run share their
    samples, so this interval is optimistic; the run bootstrap
    (:func:`bootstrap_interval_fitter` with :func:`scalelib.pass_at_k.pass_at_k_forecaster`)
    resamples whole runs instead.

    Raises
    ------
    ScalingDataError
        On inputs Eq. 5 refuses, or fewer than 5 points.
    """
    level = _check_level(level)
    _check_option("band", band, ("prediction", "confidence"))
    fit = fit_pass_at_k_law(compute, k, pass_at_k_values, labels=labels)
    degrees_of_freedom = fit.n_points - 4
    if degrees_of_freedom < 1:
        raise ScalingDataError(f"An interval of Eq. 5 needs at least 5 points; got {fit.n_points}.")
    residuals = transformed(pass_at_k_values, 0.0).ravel() - fit.log_neg_log_q(compute, k).ravel()
    log_compute = np.log(np.atleast_1d(check_compute(at_compute, name="at_compute")))
    log_k = np.log(np.atleast_1d(np.asarray(at_k, dtype=float)))
    log_compute, log_k = np.broadcast_arrays(log_compute, log_k)
    gradient = np.column_stack([np.ones_like(log_k), log_compute, log_k, log_compute * log_k])
    variance = np.einsum("ij,jk,ik->i", gradient, fit.covariance, gradient)
    if band == "prediction":
        variance = variance + np.sum(residuals**2) / degrees_of_freedom
    half_width = _t_quantile(level, degrees_of_freedom) * np.sqrt(variance)
    centre = fit.log_neg_log_q(np.exp(log_compute), np.exp(log_k))
    return _interval_from_y(
        fit.predict(np.exp(log_compute), np.exp(log_k)), centre - half_width, centre + half_width, 0.0,
        level=level, method=f"analytic, {band}", drift_rate=0.0, fitted_compute=fit.compute_range,
    )


def pass_at_k_interval_fitter(*, band: Band = "prediction", compute_column: str = "flops") -> IntervalFitter:
    """The :data:`IntervalFitter` of :func:`pass_at_k_law_interval` (analytic Eq. 5, no drift term).

    Training and forecast rows carry the compute, ``k`` and (training rows) ``value``,
    pass@k. Optimistic (see :func:`pass_at_k_law_interval`); the book uses it to show
    by how much, against :func:`bootstrap_interval_fitter` around
    :func:`scalelib.pass_at_k.pass_at_k_forecaster`.
    """
    _check_option("band", band, ("prediction", "confidence"))

    def fit(training_rows: pd.DataFrame) -> IntervalPredictor:
        compute, k, values = (training_rows[column].to_numpy() for column in (compute_column, "k", "value"))
        labels = training_rows["run"].tolist() if "run" in training_rows.columns else None

        def predict(rows: pd.DataFrame, level: float = LEVEL) -> PredictionInterval:
            return pass_at_k_law_interval(
                compute, k, values, at_compute=rows[compute_column].to_numpy(), at_k=rows["k"].to_numpy(),
                level=level, band=band, labels=labels,
            )

        return predict

    return fit


# --------------------------------------------------------------------------- bootstrap


def resample_runs(n_runs: int, *, n_resamples: int = N_RESAMPLES, seed: int = 0) -> np.ndarray:
    """Bootstrap resamples of runs: an ``(n_resamples, n_runs)`` array of run positions.

    Each row draws ``n_runs`` runs with replacement, from ``numpy.random.default_rng(seed)``;
    every bootstrap of this module uses it, so the same seed resamples the same runs.
    """
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}.")
    return np.random.default_rng(seed).integers(0, n_runs, size=(n_resamples, n_runs))


def direct_law_bootstrap(
    compute: ArrayLike,
    accuracy: ArrayLike,
    *,
    chance: float,
    at_compute: ArrayLike,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    labels: Sequence[str] | None = None,
) -> np.ndarray:
    """Bootstrap of Eq. 2's closed-form fit over runs, all resamples at once.

    For every resample of :func:`resample_runs` the OLS line of
    :math:`y = \\log(-\\log Q)` on :math:`x = \\log(C / C_{\\mathrm{ref}})` is
    :math:`\\hat y(x_0) = \\bar y + b (x_0 - \\bar x)` with
    :math:`b = \\sum (x - \\bar x)(y - \\bar y) / \\sum (x - \\bar x)^2`, computed for
    all resamples as array operations (no loop).

    Returns
    -------
    numpy.ndarray
        ``(n_resamples, len(at_compute))`` bootstrap values of ``log(-log Q)`` at
        ``at_compute``; NaN rows for resamples that drew a single compute value.

    Raises
    ------
    ScalingDataError
        On inputs the law refuses (see :func:`scalelib.normalise.validate_law_inputs`).
    """
    fit_direct_law(compute, accuracy, chance=chance, labels=labels)  # validates the runs
    _check_interval_runs(compute, MIN_INTERVAL_RUNS)
    x = log_compute_offset(np.asarray(compute, dtype=float).ravel())
    y = transformed(np.asarray(accuracy, dtype=float).ravel(), chance)
    positions = resample_runs(len(x), n_resamples=n_resamples, seed=seed)
    x_resampled, y_resampled = x[positions], y[positions]
    x_centred = x_resampled - x_resampled.mean(axis=1, keepdims=True)
    y_mean = y_resampled.mean(axis=1, keepdims=True)
    spread = np.sum(x_centred**2, axis=1, keepdims=True)
    covariation = np.sum(x_centred * (y_resampled - y_mean), axis=1, keepdims=True)
    slope = np.divide(covariation, spread, out=np.full_like(spread, np.nan), where=spread > 0)
    x_at = log_compute_offset(np.atleast_1d(np.asarray(at_compute, dtype=float)))[None, :]
    return y_mean + slope * (x_at - x_resampled.mean(axis=1, keepdims=True))


def bootstrap_predictions(
    training_rows: pd.DataFrame,
    rows: pd.DataFrame,
    fit: Fitter,
    *,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    run_column: str = "run",
    progress: bool = True,
) -> np.ndarray:
    """Bootstrap over runs for any fitter: resample runs, refit, predict ``rows``.

    Whole runs are resampled (:func:`resample_runs` over the distinct values of
    ``run_column``, in order of appearance), so rows of one run (e.g. its pass@k at
    every k) stay together; with one row per run, the resamples are those of
    :func:`direct_law_bootstrap` under the same seed.
    A tqdm progress bar appears after two seconds unless ``progress=False``.

    Returns
    -------
    numpy.ndarray
        ``(n_resamples, len(rows))`` predicted raw accuracy; NaN rows for resamples the
        law refused (a :class:`~scalelib.normalise.ScalingDataError`, e.g. a resample
        with a single compute value).
    """
    codes, runs = pd.factorize(training_rows[run_column])  # runs in order of appearance
    rows_of_run = [np.flatnonzero(codes == position) for position in range(len(runs))]
    predictions = np.full((n_resamples, len(rows)), np.nan)
    resamples = resample_runs(len(runs), n_resamples=n_resamples, seed=seed)
    for index, resample in enumerate(
        tqdm(resamples, desc="bootstrap", disable=not progress, leave=False, delay=2.0)
    ):
        resampled = training_rows.iloc[np.concatenate([rows_of_run[run] for run in resample])]
        try:
            predict = fit(resampled.copy())
        except ScalingDataError:
            continue
        predictions[index] = predict(rows.copy())
    return predictions


# --------------------------------------------------------------------------- calibration


def inner_backtest_errors(
    training_rows: pd.DataFrame,
    fit: Fitter,
    *,
    compute_column: str = "flops",
    fractions: Sequence[float] = ROLLING_ORIGIN_FRACTIONS,
) -> pd.DataFrame:
    """The rolling-origin backtests inside the training runs that calibrate the drift rate.

    For each fraction ``f`` of ``fractions``, the law is fitted to the training runs
    below the inner cut :math:`\\log C_{\\max} - f (\\log C_{\\max} - \\log C_{\\min})`
    and forecasts the training runs above it, as :func:`scalelib.backtest.backtest`
    would for this one benchmark (same rows, same order). No held-out run is involved:
    these are the inner backtests of :func:`estimate_drift_rate`. Inner cuts that keep
    the same runs share one fit (a fit is a function of its rows), so a law is fitted
    at most once per distinct inner training set.

    Returns
    -------
    pandas.DataFrame
        One row per inner held-out run and fraction, in order of fraction then compute:
        ``fraction``, ``inner_cut`` (FLOPs), ``run``, the compute column, ``error_y``
        (forecast minus observed, in :math:`y = \\log(-\\log Q)`) and ``efolds_beyond``
        (:math:`d`, e-folds of compute beyond the inner fit's largest run). Inner cuts
        the law cannot fit (a :class:`~scalelib.normalise.ScalingDataError`) contribute
        no rows.
    """
    compute = rows_compute(training_rows, compute_column)
    log_compute = np.log(compute)
    span = log_compute.max() - log_compute.min()
    chance = single_chance_level(training_rows)
    forecasts: dict[bytes, pd.DataFrame | None] = {}
    parts = []
    for fraction in fractions:
        cut = float(np.exp(log_compute.max() - fraction * span))
        is_inner = compute <= cut
        key = is_inner.tobytes()
        if key not in forecasts:
            forecasts[key] = _inner_forecast(training_rows, fit, is_inner, compute_column, chance)
        forecast = forecasts[key]
        if forecast is None:
            continue
        parts.append(forecast.assign(fraction=fraction, inner_cut=cut))
    columns = ["fraction", "inner_cut", "run", compute_column, "error_y", "efolds_beyond"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def _inner_forecast(
    training_rows: pd.DataFrame, fit: Fitter, is_inner: np.ndarray, compute_column: str, chance: float,
) -> pd.DataFrame | None:
    """Fit the rows ``is_inner`` and forecast the others (in compute order); None if refused."""
    held_out = training_rows[~is_inner].sort_values(compute_column, kind="stable")
    if held_out.empty or not is_inner.any():
        return None
    inner = training_rows[is_inner]
    try:
        predicted = np.asarray(fit(inner.copy())(held_out.copy()), dtype=float)
    except ScalingDataError:
        return None
    held_out_compute = held_out[compute_column].to_numpy(dtype=float)
    return pd.DataFrame({
        "run": held_out["run"].to_numpy(), compute_column: held_out_compute,
        "error_y": transformed(predicted, chance) - transformed(held_out["value"].to_numpy(dtype=float), chance),
        "efolds_beyond": extrapolation_distance(held_out_compute, inner[compute_column].to_numpy(dtype=float)),
    })


def estimate_drift_rate(
    training_rows: pd.DataFrame,
    fit: Fitter,
    *,
    noise_variance: float,
    compute_column: str = "flops",
    fractions: Sequence[float] = ROLLING_ORIGIN_FRACTIONS,
) -> float:
    """Calibrate the extrapolation drift rate tau by rolling-origin backtests in the training runs.

    For each fraction ``f``, the law is fitted to the training runs below the inner cut
    :math:`\\log C_{\\max} - f (\\log C_{\\max} - \\log C_{\\min})` and forecasts the
    training runs above it (:func:`scalelib.backtest.backtest`). With :math:`e_j` the
    error in :math:`y = \\log(-\\log Q)` of inner held-out run :math:`j` and :math:`d_j`
    its e-folds of compute beyond that inner fit's largest run,

    .. math::

        \\hat\\tau^2 = \\frac{\\sum_j \\max(0, e_j^2 - s^2)}{\\sum_j d_j^2},

    the squared error not explained by the noise variance :math:`s^2`, per squared
    e-fold: the method-of-moments fit of :math:`E[e^2] = s^2 + \\tau^2 d^2`. It is
    conservative: the curve's own variance is counted as drift.

    Parameters
    ----------
    training_rows
        One benchmark's training rows (columns of :func:`scalelib.backtest.backtest`).
    fit
        The law's point :data:`~scalelib.backtest.Fitter`.
    noise_variance
        :math:`s^2`, the residual variance of the fit to all training rows, in ``y``.

    Returns
    -------
    float
        tau, in ``log(-log Q)`` per e-fold of compute.

    Raises
    ------
    ScalingDataError
        If no inner cut leaves a fit the law accepts (too few runs to calibrate).
    """
    errors = inner_backtest_errors(training_rows, fit, compute_column=compute_column, fractions=fractions)
    squared_distance = float(np.sum(errors["efolds_beyond"].to_numpy(dtype=float) ** 2))
    if squared_distance == 0.0:
        raise ScalingDataError(
            f"Too few runs to calibrate the interval: no inner backtest on the {len(training_rows)} "
            f"training runs could be fitted (inner cuts hold out the top {min(fractions):.0%} to "
            f"{max(fractions):.0%} of the log-compute range)."
        )
    excess = float(np.sum(np.maximum(0.0, errors["error_y"].to_numpy(dtype=float) ** 2 - noise_variance)))
    return float(np.sqrt(excess / squared_distance))


# --------------------------------------------------------------------------- interval fitters


def _warm_start_fitter(law: Law, start: np.ndarray, chance: float, compute_column: str) -> Fitter:
    """Refit ``law`` by one polish (:func:`scalelib.profile_fit.polish_huber`) from the point estimate."""

    def fit(rows: pd.DataFrame) -> Predictor:
        x = law.inputs(rows, compute_column)
        log_target = law.target(rows["value"].to_numpy(), chance)
        best = polish_huber(
            lambda parameters: law.residuals(parameters, x, log_target),
            lambda parameters: law.jacobian(parameters, x, log_target),
            [start],
            bounds=law.bounds(x),
        )
        return lambda target: accuracy_from_neg_log_q(
            law.neg_log_q(law.inputs(target, compute_column), best.x), chance
        )

    return fit


def _y_samples(
    curves: np.ndarray, residuals: np.ndarray, rows: pd.DataFrame, distance: np.ndarray, *,
    chance: float, band: Band, noise: Noise, drift_rate: float, seed: int,
    drift_degrees_of_freedom: float = DRIFT_DEGREES_OF_FREEDOM,
) -> np.ndarray:
    """Predictive samples in y: bootstrap curves + drift, + a new run's noise for a prediction band.

    Residual noise is added in y (centred residuals, resampled); binomial noise is added
    in accuracy at the sample's accuracy and mapped back to y. Each resample draws its
    drift and noise once and applies them to every forecast row (common random numbers):
    a resample is one smooth possible future, so a band drawn on a fine grid of compute
    is smooth, while each row's distribution, and so its interval, is unchanged.
    """
    rng = np.random.default_rng([seed, 1])
    per_resample = (curves.shape[0], 1)
    samples = curves + drift_rate * distance[None, :] * rng.standard_t(drift_degrees_of_freedom, per_resample)
    if band == "confidence":
        return samples
    if noise == "residuals":
        centred = residuals - residuals.mean()
        return samples + centred[rng.integers(0, len(centred), size=per_resample)]
    if "n_items" not in rows.columns:
        raise ScalingDataError("noise='binomial' needs an n_items column in the forecast rows.")
    n_items = check_n_items(rows["n_items"].to_numpy(), purpose="noise='binomial'")
    accuracy = untransformed(samples, chance)
    scale = np.sqrt(accuracy * (1.0 - accuracy) / n_items[None, :])
    return transformed(accuracy + scale * rng.standard_normal(per_resample), chance)


@dataclass(frozen=True)
class _Bootstrap:
    """What a bootstrap interval needs of a law fitted to one benchmark's training rows."""

    point: Predictor
    """The point forecast, from the fit to all training rows."""
    sample_curves: Callable[[pd.DataFrame], np.ndarray]
    """Bootstrap values of ``log(-log Q)`` at the given rows, shape (resamples, rows)."""
    point_fitter: Fitter
    """The law's own fitter, for the inner backtests of :func:`estimate_drift_rate`."""


def _direct_law_bootstrap(training_rows: pd.DataFrame, *, n_resamples: int, seed: int, progress: bool,
                          compute_column: str) -> _Bootstrap:
    """Eq. 2: closed-form point fit, vectorised bootstrap (:func:`direct_law_bootstrap`)."""
    forecaster = direct_law_forecaster(compute_column=compute_column)
    return _Bootstrap(
        point=forecaster(training_rows),
        sample_curves=lambda rows: direct_law_bootstrap(
            rows_compute(training_rows, compute_column), training_rows["value"].to_numpy(),
            chance=single_chance_level(training_rows), at_compute=rows_compute(rows, compute_column),
            n_resamples=n_resamples, seed=seed, labels=training_rows["run"].tolist(),
        ),
        point_fitter=forecaster,
    )


def _robust_law_bootstrap(law: Law, training_rows: pd.DataFrame, *, n_resamples: int, seed: int,
                          progress: bool, compute_column: str) -> _Bootstrap:
    """A robust law: full point fit; resamples solved at once by profile, or each polished from the estimate."""
    chance = single_chance_level(training_rows)
    estimate = law.parameters(law.fit_rows(training_rows, compute_column))

    def point(rows: pd.DataFrame) -> np.ndarray:
        return accuracy_from_neg_log_q(law.neg_log_q(law.inputs(rows, compute_column), estimate), chance)

    if law.profile is None:
        refit = _warm_start_fitter(law, estimate, chance, compute_column)
        sample_curves = lambda rows: transformed(bootstrap_predictions(  # noqa: E731
            training_rows, rows, refit, n_resamples=n_resamples, seed=seed, progress=progress,
        ), chance)
    else:
        codes, runs = pd.factorize(training_rows["run"])  # runs in order of appearance, as bootstrap_predictions
        draws = resample_runs(len(runs), n_resamples=n_resamples, seed=seed)
        run_counts = np.stack([np.bincount(draw, minlength=len(runs)) for draw in draws])
        resampled = bootstrap_by_profile(
            law.profile(law.inputs(training_rows, compute_column)),
            law.target(training_rows["value"].to_numpy(), chance),
            counts=run_counts[:, codes],
        )

        def sample_curves(rows: pd.DataFrame) -> np.ndarray:
            x = law.inputs(rows, compute_column)
            return transformed(
                accuracy_from_neg_log_q(np.stack([law.neg_log_q(x, parameters) for parameters in resampled]), chance),
                chance,
            )

    return _Bootstrap(point=point, sample_curves=sample_curves, point_fitter=law.forecaster(compute_column=compute_column))


def _refit_bootstrap(fit: Fitter, training_rows: pd.DataFrame, *, n_resamples: int, seed: int,
                     progress: bool, compute_column: str) -> _Bootstrap:
    """Any fitter: every resample refitted with the fitter itself."""
    chance = single_chance_level(training_rows)
    return _Bootstrap(
        point=fit(training_rows.copy()),
        sample_curves=lambda rows: transformed(bootstrap_predictions(
            training_rows, rows, fit, n_resamples=n_resamples, seed=seed, progress=progress,
        ), chance),
        point_fitter=fit,
    )


def _bootstrap_interval_fitter(
    bootstrap: Callable[..., _Bootstrap], *, band: Band, noise: Noise, calibrate: bool, n_resamples: int,
    seed: int, progress: bool, compute_column: str, method: str,
    drift_degrees_of_freedom: float = DRIFT_DEGREES_OF_FREEDOM,
) -> IntervalFitter:
    """An interval fitter from ``bootstrap(training_rows, ...) -> _Bootstrap``: curves + drift + noise, quantiles."""
    _check_option("band", band, ("prediction", "confidence"))
    _check_option("noise", noise, ("residuals", "binomial"))
    check_resamples(n_resamples)

    def fit(training_rows: pd.DataFrame) -> IntervalPredictor:
        if band == "prediction" and noise == "binomial":
            if "n_items" not in training_rows.columns:
                raise ScalingDataError("noise='binomial' needs an n_items column.")
            check_n_items(training_rows["n_items"].to_numpy(), purpose="noise='binomial'")
        law = bootstrap(
            training_rows, n_resamples=n_resamples, seed=seed, progress=progress, compute_column=compute_column
        )
        _check_interval_runs(training_rows.drop_duplicates("run")[compute_column], MIN_INTERVAL_RUNS)
        chance = single_chance_level(training_rows)
        residuals = transformed(training_rows["value"], chance) - transformed(law.point(training_rows.copy()), chance)
        on_the_law = band == "prediction" and noise == "residuals" and _lies_on_the_law(residuals)
        if on_the_law:
            _floor_items(_rows_n_items(training_rows, training_rows))  # refuses a zero-width interval early
        drift_rate = 0.0
        if calibrate:
            drift_rate = estimate_drift_rate(
                training_rows, law.point_fitter, noise_variance=float(np.mean(residuals**2)),
                compute_column=compute_column,
            )

        def predict(rows: pd.DataFrame, level: float = LEVEL) -> PredictionInterval:
            level = _check_level(level)
            curves = law.sample_curves(rows)
            refused = np.isnan(curves).any(axis=1)
            if refused.mean() > 0.5:
                raise ScalingDataError(
                    f"The law refused {refused.sum()} of {len(refused)} bootstrap resamples of the training runs."
                )
            compute = check_compute(rows_compute(rows, compute_column), name=compute_column)
            distance = extrapolation_distance(compute, training_rows[compute_column])
            samples = _y_samples(
                curves[~refused], residuals, rows, distance, chance=chance, band=band, noise=noise,
                drift_rate=drift_rate, seed=seed, drift_degrees_of_freedom=drift_degrees_of_freedom,
            )
            y_low, y_high = np.quantile(samples, [0.5 - level / 2, 0.5 + level / 2], axis=0)
            noise_label = f", {noise} noise" if band == "prediction" else ""
            interval = _interval_from_y(
                law.point(rows.copy()), y_low, y_high, chance, level=level,
                method=f"{method}, {band}{noise_label}{', calibrated' if calibrate else ''}", drift_rate=drift_rate,
                fitted_compute=_fitted_range(training_rows[compute_column]),
            )
            if on_the_law:
                return _with_evaluation_noise_floor(interval, _rows_n_items(rows, training_rows), chance)
            return interval

        return predict

    return fit


def law_interval_fitter(
    law: str | Law = "direct",
    *,
    interval: Literal["analytic", "bootstrap"] = "analytic",
    band: Band = "prediction",
    noise: Noise = "residuals",
    calibrate: bool = True,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    progress: bool = True,
    compute_column: str = "flops",
    drift_degrees_of_freedom: float = DRIFT_DEGREES_OF_FREEDOM,
) -> IntervalFitter:
    """An :data:`IntervalFitter` for a law of :data:`scalelib.laws.LAWS`: point forecast and interval.

    Parameters
    ----------
    law
        A :class:`~scalelib.interfaces.Law` or its name: ``"direct"`` (Eq. 2, closed
        form), ``"saturating"`` (Eq. 6), ``"bnsl"`` (Eq. 1), ``"ratio"`` (Eq. 4, needs
        ``params`` and ``tokens`` columns) or ``"passk"`` (Eq. 5, needs ``k``).
    interval
        ``"analytic"`` (:func:`direct_law_interval`; a law with ``analytic_interval``,
        Eq. 2) or ``"bootstrap"`` over runs: vectorised for Eq. 2
        (:func:`direct_law_bootstrap`); for a robust law each resample is profiled or
        refitted by one polish from the point estimate
        (:func:`scalelib.profile_fit.polish_huber`); any other law is refitted by its
        forecaster (:func:`bootstrap_interval_fitter`).
    band
        ``"prediction"``: covers a new run; ``"confidence"``: the curve only.
    noise
        A new run's noise in a bootstrap prediction band: ``"residuals"`` (resampled
        residuals of the fit in ``log(-log Q)``) or ``"binomial"`` (evaluation noise
        ``sqrt(p (1 - p) / n_items)``, needs an ``n_items`` column). The analytic
        interval uses the residual variance.
    calibrate
        Add the extrapolation drift term, calibrated by :func:`estimate_drift_rate`
        (default). Without it, nominal 90% intervals undercover badly beyond the cut.
    n_resamples, seed, progress
        Bootstrap size (at least :data:`~scalelib.validation.MIN_BOOTSTRAP_RESAMPLES`,
        20; fewer raise ``ValueError``), seed, and whether to show a tqdm bar (after two
        seconds; set False in notebooks).
    compute_column
        Column with the compute C.
    drift_degrees_of_freedom
        Degrees of freedom of the drift term's Student-t quantile (analytic) or draws
        (bootstrap); the default is argued at :data:`DRIFT_DEGREES_OF_FREEDOM`.

    Returns
    -------
    IntervalFitter
    """
    law = registered_law(law)
    _check_option("interval", interval, ("analytic", "bootstrap"))
    if interval == "analytic":
        if not law.analytic_interval:
            analytic = " and ".join(name for name, known in REGISTERED_LAWS.items() if known.analytic_interval)
            raise ValueError(
                f"The analytic interval exists for the {analytic} law only; use interval='bootstrap' for {law.name!r}."
            )
        return _analytic_direct_interval_fitter(
            band=band, calibrate=calibrate, compute_column=compute_column,
            drift_degrees_of_freedom=drift_degrees_of_freedom,
        )
    if law.analytic_interval:
        bootstrap = _direct_law_bootstrap
    elif law.robust:
        bootstrap = partial(_robust_law_bootstrap, law)
    else:
        bootstrap = partial(_refit_bootstrap, law.forecaster(compute_column=compute_column))
    return _bootstrap_interval_fitter(
        bootstrap, band=band, noise=noise, calibrate=calibrate, n_resamples=n_resamples, seed=seed,
        progress=progress, compute_column=compute_column, method=f"{law.name}, bootstrap",
        drift_degrees_of_freedom=drift_degrees_of_freedom,
    )


def _analytic_direct_interval_fitter(
    *, band: Band, calibrate: bool, compute_column: str, drift_degrees_of_freedom: float = DRIFT_DEGREES_OF_FREEDOM,
) -> IntervalFitter:
    """The :data:`IntervalFitter` of :func:`direct_law_interval`, drift calibrated on the training rows."""
    _check_option("band", band, ("prediction", "confidence"))

    def fit(training_rows: pd.DataFrame) -> IntervalPredictor:
        compute = rows_compute(training_rows, compute_column)
        accuracy = training_rows["value"].to_numpy()
        chance = single_chance_level(training_rows)
        options = dict(
            chance=chance, labels=training_rows["run"].tolist(), band=band,
            drift_degrees_of_freedom=drift_degrees_of_freedom,
        )
        at_fitted_runs = direct_law_interval(  # refuses bad runs
            compute, accuracy, at_compute=compute, n_items=_rows_n_items(training_rows, training_rows), **options
        )
        drift_rate = 0.0
        if calibrate:
            residuals = transformed(accuracy, chance) - transformed(at_fitted_runs.predicted, chance)
            drift_rate = estimate_drift_rate(
                training_rows, direct_law_forecaster(compute_column=compute_column),
                noise_variance=float(np.sum(residuals**2) / (len(residuals) - 2)), compute_column=compute_column,
            )

        def predict(rows: pd.DataFrame, level: float = LEVEL) -> PredictionInterval:
            return direct_law_interval(
                compute, accuracy, at_compute=rows_compute(rows, compute_column), level=level,
                drift_rate=drift_rate, n_items=_rows_n_items(rows, training_rows), **options,
            )

        return predict

    return fit


def bootstrap_interval_fitter(
    fit: Fitter,
    *,
    band: Band = "prediction",
    noise: Noise = "residuals",
    calibrate: bool = True,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    progress: bool = True,
    compute_column: str = "flops",
) -> IntervalFitter:
    """An :data:`IntervalFitter` for any :data:`~scalelib.backtest.Fitter`, by a bootstrap over runs.

    Each resample of whole runs is refitted with ``fit`` itself (its full fit, every
    start), so this suits any forecaster: two-stage
    (:func:`scalelib.two_stage.two_stage_forecaster`), pass@k
    (:func:`scalelib.pass_at_k.pass_at_k_forecaster`, the rows of a run resampled
    together) ... Band, noise and calibration as in :func:`law_interval_fitter`; the
    interval is formed in ``log(-log Q)`` (:func:`transformed`). Slower than
    :func:`law_interval_fitter`, whose nonlinear laws refit from the point estimate.
    """
    return _bootstrap_interval_fitter(
        partial(_refit_bootstrap, fit), band=band, noise=noise, calibrate=calibrate, n_resamples=n_resamples,
        seed=seed, progress=progress, compute_column=compute_column, method="bootstrap",
    )


# --------------------------------------------------------------------------- use


def forecast_interval(
    fit: IntervalFitter,
    training_rows: pd.DataFrame,
    at_compute: ArrayLike,
    *,
    level: float = LEVEL,
    compute_column: str = "flops",
) -> PredictionInterval:
    """Fit one benchmark's training rows and return the interval at ``at_compute`` (e.g. a grid for a figure).

    The forecast rows carry only the compute column, plus ``n_items`` copied from the
    training rows if present; laws needing more columns (the ratio law's N and D) need
    their rows built by the caller and passed to the fitted predictor directly.
    """
    return fit(training_rows.copy())(forecast_rows(training_rows, at_compute, compute_column), level)


def interval_forecasts(
    frame: pd.DataFrame,
    fit: IntervalFitter,
    *,
    compute_cut: float,
    level: float = LEVEL,
    compute_column: str = "flops",
) -> dict[str, Callable[[ArrayLike], PredictionInterval]]:
    """Fit each benchmark's runs with ``C <= compute_cut``; return its interval as a function of compute.

    :func:`scalelib.backtest.forecasts_below_cut` with intervals at ``level``
    (:func:`scalelib.figures.plot_forecasts` shades what these functions return).

    Returns
    -------
    dict
        ``{benchmark: interval_at(compute) -> PredictionInterval}``; benchmarks the
        fitter refuses are left out.
    """
    level = _check_level(level)

    def fit_at_level(training_rows: pd.DataFrame) -> Callable[[pd.DataFrame], PredictionInterval]:
        predict = fit(training_rows)
        return lambda rows: predict(rows, level)

    return forecasts_below_cut(frame, fit_at_level, compute_cut=compute_cut, compute_column=compute_column)


INTERVAL_ROW = "interval_row"
"""Temporary column tagging each frame row, so intervals can be matched to backtest rows."""


def backtest_split_intervals(
    frame: pd.DataFrame,
    fit: IntervalFitter,
    *,
    held_out: pd.Series,
    split: str,
    level: float = LEVEL,
    sort_column: str = "flops",
    extra_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """:func:`scalelib.backtest.backtest_split` with intervals and a coverage column.

    The interval fitter runs through :func:`~scalelib.backtest.backtest_split` itself
    (same grouping; a benchmark whose training rows it refuses is skipped, with the
    reason), its point forecast as ``predicted``.

    Returns
    -------
    pandas.DataFrame
        The backtest result plus ``lower``, ``upper`` (raw accuracy), ``width_points``
        (100 x (upper - lower)) and ``covered`` (``lower <= observed <= upper``; missing
        for skipped benchmarks).
    """
    level = _check_level(level)
    bounds: dict[int, tuple[float, float]] = {}

    def point_fit(training_rows: pd.DataFrame) -> Predictor:
        predict_interval = fit(training_rows)

        def predict(rows: pd.DataFrame) -> np.ndarray:
            interval = predict_interval(rows, level)
            bounds.update(zip(rows[INTERVAL_ROW], zip(interval.lower, interval.upper)))
            return interval.predicted

        return predict

    tagged = frame.assign(**{INTERVAL_ROW: np.arange(len(frame))})
    result = backtest_split(
        tagged, point_fit, held_out=held_out, split=split, sort_column=sort_column,
        extra_columns=[*extra_columns, INTERVAL_ROW],
    )
    interval_bounds = np.array([bounds.get(row, (np.nan, np.nan)) for row in result[INTERVAL_ROW]]).reshape(-1, 2)
    result = result.drop(columns=INTERVAL_ROW)
    position = result.columns.get_loc("error_points") + 1
    covered = (interval_bounds[:, 0] <= result["observed"]) & (result["observed"] <= interval_bounds[:, 1])
    for offset, (name, values) in enumerate({
        "lower": interval_bounds[:, 0],
        "upper": interval_bounds[:, 1],
        "width_points": 100.0 * (interval_bounds[:, 1] - interval_bounds[:, 0]),
        "covered": pd.array(np.where(result["status"] == "ok", covered, pd.NA), dtype="boolean"),
    }.items()):
        result.insert(position + offset, name, values)
    result["level"] = level
    return result


def backtest_intervals(
    frame: pd.DataFrame,
    fit: IntervalFitter,
    *,
    compute_cut: float,
    level: float = LEVEL,
    compute_column: str = "flops",
) -> pd.DataFrame:
    """Backtest with intervals: fit on runs with ``C <= compute_cut``, cover the runs above.

    The interval counterpart of :func:`scalelib.backtest.backtest`: columns as
    :func:`backtest_split_intervals`, plus ``compute_cut``. Summarise with
    :func:`summarise_intervals`.
    """
    if compute_column not in frame.columns:
        raise ValueError(f"Backtest frame lacks required columns: {[compute_column]}.")
    result = backtest_split_intervals(
        frame, fit, held_out=frame[compute_column] > compute_cut, split=f"C <= {compute_cut:.0e}",
        level=level, sort_column=compute_column,
    )
    result.insert(result.columns.get_loc("n_train"), "compute_cut", compute_cut)
    return result


def summarise_intervals(result: pd.DataFrame, by: Sequence[str] | None = None) -> pd.DataFrame:
    """Coverage and width of a backtest's intervals, per benchmark (default) or per ``by``.

    Parameters
    ----------
    result
        :func:`backtest_intervals` or :func:`backtest_split_intervals` output (several
        may be concatenated).
    by
        Grouping columns; default ``(mixture,) benchmark, split``, the keys of
        :func:`scalelib.backtest.summarise_backtest`, whose columns are included.

    Returns
    -------
    pandas.DataFrame
        ``n_covered``, ``coverage`` (share of the fitted held-out rows inside their
        interval; compare with ``level``) and ``mean_width_points``, per group; with the
        default grouping also the error summary of
        :func:`~scalelib.backtest.summarise_backtest`.
    """
    keys = [*_group_columns(result), "split"] if by is None else list(by)
    fitted = result[result["status"] == "ok"].astype({"covered": bool})
    coverage = fitted.groupby(keys, sort=True).agg(
        n_covered=("covered", "sum"),
        coverage=("covered", "mean"),
        mean_width_points=("width_points", "mean"),
        level=("level", "first"),
    ).reset_index()
    if by is not None:
        counts = fitted.groupby(keys, sort=True).size().rename("n_held_out").reset_index()
        return counts.merge(coverage, on=keys)
    return summarise_backtest(result).merge(coverage, on=keys, how="left")
