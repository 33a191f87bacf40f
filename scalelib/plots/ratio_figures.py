"""Figures of the ratio chapter: scores at every ratio, backtest errors and intervals, iso-accuracy maps.

All functions draw in the book style (:func:`scalelib.plots.style.use_book_style`) and return
the matplotlib figure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, NullLocator

from scalelib.data.benchmark_info import BENCHMARKS
from scalelib.laws.compute_optimal import (
    CONFIDENCE_Z,
    allocation_at_ratio,
    optimal_log_ratio_stderr,
    optimal_params,
    optimal_ratio,
    optimal_tokens,
    runs_along_ratios,
)
from scalelib.laws.direct_law import DirectLawFit
from scalelib.plots.figures import draw_forecast
from scalelib.evaluation.intervals import LEVEL, IntervalPredictor, PredictionInterval
from scalelib.laws.ratio_law import RatioLawFit
from scalelib.plots.style import HELD_OUT_SHADE, label_outer_axes, log_scale_colour, shared_legend, small_multiples

__all__ = [
    "plot_scores_by_ratio",
    "plot_backtest_errors",
    "plot_interval_backtest_by_ratio",
    "plot_iso_accuracy",
    "plot_optimal_ratio_vs_compute",
]


def plot_scores_by_ratio(
    fitted: pd.DataFrame,
    dropped: pd.DataFrame,
    ratio_fits: Mapping[str, RatioLawFit],
    direct_fits: Mapping[float, Mapping[str, DirectLawFit]],
    *,
    title: str,
    n_columns: int = 4,
) -> Figure:
    """Score against compute at every ratio, with Eq. 4 (solid) and Eq. 2 per ratio (dashed).

    Parameters
    ----------
    fitted, dropped
        One mixture's rows of :func:`scalelib.data.released.accuracy_frame` at several ratios:
        the rows the laws were fitted to, and those left out (at or below chance,
        drawn hollow), as returned by :func:`scalelib.data.normalise.drop_at_or_below_chance`.
    ratio_fits
        Eq. 4 fit per benchmark, drawn along each nominal ratio (``N = sqrt(C / 6 tpr)``).
    direct_fits
        ``{tpr: {benchmark: Eq. 2 fit}}``, drawn over the compute range of that ratio.
    """
    frame = pd.concat([fitted, dropped])
    names = [name for name in BENCHMARKS if name in set(frame["benchmark"])]
    tprs = sorted(frame["tpr"].unique())
    figure, axes = small_multiples(len(names), n_columns=n_columns)
    for name, ax in zip(names, axes):
        rows = frame[frame["benchmark"] == name]
        for tpr in tprs:
            colour = log_scale_colour(tpr, tprs)
            at_ratio = rows[rows["tpr"] == tpr]
            used = at_ratio.index.isin(fitted.index)
            ax.plot(at_ratio.loc[used, "flops"], at_ratio.loc[used, "value"], "o", ms=3, color=colour, alpha=0.8)
            ax.plot(at_ratio.loc[~used, "flops"], at_ratio.loc[~used, "value"], "o", ms=3, mfc="none",
                    color=colour, alpha=0.8)
            grid = np.logspace(np.log10(at_ratio["flops"].min()), np.log10(at_ratio["flops"].max()), 60)
            if name in ratio_fits:
                ax.plot(grid, ratio_fits[name].predict(*allocation_at_ratio(grid, tpr)), color=colour, lw=1.4)
            if name in direct_fits.get(tpr, {}):
                ax.plot(grid, direct_fits[tpr][name].predict(grid), color=colour, lw=1.0, ls="--")
        if BENCHMARKS[name].chance > 0:
            ax.axhline(BENCHMARKS[name].chance, ls=":", lw=1, color="0.5")
        ax.set_xscale("log")
        ax.set_title(f"{BENCHMARKS[name].label} ({rows['metric'].iloc[0]})", fontsize=9)
    label_outer_axes(axes, n_columns, xlabel="compute C (FLOPs)", ylabel="score")
    handles = [Line2D([], [], marker="o", ls="none", color=log_scale_colour(tpr, tprs), label=f"tpr {tpr:g}") for tpr in tprs]
    handles += [
        Line2D([], [], marker="o", ls="none", mfc="none", color="0.3", label="not fitted (at or below chance)"),
        Line2D([], [], color="0.3", lw=1.4, label="Eq. 4, one surface"),
        Line2D([], [], color="0.3", lw=1.0, ls="--", label="Eq. 2, one line per ratio"),
        Line2D([], [], color="0.5", lw=1.0, ls=":", label="chance"),
    ]
    figure.legend(handles=handles, loc="outside lower center", ncols=5)
    figure.suptitle(title)
    return figure


def plot_backtest_errors(summaries: Mapping[str, pd.DataFrame], *, title: str) -> Figure:
    """Mean absolute error per benchmark of each law, one panel per kind of split.

    Parameters
    ----------
    summaries
        ``{panel title: frame}``; each frame is indexed by benchmark with one column per
        law, holding the mean absolute error in accuracy points.
    """
    figure, axes = plt.subplots(1, len(summaries), sharey=True, figsize=(9.0, 4.6), squeeze=False)
    laws = list(dict.fromkeys(law for errors in summaries.values() for law in errors.columns))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = {law: (marker, colour) for law, marker, colour in zip(laws, "so^D", colours)}
    ticks = [0.3, 1, 3, 10, 30]
    for ax, (panel, errors) in zip(axes[0], summaries.items()):
        positions = np.arange(len(errors))
        for law in errors.columns:
            marker, colour = styles[law]
            ax.plot(errors[law], positions, marker, color=colour, label=law, alpha=0.85)
        ax.set_yticks(positions, [BENCHMARKS[name].label for name in errors.index])
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([f"{tick:g}" for tick in ticks])
        ax.set(xlabel="mean |predicted - observed| (accuracy points)", title=panel)
    axes[0, 0].invert_yaxis()  # the y axis is shared: first benchmark on top
    shared_legend(figure, axes[0], max_columns=7)
    figure.suptitle(title)
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
    interval (:func:`scalelib.plots.figures.draw_forecast`).

    Parameters
    ----------
    frame
        One mixture's rows at several ratios (columns ``benchmark, tpr, flops, value,
        chance``), e.g. the points above chance.
    predictors
        ``{law label: {benchmark: predictor}}``, each predictor fitted to that
        benchmark's runs with ``C <= compute_cut`` (an
        :data:`~scalelib.evaluation.intervals.IntervalFitter`'s output). Rows follow the benchmarks
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
    figure, axes = plt.subplots(len(benchmarks), len(tprs), sharex=True, sharey="row", squeeze=False,
                                figsize=(1.9 * len(tprs), 1.8 * len(benchmarks) + 0.7))
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
    shared_legend(figure, axes.ravel(), max_columns=4)
    figure.suptitle(title)
    return figure


def _interval_subset(interval: PredictionInterval, keep: np.ndarray) -> PredictionInterval:
    """The entries ``keep`` (a boolean mask) of an interval."""
    return dataclasses.replace(
        interval, predicted=interval.predicted[keep], lower=interval.lower[keep], upper=interval.upper[keep]
    )


def plot_iso_accuracy(
    fits: Mapping[str, RatioLawFit],
    runs: pd.DataFrame,
    *,
    title: str,
    compute_range: tuple[float, float] = (1e18, 1e24),
) -> Figure:
    """Iso-accuracy contours of Eq. 4 in the (N, D) plane, with the compute-optimal frontier.

    Parameters
    ----------
    fits
        Eq. 4 fit per benchmark, one panel each.
    runs
        The fitted runs (columns ``params``, ``tokens``, ``tpr``), drawn as points.
    compute_range
        Budgets spanned by the frontier and the dotted iso-compute lines.
    """
    figure, axes = plt.subplots(1, len(fits), sharey=True, figsize=(3.3 * len(fits), 3.9), squeeze=False)
    axes = axes[0]
    params = np.logspace(7, 12, 120)
    tokens = np.logspace(8.5, 13.5, 120)
    budgets = np.logspace(np.log10(compute_range[0]), np.log10(compute_range[1]), 50)
    tprs = sorted(runs["tpr"].unique())
    for ax, (name, fit) in zip(axes, fits.items()):
        grid_params, grid_tokens = np.meshgrid(params, tokens)
        accuracy = fit.predict(grid_params, grid_tokens).reshape(grid_params.shape)
        levels = np.unique(np.round(np.linspace(np.quantile(accuracy, 0.05), np.quantile(accuracy, 0.95), 7), 2))
        contours = ax.contour(grid_params, grid_tokens, accuracy, levels=levels, colors="0.35", linewidths=0.9)
        ax.clabel(contours, fontsize=7, fmt="%.2f", inline_spacing=2)
        for exponent in range(int(np.log10(compute_range[0])), int(np.log10(compute_range[1])) + 1, 2):
            ax.plot(params, 10.0**exponent / (6 * params), ls=":", lw=0.7, color="0.6")
        for tpr in tprs:
            at_ratio = runs[runs["tpr"] == tpr]
            ax.plot(at_ratio["params"], at_ratio["tokens"], "o", ms=2.5, color=log_scale_colour(tpr, tprs),
                    label=f"runs, tpr {tpr:g}")
        ax.plot(optimal_params(fit, budgets), optimal_tokens(fit, budgets), color="#c8553d", lw=2,
                label="compute-optimal frontier")
        ax.plot(params, 20 * params, ls="--", lw=1, color="0.3", label="tpr 20")
        ax.set(xscale="log", yscale="log", xlim=(params[0], params[-1]), ylim=(tokens[0], tokens[-1]),
               xlabel="parameters N", title=BENCHMARKS[name].label)
    axes[0].set_ylabel("training tokens D")
    shared_legend(figure, axes, max_columns=7)
    figure.suptitle(title)
    return figure


def plot_optimal_ratio_vs_compute(
    fits: Mapping[str, RatioLawFit],
    *,
    data_ratios: tuple[float, float],
    title: str,
    compute_range: tuple[float, float] = (1e19, 1e25),
    n_columns: int = 5,
) -> Figure:
    """Compute-optimal tpr against budget per benchmark, with its delta-method 95% band.

    ``data_ratios`` (smallest, largest ratio of the runs) is shaded: outside it the
    optimum is an extrapolation in ratio. The loss-optimal ratio 20 is dashed.
    """
    budgets = np.logspace(np.log10(compute_range[0]), np.log10(compute_range[1]), 40)
    figure, axes = small_multiples(len(fits), n_columns=n_columns, panel_size=(2.1, 1.9))
    for ax, (name, fit) in zip(axes, fits.items()):
        ratio = optimal_ratio(fit, budgets)
        half_width = CONFIDENCE_Z * np.array([optimal_log_ratio_stderr(fit, budget) for budget in budgets])
        ax.axhspan(*data_ratios, color="0.92", zorder=0, label=f"ratios of the runs ({data_ratios[0]:g} to {data_ratios[1]:g})")
        ax.axhline(20, ls="--", lw=1, color="0.4", label="tpr 20 (loss-optimal, Chinchilla)")
        ax.fill_between(budgets, ratio * np.exp(-half_width), ratio * np.exp(half_width), color="#1f5fa8",
                        alpha=0.25, lw=0, label="95% interval (delta method)")
        ax.plot(budgets, ratio, color="#1f5fa8", lw=1.6, label="compute-optimal tpr (Eq. 4)")
        ax.set(xscale="log", yscale="log", ylim=(0.5, 2000))
        ax.set_title(BENCHMARKS[name].label, fontsize=9)
    label_outer_axes(axes, n_columns, xlabel="compute C (FLOPs)", ylabel="optimal tpr")
    shared_legend(figure, axes, max_columns=7)
    figure.suptitle(title)
    return figure
