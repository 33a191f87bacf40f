"""Figures of the two-stage chapter: loss laws, loss-to-accuracy maps, backtest errors, error split.

All functions draw in the book style (:func:`scalelib.plots.style.use_book_style`) and return
the matplotlib figure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FormatStrFormatter
import pandas as pd
from matplotlib.figure import Figure

from scalelib.data.benchmark_info import BENCHMARKS
from scalelib.laws.loss_law import LossLawFit, own_validation_set
from scalelib.plots.style import (
    COMPUTE_LABEL,
    HELD_OUT_SHADE,
    MIXTURE_COLOURS,
    MIXTURE_LABELS,
    label_outer_axes,
    shared_legend,
    small_multiples,
)

__all__ = [
    "METHOD_COLOURS",
    "plot_accuracy_vs_loss",
    "plot_error_decomposition",
    "plot_loss_law_fits",
    "plot_method_errors",
]

OWN_LOSS_LABEL = "own validation loss L (nats / token)"

_MARKERS = ("o", "s", "^", "D", "v", "P")

METHOD_COLOURS = {"direct": "C0", "linear": "C1", "logistic": "C2", "FLP": "C3", "FLP-M": "C4"}
"""One colour per method in every figure of the chapter (the order of
:func:`scalelib.plots.figures.plot_forecasts`'s colour cycle for direct, linear, logistic, FLP, FLP-M)."""


def _colours(labels: Sequence[str]) -> dict[str, str]:
    """Each label's colour: the method's own if it has one, else the next unused one of the cycle."""
    spare = iter(colour for colour in ("C5", "C6", "C7", "C8", "C9") if colour not in METHOD_COLOURS.values())
    return {label: METHOD_COLOURS.get(label) or next(spare) for label in labels}


def plot_loss_law_fits(
    runs: pd.DataFrame,
    fits: Mapping[str, Mapping[str, LossLawFit]],
    *,
    compute_cuts: Mapping[str, float],
    title: str,
) -> Figure:
    """Own validation loss against compute, one panel per mixture, with fitted loss laws.

    Parameters
    ----------
    runs
        :func:`scalelib.data.released.load_runs` rows of one ratio.
    fits
        ``{law label: {mixture: LossLawFit}}``, each fitted on the runs with C <= the cut.
    compute_cuts
        ``{mixture: cut}``; runs above it (held out) are drawn hollow in a shaded region.
    """
    mixtures = list(compute_cuts)
    figure, axes = plt.subplots(1, len(mixtures), figsize=(9.0, 3.6), squeeze=False)
    colours = _colours(list(fits))
    for ax, mixture in zip(axes[0], mixtures):
        rows = runs[runs["mixture"] == mixture]
        column = f"loss_{own_validation_set(mixture)}"
        cut = compute_cuts[mixture]
        fitted = rows["flops"] <= cut
        grid = np.logspace(np.log10(rows["flops"].min()), np.log10(rows["flops"].max() * 1.5), 200)
        ax.axvspan(cut, grid[-1], color=HELD_OUT_SHADE, zorder=0)
        ax.plot(rows.loc[fitted, "flops"], rows.loc[fitted, column], "o", color=MIXTURE_COLOURS[mixture],
                label="fitted runs")
        ax.plot(rows.loc[~fitted, "flops"], rows.loc[~fitted, column], "o", mfc="none",
                color=MIXTURE_COLOURS[mixture], label="held-out runs")
        for label, by_mixture in fits.items():
            ax.plot(grid, by_mixture[mixture].predict(grid), color=colours[label], lw=1.5, label=label)
        ax.set(xscale="log", yscale="log", xlabel=COMPUTE_LABEL,
               title=f"{MIXTURE_LABELS[mixture]}: {own_validation_set(mixture).upper()} loss, fit C ≤ {cut:.0e}")
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))  # plain numbers on the log loss axis
        ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
        ax.legend()
    axes[0, 0].set_ylabel("validation loss (nats / token)")
    figure.suptitle(title)
    return figure


