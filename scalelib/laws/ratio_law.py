"""The law of Krajewski et al. (2025), Eq. 4, across token-to-parameter ratios.

.. math::

    -\\log Q = A \\, N^{-\\alpha} + B \\, D^{-\\beta}, \\qquad
    Q = \\frac{\\mathrm{acc} - \\mathrm{chance}}{1 - \\mathrm{chance}},

with :math:`N` the parameters and :math:`D` the training tokens of a run: one surface
over the (N, D) plane instead of one Eq. 2 line per tokens-per-parameter ratio
``tpr = D / N``. It needs runs at several ratios: on a single ratio ``D = r N`` both
terms are power laws of compute and the data cannot tell them apart.

As in the paper, the fit minimises the Huber loss (delta = 1e-3) of the log residuals
:math:`\\log(A N^{-\\alpha} + B D^{-\\beta}) - \\log(-\\log Q)` over every ratio at
once. For fixed exponents the law is linear in ``(A, B)``, so the amplitudes are
profiled out in closed form on a grid of ``(alpha, beta)`` and the best minima polished
(:func:`scalelib.laws.profile_fit.fit_by_profile`). The amplitudes are fitted at a
reference point (:data:`REFERENCE_PARAMS`, :data:`REFERENCE_TOKENS`, which lies on
tpr 20 at :data:`~scalelib.data.normalise.REFERENCE_COMPUTE`) so the problem is
well-conditioned, and reported in the paper's convention (A at N = 1, B at D = 1).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.optimize import OptimizeResult

from scalelib.interfaces import Forecaster, Predictor, single_chance_level
from scalelib.interfaces import Law, PredictionInterval, optimized_parameters
from scalelib.data.validation import check_compute
from scalelib.data.normalise import (
    LOG_AMPLITUDE_BOUND,
    REFERENCE_COMPUTE,
    ScalingDataError,
    describe_points,
    accuracy_from_neg_log_q,
    covariance_from_jacobian,
    huber_loss,
    neg_log_q,
    validate_law_inputs,
)
from scalelib.laws.profile_fit import Profile, fit_by_profile

N_PARAMETERS = 4

REFERENCE_RATIO = 20.0
"""Tokens per parameter of the reference point (the loss-optimal ratio of Chinchilla)."""

REFERENCE_PARAMS = float(np.sqrt(REFERENCE_COMPUTE / (6.0 * REFERENCE_RATIO)))
"""N at which A is fitted: the tpr-20 model of compute ``REFERENCE_COMPUTE`` (about 2.9e9)."""

REFERENCE_TOKENS = REFERENCE_RATIO * REFERENCE_PARAMS
"""D at which B is fitted (about 5.8e10 tokens); ``6 N_ref D_ref = REFERENCE_COMPUTE``."""

EXPONENT_GRID = np.concatenate([[0.0], np.geomspace(0.01, 5.0, 20)])
"""Exponents at which ``(A, B)`` are profiled, for alpha and beta alike: 0, then 30
log-spaced values from 0.01 to 5 (24% apart); the grid is every (alpha, beta) pair, and
the best minima are refined on a grid nine times finer before the polish."""

EXPONENT_BOUNDS = (0.0, 5.0)
"""Bounds on alpha and beta; the upper one only keeps the power terms finite."""

MIN_RATIO_SPAN = 2.0
"""The largest D / N of the data must be at least this multiple of the smallest."""


@dataclass(frozen=True, eq=False)
class RatioLawFit:
    """Result of :func:`fit_ratio_law`: ``-log Q = A N^(-alpha) + B D^(-beta)``.

    Attributes
    ----------
    A, alpha, B, beta
        Amplitudes (A at N = 1 parameter, B at D = 1 token) and exponents.
    A_stderr, alpha_stderr, B_stderr, beta_stderr
        Approximate standard errors (see :func:`fit_ratio_law`); the amplitudes' by
        the delta method, ``A * stderr(log A)``.
    covariance
        4x4 covariance of ``(log A, alpha, log B, beta)``.
    reference_parameters
        ``(log A_ref, alpha, log B_ref, beta)``, the fitted parametrisation with A_ref
        at ``REFERENCE_PARAMS`` and B_ref at ``REFERENCE_TOKENS``.
    reference_covariance
        Covariance of ``reference_parameters`` (better conditioned than ``covariance``).
    objective
        Huber loss (delta = 1e-3, summed) of the log residuals at the optimum.
    rmse_points
        Root-mean-square error of the fitted accuracy, in accuracy points (x 100).
    chance
        Chance level used for the normalisation.
    n_points, n_starts
        Number of points fitted and of profile minima polished.
    ratio_range
        Smallest and largest D / N of the fitted runs.
    optimize_result
        The ``scipy.optimize.OptimizeResult`` of the best start.
    """

    A: float
    alpha: float
    B: float
    beta: float
    A_stderr: float
    alpha_stderr: float
    B_stderr: float
    beta_stderr: float
    covariance: np.ndarray
    reference_parameters: np.ndarray
    reference_covariance: np.ndarray
    objective: float
    rmse_points: float
    chance: float
    n_points: int
    n_starts: int
    ratio_range: tuple[float, float]
    optimize_result: OptimizeResult

    def neg_log_q(self, params: ArrayLike, tokens: ArrayLike) -> np.ndarray:
        """Eq. 4 at (N, D): ``-log Q = A N^(-alpha) + B D^(-beta)``.

        Raises :class:`~scalelib.data.normalise.ScalingDataError` for N or D that is not a
        finite number > 0.
        """
        params = check_compute(params, name="params N", unit="")
        tokens = check_compute(tokens, name="tokens D", unit="")
        return ratio_law_neg_log_q(centred_log_scales(params, tokens), self.reference_parameters)

    def predict(self, params: ArrayLike, tokens: ArrayLike) -> np.ndarray:
        """Raw accuracy at (N, D): ``chance + (1 - chance) exp(-(A N^(-alpha) + B D^(-beta)))``."""
        return accuracy_from_neg_log_q(self.neg_log_q(params, tokens), self.chance)


def centred_log_scales(params: ArrayLike, tokens: ArrayLike) -> np.ndarray:
    """The fit's inputs, shape (2, n): ``log(N / REFERENCE_PARAMS)`` and ``log(D / REFERENCE_TOKENS)``."""
    return np.vstack([
        np.log(np.asarray(params, dtype=float).ravel() / REFERENCE_PARAMS),
        np.log(np.asarray(tokens, dtype=float).ravel() / REFERENCE_TOKENS),
    ])


