"""Eq. 2's fit: ``-log Q = A C^(-alpha)`` at a fixed tokens-per-parameter ratio, by OLS or lmfit.

:func:`fit_direct_law` and its result :class:`DirectLawFit`, the law in its fitted
parametrisation (:func:`direct_law_log_residuals`, its Jacobian and bounds) and
:func:`direct_law_forecaster`. The law itself, with its intervals
(:mod:`scalelib.laws.direct_law_intervals`), is :data:`scalelib.laws.direct_law.DIRECT_LAW`; every
public name here is importable from :mod:`scalelib.laws.direct_law` too.

Two fits are offered: ordinary least squares of the line
:math:`\\log(-\\log Q) = \\log A - \\alpha \\log C` (``method="closed_form"``, as the
paper does) and a fit of the curve in accuracy space with lmfit
(``method="accuracy_space"``), optionally weighted by the binomial standard error of
each accuracy. Both are parametrised by :math:`\\log A_{\\mathrm{ref}}` at
:data:`~scalelib.data.normalise.REFERENCE_COMPUTE` so the problem is well-conditioned;
results are reported in the paper's convention (A at C = 1 FLOP).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import lmfit
import numpy as np
from numpy.typing import ArrayLike

from scalelib.interfaces import Forecaster, law_forecaster
from scalelib.data.normalise import evaluation_noise_points
from scalelib.data.normalise import (
    REFERENCE_COMPUTE,
    ScalingDataError,
    accuracy_from_neg_log_q,
    covariance_from_jacobian,
    log_compute_offset,
    neg_log_q,
    uncentre_amplitude,
    validate_law_inputs,
)
from scalelib.data.validation import check_compute

__all__ = [
    "N_PARAMETERS",
    "Method",
    "DirectLawFit",
    "direct_law_neg_log_q",
    "direct_law_log_residuals",
    "direct_law_log_residuals_jacobian",
    "direct_law_bounds",
    "fit_direct_law",
    "direct_law_forecaster",
]

N_PARAMETERS = 2

Method = Literal["closed_form", "accuracy_space"]


@dataclass(frozen=True, eq=False)
class DirectLawFit:
    """Result of :func:`fit_direct_law`: ``-log Q = A C^(-alpha)``.

    Attributes
    ----------
    A, alpha
        Amplitude (at C = 1 FLOP) and exponent.
    A_stderr, alpha_stderr
        Standard errors; ``A_stderr`` by the delta method, ``A * stderr(log A)``.
        NaN when there are no residual degrees of freedom (two points).
    covariance
        2x2 covariance of ``(log A, alpha)``.
    chance
        Chance level used for the normalisation.
    method
        ``"closed_form"`` or ``"accuracy_space"``.
    n_points
        Number of points fitted.
    r_squared
        Coefficient of determination of the line ``log(-log Q)`` against ``log C``.
    rmse_points
        Root-mean-square error of the fitted accuracy, in accuracy points (x 100).
    lmfit_result
        The ``lmfit.model.ModelResult`` (use ``.fit_report()``) for
        ``method="accuracy_space"``, ``None`` for the closed form.
    """

    A: float
    alpha: float
    A_stderr: float
    alpha_stderr: float
    covariance: np.ndarray
    chance: float
    method: Method
    n_points: int
    r_squared: float
    rmse_points: float
    lmfit_result: lmfit.model.ModelResult | None

    def predict(self, compute: ArrayLike) -> np.ndarray:
        """Raw accuracy predicted at compute C: ``chance + (1 - chance) exp(-A C^(-alpha))``.

        Raises :class:`~scalelib.data.normalise.ScalingDataError` for compute that is not a
        finite number > 0.
        """
        return accuracy_from_neg_log_q(
            direct_law_neg_log_q(check_compute(compute), np.log(self.A), self.alpha), self.chance
        )


def direct_law_neg_log_q(compute: ArrayLike, log_A: float, alpha: float) -> np.ndarray:
    """Eq. 2: ``-log Q = A C^(-alpha)``, evaluated as ``exp(log A - alpha log C)``."""
    return np.exp(log_A - alpha * np.log(np.asarray(compute, dtype=float)))


def _centred_neg_log_q(x: np.ndarray, parameters: np.ndarray) -> np.ndarray:
    """Eq. 2 on centred log compute ``x = log(C / C_ref)``: ``A_ref exp(-alpha x)``, parameters ``(log A_ref, alpha)``."""
    log_A_ref, alpha = parameters
    return np.exp(log_A_ref - alpha * x)


def direct_law_log_residuals(parameters: np.ndarray, x: np.ndarray, log_target: np.ndarray) -> np.ndarray:
    """Residuals ``log(A_ref exp(-alpha x)) - log(-log Q) = log A_ref - alpha x - log(-log Q)``, the line's."""
    log_A_ref, alpha = parameters
    return log_A_ref - alpha * x - log_target


