"""Forecast your own runs: the one function behind ``python -m scalelib``.

:func:`forecast_runs` takes a tidy frame of runs (one row per run and benchmark, as
:func:`scalelib.cli.read_runs` returns it) and

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
prints and saves. The rows are made ready in :mod:`scalelib.runs_file` (selection,
known levels, near chance, task means) and drawn by :mod:`scalelib.runs_figure`; both
modules' public names are importable from here too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from tqdm import tqdm  # plain bar: tqdm.auto warns in notebooks without ipywidgets

from scalelib.backtest import forecast_rows
from scalelib.baselines import line_forecaster
from scalelib.compute_optimal import allocation_at_ratio, optimal_ratio
from scalelib.intervals import (
    LEVEL,
    N_RESAMPLES,
    ROLLING_ORIGIN_FRACTIONS,
    IntervalFitter,
    IntervalPredictor,
    backtest_intervals,
    bootstrap_interval_fitter,
    law_interval_fitter,
    summarise_intervals,
)
from scalelib.laws import LAWS as REGISTERED_LAWS
from scalelib.loss_law import loss_column as validation_loss_column
from scalelib.loss_to_accuracy import fit_flp_map, fit_linear_map, fit_logistic_map
from scalelib.runs_figure import plot_runs_forecast
from scalelib.runs_file import (
    NEAR_CHANCE_SE,
    NON_ACCURACY_METRICS,
    aggregate_mean,
    fill_known_levels,
    near_chance,
    select_rows,
)
from scalelib.two_stage import two_stage_forecaster
from scalelib.validation import ScalingDataError, check_distinct_compute

__all__ = [
    "TWO_STAGE_LAWS", "TWO_STAGE_MIN_RUNS", "forecast_laws", "min_runs", "FAMILY_COLUMNS", "NEAR_CHANCE_SE", "WIDE_INTERVAL_SHARE", "FAILED_BACKTEST_COVERAGE",
    "FAILED_BACKTEST_MIN_RUNS", "CALIBRATED_REACH", "NON_ACCURACY_METRICS",
    "RunsForecast", "fill_known_levels", "select_rows", "group_columns", "near_chance", "aggregate_mean",
    "line_forecaster", "interval_fitter", "fit_away_from_chance", "forecast_runs", "plot_runs_forecast",
]

TWO_STAGE_LAWS: dict[str, str] = {
    "two-stage-linear": "compute -> loss (L = E + A C^-alpha) -> accuracy (linear map)",
    "two-stage-logistic": "compute -> loss (L = E + A C^-alpha) -> accuracy (logistic map)",
    "two-stage-flp": "compute -> loss (L = E + A C^-alpha) -> accuracy (FLP, emerged runs)",
}
"""The two-stage forecasts (:mod:`scalelib.two_stage`) a runs file can be forecast with: a loss
law composed with a map to accuracy, not laws of :data:`scalelib.laws.LAWS`."""

TWO_STAGE_MIN_RUNS: dict[str, int] = {"two-stage-linear": 4, "two-stage-logistic": 5, "two-stage-flp": 5}
"""Fitted points a two-stage forecast needs per group: its map's parameters plus one, for an interval."""


def forecast_laws() -> dict[str, str]:
    """Every law a runs file can be forecast with, and what it fits.

    The laws of :data:`scalelib.laws.LAWS` (their ``description``), read when called, so
    that a law added to the registry is offered too; then :data:`TWO_STAGE_LAWS`.
    """
    return {**{name: law.description for name, law in REGISTERED_LAWS.items()}, **TWO_STAGE_LAWS}


def min_runs(law: str) -> int:
    """Fitted points ``law`` needs per group: a registered law's ``min_runs`` (its parameters plus one,
    for an interval), or :data:`TWO_STAGE_MIN_RUNS`."""
    return REGISTERED_LAWS[law].min_runs if law in REGISTERED_LAWS else TWO_STAGE_MIN_RUNS[law]

TWO_STAGE_MAPS = {"two-stage-linear": fit_linear_map, "two-stage-logistic": fit_logistic_map,
                  "two-stage-flp": fit_flp_map}

FAMILY_COLUMNS = ("mixture", "tpr", "metric")
"""Columns that name a family of runs: present in a frame, they split the fits."""

RATIO_INPUTS = ("params", "tokens")
"""Input columns of a law fitted across ratios (Eq. 4): the ratio ``tpr = tokens / params`` is one
of its inputs, so ``tpr`` does not split its fits and its forecasts are made at every ratio."""

