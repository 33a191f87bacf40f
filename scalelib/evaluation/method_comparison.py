"""Several forecasting methods backtested on identical splits, and their errors side by side.

Every method enters as a :data:`scalelib.interfaces.Forecaster` (of point forecasts or of
intervals), so the direct law and every two-stage route
(:mod:`scalelib.evaluation.two_stage`, :mod:`scalelib.evaluation.task_loss`) run through the same
:func:`scalelib.evaluation.backtest.backtest` on the same rows and cuts.
:func:`backtest_methods` runs them, :func:`summarise_methods` and :func:`head_to_head` set their mean absolute errors

.. math::

    \\mathrm{MAE}_m = \\frac{1}{n} \\sum_{i=1}^{n} \\big|\\hat y_{m,i} - y_i\\big|
    \\quad\\text{(accuracy points, over the } n \\text{ held-out runs)}

side by side, :func:`interval_comparison` the coverage and width of their intervals,
and :func:`forecast_curves` returns each method's forecast as a function of compute for
figures. Which method *wins* a benchmark, with ties within the evaluation noise and
refusals counted, is :mod:`scalelib.evaluation.win_counts`' business.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from scalelib.interfaces import Forecaster, PredictionInterval
from scalelib.evaluation.backtest import above_chance_only, backtest_at_cuts, forecasts_below_cut, summarise_backtest
from scalelib.data.benchmark_info import BENCHMARKS
from scalelib.evaluation.intervals import summarise_intervals

__all__ = [
    "backtest_methods",
    "forecast_curves",
    "head_to_head",
    "interval_comparison",
    "summarise_methods",
]


def backtest_methods(
    frame: pd.DataFrame,
    forecasters: dict[str, Forecaster],
    compute_cuts: dict[str, Sequence[float]],
) -> pd.DataFrame:
    """Backtest several methods on identical splits: every method, every mixture, every cut.

    Every method is fitted on the training rows strictly above chance
    (:func:`scalelib.evaluation.backtest.above_chance_only`: the same rows for all), and every
    held-out row of ``frame`` is scored at its observed value, at or below chance too.

    Parameters
    ----------
    frame
        One row per (run, benchmark) with a ``mixture`` column (and the loss columns
        if two-stage methods are among ``forecasters``).
    forecasters
        ``{method label: Forecaster}``, e.g. the direct law and :func:`two_stage_forecasters`;
        or forecasters of intervals, e.g.
        ``scalelib.evaluation.intervals.law_interval_forecaster("direct")`` and
        ``bootstrap_interval_forecaster(two_stage_forecaster(fit_logistic_map))``.
    compute_cuts
        ``{mixture: cuts}``: runs with C <= cut are fitted, the others held out.

    Returns
    -------
    pandas.DataFrame
        The concatenated :func:`scalelib.evaluation.backtest.backtest` results (with
        ``lower``, ``upper``, ``width_points`` and ``covered`` for intervals) and a first
        column ``method``; summarise errors with :func:`summarise_methods`, intervals
        with :func:`interval_comparison` or
        :func:`scalelib.evaluation.intervals.summarise_intervals`.
    """
    combined = pd.concat([
        backtest_at_cuts(frame, above_chance_only(forecaster), compute_cuts).assign(method=method)
        for method, forecaster in forecasters.items()
    ], ignore_index=True)
    return combined[["method", *combined.columns.drop("method")]]


def interval_comparison(
    results: pd.DataFrame, *, by: Sequence[str] = ("mixture", "split"), across: str = "method"
) -> pd.DataFrame:
    """Coverage and mean width of several interval methods side by side, one row per group.

    Parameters
    ----------
    results
        :func:`backtest_methods` output for forecasters of intervals (or several
        :func:`scalelib.evaluation.backtest.backtest` results of intervals concatenated with
        a column ``across``).
    by
        Grouping columns of the rows, e.g. ``("mixture", "split")`` or
        ``("mixture", "benchmark")``.
    across
        The column whose values become the table's columns (default ``method``), in
        order of appearance.

    Returns
    -------
    pandas.DataFrame
        Columns ``(statistic, value of across)`` for the statistics ``n_held_out``
        (held-out rows with an interval; missing if that method refused the whole group),
        ``coverage`` and ``mean_width_points`` of
        :func:`scalelib.evaluation.intervals.summarise_intervals`.
    """
    labels = list(dict.fromkeys(results[across]))
    summary = summarise_intervals(results, by=[*by, across])
    table = summary.pivot(index=list(by), columns=across, values=["n_held_out", "coverage", "mean_width_points"])
    table = table.reindex(columns=labels, level=across)
    table["n_held_out"] = table["n_held_out"].astype("Int64")
    return table


def summarise_methods(results: pd.DataFrame) -> pd.DataFrame:
    """:func:`scalelib.evaluation.backtest.summarise_backtest` of each method of :func:`backtest_methods`.

    Returns
    -------
    pandas.DataFrame
        One row per (method, mixture, benchmark, split), with ``task_type`` added.
    """
    summaries = [
        summarise_backtest(rows.drop(columns="method")).assign(method=method)
        for method, rows in results.groupby("method", sort=False)
    ]
    summary = pd.concat(summaries, ignore_index=True)
    summary["task_type"] = summary["benchmark"].map(lambda name: BENCHMARKS[name].task_type)
    return summary[["method", *summary.columns.drop("method")]]


def head_to_head(summary: pd.DataFrame, *, statistic: str = "mean_abs_error") -> pd.DataFrame:
    """One row per (mixture, split, benchmark), one column per method, and the winner.

    Parameters
    ----------
    summary
        :func:`summarise_methods` output.
    statistic
        The column compared (default: mean absolute error, accuracy points).

    Returns
    -------
    pandas.DataFrame
        Methods as columns in their order of appearance (NaN where a method refused the
        benchmark), ``task_type``, and ``best``: the method with the smallest value
        among those that forecast the benchmark (NaN if none did).
    """
    methods = list(dict.fromkeys(summary["method"]))
    table = summary.pivot(index=["mixture", "split", "benchmark"], columns="method", values=statistic)[methods]
    table.columns.name = None
    table["task_type"] = table.index.get_level_values("benchmark").map(lambda name: BENCHMARKS[name].task_type)
    forecast = table[methods].dropna(how="all")
    table["best"] = forecast.idxmin(axis=1).reindex(table.index)
    return table


def forecast_curves(
    frame: pd.DataFrame, forecasters: dict[str, Forecaster], *, compute_cut: float
) -> dict[str, dict[str, Callable[[np.ndarray], np.ndarray | PredictionInterval]]]:
    """Fit each method per benchmark on runs with C <= cut; return curves accuracy(C).

    For :func:`scalelib.plots.figures.plot_forecasts`. ``frame`` holds one mixture. The forecasters
    must predict from compute alone (the direct law, two-stage without oracle loss). A
    forecaster of intervals gives curves that return the
    :class:`~scalelib.interfaces.PredictionInterval` at its level, which the figure shades.

    Returns
    -------
    dict
        ``{method: {benchmark: predict(compute) -> accuracy or PredictionInterval}}``;
        benchmarks a method refuses (:class:`~scalelib.data.normalise.ScalingDataError`)
        are left out.
    """
    return {
        method: forecasts_below_cut(frame, forecaster, compute_cut=compute_cut)
        for method, forecaster in forecasters.items()
    }
