"""Held-out backtests by a compute cut-off, for any law, of point forecasts and of intervals.

A backtest fits a law, benchmark by benchmark, on the runs with ``C <= compute_cut``
and compares its predictions with the observed accuracy of every run with
``C > compute_cut``. It knows nothing about the law: the law enters as a *forecaster*
(:data:`~scalelib.interfaces.Forecaster`),

.. code-block:: python

    forecaster(training_rows: DataFrame) -> predict(rows: DataFrame)
    predict(rows) -> np.ndarray  # raw accuracy, or a PredictionInterval

that receives all columns of one benchmark's training rows (``params``, ``tokens``,
``tpr``, ``n_items`` ... pass through, so laws needing them can use them). Every step
takes forecasters of point forecasts and of intervals alike: a predictor returning a
:class:`~scalelib.interfaces.PredictionInterval` adds the interval's columns (bounds,
width, coverage) to the backtest.
:func:`~scalelib.interfaces.law_forecaster` turns any ``fit_<law>(compute, accuracy, *, chance, labels)``
into a forecaster; each law module exposes a ready-made one.
:func:`above_chance_only` makes a forecaster drop its training rows at or below chance
while every held-out run is still scored at its observed value: which runs are scored
must not depend on their outcome.
:func:`forecasts_below_cut` fits the same way and returns each benchmark's forecast as a
function of compute, for figures. :func:`fit_once` makes a forecaster fit each distinct
set of training rows once, however many backtests, figures and levels ask for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from scalelib.data.normalise import ScalingDataError, drop_at_or_below_chance, evaluation_noise_points
from scalelib.data.validation import check_compute, check_numeric_columns, check_unique_index
from scalelib.interfaces import Forecaster, PredictionInterval, Predictor

REQUIRED_COLUMNS = ("run", "benchmark", "value", "chance")


def above_chance_only(forecaster: Forecaster) -> Forecaster:
    """``forecaster`` on the training rows strictly above chance: the book's default treatment of a law.

    The held-out rows are not touched, so a backtest with this forecaster scores every
    held-out run, at or below chance too (dropping those before the split would select
    the held-out runs on their outcome). Works for point and interval forecasters alike.
    """

    def fit_above_chance(training_rows: pd.DataFrame) -> Predictor:
        kept, _ = drop_at_or_below_chance(training_rows)
        if kept.empty and len(training_rows):
            raise ScalingDataError(
                f"All {len(training_rows)} training runs are at or below chance: there is nothing to fit."
            )
        return forecaster(kept)

    return fit_above_chance


def _group_columns(frame: pd.DataFrame) -> list[str]:
    """A backtest fits one law per benchmark, and per mixture if the frame has several."""
    return ["mixture", "benchmark"] if "mixture" in frame.columns else ["benchmark"]


def backtest(
    frame: pd.DataFrame, forecaster: Forecaster, *, compute_cut: float, compute_column: str = "flops"
) -> pd.DataFrame:
    """Fit on runs with ``C <= compute_cut`` and predict every run above the cut.

    The compute-cut case of :func:`backtest_split`: one law is fitted per benchmark (per
    ``(mixture, benchmark)`` when the frame has a ``mixture`` column); the forecaster sees
    only that benchmark's training rows, with all their columns; the held-out rows are
    passed to the returned predictor only. Frames must hold one metric per benchmark
    for laws that expect one row per run.

    Parameters
    ----------
    frame
        Tidy frame, one row per (run, benchmark), with at least columns ``run``,
        ``benchmark``, ``compute_column``, ``value`` (raw accuracy) and ``chance``.
    forecaster
        A :data:`~scalelib.interfaces.Forecaster` of point forecasts, e.g.
        ``direct_law_forecaster()``, or of intervals, e.g.
        ``scalelib.evaluation.intervals.law_interval_forecaster("direct")``.
    compute_cut
        Runs with compute ``<= compute_cut`` are fitted, the others held out.
    compute_column
        Column holding the compute used for the cut.

    Returns
    -------
    pandas.DataFrame
        As :func:`backtest_split` (with the interval columns for a forecaster of
        intervals), with ``split`` = ``"C <= {compute_cut:.0e}"`` and an extra column
        ``compute_cut``. Summarise with :func:`summarise_backtest` (errors) or
        :func:`scalelib.evaluation.intervals.summarise_intervals` (coverage and width).

    Raises
    ------
    ScalingDataError
        If any compute is NaN (such a row would be neither fitted nor held out),
        infinite, non-positive or not a number, and as :func:`backtest_split`.
    """
    if compute_column not in frame.columns:
        raise ValueError(f"Backtest frame lacks required columns: {[compute_column]}.")
    check_numeric_columns(frame, [compute_column])
    no_compute = frame[compute_column].isna()
    if no_compute.any():
        runs = sorted(frame.loc[no_compute, "run"].unique())
        raise ScalingDataError(
            f"NaN {compute_column} for run {runs}: such rows are neither fitted nor held "
            "out; drop them explicitly."
        )
    check_compute(frame[compute_column], name=compute_column,
                  labels=frame["run"].to_numpy() if "run" in frame.columns else None)
    result = backtest_split(
        frame, forecaster, held_out=frame[compute_column] > compute_cut,
        split=f"C <= {compute_cut:.0e}", sort_column=compute_column,
    )
    result.insert(result.columns.get_loc("n_train"), "compute_cut", compute_cut)
    return result


def backtest_at_cuts(
    frame: pd.DataFrame, forecaster: Forecaster, compute_cuts: Mapping[str, Sequence[float]]
) -> pd.DataFrame:
    """:func:`backtest` of one law on each mixture at each of its compute cuts, results concatenated.

    Parameters
    ----------
    frame
        Rows of several mixtures (column ``mixture``).
    forecaster
        The :data:`~scalelib.interfaces.Forecaster` (of point forecasts or of intervals).
    compute_cuts
        ``{mixture: cuts}``, e.g. ``{"dclm": [1e21, 1e22], "c4": [1e20, 1e21]}``.
    """
    return pd.concat([
        backtest(frame[frame["mixture"] == mixture], forecaster, compute_cut=cut)
        for mixture, cuts in compute_cuts.items() for cut in cuts
    ], ignore_index=True)


def forecast_rows(training_rows: pd.DataFrame, compute: ArrayLike, compute_column: str = "flops") -> pd.DataFrame:
    """Rows to forecast at ``compute``: the compute column, and ``n_items`` of the training rows if present.

    Enough for every law of compute alone (not for the ratio law, which needs N and D,
    nor for pass@k, which needs k). Refuses compute that is not a finite number > 0
    (:class:`~scalelib.data.normalise.ScalingDataError`).
    """
    rows = pd.DataFrame({compute_column: np.atleast_1d(check_compute(compute, name=compute_column))})
    if "n_items" in training_rows.columns:
        rows["n_items"] = training_rows["n_items"].iloc[0]
    return rows


def forecasts_below_cut(
    frame: pd.DataFrame, forecaster: Forecaster, *, compute_cut: float, compute_column: str = "flops"
) -> dict[str, Callable[[ArrayLike], np.ndarray | PredictionInterval]]:
    """Fit each benchmark's rows with ``C <= compute_cut``; return its forecast as a function of compute.

    The figure counterpart of :func:`backtest` (same fits), for
    :func:`scalelib.plots.figures.plot_forecasts`, which draws point forecasts as lines
    and shades intervals.

    Parameters
    ----------
    frame
        One mixture's rows (columns ``benchmark``, the compute, ``value``, ``chance`` ...).
    forecaster
        A :data:`~scalelib.interfaces.Forecaster` of point forecasts or of intervals.

    Returns
    -------
    dict
        ``{benchmark: forecast(compute)}``, ``forecast`` returning what the predictor
        returns for :func:`forecast_rows` at that compute (an array, or a
        :class:`~scalelib.interfaces.PredictionInterval` at the forecaster's level).
        Benchmarks whose training rows the forecaster refuses
        (:class:`~scalelib.data.normalise.ScalingDataError`) are left out.
    """
    check_numeric_columns(frame, [compute_column])
    training = frame[frame[compute_column] <= compute_cut]
    by_benchmark = {}
    for benchmark, rows in training.groupby("benchmark", sort=True):
        try:
            predict = forecaster(rows.copy())
        except ScalingDataError:
            continue
        by_benchmark[str(benchmark)] = (
            lambda compute, predict=predict, rows=rows: predict(forecast_rows(rows, compute, compute_column))
        )
    return by_benchmark


def _point_forecast(forecast: np.ndarray | PredictionInterval, key: object, n_rows: int) -> np.ndarray:
    """The point forecast of a predictor's output (an interval's ``predicted``), checked to have one value per row."""
    predicted = np.asarray(forecast.predicted if isinstance(forecast, PredictionInterval) else forecast, dtype=float)
    if predicted.shape != (n_rows,):
        raise ValueError(f"Predictor for {key} returned shape {predicted.shape}, expected ({n_rows},).")
    return predicted


def _add_interval_columns(result: pd.DataFrame, bounds: np.ndarray, level: float) -> pd.DataFrame:
    """Insert ``lower``, ``upper``, ``width_points`` and ``covered`` after ``error_points``; ``level`` last."""
    position = result.columns.get_loc("error_points") + 1
    covered = (bounds[:, 0] <= result["observed"]) & (result["observed"] <= bounds[:, 1])
    for offset, (name, values) in enumerate({
        "lower": bounds[:, 0],
        "upper": bounds[:, 1],
        "width_points": 100.0 * (bounds[:, 1] - bounds[:, 0]),
        "covered": pd.array(np.where(result["status"] == "ok", covered, pd.NA), dtype="boolean"),
    }.items()):
        result.insert(position + offset, name, values)
    result["level"] = level
    return result


def backtest_split(
    frame: pd.DataFrame,
    forecaster: Forecaster,
    *,
    held_out: pd.Series,
    split: str,
    sort_column: str = "flops",
    extra_columns: Sequence[str] = (),
) -> pd.DataFrame:
    """Fit on the rows not ``held_out`` and predict the held-out ones, per benchmark.

    The general backtest: the split is any boolean mask over the rows (a compute cut,
    one token-to-parameter ratio left out, the largest k of pass@k ...). One law is
    fitted per benchmark (per ``(mixture, benchmark)`` when the frame has a ``mixture``
    column) on that benchmark's training rows only, with all their columns; the
    held-out rows are passed to the returned predictor only, so no held-out run can
    leak into a fit.

    Parameters
    ----------
    frame
        Tidy frame, one row per (run, benchmark) (or per (run, benchmark, k) for
        pass@k), with at least columns ``run``, ``benchmark``, ``value`` (raw
        accuracy) and ``chance``.
    forecaster
        A :data:`~scalelib.interfaces.Forecaster`; its predictor returns point forecasts
        (an array) or a :class:`~scalelib.interfaces.PredictionInterval`, whose point
        forecast is the ``predicted`` column.
    held_out
        Boolean Series aligned with ``frame``: True for rows to predict.
    split
        A label for the split, copied to the ``split`` column of the result.
    sort_column
        Held-out rows are reported in this column's order (default compute; a stable
        sort, so ties keep the frame's order).
    extra_columns
        Further columns of ``frame`` copied to the result (for example ``k``).

    Returns
    -------
    pandas.DataFrame
        One row per held-out row, sorted by benchmark then ``sort_column``, with columns
        ``mixture`` (if present), ``benchmark``, ``run``, ``sort_column``, ``observed``,
        ``predicted`` (raw accuracy), ``error_points`` (100 x (predicted - observed)),
        ``split``, ``n_train`` (training rows passed to the forecaster; :func:`above_chance_only`
        fits those above chance among them), ``status`` and ``reason``; when the frame
        has an ``n_items`` column, also ``noise_points``: the evaluation noise of the
        observed accuracy p on n items, ``100 sqrt(p (1 - p) / n)``, the error a
        perfect forecast would still show. When the predictors return intervals, also
        ``lower``, ``upper`` (raw accuracy), ``width_points`` (100 x (upper - lower))
        and ``covered`` (``lower <= observed <= upper``; missing for skipped
        benchmarks) after ``error_points``, and ``level`` last. A benchmark
        whose training rows the law refuses, or whose held-out rows its predictor
        refuses (a :class:`~scalelib.data.normalise.ScalingDataError`: too few points,
        accuracy at or below chance, a ratio without training runs ...) is not dropped: its held-out rows have ``status="skipped"``,
        NaN predictions and the error message as ``reason``. Fitted benchmarks have
        ``status="ok"`` and an empty reason. Benchmarks with nothing held out
        contribute no rows. Other exceptions propagate.

    Raises
    ------
    ScalingDataError
        Before any fit, for a frame whose index repeats a label (rows could not be
        matched to their forecasts; reset it) or whose ``value`` or ``chance`` column
        holds anything but numbers.
    ValueError
        If the predictors return intervals of different levels.
    """
    missing = [c for c in (*REQUIRED_COLUMNS, sort_column, *extra_columns) if c not in frame.columns]
    if missing:
        raise ValueError(f"Backtest frame lacks required columns: {missing}.")
    check_unique_index(frame)
    check_numeric_columns(frame, ["value", "chance"])
    held_out = pd.Series(held_out, index=frame.index, dtype=bool)
    group_columns = _group_columns(frame)
    reports, bounds, levels = [], [], set()
    for key, rows in frame.groupby(group_columns, sort=True):
        is_held_out = held_out.loc[rows.index]
        predicted_rows = rows[is_held_out].sort_values(sort_column, kind="stable")
        if predicted_rows.empty:
            continue
        training = rows[~is_held_out]
        passed_through = list(dict.fromkeys([sort_column, *extra_columns]))
        report = predicted_rows[[*group_columns, "run", *passed_through]].copy()
        report["observed"] = predicted_rows["value"].to_numpy()
        report_bounds = np.full((len(predicted_rows), 2), np.nan)
        try:
            predict = forecaster(training.copy())
            forecast = predict(predicted_rows.copy())
        except ScalingDataError as error:  # refused by the fit, or by the predictor (e.g. an unseen ratio)
            report["predicted"] = np.nan
            report["status"] = "skipped"
            report["reason"] = str(error)
        else:
            report["predicted"] = _point_forecast(forecast, key, len(predicted_rows))
            report["status"] = "ok"
            report["reason"] = ""
            if isinstance(forecast, PredictionInterval):
                report_bounds = np.column_stack([forecast.lower, forecast.upper])
                levels.add(forecast.level)
        report["error_points"] = 100.0 * (report["predicted"] - report["observed"])
        if "n_items" in predicted_rows.columns:
            report["noise_points"] = evaluation_noise_points(report["observed"], predicted_rows["n_items"])
        report["split"] = split
        report["n_train"] = len(training)
        reports.append(report)
        bounds.append(report_bounds)
    columns = [
        *group_columns, "run", *dict.fromkeys([sort_column, *extra_columns]), "observed", "predicted", "error_points",
        *(["noise_points"] if "n_items" in frame.columns else []),
        "split", "n_train", "status", "reason",
    ]
    if not reports:
        return pd.DataFrame(columns=columns)
    result = pd.concat(reports, ignore_index=True)[columns]
    if len(levels) > 1:
        raise ValueError(f"The predictors returned intervals at several levels {sorted(levels)}; expected one.")
    if levels:
        result = _add_interval_columns(result, np.concatenate(bounds), levels.pop())
    return result


def summarise_backtest(result: pd.DataFrame) -> pd.DataFrame:
    """Per-benchmark error summary of a :func:`backtest` result, in accuracy points.

    Parameters
    ----------
    result
        The frame returned by :func:`backtest` or :func:`backtest_split` (several cuts
        may be concatenated).

    Returns
    -------
    pandas.DataFrame
        One row per benchmark (and mixture, if present) and split: ``n_held_out``,
        ``mean_abs_error``, ``max_abs_error``, ``bias`` (mean of predicted -
        observed), all over the held-out runs in accuracy points, plus ``n_train``,
        ``status`` and ``reason``; with ``noise_points`` in the result, also
        ``noise_floor``, its mean: errors near it are as good as evaluation noise allows.
        Skipped benchmarks keep their row, with NaN errors.
    """
    keys = [*_group_columns(result), "split"]
    noise = {"noise_floor": ("noise_points", "mean")} if "noise_points" in result.columns else {}
    summary = result.groupby(keys, sort=True).agg(
        n_train=("n_train", "first"),
        n_held_out=("run", "size"),
        mean_abs_error=("error_points", lambda errors: errors.abs().mean()),
        max_abs_error=("error_points", lambda errors: errors.abs().max()),
        bias=("error_points", "mean"),
        **noise,
        status=("status", "first"),
        reason=("reason", "first"),
    )
    return summary.reset_index()


TRAINING_ROW_KEY = ("mixture", "benchmark", "run", "flops", "value")
"""Columns that identify a set of training rows for :func:`fit_once` (a run's losses are
fixed by its id)."""

Fitted = TypeVar("Fitted")


def fit_once(fit: Callable[[pd.DataFrame], Fitted]) -> Callable[[pd.DataFrame], Fitted]:
    """The same forecaster, fitting each distinct set of training rows only once.

    A bootstrap interval of a two-stage method refits both stages on every resample of
    the runs, on the inner splits of its drift calibration, and again at every call of
    its predictor. Wrapping the two-stage forecaster in ``fit_once`` before handing it
    to :func:`scalelib.evaluation.intervals.bootstrap_interval_forecaster` makes every such fit happen
    once: a figure of forecasts below a cut (:func:`~scalelib.evaluation.method_comparison.forecast_curves`) and a backtest at
    the same cut share their fits, and so do intervals that differ only in what they add
    to the bootstrap (e.g. ``calibrate=False`` with the same seed draws the same
    resamples), and so do interval backtests at several levels (:func:`~scalelib.evaluation.interval_backtests.at_level`). Rows are identified by the columns of :data:`TRAINING_ROW_KEY` (those
    present), in order, duplicates included; use one wrapped forecaster per data set and
    forecaster options. The fits are kept for as long as the wrapped forecaster exists.

    Parameters
    ----------
    fit
        A :data:`~scalelib.interfaces.Forecaster` (of point forecasts or of intervals).

    Returns
    -------
    callable
        Calls ``fit`` on training rows not seen before and returns the remembered
        predictor otherwise; a refusal (:class:`~scalelib.data.normalise.ScalingDataError`)
        is not remembered and recurs.
    """
    fitted: dict[tuple, Fitted] = {}

    def fit_or_reuse(training_rows: pd.DataFrame) -> Fitted:
        columns = [column for column in TRAINING_ROW_KEY if column in training_rows.columns]
        key = (tuple(columns), tuple(training_rows[columns].itertuples(index=False, name=None)))
        if key not in fitted:
            fitted[key] = fit(training_rows)
        return fitted[key]

    return fit_or_reuse
