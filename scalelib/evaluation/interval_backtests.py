"""Intervals in use: at given compute, and their coverage in backtests.

* :func:`forecast_interval` -- an interval at given compute;
* :func:`at_level` -- the same interval forecaster at another level, from the same fits;
* :func:`summarise_intervals` -- coverage and width per benchmark of a backtest of
  intervals (:func:`scalelib.evaluation.backtest.backtest` with an interval forecaster,
  whose predictor returns a :class:`~scalelib.interfaces.PredictionInterval`).

They take any interval :data:`~scalelib.interfaces.Forecaster`
(:mod:`scalelib.evaluation.interval_forecasters`) and import no law.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from numpy.typing import ArrayLike

from scalelib.evaluation.backtest import _group_columns, forecast_rows, summarise_backtest
from scalelib.interfaces import Forecaster, PredictionInterval
from scalelib.laws.interval_math import _check_level

__all__ = ["forecast_interval", "at_level", "summarise_intervals"]


def forecast_interval(
    forecaster: Forecaster,
    training_rows: pd.DataFrame,
    at_compute: ArrayLike,
    *,
    compute_column: str = "flops",
) -> PredictionInterval:
    """Fit one benchmark's training rows and return the interval at ``at_compute`` (e.g. a grid for a figure).

    ``forecaster`` is an interval forecaster; the interval is at its level. The forecast
    rows carry only the compute column, plus ``n_items`` copied from the training rows
    if present; laws needing more columns (the ratio law's N and D) need their rows
    built by the caller and passed to the fitted predictor directly.
    """
    return forecaster(training_rows.copy())(forecast_rows(training_rows, at_compute, compute_column))


def at_level(forecaster: Forecaster, level: float) -> Forecaster:
    """The interval forecaster ``forecaster``, its predictor giving intervals at ``level``.

    An interval's level enters only when it is predicted (``predict(rows, level=...)``),
    so backtests at several levels can share one set of fits: wrap the forecaster in
    :func:`~scalelib.evaluation.backtest.fit_once` once and pass ``at_level(cached,
    level)`` to each backtest.

    Parameters
    ----------
    forecaster
        A :data:`~scalelib.interfaces.Forecaster` whose predictor returns a
        :class:`~scalelib.interfaces.PredictionInterval` and takes ``level``.
    level
        The central probability of the intervals, in (0, 1).
    """
    level = _check_level(level)

    def forecast(training_rows: pd.DataFrame):
        predict = forecaster(training_rows)
        return lambda rows: predict(rows, level=level)

    return forecast


def summarise_intervals(result: pd.DataFrame, by: Sequence[str] | None = None) -> pd.DataFrame:
    """Coverage and width of a backtest's intervals, per benchmark (default) or per ``by``.

    Parameters
    ----------
    result
        Output of :func:`scalelib.evaluation.backtest.backtest` or
        :func:`~scalelib.evaluation.backtest.backtest_split` with an interval forecaster
        (columns ``covered``, ``width_points`` and ``level``; several may be concatenated).
        A backtest in which the forecaster refused every benchmark has no interval
        columns; its coverage and width are missing.
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
    unknown = [name for name in ("width_points", "covered", "level") if name not in result.columns]
    if unknown and (result["status"] == "ok").any():
        raise ValueError(f"Not a backtest of intervals: no {unknown} columns (the forecaster predicts points).")
    fitted = result[result["status"] == "ok"].reindex(columns=[*result.columns, *unknown]).astype({"covered": bool})
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
