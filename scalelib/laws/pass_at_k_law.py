"""Eq. 5 as a law: its forecaster, its analytic interval and its :class:`~scalelib.interfaces.Law`.

Eq. 5 and its closed-form fit are in :mod:`scalelib.laws.pass_at_k_fit`. This module fits it
to rows of :func:`scalelib.data.pass_at_k_data.load_pass_at_k`:

* :func:`fit_pass_at_k_by_benchmark` and :func:`pass_at_k_forecaster` (a
  :data:`~scalelib.interfaces.Forecaster` for :func:`~scalelib.evaluation.backtest.backtest` and
  :func:`~scalelib.evaluation.backtest.backtest_split`);
* :func:`pass_at_k_law_interval` -- the analytic OLS interval of Eq. 5, and its interval
  forecaster :func:`pass_at_k_interval_forecaster`;
* :data:`PASS_AT_K_LAW` -- Eq. 5 as a :class:`~scalelib.interfaces.Law`.

Eq. 5's ``alpha`` has the opposite sign convention to Eq. 2's: Eq. 5 adds
``alpha log C`` to ``log(-log Q)``, Eq. 2 (``-log Q = A C^-alpha``) subtracts it, so a
benchmark that improves with compute has ``alpha < 0`` here and ``alpha > 0`` in Eq. 2
(:mod:`scalelib.laws.pass_at_k_fit` says more).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from scalelib.interfaces import (
    Forecaster,
    IntervalPredictor,
    Law,
    PredictionInterval,
    Predictor,
)
from scalelib.laws.interval_math import (
    LEVEL,
    Band,
    _check_level,
    _check_option,
    _interval_from_y,
    _t_quantile,
    transformed,
)
from scalelib.data.normalise import REFERENCE_COMPUTE, ScalingDataError
from scalelib.laws.pass_at_k_fit import (
    N_PARAMETERS,
    PassAtKLawFit,
    _centred_neg_log_q,
    fit_pass_at_k_law,
    pass_at_k_law_bounds,
    pass_at_k_law_inputs,
    pass_at_k_law_log_residuals,
    pass_at_k_law_log_residuals_jacobian,
)
from scalelib.data.validation import check_compute

__all__ = [
    "fit_pass_at_k_by_benchmark",
    "pass_at_k_forecaster",
    "pass_at_k_law_interval",
    "pass_at_k_interval_forecaster",
    "PASS_AT_K_LAW",
]


def _fit_rows(
    rows: pd.DataFrame, *, weight_by_n_items: bool, cluster_by_run: bool, compute_column: str = "flops"
) -> PassAtKLawFit:
    """Fit Eq. 5 to one benchmark's rows of :func:`load_pass_at_k`."""
    chance_levels = rows["chance"].unique()
    if len(chance_levels) != 1 or chance_levels[0] != 0:
        raise ScalingDataError(
            f"Eq. 5 models pass@k of open-answer tasks (chance 0); got chance levels {sorted(chance_levels)}."
        )
    return fit_pass_at_k_law(
        rows[compute_column].to_numpy(),
        rows["k"].to_numpy(),
        rows["value"].to_numpy(),
        n_items=rows["n_items"].to_numpy() if weight_by_n_items else None,
        clusters=rows["run"].to_numpy() if cluster_by_run else None,
        labels=[f"{run} pass@{k}" for run, k in zip(rows["run"], rows["k"])],
    )


def fit_pass_at_k_by_benchmark(
    frame: pd.DataFrame, *, weight_by_n_items: bool = False, cluster_by_run: bool = True
) -> tuple[dict[tuple[str, str], PassAtKLawFit], pd.DataFrame]:
    """Fit Eq. 5 to each (mixture, benchmark) of a :func:`load_pass_at_k` frame.

    Parameters
    ----------
    frame
        The ``kept`` frame of :func:`load_pass_at_k`, at a single tokens-per-parameter
        ratio (Eq. 5 is a law at fixed ratio).
    weight_by_n_items, cluster_by_run
        Passed to :func:`fit_pass_at_k_law` as ``n_items`` (the frame's column) and
        ``clusters`` (the frame's runs).

    Returns
    -------
    fits, refused
        As :func:`scalelib.evaluation.per_benchmark.fit_law_by_benchmark`: fits keyed by
        ``(mixture, benchmark)`` (tabulate them with
        :func:`scalelib.evaluation.per_benchmark.parameter_table`) and the refused groups with
        their reason.
    """
    ratios = frame["tpr"].unique()
    if len(ratios) > 1:
        raise ValueError(f"Eq. 5 is fitted at one tokens-per-parameter ratio; the frame has {sorted(ratios)}.")
    fits, refused = {}, []
    for (mixture, benchmark), rows in frame.groupby(["mixture", "benchmark"], sort=False):
        try:
            fits[(mixture, benchmark)] = _fit_rows(
                rows, weight_by_n_items=weight_by_n_items, cluster_by_run=cluster_by_run
            )
        except ScalingDataError as error:
            refused.append({"mixture": mixture, "benchmark": benchmark, "reason": str(error)})
    return fits, pd.DataFrame(refused, columns=["mixture", "benchmark", "reason"])


