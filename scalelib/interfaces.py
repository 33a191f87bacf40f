"""The types every law and forecaster speaks: :class:`Law`, :data:`Forecaster`, :class:`PredictionInterval`.

This module imports no law, so every law module can describe itself with a
:class:`Law` (the registry of those descriptions is :mod:`scalelib.laws.registry`), and
:mod:`scalelib.laws.ratio_law` can build intervals without importing
:mod:`scalelib.evaluation.intervals`, which imports the laws.

* :class:`Law` -- one law's description: equation, inputs, residuals and Jacobian,
  bounds, fit and forecaster, in one signature for every law;
* :data:`Forecaster`, :data:`Predictor` -- the book's vocabulary: a *forecaster* fits a
  law (or any method) to one benchmark's training rows and returns a *predictor*, which
  maps rows to forecasts: point forecasts (an array) or a :class:`PredictionInterval`
  (an :data:`IntervalPredictor`). A ``fit_*`` function fits arrays and returns a result
  with parameters and uncertainties; :func:`law_forecaster` makes a forecaster of one;
* :class:`PredictionInterval` -- point forecasts with their interval (re-exported by
  :mod:`scalelib.evaluation.intervals`, whose interval forecasters build them);
* :func:`extrapolation_efolds`, :func:`extrapolation_distance`, :func:`range_position` --
  where a forecast stands relative to the fitted runs;
* helpers the law modules share to read their inputs from rows:
  :func:`rows_compute`, :func:`centred_log_compute`, :func:`fit_compute_law_to_rows`,
  :func:`log_neg_log_q_target`, :func:`optimized_parameters`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from scalelib.data.normalise import ScalingDataError, log_compute_offset, neg_log_q
from scalelib.laws.profile_fit import Profile
from scalelib.data.validation import as_numbers, check_compute


Predictor = Callable[[pd.DataFrame], "np.ndarray | PredictionInterval"]
"""Maps rows (a DataFrame) to their forecasts, one per row: predicted raw accuracy (an
array), or a :class:`PredictionInterval` holding it with its interval (an
:data:`IntervalPredictor`)."""

Forecaster = Callable[[pd.DataFrame], Predictor]
"""Fits a law (or any method) to one benchmark's training rows and returns its :data:`Predictor`.

The rows carry every column of the benchmark's runs: ``run``, ``benchmark``, ``value``
(raw accuracy), ``chance`` and the compute (``flops``), plus whatever the law needs
(``params`` and ``tokens`` for the ratio law, ``k`` for pass@k, ``n_items`` for binomial
noise). Every step of :mod:`scalelib.evaluation.backtest` takes a forecaster, of point
forecasts or of intervals alike."""


def single_chance_level(rows: pd.DataFrame) -> float:
    """The one chance level of a benchmark's rows; refuses rows that mix several."""
    levels = rows["chance"].unique()
    if len(levels) != 1:
        raise ScalingDataError(f"Expected one chance level per benchmark, got {sorted(levels)}.")
    return float(levels[0])


def law_forecaster(
    fit_law: Callable[..., object],
    *,
    compute_column: str = "flops",
    n_items_column: str | None = None,
    **fit_options: object,
) -> Forecaster:
    """Turn a law's fit function into a :data:`Forecaster` for :func:`~scalelib.evaluation.backtest.backtest`.

    Parameters
    ----------
    fit_law
        ``fit_law(compute, accuracy, *, chance, labels, **fit_options)`` returning a
        result with ``.predict(compute) -> raw accuracy``.
    compute_column
        Column holding the compute C passed to the law and to ``predict``.
    n_items_column
        If given, this column is passed to the law as ``n_items``.
    **fit_options
        Further keyword arguments for ``fit_law``.

    Returns
    -------
    Forecaster
        Fits on rows with columns ``compute_column``, ``value``, ``chance`` (a single
        level) and ``run`` (used to name bad points in error messages). Its predictor
        refuses compute that is not a finite number > 0, whatever the law.
    """

    def fit(training_rows: pd.DataFrame) -> Predictor:
        options = dict(fit_options)
        if n_items_column is not None:
            options["n_items"] = training_rows[n_items_column].to_numpy()
        result = fit_law(
            training_rows[compute_column].to_numpy(),
            training_rows["value"].to_numpy(),
            chance=single_chance_level(training_rows),
            labels=training_rows["run"].tolist(),
            **options,
        )
        return lambda rows: result.predict(check_compute(rows[compute_column].to_numpy(), name=compute_column))

    return fit


