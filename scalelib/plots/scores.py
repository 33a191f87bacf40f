"""Figures of the data: the run grid, and scores against compute, ratio and k.

Each draws the observed values, and where a function takes fits, the fitted laws over
the domain they were fitted on (extrapolations are in :mod:`scalelib.plots.forecasts`).
All functions draw in the book style (:func:`scalelib.plots.style.use_book_style`) and
return the matplotlib figure, so a chapter can add to it.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from scalelib.data.benchmark_info import BENCHMARKS
from scalelib.data.normalise import neg_log_q
from scalelib.laws.compute_optimal import allocation_at_ratio
from scalelib.laws.direct_law import DirectLawFit
from scalelib.laws.pass_at_k import PassAtKLawFit
from scalelib.laws.ratio_law import RatioLawFit
from scalelib.plots.style import (
    COMPUTE_LABEL,
    MIXTURE_COLOURS,
    MIXTURE_LABELS,
    WIDE_PANEL_SIZE,
    benchmarks_in,
    label_outer_axes,
    log_scale_colour,
    shared_legend,
    small_multiples,
)

__all__ = [
    "plot_run_grid",
    "plot_scores_vs_compute",
    "plot_raw_and_transformed",
    "plot_scores_by_ratio",
    "plot_pass_at_k_vs_compute",
    "plot_pass_at_k_vs_k",
    "runs_spanning_compute",
]


def plot_run_grid(runs: pd.DataFrame) -> Figure:
    """Parameters N against tokens D for every run, one panel per mixture, coloured by tpr.

    Dotted lines mark constant compute C = 6ND (1e18 ... 1e23 FLOPs).
    """
    mixtures = list(dict.fromkeys(runs["mixture"]))
    tprs = sorted(runs["tpr"].unique())
    figure, axes = small_multiples(len(mixtures), n_columns=len(mixtures), panel_size=(4.5, 3.4), sharey=True)
    tokens = np.logspace(np.log10(runs["tokens"].min() / 2), np.log10(runs["tokens"].max() * 2), 50)
    for ax, mixture in zip(axes, mixtures):
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
    axes[0].set_ylabel("parameters N")
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
    names = benchmarks_in(frame)
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


def plot_raw_and_transformed(frame: pd.DataFrame, *, title: str) -> Figure:
    """Raw accuracy and ``log(-log Q)`` against compute, side by side, one colour per benchmark.

    Points at or below chance (where ``-log Q`` is undefined) appear only on the left.
    """
    figure, (raw_ax, transformed_ax) = small_multiples(2, n_columns=2, panel_size=(4.5, 3.2), sharex=False)
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
    names = benchmarks_in(frame)
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


def plot_pass_at_k_vs_compute(
    frame: pd.DataFrame, fits: Mapping[str, PassAtKLawFit], *, title: str
) -> Figure:
    """pass@k against training compute, one colour per k, with Eq. 5 drawn for each k.

    Parameters
    ----------
    frame
        One mixture's ``kept`` rows of :func:`scalelib.laws.pass_at_k.load_pass_at_k`.
    fits
        ``{benchmark: PassAtKLawFit}``; a benchmark without a fit shows data only.
    """
    names = benchmarks_in(frame)
    figure, axes = small_multiples(len(names), n_columns=len(names), panel_size=WIDE_PANEL_SIZE)
    ks = sorted(frame["k"].unique())
    for name, ax in zip(names, axes):
        ax.set_title(BENCHMARKS[name].label)
        rows = frame[frame["benchmark"] == name]
        grid = np.logspace(np.log10(rows["flops"].min()), np.log10(rows["flops"].max()), 100)
        for k in ks:
            at_k = rows[rows["k"] == k]
            colour = log_scale_colour(k, ks)
            ax.plot(at_k["flops"], at_k["value"], "o", ms=2.5, color=colour, alpha=0.7, label=f"k = {k}")
            if name in fits:
                ax.plot(grid, fits[name].predict(grid, k), color=colour, lw=1.2)
        ax.set(xscale="log", xlabel=COMPUTE_LABEL, ylim=(0, None))
    axes[0].set_ylabel("pass@k")
    shared_legend(figure, list(axes))
    figure.suptitle(title)
    return figure


def runs_spanning_compute(frame: pd.DataFrame, n_runs: int) -> pd.Series:
    """``n_runs`` runs evenly spaced in log compute (by rank), among the runs with a value at every k
    of every benchmark of ``frame``; returns their compute, indexed by run, smallest first."""
    n_values = frame.groupby("run")["value"].size()
    complete = n_values[n_values == frame["k"].nunique() * frame["benchmark"].nunique()].index
    computes = frame[frame["run"].isin(complete)].groupby("run")["flops"].first().sort_values()
    positions = np.unique(np.round(np.linspace(0, len(computes) - 1, n_runs)).astype(int))
    return computes.iloc[positions]


def plot_pass_at_k_vs_k(
    frame: pd.DataFrame, fits: Mapping[str, PassAtKLawFit], *, n_runs: int = 5, title: str
) -> Figure:
    """pass@k against k for a few runs spanning the compute range, with Eq. 5 at each run's compute.

    The same runs appear in every panel: ``n_runs`` runs spread over the compute range
    among those above zero at every k on every benchmark of ``frame``.
    """
    names = benchmarks_in(frame)
    figure, axes = small_multiples(len(names), n_columns=len(names), panel_size=WIDE_PANEL_SIZE)
    computes = runs_spanning_compute(frame, n_runs)
    k_grid = np.logspace(0, np.log2(frame["k"].max()), 50, base=2)
    for name, ax in zip(names, axes):
        ax.set_title(BENCHMARKS[name].label)
        rows = frame[frame["benchmark"] == name]
        for run, compute in computes.items():
            colour = log_scale_colour(compute, list(computes))
            at_run = rows[rows["run"] == run]
            ax.plot(at_run["k"], at_run["value"], "o", color=colour, label=f"C = {compute:.1e} FLOPs")
            if name in fits:
                ax.plot(k_grid, fits[name].predict(compute, k_grid), color=colour, lw=1.2)
        ax.set(xscale="log", xlabel="samples per problem k", ylim=(0, None))
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda value, _: f"{value:g}"))
    axes[0].set_ylabel("pass@k")
    shared_legend(figure, list(axes))
    figure.suptitle(title)
    return figure
