"""One figure style for the whole book.

Every chapter calls :func:`use_book_style` once; figures then share fonts, colours,
grid and resolution (PNG at 100 dpi keeps the committed notebooks small).
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from scalelib.data.benchmark_info import BENCHMARKS

__all__ = [
    "MIXTURE_COLOURS",
    "MIXTURE_LABELS",
    "METHOD_COLOURS",
    "CANDIDATE_COLOURS",
    "method_colours",
    "COMPUTE_LABEL",
    "use_book_style",
    "ORDERED_COLOURMAP",
    "ORDERED_COLOURMAP_END",
    "log_scale_colour",
    "small_multiples",
    "WIDE_PANEL_SIZE",
    "benchmarks_in",
    "shared_legend",
    "label_outer_axes",
    "HELD_OUT_SHADE",
    "INTERVAL_ALPHA",
    "shade_interval",
]

MIXTURE_COLOURS = {"dclm": "#1f5fa8", "c4": "#c8553d"}
MIXTURE_LABELS = {"dclm": "DCLM mixture", "c4": "C4"}
METHOD_COLOURS = {"direct": "C0", "linear": "C1", "logistic": "C2", "FLP": "C3", "FLP-M": "C4"}
"""One colour per forecasting method (direct law, two-stage maps) in every figure (the order of
:func:`scalelib.plots.forecasts.plot_forecasts`'s colour cycle for direct, linear, logistic, FLP, FLP-M)."""
CANDIDATE_COLOURS = {"direct": "C0", "saturating": "C1", "bnsl": "C2", "ratio": "C4"}
"""One colour per candidate law of the auto forecaster, the same in every figure."""
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


def method_colours(labels: list[str]) -> dict[str, str]:
    """Each label's colour: the method's own (:data:`METHOD_COLOURS`) if it has one, else the next unused one of the cycle."""
    spare = iter(colour for colour in ("C5", "C6", "C7", "C8", "C9") if colour not in METHOD_COLOURS.values())
    return {label: METHOD_COLOURS.get(label) or next(spare) for label in labels}


def benchmarks_in(frame: pd.DataFrame) -> list[str]:
    """The benchmarks of ``frame`` (its ``benchmark`` column), in the book's order of :data:`~scalelib.data.benchmark_info.BENCHMARKS`."""
    present = set(frame["benchmark"])
    return [name for name in BENCHMARKS if name in present]


WIDE_PANEL_SIZE = (3.2, 2.7)
"""Panel size (inches) of a figure with one row of a few wide panels, e.g. the code benchmarks of pass@k."""


def small_multiples(
    n_panels: int,
    *,
    n_columns: int = 4,
    panel_size: tuple[float, float] = (2.6, 2.1),
    margins: tuple[float, float] = (0.0, 0.4),
    sharex: bool = True,
    sharey: bool | str = False,
):
    """A grid of panels, ``n_columns`` to a row; unused panels are switched off.

    Every multi-panel figure of the book starts here.

    Parameters
    ----------
    n_panels
        Number of panels; the last row may be incomplete.
    n_columns
        Panels per row (``n_panels`` for one row).
    panel_size
        Width and height of one panel (inches).
    margins
        Width and height added to the grid's (inches): room for long tick labels, the
        shared legend and the title.
    sharex, sharey
        As :func:`matplotlib.pyplot.subplots` (``sharey="row"``: one y axis per row).

    Returns
    -------
    (figure, axes)
        ``axes`` is a flat array of the first ``n_panels`` axes, row by row.
    """
    n_rows = int(np.ceil(n_panels / n_columns))
    figure, grid = plt.subplots(
        n_rows, n_columns, sharex=sharex, sharey=sharey,
        figsize=(panel_size[0] * n_columns + margins[0], panel_size[1] * n_rows + margins[1]),
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
