"""The broken neural scaling law (BNSL) with one break, Eq. 1 of Krajewski et al. (2025).

From Caballero et al. (2022), "Broken Neural Scaling Laws", fitted here to the
negative log of the chance-normalised accuracy:

.. math::

    y = -\\log Q = a + b\\, C^{-c_0}
        \\left(1 + (C / d_1)^{1 / f_1}\\right)^{-c_1 f_1},

a power law of exponent :math:`c_0` below the break :math:`d_1` that bends, with
sharpness :math:`f_1`, to exponent :math:`c_0 + c_1` above it, on top of a floor
:math:`a` (ceiling accuracy ``chance + (1 - chance) exp(-a)``).

The fit minimises the same objective as the saturating law: the Huber loss
(delta = 1e-3) of the log residuals :math:`\\log \\hat y - \\log y`, with
``scipy.optimize.least_squares`` from a small deterministic grid of starts. It is
parametrised for conditioning as

``(a, log b_ref, c0, c0 + c1, log(d1 / C_ref), log f1)``,

with :math:`C_{\\mathrm{ref}}` = :data:`~scalelib.normalise.REFERENCE_COMPUTE` and
:math:`b_{\\mathrm{ref}} = b\\, C_{\\mathrm{ref}}^{-c_0}`, within the bounds
``a >= 0``, ``0 <= c0 <= 5``, ``0 <= c0 + c1 <= 5`` (both slopes non-negative, so
the predicted accuracy never falls with compute), ``f1`` in [0.1, 10] and the break
within one decade of the fitted compute range (a break further out cannot be
located by the data).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import OptimizeResult

from scalelib.backtest import Fitter, law_forecaster
from scalelib.validation import check_compute
from scalelib.normalise import (
    LOG_AMPLITUDE_BOUND,
    REFERENCE_COMPUTE,
    accuracy_from_neg_log_q,
    fit_huber_from_starts,
    huber_loss,
    log_compute_offset,
    neg_log_q,
    validate_law_inputs,
)

__all__ = [
    "N_PARAMETERS",
    "FLOOR_START_FRACTIONS",
    "SLOPE_STARTS",
    "BREAK_START_QUANTILES",
    "SHARPNESS_STARTS",
    "SHARPNESS_BOUNDS",
    "MAX_SLOPE",
    "BNSLFit",
    "bnsl_neg_log_q",
    "bnsl_log_residuals",
    "bnsl_log_residuals_jacobian",
    "bnsl_bounds",
    "fit_bnsl",
    "bnsl_forecaster",
]

N_PARAMETERS = 6

FLOOR_START_FRACTIONS = (0.0, 0.5)
"""Starting floors a, as fractions of the smallest observed ``-log Q``."""

SLOPE_STARTS = ((0.0, 0.5), (0.5, 0.1))
"""Starting (slope below the break, slope above it), i.e. ``(c0, c0 + c1)``: a
steepening and a flattening break."""

BREAK_START_QUANTILES = (0.1, 0.35, 0.65, 0.9)
"""Starting breaks d1, as quantiles of the fitted log compute."""

SHARPNESS_STARTS = (0.1, 0.3)
"""Starting f1: a sharp and a gradual bend."""

SHARPNESS_BOUNDS = (0.1, 10.0)
"""Bounds on f1. Below 0.1 the bend is narrower than the spacing of the runs (a
kink): the data cannot tell such breaks apart, and the fit would creep towards f1 = 0."""

MAX_SLOPE = 5.0
"""Upper bound on both slopes; it only keeps the power law finite on a flat benchmark."""


@dataclass(frozen=True, eq=False)
class BNSLFit:
    """Result of :func:`fit_bnsl`: ``-log Q = a + b C^(-c0) (1 + (C/d1)^(1/f1))^(-c1 f1)``.

    Attributes
    ----------
    a, b, c0, c1, d1, f1
        Parameters of Eq. 1 (C in FLOPs).
    objective
        Huber loss (delta = 1e-3, summed) of the log residuals at the optimum.
    chance
        Chance level used for the normalisation.
    n_points, n_starts
        Number of points fitted and of starts tried.
    optimize_result
        The ``scipy.optimize.OptimizeResult`` of the best start, in the fitted
        parametrisation (see the module docstring).
    """

    a: float
    b: float
    c0: float
    c1: float
    d1: float
    f1: float
    objective: float
    chance: float
    n_points: int
    n_starts: int
    optimize_result: OptimizeResult

    def predict(self, compute: ArrayLike) -> np.ndarray:
        """Raw accuracy at compute C: ``chance + (1 - chance) exp(-y(C))`` with y from Eq. 1.

        Raises :class:`~scalelib.normalise.ScalingDataError` for compute that is not a
        finite number > 0.
        """
        return accuracy_from_neg_log_q(
            bnsl_neg_log_q(log_compute_offset(check_compute(compute)), self.optimize_result.x), self.chance
        )


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


def _grid_starts(x: np.ndarray, target: np.ndarray) -> list[np.ndarray]:
    """Deterministic starts over the grid, with ``log b_ref`` fitted given the rest."""
    starts = []
    for fraction, (c0, slope_after), quantile, f1 in itertools.product(
        FLOOR_START_FRACTIONS, SLOPE_STARTS, BREAK_START_QUANTILES, SHARPNESS_STARTS
    ):
        floor = fraction * target.min()
        start = np.array([floor, 0.0, c0, slope_after, np.quantile(x, quantile), np.log(f1)])
        power_term, *_ = _terms(x, start)
        start[1] = np.mean(np.log(target - floor) - np.log(power_term))
        starts.append(start)
    return starts


def fit_bnsl(
    compute: ArrayLike,
    accuracy: ArrayLike,
    *,
    chance: float,
    labels: Sequence[str] | None = None,
) -> BNSLFit:
    """Fit Eq. 1 (BNSL, one break) to ``-log Q`` by a robust multi-start fit.

    Minimises the Huber loss (delta = 1e-3) of ``log y_BNSL(C) - log(-log Q)`` with
    ``scipy.optimize.least_squares`` (analytic Jacobian) from each of the
    deterministic starts of the grid ``FLOOR_START_FRACTIONS x SLOPE_STARTS x
    BREAK_START_QUANTILES x SHARPNESS_STARTS`` (32 starts), keeping the lowest loss;
    each start is solved by continuation in the loss (see
    :func:`scalelib.normalise.fit_huber_from_starts`). Parameters and bounds are
    described in the module docstring.

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
    BNSLFit

    Raises
    ------
    ScalingDataError
        On inputs refused by :func:`scalelib.normalise.validate_law_inputs`
        (including fewer than 6 points).
    """
    compute, accuracy = validate_law_inputs(
        compute, accuracy, chance=chance, n_parameters=N_PARAMETERS, labels=labels
    )
    x = log_compute_offset(compute)
    target = neg_log_q(accuracy, chance)
    log_target = np.log(target)
    best = fit_huber_from_starts(
        lambda parameters: bnsl_log_residuals(parameters, x, log_target),
        lambda parameters: bnsl_log_residuals_jacobian(parameters, x, log_target),
        _grid_starts(x, target),
        bounds=bnsl_bounds(x),
    )
    a, log_b_ref, c0, slope_after, log_d_ref, log_f1 = best.x
    return BNSLFit(
        a=float(a),
        b=float(np.exp(log_b_ref + c0 * np.log(REFERENCE_COMPUTE))),
        c0=float(c0),
        c1=float(slope_after - c0),
        d1=float(REFERENCE_COMPUTE * np.exp(log_d_ref)),
        f1=float(np.exp(log_f1)),
        objective=huber_loss(best.fun),
        chance=chance,
        n_points=len(compute),
        n_starts=best.n_starts,
        optimize_result=best,
    )


def bnsl_forecaster(*, compute_column: str = "flops") -> Fitter:
    """A :func:`scalelib.backtest.backtest` fitter fitting Eq. 1 with :func:`fit_bnsl`."""
    return law_forecaster(fit_bnsl, compute_column=compute_column)
