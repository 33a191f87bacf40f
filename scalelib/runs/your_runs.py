"""Forecast your own runs: the one function behind ``python -m scalelib``.

:func:`forecast_runs` takes a tidy frame of runs (one row per run and benchmark, as
:func:`scalelib.runs.runs_reader.read_runs` returns it) and

1. **groups, never pools**: every column that names a family of runs (``mixture``,
   ``tpr``, ``metric`` and any the caller names) splits the fits, so Eq. 2 is fitted at
   one ratio on one mixture for one metric; Eq. 4 (``law="ratio"``) is fitted across
   the ratios of a group instead, and reports the compute-optimal ratio;
2. **skips, never stops**: a group that cannot be fitted (too few runs off the floor,
   unknown chance level, unknown benchmark size for binomial noise, a fit that fails)
   gets a row whose ``reason`` says why in plain words; the others are forecast;
3. treats **near-chance points as noise**: a run whose accuracy ``p`` lies within
   :data:`NEAR_CHANCE_SE` binomial standard errors of chance,
   ``p - chance <= z sqrt(p (1 - p) / n)`` with ``n`` the benchmark's items, carries
   no information on the law's shape (one item of 5,153 right is not a measurement of
   ``-log Q``), so it is not fitted; without ``n`` only runs at or below chance are
   set aside. Held-out runs are scored in the backtest whatever their score, so a
   big model that falls to chance counts against the forecast;
4. **warns** where a forecast says little: scores that fall with compute (error rates
   given as accuracies?), intervals wider than half the range above chance, targets
   below the runs or beyond the calibrated reach.

Everything is returned as tables (:class:`RunsForecast`), which the command line
prints and saves. The rows are made ready in :mod:`scalelib.runs.runs_file` (selection,
known levels, near chance, task means); the laws on offer, the columns that split the fits
and a forecaster per law are in :mod:`scalelib.runs.runs_laws`, and the warnings in
:mod:`scalelib.runs.runs_warnings`. These modules' public names are importable from here
too. :func:`scalelib.plots.forecasts.plot_runs_forecast` draws the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from tqdm import tqdm  # plain bar: tqdm.auto warns in notebooks without ipywidgets

from scalelib.evaluation.backtest import backtest, forecast_rows
from scalelib.evaluation.baselines import line_forecaster
from scalelib.laws.compute_optimal import optimal_ratio
from scalelib.evaluation.intervals import LEVEL, N_RESAMPLES, summarise_intervals
from scalelib.laws.registry import LAWS as REGISTERED_LAWS
from scalelib.laws.loss_law import loss_column as validation_loss_column
from scalelib.runs.runs_file import (
    NEAR_CHANCE_SE,
    NON_ACCURACY_METRICS,
    aggregate_mean,
    fill_known_levels,
    near_chance,
    select_rows,
)
from scalelib.runs.runs_laws import (
    FAMILY_COLUMNS,
    TWO_STAGE_LAWS,
    TWO_STAGE_MAPS,
    TWO_STAGE_MIN_RUNS,
    _TWO_STAGE_LOSS_SET,
    _across_ratios,
    _group_problem,
    _target_rows,
    _varying_columns,
    fit_away_from_chance,
    forecast_laws,
    group_columns,
    interval_forecaster,
    min_runs,
)
from scalelib.runs.runs_laws import (  # noqa: F401 (importable from here, as before the split)
    INPUT_COLUMNS,
    RATIO_INPUTS,
)
from scalelib.runs.runs_warnings import (
    CALIBRATED_REACH,
    FAILED_BACKTEST_COVERAGE,
    FAILED_BACKTEST_MIN_RUNS,
    FALLING_CORRELATION,
    WIDE_INTERVAL_SHARE,
    _chance_of,
    _failed_backtest,
    _falling,
    _warnings_for,
)
from scalelib.data.validation import ScalingDataError

__all__ = [
    "TWO_STAGE_LAWS", "TWO_STAGE_MIN_RUNS", "forecast_laws", "min_runs", "FAMILY_COLUMNS", "NEAR_CHANCE_SE", "WIDE_INTERVAL_SHARE", "FAILED_BACKTEST_COVERAGE",
    "FAILED_BACKTEST_MIN_RUNS", "CALIBRATED_REACH", "NON_ACCURACY_METRICS",
    "RunsForecast", "fill_known_levels", "select_rows", "group_columns", "near_chance", "aggregate_mean",
    "line_forecaster", "interval_forecaster", "fit_away_from_chance", "forecast_runs",
]


@dataclass
class RunsForecast:
    """What :func:`forecast_runs` found, as tables.

    Attributes
    ----------
    forecasts
        One row per (group, benchmark, target[, tpr or k]): ``law``, ``flops``,
        ``predicted``, ``lower``, ``upper``, ``width_points``, ``position``,
        ``efolds_outside``, ``status`` (``"ok"`` or ``"refused"``), ``reason`` and
        ``warning``. A refused group has one row, its numbers NaN.
    backtest
        :func:`scalelib.evaluation.intervals.summarise_intervals` per group, plus the group
        columns, ``law`` and ``remark`` (coverage that comes from width alone).
    laws
        Per group: the law used, runs fitted, runs set aside as near chance.
    optimal
        With ``law="ratio"``: the compute-optimal tokens per parameter at each target.
    set_aside
        Rows not fitted because they are at or near chance (with ``reason``).
    warnings
        Every warning, one sentence each (also in ``forecasts.warning``).
    """

    forecasts: pd.DataFrame
    backtest: pd.DataFrame
    laws: pd.DataFrame
    optimal: pd.DataFrame
    set_aside: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    fitted: pd.DataFrame = field(default_factory=pd.DataFrame)
    curves: dict[str, pd.DataFrame] = field(default_factory=dict)
    backtest_rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per held-out (run, benchmark) of the backtests: group columns, ``panel``, ``flops``,
    ``observed``, ``predicted``, ``lower``, ``upper``, ``verdict`` (``"forecast"``, or
    ``"unpredictable"`` for a group refused) and ``reason``."""

    @property
    def n_forecast(self) -> int:
        """Number of groups forecast (the command line exits 1 when none)."""
        ok = self.forecasts[self.forecasts["status"] == "ok"]
        return int(ok.drop_duplicates(["panel"]).shape[0]) if len(ok) else 0


