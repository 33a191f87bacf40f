"""Your own runs with the evidence-weighted forecaster: ``python -m scalelib RUNS.csv --law auto``.

:func:`forecast_runs_auto` is :func:`scalelib.runs.your_runs.forecast_runs` for
:func:`scalelib.evaluation.auto_forecast.fit_auto_forecast`. Runs are grouped by family (mixture,
metric and any ``--group`` column; never pooled) and benchmark; inside a group every
tokens-per-parameter ratio is forecast in turn, the other ratios feeding Eq. 4 only.
Each group is backtested (fit at or below the cut, every run of the ratio above it
scored) and forecast at the target compute with its verdict.

:data:`BACKTEST_COLUMNS` is the contract of ``--backtest-output``: one row per held-out
(run, benchmark), accuracies in [0, 1], ``predicted``, ``lower`` and ``upper`` empty
when the verdict is ``unpredictable``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scalelib.evaluation.auto_backtest import auto_backtest
from scalelib.evaluation.auto_candidates import LOSS_COLUMN
from scalelib.evaluation.auto_forecast import LEVEL, fit_auto_forecast
from scalelib.laws.compute_optimal import allocation_at_ratio
from scalelib.data.validation import ScalingDataError

__all__ = ["BACKTEST_COLUMNS", "AutoRunsForecast", "backtest_table", "forecast_runs_auto"]

BACKTEST_COLUMNS = ("benchmark", "run", "flops", "observed", "predicted", "lower", "upper", "verdict", "reason")
"""Columns of ``--backtest-output``, in this order."""

AUTO_FAMILY_COLUMNS = ("mixture", "metric")
"""Columns that split the forecaster's groups; ``tpr`` does not (Eq. 4 is fitted across ratios)."""


@dataclass
class AutoRunsForecast:
    """What :func:`forecast_runs_auto` found.

    Attributes
    ----------
    forecasts
        One row per (group, benchmark, tpr, target): ``flops``, ``predicted``, ``lower``,
        ``upper`` (NaN when unpredictable), ``verdict``, ``reason``, ``distance_decades``,
        ``position``, ``weights``.
    backtest
        One row per held-out (group, run, benchmark): the group columns and
        :data:`BACKTEST_COLUMNS`, with ``covered``.
    summary
        Per group: held-out runs, mean absolute error, coverage, mean width (points), verdict.
    """

    forecasts: pd.DataFrame
    backtest: pd.DataFrame
    summary: pd.DataFrame

    @property
    def n_forecast(self) -> int:
        """Number of (group, benchmark, tpr) forecast (not unpredictable)."""
        forecast = self.forecasts[self.forecasts["verdict"] == "forecast"]
        return int(len(forecast.drop_duplicates(["panel"]))) if len(forecast) else 0


def backtest_table(backtest: pd.DataFrame) -> pd.DataFrame:
    """The ``--backtest-output`` table: exactly :data:`BACKTEST_COLUMNS`, empty numbers when unpredictable."""
    table = backtest.reindex(columns=list(BACKTEST_COLUMNS)).copy()
    unpredictable = table["verdict"] != "forecast"
    table.loc[unpredictable, ["predicted", "lower", "upper"]] = np.nan
    table["reason"] = table["reason"].fillna("")
    return table


def _targets(rows: pd.DataFrame, targets: np.ndarray, tpr: float | None) -> pd.DataFrame:
    wanted = pd.DataFrame({"flops": targets})
    if "n_items" in rows.columns:
        wanted["n_items"] = rows["n_items"].iloc[0]
    if tpr is not None:
        params, tokens = allocation_at_ratio(targets, tpr)
        wanted = wanted.assign(tpr=tpr, params=params, tokens=tokens)
    return wanted