def plot_accuracy_vs_loss(
    frame: pd.DataFrame,
    maps: Mapping[str, Mapping[str, Callable[[np.ndarray], np.ndarray]]],
    *,
    compute_cut: float,
    title: str,
    n_columns: int = 4,
) -> Figure:
    """Accuracy against the own validation loss per benchmark, with fitted maps.

    The loss axis is reversed (lower loss, i.e. more compute, to the right), so the
    panels read like accuracy against compute.

    Parameters
    ----------
    frame
        One mixture's rows with columns ``benchmark, flops, value, own_loss, metric``.
    maps
        ``{map label: {benchmark: predict(loss) -> accuracy}}``; a benchmark missing
        from a map (refused) shows no curve.
    compute_cut
        Runs with C above it were held out: drawn hollow; losses below the smallest
        fitted loss are shaded (extrapolation in loss).

    Each panel's accuracy axis spans the observed scores (and chance), so a map that
    leaves that range (a line far below chance before emergence) is cut at the edge.
    """
    names = [name for name in BENCHMARKS if name in set(frame["benchmark"])]
    figure, axes = small_multiples(len(names), n_columns=n_columns)
    colours = _colours(list(maps))
    grid = np.linspace(frame["own_loss"].min() * 0.97, frame["own_loss"].max(), 200)
    for name, ax in zip(names, axes):
        rows = frame[frame["benchmark"] == name]
        fitted = rows["flops"] <= compute_cut
        ax.axvspan(grid[0], rows.loc[fitted, "own_loss"].min(), color=HELD_OUT_SHADE, zorder=0)
        ax.plot(rows.loc[fitted, "own_loss"], rows.loc[fitted, "value"], "o", color="0.25", label="fitted runs")
        ax.plot(rows.loc[~fitted, "own_loss"], rows.loc[~fitted, "value"], "o", mfc="none", color="0.25",
                label="held-out runs (true loss)")
        for label, by_benchmark in maps.items():
            if name in by_benchmark:
                ax.plot(grid, by_benchmark[name](grid), color=colours[label], lw=1.5, label=label)
        chance = BENCHMARKS[name].chance
        if chance > 0:
            ax.axhline(chance, ls="--", lw=1, color="0.5", label="chance")
        low, high = min(rows["value"].min(), chance), rows["value"].max()
        ax.set_ylim(low - 0.1 * (high - low), high + 0.1 * (high - low))  # the data's range: lines may leave it
        ax.set_title(f"{BENCHMARKS[name].label} ({rows['metric'].iloc[0]})", fontsize=9)
    axes[0].invert_xaxis()  # the axes share x: one inversion flips every panel
    label_outer_axes(axes, n_columns, xlabel=OWN_LOSS_LABEL, ylabel="score")
    shared_legend(figure, axes)
    figure.suptitle(title)
    return figure


def plot_method_errors(summary: pd.DataFrame, *, title: str) -> Figure:
    """Mean absolute backtest error per benchmark and method, one panel per (mixture, split).

    Parameters
    ----------
    summary
        :func:`scalelib.evaluation.method_comparison.summarise_methods` output. A method that refused a
        benchmark has no marker there.
    """
    methods = list(dict.fromkeys(summary["method"]))
    colours = _colours(methods)
    panels = list(dict.fromkeys(zip(summary["mixture"], summary["split"])))
    figure, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels) + 1.2, 5.2), sharex=True, squeeze=False)
    names = [name for name in BENCHMARKS if name in set(summary["benchmark"])]
    positions = {name: i for i, name in enumerate(reversed(names))}
    offsets = np.linspace(-0.3, 0.3, len(methods))
    for ax, (mixture, split) in zip(axes[0], panels):
        rows = summary[(summary["mixture"] == mixture) & (summary["split"] == split)]
        for offset, marker, method in zip(offsets, _MARKERS, methods):
            points = rows[(rows["method"] == method) & rows["mean_abs_error"].notna()]
            ax.plot(points["mean_abs_error"], points["benchmark"].map(positions) + offset, marker, ls="none",
                    color=colours[method], label=method)
        ax.set_yticks(list(positions.values()), [BENCHMARKS[name].label for name in positions])
        ax.set_ylim(-0.6, len(names) - 0.4)
        ax.set(xscale="log", xlabel="mean |error| (accuracy points)", title=f"{MIXTURE_LABELS[mixture]}, {split}")
        ax.title.set_fontsize(9)
    for ax in axes[0, 1:]:
        ax.tick_params(labelleft=False)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    figure.suptitle(title)
    return figure


def plot_error_decomposition(decomposition: pd.DataFrame, *, title: str, limit: float = 30.0) -> Figure:
    """Stage-1 part against stage-2 part of every held-out error, one panel per method (two columns).

    Points in the shaded quadrants (both parts of one sign) compound: the loss forecast's
    error adds to the map's own. Errors beyond ``limit`` points are drawn at the edge.

    Parameters
    ----------
    decomposition
        :func:`scalelib.evaluation.two_stage.decompose_two_stage_error` output with a ``method`` column.
    """
    methods = list(dict.fromkeys(decomposition["method"]))
    n_rows = int(np.ceil(len(methods) / 2))
    figure, axes = plt.subplots(n_rows, 2, figsize=(7.0, 3.2 * n_rows + 0.6), sharex=True, sharey=True, squeeze=False)
    for extra in axes.ravel()[len(methods):]:
        extra.set_visible(False)
    for ax, method in zip(axes.ravel(), methods):
        rows = decomposition[decomposition["method"] == method]
        ax.fill_between([0, limit], 0, limit, color="0.92", zorder=0)
        ax.fill_between([-limit, 0], -limit, 0, color="0.92", zorder=0)
        for mixture, group in rows.groupby("mixture", sort=False):
            ax.plot(group["stage2_points"].clip(-limit, limit), group["stage1_points"].clip(-limit, limit), ".",
                    color=MIXTURE_COLOURS[mixture], alpha=0.5, label=MIXTURE_LABELS[mixture])
        ax.axhline(0, color="0.5", lw=0.8)
        ax.axvline(0, color="0.5", lw=0.8)
        ax.set(xlim=(-limit, limit), ylim=(-limit, limit), aspect="equal", title=method)
    for ax in axes[-1]:
        ax.set_xlabel("stage 2: g(L) − acc (points)")
    for ax in axes[:, 0]:
        ax.set_ylabel("stage 1: g(L̂) − g(L) (points)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    figure.suptitle(title)
    return figure
