"""One figure style for the whole book.

Every chapter calls :func:`use_book_style` once; figures then share fonts, colours,
grid and resolution (PNG at 100 dpi keeps the committed notebooks small).
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

__all__ = [
    "MIXTURE_COLOURS",
    "MIXTURE_LABELS",
    "COMPUTE_LABEL",
    "use_book_style",
    "ORDERED_COLOURMAP",
    "ORDERED_COLOURMAP_END",
    "log_scale_colour",
    "small_multiples",
    "shared_legend",
    "label_outer_axes",
    "HELD_OUT_SHADE",
    "INTERVAL_ALPHA",
    "shade_interval",
]

MIXTURE_COLOURS = {"dclm": "#1f5fa8", "c4": "#c8553d"}
MIXTURE_LABELS = {"dclm": "DCLM mixture", "c4": "C4"}
COMPUTE_LABEL = "training compute C = 6ND (FLOPs)"
HELD_OUT_SHADE = "0.92"
"""Grey of the region of held-out runs (beyond a backtest's cut) in every figure."""
INTERVAL_ALPHA = 0.2
"""Opacity of every shaded prediction interval, so bands look alike across chapters."""

_STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.figsize": (6.4, 4.0),
    "figure.constrained_layout.use": True,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "lines.markersize": 4,
    "image.cmap": "viridis",
}


def use_book_style() -> None:
    """Apply the book's matplotlib style and pandas display precision."""
    mpl.rcParams.update(_STYLE)
    pd.set_option("display.precision", 3)
    pd.set_option("display.width", 120)


ORDERED_COLOURMAP = "plasma"
"""Colour map of ordered values (ratios, k, compute): perceptually uniform and readable in
grey, and its hue changes from one end to the other (dark blue, purple, pink, orange), so
neighbouring values such as tpr 10 and tpr 20 differ in hue, not only in lightness as
on viridis's dark end."""

ORDERED_COLOURMAP_END = 0.85
"""The largest value is drawn at this position of the map: its last stretch is a pale
yellow that is hard to see on white."""


def log_scale_colour(value: float, values: list[float]) -> tuple[float, float, float, float]:
    """Colour of ``value`` on a log scale spanning ``values`` (:data:`ORDERED_COLOURMAP`): a ratio, k, compute ..."""
    low, high = np.log(min(values)), np.log(max(values))
    position = 0.5 if high == low else (np.log(value) - low) / (high - low)
    return plt.get_cmap(ORDERED_COLOURMAP)(ORDERED_COLOURMAP_END * position)


def small_multiples(n_panels: int, *, n_columns: int = 4, panel_size: tuple[float, float] = (2.6, 2.1)):
    """A grid of panels sharing the x axis; unused panels are switched off.

    Returns
    -------
    (figure, axes)
        ``axes`` is a flat array of the first ``n_panels`` axes.
    """
    n_rows = int(np.ceil(n_panels / n_columns))
    figure, grid = plt.subplots(
        n_rows, n_columns, sharex=True,
        figsize=(panel_size[0] * n_columns, panel_size[1] * n_rows + 0.4),
    )
    axes = np.atleast_1d(grid).ravel()
    for extra in axes[n_panels:]:
        extra.set_visible(False)
    return figure, axes[:n_panels]


def shared_legend(figure, axes, *, max_columns: int | None = None) -> None:
    """One legend below the panels, with each label once (the first handle drawn for it)."""
    handles = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    n_columns = len(handles) if max_columns is None else min(len(handles), max_columns)
    figure.legend(list(handles.values()), list(handles), loc="outside lower center", ncols=n_columns)


def label_outer_axes(axes, n_columns: int, *, xlabel: str, ylabel: str) -> None:
    """X labels (and tick labels) on the bottom panel of each column, y labels on the first column.

    For the flat array of :func:`small_multiples`: the last ``n_columns`` panels are the
    bottom of their columns, also when the last row is incomplete.
    """
    for ax in axes[-n_columns:]:
        ax.set_xlabel(xlabel)
        ax.xaxis.set_tick_params(labelbottom=True)
    for ax in axes[::n_columns]:
        ax.set_ylabel(ylabel)


def shade_interval(ax, compute, lower, upper, *, colour, level: float, label: str | None = None) -> None:
    """Shade a prediction interval between ``lower`` and ``upper`` along ``compute``.

    The band is labelled ``"<label>, 90% interval"`` (or ``"90% interval"``) for the
    legend, in the colour of the law's line at :data:`INTERVAL_ALPHA` opacity.
    """
    band = f"{level:.0%} interval" if label is None else f"{label}, {level:.0%} interval"
    ax.fill_between(compute, lower, upper, color=colour, alpha=INTERVAL_ALPHA, lw=0, label=band)
