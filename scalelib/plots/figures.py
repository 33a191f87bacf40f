"""Figures shared by the chapters: the run grid and scores against compute.

All functions draw in the book style (:func:`scalelib.plots.style.use_book_style`) and return
the matplotlib figure, so a chapter can add to it (fits, extrapolation regions).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from scalelib.data.benchmark_info import BENCHMARKS
from scalelib.evaluation.intervals import PredictionInterval
from scalelib.data.normalise import neg_log_q
from scalelib.plots.style import (
    COMPUTE_LABEL,
    HELD_OUT_SHADE,
    MIXTURE_COLOURS,
    MIXTURE_LABELS,
    label_outer_axes,
    log_scale_colour,
    shade_interval,
    shared_legend,
    small_multiples,
)

__all__ = [
    "plot_run_grid",
    "plot_scores_vs_compute",
    "plot_losses_vs_compute",
    "plot_forecasts",
    "draw_forecast",
    "plot_raw_and_transformed",
    "plot_variance_terms",
    "glue_figure",
]

Forecast = Callable[[ArrayLike], "np.ndarray | PredictionInterval"]
"""Maps compute to a point forecast of raw accuracy, or to a :class:`~scalelib.evaluation.intervals.PredictionInterval`."""

_VALIDATION_LABELS = {"c4": "C4", "dclm": "DCLM", "fineweb": "FineWeb"}


def plot_run_grid(runs: pd.DataFrame) -> Figure:
    """Parameters N against tokens D for every run, one panel per mixture, coloured by tpr.

    Dotted lines mark constant compute C = 6ND (1e18 ... 1e23 FLOPs).
    """
    mixtures = list(dict.fromkeys(runs["mixture"]))
    tprs = sorted(runs["tpr"].unique())
    figure, axes = plt.subplots(1, len(mixtures), sharex=True, sharey=True, figsize=(9.0, 3.8), squeeze=False)
    tokens = np.logspace(np.log10(runs["tokens"].min() / 2), np.log10(runs["tokens"].max() * 2), 50)
    for ax, mixture in zip(axes[0], mixtures):
        for exponent in range(18, 24):
            ax.plot(tokens, 10.0**exponent / (6 * tokens), ls=":", lw=0.8, color="0.6")
            ax.annotate(f"1e{exponent}", (tokens[-1], 10.0**exponent / (6 * tokens[-1])), fontsize=7, color="0.45")
        subset = runs[runs["mixture"] == mixture]
        for tpr in tprs:
            at_tpr = subset[subset["tpr"] == tpr]
            if len(at_tpr):
                ax.scatter(at_tpr["tokens"], at_tpr["params"], s=16, color=log_scale_colour(tpr, tprs),
                           label=f"tpr {tpr:g} ({len(at_tpr)} runs)")
        ax.set(xscale="log", yscale="log", xlabel="training tokens D", title=MIXTURE_LABELS[mixture])
        ax.set_ylim(runs["params"].min() / 2, runs["params"].max() * 2)
        ax.legend(loc="upper left")
    axes[0, 0].set_ylabel("parameters N")
    figure.suptitle("The training runs: model size against data (dotted: constant compute, FLOPs)")
    return figure


def plot_scores_vs_compute(
    frame: pd.DataFrame,
    *,
    title: str,
    n_columns: int = 4,
    ylabel: str = "score (metric in panel title)",
) -> tuple[Figure, dict[str, plt.Axes]]:
    """Small multiples of score against compute, one panel per benchmark, one colour per mixture.

    Parameters
    ----------
    frame
        Rows of :func:`scalelib.data.released.accuracy_frame` (columns ``mixture, benchmark,
        flops, value, chance, metric``).
    title
        Figure title.
    ylabel
        Y label of the first column.

    Returns
    -------
    (figure, axes_by_benchmark)
        The axes are keyed by benchmark name, so a chapter can draw fits on them.
        Multiple-choice panels show the chance level as a dashed grey line.
    """
    present = set(frame["benchmark"])
    names = [name for name in BENCHMARKS if name in present]
    figure, axes = small_multiples(len(names), n_columns=n_columns)
    by_benchmark = dict(zip(names, axes))
    for name, ax in by_benchmark.items():
        rows = frame[frame["benchmark"] == name]
        for mixture, group in rows.groupby("mixture", sort=False):
            ax.plot(group["flops"], group["value"], "o", color=MIXTURE_COLOURS[mixture],
                    label=MIXTURE_LABELS[mixture], alpha=0.8)
        chance = BENCHMARKS[name].chance
        if chance > 0:
            ax.axhline(chance, ls="--", lw=1, color="0.5", label="chance")
        ax.set_xscale("log")
        ax.set_title(f"{BENCHMARKS[name].label} ({rows['metric'].iloc[0]})", fontsize=9)
    label_outer_axes(axes, n_columns, xlabel="compute C (FLOPs)", ylabel=ylabel)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    figure.suptitle(title)
    return figure, by_benchmark


def plot_losses_vs_compute(runs: pd.DataFrame, *, title: str) -> Figure:
    """Validation loss (nats per token) against compute: one panel per validation set."""
    sets = list(_VALIDATION_LABELS)
    figure, axes = plt.subplots(1, len(sets), sharex=True, figsize=(9.0, 3.2))
    for ax, name in zip(axes, sets):
        for mixture, group in runs.groupby("mixture", sort=False):
            ax.plot(group["flops"], group[f"loss_{name}"], "o", color=MIXTURE_COLOURS[mixture],
                    label=f"trained on {MIXTURE_LABELS[mixture]}", alpha=0.8)
        ax.set(xscale="log", xlabel=COMPUTE_LABEL, title=f"{_VALIDATION_LABELS[name]} validation set")
    axes[0].set_ylabel("validation loss (nats / token)")
    axes[0].legend()
    figure.suptitle(title)
    return figure


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
        :func:`scalelib.evaluation.intervals.interval_forecasts`); a benchmark missing from a
        law's mapping (the law refused its data) shows no curve.
    compute_cut
        Runs with C above it were held out: drawn hollow, in the shaded region.
    n_columns
        Panels per row.
    legend_columns
        Entries per row of the shared legend (default: all in one row); set it for a
        narrow figure of few panels.
    """
    names = [name for name in BENCHMARKS if name in set(frame["benchmark"])]
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


