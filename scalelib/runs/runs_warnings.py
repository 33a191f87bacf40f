"""The warnings of :func:`scalelib.runs.your_runs.forecast_runs`: where a forecast says little.

Scores that fall with compute (:data:`FALLING_CORRELATION`), intervals wider than
:data:`WIDE_INTERVAL_SHARE` of the range above chance, targets below the runs or beyond
the calibrated reach (:data:`CALIBRATED_REACH`), and a backtest whose intervals covered
too few held-out runs (:data:`FAILED_BACKTEST_COVERAGE`). Every public name here is
importable from :mod:`scalelib.runs.your_runs` too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scalelib.evaluation.intervals import ROLLING_ORIGIN_FRACTIONS

__all__ = [
    "WIDE_INTERVAL_SHARE", "FAILED_BACKTEST_COVERAGE", "FAILED_BACKTEST_MIN_RUNS", "CALIBRATED_REACH",
    "FALLING_CORRELATION",
]

WIDE_INTERVAL_SHARE = 0.5
"""An interval wider than this share of the range above chance, ``1 - chance``, is remarked on."""

FAILED_BACKTEST_COVERAGE = 0.5
"""A group whose backtest intervals cover fewer than this share of their held-out runs gets a
warning. Not tuned on the release: for a nominal 90% interval, covering fewer than half of
:data:`FAILED_BACKTEST_MIN_RUNS` or more held-out runs by chance alone has probability below
1% (binomial, 2 or fewer of 5 at 0.9: 0.009), so the law, not bad luck, is what failed."""

FAILED_BACKTEST_MIN_RUNS = 5
"""Held-out runs a backtest needs before :data:`FAILED_BACKTEST_COVERAGE` is judged."""

CALIBRATED_REACH = max(ROLLING_ORIGIN_FRACTIONS)
"""How far beyond the fitted runs the drift calibration reaches, as a share of their
log-compute range (:func:`scalelib.evaluation.intervals.estimate_drift_rate`)."""

FALLING_CORRELATION = -0.5
"""A group whose rank correlation of score with compute is below this is warned about."""


def _warnings_for(name: str, rows: pd.DataFrame, table: pd.DataFrame, fitted: pd.DataFrame) -> list[str]:
    """One warning per problem of a group's forecasts (empty strings where none)."""
    low, high = fitted["flops"].min(), fitted["flops"].max()
    reach = CALIBRATED_REACH * np.log(high / low)
    chance = float(rows["chance"].iloc[0])
    notes = []
    for flops, position, distance, width in zip(table["flops"], table["position"], table["efolds_outside"],
                                                table["upper"] - table["lower"]):
        note = []
        if position == "below":
            note.append(f"{name}: target {flops:.3g} FLOPs is {distance:.1f} e-folds below the smallest fitted run "
                        f"({low:.3g} FLOPs); the law was fitted above it")
        elif distance > reach:
            note.append(f"{name}: target {flops:.3g} FLOPs is {distance:.1f} e-folds beyond the largest fitted run "
                        f"({high:.3g} FLOPs), farther than the drift calibration reaches ({reach:.1f} e-folds)")
        if width > WIDE_INTERVAL_SHARE * (1.0 - chance):
            note.append(f"{name}: the interval at {flops:.3g} FLOPs spans {100 * width:.0f} points, more than half "
                        "the range above chance: the forecast says little")
        notes.append("; ".join(note))
    return notes


def _failed_backtest(summary: pd.DataFrame, level: float) -> str:
    """Why a group's backtest failed (its intervals covered too few held-out runs), or ``""``."""
    if summary.empty or "coverage" not in summary.columns:
        return ""
    row = summary.iloc[0]
    if row.get("status", "ok") != "ok" or row["n_held_out"] < FAILED_BACKTEST_MIN_RUNS:
        return ""
    if row["coverage"] >= FAILED_BACKTEST_COVERAGE:
        return ""
    return (f"the backtest failed: only {row['coverage']:.0%} of its {int(row['n_held_out'])} held-out runs fell "
            f"inside their {level:.0%} intervals (mean error {row['mean_abs_error']:.1f} points); a forecast from "
            "these runs is not to be trusted as far beyond them as the cut was")


def _falling(rows: pd.DataFrame) -> float:
    """Rank correlation of score with compute (NaN for fewer than three runs or a flat score)."""
    if len(rows) < 3 or rows["value"].nunique() < 2 or rows["flops"].nunique() < 2:
        return float("nan")
    return float(np.corrcoef(rows["flops"].rank(), rows["value"].rank())[0, 1])


def _chance_of(frame: pd.DataFrame, summary: pd.DataFrame) -> np.ndarray:
    """Each backtest summary row's chance level, looked up by its panel's benchmark."""
    by_benchmark = frame.groupby("benchmark")["chance"].first()
    return summary["panel"].str.split(",").str[0].map(by_benchmark).to_numpy(float)
