"""Figures of chapter 5: pass@k against compute and k, backtests, and the training-sampling trade-off.

Every function draws one panel per code benchmark in the book style
(:func:`scalelib.plots.style.use_book_style`) and returns the matplotlib figure. Fitted
curves are drawn only over the domain the law was fitted on, unless a function says
otherwise; the two extrapolation figures (:func:`plot_compute_extrapolation`,
:func:`plot_k_extrapolation`) draw forecasts beyond it, with their prediction
intervals shaded (:func:`scalelib.plots.style.shade_interval`) and the held-out values
hollow in a grey region, as :func:`scalelib.plots.figures.plot_forecasts` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from scalelib.data.benchmark_info import BENCHMARKS
from scalelib.evaluation.intervals import LEVEL, IntervalPredictor, PredictionInterval
from scalelib.laws.pass_at_k import PassAtKLawFit, iso_pass_at_k
from scalelib.plots.style import (
    COMPUTE_LABEL,
    HELD_OUT_SHADE,
    log_scale_colour,
    shade_interval,
    shared_legend,
    small_multiples,
)

__all__ = [
    "plot_pass_at_k_vs_compute",
    "plot_pass_at_k_vs_k",
    "plot_backtests",
    "plot_compute_extrapolation",
    "plot_k_extrapolation",
    "plot_iso_pass_at_k",
    "plot_total_compute",
]

PANEL_SIZE = (3.2, 2.7)


def _panels(names: Sequence[str]) -> tuple[Figure, dict[str, plt.Axes]]:
    """One panel per benchmark, in a row, titled with the benchmark's label."""
    figure, axes = small_multiples(len(names), n_columns=len(names), panel_size=PANEL_SIZE)
    for name, ax in zip(names, axes):
        ax.set_title(BENCHMARKS[name].label)
    return figure, dict(zip(names, axes))


def _benchmarks(frame: pd.DataFrame) -> list[str]:
    return [name for name in BENCHMARKS if name in set(frame["benchmark"])]


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
    names = _benchmarks(frame)
    figure, axes = _panels(names)
    ks = sorted(frame["k"].unique())
    for name, ax in axes.items():
        rows = frame[frame["benchmark"] == name]
        grid = np.logspace(np.log10(rows["flops"].min()), np.log10(rows["flops"].max()), 100)
        for k in ks:
            at_k = rows[rows["k"] == k]
            colour = log_scale_colour(k, ks)
            ax.plot(at_k["flops"], at_k["value"], "o", ms=2.5, color=colour, alpha=0.7, label=f"k = {k}")
            if name in fits:
                ax.plot(grid, fits[name].predict(grid, k), color=colour, lw=1.2)
        ax.set(xscale="log", xlabel=COMPUTE_LABEL, ylim=(0, None))
    axes[names[0]].set_ylabel("pass@k")
    shared_legend(figure, list(axes.values()))
    figure.suptitle(title)
    return figure


def _runs_spanning_compute(frame: pd.DataFrame, n_runs: int) -> pd.Series:
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
    names = _benchmarks(frame)
    figure, axes = _panels(names)
    computes = _runs_spanning_compute(frame, n_runs)
    k_grid = np.logspace(0, np.log2(frame["k"].max()), 50, base=2)
    for name, ax in axes.items():
        rows = frame[frame["benchmark"] == name]
        for run, compute in computes.items():
            colour = log_scale_colour(compute, list(computes))
            at_run = rows[rows["run"] == run]
            ax.plot(at_run["k"], at_run["value"], "o", color=colour, label=f"C = {compute:.1e} FLOPs")
            if name in fits:
                ax.plot(k_grid, fits[name].predict(compute, k_grid), color=colour, lw=1.2)
        ax.set(xscale="log", xlabel="samples per problem k", ylim=(0, None))
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda value, _: f"{value:g}"))
    axes[names[0]].set_ylabel("pass@k")
    shared_legend(figure, list(axes.values()))
    figure.suptitle(title)
    return figure