def plot_raw_and_transformed(frame: pd.DataFrame, *, title: str) -> Figure:
    """Raw accuracy and ``log(-log Q)`` against compute, side by side, one colour per benchmark.

    Points at or below chance (where ``-log Q`` is undefined) appear only on the left.
    """
    figure, (raw_ax, transformed_ax) = plt.subplots(1, 2, figsize=(9.0, 3.6))
    for name, rows in frame.groupby("benchmark", sort=False):
        label = BENCHMARKS[name].label
        (line,) = raw_ax.plot(rows["flops"], rows["value"], "o", label=label)
        above = rows[rows["value"] > rows["chance"]]
        transformed_ax.plot(above["flops"], np.log(neg_log_q(above["value"], above["chance"].iloc[0])), "o",
                            color=line.get_color(), label=label)
    raw_ax.set(xscale="log", xlabel=COMPUTE_LABEL, ylabel="raw accuracy", title="Raw accuracy")
    transformed_ax.set(xscale="log", xlabel=COMPUTE_LABEL, ylabel="log(-log Q)",
                       title="Chance-normalised, log(-log Q)")
    transformed_ax.legend()
    figure.suptitle(title)
    return figure


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


def glue_figure(name: str, figure: Figure) -> None:
    """Glue ``figure`` under ``name`` for a numbered ``{glue:figure}`` and close it.

    The chapter then shows it where its prose needs it, with a caption and a label
    that ``{numref}`` refers to::

        ```{glue:figure} name
        :name: fig-name

        Caption.
        ```

    Closing keeps the notebook from also showing the figure as a plain cell output,
    and returning nothing keeps the cell from printing a ``<Figure ...>`` line (a
    trailing semicolon does not suppress it reliably under nbval).
    """
    from myst_nb import glue

    if not isinstance(figure, Figure):
        raise TypeError(f"glue_figure needs a matplotlib Figure, got {type(figure).__name__}")
    glue(name, figure, display=False)
    plt.close(figure)
