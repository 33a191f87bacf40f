"""The data of the direct-law chapter: the tpr-20 runs, the direct law's backtests at the book's cuts.

Chapter 2 comes in two parts that start from the same runs and the same backtests; they
are built here once, so that both parts (and a reader's exercise) use the same rows.
"""

from __future__ import annotations

import pandas as pd

from scalelib.data import released as data
from scalelib.interfaces import Forecaster
from scalelib.evaluation.backtest import above_chance_only, backtest, backtest_at_cuts, summarise_backtest
from scalelib.data.benchmark_info import HEADLINE_BENCHMARKS
from scalelib.book.compute_cuts import BOOK_CUTS, PAPER_CUT
from scalelib.laws.direct_law import direct_law_forecaster, fit_direct_law
from scalelib.evaluation.intervals import LEVEL, law_interval_forecaster, summarise_intervals
from scalelib.data.normalise import drop_at_or_below_chance
from scalelib.evaluation.per_benchmark import fit_law_by_benchmark

__all__ = [
    "BOOK_CUTS", "PAPER_CUT", "CASE_KEYS", "CHANCE_SHIFTS", "tpr20_scores", "direct_backtests",
    "chance_sensitivity", "DRIFT_DEGREES_TRIED", "coverage_by_drift_degrees_of_freedom",
    "cross_mixture_calibration",
]

CHANCE_SHIFTS = (-0.01, 0.0, 0.01)
"""Shifts of a multiple-choice benchmark's nominal chance level tried by :func:`chance_sensitivity`.

A benchmark's chance is nominal (1 / the number of options); the answer options of real
items are not equally tempting, and a model's effective floor can sit a point or so away
from it."""

DRIFT_DEGREES_TRIED = (1.0, 2.0, 3.0, 5.0, 10.0, float("inf"))
"""Degrees of freedom of the drift term's Student-t quantile tried by
:func:`coverage_by_drift_degrees_of_freedom` (infinity: a normal quantile)."""

CASE_KEYS = ["mixture", "split", "benchmark"]
"""One backtest case: a benchmark of one mixture at one cut."""