def plot_backtests(results: Mapping[str, pd.DataFrame], *, title: str) -> Figure:
    """Predicted against observed pass@k for each backtest, one panel per split, one colour per benchmark.

    Parameters
    ----------
    results
        ``{panel title: result of scalelib.evaluation.backtest.backtest / backtest_split}``.
    """
    figure, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.9), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (label, result) in zip(axes[0], results.items()):
        top = 1.05 * float(np.nanmax(result[["observed", "predicted"]].to_numpy()))
        ax.plot([0, top], [0, top], color="0.5", lw=1, ls="--", label="perfect forecast")
        for colour, name in zip(colours, [b for b in BENCHMARKS if b in set(result["benchmark"])]):
            rows = result[result["benchmark"] == name]
            ax.plot(rows["observed"], rows["predicted"], "o", color=colour, alpha=0.7,
                    label=BENCHMARKS[name].label)
        ax.set(xlim=(0, top), ylim=(0, top), xlabel="observed pass@k", title=label, aspect="equal")
    axes[0, 0].set_ylabel("predicted pass@k")
    shared_legend(figure, axes[0])
    figure.suptitle(title)
    return figure


def _intervals_by_curve(
    predict: IntervalPredictor, compute: np.ndarray, k: np.ndarray, n_items: int, level: float
) -> list[PredictionInterval]:
    """Intervals of Eq. 5 on the broadcast (curve, point) grid of ``compute`` and ``k``, one per curve (row).

    All points are forecast in one call: a bootstrap predictor refits its resamples at
    every call, so one call per curve would multiply the cost.
    """
    compute, k = np.broadcast_arrays(np.asarray(compute, dtype=float), np.asarray(k, dtype=float))
    rows = pd.DataFrame({"flops": compute.ravel(), "k": k.ravel(), "n_items": n_items})
    interval = predict(rows, level)
    n_points = compute.shape[1]
    return [
        replace(interval, **{field: getattr(interval, field)[start:start + n_points]
                             for field in ("predicted", "lower", "upper")})
        for start in range(0, compute.size, n_points)
    ]


def _held_out_legend_entries(ax: plt.Axes) -> None:
    """Legend entries for filled (fitted) and hollow (held-out) markers of any colour."""
    ax.plot([], [], "o", color="0.25", label="fitted values")
    ax.plot([], [], "o", mfc="none", color="0.25", label="held-out values")


def plot_compute_extrapolation(
    frame: pd.DataFrame,
    predictors: Mapping[str, IntervalPredictor],
    *,
    compute_cut: float,
    ks: Sequence[int],
    level: float = LEVEL,
    title: str,
) -> Figure:
    """pass@k against compute at a few k: Eq. 5 fitted below a compute cut, forecast above it with its interval.

    Values of runs above ``compute_cut`` are hollow, in a grey region; for each k in
    ``ks`` the point forecast is a line and its interval a band in the colour of that k
    (the colours of :func:`plot_pass_at_k_vs_compute`), from the smallest run to 1.5
    times the largest.

    Parameters
    ----------
    frame
        One mixture's ``kept`` rows of :func:`scalelib.laws.pass_at_k.load_pass_at_k`.
    predictors
        ``{benchmark: IntervalPredictor}`` fitted to the benchmark's rows at or below
        ``compute_cut`` (e.g. by :func:`scalelib.evaluation.intervals.bootstrap_interval_fitter`
        with :func:`scalelib.laws.pass_at_k.pass_at_k_forecaster`); a benchmark without one
        shows data only.
    compute_cut
        Largest compute of the fitted runs.
    ks
        The k to draw (a few, to stay readable).
    level
        Nominal coverage of the bands.
    """
    names = _benchmarks(frame)
    figure, axes = _panels(names)
    all_ks = sorted(frame["k"].unique())
    grid = np.logspace(np.log10(frame["flops"].min()), np.log10(1.5 * frame["flops"].max()), 120)
    for name, ax in axes.items():
        rows = frame[frame["benchmark"] == name]
        ax.axvspan(compute_cut, grid[-1], color=HELD_OUT_SHADE, zorder=0)
        _held_out_legend_entries(ax)
        for k in ks:
            colour = log_scale_colour(k, all_ks)
            at_k = rows[rows["k"] == k]
            fitted = at_k["flops"] <= compute_cut
            ax.plot(at_k.loc[fitted, "flops"], at_k.loc[fitted, "value"], "o", ms=3, color=colour)
            ax.plot(at_k.loc[~fitted, "flops"], at_k.loc[~fitted, "value"], "o", ms=3, mfc="none", color=colour)
        if name in predictors:
            intervals = _intervals_by_curve(
                predictors[name], grid[None, :], np.asarray(ks)[:, None], rows["n_items"].iloc[0], level
            )
            for k, interval in zip(ks, intervals):
                colour = log_scale_colour(k, all_ks)
                shade_interval(ax, grid, interval.lower, interval.upper, colour=colour, level=level)
                ax.plot(grid, interval.predicted, color=colour, lw=1.2, label=f"Eq. 5, k = {k}")
        ax.set(xscale="log", xlabel=COMPUTE_LABEL, xlim=(grid[0], grid[-1]), ylim=(0, None))
    axes[names[0]].set_ylabel("pass@k")
    shared_legend(figure, list(axes.values()))
    figure.suptitle(title)
    return figure


