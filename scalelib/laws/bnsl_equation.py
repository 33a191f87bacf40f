"""Eq. 1 (BNSL, one break) in its fitted parametrisation: the value, log residuals, Jacobian and bounds.

:func:`bnsl_neg_log_q` on centred log compute ``x = log(C / C_ref)``, with the parameters

``(a, log b_ref, c0, c0 + c1, log(d1 / C_ref), log f1)``

(module docstring of :mod:`scalelib.laws.bnsl`), the residuals :func:`bnsl_log_residuals` the fit
minimises, their Jacobian and the bounds. The global fit search that uses them is
:mod:`scalelib.laws.bnsl_fit`; the law is :data:`scalelib.laws.bnsl.BNSL_LAW`, and every public name
here is importable from :mod:`scalelib.laws.bnsl` too.
"""

from __future__ import annotations

import numpy as np

from scalelib.data.normalise import LOG_AMPLITUDE_BOUND

__all__ = [
    "N_PARAMETERS",
    "SHARPNESS_BOUNDS",
    "MAX_SLOPE",
    "bnsl_neg_log_q",
    "bnsl_log_residuals",
    "bnsl_log_residuals_jacobian",
    "bnsl_bounds",
]

N_PARAMETERS = 6

SHARPNESS_BOUNDS = (0.1, 10.0)
"""Bounds on f1. Below 0.1 the bend is narrower than the spacing of the runs (a
kink): the data cannot tell such breaks apart, and the fit would creep towards f1 = 0."""

MAX_SLOPE = 5.0
"""Upper bound on both slopes; it only keeps the power law finite on a flat benchmark."""


def _terms(x: np.ndarray, parameters: np.ndarray) -> tuple[np.ndarray, ...]:
    """Pieces of Eq. 1 shared by the value and its Jacobian.

    With ``z = (x - log d_ref) / f1`` and ``s = log(1 + e^z)``, the broken power law is
    ``T = exp(log b_ref - c0 x - c1 f1 s)``; returns ``(T, z, s, sigmoid(z))``.
    """
    _, log_b_ref, c0, slope_after, log_d_ref, log_f1 = parameters
    f1 = np.exp(log_f1)
    z = (x - log_d_ref) / f1
    softplus = np.logaddexp(0.0, z)
    power_term = np.exp(log_b_ref - c0 * x - (slope_after - c0) * f1 * softplus)
    return power_term, z, softplus, np.exp(z - softplus)


def bnsl_neg_log_q(x: np.ndarray, parameters: np.ndarray) -> np.ndarray:
    """Eq. 1 on centred log compute ``x = log(C / C_ref)``, in the fitted parametrisation."""
    power_term, *_ = _terms(x, parameters)
    return parameters[0] + power_term


def bnsl_log_residuals(parameters: np.ndarray, x: np.ndarray, log_target: np.ndarray) -> np.ndarray:
    """Residuals ``log(y_BNSL) - log(-log Q)`` minimised by the fit."""
    return np.log(bnsl_neg_log_q(x, parameters)) - log_target


def bnsl_log_residuals_jacobian(
    parameters: np.ndarray, x: np.ndarray, log_target: np.ndarray
) -> np.ndarray:
    """Jacobian (n, 6) of :func:`bnsl_log_residuals` in the fitted parametrisation."""
    a, _, c0, slope_after, _, log_f1 = parameters
    f1 = np.exp(log_f1)
    c1 = slope_after - c0
    power_term, z, softplus, sigmoid = _terms(x, parameters)
    columns = [
        np.ones_like(x),
        power_term,
        power_term * (f1 * softplus - x),
        power_term * (-f1 * softplus),
        power_term * c1 * sigmoid,
        power_term * (-c1 * f1 * (softplus - sigmoid * z)),
    ]
    return np.column_stack(columns) / (a + power_term)[:, None]


def bnsl_bounds(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of the fitted parameters; the break lies within a decade of the range of ``x``.

    ``|log b_ref| <= LOG_AMPLITUDE_BOUND`` only keeps trial steps finite.
    """
    decade = np.log(10.0)
    lower = [
        0.0, -LOG_AMPLITUDE_BOUND, 0.0, 0.0, x.min() - decade, np.log(SHARPNESS_BOUNDS[0])
    ]
    upper = [
        np.inf, LOG_AMPLITUDE_BOUND, MAX_SLOPE, MAX_SLOPE, x.max() + decade,
        np.log(SHARPNESS_BOUNDS[1]),
    ]
    return np.array(lower), np.array(upper)
