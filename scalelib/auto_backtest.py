"""Backtests of the evidence-weighted forecaster (:mod:`scalelib.auto_forecast`) by a compute cut.

:func:`auto_backtest` is :func:`scalelib.backtest.backtest` for
:func:`~scalelib.auto_forecast.fit_auto_forecast`: every benchmark is fitted on the
runs at or below the cut (all ratios: the other ratios feed Eq. 4) and forecasts every
run of the target ratio above it, with interval, verdict and reach;
:func:`summarise_auto_backtest` condenses it per benchmark, and :func:`split_scores`
per split. Held-out runs are scored whatever their score, at or below chance too.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from scalelib.auto_forecast import LEVEL, fit_auto_forecast, target_rows_mask
from scalelib.validation import check_numeric_columns, check_unique_index

__all__ = ["auto_backtest", "summarise_auto_backtest"]


def auto_backtest(
    frame: pd.DataFrame,
    *,
    compute_cut: float,
    target_tpr: float | None = 20,
    candidates: Sequence[str] | None = None,
    level: float = LEVEL,
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
        fitted = fit_auto_forecast(training.copy(), target_tpr=target_tpr, candidates=candidates, level=level,
                                   compute_column=compute_column)
        report = held_out[[*group_columns, "run", compute_column]].copy()
        report["observed"] = held_out["value"].to_numpy(float)
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