def plot_k_extrapolation(
    frame: pd.DataFrame,
    predictors: Mapping[str, IntervalPredictor],
    *,
    k_cut: int,
    n_runs: int = 3,
    level: float = LEVEL,
    title: str,
) -> Figure:
    """pass@k against k for a few runs: Eq. 5 fitted to k <= ``k_cut``, forecast above it with its interval.

    The runs are chosen as in :func:`plot_pass_at_k_vs_k`. Values at k above ``k_cut``
    are hollow, in a grey region; each run's forecast at its compute is a line over
    every k and its interval a band over the forecast region.

    Parameters
    ----------
    frame
        One mixture's ``kept`` rows of :func:`scalelib.laws.pass_at_k.load_pass_at_k`.
    predictors
        ``{benchmark: IntervalPredictor}`` fitted to the benchmark's rows with
        ``k <= k_cut``; a benchmark without one shows data only.
    k_cut
        Largest fitted k.
    n_runs
        Number of runs drawn per panel.
    level
        Nominal coverage of the bands.
    """
    names = _benchmarks(frame)
    figure, axes = _panels(names)
    computes = _runs_spanning_compute(frame, n_runs)
    k_grid = np.logspace(0, np.log2(frame["k"].max()), 50, base=2)
    beyond = k_grid >= k_cut
    for name, ax in axes.items():
        rows = frame[frame["benchmark"] == name]
        ax.axvspan(k_cut, 1.3 * k_grid[-1], color=HELD_OUT_SHADE, zorder=0)
        _held_out_legend_entries(ax)
        colours = [log_scale_colour(compute, list(computes)) for compute in computes]
        for colour, run in zip(colours, computes.index):
            at_run = rows[rows["run"] == run]
            fitted = at_run["k"] <= k_cut
            ax.plot(at_run.loc[fitted, "k"], at_run.loc[fitted, "value"], "o", color=colour)
            ax.plot(at_run.loc[~fitted, "k"], at_run.loc[~fitted, "value"], "o", mfc="none", color=colour)
        if name in predictors:
            intervals = _intervals_by_curve(
                predictors[name], computes.to_numpy()[:, None], k_grid[None, :], rows["n_items"].iloc[0], level
            )
            for colour, compute, interval in zip(colours, computes, intervals):
                shade_interval(ax, k_grid[beyond], interval.lower[beyond], interval.upper[beyond],
                               colour=colour, level=level)
                ax.plot(k_grid, interval.predicted, color=colour, lw=1.2, label=f"Eq. 5 at C = {compute:.1e} FLOPs")
        ax.set(xscale="log", xlabel="samples per problem k", xlim=(0.8, 1.3 * k_grid[-1]), ylim=(0, None))
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda value, _: f"{value:g}"))
    axes[names[0]].set_ylabel("pass@k")
    shared_legend(figure, list(axes.values()), max_columns=3)
    figure.suptitle(title)
    return figure