__all__ = [
    "Predictor",
    "Forecaster",
    "single_chance_level",
    "law_forecaster",
    "Law",
    "PredictionInterval",
    "IntervalPredictor",
    "extrapolation_efolds",
    "extrapolation_distance",
    "range_position",
    "rows_compute",
    "centred_log_compute",
    "fit_compute_law_to_rows",
    "log_neg_log_q_target",
    "optimized_parameters",
]


# --------------------------------------------------------------------------- laws


def log_neg_log_q_target(accuracy: ArrayLike, chance: float) -> np.ndarray:
    """The transformed target of the accuracy laws, ``y = log(-log Q)``, Q the chance-normalised accuracy."""
    return np.log(neg_log_q(np.asarray(accuracy, dtype=float), chance))


def rows_compute(rows: pd.DataFrame, compute_column: str) -> np.ndarray:
    """The compute column as floats; refuses text (:func:`scalelib.data.validation.as_numbers`)."""
    return as_numbers(rows[compute_column].to_numpy(), compute_column)


def centred_log_compute(rows: pd.DataFrame, compute_column: str) -> np.ndarray:
    """The inputs of a law in compute alone: ``x = log(C / C_ref)`` (:func:`scalelib.data.normalise.log_compute_offset`)."""
    return log_compute_offset(rows_compute(rows, compute_column))


def fit_compute_law_to_rows(fit_law: Callable[..., Any]) -> Callable[[pd.DataFrame, str], Any]:
    """``fit_rows(rows, compute_column)`` for a law fitted as ``fit_law(compute, accuracy, chance=, labels=)``."""

    def fit_rows(rows: pd.DataFrame, compute_column: str) -> Any:
        return fit_law(
            rows_compute(rows, compute_column), rows["value"].to_numpy(), chance=single_chance_level(rows),
            labels=rows["run"].tolist(),
        )

    return fit_rows


def optimized_parameters(fit: Any) -> np.ndarray:
    """The fitted parameters of a robust law: its ``optimize_result.x``, in the fitted parametrisation."""
    return fit.optimize_result.x


