"""Which laws a runs file can be forecast with, how they split its runs, and a forecaster per law.

The laws of :data:`scalelib.laws.registry.LAWS`, read when called, and the two-stage forecasts
(:data:`TWO_STAGE_LAWS`) are offered by :func:`forecast_laws`, each with the runs it needs
(:func:`min_runs`). :func:`group_columns` says which columns split the fits (a law fitted
across ratios, Eq. 4, is fitted across ``tpr``); :func:`interval_forecaster` builds a law's
interval forecaster and :func:`fit_away_from_chance` keeps it off the chance floor. The
steps of :func:`scalelib.runs.your_runs.forecast_runs`; every public name here is importable
from :mod:`scalelib.runs.your_runs` too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from scalelib.evaluation.backtest import forecast_rows
from scalelib.laws.compute_optimal import allocation_at_ratio
from scalelib.evaluation.intervals import (
    LEVEL,
    N_RESAMPLES,
    bootstrap_interval_forecaster,
    law_interval_forecaster,
)
from scalelib.interfaces import Forecaster, Predictor
from scalelib.laws.registry import LAWS as REGISTERED_LAWS
from scalelib.laws.loss_law import loss_column as validation_loss_column
from scalelib.laws.loss_to_accuracy import fit_flp_map, fit_linear_map, fit_logistic_map
from scalelib.runs.runs_file import near_chance
from scalelib.evaluation.two_stage import two_stage_forecaster
from scalelib.data.validation import ScalingDataError, check_distinct_compute

__all__ = [
    "TWO_STAGE_LAWS", "TWO_STAGE_MIN_RUNS", "forecast_laws", "min_runs", "FAMILY_COLUMNS", "group_columns",
    "interval_forecaster", "fit_away_from_chance",
]

TWO_STAGE_LAWS: dict[str, str] = {
    "two-stage-linear": "compute -> loss (L = E + A C^-alpha) -> accuracy (linear map)",
    "two-stage-logistic": "compute -> loss (L = E + A C^-alpha) -> accuracy (logistic map)",
    "two-stage-flp": "compute -> loss (L = E + A C^-alpha) -> accuracy (FLP, emerged runs)",
}
"""The two-stage forecasts (:mod:`scalelib.evaluation.two_stage`) a runs file can be forecast with: a loss
law composed with a map to accuracy, not laws of :data:`scalelib.laws.registry.LAWS`."""

TWO_STAGE_MIN_RUNS: dict[str, int] = {"two-stage-linear": 4, "two-stage-logistic": 5, "two-stage-flp": 5}
"""Fitted points a two-stage forecast needs per group: its map's parameters plus one, for an interval."""


def forecast_laws() -> dict[str, str]:
    """Every law a runs file can be forecast with, and what it fits.

    The laws of :data:`scalelib.laws.registry.LAWS` (their ``description``), read when called, so
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

_TWO_STAGE_LOSS_SET = "c4"
"""The two-stage forecaster reads a loss from ``loss_column(set)``; the caller's loss column
is passed under this set's column name, which only labels it (any loss works)."""


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


def interval_forecaster(
    law: str, *, level: float = LEVEL, interval: str | None = None, noise: str = "residuals",
    n_resamples: int = N_RESAMPLES, seed: int = 0, progress: bool = True,
) -> Forecaster:
    """The interval forecaster of one of :func:`forecast_laws`, at ``level``: by default analytic for a law that
    has one (Eq. 2, Eq. 5), bootstrap otherwise.

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
    options = dict(level=level, noise=noise, n_resamples=n_resamples, seed=seed, progress=progress)
    if law in TWO_STAGE_MAPS:
        forecaster = two_stage_forecaster(TWO_STAGE_MAPS[law], validation_sets=[_TWO_STAGE_LOSS_SET])
        return bootstrap_interval_forecaster(forecaster, **options)
    return law_interval_forecaster(law, interval=interval or ("analytic" if analytic else "bootstrap"), **options)


def _group_problem(rows: pd.DataFrame, law: str, *, noise: str) -> str:
    """Why a group cannot be fitted at all, in plain words ('' if it can be tried)."""
    if rows["chance"].isna().any():
        return (f"chance level unknown for {rows['benchmark'].iloc[0]!r}: add a 'chance' column (0.25 for four-way "
                "multiple choice, 0 for open answers); scalelib.data.benchmark_info.chance_level_table() lists the known")
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


def fit_away_from_chance(forecaster: Forecaster, law: str = "direct") -> Forecaster:
    """``forecaster`` on the training rows off the chance floor, refusing too few in plain words.

    Training rows :func:`near_chance` are left out of the fit (within
    :data:`NEAR_CHANCE_SE` binomial standard errors of chance, or at or below it); a
    backtest with this forecaster still scores every held-out row, near chance too.
    Fewer than :func:`min_runs` rows left raise a
    :class:`~scalelib.data.normalise.ScalingDataError` that says what to do.
    """

    def fit_usable(training_rows: pd.DataFrame) -> Predictor:
        usable = training_rows[~near_chance(training_rows)]
        n_needed = min_runs(law)
        if len(usable) < n_needed:
            raise ScalingDataError(
                f"{len(usable)} of {len(training_rows)} fitted runs are clearly above chance, but the {law} law "
                f"needs at least {n_needed}; train runs further up, or choose a law with fewer parameters"
            )
        return forecaster(usable)

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
