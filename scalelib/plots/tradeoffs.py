"""Figures of trade-offs: iso-accuracy and iso-pass@k curves, optimal ratios, total compute.

Where one target is reached by many choices (parameters and tokens at one compute;
training compute and samples per problem), and which choice is cheapest. All functions
draw in the book style (:func:`scalelib.plots.style.use_book_style`) and return the
matplotlib figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from scalelib.data.benchmark_info import BENCHMARKS
from scalelib.laws.compute_optimal import (
    CONFIDENCE_Z,
    optimal_log_ratio_stderr,
    optimal_params,
    optimal_ratio,
    optimal_tokens,
)
from scalelib.laws.pass_at_k import PassAtKLawFit, iso_pass_at_k
from scalelib.laws.ratio_law import RatioLawFit
from scalelib.plots.style import (
    COMPUTE_LABEL,
    WIDE_PANEL_SIZE,
    label_outer_axes,
    log_scale_colour,
    shared_legend,
    small_multiples,
)

__all__ = ["plot_iso_accuracy", "plot_optimal_ratio_vs_compute", "plot_iso_pass_at_k", "plot_total_compute"]


def plot_iso_accuracy(
    fits: Mapping[str, RatioLawFit],
    runs: pd.DataFrame,
    *,
    title: str,
    compute_range: tuple[float, float] = (1e18, 1e24),
) -> Figure:
    """Iso-accuracy contours of Eq. 4 in the (N, D) plane, with the compute-optimal frontier.

    Parameters
    ----------
    fits
        Eq. 4 fit per benchmark, one panel each.
    runs
        The fitted runs (columns ``params``, ``tokens``, ``tpr``), drawn as points.
    compute_range
        Budgets spanned by the frontier and the dotted iso-compute lines.
    """
    figure, axes = small_multiples(len(fits), n_columns=len(fits), panel_size=(3.3, 3.5), sharex=False, sharey=True)
    params = np.logspace(7, 12, 120)
    tokens = np.logspace(8.5, 13.5, 120)
    budgets = np.logspace(np.log10(compute_range[0]), np.log10(compute_range[1]), 50)
    tprs = sorted(runs["tpr"].unique())
    for ax, (name, fit) in zip(axes, fits.items()):
        grid_params, grid_tokens = np.meshgrid(params, tokens)
        accuracy = fit.predict(grid_params, grid_tokens).reshape(grid_params.shape)
        levels = np.unique(np.round(np.linspace(np.quantile(accuracy, 0.05), np.quantile(accuracy, 0.95), 7), 2))
        contours = ax.contour(grid_params, grid_tokens, accuracy, levels=levels, colors="0.35", linewidths=0.9)
        ax.clabel(contours, fontsize=7, fmt="%.2f", inline_spacing=2)
        for exponent in range(int(np.log10(compute_range[0])), int(np.log10(compute_range[1])) + 1, 2):
            ax.plot(params, 10.0**exponent / (6 * params), ls=":", lw=0.7, color="0.6")
        for tpr in tprs:
            at_ratio = runs[runs["tpr"] == tpr]
            ax.plot(at_ratio["params"], at_ratio["tokens"], "o", ms=2.5, color=log_scale_colour(tpr, tprs),
                    label=f"runs, tpr {tpr:g}")
        ax.plot(optimal_params(fit, budgets), optimal_tokens(fit, budgets), color="#c8553d", lw=2,
                label="compute-optimal frontier")
        ax.plot(params, 20 * params, ls="--", lw=1, color="0.3", label="tpr 20")
        ax.set(xscale="log", yscale="log", xlim=(params[0], params[-1]), ylim=(tokens[0], tokens[-1]),
               xlabel="parameters N", title=BENCHMARKS[name].label)
    axes[0].set_ylabel("training tokens D")
    shared_legend(figure, axes, max_columns=7)
    figure.suptitle(title)
    return figure


def plot_optimal_ratio_vs_compute(
    fits: Mapping[str, RatioLawFit],
    *,
    data_ratios: tuple[float, float],
    title: str,
    compute_range: tuple[float, float] = (1e19, 1e25),
    n_columns: int = 5,
) -> Figure:
    """Compute-optimal tpr against budget per benchmark, with its delta-method 95% band.

    ``data_ratios`` (smallest, largest ratio of the runs) is shaded: outside it the
    optimum is an extrapolation in ratio. The loss-optimal ratio 20 is dashed.
    """
    budgets = np.logspace(np.log10(compute_range[0]), np.log10(compute_range[1]), 40)
    figure, axes = small_multiples(len(fits), n_columns=n_columns, panel_size=(2.1, 1.9))
    for ax, (name, fit) in zip(axes, fits.items()):
        ratio = optimal_ratio(fit, budgets)
        half_width = CONFIDENCE_Z * np.array([optimal_log_ratio_stderr(fit, budget) for budget in budgets])
        ax.axhspan(*data_ratios, color="0.92", zorder=0, label=f"ratios of the runs ({data_ratios[0]:g} to {data_ratios[1]:g})")
        ax.axhline(20, ls="--", lw=1, color="0.4", label="tpr 20 (loss-optimal, Chinchilla)")
        ax.fill_between(budgets, ratio * np.exp(-half_width), ratio * np.exp(half_width), color="#1f5fa8",
                        alpha=0.25, lw=0, label="95% interval (delta method)")
        ax.plot(budgets, ratio, color="#1f5fa8", lw=1.6, label="compute-optimal tpr (Eq. 4)")
        ax.set(xscale="log", yscale="log", ylim=(0.5, 2000))
        ax.set_title(BENCHMARKS[name].label, fontsize=9)
    label_outer_axes(axes, n_columns, xlabel="compute C (FLOPs)", ylabel="optimal tpr")
    shared_legend(figure, axes, max_columns=7)
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
    figure, axes = small_multiples(len(names), n_columns=len(names), panel_size=WIDE_PANEL_SIZE)
    k_grid = np.logspace(0, np.log2(max(fit.k_range[1] for fit in fits.values())), 60, base=2)
    for name, ax in zip(names, axes):
        ax.set_title(BENCHMARKS[name].label)
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
    axes[0].set_xlim(lowest_needed / 3, highest_fitted * 10)  # x is shared by the panels
    axes[0].set_ylabel("samples per problem k")
    figure.colorbar(shading, ax=list(axes), label="predicted pass@k", shrink=0.8)
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
    figure, axes = small_multiples(len(names), n_columns=len(names), panel_size=WIDE_PANEL_SIZE)
    for name, ax in zip(names, axes):
        ax.set_title(BENCHMARKS[name].label)
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
    axes[0].set_ylabel("total compute (FLOPs)")
    shared_legend(figure, list(axes))
    figure.suptitle(title)
    return figure