INPUT_COLUMNS = {
    "params": "each run's parameter count",
    "tokens": "each run's training tokens (or params and tpr)",
    "k": "the number of samples of each pass@k value (pass@k for several k per run)",
}
"""What a law's input column (:attr:`scalelib.interfaces.Law.columns`) holds, for the refusals."""

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
log-compute range (:func:`scalelib.intervals.estimate_drift_rate`)."""

FALLING_CORRELATION = -0.5
"""A group whose rank correlation of score with compute is below this is warned about."""

_TWO_STAGE_LOSS_SET = "c4"
"""The two-stage forecaster reads a loss from ``loss_column(set)``; the caller's loss column
is passed under this set's column name, which only labels it (any loss works)."""


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
        :func:`scalelib.intervals.summarise_intervals` per group, plus the group
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


def _across_ratios(law: str) -> bool:
    """Whether ``law`` is a registered law fitted across ratios: its inputs hold :data:`RATIO_INPUTS` (Eq. 4)."""
    return law in REGISTERED_LAWS and set(RATIO_INPUTS) <= set(REGISTERED_LAWS[law].columns)


def _other_inputs(law: str) -> list[str]:
    """A registered law's input columns besides compute and :data:`RATIO_INPUTS` (Eq. 5's ``k``)."""
    if law not in REGISTERED_LAWS:
        return []
    return [name for name in REGISTERED_LAWS[law].columns if name not in ("flops", *RATIO_INPUTS)]


def _varying_columns(law: str) -> list[str]:
    """Columns whose every value in a group gets a forecast: ``tpr`` across ratios, and :func:`_other_inputs`."""
    return [*(["tpr"] if _across_ratios(law) else []), *_other_inputs(law)]


def group_columns(frame: pd.DataFrame, law: str, extra: Sequence[str] = ()) -> list[str]:
    """Columns that split the fits: :data:`FAMILY_COLUMNS` present in ``frame`` plus ``extra``.

    For a law fitted across ratios (its inputs hold :data:`RATIO_INPUTS`, ``law="ratio"``)
    the ratio column ``tpr`` does not split: Eq. 4 is fitted across it.
    """
    columns = [name for name in (*FAMILY_COLUMNS, *extra) if name in frame.columns]
    return list(dict.fromkeys(name for name in columns if not (_across_ratios(law) and name == "tpr")))


# --------------------------------------------------------------------------- fitting one group


def interval_fitter(
    law: str, *, interval: str | None = None, noise: str = "residuals", n_resamples: int = N_RESAMPLES,
    seed: int = 0, progress: bool = True,
) -> IntervalFitter:
    """The interval fitter of one of :func:`forecast_laws`: by default analytic for a law that has one (Eq. 2, Eq. 5),
    bootstrap otherwise.

    Raises
    ------
    ScalingDataError
        For an unknown law, or an analytic interval asked for a law that has none.
    """
    if law not in forecast_laws():
        raise ScalingDataError(f"Unknown law {law!r}; choose one of {list(forecast_laws())}.")
    registered = REGISTERED_LAWS.get(law)
    analytic = registered is not None and registered.has_analytic_interval
    if interval == "analytic" and not analytic:
        with_analytic = " and ".join(name for name, known in REGISTERED_LAWS.items() if known.has_analytic_interval)
        raise ScalingDataError(
            f"The analytic interval exists for the {with_analytic} laws only; drop --interval for {law}."
        )
    if noise == "binomial" and (interval or ("analytic" if analytic else "bootstrap")) == "analytic":
        raise ScalingDataError("--noise binomial needs the bootstrap interval (the analytic one uses the "
                               "residuals): add --interval bootstrap.")
    options = dict(noise=noise, n_resamples=n_resamples, seed=seed, progress=progress)
    if law in TWO_STAGE_MAPS:
        forecaster = two_stage_forecaster(TWO_STAGE_MAPS[law], validation_sets=[_TWO_STAGE_LOSS_SET])
        return bootstrap_interval_fitter(forecaster, **options)
    return law_interval_fitter(law, interval=interval or ("analytic" if analytic else "bootstrap"), **options)