def _power_terms(x: np.ndarray, parameters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two terms of Eq. 4, ``A_ref exp(-alpha u)`` and ``B_ref exp(-beta v)``."""
    log_A_ref, alpha, log_B_ref, beta = parameters
    return np.exp(log_A_ref - alpha * x[0]), np.exp(log_B_ref - beta * x[1])


def ratio_law_neg_log_q(x: np.ndarray, parameters: np.ndarray) -> np.ndarray:
    """Eq. 4 on centred log scales ``x`` (see :func:`centred_log_scales`), parameters ``(log A_ref, alpha, log B_ref, beta)``."""
    params_term, tokens_term = _power_terms(x, parameters)
    return params_term + tokens_term


def ratio_law_log_residuals(parameters: np.ndarray, x: np.ndarray, log_target: np.ndarray) -> np.ndarray:
    """Residuals ``log(A_ref n^(-alpha) + B_ref d^(-beta)) - log(-log Q)`` minimised by the fit."""
    return np.log(ratio_law_neg_log_q(x, parameters)) - log_target


def ratio_law_log_residuals_jacobian(
    parameters: np.ndarray, x: np.ndarray, log_target: np.ndarray
) -> np.ndarray:
    """Jacobian (n, 4) of :func:`ratio_law_log_residuals` in ``(log A_ref, alpha, log B_ref, beta)``."""
    params_term, tokens_term = _power_terms(x, parameters)
    prediction = params_term + tokens_term
    return np.column_stack(
        [params_term, -x[0] * params_term, tokens_term, -x[1] * tokens_term]
    ) / prediction[:, None]


def ratio_law_bounds(x: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of ``(log A_ref, alpha, log B_ref, beta)``: both exponents within ``EXPONENT_BOUNDS``.

    ``|log A_ref|, |log B_ref| <= LOG_AMPLITUDE_BOUND`` only keeps the power terms finite in
    trial steps (an amplitude of e^-100 at the reference point is zero for any data). The
    bounds do not depend on the inputs ``x``: the argument is there so that every law's
    bounds are called alike, ``bounds(x)`` (:class:`~scalelib.interfaces.Law`).
    """
    low, high = EXPONENT_BOUNDS
    amplitude = LOG_AMPLITUDE_BOUND
    return np.array([-amplitude, low, -amplitude, low]), np.array([amplitude, high, amplitude, high])


def ratio_law_profile(x: np.ndarray) -> Profile:
    """Eq. 4 at centred log scales ``x`` (:func:`centred_log_scales`) for :mod:`scalelib.laws.profile_fit`.

    For fixed exponents ``(alpha, beta)`` (the grid ``EXPONENT_GRID`` squared) the law is
    linear in ``(A_ref, B_ref)``: basis columns ``exp(-alpha u)`` and ``exp(-beta v)``. An
    amplitude at its bound 0 starts the polish from ``exp(-LOG_AMPLITUDE_BOUND)``.
    """

    def basis(exponents: np.ndarray) -> np.ndarray:
        return np.stack(
            [np.exp(-exponents[:, [0]] * x[0][None, :]), np.exp(-exponents[:, [1]] * x[1][None, :])], axis=-1
        )

    def parameters(exponents: np.ndarray, amplitudes: np.ndarray) -> np.ndarray:
        log_A_ref, log_B_ref = np.log(np.maximum(amplitudes, np.exp(-LOG_AMPLITUDE_BOUND)))
        return np.array([log_A_ref, exponents[0], log_B_ref, exponents[1]])

    return Profile(
        basis=basis, axes=[EXPONENT_GRID, EXPONENT_GRID], parameters=parameters, exponents=lambda p: p[[1, 3]]
    )


def _uncentre(reference_parameters: np.ndarray, reference_covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map ``(log A_ref, alpha, log B_ref, beta)`` and its covariance to ``(log A, alpha, log B, beta)``.

    ``log A = log A_ref + alpha log N_ref`` and ``log B = log B_ref + beta log D_ref``,
    a linear map applied to the covariance as ``T cov T^T``.
    """
    transform = np.eye(N_PARAMETERS)
    transform[0, 1] = np.log(REFERENCE_PARAMS)
    transform[2, 3] = np.log(REFERENCE_TOKENS)
    return transform @ reference_parameters, transform @ reference_covariance @ transform.T


def _validate_sizes(
    params: ArrayLike, tokens: ArrayLike, labels: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray]:
    """N and D as float arrays; refuses mismatched lengths, NaN and non-positive values."""
    params = np.asarray(params, dtype=float).ravel()
    tokens = np.asarray(tokens, dtype=float).ravel()
    if len(params) != len(tokens):
        raise ScalingDataError(f"Mismatched lengths: {len(params)} params and {len(tokens)} tokens.")
    if labels is not None and len(labels) != len(params):
        raise ScalingDataError(f"Mismatched lengths: {len(params)} runs and {len(labels)} labels.")
    for name, values in (("params N", params), ("tokens D", tokens)):
        bad = ~(values > 0)
        if bad.any():
            raise ScalingDataError(
                f"Non-positive or NaN {name} at {describe_points(bad, labels)}; "
                "Eq. 4 needs N > 0 and D > 0."
            )
    return params, tokens


def fit_ratio_law(
    params: ArrayLike,
    tokens: ArrayLike,
    accuracy: ArrayLike,
    *,
    chance: float,
    labels: Sequence[str] | None = None,
) -> RatioLawFit:
    """Fit Eq. 4, ``-log Q = A N^(-alpha) + B D^(-beta)``, to runs at several ratios at once.

    Minimises the Huber loss (delta = 1e-3) of the log residuals
    ``log(A N^(-alpha) + B D^(-beta)) - log(-log Q)`` with
    :func:`scalelib.laws.profile_fit.fit_by_profile` within ``0 <= alpha, beta <= 5``: on every
    ``(alpha, beta)`` of ``EXPONENT_GRID x EXPONENT_GRID`` the amplitudes follow in closed
    form (iteratively reweighted least squares), and the best local minima of that
    profile are polished by ``scipy.optimize.least_squares(loss="huber")``.

    Standard errors come from the Jacobian J of the log residuals at the optimum,
    ``cov = s^2 (J^T J)^{-1}``, as for least squares. They are approximate: they
    ignore the Huber weighting, and mean little when an exponent sits at a bound.

    Parameters
    ----------
    params, tokens
        Parameters N and training tokens D of each run (both > 0).
    accuracy
        Raw accuracy of each run, strictly between ``chance`` and 1 (drop the others
        first with :func:`scalelib.data.normalise.drop_at_or_below_chance`).
    chance
        Chance level of the benchmark.
    labels
        Optional run ids naming offending points in error messages.

    Returns
    -------
    RatioLawFit

    Raises
    ------
    ScalingDataError
        On non-positive or NaN N or D, inputs refused by
        :func:`scalelib.data.normalise.validate_law_inputs`, or runs whose ratios D / N
        span less than a factor ``MIN_RATIO_SPAN`` (a single ratio cannot separate
        the N and D terms).
    """
    params, tokens = _validate_sizes(params, tokens, labels)
    _, accuracy = validate_law_inputs(
        6.0 * params * tokens, accuracy, chance=chance, n_parameters=N_PARAMETERS, labels=labels
    )
    ratios = tokens / params
    if ratios.max() < MIN_RATIO_SPAN * ratios.min():
        raise ScalingDataError(
            f"All runs have nearly one tokens-per-parameter ratio (D/N from {ratios.min():.3g} to "
            f"{ratios.max():.3g}): Eq. 4 needs ratios spanning at least a factor {MIN_RATIO_SPAN:g} to "
            "separate the N and D terms. Fit Eq. 2 per ratio instead."
        )
    x = centred_log_scales(params, tokens)
    log_target = np.log(neg_log_q(accuracy, chance))
    best = fit_by_profile(
        ratio_law_profile(x),
        log_target,
        residuals=lambda parameters: ratio_law_log_residuals(parameters, x, log_target),
        jacobian=lambda parameters: ratio_law_log_residuals_jacobian(parameters, x, log_target),
        bounds=ratio_law_bounds(x),
        inside_first=False,  # 1.1x faster without bounds, but chapter 4's widths moved (7.25 -> 7.24)
    )
    reference_covariance = covariance_from_jacobian(
        ratio_law_log_residuals_jacobian(best.x, x, log_target), best.fun
    )
    (log_A, alpha, log_B, beta), covariance = _uncentre(best.x, reference_covariance)
    stderrs = np.sqrt(np.diag(covariance))
    fitted_accuracy = accuracy_from_neg_log_q(ratio_law_neg_log_q(x, best.x), chance)
    return RatioLawFit(
        A=float(np.exp(log_A)),
        alpha=float(alpha),
        B=float(np.exp(log_B)),
        beta=float(beta),
        A_stderr=float(np.exp(log_A) * stderrs[0]),
        alpha_stderr=float(stderrs[1]),
        B_stderr=float(np.exp(log_B) * stderrs[2]),
        beta_stderr=float(stderrs[3]),
        covariance=covariance,
        reference_parameters=best.x,
        reference_covariance=reference_covariance,
        objective=huber_loss(best.fun),
        rmse_points=float(100.0 * np.sqrt(np.mean((fitted_accuracy - accuracy) ** 2))),
        chance=chance,
        n_points=len(params),
        n_starts=best.n_starts,
        ratio_range=(float(ratios.min()), float(ratios.max())),
        optimize_result=best,
    )


def fit_ratio_law_to_rows(rows: pd.DataFrame) -> RatioLawFit:
    """:func:`fit_ratio_law` on one benchmark's rows (columns ``params, tokens, value, chance, run``)."""
    return fit_ratio_law(
        rows["params"].to_numpy(), rows["tokens"].to_numpy(), rows["value"].to_numpy(),
        chance=single_chance_level(rows), labels=rows["run"].tolist(),
    )


def ratio_law_inputs(rows: pd.DataFrame, compute_column: str = "flops") -> np.ndarray:
    """Eq. 4's inputs from rows (:func:`centred_log_scales`); refuses rows without finite, positive ``params`` and ``tokens``.

    ``compute_column`` is not used: Eq. 4 reads N and D (the argument is the
    :class:`~scalelib.interfaces.Law` signature).
    """
    missing = [column for column in ("params", "tokens") if column not in rows.columns]
    if missing:
        raise ScalingDataError(
            f"The ratio law forecasts at (N, D), but the rows lack column(s) {missing}: build rows with "
            "'params' and 'tokens' (forecast_interval gives compute only) and pass them to the predictor."
        )
    return centred_log_scales(
        check_compute(rows["params"].to_numpy(), name="params", unit=""),
        check_compute(rows["tokens"].to_numpy(), name="tokens", unit=""),
    )


def fit_ratio_law_by_benchmark(frame: pd.DataFrame) -> tuple[dict[tuple[str, str], RatioLawFit], pd.DataFrame]:
    """Fit Eq. 4 to each (mixture, benchmark) group of ``frame``.

    The counterpart of :func:`scalelib.evaluation.per_benchmark.fit_law_by_benchmark` (which
    passes one compute column) for a law of two columns, ``params`` and ``tokens``.

    Returns
    -------
    fits, refused
        ``fits`` maps ``(mixture, benchmark)`` to its :class:`RatioLawFit` (use
        :func:`scalelib.evaluation.per_benchmark.parameter_table` on it); ``refused`` has one row
        per group the law refused, with the message in ``reason``.
    """
    fits, refused = {}, []
    for (mixture, benchmark), rows in frame.groupby(["mixture", "benchmark"], sort=False):
        try:
            fits[(mixture, benchmark)] = fit_ratio_law_to_rows(rows)
        except ScalingDataError as error:
            refused.append({"mixture": mixture, "benchmark": benchmark, "reason": str(error)})
    return fits, pd.DataFrame(refused, columns=["mixture", "benchmark", "reason"])


def ratio_law_forecaster(*, compute_column: str = "flops") -> Forecaster:
    """A :mod:`scalelib.evaluation.backtest` forecaster: Eq. 4 fitted on the ``params`` and ``tokens`` columns.

    ``compute_column`` is not used (Eq. 4 reads N and D); it is accepted so that every
    law's forecaster is called alike (:class:`~scalelib.interfaces.Law`).
    """

    def fit(training_rows: pd.DataFrame) -> Predictor:
        result = fit_ratio_law_to_rows(training_rows)
        return lambda rows: result.predict(rows["params"].to_numpy(), rows["tokens"].to_numpy())

    return fit


def per_ratio_forecaster(forecaster: Forecaster, *, ratio_column: str = "tpr") -> Forecaster:
    """A forecaster fitting ``forecaster`` separately on each ratio's rows (e.g. Eq. 2 per ratio).

    The returned predictor predicts each row with the law fitted to its own ratio, so
    it can only predict ratios present in the training rows: asked for another ratio
    (as in a leave-one-ratio-out split), it raises
    :class:`~scalelib.data.normalise.ScalingDataError` naming the ratio. If ``forecaster``
    refuses one ratio's rows, its error propagates, so a backtest skips the whole benchmark.

    ``forecaster`` may forecast points or intervals, e.g.
    ``scalelib.evaluation.intervals.law_interval_forecaster("direct")``: each ratio's law
    is then fitted, and its drift calibrated, on that ratio's training rows alone, so a
    forecast's extrapolation distance is measured from the largest run *of its ratio*,
    and the predictor assembles the ratios' intervals into one
    :class:`~scalelib.interfaces.PredictionInterval` in the order of the rows, its
    ``drift_rate`` the largest of the ratios' rates. Further arguments of the predictor
    (an interval's ``level``) are passed to each ratio's predictor.
    """

    def fit_each_ratio(training_rows: pd.DataFrame) -> Predictor:
        predictors = {
            ratio: forecaster(rows) for ratio, rows in training_rows.groupby(ratio_column, sort=True)
        }

        def predict(rows: pd.DataFrame, *level: float) -> np.ndarray | PredictionInterval:
            unseen = sorted(set(rows[ratio_column]) - set(predictors))
            if unseen:
                raise ScalingDataError(f"No training runs at {ratio_column} {unseen}: cannot predict them.")
            groups = rows.groupby(ratio_column, sort=True).indices.items()
            forecasts = [(positions, predictors[ratio](rows.iloc[positions], *level)) for ratio, positions in groups]
            if not isinstance(forecasts[0][1], PredictionInterval):
                predicted = np.full(len(rows), np.nan)
                for positions, forecast in forecasts:
                    predicted[positions] = forecast
                return predicted
            columns = {name: np.full(len(rows), np.nan) for name in ("predicted", "lower", "upper")}
            for positions, interval in forecasts:
                for name, values in columns.items():
                    values[positions] = getattr(interval, name)
            intervals = [interval for _, interval in forecasts]
            return dataclasses.replace(
                intervals[0], **columns, method=f"per {ratio_column}: {intervals[0].method}",
                drift_rate=max(interval.drift_rate for interval in intervals),
            )

        return predict

    return fit_each_ratio


def _fit_ratio_law_rows(rows: pd.DataFrame, compute_column: str) -> RatioLawFit:
    """:func:`fit_ratio_law_to_rows` in the signature of :class:`~scalelib.interfaces.Law` (compute unused)."""
    return fit_ratio_law_to_rows(rows)


RATIO_LAW = Law(
    name="ratio",
    title="Eq. 4",
    description="Eq. 4, -log Q = A N^-alpha + B D^-beta, across the tprs of a group",
    equation="-log Q = A N^-alpha + B D^-beta",
    latex=r"-\log Q = A\,N^{-\alpha} + B\,D^{-\beta}",
    columns=("params", "tokens"),
    n_parameters=N_PARAMETERS,
    min_runs=N_PARAMETERS + 1,
    inputs=ratio_law_inputs,
    neg_log_q=ratio_law_neg_log_q,
    residuals=ratio_law_log_residuals,
    jacobian=ratio_law_log_residuals_jacobian,
    bounds=ratio_law_bounds,
    fit=fit_ratio_law,
    fit_rows=_fit_ratio_law_rows,
    parameters=optimized_parameters,
    forecaster=ratio_law_forecaster,
    robust=True,
)
"""Eq. 4 as a :class:`~scalelib.interfaces.Law`: robust fit over N and D, bootstrap resamples polished from the estimate."""
