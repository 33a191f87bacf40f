"""A runs file's rows, made ready to fit: known levels filled, rows selected, near-chance runs, task means.

The first steps of :func:`scalelib.runs.your_runs.forecast_runs` (what ``python -m scalelib``
does), usable on their own:

* :func:`fill_known_levels` -- chance levels and benchmark sizes the library knows;
* :func:`select_rows` -- the benchmarks, values and metric asked for, accuracy metrics
  only (:data:`NON_ACCURACY_METRICS` set aside);
* :func:`near_chance` -- runs within :data:`NEAR_CHANCE_SE` binomial standard errors of
  chance, which are not fitted;
* :func:`aggregate_mean` -- one benchmark, the mean accuracy over several tasks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from scalelib.evaluation.auto_forecast import NEAR_CHANCE_SE as AUTO_NEAR_CHANCE_SE
from scalelib.evaluation.auto_forecast import near_chance_rows
from scalelib.data.benchmark_info import (
    BENCHMARKS,
    canonical_name,
    known_chance,
    known_n_items,
)
from scalelib.data.validation import ScalingDataError

__all__ = ["NEAR_CHANCE_SE", "NON_ACCURACY_METRICS", "fill_known_levels", "select_rows", "near_chance", "aggregate_mean"]

NEAR_CHANCE_SE = AUTO_NEAR_CHANCE_SE
"""Runs within this many binomial standard errors of chance are not fitted (see module docstring;
the forecaster's :data:`scalelib.evaluation.auto_forecast.NEAR_CHANCE_SE`)."""

NON_ACCURACY_METRICS = frozenset({
    "loss", "cross_entropy_loss", "perplexity", "bits_per_byte", "z_loss", "brier", "loglikelihood",
    "train_live_targets",
})
"""Metric names that are not accuracies: such rows are set aside, not read as scores."""


def fill_known_levels(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill missing ``chance`` and ``n_items`` from :mod:`scalelib.data.benchmark_info`; given values win.

    A ``value`` column may also be called ``accuracy`` (the runs file's name).
    """
    frame = frame.rename(columns={"accuracy": "value"}) if "value" not in frame.columns else frame.copy()
    for column, known in (("chance", known_chance), ("n_items", known_n_items)):
        defaults = frame["benchmark"].map(known).astype(float)
        frame[column] = frame[column].astype(float).fillna(defaults) if column in frame.columns else defaults
    return frame


def _matches(cells: pd.Series, values: Sequence[object]) -> pd.Series:
    """Cells equal to one of ``values``, compared as numbers where both sides are numbers."""
    as_numbers = pd.to_numeric(cells, errors="coerce")
    numbers = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").dropna().to_numpy(float)
    texts = {str(value).strip() for value in values}
    return cells.astype(str).str.strip().isin(texts) | as_numbers.isin(numbers)


def select_rows(
    frame: pd.DataFrame,
    *,
    benchmarks: Sequence[str] | None = None,
    where: Mapping[str, Sequence[object]] | None = None,
    metric: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep the rows asked for, before anything is validated.

    Parameters
    ----------
    frame
        Raw or read rows with a ``benchmark`` column (text cells are fine).
    benchmarks
        Keep only these benchmarks.
    where
        ``{column: values}``: keep rows whose column holds one of the values (numbers
        compared as numbers, so ``tpr`` 20 matches ``20.0``).
    metric
        With a ``metric`` column: keep this metric only. Without it, rows of
        :data:`NON_ACCURACY_METRICS` are set aside, and a benchmark with several
        accuracy metrics keeps its book default where known
        (:data:`scalelib.data.benchmark_info.BENCHMARKS`); the others are fitted
        separately, one group per metric, never pooled.

    Returns
    -------
    kept, set_aside
        ``set_aside`` holds the rows dropped for their metric, with a ``reason``.

    Raises
    ------
    ScalingDataError
        For a benchmark, column or value asked for that is not in the frame.
    """
    if benchmarks:
        unknown = sorted(set(benchmarks) - set(frame["benchmark"]))
        if unknown:
            raise ScalingDataError(f"--benchmark {unknown} not in the file, whose benchmarks are "
                                   f"{sorted(frame['benchmark'].unique())}.")
        frame = frame[frame["benchmark"].isin(benchmarks)]
    for column, values in (where or {}).items():
        if column not in frame.columns:
            raise ScalingDataError(f"--where {column}: no column {column!r} in the file ({list(frame.columns)}).")
        matched = _matches(frame[column], values)
        if not matched.any():
            raise ScalingDataError(f"--where {column}={','.join(map(str, values))} matches no row; the file has "
                                   f"{sorted(frame[column].astype(str).str.strip().unique())}.")
        frame = frame[matched]
    set_aside = frame.iloc[:0].assign(reason="")
    if "metric" not in frame.columns:
        if metric is not None:
            raise ScalingDataError(f"--metric {metric!r} given, but the file has no 'metric' column.")
        return frame, set_aside
    metrics = frame["metric"].astype(str).str.strip()
    if metric is not None:
        if not (metrics == metric).any():
            raise ScalingDataError(f"--metric {metric!r} not in the file, whose metrics are {sorted(metrics.unique())}.")
        return frame[metrics == metric], set_aside
    not_accuracy = metrics.isin(NON_ACCURACY_METRICS) | metrics.str.endswith("_stderr")
    set_aside = frame[not_accuracy].assign(reason="not an accuracy metric (a loss or a likelihood)")
    frame, metrics = frame[~not_accuracy], metrics[~not_accuracy]
    keep = pd.Series(True, index=frame.index)
    for benchmark, names in metrics.groupby(frame["benchmark"]):
        default = BENCHMARKS.get(canonical_name(str(benchmark).strip()))
        if names.nunique() > 1 and default is not None and (names == default.default_metric).any():
            keep[names.index] = names == default.default_metric
    set_aside = pd.concat([set_aside, frame[~keep].assign(reason="not the benchmark's default metric (give --metric)")])
    return frame[keep], set_aside


def near_chance(frame: pd.DataFrame, z: float = NEAR_CHANCE_SE) -> pd.Series:
    """Rows whose accuracy is indistinguishable from chance.

    A row is near chance if ``p - chance <= z sqrt(p (1 - p) / n)``: within ``z``
    binomial standard errors of chance for a benchmark of ``n`` items; where
    ``n_items`` is missing, if ``p <= chance``. The same rule as the evidence-weighted
    forecaster's (:func:`scalelib.evaluation.auto_forecast.near_chance_rows`).
    """
    return near_chance_rows(frame, z)


def aggregate_mean(frame: pd.DataFrame, tasks: Sequence[str], keys: Sequence[str]) -> pd.DataFrame:
    """One benchmark ``mean(a, b, ...)``: the mean accuracy over ``tasks`` per run.

    The chance level of a mean of accuracies is the mean of the members' chance levels,
    so the chance normalisation of the mean is exact. Its size is left unknown (NaN):
    the members' items are not one binomial sample. Runs missing a member are left
    out (an average over fewer tasks is another target).

    Raises
    ------
    ScalingDataError
        For fewer than two tasks, tasks not in the frame, or no run with every task.
    """
    tasks = list(dict.fromkeys(tasks))
    if len(tasks) < 2:
        raise ScalingDataError(f"--aggregate mean needs two or more tasks (--benchmark A B ...); got {tasks}.")
    missing = sorted(set(tasks) - set(frame["benchmark"]))
    if missing:
        raise ScalingDataError(f"--aggregate mean: task(s) {missing} not in the file.")
    members = frame[frame["benchmark"].isin(tasks)]
    run_keys = [*keys, "run"]
    counts = members.groupby(run_keys, dropna=False)["benchmark"].transform("nunique")
    members = members[counts == len(tasks)]
    if members.empty:
        raise ScalingDataError(f"--aggregate mean: no run has a score on every task of {tasks}.")
    first = {name: "first" for name in members.columns if name not in (*run_keys, "benchmark", "value", "chance")}
    mean = members.groupby(run_keys, sort=False, dropna=False).agg(value=("value", "mean"), chance=("chance", "mean"),
                                                                   **{name: (name, how) for name, how in first.items()})
    return mean.reset_index().assign(benchmark=f"mean({', '.join(tasks)})", n_items=np.nan)
