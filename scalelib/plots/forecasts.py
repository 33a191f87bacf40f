"""Figures of forecasts: fitted below a cut, drawn beyond it with their prediction intervals.

Runs beyond the cut (held out) are hollow, in a grey region (:data:`~scalelib.plots.style.HELD_OUT_SHADE`);
a forecast is a line, its interval a band (:func:`draw_forecast`,
:func:`scalelib.plots.style.shade_interval`). The cut is in compute (most figures) or
in k (:func:`plot_k_extrapolation`). All functions draw in the book style
(:func:`scalelib.plots.style.use_book_style`) and return the matplotlib figure.
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from scalelib.data.benchmark_info import BENCHMARKS
from scalelib.data.validation import ScalingDataError
from scalelib.interfaces import IntervalPredictor, PredictionInterval
from scalelib.laws.compute_optimal import runs_along_ratios
from scalelib.laws.interval_math import LEVEL
from scalelib.plots.scores import runs_spanning_compute
from scalelib.plots.style import (
    COMPUTE_LABEL,
    HELD_OUT_SHADE,
    WIDE_PANEL_SIZE,
    benchmarks_in,
    label_outer_axes,
    log_scale_colour,
    shade_interval,
    shared_legend,
    small_multiples,
    use_book_style,
)

if TYPE_CHECKING:
    from scalelib.runs.your_runs import RunsForecast

__all__ = [
    "plot_forecasts",
    "draw_forecast",
    "plot_variance_terms",
    "plot_interval_backtest_by_ratio",
    "plot_compute_extrapolation",
    "plot_k_extrapolation",
    "plot_auto_backtest",
    "plot_runs_forecast",
]


Forecast = Callable[[ArrayLike], "np.ndarray | PredictionInterval"]
"""Maps compute to a point forecast of raw accuracy, or to a :class:`~scalelib.evaluation.intervals.PredictionInterval`."""


def plot_forecasts(
    frame: pd.DataFrame,
    forecasts: Mapping[str, Mapping[str, Forecast]],
    *,
    compute_cut: float,
    title: str,
    n_columns: int = 4,
    legend_columns: int | None = None,
) -> Figure:
    """Data and fitted laws per benchmark, with the extrapolation region shaded.

    Parameters
    ----------
    frame
        One mixture's rows of :func:`scalelib.data.released.accuracy_frame`.
    forecasts
        ``{law label: {benchmark: predict(compute)}}``, ``predict`` returning raw
        accuracy or a :class:`~scalelib.evaluation.intervals.PredictionInterval` (drawn as the
        point forecast in a shaded band, e.g. from
        :func:`scalelib.evaluation.backtest.forecasts_below_cut` with an interval forecaster);
        a benchmark missing from a law's mapping (the law refused its data) shows no curve.
    compute_cut
        Runs with C above it were held out: drawn hollow, in the shaded region.
    n_columns
        Panels per row.
    legend_columns
        Entries per row of the shared legend (default: all in one row); set it for a
        narrow figure of few panels.
    """
    names = benchmarks_in(frame)
    figure, axes = small_multiples(len(names), n_columns=n_columns)
    grid = np.logspace(np.log10(frame["flops"].min()), np.log10(frame["flops"].max() * 1.5), 200)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for name, ax in zip(names, axes):
        rows = frame[frame["benchmark"] == name]
        fitted = rows["flops"] <= compute_cut
        ax.axvspan(compute_cut, grid[-1], color=HELD_OUT_SHADE, zorder=0)
        ax.plot(rows.loc[fitted, "flops"], rows.loc[fitted, "value"], "o", color="0.25", label="fitted runs")
        ax.plot(rows.loc[~fitted, "flops"], rows.loc[~fitted, "value"], "o", mfc="none", color="0.25",
                label="held-out runs")
        for colour, (label, by_benchmark) in zip(colours, forecasts.items()):
            if name in by_benchmark:
                draw_forecast(ax, grid, by_benchmark[name](grid), colour=colour, label=label)
        if BENCHMARKS[name].chance > 0:
            ax.axhline(BENCHMARKS[name].chance, ls="--", lw=1, color="0.5", label="chance")
        ax.set_xscale("log")
        ax.set_title(f"{BENCHMARKS[name].label} ({rows['metric'].iloc[0]})", fontsize=9)
    label_outer_axes(axes, n_columns, xlabel="compute C (FLOPs)", ylabel="score")
    shared_legend(figure, axes, max_columns=legend_columns)
    figure.suptitle(title)
    return figure


def draw_forecast(
    ax: plt.Axes, compute: ArrayLike, forecast: np.ndarray | PredictionInterval, *, colour: str, label: str
) -> None:
    """Draw a law's forecast along ``compute``: its line, and its interval shaded if it has one."""
    if isinstance(forecast, PredictionInterval):
        shade_interval(ax, compute, forecast.lower, forecast.upper, colour=colour, level=forecast.level, label=label)
        forecast = forecast.predicted
    ax.plot(compute, forecast, color=colour, lw=1.5, label=label)