def tpr20_scores() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The headline benchmarks at 20 tokens per parameter, both mixtures.

    Returns
    -------
    scores, usable, dropped
        Every (run, benchmark) score of the default metric; those strictly above chance
        (the law's domain); those at or below it
        (:func:`scalelib.data.normalise.drop_at_or_below_chance`).
    """
    scores = data.accuracy_frame(tpr=20, benchmarks=HEADLINE_BENCHMARKS)
    usable, dropped = drop_at_or_below_chance(scores)
    return scores, usable, dropped


def direct_backtests(
    scores: pd.DataFrame, interval_forecaster: Forecaster, *, cuts: dict[str, list[float]] | None = None,
    point_forecaster: Forecaster | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The direct law backtested at the book's cuts, points and intervals, and their summary.

    The laws are fitted on the training runs strictly above chance
    (:func:`scalelib.evaluation.backtest.above_chance_only`), and every held-out run is scored at
    its observed value, at or below chance too.

    Parameters
    ----------
    scores
        Every score, at or below chance too (:func:`tpr20_scores`, first frame).
    interval_forecaster
        The interval forecaster, e.g. ``law_interval_forecaster("direct")``.
    cuts
        ``{mixture: cuts}``; default :data:`BOOK_CUTS`.
    point_forecaster
        The point forecaster; default Eq. 2's closed form.

    Returns
    -------
    points, intervals, summary
        The two backtests (:func:`scalelib.evaluation.backtest.backtest_at_cuts`) and one row per
        case (:data:`CASE_KEYS`): :func:`scalelib.evaluation.backtest.summarise_backtest` with the
        intervals' ``coverage`` and ``mean_width_points``.
    """
    cuts = BOOK_CUTS if cuts is None else cuts
    points = backtest_at_cuts(scores, above_chance_only(point_forecaster or direct_law_forecaster()), cuts)
    intervals = backtest_at_cuts(scores, above_chance_only(interval_forecaster), cuts)
    coverage = summarise_intervals(intervals, by=CASE_KEYS)[[*CASE_KEYS, "coverage", "mean_width_points"]]
    return points, intervals, summarise_backtest(points).merge(coverage, on=CASE_KEYS, how="left")


def chance_sensitivity(
    scores: pd.DataFrame, *, compute_cut: float, shifts: tuple[float, ...] = CHANCE_SHIFTS
) -> pd.DataFrame:
    """How the direct law's exponent and backtest move when the nominal chance level moves.

    For every shift, each multiple-choice benchmark's chance (``chance > 0``) is moved by
    it; generative benchmarks (chance 0: no answer is right by guessing) keep theirs. Eq.
    2 is fitted to the runs above the shifted chance of each benchmark (its exponent) and
    backtested at ``compute_cut``: fitted on the runs below the cut that are above the
    shifted chance, scored on every run above the cut (its mean absolute error).

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
    tables = []
    multiple_choice = scores["chance"] > 0
    keys = ["mixture", "benchmark"]
    for shift in shifts:
        shifted = scores.assign(chance=scores["chance"] + shift * multiple_choice)
        usable, _ = drop_at_or_below_chance(shifted)
        fits, _ = fit_law_by_benchmark(usable, fit_direct_law)
        errors = summarise_backtest(
            backtest(shifted, above_chance_only(direct_law_forecaster()), compute_cut=compute_cut)
        )
        table = pd.DataFrame(index=pd.MultiIndex.from_tuples(sorted(scores.groupby(keys).groups), names=keys))
        table["shift"] = shift
        table["alpha"] = [fits[key].alpha if key in fits else float("nan") for key in table.index]
        table["mean_abs_error"] = errors.set_index(keys)["mean_abs_error"]
        table["n_runs"] = usable.groupby(keys).size().reindex(table.index, fill_value=0)
        tables.append(table.reset_index())
    return pd.concat(tables, ignore_index=True)


def coverage_by_drift_degrees_of_freedom(
    scores: pd.DataFrame, *, degrees: tuple[float, ...] = DRIFT_DEGREES_TRIED,
    cuts: dict[str, list[float]] | None = None, level: float = LEVEL,
) -> pd.DataFrame:
    """Coverage of the direct law's calibrated intervals per mixture, for each drift quantile.

    The analytic interval (:func:`scalelib.evaluation.intervals.law_interval_forecaster`, ``"direct"``)
    is backtested at the cuts with the drift term's Student-t quantile at each number of
    degrees of freedom in ``degrees``; everything else (fit, drift rate) is unchanged.
    As in :func:`direct_backtests`, fits use the training runs above chance and every
    held-out run of ``scores`` is scored.

    Returns
    -------
    pandas.DataFrame
        One row per mixture and degrees of freedom: ``mixture``, ``degrees_of_freedom``,
        ``coverage``, ``mean_width_points``, ``n_held_out`` (held-out runs scored)
        (:func:`scalelib.evaluation.intervals.summarise_intervals` per mixture).
    """
    cuts = BOOK_CUTS if cuts is None else cuts
    summaries = []
    for nu in degrees:
        forecaster = law_interval_forecaster("direct", level=level, drift_degrees_of_freedom=nu, progress=False)
        intervals = backtest_at_cuts(scores, above_chance_only(forecaster), cuts)
        summaries.append(summarise_intervals(intervals, by=["mixture"]).assign(degrees_of_freedom=nu))
    columns = ["mixture", "degrees_of_freedom", "coverage", "mean_width_points", "n_held_out"]
    return pd.concat(summaries, ignore_index=True)[columns]


def cross_mixture_calibration(coverage: pd.DataFrame, *, level: float = LEVEL) -> pd.DataFrame:
    """Choose the drift quantile on one mixture, test it on the other.

    For each mixture, the degrees of freedom whose coverage there is closest to ``level``
    (the first of :data:`DRIFT_DEGREES_TRIED` on a tie) is chosen, and every mixture's
    coverage at that choice is reported: on the mixture it was chosen on (in sample) and
    on the others (out of sample).

    Parameters
    ----------
    coverage
        The table of :func:`coverage_by_drift_degrees_of_freedom`.

    Returns
    -------
    pandas.DataFrame
        One row per (chosen on, tested on) pair of mixtures: ``chosen_on``, ``tested_on``,
        ``degrees_of_freedom``, ``coverage``, ``mean_width_points``.
    """
    rows = []
    for chosen_on, own in coverage.groupby("mixture", sort=True):
        own = own.reset_index(drop=True)
        nu = own.loc[(own["coverage"] - level).abs().round(12).idxmin(), "degrees_of_freedom"]
        at_choice = coverage[coverage["degrees_of_freedom"] == nu]
        for tested in at_choice.sort_values("mixture").itertuples():
            rows.append({
                "chosen_on": chosen_on, "tested_on": tested.mixture, "degrees_of_freedom": nu,
                "coverage": tested.coverage, "mean_width_points": tested.mean_width_points,
            })
    return pd.DataFrame(rows)
