"""Figures of backtest errors: per benchmark and method, predicted against observed, split by stage.

All functions draw in the book style (:func:`scalelib.plots.style.use_book_style`) and
return the matplotlib figure.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator

from scalelib.data.benchmark_info import BENCHMARKS
from scalelib.evaluation.auto_forecast import AutoForecast, _combined_inner_errors
from scalelib.plots.style import (
    CANDIDATE_COLOURS,
    MIXTURE_COLOURS,
    MIXTURE_LABELS,
    method_colours,
    shared_legend,
    small_multiples,
    use_book_style,
)

__all__ = [
    "plot_backtest_errors",
    "plot_method_errors",
    "plot_error_decomposition",
    "plot_backtests",
    "plot_inner_backtests",
]


_MARKERS = ("o", "s", "^", "D", "v", "P")


def plot_backtest_errors(summaries: Mapping[str, pd.DataFrame], *, title: str) -> Figure:
    """Mean absolute error per benchmark of each law, one panel per kind of split.

    Parameters
    ----------
    summaries
        ``{panel title: frame}``; each frame is indexed by benchmark with one column per
        law, holding the mean absolute error in accuracy points.
    """
    figure, axes = small_multiples(
        len(summaries), n_columns=len(summaries), panel_size=(9.0 / len(summaries), 4.2), sharex=False, sharey=True
    )
    laws = list(dict.fromkeys(law for errors in summaries.values() for law in errors.columns))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = {law: (marker, colour) for law, marker, colour in zip(laws, "so^D", colours)}
    ticks = [0.3, 1, 3, 10, 30]
    for ax, (panel, errors) in zip(axes, summaries.items()):
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
    axes[0].invert_yaxis()  # the y axis is shared: first benchmark on top
    shared_legend(figure, axes, max_columns=7)
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
    colours = method_colours(methods)
    panels = list(dict.fromkeys(zip(summary["mixture"], summary["split"])))
    figure, axes = small_multiples(len(panels), n_columns=len(panels), panel_size=(2.6, 4.8), margins=(1.2, 0.4))
    names = [name for name in BENCHMARKS if name in set(summary["benchmark"])]
    positions = {name: i for i, name in enumerate(reversed(names))}
    offsets = np.linspace(-0.3, 0.3, len(methods))
    for ax, (mixture, split) in zip(axes, panels):
        rows = summary[(summary["mixture"] == mixture) & (summary["split"] == split)]
        for offset, marker, method in zip(offsets, _MARKERS, methods):
            points = rows[(rows["method"] == method) & rows["mean_abs_error"].notna()]
            ax.plot(points["mean_abs_error"], points["benchmark"].map(positions) + offset, marker, ls="none",
                    color=colours[method], label=method)
        ax.set_yticks(list(positions.values()), [BENCHMARKS[name].label for name in positions])
        ax.set_ylim(-0.6, len(names) - 0.4)
        ax.set(xscale="log", xlabel="mean |error| (accuracy points)", title=f"{MIXTURE_LABELS[mixture]}, {split}")
        ax.title.set_fontsize(9)
    for ax in axes[1:]:
        ax.tick_params(labelleft=False)
    handles, labels = axes[0].get_legend_handles_labels()
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
    figure, axes = small_multiples(len(methods), n_columns=2, panel_size=(3.5, 3.2), margins=(0.0, 0.6), sharey=True)
    for ax, method in zip(axes, methods):
        rows = decomposition[decomposition["method"] == method]
        ax.fill_between([0, limit], 0, limit, color="0.92", zorder=0)
        ax.fill_between([-limit, 0], -limit, 0, color="0.92", zorder=0)
        for mixture, group in rows.groupby("mixture", sort=False):
            ax.plot(group["stage2_points"].clip(-limit, limit), group["stage1_points"].clip(-limit, limit), ".",
                    color=MIXTURE_COLOURS[mixture], alpha=0.5, label=MIXTURE_LABELS[mixture])
        ax.axhline(0, color="0.5", lw=0.8)
        ax.axvline(0, color="0.5", lw=0.8)
        ax.set(xlim=(-limit, limit), ylim=(-limit, limit), aspect="equal", title=method)
    for ax in axes[(len(axes) - 1) // 2 * 2:]:  # the last row (a panel above an empty slot keeps no x label)
        ax.set_xlabel("stage 2: g(L) − acc (points)")
    for ax in axes[::2]:
        ax.set_ylabel("stage 1: g(L̂) − g(L) (points)")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    figure.suptitle(title)
    return figure


def plot_backtests(results: Mapping[str, pd.DataFrame], *, title: str) -> Figure:
    """Predicted against observed pass@k for each backtest, one panel per split, one colour per benchmark.

    Parameters
    ----------
    results
        ``{panel title: result of scalelib.evaluation.backtest.backtest / backtest_split}``.
    """
    figure, axes = small_multiples(len(results), n_columns=len(results), panel_size=(4.2, 3.5), sharex=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (label, result) in zip(axes, results.items()):
        top = 1.05 * float(np.nanmax(result[["observed", "predicted"]].to_numpy()))
        ax.plot([0, top], [0, top], color="0.5", lw=1, ls="--", label="perfect forecast")
        for colour, name in zip(colours, [b for b in BENCHMARKS if b in set(result["benchmark"])]):
            rows = result[result["benchmark"] == name]
            ax.plot(rows["observed"], rows["predicted"], "o", color=colour, alpha=0.7,
                    label=BENCHMARKS[name].label)
        ax.set(xlim=(0, top), ylim=(0, top), xlabel="observed pass@k", title=label, aspect="equal")
    axes[0].set_ylabel("predicted pass@k")
    shared_legend(figure, axes)
    figure.suptitle(title)
    return figure


def plot_inner_backtests(fitted: AutoForecast, *, title: str, compute_column: str = "flops") -> Figure:
    """Inner errors (points) against reach (decades beyond the inner fit over its span), per candidate.

    The combination's errors are drawn in black; the grey band is the interval
    ``+- t tau r`` their drift rate implies (without evaluation noise).
    """
    use_book_style()
    figure, ax = plt.subplots(figsize=(6.4, 3.6))
    inner = fitted.inner.dropna(subset=["predicted"])
    for name, rows in inner.groupby("candidate", sort=False):
        reach = rows["distance_decades"] / rows["span_decades"]
        weight = fitted.weights.get(str(name), 0.0)
        ax.plot(reach, rows["error_points"], "o", ms=3, alpha=0.7, color=CANDIDATE_COLOURS.get(str(name), "C7"),
                label=f"{name} (weight {weight:.2f})")
    if fitted.weights:
        combined = _combined_inner_errors(fitted.inner, fitted.weights, compute_column)
        reach = combined["distance_decades"] / combined["span_decades"]
        ax.plot(reach, combined["error_points"], "k.", ms=4, label="weighted combination")
        grid = np.linspace(0.0, float(reach.max()), 50)
        half = fitted.quantile * fitted.drift_points_per_span * grid
        ax.fill_between(grid, -half, half, color="0.5", alpha=0.2, lw=0, label="90% interval from the drift")
    ax.axhline(0.0, color="0.3", lw=0.8)
    ax.set_xlabel("reach: decades beyond the inner fit / decades it spans")
    ax.set_ylabel("forecast - observed (accuracy points)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="best")
    return figure