def plot_variance_terms(terms: pd.DataFrame, *, fitted_compute: float, title: str) -> Figure:
    """The three variance terms of a prediction interval against compute, on a log scale.

    ``terms`` is :func:`scalelib.evaluation.intervals.direct_law_variance_terms` output (columns
    ``flops``, ``curve``, ``scatter``, ``drift``); ``fitted_compute`` marks the largest
    fitted run, beyond which the drift term starts.
    """
    figure, ax = plt.subplots(figsize=(6.4, 3.8))
    labels = {
        "curve": "curve: uncertainty of the fitted line",
        "scatter": "scatter: run-to-run noise, s²",
        "drift": "drift: τ² d², beyond the fitted runs",
    }
    for column, (label, style) in zip(labels, zip(labels.values(), ["-", "--", ":"])):
        positive = terms[terms[column] > 0]
        ax.plot(positive["flops"], positive[column], style, lw=2, label=label)
    ax.axvline(fitted_compute, color="0.5", lw=1)
    ax.annotate("largest fitted run", (fitted_compute, 0.98), xycoords=("data", "axes fraction"),
                ha="right", va="top", fontsize=8, color="0.4", rotation=90)
    ax.set(xscale="log", yscale="log", xlabel=COMPUTE_LABEL, ylabel="variance of log(-log Q)", title=title)
    ax.legend(loc="upper left")
    return figure