def direct_law_log_residuals_jacobian(parameters: np.ndarray, x: np.ndarray, log_target: np.ndarray) -> np.ndarray:
    """Jacobian (n, 2) of :func:`direct_law_log_residuals` in ``(log A_ref, alpha)``: columns 1 and ``-x``."""
    return np.column_stack([np.ones_like(x), -x])


def direct_law_bounds(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of ``(log A_ref, alpha)``: none (the closed-form fit is ordinary least squares); ``x`` is unused."""
    return np.full(N_PARAMETERS, -np.inf), np.full(N_PARAMETERS, np.inf)


def _fitted_parameters(fit: DirectLawFit) -> np.ndarray:
    """``(log A_ref, alpha)`` of a fit, A_ref at :data:`~scalelib.data.normalise.REFERENCE_COMPUTE`."""
    return np.array([np.log(fit.A) - fit.alpha * np.log(REFERENCE_COMPUTE), fit.alpha])


def _accuracy_model(x: np.ndarray, log_A_ref: float, alpha: float, chance: float) -> np.ndarray:
    """Eq. 2 in accuracy space on ``x = log(C / C_ref)``: ``chance + (1 - chance) exp(-A_ref e^(-alpha x))``."""
    return accuracy_from_neg_log_q(np.exp(log_A_ref - alpha * x), chance)


def _fit_line(x: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS of ``target = log A_ref - alpha x``; returns ``(log A_ref, alpha)`` and their covariance."""
    design = np.column_stack([np.ones_like(x), -x])
    coefficients, *_ = np.linalg.lstsq(design, target, rcond=None)
    covariance = covariance_from_jacobian(design, target - design @ coefficients)
    return coefficients, covariance


def _binomial_weights(accuracy: np.ndarray, n_items: ArrayLike) -> np.ndarray:
    """Weights ``1 / sqrt(p (1 - p) / n)``: the inverse binomial standard error of each accuracy.

    The error itself is :func:`scalelib.data.normalise.evaluation_noise_points` (in points).
    """
    n_items = np.asarray(n_items, dtype=float)
    if n_items.ndim > 0 and n_items.shape != accuracy.shape:
        raise ScalingDataError(
            f"Mismatched lengths: {n_items.size} n_items for {accuracy.size} accuracies."
        )
    if np.isnan(n_items).any() or (n_items <= 0).any():
        raise ScalingDataError("n_items must be positive and not NaN for every point.")
    return 100.0 / evaluation_noise_points(accuracy, n_items)


def fit_direct_law(
    compute: ArrayLike,
    accuracy: ArrayLike,
    *,
    chance: float,
    method: Method = "closed_form",
    n_items: ArrayLike | None = None,
    labels: Sequence[str] | None = None,
) -> DirectLawFit:
    """Fit Eq. 2, ``-log Q = A C^(-alpha)``, to accuracies at a fixed tokens-per-parameter ratio.

    Parameters
    ----------
    compute
        Training compute C in FLOPs, one per run.
    accuracy
        Raw accuracy, one per run; every value must lie strictly between ``chance``
        and 1 (see :func:`scalelib.data.normalise.drop_at_or_below_chance`).
    chance
        Chance level of the benchmark (0.25, 0.5, 0 ...).
    method
        ``"closed_form"``: ordinary least squares of ``log(-log Q)`` on ``log C``,
        covariance ``s^2 (X^T X)^{-1}``.
        ``"accuracy_space"``: lmfit least squares of the raw accuracies against
        ``chance + (1 - chance) exp(-A C^(-alpha))``, started from the closed form;
        lmfit's covariance (scaled by the reduced chi-square).
    n_items
        Number of items of the benchmark (scalar or one per run). With
        ``method="accuracy_space"``, weights each point by ``1 / sqrt(p (1 - p) / n)``,
        its binomial standard error at the observed accuracy p. Not used by the
        closed form, which refuses it.
    labels
        Optional run ids naming offending points in error messages.

    Returns
    -------
    DirectLawFit

    Raises
    ------
    ScalingDataError
        On inputs refused by :func:`scalelib.data.normalise.validate_law_inputs`, or
        invalid ``n_items``.
    """
    compute, accuracy = validate_law_inputs(
        compute, accuracy, chance=chance, n_parameters=N_PARAMETERS, labels=labels
    )
    x = log_compute_offset(compute)
    target = np.log(neg_log_q(accuracy, chance))
    (log_A_ref, alpha), covariance = _fit_line(x, target)
    lmfit_result = None
    if method == "closed_form":
        if n_items is not None:
            raise ValueError("n_items weights are only used by method='accuracy_space'.")
    elif method == "accuracy_space":
        model = lmfit.Model(_accuracy_model, independent_vars=["x", "chance"])
        parameters = model.make_params(log_A_ref=log_A_ref, alpha=alpha)
        weights = None if n_items is None else _binomial_weights(accuracy, n_items)
        lmfit_result = model.fit(accuracy, parameters, x=x, chance=chance, weights=weights)
        log_A_ref = lmfit_result.params["log_A_ref"].value
        alpha = lmfit_result.params["alpha"].value
        if lmfit_result.covar is None:
            covariance = np.full((N_PARAMETERS, N_PARAMETERS), np.nan)
        else:
            covariance = lmfit_result.covar
    else:
        raise ValueError(f"Unknown method {method!r}; use 'closed_form' or 'accuracy_space'.")

    log_A, covariance = uncentre_amplitude(log_A_ref, alpha, covariance)
    fitted_target = log_A_ref - alpha * x
    total_variation = np.sum((target - target.mean()) ** 2)
    fitted_accuracy = accuracy_from_neg_log_q(np.exp(fitted_target), chance)
    stderrs = np.sqrt(np.diag(covariance))
    return DirectLawFit(
        A=float(np.exp(log_A)),
        alpha=float(alpha),
        A_stderr=float(np.exp(log_A) * stderrs[0]),
        alpha_stderr=float(stderrs[1]),
        covariance=covariance,
        chance=chance,
        method=method,
        n_points=len(compute),
        r_squared=(
            float(1.0 - np.sum((target - fitted_target) ** 2) / total_variation)
            if total_variation > 0 else float("nan")  # every accuracy equal: R^2 undefined
        ),
        rmse_points=float(100.0 * np.sqrt(np.mean((fitted_accuracy - accuracy) ** 2))),
        lmfit_result=lmfit_result,
    )


def direct_law_forecaster(
    method: Method = "closed_form", *, weight_by_n_items: bool = False, compute_column: str = "flops"
) -> Forecaster:
    """A :func:`scalelib.evaluation.backtest.backtest` forecaster fitting Eq. 2 with :func:`fit_direct_law`.

    ``weight_by_n_items`` passes the ``n_items`` column as binomial weights (only with
    ``method="accuracy_space"``).
    """
    return law_forecaster(
        fit_direct_law,
        compute_column=compute_column,
        n_items_column="n_items" if weight_by_n_items else None,
        method=method,
    )
