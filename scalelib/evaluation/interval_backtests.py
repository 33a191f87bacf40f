"""Intervals in use: at given compute, per benchmark below a cut, and their coverage in backtests.

* :func:`forecast_interval` -- an interval at given compute;
* :func:`interval_forecasts` -- one fit per benchmark below a cut, its interval as a
  function of compute (for a figure);
* :func:`backtest_intervals`, :func:`backtest_split_intervals` -- the backtests of
  :mod:`scalelib.evaluation.backtest` with intervals and a coverage column;
* :func:`summarise_intervals` -- coverage and width per benchmark.

They take any :data:`~scalelib.interfaces.IntervalFitter`
(:mod:`scalelib.evaluation.interval_fitters`) and import no law.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from scalelib.interfaces import Predictor
from scalelib.evaluation.backtest import (
    _group_columns,
    backtest_split,
    forecast_rows,
    forecasts_below_cut,
    summarise_backtest,
)
from scalelib.interfaces import IntervalFitter, PredictionInterval
from scalelib.laws.interval_math import LEVEL, _check_level

__all__ = [
    "forecast_interval",
    "interval_forecasts",
    "backtest_split_intervals",
    "backtest_intervals",
    "summarise_intervals",
]


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

    :func:`scalelib.evaluation.backtest.forecasts_below_cut` with intervals at ``level``
    (:func:`scalelib.plots.figures.plot_forecasts` shades what these functions return).

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
    """:func:`scalelib.evaluation.backtest.backtest_split` with intervals and a coverage column.

    The interval fitter runs through :func:`~scalelib.evaluation.backtest.backtest_split` itself
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

    The interval counterpart of :func:`scalelib.evaluation.backtest.backtest`: columns as
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
        :func:`scalelib.evaluation.backtest.summarise_backtest`, whose columns are included.

    Returns
    -------
    pandas.DataFrame
        ``n_covered``, ``coverage`` (share of the fitted held-out rows inside their
        interval; compare with ``level``) and ``mean_width_points``, per group; with the
        default grouping also the error summary of
        :func:`~scalelib.evaluation.backtest.summarise_backtest`.
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