def plot_interval_backtest_by_ratio(
    frame: pd.DataFrame,
    predictors: Mapping[str, Mapping[str, IntervalPredictor]],
    *,
    compute_cut: float,
    title: str,
    level: float = LEVEL,
) -> Figure:
    """A compute-cut backtest with prediction intervals: one row of panels per benchmark, one column per ratio.

    Each panel shows one ratio's runs of one benchmark, those above ``compute_cut``
    hollow in a grey region, and every law's forecast along that ratio (hypothetical
    runs of :func:`scalelib.laws.compute_optimal.runs_along_ratios`) with its shaded
    interval (:func:`draw_forecast`).

    Parameters
    ----------
    frame
        One mixture's rows at several ratios (columns ``benchmark, tpr, flops, value,
        chance``), e.g. the points above chance.
    predictors
        ``{law label: {benchmark: predictor}}``, each predictor fitted to that
        benchmark's runs with ``C <= compute_cut`` (an
        interval :data:`~scalelib.interfaces.Forecaster`'s output). Rows follow the benchmarks
        of the first law; each predictor is called once, on every ratio's forecast rows
        together (a bootstrap predictor resamples on every call).
    compute_cut
        The backtest's cut.
    level
        Nominal coverage of the intervals.
    """
    benchmarks = list(next(iter(predictors.values())))
    tprs = sorted(frame["tpr"].unique())
    grid = np.logspace(np.log10(frame["flops"].min()), np.log10(frame["flops"].max() * 1.5), 40)
    forecast_rows = runs_along_ratios(grid, tprs)
    figure, panels = small_multiples(len(benchmarks) * len(tprs), n_columns=len(tprs), panel_size=(1.9, 1.8),
                                     margins=(0.0, 0.7), sharey="row")
    axes = panels.reshape(len(benchmarks), len(tprs))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for row_axes, name in zip(axes, benchmarks):
        rows = frame[frame["benchmark"] == name]
        intervals = {law: by_benchmark[name](forecast_rows, level) for law, by_benchmark in predictors.items()}
        for ax, tpr in zip(row_axes, tprs):
            at_ratio = rows[rows["tpr"] == tpr]
            fitted = at_ratio["flops"] <= compute_cut
            ax.axvspan(compute_cut, grid[-1], color=HELD_OUT_SHADE, zorder=0)
            ax.plot(at_ratio.loc[fitted, "flops"], at_ratio.loc[fitted, "value"], "o", ms=3, color="0.25",
                    label="fitted runs")
            ax.plot(at_ratio.loc[~fitted, "flops"], at_ratio.loc[~fitted, "value"], "o", ms=3, mfc="none",
                    color="0.25", label="held-out runs")
            on_ratio = (forecast_rows["tpr"] == tpr).to_numpy()
            for colour, (law, interval) in zip(colours, intervals.items()):
                draw_forecast(ax, grid, _interval_subset(interval, on_ratio), colour=colour, label=law)
            if BENCHMARKS[name].chance > 0:
                ax.axhline(BENCHMARKS[name].chance, ls=":", lw=1, color="0.5", label="chance")
            ax.set_xscale("log")
        row_axes[0].set_ylabel(f"{BENCHMARKS[name].label}\n({rows['metric'].iloc[0]})")
    for ax, tpr in zip(axes[0], tprs):
        ax.set_title(f"tpr {tpr:g}", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("compute C (FLOPs)")
    shared_legend(figure, panels, max_columns=4)
    figure.suptitle(title)
    return figure


def _interval_subset(interval: PredictionInterval, keep: np.ndarray) -> PredictionInterval:
    """The entries ``keep`` (a boolean mask) of an interval."""
    return dataclasses.replace(
        interval, predicted=interval.predicted[keep], lower=interval.lower[keep], upper=interval.upper[keep]
    )


def _intervals_by_curve(
    predict: IntervalPredictor, compute: np.ndarray, k: np.ndarray, n_items: int, level: float
) -> list[PredictionInterval]:
    """Intervals of Eq. 5 on the broadcast (curve, point) grid of ``compute`` and ``k``, one per curve (row).

    All points are forecast in one call: a bootstrap predictor refits its resamples at
    every call, so one call per curve would multiply the cost.
    """
    compute, k = np.broadcast_arrays(np.asarray(compute, dtype=float), np.asarray(k, dtype=float))
    rows = pd.DataFrame({"flops": compute.ravel(), "k": k.ravel(), "n_items": n_items})
    interval = predict(rows, level)
    n_points = compute.shape[1]
    return [
        dataclasses.replace(interval, **{field: getattr(interval, field)[start:start + n_points]
                                         for field in ("predicted", "lower", "upper")})
        for start in range(0, compute.size, n_points)
    ]


def _held_out_legend_entries(ax: plt.Axes) -> None:
    """Legend entries for filled (fitted) and hollow (held-out) markers of any colour."""
    ax.plot([], [], "o", color="0.25", label="fitted values")
    ax.plot([], [], "o", mfc="none", color="0.25", label="held-out values")


def plot_compute_extrapolation(
    frame: pd.DataFrame,
    predictors: Mapping[str, IntervalPredictor],
    *,
    compute_cut: float,
    ks: Sequence[int],
    level: float = LEVEL,
    title: str,
) -> Figure:
    """pass@k against compute at a few k: Eq. 5 fitted below a compute cut, forecast above it with its interval.

    Values of runs above ``compute_cut`` are hollow, in a grey region; for each k in
    ``ks`` the point forecast is a line and its interval a band in the colour of that k
    (the colours of :func:`scalelib.plots.scores.plot_pass_at_k_vs_compute`), from the smallest run to 1.5
    times the largest.

    Parameters
    ----------
    frame
        One mixture's ``kept`` rows of :func:`scalelib.laws.pass_at_k.load_pass_at_k`.
    predictors
        ``{benchmark: IntervalPredictor}`` fitted to the benchmark's rows at or below
        ``compute_cut`` (e.g. by :func:`scalelib.evaluation.intervals.bootstrap_interval_forecaster`
        with :func:`scalelib.laws.pass_at_k.pass_at_k_forecaster`); a benchmark without one
        shows data only.
    compute_cut
        Largest compute of the fitted runs.
    ks
        The k to draw (a few, to stay readable).
    level
        Nominal coverage of the bands.
    """
    names = benchmarks_in(frame)
    figure, axes = small_multiples(len(names), n_columns=len(names), panel_size=WIDE_PANEL_SIZE)
    all_ks = sorted(frame["k"].unique())
    grid = np.logspace(np.log10(frame["flops"].min()), np.log10(1.5 * frame["flops"].max()), 120)
    for name, ax in zip(names, axes):
        ax.set_title(BENCHMARKS[name].label)
        rows = frame[frame["benchmark"] == name]
        ax.axvspan(compute_cut, grid[-1], color=HELD_OUT_SHADE, zorder=0)
        _held_out_legend_entries(ax)
        for k in ks:
            colour = log_scale_colour(k, all_ks)
            at_k = rows[rows["k"] == k]
            fitted = at_k["flops"] <= compute_cut
            ax.plot(at_k.loc[fitted, "flops"], at_k.loc[fitted, "value"], "o", ms=3, color=colour)
            ax.plot(at_k.loc[~fitted, "flops"], at_k.loc[~fitted, "value"], "o", ms=3, mfc="none", color=colour)
        if name in predictors:
            intervals = _intervals_by_curve(
                predictors[name], grid[None, :], np.asarray(ks)[:, None], rows["n_items"].iloc[0], level
            )
            for k, interval in zip(ks, intervals):
                colour = log_scale_colour(k, all_ks)
                shade_interval(ax, grid, interval.lower, interval.upper, colour=colour, level=level)
                ax.plot(grid, interval.predicted, color=colour, lw=1.2, label=f"Eq. 5, k = {k}")
        ax.set(xscale="log", xlabel=COMPUTE_LABEL, xlim=(grid[0], grid[-1]), ylim=(0, None))
    axes[0].set_ylabel("pass@k")
    shared_legend(figure, list(axes))
    figure.suptitle(title)
    return figure


def plot_k_extrapolation(
    frame: pd.DataFrame,
    predictors: Mapping[str, IntervalPredictor],
    *,
    k_cut: int,
    n_runs: int = 3,
    level: float = LEVEL,
    title: str,
) -> Figure:
    """pass@k against k for a few runs: Eq. 5 fitted to k <= ``k_cut``, forecast above it with its interval.

    The runs are chosen as in :func:`scalelib.plots.scores.plot_pass_at_k_vs_k`. Values at k above ``k_cut``
    are hollow, in a grey region; each run's forecast at its compute is a line over
    every k and its interval a band over the forecast region.

    Parameters
    ----------
    frame
        One mixture's ``kept`` rows of :func:`scalelib.laws.pass_at_k.load_pass_at_k`.
    predictors
        ``{benchmark: IntervalPredictor}`` fitted to the benchmark's rows with
        ``k <= k_cut``; a benchmark without one shows data only.
    k_cut
        Largest fitted k.
    n_runs
        Number of runs drawn per panel.
    level
        Nominal coverage of the bands.
    """
    names = benchmarks_in(frame)
    figure, axes = small_multiples(len(names), n_columns=len(names), panel_size=WIDE_PANEL_SIZE)
    computes = runs_spanning_compute(frame, n_runs)
    k_grid = np.logspace(0, np.log2(frame["k"].max()), 50, base=2)
    beyond = k_grid >= k_cut
    for name, ax in zip(names, axes):
        ax.set_title(BENCHMARKS[name].label)
        rows = frame[frame["benchmark"] == name]
        ax.axvspan(k_cut, 1.3 * k_grid[-1], color=HELD_OUT_SHADE, zorder=0)
        _held_out_legend_entries(ax)
        colours = [log_scale_colour(compute, list(computes)) for compute in computes]
        for colour, run in zip(colours, computes.index):
            at_run = rows[rows["run"] == run]
            fitted = at_run["k"] <= k_cut
            ax.plot(at_run.loc[fitted, "k"], at_run.loc[fitted, "value"], "o", color=colour)
            ax.plot(at_run.loc[~fitted, "k"], at_run.loc[~fitted, "value"], "o", mfc="none", color=colour)
        if name in predictors:
            intervals = _intervals_by_curve(
                predictors[name], computes.to_numpy()[:, None], k_grid[None, :], rows["n_items"].iloc[0], level
            )
            for colour, compute, interval in zip(colours, computes, intervals):
                shade_interval(ax, k_grid[beyond], interval.lower[beyond], interval.upper[beyond],
                               colour=colour, level=level)
                ax.plot(k_grid, interval.predicted, color=colour, lw=1.2, label=f"Eq. 5 at C = {compute:.1e} FLOPs")
        ax.set(xscale="log", xlabel="samples per problem k", xlim=(0.8, 1.3 * k_grid[-1]), ylim=(0, None))
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda value, _: f"{value:g}"))
    axes[0].set_ylabel("pass@k")
    shared_legend(figure, list(axes), max_columns=3)
    figure.suptitle(title)
    return figure