def _group_problem(rows: pd.DataFrame, law: str, *, noise: str) -> str:
    """Why a group cannot be fitted at all, in plain words ('' if it can be tried)."""
    if rows["chance"].isna().any():
        return (f"chance level unknown for {rows['benchmark'].iloc[0]!r}: add a 'chance' column (0.25 for four-way "
                "multiple choice, 0 for open answers); scalelib.benchmark_info.chance_level_table() lists the known")
    if rows["chance"].nunique() > 1:
        return f"several chance levels {sorted(rows['chance'].unique())}: give one per benchmark"
    if noise == "binomial" and rows["n_items"].isna().any():
        return "--noise binomial needs the benchmark's number of items: add an n_items column"
    if _across_ratios(law) and ("tpr" not in rows.columns or rows["tpr"].nunique() < 2):
        of_compute = ", ".join(name for name, known in REGISTERED_LAWS.items() if known.columns == ("flops",))
        return (f"{REGISTERED_LAWS[law].title} is fitted across ratios, and this group has runs at one tpr only: "
                f"use a law of compute alone (--law {of_compute})")
    missing = [name for name in REGISTERED_LAWS[law].columns if name not in rows.columns] if law in REGISTERED_LAWS else []
    if missing:
        return f"{REGISTERED_LAWS[law].title} needs a column {missing[0]!r}: {INPUT_COLUMNS[missing[0]]}"
    if law in TWO_STAGE_MAPS and validation_loss_column(_TWO_STAGE_LOSS_SET) not in rows.columns:
        return "the two-stage methods need a validation loss: name its column with --loss-column"
    try:
        check_distinct_compute(rows["flops"])
    except ScalingDataError as error:
        return str(error)
    return ""


def fit_away_from_chance(fit: IntervalFitter, law: str = "direct") -> IntervalFitter:
    """``fit`` on the training rows off the chance floor, refusing too few in plain words.

    Training rows :func:`near_chance` are left out of the fit (within
    :data:`NEAR_CHANCE_SE` binomial standard errors of chance, or at or below it); a
    backtest with this fitter still scores every held-out row, near chance too.
    Fewer than :func:`min_runs` rows left raise a
    :class:`~scalelib.normalise.ScalingDataError` that says what to do.
    """

    def fit_usable(training_rows: pd.DataFrame) -> IntervalPredictor:
        usable = training_rows[~near_chance(training_rows)]
        n_needed = min_runs(law)
        if len(usable) < n_needed:
            raise ScalingDataError(
                f"{len(usable)} of {len(training_rows)} fitted runs are clearly above chance, but the {law} law "
                f"needs at least {n_needed}; train runs further up, or choose a law with fewer parameters"
            )
        return fit(usable)

    return fit_usable


def _target_rows(rows: pd.DataFrame, targets: np.ndarray, law: str) -> pd.DataFrame:
    """Rows to forecast: each target, at each tpr of the group (across ratios, Eq. 4) and each value of
    the law's other inputs (:func:`_other_inputs`, Eq. 5's k)."""
    target = forecast_rows(rows, targets)
    if _across_ratios(law):
        parts = []
        for tpr in sorted(rows["tpr"].unique()):
            params, tokens = allocation_at_ratio(targets, tpr)
            parts.append(target.assign(tpr=tpr, params=params, tokens=tokens))
        target = pd.concat(parts, ignore_index=True)
    for name in _other_inputs(law):
        target = pd.concat([target.assign(**{name: value}) for value in sorted(rows[name].unique())],
                           ignore_index=True)
    if law in TWO_STAGE_MAPS:
        return target.assign(**{validation_loss_column(_TWO_STAGE_LOSS_SET): np.nan})
    return target


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
        As :func:`scalelib.intervals.law_interval_fitter`.
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
    fit = interval_fitter(law, interval=interval, noise=noise, n_resamples=n_resamples, seed=seed, progress=progress)
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
        group_fit = fit_away_from_chance(fit, law)
        group_cut = cut if cut is not None else _default_cut(usable["flops"])
        if (rows["flops"] > group_cut).any() and (rows["flops"] <= group_cut).any():
            result = backtest_intervals(rows.drop(columns="mixture", errors="ignore"), group_fit,
                                        compute_cut=group_cut, level=level)
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
            predict = group_fit(rows.copy())
            wanted = _target_rows(usable, targets, law)
            grid = np.logspace(np.log10(min(targets.min(), rows["flops"].min())),
                               np.log10(max(targets.max(), rows["flops"].max())), grid_points)
            extra = [] if grid_points == 0 or _varying_columns(law) else [forecast_rows(usable, grid)]
            asked = pd.concat([wanted, *extra], ignore_index=True)
            if law in TWO_STAGE_MAPS:
                asked = asked.assign(**{validation_loss_column(_TWO_STAGE_LOSS_SET): np.nan})
            table = predict(asked, level).to_frame(asked["flops"].to_numpy())
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


def _chance_of(frame: pd.DataFrame, summary: pd.DataFrame) -> np.ndarray:
    """Each backtest summary row's chance level, looked up by its panel's benchmark."""
    by_benchmark = frame.groupby("benchmark")["chance"].first()
    return summary["panel"].str.split(",").str[0].map(by_benchmark).to_numpy(float)