def pass_at_k_forecaster(*, weight_by_n_items: bool = False, compute_column: str = "flops") -> Forecaster:
    """A :data:`~scalelib.interfaces.Forecaster` fitting Eq. 5 to one benchmark's rows (all k at once).

    Use it with :func:`scalelib.evaluation.backtest.backtest` to hold out the largest runs, or
    with :func:`scalelib.evaluation.backtest.backtest_split` to hold out the largest k. Rows need
    the columns of :func:`load_pass_at_k` (``flops``, ``k``, ``value``, ``chance``,
    ``run``, ``n_items``); the predictor returns pass@k at each row's compute and k.
    Only point predictions are used here, so the standard errors are classical.
    ``compute_column`` names the compute column (default ``flops``).
    """

    def fit(training_rows: pd.DataFrame) -> Predictor:
        result = _fit_rows(
            training_rows, weight_by_n_items=weight_by_n_items, cluster_by_run=False, compute_column=compute_column
        )
        return lambda rows: result.predict(rows[compute_column].to_numpy(), rows["k"].to_numpy())

    return fit


def _fitted_parameters(fit: PassAtKLawFit) -> np.ndarray:
    """``(a, alpha, b, delta)`` of a fit: compute centred at :data:`~scalelib.data.normalise.REFERENCE_COMPUTE`."""
    log_reference = np.log(REFERENCE_COMPUTE)
    return np.array([fit.log_A + fit.alpha * log_reference, fit.alpha, fit.beta + fit.delta * log_reference, fit.delta])


def _fit_law_rows(rows: pd.DataFrame, compute_column: str) -> PassAtKLawFit:
    """Eq. 5 on one benchmark's rows, unweighted and with classical errors (the Law's ``fit_rows``)."""
    return _fit_rows(rows, weight_by_n_items=False, cluster_by_run=False, compute_column=compute_column)



def pass_at_k_law_interval(
    compute: ArrayLike,
    k: ArrayLike,
    pass_at_k_values: ArrayLike,
    *,
    at_compute: ArrayLike,
    at_k: ArrayLike,
    level: float = LEVEL,
    band: Band = "prediction",
    labels: Sequence[str] | None = None,
) -> PredictionInterval:
    """Analytic interval of Eq. 5 (pass@k): the OLS interval of ``log(-log pass@k)``.

    Eq. 5, :math:`y = \\log A + \\alpha \\log C + \\beta \\log k + \\delta \\log C \\log k`,
    is linear in its four parameters; for its unweighted least-squares fit
    (:func:`scalelib.laws.pass_at_k_fit.fit_pass_at_k_law`) the interval at :math:`(C_0, k_0)` is

    .. math::

        \\hat y_0 \\pm t_{n-4,\\,(1+\\text{level})/2} \\sqrt{g_0^\\top \\Sigma\\, g_0 + s^2},
        \\qquad g_0 = (1, \\log C_0, \\log k_0, \\log C_0 \\log k_0),

    :math:`s^2` the residual variance on :math:`n - 4` degrees of freedom (without it,
    ``band="confidence"``). Classical errors: the pass@k values of one run share their
    samples, so this interval is optimistic; the run bootstrap
    (:func:`scalelib.evaluation.interval_forecasters.bootstrap_interval_forecaster` with :func:`scalelib.laws.pass_at_k_law.pass_at_k_forecaster`)
    resamples whole runs instead.

    Raises
    ------
    ScalingDataError
        On inputs Eq. 5 refuses, or fewer than 5 points.
    """
    level = _check_level(level)
    _check_option("band", band, ("prediction", "confidence"))
    fit = fit_pass_at_k_law(compute, k, pass_at_k_values, labels=labels)
    degrees_of_freedom = fit.n_points - 4
    if degrees_of_freedom < 1:
        raise ScalingDataError(f"An interval of Eq. 5 needs at least 5 points; got {fit.n_points}.")
    residuals = transformed(pass_at_k_values, 0.0).ravel() - fit.log_neg_log_q(compute, k).ravel()
    log_compute = np.log(np.atleast_1d(check_compute(at_compute, name="at_compute")))
    log_k = np.log(np.atleast_1d(np.asarray(at_k, dtype=float)))
    log_compute, log_k = np.broadcast_arrays(log_compute, log_k)
    gradient = np.column_stack([np.ones_like(log_k), log_compute, log_k, log_compute * log_k])
    variance = np.einsum("ij,jk,ik->i", gradient, fit.covariance, gradient)
    if band == "prediction":
        variance = variance + np.sum(residuals**2) / degrees_of_freedom
    half_width = _t_quantile(level, degrees_of_freedom) * np.sqrt(variance)
    centre = fit.log_neg_log_q(np.exp(log_compute), np.exp(log_k))
    return _interval_from_y(
        fit.predict(np.exp(log_compute), np.exp(log_k)), centre - half_width, centre + half_width, 0.0,
        level=level, method=f"analytic, {band}", drift_rate=0.0, fitted_compute=fit.compute_range,
    )