def plot_iso_pass_at_k(
    fits: Mapping[str, PassAtKLawFit], targets: Mapping[str, Sequence[float]], *, title: str
) -> Figure:
    """Iso-pass@k curves of Eq. 5 in the (training compute, k) plane, over each fit's domain.

    The shading is the predicted pass@k; each line is one target level, reached with
    any (C, k) on it. Lines drawn dashed beyond the fitted compute range are
    extrapolations.

    Parameters
    ----------
    fits
        ``{benchmark: PassAtKLawFit}``.
    targets
        ``{benchmark: pass@k levels to draw}``.
    """
    names = [name for name in BENCHMARKS if name in fits]
    figure, axes = _panels(names)
    k_grid = np.logspace(0, np.log2(max(fit.k_range[1] for fit in fits.values())), 60, base=2)
    for name, ax in axes.items():
        fit = fits[name]
        low, high = fit.compute_range
        compute_grid = np.logspace(np.log10(low), np.log10(high), 80)
        shading = ax.pcolormesh(compute_grid, k_grid, fit.predict(compute_grid[None, :], k_grid[:, None]),
                                shading="auto", cmap="Greys", vmin=0, vmax=1, alpha=0.6)
        for colour_index, target in enumerate(targets[name]):
            needed = fit.compute_needed(target, k_grid)
            inside = (needed >= low) & (needed <= high)
            colour = f"C{colour_index}"
            ax.plot(needed, k_grid, color=colour, lw=1.2, ls="--")
            ax.plot(np.where(inside, needed, np.nan), k_grid, color=colour, lw=2, label=f"pass@k = {target:g}")
        ax.set(xscale="log", yscale="log", xlabel=COMPUTE_LABEL)
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda value, _: f"{value:g}"))
        ax.legend(fontsize=7, loc="lower left")
    lowest_needed = min(np.nanmin(fits[name].compute_needed(min(targets[name]), k_grid)) for name in names)
    highest_fitted = max(fit.compute_range[1] for fit in fits.values())
    axes[names[0]].set_xlim(lowest_needed / 3, highest_fitted * 10)  # x is shared by the panels
    axes[names[0]].set_ylabel("samples per problem k")
    figure.colorbar(shading, ax=list(axes.values()), label="predicted pass@k", shrink=0.8)
    figure.suptitle(title)
    return figure


def plot_total_compute(
    fits: Mapping[str, PassAtKLawFit],
    targets: Mapping[str, float],
    volumes: Sequence[float],
    *,
    k: Sequence[float],
    tpr: float,
    tokens_per_sample: float,
    title: str,
) -> Figure:
    """Total compute (training + inference) along each iso-pass@k curve, for several inference volumes.

    One line per number of problems solved with the model; the grey line is training
    compute alone. The cheapest k of each line is marked; hollow markers are (C, k)
    outside the fitted compute range (extrapolations of Eq. 5).

    Parameters
    ----------
    fits
        ``{benchmark: PassAtKLawFit}``.
    targets
        ``{benchmark: the pass@k to reach}``.
    volumes
        Numbers of problems the model will solve (inference volume).
    k, tpr, tokens_per_sample
        Passed to :func:`scalelib.laws.pass_at_k.iso_pass_at_k`.
    """
    names = [name for name in BENCHMARKS if name in fits]
    figure, axes = _panels(names)
    for name, ax in axes.items():
        training = iso_pass_at_k(fits[name], targets[name], k, tpr=tpr, tokens_per_sample=tokens_per_sample,
                                 n_problems=0)
        ax.plot(training["k"], training["training_flops"], color="0.55", lw=2, label="training only")
        for index, volume in enumerate(volumes):
            iso = iso_pass_at_k(fits[name], targets[name], k, tpr=tpr, tokens_per_sample=tokens_per_sample,
                                n_problems=volume)
            colour = log_scale_colour(volume, list(volumes))
            ax.plot(iso["k"], iso["total_flops"], "-", color=colour, lw=1.2, label=f"{volume:.0e} problems".replace("e+0", "e").replace("e+", "e"))
            ax.plot(iso["k"], iso["total_flops"].where(~iso["extrapolated"]), "o", color=colour, ms=3)
            ax.plot(iso["k"], iso["total_flops"].where(iso["extrapolated"]), "o", mfc="none", color=colour, ms=3)
            cheapest = iso.loc[iso["total_flops"].idxmin()]
            ax.plot(cheapest["k"], cheapest["total_flops"], "*", ms=11, color=colour, mec="black", mew=0.5)
        ax.set(xscale="log", yscale="log", xlabel="samples per problem k",
               title=f"{BENCHMARKS[name].label}: pass@k = {targets[name]:g}")
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda value, _: f"{value:g}"))
    axes[names[0]].set_ylabel("total compute (FLOPs)")
    shared_legend(figure, list(axes.values()))
    figure.suptitle(title)
    return figure
