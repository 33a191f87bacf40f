"""Backtests of the evidence-weighted forecaster (:mod:`scalelib.evaluation.auto_forecast`) by a compute cut.

:func:`auto_backtest` is :func:`scalelib.evaluation.backtest.backtest` for
:func:`~scalelib.evaluation.auto_forecast.fit_auto_forecast`: every benchmark is fitted on the
runs at or below the cut (all ratios: the other ratios feed Eq. 4) and forecasts every
run of the target ratio above it, with interval, verdict and reach;
:func:`summarise_auto_backtest` condenses it per benchmark, and
:func:`compare_with_single_laws` puts it next to every single law and the naive
baselines on the same backtests. Held-out runs are scored whatever their score, at or
below chance too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from scalelib.evaluation.auto_forecast import (
    LEVEL,
    NEAR_CHANCE_SE,
    fit_auto_forecast,
    target_rows_mask,
)
from scalelib.evaluation.backtest import above_chance_only, backtest, summarise_backtest
from scalelib.evaluation.baselines import BASELINES
from scalelib.laws.registry import LAWS
from scalelib.data.validation import (
    ScalingDataError,
    check_numeric_columns,
    check_unique_index,
)

__all__ = ["PAPER_REFERENCE_MAE", "REFERENCE_BENCHMARKS", "SINGLE_LAWS", "auto_backtest",
           "compare_with_single_laws", "interval_summary", "large_misses", "split_summary",
           "summarise_auto_backtest"]


def auto_backtest(
    frame: pd.DataFrame,
    *,
    compute_cut: float,
    target_tpr: float | None = 20,
    candidates: Sequence[str] | None = None,
    level: float = LEVEL,
    near_chance_se: float = NEAR_CHANCE_SE,
    compute_column: str = "flops",
) -> pd.DataFrame:
    """Backtest :func:`fit_auto_forecast` by a compute cut, per (mixture,) benchmark.

    Fits on every row with compute ``<= compute_cut`` (all ratios: other ratios feed
    Eq. 4), forecasts every target-ratio row above it, near chance or not. Held-out
    rows never reach the fit.

    Returns
    -------
    pandas.DataFrame
        One row per held-out run: ``mixture`` (if present), ``benchmark``, ``run``, the
        compute, ``observed``, the columns of :meth:`AutoForecast.predict`,
        ``error_points`` (of ``predicted``; NaN when unpredictable), ``combined_error_points``
        (of the combination, whatever the verdict), ``covered``, ``width_points``,
        ``weights`` (as text) and ``split``.
    """
    check_numeric_columns(frame, [compute_column])
    check_unique_index(frame)
    group_columns = ["mixture", "benchmark"] if "mixture" in frame.columns else ["benchmark"]
    reports = []
    for key, rows in frame.groupby(group_columns, sort=True):
        training = rows[rows[compute_column] <= compute_cut]
        held_out = rows[(rows[compute_column] > compute_cut) & target_rows_mask(rows, target_tpr)]
        held_out = held_out.sort_values(compute_column, kind="stable")
        if held_out.empty or training.empty:
            continue
        report = held_out[[*group_columns, "run", compute_column]].copy()
        report["observed"] = held_out["value"].to_numpy(float)
        try:
            fitted = fit_auto_forecast(training.copy(), target_tpr=target_tpr, candidates=candidates, level=level,
                                       near_chance_se=near_chance_se, compute_column=compute_column)
        except ScalingDataError as error:  # e.g. no training run of the target ratio: refused, not dropped
            reports.append(report.assign(predicted=np.nan, lower=np.nan, upper=np.nan, combined=np.nan,
                                         verdict="unpredictable", reason=str(error), distance_decades=np.nan,
                                         position="", weights=""))
            continue
        report = report.join(fitted.predict(held_out.copy()))
        report["weights"] = ", ".join(f"{name} {weight:.2f}" for name, weight in fitted.weights.items())
        reports.append(report)
    result = pd.concat(reports, ignore_index=True)
    result["error_points"] = 100.0 * (result["predicted"] - result["observed"])
    result["combined_error_points"] = 100.0 * (result["combined"] - result["observed"])
    inside = (result["observed"] >= result["lower"]) & (result["observed"] <= result["upper"])
    result["covered"] = inside.astype(float).where(result["verdict"] == "forecast")
    result["width_points"] = 100.0 * (result["upper"] - result["lower"])
    result["split"] = f"C <= {compute_cut:.0e}"
    return result


def summarise_auto_backtest(result: pd.DataFrame) -> pd.DataFrame:
    """Per benchmark and split: verdict, reason, mean absolute error, coverage and width (points).

    ``mean_abs_error`` is over forecast rows (NaN when unpredictable);
    ``combined_mae`` is what the combination would have scored had it been trusted.
    """
    keys = [name for name in ("mixture", "split", "benchmark") if name in result.columns]
    return result.groupby(keys, sort=True).agg(
        n_held_out=("run", "size"), verdict=("verdict", "first"),
        mean_abs_error=("error_points", lambda e: e.abs().mean()),
        combined_mae=("combined_error_points", lambda e: e.abs().mean()),
        coverage=("covered", "mean"), mean_width_points=("width_points", "mean"),
        max_distance=("distance_decades", "max"), weights=("weights", "first"), reason=("reason", "first"),
    ).reset_index()


SINGLE_LAWS = {law.title: law.forecaster for law in LAWS.values() if law.columns == ("flops",)}
"""The single laws the forecaster is compared with, fitted on the runs above chance: every law of
:data:`scalelib.laws.registry.LAWS` in compute alone (Eq. 2, Eq. 6 and BNSL's Eq. 1), by its ``title``."""


def compare_with_single_laws(
    frame: pd.DataFrame,
    compute_cuts: Mapping[str, Sequence[float]],
    *,
    target_tpr: float | None = 20,
    laws: Sequence[str] = tuple(SINGLE_LAWS),
    baselines: Sequence[str] = tuple(BASELINES),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The forecaster, each single law and each naive baseline on the same backtests.

    Parameters
    ----------
    frame
        Rows of one or more mixtures (column ``mixture``), any ratios.
    compute_cuts
        ``{mixture: cuts}``.
    target_tpr
        The ratio forecast; other ratios feed Eq. 4 inside the forecaster only.
    laws, baselines
        Names from :data:`SINGLE_LAWS` and :data:`scalelib.evaluation.baselines.BASELINES`.

    Returns
    -------
    auto, errors
        ``auto``: :func:`auto_backtest` over every cut. ``errors``: one row per
        (mixture, split, benchmark), the mean absolute error in points of every law and
        baseline over every held-out run, and the forecaster's verdict and error
        (``auto``, NaN when unpredictable).
    """
    auto, errors = [], []
    for mixture, cuts in compute_cuts.items():
        rows = frame[frame["mixture"] == mixture].reset_index(drop=True)
        target = rows[target_rows_mask(rows, target_tpr)].reset_index(drop=True)
        for cut in cuts:
            auto.append(auto_backtest(rows, compute_cut=cut, target_tpr=target_tpr))
            forecasters = {**{law: above_chance_only(SINGLE_LAWS[law]()) for law in laws},
                       **{name: BASELINES[name]() for name in baselines}}
            for name, forecaster in forecasters.items():
                summary = summarise_backtest(backtest(target, forecaster, compute_cut=cut))
                errors.append(summary[["mixture", "split", "benchmark", "mean_abs_error"]].assign(law=name))
    auto = pd.concat(auto, ignore_index=True)
    table = pd.concat(errors).set_index(["mixture", "split", "benchmark", "law"])["mean_abs_error"]
    table = table.unstack("law")[[*laws, *baselines]]
    verdicts = summarise_auto_backtest(auto).set_index(["mixture", "split", "benchmark"])
    table["auto"] = verdicts["mean_abs_error"]
    table["verdict"] = verdicts["verdict"]
    return auto, table.reset_index()


REFERENCE_BENCHMARKS = ("arc_easy", "arc_challenge", "hellaswag", "piqa", "sciq", "winogrande", "lambada_openai")
"""The seven benchmarks of the paper's reference backtest (DCLM, tpr 20, ``acc``, fit C <= 1e21)."""

PAPER_REFERENCE_MAE = {"arc_easy": 1.37, "arc_challenge": 7.91, "hellaswag": 3.34, "piqa": 1.10, "sciq": 0.46,
                       "winogrande": 5.38, "lambada_openai": 1.76, "mmlu": 22.56}
"""Mean absolute error (points) of the paper's Eq. 2 on its reference backtest, per benchmark, as
reported by Krajewski et al. (2025) and tabulated in the book's issue 13 (mean of the seven: 3.05)."""


def split_summary(table: pd.DataFrame, laws: Sequence[str] = (*SINGLE_LAWS, *BASELINES)) -> pd.DataFrame:
    """Per split: mean and median error of each law over every benchmark, and over the forecast ones.

    ``table`` is the ``errors`` of :func:`compare_with_single_laws`. Returns one row per
    (mixture, split) with ``n_benchmarks``, ``n_forecast``, for each law ``<law> mean``
    and ``<law> median`` over all benchmarks, ``auto mean`` and ``auto median`` over
    the forecast benchmarks, ``best single law`` (lowest mean over the forecast
    benchmarks) with its ``best mean`` and ``best median`` there.
    """
    rows = []
    for (mixture, split), group in table.groupby(["mixture", "split"], sort=False):
        forecast = group[group["verdict"] == "forecast"]
        row = {"mixture": mixture, "split": split, "n_benchmarks": len(group), "n_forecast": len(forecast)}
        for law in laws:
            row[f"{law} mean"], row[f"{law} median"] = group[law].mean(), group[law].median()
        row["auto mean"], row["auto median"] = forecast["auto"].mean(), forecast["auto"].median()
        single = [law for law in laws if law in SINGLE_LAWS]
        if forecast.empty:
            rows.append(row)
            continue
        best = min(single, key=lambda law: forecast[law].mean())
        row.update({"best single law": best, "best mean": forecast[best].mean(),
                    "best median": forecast[best].median()})
        rows.append(row)
    return pd.DataFrame(rows)


def large_misses(table: pd.DataFrame, threshold: float = 10.0, within: float = 5.0) -> pd.DataFrame:
    """Benchmarks a single law misses by over ``threshold`` points: flagged, or forecast within ``within``?"""
    worst = table[[law for law in SINGLE_LAWS if law in table.columns]].max(axis=1)
    misses = table[worst > threshold].assign(worst_single_law=worst[worst > threshold])
    misses["handled"] = (misses["verdict"] == "unpredictable") | (misses["auto"] <= within)
    return misses[["mixture", "split", "benchmark", "worst_single_law", "verdict", "auto", "handled"]]


def interval_summary(auto: pd.DataFrame) -> pd.DataFrame:
    """Coverage and mean width (points) of the forecaster's intervals over its forecast runs, per split and overall."""
    forecast = auto[auto["verdict"] == "forecast"]
    per_split = forecast.groupby(["mixture", "split"], sort=False).agg(
        n_runs=("run", "size"), coverage=("covered", "mean"), mean_width_points=("width_points", "mean"),
        median_width_points=("width_points", "median"))
    overall = pd.DataFrame({"n_runs": [len(forecast)], "coverage": [forecast["covered"].mean()],
                            "mean_width_points": [forecast["width_points"].mean()],
                            "median_width_points": [forecast["width_points"].median()]},
                           index=pd.MultiIndex.from_tuples([("all", "all splits")], names=["mixture", "split"]))
    return pd.concat([per_split, overall]).reset_index()
