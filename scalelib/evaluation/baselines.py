"""Naive baselines every law must beat, as forecasting studies report them.

Two forecasts that know nothing of scaling laws, fitted on the same training runs as
the laws (Owen 2024 reports both next to every law):

* **a straight line** of accuracy against log compute, ``p = a + b log C``, fitted by
  least squares (:func:`line_forecaster`);
* **the last observed score**: the accuracy of the largest training run, carried
  forward unchanged (:func:`last_score_forecaster`).

Both are :data:`~scalelib.interfaces.Forecaster` objects for :func:`scalelib.evaluation.backtest.backtest`.
They see every training run, including runs at or below chance (neither transforms
the score), and their forecasts are not kept inside (chance, 1): a baseline is
meant to be naive.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scalelib.interfaces import Forecaster, Predictor
from scalelib.data.validation import ScalingDataError, check_compute

__all__ = ["BASELINES", "last_score_forecaster", "line_forecaster", "line_slope_t_statistic"]


def line_forecaster(*, compute_column: str = "flops") -> Forecaster:
    """A straight line of accuracy against log compute, ``p = a + b log C``.

    Fitted by ordinary least squares (``numpy.polyfit``, degree 1) on every training
    row; the baseline every law must beat.

    Raises
    ------
    ScalingDataError
        (from the forecaster) When the training runs have fewer than two distinct compute
        values.
    """

    def fit(training_rows: pd.DataFrame) -> Predictor:
        log_compute = np.log(check_compute(training_rows[compute_column].to_numpy(float), name=compute_column))
        if len(np.unique(log_compute)) < 2:
            raise ScalingDataError("A straight line needs runs at two compute values or more.")
        slope, intercept = np.polyfit(log_compute, training_rows["value"].to_numpy(float), 1)
        return lambda rows: intercept + slope * np.log(
            check_compute(rows[compute_column].to_numpy(float), name=compute_column)
        )

    return fit


def line_slope_t_statistic(rows: pd.DataFrame, compute_column: str = "flops") -> float:
    """The straight line's slope in standard errors: :math:`\\hat b / \\mathrm{se}(\\hat b)` of ``p = a + b log C``.

    Ordinary least squares on ``rows``; NaN with fewer than three distinct compute values,
    infinite for a perfect fit. :mod:`scalelib.evaluation.auto_forecast` asks it whether a benchmark
    has started to rise.
    """
    x = np.log10(rows[compute_column].to_numpy(float))
    y = rows["value"].to_numpy(float)
    if len(np.unique(x)) < 3:
        return float("nan")
    design = np.column_stack([np.ones_like(x), x])
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    residuals = y - design @ coefficients
    variance = residuals @ residuals / (len(y) - 2)
    slope_variance = variance * np.linalg.inv(design.T @ design)[1, 1]
    return float(coefficients[1] / np.sqrt(slope_variance)) if slope_variance > 0 else float("inf")


def last_score_forecaster(*, compute_column: str = "flops") -> Forecaster:
    """The last observed score: every forecast is the accuracy of the largest training run.

    With several training runs at the largest compute (repeats), their mean.

    Raises
    ------
    ScalingDataError
        (from the forecaster) When there are no training rows.
    """

    def fit(training_rows: pd.DataFrame) -> Predictor:
        if training_rows.empty:
            raise ScalingDataError("The last observed score needs at least one training run.")
        compute = check_compute(training_rows[compute_column].to_numpy(float), name=compute_column)
        last = float(training_rows["value"].to_numpy(float)[compute == compute.max()].mean())
        return lambda rows: np.full(len(rows), last)

    return fit


BASELINES = {"straight line": line_forecaster, "last score": last_score_forecaster}
"""The naive baselines by name, as forecaster factories."""
