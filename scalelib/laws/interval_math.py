"""The mathematics every interval of the library shares: the transform, the quantiles, the noise floor.

Intervals are formed in the laws' transformed space :math:`y = \\log(-\\log Q)`
(:func:`transformed`) and mapped back to raw accuracy (:func:`untransformed`), so they
stay within (chance, 1). This module imports no law, so a law module can build its own
analytic interval from it (Eq. 5's :func:`scalelib.laws.pass_at_k_law.pass_at_k_law_interval`).

* the defaults: :data:`LEVEL`, :data:`N_RESAMPLES`, :data:`DRIFT_DEGREES_OF_FREEDOM`,
  :data:`MIN_INTERVAL_RUNS`, :data:`ZERO_SCATTER`, :data:`ACCURACY_MARGIN`;
* :func:`transformed` and :func:`untransformed`;
* :func:`share_beyond_fitted_compute` -- how many held-out rows lie beyond the fitted runs;
* :func:`resample_runs` -- the run resamples every bootstrap of the library draws;
* private helpers of the interval modules: the level and option checks, Student-t
  quantiles, the mapping of bounds in ``y`` back to accuracy, and the evaluation-noise
  floor of runs that lie exactly on the law.

The approach as a whole (curve, noise and drift terms) is described in
:mod:`scalelib.evaluation.intervals`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import ndtri, stdtrit

from scalelib.interfaces import PredictionInterval
from scalelib.data.normalise import ScalingDataError, accuracy_from_neg_log_q, neg_log_q
from scalelib.data.validation import as_numbers, check_distinct_compute, check_n_items

__all__ = [
    "LEVEL",
    "N_RESAMPLES",
    "DRIFT_DEGREES_OF_FREEDOM",
    "ACCURACY_MARGIN",
    "MIN_INTERVAL_RUNS",
    "ZERO_SCATTER",
    "Band",
    "Noise",
    "transformed",
    "untransformed",
    "share_beyond_fitted_compute",
    "resample_runs",
]

LEVEL = 0.9
"""Default nominal coverage of the intervals."""

N_RESAMPLES = 200
"""Default number of bootstrap resamples (at least
:data:`~scalelib.data.validation.MIN_BOOTSTRAP_RESAMPLES`, 20, are required)."""

DRIFT_DEGREES_OF_FREEDOM = 2
"""Degrees of freedom of Student's t for the drift term. The drift rate is estimated from
inner backtests whose held-out runs overlap, in effect from about two independent
extrapolations; like a variance estimated from so few observations it is itself
uncertain, and a normal quantile would undercover (``benchmarks/run.py --coverage``)."""

ACCURACY_MARGIN = 1e-9
"""Predicted accuracies are kept this far inside (chance, 1) before the transform
``log(-log Q)``; only forecasters not built on ``-log Q`` (e.g. a linear two-stage map)
can predict outside."""

Band = Literal["prediction", "confidence"]
Noise = Literal["residuals", "binomial"]

MIN_INTERVAL_RUNS = 3
"""Fewest runs an interval is formed from: two parameters plus one residual degree of
freedom (with two runs, half the bootstrap resamples would hold one run)."""

ZERO_SCATTER = 1e-9
"""Root-mean-square residual in ``log(-log Q)`` at or below which runs lie exactly on the
law (a flat benchmark, or noise-free synthetic runs). Their scatter says a new run would
land exactly on the curve, an interval of zero width; their prediction band is the
binomial evaluation noise of one run instead (:func:`direct_law_interval`). Real runs
scatter by about 1e-2."""


def _check_level(level: float) -> float:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}.")
    return float(level)


def _check_option(name: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"Unknown {name} {value!r}; use one of {list(allowed)}.")


def _t_quantile(level: float, degrees_of_freedom: float) -> float:
    """Student's t quantile at ``(1 + level) / 2``: the half-width of a central ``level`` interval in sd units."""
    return float(stdtrit(degrees_of_freedom, 0.5 + level / 2))


def _check_interval_runs(compute: ArrayLike, minimum: int) -> None:
    """Refuse fewer than ``minimum`` runs, or runs at a single compute value (no slope to fit)."""
    compute = np.asarray(compute, dtype=float).ravel()
    if len(compute) < minimum:
        raise ScalingDataError(
            f"An interval needs at least {minimum} runs (one residual degree of freedom); got {len(compute)}."
        )
    check_distinct_compute(compute)


def transformed(accuracy: ArrayLike, chance: float) -> np.ndarray:
    """The laws' linearising transform ``y = log(-log Q)``, accuracy kept inside (chance, 1).

    Accuracies within :data:`ACCURACY_MARGIN` of chance or of 1 (or beyond) are moved to
    that margin first, so that forecasts of any method can be transformed.
    """
    accuracy = np.clip(np.asarray(accuracy, dtype=float), chance + ACCURACY_MARGIN, 1.0 - ACCURACY_MARGIN)
    return np.log(neg_log_q(accuracy, chance))


