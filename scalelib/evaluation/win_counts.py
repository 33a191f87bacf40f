"""Who wins a backtest: wins beyond the evaluation noise, ties, and refusals counted apart.

Picking, for every benchmark, the method with the smallest mean absolute error and
counting those picks flatters methods in three ways: a gap of a hundredth of a point
counts as a win although the held-out scores themselves are uncertain by half a point
or more; an exact tie goes to whichever method comes first; and a method that refuses
a benchmark is never charged for it, while the only method that tries "wins" however
badly it does. :func:`judge_benchmarks` decides each (mixture, split, benchmark) case
instead as

* **win**: the best method's error is below every other forecasting method's by more
  than the case's noise floor,

  .. math::

      \\mathrm{MAE}_{(2)} - \\mathrm{MAE}_{(1)} > m\\,\\bar\\sigma, \\qquad
      \\bar\\sigma = \\frac{1}{n} \\sum_{i=1}^{n} 100\\sqrt{\\frac{y_i (1 - y_i)}{n_{\\mathrm{items}}}},

  with :math:`\\mathrm{MAE}_{(1)} \\le \\mathrm{MAE}_{(2)}` the two smallest mean
  absolute errors (accuracy points), :math:`\\bar\\sigma` the mean binomial standard
  error of the held-out scores :math:`y_i` (``noise_floor`` of
  :func:`scalelib.evaluation.backtest.summarise_backtest`) and :math:`m` the ``margin``
  (default 1);
* **tie**: two or more methods within :math:`m\\bar\\sigma` of the best; all of them
  share it;
* **uncontested**: only one method forecast the benchmark (no comparison, no win);
* **no forecast**: every method refused it.

Why one standard error: every method is scored against the same held-out scores, and
each score is one draw of a binomial evaluation on :math:`n_{\\mathrm{items}}` items.
Evaluated on another sample of items of the same size, each score would move by about
:math:`\\sigma`; a forecast cannot be judged more finely than the scores it is judged
against, so a gap in mean error smaller than the typical :math:`\\sigma` of those scores
is not evidence that one method forecasts better. The rule is deliberately
conservative (the noise of a mean over several runs is smaller than one run's), and it
was fixed before looking at which method it favours. For pass@1 estimated from many
samples the binomial bound on one sample overstates the noise, so code benchmarks
produce more ties.

:func:`win_counts` tallies, per group and method, wins, shared ties, losses,
uncontested cases and **refusals**, so that a method that refuses a benchmark is
visibly charged with it rather than silently excused.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from scalelib.data.validation import ScalingDataError, check_numeric_columns

__all__ = [
    "CASE_KEYS",
    "OUTCOMES",
    "judge_benchmarks",
    "win_counts",
]

CASE_KEYS = ("mixture", "split", "benchmark")
"""Columns identifying one comparison: a benchmark of one mixture at one cut."""

OUTCOMES = ("win", "tie", "uncontested", "no forecast")
"""The possible verdicts of a case."""

COUNTS = ("wins", "ties", "losses", "uncontested", "refused")
"""Columns of :func:`win_counts`."""


def _check_summary(summary: pd.DataFrame, statistic: str, noise_column: str) -> list[str]:
    """Validate a :func:`scalelib.evaluation.method_comparison.summarise_methods` frame; return its case keys."""
    keys = [key for key in CASE_KEYS if key in summary.columns]
    needed = ["method", "benchmark", "split", "status", statistic, noise_column]
    missing = [column for column in needed if column not in summary.columns]
    if missing:
        hint = (" (backtest a frame with an n_items column to get the noise floor)"
                if noise_column in missing else "")
        raise ScalingDataError(f"The summary lacks columns {missing}{hint}.")
    check_numeric_columns(summary, [statistic, noise_column])
    repeated = summary.duplicated([*keys, "method"])
    if repeated.any():
        raise ScalingDataError(
            f"The summary repeats {summary.loc[repeated, [*keys, 'method']].iloc[0].tolist()}: "
            "one row per method and case."
        )
    unknown = set(summary["status"]) - {"ok", "skipped"}
    if unknown:
        raise ScalingDataError(f"Unknown status {sorted(unknown)}; expected 'ok' or 'skipped'.")
    forecast = summary[summary["status"] == "ok"]
    bad = ~np.isfinite(forecast[statistic].to_numpy(dtype=float))
    if bad.any():
        raise ScalingDataError(f"A forecast case has no finite {statistic}: {forecast[bad].iloc[0][keys].tolist()}.")
    return keys


def judge_benchmarks(
    summary: pd.DataFrame,
    *,
    statistic: str = "mean_abs_error",
    noise_column: str = "noise_floor",
    margin: float = 1.0,
) -> pd.DataFrame:
    """The verdict of every (mixture, split, benchmark) case: win, tie, uncontested or no forecast.

    Parameters
    ----------
    summary
        :func:`scalelib.evaluation.method_comparison.summarise_methods` output: one row per
        (method, mixture, split, benchmark) with ``status`` (``ok`` or ``skipped``),
        ``statistic`` and ``noise_column``.
    statistic
        The error compared, smaller is better (default: mean absolute error, points).
    noise_column
        The noise floor of the case, in the statistic's units (default: mean binomial
        standard error of the held-out scores, points). It is a property of the held-out
        scores, the same for every method; the first row's value is used.
    margin
        A win needs a gap larger than ``margin`` times the noise floor (default 1);
        ``margin=0`` gives a win to any strictly smaller error (exact ties stay ties).

    Returns
    -------
    pandas.DataFrame
        One row per case, indexed by the case keys, in the summary's order, with
        ``outcome`` (one of :data:`OUTCOMES`), ``winner`` (the method for a win, else
        empty), ``best`` (the methods sharing the best error: the winner, or every
        tied method, comma-separated), ``best_error`` and ``runner_up_error`` (NaN when
        fewer than two methods forecast), ``gap`` (runner-up minus best),
        ``noise_floor``, ``forecast_by`` (how many methods forecast), ``ranking`` (the
        methods that forecast, best first, comma-separated; equal errors keep the
        summary's order) and ``refused`` (the methods that refused, comma-separated).

    Raises
    ------
    ScalingDataError
        On missing columns, a repeated (case, method) row, an unknown status, a
        non-finite error of a forecast case, a non-finite or negative noise floor of a
        case with two or more forecasts, or a negative ``margin``.
    """
    if not (np.isfinite(margin) and margin >= 0):
        raise ScalingDataError(f"The margin must be a number >= 0, got {margin}.")
    keys = _check_summary(summary, statistic, noise_column)
    verdicts = []
    for case, rows in summary.groupby(keys, sort=False):
        forecast = rows[rows["status"] == "ok"].sort_values(statistic, kind="stable")
        refused = rows.loc[rows["status"] != "ok", "method"].tolist()
        noise = float(rows[noise_column].iloc[0])
        errors = forecast[statistic].to_numpy(dtype=float)
        verdict = {
            "best_error": errors[0] if len(errors) else np.nan,
            "runner_up_error": errors[1] if len(errors) > 1 else np.nan,
            "noise_floor": noise, "forecast_by": len(errors),
            "ranking": ", ".join(forecast["method"]), "refused": ", ".join(refused),
        }
        if len(errors) == 0:
            verdict |= {"outcome": "no forecast", "winner": "", "best": ""}
        elif len(errors) == 1:
            verdict |= {"outcome": "uncontested", "winner": "", "best": forecast["method"].iloc[0]}
        else:
            if not (np.isfinite(noise) and noise >= 0):
                raise ScalingDataError(f"Case {list(case)} has no usable noise floor ({noise}).")
            within = forecast.loc[errors - errors[0] <= margin * noise, "method"].tolist()
            if len(within) == 1:
                verdict |= {"outcome": "win", "winner": within[0], "best": within[0]}
            else:
                verdict |= {"outcome": "tie", "winner": "", "best": ", ".join(within)}
        verdict["gap"] = verdict["runner_up_error"] - verdict["best_error"]
        verdicts.append(dict(zip(keys, case)) | verdict)
    columns = ["outcome", "winner", "best", "best_error", "runner_up_error", "gap", "noise_floor",
               "forecast_by", "ranking", "refused"]
    return pd.DataFrame(verdicts).set_index(keys)[columns]


def win_counts(
    verdicts: pd.DataFrame,
    methods: Sequence[str],
    *,
    by: Sequence[str] = ("mixture", "split"),
) -> pd.DataFrame:
    """Tally the verdicts of :func:`judge_benchmarks` per group and method.

    Parameters
    ----------
    verdicts
        :func:`judge_benchmarks` output.
    methods
        Every method compared, in the order wanted (a method that forecast nothing
        still gets its row, with its refusals).
    by
        Index levels of ``verdicts`` to group by (default: mixture and split); ``()``
        tallies over every case.

    Returns
    -------
    pandas.DataFrame
        One row per (group, method), columns ``wins`` (cases it won beyond the noise
        floor), ``ties`` (cases whose best it shares with others), ``losses`` (cases it
        forecast, contested, without winning or tying), ``uncontested`` (cases only it
        forecast) and ``refused`` (cases it did not forecast). For every method the five
        add up to the group's number of cases.

    Raises
    ------
    ScalingDataError
        If ``methods`` is empty, ``by`` names a level the verdicts lack, or a method was
        neither forecast nor refused on some case (it was not backtested there).
    """
    methods = list(methods)
    if not methods:
        raise ScalingDataError("No method to count.")
    unknown = [level for level in by if level not in verdicts.index.names]
    if unknown:
        raise ScalingDataError(f"Cannot group by {unknown}: the verdicts are indexed by {verdicts.index.names}.")

    def split_names(text: str) -> set[str]:
        return {name.strip() for name in text.split(",") if name.strip()}

    rows = []
    groups = verdicts.groupby(level=list(by), sort=False) if by else [((), verdicts)]
    for group, cases in groups:
        group = group if isinstance(group, tuple) else (group,)
        for method in methods:
            tally = dict.fromkeys(COUNTS, 0)
            for case in cases.itertuples():
                best, refused = split_names(case.best), split_names(case.refused)
                if method not in refused | split_names(case.ranking):
                    raise ScalingDataError(f"Method {method!r} was not backtested on case {case.Index}.")
                if method in refused:
                    tally["refused"] += 1
                elif case.outcome == "uncontested" and method in best:
                    tally["uncontested"] += 1
                elif case.outcome == "win" and case.winner == method:
                    tally["wins"] += 1
                elif case.outcome == "tie" and method in best:
                    tally["ties"] += 1
                else:
                    tally["losses"] += 1
            rows.append({**dict(zip(by, group)), "method": method, **tally})
    return pd.DataFrame(rows).set_index([*by, "method"])[list(COUNTS)]
