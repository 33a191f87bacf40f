"""The extrapolation drift of the intervals, calibrated by backtests inside the training runs.

No law is exact, and its error grows with the distance :math:`d_0` (in e-folds of
compute) beyond the fitted runs. The rate :math:`\\tau` of that growth is calibrated
by rolling-origin backtests inside the training runs: the law is refitted on the runs
below several inner cuts (:data:`ROLLING_ORIGIN_FRACTIONS`) and its errors on the runs
above them (:func:`inner_backtest_errors`) are compared with what noise alone explains
(:func:`estimate_drift_rate`). No held-out run is used.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from scalelib.interfaces import Forecaster, single_chance_level
from scalelib.interfaces import extrapolation_distance, rows_compute
from scalelib.laws.interval_math import transformed
from scalelib.data.normalise import ScalingDataError

__all__ = ["ROLLING_ORIGIN_FRACTIONS", "estimate_drift_rate", "inner_backtest_errors", "relative_reach_drift_rate"]

ROLLING_ORIGIN_FRACTIONS = tuple(float(f) for f in np.linspace(0.1, 0.5, 9))
"""Inner cuts of :func:`estimate_drift_rate`: each holds out the runs in the top fraction
``f`` of the training runs' log-compute range (10%, 15%, ... 50%)."""


def inner_backtest_errors(
    training_rows: pd.DataFrame,
    fit: Forecaster,
    *,
    compute_column: str = "flops",
    fractions: Sequence[float] = ROLLING_ORIGIN_FRACTIONS,
) -> pd.DataFrame:
    """The rolling-origin backtests inside the training runs that calibrate the drift rate.

    For each fraction ``f`` of ``fractions``, the law is fitted to the training runs
    below the inner cut :math:`\\log C_{\\max} - f (\\log C_{\\max} - \\log C_{\\min})`
    and forecasts the training runs above it, as :func:`scalelib.evaluation.backtest.backtest`
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
        the law cannot fit (a :class:`~scalelib.data.normalise.ScalingDataError`) contribute
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
    training_rows: pd.DataFrame, fit: Forecaster, is_inner: np.ndarray, compute_column: str, chance: float,
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
    fit: Forecaster,
    *,
    noise_variance: float,
    compute_column: str = "flops",
    fractions: Sequence[float] = ROLLING_ORIGIN_FRACTIONS,
) -> float:
    """Calibrate the extrapolation drift rate tau by rolling-origin backtests in the training runs.

    For each fraction ``f``, the law is fitted to the training runs below the inner cut
    :math:`\\log C_{\\max} - f (\\log C_{\\max} - \\log C_{\\min})` and forecasts the
    training runs above it (:func:`scalelib.evaluation.backtest.backtest`). With :math:`e_j` the
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
        One benchmark's training rows (columns of :func:`scalelib.evaluation.backtest.backtest`).
    fit
        The law's point :data:`~scalelib.interfaces.Forecaster`.
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


def relative_reach_drift_rate(inner: pd.DataFrame) -> float:
    """tau (points per fitted span): inner squared error beyond evaluation noise, per squared relative reach.

    :math:`\\tau^2 = \\sum_j \\max(0, e_j^2 - \\sigma_j^2) / \\sum_j r_j^2` over the inner
    forecasts of ``inner`` (columns ``error_points``, ``noise_points``, ``distance_decades``,
    ``span_decades``), with reach :math:`r_j` = the distance beyond the inner fit's largest
    run over the log-compute span of the runs that fit saw (both in decades). Used by
    :mod:`scalelib.evaluation.auto_forecast`.
    """
    distance = np.maximum(inner["distance_decades"].to_numpy(float), 0.0) / inner["span_decades"].to_numpy(float)
    noise = np.nan_to_num(inner["noise_points"].to_numpy(float))
    excess = np.maximum(0.0, inner["error_points"].to_numpy(float) ** 2 - noise**2)
    return float(np.sqrt(excess.sum() / max(float(np.sum(distance**2)), 1e-12)))