def plot_auto_backtest(
    frame: pd.DataFrame, auto: pd.DataFrame, *, compute_cut: float, target_tpr: float | None = 20,
    title: str, n_columns: int = 4,
) -> Figure:
    """One panel per benchmark of one mixture: training runs, held-out runs, forecast and interval.

    ``frame`` holds the mixture's rows, ``auto`` its :func:`scalelib.evaluation.auto_backtest.auto_backtest`
    result at ``compute_cut``. A refused benchmark shows its reason instead of a forecast.
    """
    use_book_style()
    names = list(dict.fromkeys(auto["benchmark"]))
    figure, axes = small_multiples(len(names), n_columns=n_columns, panel_size=(2.6, 2.2))
    rows_of_ratio = frame if target_tpr is None or "tpr" not in frame.columns else frame[frame["tpr"] == target_tpr]
    for name, ax in zip(names, axes):
        runs = rows_of_ratio[rows_of_ratio["benchmark"] == name]
        training = runs[runs["flops"] <= compute_cut]
        ax.plot(training["flops"], training["value"], "o", ms=2.5, color="0.25", label="training runs")
        result = auto[auto["benchmark"] == name]
        ax.plot(result["flops"], result["observed"], "o", ms=3, mfc="none", color="0.25", label="held-out runs")
        if (result["verdict"] == "forecast").all():
            shade_interval(ax, result["flops"], result["lower"], result["upper"], colour="C3", level=0.9,
                           label="auto")
            ax.plot(result["flops"], result["predicted"], color="C3", lw=1.5, label="auto forecast")
        else:
            reason = result["reason"].iloc[0].split(":")[0]
            ax.text(0.04, 0.96, "unpredictable:\n" + textwrap.fill(reason, 24), transform=ax.transAxes,
                    fontsize=6.5, va="top", color="C3")
        chance = float(runs["chance"].iloc[0])
        if chance > 0:
            ax.axhline(chance, ls="--", lw=0.8, color="0.5", label="chance")
        ax.axvline(compute_cut, color="0.6", lw=0.8)
        ax.set_xscale("log")
        ax.set_title(BENCHMARKS[name].label if name in BENCHMARKS else name, fontsize=8)
    label_outer_axes(axes, n_columns, xlabel="training compute C (FLOPs)", ylabel="accuracy")
    shared_legend(figure, axes, max_columns=4)
    figure.suptitle(title)
    return figure


