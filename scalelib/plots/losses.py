"""Figures of validation loss: loss against compute with loss laws, accuracy against loss with maps.

The two stages of a two-stage forecast (compute -> loss -> accuracy). All functions
draw in the book style (:func:`scalelib.plots.style.use_book_style`) and return the
matplotlib figure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter

from scalelib.data.benchmark_info import BENCHMARKS
from scalelib.laws.loss_law import LossLawFit, own_validation_set
from scalelib.plots.style import (
    COMPUTE_LABEL,
    HELD_OUT_SHADE,
    MIXTURE_COLOURS,
    MIXTURE_LABELS,
    benchmarks_in,
    label_outer_axes,
    method_colours,
    shared_legend,
    small_multiples,
)

__all__ = ["plot_losses_vs_compute", "plot_loss_law_fits", "plot_accuracy_vs_loss"]


OWN_LOSS_LABEL = "own validation loss L (nats / token)"


_VALIDATION_LABELS = {"c4": "C4", "dclm": "DCLM", "fineweb": "FineWeb"}


def plot_losses_vs_compute(runs: pd.DataFrame, *, title: str) -> Figure:
    """Validation loss (nats per token) against compute: one panel per validation set."""
    sets = list(_VALIDATION_LABELS)
    figure, axes = small_multiples(len(sets), n_columns=len(sets), panel_size=(3.0, 2.8))
    for ax, name in zip(axes, sets):
        for mixture, group in runs.groupby("mixture", sort=False):
            ax.plot(group["flops"], group[f"loss_{name}"], "o", color=MIXTURE_COLOURS[mixture],
                    label=f"trained on {MIXTURE_LABELS[mixture]}", alpha=0.8)
        ax.set(xscale="log", xlabel=COMPUTE_LABEL, title=f"{_VALIDATION_LABELS[name]} validation set")
    axes[0].set_ylabel("validation loss (nats / token)")
    axes[0].legend()
    figure.suptitle(title)
    return figure


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
    figure, axes = small_multiples(len(mixtures), n_columns=len(mixtures), panel_size=(4.5, 3.2), sharex=False)
    colours = method_colours(list(fits))
    for ax, mixture in zip(axes, mixtures):
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
    axes[0].set_ylabel("validation loss (nats / token)")
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
    names = benchmarks_in(frame)
    figure, axes = small_multiples(len(names), n_columns=n_columns)
    colours = method_colours(list(maps))
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
