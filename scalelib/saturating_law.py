"""The saturating power law of Krajewski et al. (2025), Eq. 6: a power law with a floor.

.. math::

    -\\log Q = A \\, C^{-\\alpha} + E, \\qquad E \\ge 0,
    \\qquad Q = \\frac{\\mathrm{acc} - \\mathrm{chance}}{1 - \\mathrm{chance}},

so that as :math:`C \\to \\infty` the normalised accuracy tends to :math:`e^{-E}` and
the raw accuracy to the ceiling ``chance + (1 - chance) exp(-E)``.

As in the paper, the fit minimises a Huber loss (delta = 1e-3) of the log residuals
:math:`\\log(A C^{-\\alpha} + E) - \\log(-\\log Q)`. For a fixed exponent the law is
linear in ``(A, E)``, so the fit profiles them out in closed form on a grid of exponents
and polishes the best minima (:func:`scalelib.profile_fit.fit_by_profile`): a global
search in milliseconds. The amplitude is fitted at
:data:`~scalelib.normalise.REFERENCE_COMPUTE` (log space) and reported at C = 1 FLOP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import OptimizeResult

from scalelib.backtest import Fitter, law_forecaster
from scalelib.interfaces import Law, centred_log_compute, fit_compute_law_to_rows, optimized_parameters
from scalelib.validation import check_compute
from scalelib.normalise import (
    LOG_AMPLITUDE_BOUND,
    accuracy_from_neg_log_q,
    covariance_from_jacobian,
    huber_loss,
    log_compute_offset,
    neg_log_q,
    uncentre_amplitude,
    validate_law_inputs,
)
from scalelib.profile_fit import Profile, fit_by_profile

__all__ = [
    "N_PARAMETERS",
    "ALPHA_GRID",
    "ALPHA_BOUNDS",
    "SaturatingLawFit",
    "saturating_neg_log_q",
    "saturating_log_residuals",
    "saturating_log_residuals_jacobian",
    "saturating_bounds",
    "saturating_profile",
    "fit_saturating_law",
    "saturating_forecaster",
    "SATURATING_LAW",
]

N_PARAMETERS = 3

ALPHA_BOUNDS = (0.0, 5.0)
"""Bounds on alpha; the upper one only keeps C^(-alpha) finite on a flat benchmark."""

ALPHA_GRID = np.concatenate([[0.0], np.geomspace(0.005, ALPHA_BOUNDS[1], 80)])
"""Exponents at which ``(A, E)`` are profiled: 0, then 80 log-spaced values from 0.005 to 5
(9% apart), far finer than the exponents' standard errors on these data."""


@dataclass(frozen=True, eq=False)
class SaturatingLawFit:
    """Result of :func:`fit_saturating_law`: ``-log Q = A C^(-alpha) + E``.

    Attributes
    ----------
    A, alpha, E
        Amplitude (at C = 1 FLOP), exponent and floor of ``-log Q``.
    A_stderr, alpha_stderr, E_stderr
        Approximate standard errors (see :func:`fit_saturating_law`).
    covariance
        3x3 covariance of ``(log A, alpha, E)``.
    ceiling_accuracy
        Raw accuracy as C -> infinity: ``chance + (1 - chance) exp(-E)``.
    objective
        Huber loss (delta = 1e-3, summed) of the log residuals at the optimum.
    chance
        Chance level used for the normalisation.
    n_points, n_starts
        Number of points fitted and of profile minima polished.
    optimize_result
        The ``scipy.optimize.OptimizeResult`` of the best polish, parameters
        ``(log A_ref, alpha, E)`` with A_ref at ``REFERENCE_COMPUTE``.
    """

    A: float
    alpha: float
    E: float
    A_stderr: float
    alpha_stderr: float
    E_stderr: float
    covariance: np.ndarray
    ceiling_accuracy: float
    objective: float
    chance: float
    n_points: int
    n_starts: int
    optimize_result: OptimizeResult

    def predict(self, compute: ArrayLike) -> np.ndarray:
        """Raw accuracy at compute C: ``chance + (1 - chance) exp(-(A C^(-alpha) + E))``.

        Raises :class:`~scalelib.normalise.ScalingDataError` for compute that is not a
        finite number > 0.
        """
        log_compute = np.log(check_compute(compute))
        return accuracy_from_neg_log_q(
            np.exp(np.log(self.A) - self.alpha * log_compute) + self.E, self.chance
        )