def plot_runs_forecast(result: RunsForecast, *, level: float = LEVEL) -> Figure:
    """One panel per group: its runs (crosses: not fitted), the law's curve and interval, the forecasts."""
    use_book_style()
    forecasts = result.forecasts[result.forecasts["status"] == "ok"]
    names = list(dict.fromkeys(forecasts["panel"]))
    if not names:
        raise ScalingDataError("Nothing was forecast, so there is nothing to draw.")
    n_columns = min(4, len(names))
    figure, axes = small_multiples(len(names), n_columns=n_columns)
    for name, ax in zip(names, axes):
        if name in result.curves:
            curve = result.curves[name]
            shade_interval(ax, curve["flops"], curve["lower"], curve["upper"], colour="C0", level=level,
                           label="prediction")
            ax.plot(curve["flops"], curve["predicted"], color="C0", lw=1.5, label="law")
        rows = result.fitted[result.fitted["panel"] == name]
        ax.plot(rows.loc[rows["fitted"], "flops"], rows.loc[rows["fitted"], "value"], "o", color="0.25",
                label="runs")
        if (~rows["fitted"]).any():
            ax.plot(rows.loc[~rows["fitted"], "flops"], rows.loc[~rows["fitted"], "value"], "x", color="0.5",
                    label="near chance (not fitted)")
        shown = forecasts[forecasts["panel"] == name]
        ax.errorbar(shown["flops"], shown["predicted"],
                    yerr=[shown["predicted"] - shown["lower"], shown["upper"] - shown["predicted"]],
                    fmt="D", color="C3", capsize=3, label="forecast")
        chance = rows["chance"].iloc[0]
        if chance > 0:
            ax.axhline(chance, ls="--", lw=1, color="0.5", label="chance")
        ax.set_xscale("log")
        ax.set_title(name, fontsize=8)
    label_outer_axes(axes, n_columns, xlabel="training compute C (FLOPs)", ylabel="accuracy")
    shared_legend(figure, axes, max_columns=3)
    law = forecasts["law"].iloc[0]
    figure.suptitle(f"Forecasts of the {law} law with {level:.0%} prediction intervals")
    return figure