def untransformed(y: ArrayLike, chance: float) -> np.ndarray:
    """Inverse of :func:`transformed`: ``acc = chance + (1 - chance) exp(-exp(y))``."""
    return accuracy_from_neg_log_q(np.exp(np.asarray(y, dtype=float)), chance)


def share_beyond_fitted_compute(
    frame: pd.DataFrame, held_out: pd.Series, *, compute_column: str = "flops"
) -> float:
    """Share of the held-out rows whose compute exceeds the largest fitted run of their benchmark.

    Those rows get a drift term, as do rows below the smallest fitted run
    (:func:`extrapolation_distance` is zero for the rows in between): for a split that is
    not a compute cut (e.g. leave one ratio out) this says how much of its coverage the
    drift calibration, made beyond the fitted runs, can affect.
    """
    largest_fitted = frame[~held_out].groupby("benchmark")[compute_column].max()
    rows = frame[held_out]
    return float((rows[compute_column] > rows["benchmark"].map(largest_fitted)).mean())


def _fitted_range(compute: ArrayLike) -> tuple[float, float]:
    compute = np.asarray(compute, dtype=float)
    return float(compute.min()), float(compute.max())


def _interval_from_y(
    predicted: np.ndarray, y_low: np.ndarray, y_high: np.ndarray, chance: float, *, level: float,
    method: str, drift_rate: float, fitted_compute: tuple[float, float],
) -> PredictionInterval:
    """Map bounds on y back to accuracy; y falls as accuracy rises, so the bounds swap."""
    return PredictionInterval(
        predicted=predicted, lower=untransformed(y_high, chance), upper=untransformed(y_low, chance),
        level=level, method=method, drift_rate=drift_rate, fitted_compute=fitted_compute,
    )


def _lies_on_the_law(residuals: np.ndarray) -> bool:
    """Zero scatter: the runs' root-mean-square residual in y is at most :data:`ZERO_SCATTER`."""
    return bool(np.sqrt(np.mean(np.square(residuals))) <= ZERO_SCATTER)


def _floor_items(n_items: ArrayLike | None) -> np.ndarray:
    """The item counts of the evaluation-noise floor; refuses their absence (None or NaN)."""
    if n_items is None or np.isnan(as_numbers(n_items, "n_items")).any():
        raise ScalingDataError(
            "The runs lie exactly on the law (zero scatter, e.g. every accuracy equal), so the prediction "
            "interval would have zero width: give the benchmark's number of items (n_items) for an "
            "evaluation-noise floor sqrt(p (1 - p) / n_items)."
        )
    return check_n_items(n_items, purpose="The evaluation-noise floor of runs that lie exactly on the law")


def _with_evaluation_noise_floor(
    interval: PredictionInterval, n_items: ArrayLike | None, chance: float
) -> PredictionInterval:
    """Widen an interval to at least ``p +- z sqrt(p (1 - p) / n)``, the evaluation noise of one run.

    For runs with zero scatter (:func:`_lies_on_the_law`); z is the normal quantile of
    the interval's level, the bounds stay within [chance, 1].
    """
    p = interval.predicted
    half_width = ndtri(0.5 + interval.level / 2) * np.sqrt(p * (1.0 - p) / _floor_items(n_items))
    return replace(
        interval,
        lower=np.clip(np.minimum(interval.lower, p - half_width), chance, 1.0),
        upper=np.clip(np.maximum(interval.upper, p + half_width), chance, 1.0),
        method=f"{interval.method}, evaluation-noise floor",
    )


def _rows_n_items(rows: pd.DataFrame, training_rows: pd.DataFrame) -> np.ndarray | float | None:
    """The forecast rows' ``n_items``, else the benchmark's (its first training row's), else None."""
    if "n_items" in rows.columns:
        return rows["n_items"].to_numpy()
    if "n_items" in training_rows.columns:
        return training_rows["n_items"].iloc[0]
    return None


def resample_runs(n_runs: int, *, n_resamples: int = N_RESAMPLES, seed: int = 0) -> np.ndarray:
    """Bootstrap resamples of runs: an ``(n_resamples, n_runs)`` array of run positions.

    Each row draws ``n_runs`` runs with replacement, from ``numpy.random.default_rng(seed)``;
    every bootstrap of this module uses it, so the same seed resamples the same runs.
    """
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}.")
    return np.random.default_rng(seed).integers(0, n_runs, size=(n_resamples, n_runs))