def saturating_neg_log_q(x: np.ndarray, parameters: np.ndarray) -> np.ndarray:
    """Eq. 6 on centred log compute ``x``: ``A_ref exp(-alpha x) + E``, parameters ``(log A_ref, alpha, E)``."""
    log_A_ref, alpha, E = parameters
    return np.exp(log_A_ref - alpha * x) + E


def saturating_log_residuals(
    parameters: np.ndarray, x: np.ndarray, log_target: np.ndarray
) -> np.ndarray:
    """Residuals ``log(A_ref exp(-alpha x) + E) - log(-log Q)`` minimised by the fit."""
    return np.log(saturating_neg_log_q(x, parameters)) - log_target


def saturating_log_residuals_jacobian(
    parameters: np.ndarray, x: np.ndarray, log_target: np.ndarray
) -> np.ndarray:
    """Jacobian (n, 3) of :func:`saturating_log_residuals` in ``(log A_ref, alpha, E)``."""
    log_A_ref, alpha, E = parameters
    power_term = np.exp(log_A_ref - alpha * x)
    prediction = power_term + E
    return np.column_stack([power_term, -x * power_term, np.ones_like(x)]) / prediction[:, None]


def saturating_bounds(x: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of ``(log A_ref, alpha, E)``: alpha within ``ALPHA_BOUNDS``, ``E >= 0``.

    ``|log A_ref| <= LOG_AMPLITUDE_BOUND`` only keeps trial steps finite. The bounds do
    not depend on the inputs ``x``: the argument is there so that every law's bounds
    are called alike, ``bounds(x)`` (:class:`~scalelib.interfaces.Law`).
    """
    return (
        np.array([-LOG_AMPLITUDE_BOUND, ALPHA_BOUNDS[0], 0.0]),
        np.array([LOG_AMPLITUDE_BOUND, ALPHA_BOUNDS[1], np.inf]),
    )


def saturating_profile(x: np.ndarray) -> Profile:
    """Eq. 6 at centred log compute ``x`` for :mod:`scalelib.profile_fit`.

    For a fixed exponent alpha (the grid :data:`ALPHA_GRID`), ``A_ref exp(-alpha x) + E``
    is linear in ``(A_ref, E)``: basis columns ``exp(-alpha x)`` and 1. An amplitude at
    its bound 0 starts the polish from ``exp(-LOG_AMPLITUDE_BOUND)``.
    """

    def basis(alphas: np.ndarray) -> np.ndarray:
        power = np.exp(-alphas[:, :1] * x[None, :])
        return np.stack([power, np.ones_like(power)], axis=-1)

    def parameters(alpha: np.ndarray, amplitudes: np.ndarray) -> np.ndarray:
        log_A_ref = np.log(max(amplitudes[0], np.exp(-LOG_AMPLITUDE_BOUND)))
        return np.array([log_A_ref, alpha[0], amplitudes[1]])

    return Profile(basis=basis, axes=[ALPHA_GRID], parameters=parameters, exponents=lambda p: p[1:2])


def fit_saturating_law(
    compute: ArrayLike,
    accuracy: ArrayLike,
    *,
    chance: float,
    labels: Sequence[str] | None = None,
) -> SaturatingLawFit:
    """Fit Eq. 6, ``-log Q = A C^(-alpha) + E`` with ``E >= 0``, by a robust global fit.

    Minimises the Huber loss (delta = 1e-3) of the log residuals
    ``log(A C^(-alpha) + E) - log(-log Q)`` (bounds: ``0 <= alpha <= 5``, ``E >= 0``).
    For each exponent of :data:`ALPHA_GRID` the best ``(A, E)`` follow in closed form
    (iteratively reweighted least squares, :func:`scalelib.profile_fit.profile_amplitudes`);
    the best local minima of that profile are polished by
    ``scipy.optimize.least_squares(loss="huber")`` on all three parameters
    (:func:`scalelib.profile_fit.fit_by_profile`).

    Standard errors come from the Jacobian J of the log residuals at the optimum,
    ``cov = s^2 (J^T J)^{-1}``, as for ordinary least squares. They are approximate:
    they ignore the Huber weighting, and they are unreliable when a parameter sits
    at or near its bound (``E = 0`` especially); cross-check with a bootstrap. They
    are NaN when the data do not determine every parameter (J of rank < 3, e.g. at
    ``alpha = 0``, where A and E are confounded).

    Parameters
    ----------
    compute
        Training compute C in FLOPs, one per run.
    accuracy
        Raw accuracy, one per run, strictly between ``chance`` and 1.
    chance
        Chance level of the benchmark.
    labels
        Optional run ids naming offending points in error messages.

    Returns
    -------
    SaturatingLawFit

    Raises
    ------
    ScalingDataError
        On inputs refused by :func:`scalelib.normalise.validate_law_inputs`.
    """
    compute, accuracy = validate_law_inputs(
        compute, accuracy, chance=chance, n_parameters=N_PARAMETERS, labels=labels
    )
    x = log_compute_offset(compute)
    log_target = np.log(neg_log_q(accuracy, chance))
    best = fit_by_profile(
        saturating_profile(x),
        log_target,
        residuals=lambda parameters: saturating_log_residuals(parameters, x, log_target),
        jacobian=lambda parameters: saturating_log_residuals_jacobian(parameters, x, log_target),
        bounds=saturating_bounds(x),
    )
    log_A_ref, alpha, E = best.x
    covariance = covariance_from_jacobian(
        saturating_log_residuals_jacobian(best.x, x, log_target), best.fun
    )
    log_A, covariance = uncentre_amplitude(log_A_ref, alpha, covariance)
    stderrs = np.sqrt(np.diag(covariance))
    return SaturatingLawFit(
        A=float(np.exp(log_A)),
        alpha=float(alpha),
        E=float(E),
        A_stderr=float(np.exp(log_A) * stderrs[0]),
        alpha_stderr=float(stderrs[1]),
        E_stderr=float(stderrs[2]),
        covariance=covariance,
        ceiling_accuracy=float(accuracy_from_neg_log_q(E, chance)),
        objective=huber_loss(best.fun),
        chance=chance,
        n_points=len(compute),
        n_starts=best.n_starts,
        optimize_result=best,
    )


def saturating_forecaster(*, compute_column: str = "flops") -> Fitter:
    """A :func:`scalelib.backtest.backtest` fitter fitting Eq. 6 with :func:`fit_saturating_law`."""
    return law_forecaster(fit_saturating_law, compute_column=compute_column)


SATURATING_LAW = Law(
    name="saturating",
    title="Eq. 6",
    description="Eq. 6, -log Q = A C^-alpha + E, per group",
    equation="-log Q = A C^-alpha + E",
    latex=r"-\log Q = A\,C^{-\alpha} + E",
    columns=("flops",),
    n_parameters=N_PARAMETERS,
    min_runs=N_PARAMETERS + 1,
    inputs=centred_log_compute,
    neg_log_q=saturating_neg_log_q,
    residuals=saturating_log_residuals,
    jacobian=saturating_log_residuals_jacobian,
    bounds=saturating_bounds,
    fit=fit_saturating_law,
    fit_rows=fit_compute_law_to_rows(fit_saturating_law),
    parameters=optimized_parameters,
    forecaster=saturating_forecaster,
    profile=saturating_profile,
    robust=True,
)
"""Eq. 6 as a :class:`~scalelib.interfaces.Law`: robust fit, bootstrap resamples profiled at once."""
