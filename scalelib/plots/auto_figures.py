"""Figures of the evidence-weighted forecaster (:mod:`scalelib.evaluation.auto_forecast`).

* :func:`plot_inner_backtests`: one benchmark's inner backtests, every candidate's
  error against its reach, with the interval the combination's errors imply;
* :func:`plot_auto_backtest`: small multiples of a backtest, the training runs, the
  held-out runs, and the forecast with its interval, or the refusal and its reason.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt
from matplotlib.figure import Figure

from scalelib.evaluation.auto_forecast import AutoForecast, _combined_inner_errors
from scalelib.data.benchmark_info import BENCHMARKS
from scalelib.plots.style import label_outer_axes, shade_interval, shared_legend, small_multiples, use_book_style

__all__ = ["plot_inner_backtests", "plot_auto_backtest"]

CANDIDATE_COLOURS = {"direct": "C0", "saturating": "C1", "bnsl": "C2", "ratio": "C4"}
"""One colour per candidate, the same in every figure."""


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
