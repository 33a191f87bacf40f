"""The figure of :func:`scalelib.runs.your_runs.forecast_runs`: one panel per group of runs, its forecasts and interval."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalelib.laws.interval_math import LEVEL
from scalelib.data.validation import ScalingDataError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from scalelib.runs.your_runs import RunsForecast

__all__ = ["plot_runs_forecast"]


def plot_runs_forecast(result: RunsForecast, *, level: float = LEVEL) -> Figure:
    """One panel per group: its runs (crosses: not fitted), the law's curve and interval, the forecasts."""
    from scalelib.plots.style import (
        label_outer_axes,
        shade_interval,
        shared_legend,
        small_multiples,
        use_book_style,
    )

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