@dataclass(frozen=True, eq=False)
class Law:
    """One law, described once for every consumer (intervals, command line, benchmarks, tests).

    Every law is written in a transformed space: it predicts :math:`-\\log Q` from inputs
    ``x`` (e.g. ``x = log(C / C_ref)``) and parameters ``p`` in its fitted
    parametrisation, and is fitted to the target ``y = log(-log Q)`` through the
    residuals ``log(neg_log_q(x, p)) - y``. The functions share one signature across
    laws: ``inputs(rows, compute_column) -> x``, ``neg_log_q(x, p)``,
    ``residuals(p, x, y)``, ``jacobian(p, x, y)`` (shape ``(n, n_parameters)``),
    ``bounds(x) -> (lower, upper)``, ``fit_rows(rows, compute_column)``,
    ``parameters(fit) -> p`` and ``forecaster(compute_column=...) -> Forecaster``. A law
    with a closed-form interval carries it (``analytic_interval_forecaster``,
    :attr:`Law.has_analytic_interval`), and so does a law whose bootstrap over runs is
    solved in closed form (``bootstrap_curves``): consumers read these, never a law's name.

    Attributes
    ----------
    name
        Key in the registry (:data:`scalelib.laws.registry.LAWS`) and the command line's ``--law``.
    title
        The paper's equation number or the law's short name, e.g. ``"Eq. 2"``.
    description
        What the command line prints for the law, in one line.
    equation, latex
        The law as plain text and as LaTeX.
    columns
        Input columns the law needs besides ``value``, ``chance`` and ``run``
        (``flops`` stands for the compute column).
    n_parameters
        Number of fitted parameters.
    min_runs
        Fewest points a fit with an interval needs: the parameters plus one residual
        degree of freedom.
    target
        ``target(accuracy, chance) -> y``, the transformed target (``log(-log Q)``).
    inputs, neg_log_q, residuals, jacobian, bounds
        The law in its fitted parametrisation (signatures above).
    fit
        The law's fit function, e.g. :func:`scalelib.laws.direct_law.fit_direct_law`.
    fit_rows
        The fit on one benchmark's rows (columns of :func:`scalelib.evaluation.backtest.backtest`).
    parameters
        The fitted parameters ``p`` of a fit result, in the parametrisation of ``residuals``.
    forecaster
        A :data:`~scalelib.interfaces.Forecaster` fitting the law, ``forecaster(compute_column=...)``.
    profile
        The law's :class:`~scalelib.laws.profile_fit.Profile` at given inputs if every bootstrap
        resample can be profiled at once (:func:`~scalelib.laws.profile_fit.bootstrap_by_profile`);
        None otherwise.
    robust
        Fitted by the Huber loss of its log residuals from a global search: a bootstrap
        resample is refitted by one polish from the point estimate (or profiled). A law
        that is not robust and has no ``bootstrap_curves`` is bootstrapped by refitting
        its forecaster.
    analytic_interval_forecaster
        The law's closed-form interval, as ``analytic_interval_forecaster(band=...,
        calibrate=..., compute_column=..., drift_degrees_of_freedom=..., level=...)``, a
        :data:`Forecaster` of :class:`PredictionInterval` at ``level``:
        Eq. 2's OLS interval with its calibrated drift term
        (:func:`scalelib.laws.direct_law_intervals.direct_law_interval_forecaster`), Eq. 5's
        (:func:`scalelib.laws.pass_at_k_law.pass_at_k_interval_forecaster`, which has no drift
        term: ``calibrate`` and ``drift_degrees_of_freedom`` do not apply); None for a law
        without one.
    bootstrap_curves
        The law's bootstrap over runs in closed form, every resample at once, as
        ``bootstrap_curves(training_rows, rows, n_resamples=..., seed=..., compute_column=...)``
        -> ``(n_resamples, len(rows))`` values of ``log(-log Q)`` at ``rows``, the resamples
        of :func:`scalelib.laws.interval_math.resample_runs` (Eq. 2's
        :func:`scalelib.laws.direct_law_intervals.direct_law_bootstrap_curves`); None for a law
        bootstrapped by profiling, polishing or refitting (``profile``, ``robust``).
    """

    name: str
    title: str
    description: str
    equation: str
    latex: str
    columns: tuple[str, ...]
    n_parameters: int
    min_runs: int
    inputs: Callable[[pd.DataFrame, str], np.ndarray]
    neg_log_q: Callable[[np.ndarray, np.ndarray], np.ndarray]
    residuals: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    jacobian: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    bounds: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    fit: Callable[..., Any]
    fit_rows: Callable[[pd.DataFrame, str], Any]
    parameters: Callable[[Any], np.ndarray]
    forecaster: Callable[..., Forecaster]
    # a factory, not a class attribute: autodoc would document the function twice
    target: Callable[[ArrayLike, float], np.ndarray] = field(default_factory=lambda: log_neg_log_q_target)
    profile: Callable[[np.ndarray], Profile] | None = None
    robust: bool = False
    analytic_interval_forecaster: Callable[..., Forecaster] | None = None
    bootstrap_curves: Callable[..., np.ndarray] | None = None

    @property
    def has_analytic_interval(self) -> bool:
        """Whether the law has a closed-form interval (an ``analytic_interval_forecaster``)."""
        return self.analytic_interval_forecaster is not None

    def __repr__(self) -> str:
        return f"Law({self.name!r}: {self.title}, {self.equation})"