def pass_at_k_interval_forecaster(
    *, band: Band = "prediction", compute_column: str = "flops", level: float = LEVEL
) -> Forecaster:
    """The interval :data:`~scalelib.interfaces.Forecaster` of :func:`pass_at_k_law_interval` at ``level`` (analytic Eq. 5, no drift term).

    Training and forecast rows carry the compute, ``k`` and (training rows) ``value``,
    pass@k. Optimistic (see :func:`pass_at_k_law_interval`); the book uses it to show
    by how much, against :func:`bootstrap_interval_forecaster` around
    :func:`scalelib.laws.pass_at_k_law.pass_at_k_forecaster`.
    """
    _check_option("band", band, ("prediction", "confidence"))
    default_level = _check_level(level)

    def fit(training_rows: pd.DataFrame) -> IntervalPredictor:
        compute, k, values = (training_rows[column].to_numpy() for column in (compute_column, "k", "value"))
        labels = training_rows["run"].tolist() if "run" in training_rows.columns else None

        def predict(rows: pd.DataFrame, level: float = default_level) -> PredictionInterval:
            return pass_at_k_law_interval(
                compute, k, values, at_compute=rows[compute_column].to_numpy(), at_k=rows["k"].to_numpy(),
                level=level, band=band, labels=labels,
            )

        return predict

    return fit


def _law_interval_forecaster(
    *, band: Band, calibrate: bool, compute_column: str, drift_degrees_of_freedom: float, level: float
) -> Forecaster:
    """:func:`pass_at_k_interval_forecaster` as :attr:`~scalelib.interfaces.Law.analytic_interval_forecaster`.

    Eq. 5's interval has no drift term, so ``calibrate`` and ``drift_degrees_of_freedom``
    do not apply.
    """
    return pass_at_k_interval_forecaster(band=band, compute_column=compute_column, level=level)


PASS_AT_K_LAW = Law(
    name="passk",
    title="Eq. 5",
    description=(
        "Eq. 5, log(-log pass@k) = log A + alpha log C + beta log k + delta log C log k"
        " (alpha < 0 for a benchmark that improves: the opposite sign to Eq. 2's alpha)"
    ),
    equation="log(-log pass@k) = log A + alpha log C + beta log k + delta log C log k",
    latex=r"\log(-\log Q) = \log A + \alpha \log C + \beta \log k + \delta \log C \log k",
    columns=("flops", "k"),
    n_parameters=N_PARAMETERS,
    min_runs=N_PARAMETERS + 1,
    inputs=pass_at_k_law_inputs,
    neg_log_q=_centred_neg_log_q,
    residuals=pass_at_k_law_log_residuals,
    jacobian=pass_at_k_law_log_residuals_jacobian,
    bounds=pass_at_k_law_bounds,
    fit=fit_pass_at_k_law,
    fit_rows=_fit_law_rows,
    parameters=_fitted_parameters,
    forecaster=pass_at_k_forecaster,
    analytic_interval_forecaster=_law_interval_forecaster,
)
"""Eq. 5 as a :class:`~scalelib.interfaces.Law`: linear in its parameters, least squares in closed form,
with its own analytic interval (:func:`pass_at_k_interval_forecaster`)."""
