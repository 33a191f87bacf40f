"""Eq. 2's intervals in closed form: the analytic OLS interval, its variance terms, the vectorised bootstrap.

Eq. 2 is a straight line in :math:`y = \\log(-\\log Q)` against :math:`\\log C`,
fitted by ordinary least squares (:func:`scalelib.laws.direct_law_fit.fit_direct_law`), so its
interval has the textbook form (:func:`direct_law_interval`, its three variance terms
:func:`direct_law_variance_terms`) and its bootstrap over runs is a few array
operations for all resamples at once (:func:`direct_law_bootstrap`). On rows, as
:data:`scalelib.laws.direct_law.DIRECT_LAW` offers them to
:func:`scalelib.evaluation.interval_forecasters.law_interval_forecaster`: the analytic interval forecaster
(:func:`direct_law_interval_forecaster`, drift calibrated) and the bootstrap curves
(:func:`direct_law_bootstrap_curves`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from scalelib.interfaces import single_chance_level
from scalelib.laws.direct_law_fit import direct_law_forecaster, fit_direct_law
from scalelib.laws.drift_calibration import estimate_drift_rate
from scalelib.interfaces import (
    Forecaster,
    IntervalPredictor,
    PredictionInterval,
    extrapolation_distance,
    rows_compute,
)
from scalelib.laws.interval_math import (
    DRIFT_DEGREES_OF_FREEDOM,
    LEVEL,
    MIN_INTERVAL_RUNS,
    N_RESAMPLES,
    Band,
    _check_interval_runs,
    _check_level,
    _check_option,
    _fitted_range,
    _interval_from_y,
    _lies_on_the_law,
    _rows_n_items,
    _t_quantile,
    _with_evaluation_noise_floor,
    resample_runs,
    transformed,
)
from scalelib.data.normalise import log_compute_offset
from scalelib.data.validation import check_compute

__all__ = [
    "direct_law_interval",
    "direct_law_variance_terms",
    "direct_law_bootstrap",
    "direct_law_interval_forecaster",
    "direct_law_bootstrap_curves",
]


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
    :func:`scalelib.laws.direct_law_fit.fit_direct_law`) has, at :math:`x_0 = \\log C_0`, the
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
        The runs, as for :func:`scalelib.laws.direct_law_fit.fit_direct_law`.
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
        The runs, as for :func:`scalelib.laws.direct_law_fit.fit_direct_law`.
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
        On inputs the law refuses (see :func:`scalelib.data.normalise.validate_law_inputs`).
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



def direct_law_interval_forecaster(
    *,
    band: Band = "prediction",
    calibrate: bool = True,
    compute_column: str = "flops",
    drift_degrees_of_freedom: float = DRIFT_DEGREES_OF_FREEDOM,
    level: float = LEVEL,
) -> Forecaster:
    """The interval :data:`~scalelib.interfaces.Forecaster` of :func:`direct_law_interval` on rows, at ``level``.

    Eq. 2's :attr:`~scalelib.interfaces.Law.analytic_interval_forecaster`: the drift rate is
    calibrated on the training rows (:func:`~scalelib.laws.drift_calibration.estimate_drift_rate`,
    noise variance the residual variance ``s^2``) unless ``calibrate=False``, the
    textbook OLS interval.
    """
    _check_option("band", band, ("prediction", "confidence"))
    default_level = _check_level(level)

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

        def predict(rows: pd.DataFrame, level: float = default_level) -> PredictionInterval:
            return direct_law_interval(
                compute, accuracy, at_compute=rows_compute(rows, compute_column), level=level,
                drift_rate=drift_rate, n_items=_rows_n_items(rows, training_rows), **options,
            )

        return predict

    return fit


def direct_law_bootstrap_curves(
    training_rows: pd.DataFrame, rows: pd.DataFrame, *, n_resamples: int = N_RESAMPLES, seed: int = 0,
    compute_column: str = "flops",
) -> np.ndarray:
    """:func:`direct_law_bootstrap` on rows: Eq. 2's :attr:`~scalelib.interfaces.Law.bootstrap_curves`.

    Returns
    -------
    numpy.ndarray
        ``(n_resamples, len(rows))`` bootstrap values of ``log(-log Q)`` at the compute of
        ``rows``, the law fitted to resamples of ``training_rows``' runs.
    """
    return direct_law_bootstrap(
        rows_compute(training_rows, compute_column), training_rows["value"].to_numpy(),
        chance=single_chance_level(training_rows), at_compute=rows_compute(rows, compute_column),
        n_resamples=n_resamples, seed=seed, labels=training_rows["run"].tolist(),
    )