def forecast_runs_auto(
    frame: pd.DataFrame,
    *,
    target_flops: Sequence[float] | None = None,
    cut: float | None = None,
    level: float = LEVEL,
    group_by: Sequence[str] = (),
    loss_column: str | None = None,
) -> AutoRunsForecast:
    """Backtest and forecast every group of runs with :func:`~scalelib.evaluation.auto_forecast.fit_auto_forecast`.

    Parameters
    ----------
    frame
        Rows as :func:`scalelib.runs.runs_reader.read_runs` returns them (``chance`` and ``n_items``
        filled where known).
    target_flops
        Compute of the forecasts (default: 10 x each group's largest run).
    cut
        Backtest cut (default: the top third of each ratio's log-compute range held out).
    level
        Nominal coverage of the intervals.
    group_by
        Further columns that split the groups.
    loss_column
        A validation-loss column: opens the two-stage candidate
        (:data:`scalelib.evaluation.auto_candidates.LOSS_COLUMN`).

    Returns
    -------
    AutoRunsForecast

    Raises
    ------
    ScalingDataError
        For a ``group_by`` column not in the frame.
    """
    missing = [name for name in group_by if name not in frame.columns]
    if missing:
        raise ScalingDataError(f"--group {missing}: no such column; the file has {list(frame.columns)}.")
    if loss_column is not None:
        if loss_column not in frame.columns:
            raise ScalingDataError(f"--loss-column {loss_column!r}: no such column; the file has "
                                   f"{list(frame.columns)}.")
        frame = frame.assign(**{LOSS_COLUMN: frame[loss_column].astype(float)})
    frame = frame.reset_index(drop=True)
    keys = [name for name in dict.fromkeys([*AUTO_FAMILY_COLUMNS, *group_by]) if name in frame.columns]
    forecasts, backtests, summaries = [], [], []
    for key, rows in frame.groupby([*keys, "benchmark"], sort=True, dropna=False):
        labels = dict(zip([*keys, "benchmark"], key))
        ratios = sorted(rows["tpr"].unique()) if "tpr" in rows.columns else [None]
        for tpr in ratios:
            target = rows if tpr is None else rows[rows["tpr"] == tpr]
            panel = str(labels["benchmark"]) + "".join(f", {name} {labels[name]}" for name in keys)
            panel += "" if tpr is None else f", tpr {tpr:g}"
            extra = {**labels, "panel": panel, **({} if tpr is None else {"tpr": tpr})}
            log_compute = np.log(target["flops"].to_numpy(float))
            group_cut = cut if cut is not None else float(np.exp(log_compute.max() - np.ptp(log_compute) / 3))
            try:
                if (target["flops"] > group_cut).any() and (rows["flops"] <= group_cut).any():
                    result = auto_backtest(rows.drop(columns=keys, errors="ignore").assign(benchmark=panel),
                                           compute_cut=group_cut, target_tpr=tpr, level=level)
                    backtests.append(result.drop(columns=["benchmark"]).assign(**extra))
                fitted = fit_auto_forecast(rows.drop(columns=keys, errors="ignore"), target_tpr=tpr, level=level)
            except ScalingDataError as error:
                forecasts.append(pd.DataFrame([{**extra, "verdict": "unpredictable", "reason": str(error)}]))
                continue
            targets = (np.asarray(target_flops, dtype=float) if target_flops is not None
                       else np.array([10.0 * target["flops"].max()]))
            table = fitted.predict(_targets(target, targets, tpr)).drop(columns="combined")
            table.insert(0, "flops", targets)
            weights = ", ".join(f"{name} {weight:.2f}" for name, weight in fitted.weights.items())
            forecasts.append(table.assign(**extra, weights=weights))
    columns = [*keys, "benchmark", "tpr", "panel", "flops", "predicted", "lower", "upper", "verdict", "reason",
               "distance_decades", "position", "weights"]
    forecast_table = pd.concat(forecasts, ignore_index=True).reindex(columns=columns) if forecasts else \
        pd.DataFrame(columns=columns)
    if "tpr" not in frame.columns:
        forecast_table = forecast_table.drop(columns="tpr")
    backtest = pd.concat(backtests, ignore_index=True) if backtests else pd.DataFrame(
        columns=[*BACKTEST_COLUMNS, "panel", "covered", "error_points", "width_points"])
    if len(backtest):
        summaries = backtest.groupby("panel", sort=False).agg(
            n_held_out=("run", "size"), mean_abs_error=("error_points", lambda e: e.abs().mean()),
            coverage=("covered", "mean"), mean_width=("width_points", "mean"), verdict=("verdict", "first"),
        ).reset_index()
    else:
        summaries = pd.DataFrame(columns=["panel", "n_held_out", "mean_abs_error", "coverage", "mean_width",
                                          "verdict"])
    return AutoRunsForecast(forecasts=forecast_table, backtest=backtest, summary=summaries)