def forecast_runs(
    frame: pd.DataFrame,
    *,
    law: str = "direct",
    target_flops: Sequence[float] | None = None,
    cut: float | None = None,
    level: float = LEVEL,
    interval: str | None = None,
    noise: str = "residuals",
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    progress: bool = True,
    group_by: Sequence[str] = (),
    benchmarks: Sequence[str] | None = None,
    where: Mapping[str, Sequence[object]] | None = None,
    metric: str | None = None,
    loss_column: str | None = None,
    aggregate: str | None = None,
    grid_points: int = 0,
) -> RunsForecast:
    """Backtest and forecast every group of runs with ``law``; what ``python -m scalelib`` does.

    Parameters
    ----------
    frame
        One row per (run, benchmark): ``run``, ``benchmark``, ``value`` (or
        ``accuracy``), ``flops``, optional ``chance`` and ``n_items`` (missing values
        filled by :func:`fill_known_levels`), family columns (:data:`FAMILY_COLUMNS`),
        ``params``/``tokens`` for Eq. 4, ``k`` for Eq. 5, a loss column for two-stage.
    law
        One of :func:`forecast_laws`.
    target_flops
        Compute of the forecasts (default: 10 x each group's largest run).
    cut
        Backtest: fit runs with ``C <= cut``, score every run above it (default: hold
        out the top third of each group's log-compute range).
    level, interval, noise, n_resamples, seed
        As :func:`scalelib.evaluation.intervals.law_interval_forecaster`.
    progress
        Show tqdm progress bars (over the groups, and over bootstrap resamples) for
        anything that takes more than two seconds; set False in notebooks.
    group_by
        Further columns that split the fits.
    benchmarks, where, metric
        Filters of :func:`select_rows`, applied first.
    loss_column
        The validation-loss column of the two-stage laws.
    aggregate
        ``"mean"``: forecast the mean accuracy over ``benchmarks`` (:func:`aggregate_mean`).
    grid_points
        Compute values of the curves for a figure (0: none).

    Returns
    -------
    RunsForecast
    """
    forecaster = interval_forecaster(law, level=level, interval=interval, noise=noise, n_resamples=n_resamples,
                                     seed=seed, progress=progress)
    frame = pd.DataFrame(frame, copy=True)
    frame.attrs = {}  # read_runs' attributes would be compared by every concat
    frame, metric_aside = select_rows(frame, benchmarks=benchmarks, where=where, metric=metric)
    frame = fill_known_levels(frame)
    missing = [name for name in group_by if name not in frame.columns]
    if missing:
        raise ScalingDataError(f"--group {missing}: no such column; the file has {list(frame.columns)}.")
    if law in TWO_STAGE_MAPS:
        if loss_column is None or loss_column not in frame.columns:
            raise ScalingDataError(f"--law {law} needs --loss-column naming a loss column of the file "
                                   f"({list(frame.columns)}); got {loss_column!r}.")
        frame = frame.assign(**{validation_loss_column(_TWO_STAGE_LOSS_SET): frame[loss_column].astype(float)})
    keys = group_columns(frame, law, group_by)
    if aggregate is not None:
        if aggregate != "mean":
            raise ScalingDataError(f"--aggregate {aggregate!r}: only 'mean' is offered.")
        keys = [name for name in keys if name != "metric"]  # the members' metrics differ by task
        frame = aggregate_mean(frame.drop(columns="metric", errors="ignore"),
                               benchmarks or sorted(frame["benchmark"].unique()), keys)
    frame = frame.reset_index(drop=True)
    targets_given = None if target_flops is None else np.asarray(target_flops, dtype=float)

    forecasts, summaries, laws, optimal, warnings, fitted_rows, curves, held_rows = [], [], [], [], [], [], {}, []
    near = near_chance(frame)
    set_aside = pd.concat([metric_aside, frame[near].assign(
        reason=f"within {NEAR_CHANCE_SE:g} binomial standard errors of chance (or at or below chance)")])
    groups = frame.groupby([*keys, "benchmark"], sort=True, dropna=False)
    for key, rows in tqdm(groups, total=groups.ngroups, desc="groups", disable=not progress, leave=False,
                          delay=2.0):
        labels = dict(zip([*keys, "benchmark"], key if isinstance(key, tuple) else (key,)))
        panel = rows["benchmark"].iloc[0] + "".join(f", {name} {labels[name]}" for name in keys)
        usable = rows[~near.loc[rows.index]]
        law_row = {**labels, "panel": panel, "law": f"{law}: {forecast_laws()[law]}", "n_runs": len(rows),
                   "n_fitted": len(usable), "n_near_chance": int(near.loc[rows.index].sum())}
        laws.append(law_row)

        def refuse(reason: str, stage: str = "forecast") -> None:
            forecasts.append(pd.DataFrame([{**labels, "panel": panel, "law": law, "status": "refused",
                                            "reason": f"{stage}: {reason}", "warning": ""}]))

        problem = _group_problem(rows, law, noise=noise) or (
            "" if len(usable) >= min_runs(law) else
            f"{len(usable)} of {len(rows)} runs are clearly above chance, but the {law} law needs at least "
            f"{min_runs(law)}; train runs further up, or choose a law with fewer parameters")
        if problem:
            refuse(problem)
            held_out = rows[rows["flops"] > (cut if cut is not None else _default_cut(rows["flops"]))]
            held_rows.append(held_out[["run", "flops"]].assign(**labels, panel=panel, observed=held_out["value"],
                                                               verdict="unpredictable", reason=problem))
            continue
        correlation = _falling(usable)
        if correlation < FALLING_CORRELATION:
            warnings.append(f"{panel}: the score falls as compute grows (rank correlation {correlation:.2f}); "
                            "if these are error rates, give 1 - error as accuracy")
        group_forecaster = fit_away_from_chance(forecaster, law)
        group_cut = cut if cut is not None else _default_cut(usable["flops"])
        if (rows["flops"] > group_cut).any() and (rows["flops"] <= group_cut).any():
            result = backtest(rows.drop(columns="mixture", errors="ignore"), group_forecaster, compute_cut=group_cut)
            held_rows.append(result.drop(columns=["benchmark"]).assign(
                **labels, panel=panel, verdict=np.where(result["status"] == "ok", "forecast", "unpredictable")))
            summary = summarise_intervals(result).drop(columns="benchmark")
            summaries.append(summary.assign(**labels, panel=panel, law=law))
            failed = _failed_backtest(summary, level)
            if failed:
                warnings.append(f"{panel}: {failed}")
        else:
            summaries.append(pd.DataFrame([{**labels, "panel": panel, "law": law, "status": "skipped",
                                            "reason": f"no run on one side of the cut {group_cut:.3g} FLOPs"}]))
        targets = targets_given if targets_given is not None else np.array([10.0 * rows["flops"].max()])
        try:
            predict = group_forecaster(rows.copy())
            wanted = _target_rows(usable, targets, law)
            grid = np.logspace(np.log10(min(targets.min(), rows["flops"].min())),
                               np.log10(max(targets.max(), rows["flops"].max())), grid_points)
            extra = [] if grid_points == 0 or _varying_columns(law) else [forecast_rows(usable, grid)]
            asked = pd.concat([wanted, *extra], ignore_index=True)
            if law in TWO_STAGE_MAPS:
                asked = asked.assign(**{validation_loss_column(_TWO_STAGE_LOSS_SET): np.nan})
            table = predict(asked).to_frame(asked["flops"].to_numpy())
        except (ScalingDataError, ValueError, np.linalg.LinAlgError, FloatingPointError) as error:
            refuse(str(error))
            continue
        curve, table = table.iloc[len(wanted):], table.iloc[: len(wanted)]
        if len(curve):
            curves[panel] = curve
        varying = {name: wanted[name].to_numpy() for name in _varying_columns(law)
                   if name in wanted.columns and name not in labels}
        table = table.assign(**labels, **varying, panel=panel, law=law, n_runs=len(usable), status="ok", reason="")
        table["width_points"] = 100.0 * (table["upper"] - table["lower"])
        table["warning"] = _warnings_for(panel, rows, table, usable)
        warnings.extend(note for note in table["warning"] if note)
        forecasts.append(table)
        fitted_rows.append(rows.assign(panel=panel, fitted=~near.loc[rows.index]))
        if _across_ratios(law):
            ratio_fit = REGISTERED_LAWS[law].fit_rows(usable, "flops")
            optimal.append(pd.DataFrame({**labels, "flops": targets,
                                         "optimal_tpr": optimal_ratio(ratio_fit, targets)}))
    columns = [*keys, "benchmark", "panel", "law", *[name for name in ("tpr", "k") if name not in keys],
               "flops", "predicted", "lower", "upper", "width_points", "n_runs", "position", "efolds_outside",
               "status", "reason", "warning"]
    table = pd.concat(forecasts, ignore_index=True) if forecasts else pd.DataFrame(columns=columns)
    table = table.reindex(columns=[name for name in columns if name in table.columns or name not in ("tpr", "k")])
    backtests = pd.concat(summaries, ignore_index=True) if summaries else pd.DataFrame()
    if len(backtests) and "coverage" in backtests.columns:
        wide = backtests["mean_width_points"] > 100 * WIDE_INTERVAL_SHARE * (1 - _chance_of(frame, backtests))
        backtests["remark"] = np.where(wide, "intervals wider than half the range above chance: coverage "
                                             "comes from width, not from the law", "")
    return RunsForecast(
        forecasts=table, backtest=backtests, laws=pd.DataFrame(laws),
        optimal=pd.concat(optimal, ignore_index=True) if optimal else pd.DataFrame(),
        set_aside=set_aside, warnings=warnings,
        fitted=pd.concat(fitted_rows, ignore_index=True) if fitted_rows else pd.DataFrame(), curves=curves,
        backtest_rows=pd.concat(held_rows, ignore_index=True) if held_rows else pd.DataFrame(),
    )


def _default_cut(compute: pd.Series) -> float:
    """The default backtest cut: the top third of the runs' log-compute range held out."""
    log_compute = np.log(compute.to_numpy(float))
    return float(np.exp(log_compute.max() - np.ptp(log_compute) / 3))