# --------------------------------------------------------------------------- intervals


def extrapolation_efolds(compute: ArrayLike, fitted_compute: ArrayLike) -> np.ndarray:
    """Where compute C stands relative to the fitted runs, in e-folds: signed distance from their range.

    ``log(C / C_min)`` (negative) below the smallest fitted run, ``log(C / C_max)``
    (positive) beyond the largest, 0 inside ``[C_min, C_max]``.
    """
    compute = np.asarray(compute, dtype=float)
    fitted_compute = np.asarray(fitted_compute, dtype=float)
    return np.minimum(0.0, np.log(compute / fitted_compute.min())) + np.maximum(0.0, np.log(compute / fitted_compute.max()))


def extrapolation_distance(compute: ArrayLike, fitted_compute: ArrayLike) -> np.ndarray:
    """``d = max(0, log(C / C_max), log(C_min / C))``: e-folds of compute outside the fitted runs.

    The distance the drift term grows with, in both directions (:func:`extrapolation_efolds`
    keeps the sign).
    """
    return np.abs(extrapolation_efolds(compute, fitted_compute))


def range_position(efolds: ArrayLike) -> np.ndarray:
    """``"below"``, ``"inside"`` or ``"beyond"`` the fitted range, from :func:`extrapolation_efolds`."""
    efolds = np.asarray(efolds, dtype=float)
    return np.where(efolds < 0, "below", np.where(efolds > 0, "beyond", "inside"))


@dataclass(frozen=True, eq=False)
class PredictionInterval:
    """Point forecasts of raw accuracy with their interval, one entry per forecast row.

    Attributes
    ----------
    predicted
        The law's point forecast (the fit to all training runs).
    lower, upper
        Interval bounds, raw accuracy.
    level
        Nominal coverage, e.g. 0.9.
    method
        How the interval was formed, e.g. ``"analytic, prediction, calibrated"``.
    drift_rate
        The calibrated extrapolation drift rate tau (0 if not calibrated).
    fitted_compute
        ``(smallest, largest)`` compute of the runs the law was fitted to; NaN if unknown
        (an interval not made by :mod:`scalelib.evaluation.intervals`).
    """

    predicted: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float
    method: str
    drift_rate: float
    fitted_compute: tuple[float, float] = (np.nan, np.nan)

    def to_frame(self, compute: ArrayLike) -> pd.DataFrame:
        """The interval as a table, one row per compute value (the compute of the forecasts).

        Besides ``flops``, ``predicted``, ``lower`` and ``upper``, each row says where it
        stands: ``position`` (``"below"``, ``"inside"`` or ``"beyond"`` the fitted compute,
        ``"unknown"`` without a fitted range) and ``efolds_outside``, its distance from
        the fitted range in e-folds of compute (0 inside; the :math:`d_0` of the drift term).
        """
        compute = np.asarray(compute, dtype=float)
        if np.isnan(self.fitted_compute).any():
            position, distance = np.full(compute.shape, "unknown"), np.full(compute.shape, np.nan)
        else:
            efolds = extrapolation_efolds(compute, self.fitted_compute)
            position, distance = range_position(efolds), np.abs(efolds)
        return pd.DataFrame({
            "flops": compute, "predicted": self.predicted, "lower": self.lower, "upper": self.upper,
            "position": position, "efolds_outside": distance,
        })


IntervalPredictor = Callable[..., PredictionInterval]
"""A :data:`Predictor` of intervals: ``predict(rows, level=...)`` returns the rows'
:class:`PredictionInterval` at the level its forecaster was built with (an interval
forecaster's ``level``), or at the ``level`` given (e.g. to draw several levels of one fit)."""
