"""The data of the direct-law chapter: the tpr-20 runs, the book's cuts, the direct law's backtests.

Chapter 2 comes in two parts that start from the same runs and the same backtests; they
are built here once, so that both parts (and a reader's exercise) use the same rows.
"""

from __future__ import annotations

import pandas as pd

from scalelib import data
from scalelib.backtest import Fitter, backtest, backtest_at_cuts, summarise_backtest
from scalelib.benchmark_info import HEADLINE_BENCHMARKS
from scalelib.direct_law import direct_law_forecaster, fit_direct_law
from scalelib.intervals import IntervalFitter, backtest_intervals, summarise_intervals
from scalelib.normalise import drop_at_or_below_chance
from scalelib.per_benchmark import fit_law_by_benchmark

__all__ = [
    "BOOK_CUTS", "PAPER_CUT", "CASE_KEYS", "CHANCE_SHIFTS", "tpr20_scores", "direct_backtests",
    "chance_sensitivity",
]

BOOK_CUTS = {"dclm": [1e21, 1e22], "c4": [1e20, 1e21]}
"""The book's compute cuts (FLOPs) per mixture: about 1.6 and 0.6 decades below DCLM's
largest run, 1.8 and 0.8 below C4's."""

PAPER_CUT = 6e21
"""The paper's cut on DCLM: its figures are fitted below about 6e21 FLOPs."""

CHANCE_SHIFTS = (-0.01, 0.0, 0.01)
"""Shifts of a multiple-choice benchmark's nominal chance level tried by :func:`chance_sensitivity`.

A benchmark's chance is nominal (1 / the number of options); the answer options of real
items are not equally tempting, and a model's effective floor can sit a point or so away
from it."""

CASE_KEYS = ["mixture", "split", "benchmark"]
"""One backtest case: a benchmark of one mixture at one cut."""


def tpr20_scores() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The headline benchmarks at 20 tokens per parameter, both mixtures.

    Returns
    -------
    scores, usable, dropped
        Every (run, benchmark) score of the default metric; those strictly above chance
        (the law's domain); those at or below it
        (:func:`scalelib.normalise.drop_at_or_below_chance`).
    """
    scores = data.accuracy_frame(tpr=20, benchmarks=HEADLINE_BENCHMARKS)
    usable, dropped = drop_at_or_below_chance(scores)
    return scores, usable, dropped


def direct_backtests(
    usable: pd.DataFrame, interval_fitter: IntervalFitter, *, cuts: dict[str, list[float]] | None = None,
    point_fitter: Fitter | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The direct law backtested at the book's cuts, points and intervals, and their summary.

    Parameters
    ----------
    usable
        Rows strictly above chance (:func:`tpr20_scores`).
    interval_fitter
        The interval fitter, e.g. ``law_interval_fitter("direct")``.
    cuts
        ``{mixture: cuts}``; default :data:`BOOK_CUTS`.
    point_fitter
        The point fitter; default Eq. 2's closed form.

    Returns
    -------
    points, intervals, summary
        The two backtests (:func:`scalelib.backtest.backtest_at_cuts`) and one row per
        case (:data:`CASE_KEYS`): :func:`scalelib.backtest.summarise_backtest` with the
        intervals' ``coverage`` and ``mean_width_points``.
    """
    cuts = BOOK_CUTS if cuts is None else cuts
    points = backtest_at_cuts(usable, point_fitter or direct_law_forecaster(), cuts)
    intervals = backtest_at_cuts(usable, interval_fitter, cuts, run_backtest=backtest_intervals)
    coverage = summarise_intervals(intervals, by=CASE_KEYS)[[*CASE_KEYS, "coverage", "mean_width_points"]]
    return points, intervals, summarise_backtest(points).merge(coverage, on=CASE_KEYS, how="left")


def chance_sensitivity(
    scores: pd.DataFrame, *, compute_cut: float, shifts: tuple[float, ...] = CHANCE_SHIFTS
) -> pd.DataFrame:
    """How the direct law's exponent and backtest move when the nominal chance level moves.

    For every shift, each multiple-choice benchmark's chance (``chance > 0``) is moved by
    it; generative benchmarks (chance 0: no answer is right by guessing) keep theirs. The
    scores are then dropped at or below the shifted chance, as the chapter does, Eq. 2 is
    fitted to all remaining runs of each benchmark (its exponent) and backtested at
    ``compute_cut`` (its mean absolute error on the runs above the cut).

    Parameters
    ----------
    scores
        Rows of one ratio: ``run``, ``mixture``, ``benchmark``, ``flops``, ``value``,
        ``chance`` (e.g. the first frame of :func:`tpr20_scores`).
    compute_cut
        Compute of the backtest's cut, in FLOPs.
    shifts
        Shifts of the chance level, in accuracy (0.01 = one point).

    Returns
    -------
    pandas.DataFrame
        One row per mixture, benchmark and shift: ``mixture``, ``benchmark``, ``shift``, ``alpha``,
        ``mean_abs_error`` (points), ``n_runs`` (runs above the shifted chance). A
        benchmark left with too few runs to fit has NaN in its numbers.
    """
    rows = []
    multiple_choice = scores["chance"] > 0
    for shift in shifts:
        shifted = scores.assign(chance=scores["chance"] + shift * multiple_choice)
        usable, _ = drop_at_or_below_chance(shifted)
        fits, _ = fit_law_by_benchmark(usable, fit_direct_law)
        errors = summarise_backtest(backtest(usable, direct_law_forecaster(), compute_cut=compute_cut))
        errors = errors.set_index(["mixture", "benchmark"])["mean_abs_error"]
        for key in sorted(scores.groupby(["mixture", "benchmark"]).groups):
            fit = fits.get(key)
            rows.append({
                "mixture": key[0], "benchmark": key[1], "shift": shift,
                "alpha": fit.alpha if fit is not None else float("nan"),
                "mean_abs_error": float(errors.get(key, float("nan"))),
                "n_runs": int(((usable["mixture"] == key[0]) & (usable["benchmark"] == key[1])).sum()),
            })
    return pd.DataFrame(rows)
