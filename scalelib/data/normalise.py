"""Chance normalisation, input validation and the fitting helpers shared by every law.

Every law in ``scalelib`` models the chance-normalised accuracy

.. math::

    Q = \\frac{\\mathrm{acc} - \\mathrm{chance}}{1 - \\mathrm{chance}},

(``chance`` = 0.25 for four-way multiple choice, 0.5 for two-way, 0 for generative
and code tasks) through its negative log, :math:`y = -\\log Q`, as a function of the
training compute :math:`C` in FLOPs. This module holds what the laws share:

* the transform and its inverse (:func:`chance_normalise`, :func:`neg_log_q`,
  :func:`accuracy_from_neg_log_q`, ...);
* one validation routine (:func:`validate_law_inputs`, built on the shared checks of
  :mod:`scalelib.data.validation`) that refuses data a law of compute cannot take, with a
  :class:`ScalingDataError` naming the offending points, and
  :func:`drop_at_or_below_chance` to drop points at or below chance explicitly beforehand;
* the robust multi-start fit (:func:`fit_huber_from_starts`), the Huber objective it
  minimises (:func:`huber_loss`) and the Jacobian-based covariance
  (:func:`covariance_from_jacobian`);
* the reference compute used to centre :math:`\\log C` and the conversion of a
  centred amplitude back to the paper's convention (:func:`uncentre_amplitude`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.optimize import OptimizeResult, least_squares

from scalelib.data.validation import (
    ScalingDataError,
    as_numbers,
    check_chance,
    check_compute,
    check_distinct_compute,
    describe_points,
)

__all__ = [
    "REFERENCE_COMPUTE",
    "HUBER_DELTA",
    "LOG_AMPLITUDE_BOUND",
    "HUBER_CONTINUATION",
    "STAGE_TOLERANCE",
    "FINAL_STAGE_TOLERANCE",
    "ScalingDataError",
    "chance_normalise",
    "chance_denormalise",
    "neg_log_q",
    "accuracy_from_neg_log_q",
    "log_compute_offset",
    "describe_points",
    "validate_law_inputs",
    "drop_at_or_below_chance",
    "huber_loss",
    "huber_loss_gradient",
    "fit_huber_from_starts",
    "covariance_from_jacobian",
    "uncentre_amplitude",
    "evaluation_noise_points",
]

REFERENCE_COMPUTE = 1e21
"""Compute (FLOPs) at which amplitudes are fitted: ``x = log(C / REFERENCE_COMPUTE)``."""

HUBER_DELTA = 1e-3
"""Huber threshold on log residuals used by the paper's robust fits."""

LOG_AMPLITUDE_BOUND = 100.0
"""Bound on ``|log amplitude at REFERENCE_COMPUTE|`` in the robust fits: far wider than any
curve through data at 1e18-1e23 FLOPs needs, it keeps ``exp`` finite in trial steps."""


def chance_normalise(accuracy: ArrayLike, chance: float) -> np.ndarray:
    """Map raw accuracy to chance-normalised accuracy ``Q = (acc - chance) / (1 - chance)``."""
    return (np.asarray(accuracy, dtype=float) - chance) / (1.0 - chance)


def chance_denormalise(normalised: ArrayLike, chance: float) -> np.ndarray:
    """Inverse of :func:`chance_normalise`: ``acc = chance + (1 - chance) * Q``."""
    return chance + (1.0 - chance) * np.asarray(normalised, dtype=float)


def neg_log_q(accuracy: ArrayLike, chance: float) -> np.ndarray:
    """The quantity every law models: ``y = -log Q``, positive for chance < acc < 1."""
    return -np.log(chance_normalise(accuracy, chance))


def accuracy_from_neg_log_q(neg_log_normalised: ArrayLike, chance: float) -> np.ndarray:
    """Inverse of :func:`neg_log_q`: ``acc = chance + (1 - chance) * exp(-y)``."""
    return chance_denormalise(np.exp(-np.asarray(neg_log_normalised, dtype=float)), chance)


def log_compute_offset(compute: ArrayLike) -> np.ndarray:
    """Centred log compute ``x = log(C / REFERENCE_COMPUTE)`` used by every fit."""
    return np.log(np.asarray(compute, dtype=float) / REFERENCE_COMPUTE)


def validate_law_inputs(
    compute: ArrayLike,
    accuracy: ArrayLike,
    *,
    chance: float,
    n_parameters: int,
    labels: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Check the inputs of a law fit and return them as float arrays.

    The laws fit ``y = -log Q`` with ``Q = (acc - chance) / (1 - chance)`` as a function
    of compute, so every point needs ``chance < acc < 1`` and a finite ``C > 0``, and the
    runs need two or more distinct compute values (at one compute value a law of compute
    has no slope to fit; this holds for Eq. 4 too, whose compute is ``6 N D``).

    Parameters
    ----------
    compute, accuracy
        Training compute C (FLOPs) and raw accuracy, one entry per run.
    chance
        Accuracy of random guessing: a real number in [0, 1).
    n_parameters
        Number of free parameters of the law; at least this many points are needed.
    labels
        Optional run ids, used to name offending points in error messages.

    Returns
    -------
    compute, accuracy : numpy.ndarray
        The inputs as 1-d float arrays.

    Raises
    ------
    ScalingDataError
        On text where numbers belong, mismatched lengths, NaN anywhere, a chance level
        that is not a real number in [0, 1), infinite or non-positive compute, accuracy
        >= 1, accuracy at or below chance, fewer points than ``n_parameters``, or a
        single compute value; the message says which points are at fault.
    """
    compute = as_numbers(compute, "compute", labels).ravel()
    accuracy = as_numbers(accuracy, "accuracy", labels).ravel()
    if len(compute) != len(accuracy) or (labels is not None and len(labels) != len(compute)):
        lengths = f"{len(compute)} compute values and {len(accuracy)} accuracies"
        if labels is not None:
            lengths += f" and {len(labels)} labels"
        raise ScalingDataError(f"Mismatched lengths: {lengths}.")
    check_chance(chance)
    missing = np.isnan(accuracy)
    if missing.any():
        raise ScalingDataError(f"NaN in accuracy at {describe_points(missing, labels)}.")
    check_compute(compute, labels=labels)
    perfect = accuracy >= 1.0
    if perfect.any():
        raise ScalingDataError(
            f"Accuracy >= 1 at {describe_points(perfect, labels)}: Q = 1 makes log(-log Q) "
            "undefined; these points cannot be fitted."
        )
    at_or_below_chance = accuracy <= chance
    if at_or_below_chance.any():
        raise ScalingDataError(
            f"Accuracy at or below chance ({chance}) at "
            f"{describe_points(at_or_below_chance, labels)}: -log Q is undefined there. "
            "Drop these points explicitly first, e.g. with "
            "scalelib.data.normalise.drop_at_or_below_chance(frame)."
        )
    if len(compute) < n_parameters:
        raise ScalingDataError(
            f"Too few points: {len(compute)} given, but this law has {n_parameters} "
            f"parameters and needs at least {n_parameters} points."
        )
    check_distinct_compute(compute)
    return compute, accuracy


def drop_at_or_below_chance(
    frame: pd.DataFrame, *, value_column: str = "value", chance_column: str = "chance"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a tidy frame into rows a law can fit and rows at or below chance.

    Parameters
    ----------
    frame
        One row per (run, benchmark) with raw accuracy in ``value_column`` and the
        chance level in ``chance_column``.

    Returns
    -------
    kept, dropped : pandas.DataFrame
        ``kept`` has the rows with accuracy strictly above chance; ``dropped`` has the
        others (so the caller can report them), both with the original index.
    """
    above_chance = frame[value_column] > frame[chance_column]
    return frame[above_chance], frame[~above_chance]


def huber_loss(residuals: ArrayLike, delta: float = HUBER_DELTA) -> float:
    """Summed Huber loss, the objective of the robust fits.

    .. math::

        L = \\sum_i \\rho(r_i), \\quad
        \\rho(r) = \\tfrac12 r^2 \\text{ if } |r| \\le \\delta
        \\text{ else } \\delta (|r| - \\tfrac12 \\delta).

    Equal to ``scipy.optimize.least_squares(..., loss="huber", f_scale=delta).cost``.
    """
    absolute = np.abs(np.asarray(residuals, dtype=float))
    quadratic = absolute <= delta
    return float(
        np.sum(np.where(quadratic, 0.5 * absolute**2, delta * (absolute - 0.5 * delta)))
    )


def huber_loss_gradient(
    residuals: np.ndarray, jacobian: np.ndarray, delta: float = HUBER_DELTA
) -> np.ndarray:
    """Gradient of :func:`huber_loss` with respect to the parameters: ``J^T clip(r, -delta, delta)``."""
    return jacobian.T @ np.clip(residuals, -delta, delta)


HUBER_CONTINUATION = (None, 1e-2, HUBER_DELTA)
"""Losses each start is solved with in turn: plain least squares, Huber 1e-2, Huber 1e-3."""

STAGE_TOLERANCE = 1e-8
"""``ftol``, ``xtol`` and ``gtol`` of least_squares in the first stages (its defaults)."""

FINAL_STAGE_TOLERANCE = 1e-10
"""The same in the last stage, whose loss is reported: without it, fits with a parameter
at a bound can stop a few 1e-6 (relative) above the minimum."""


def fit_huber_from_starts(
    residuals: Callable[[np.ndarray], np.ndarray],
    jacobian: Callable[[np.ndarray], np.ndarray],
    starts: Sequence[np.ndarray],
    bounds: tuple[np.ndarray, np.ndarray],
) -> OptimizeResult:
    """Minimise :func:`huber_loss` of ``residuals`` from every start; keep the best.

    At delta = 1e-3 the Huber loss of typical log residuals (~1e-2) is almost an L1
    loss, on which ``scipy.optimize.least_squares`` creeps. So each start is solved by
    continuation (:data:`HUBER_CONTINUATION`): first by plain least squares, then with
    ``loss="huber", f_scale=1e-2`` from there, then with ``f_scale=HUBER_DELTA`` and
    tighter tolerances, all within ``bounds``. The final result with the lowest cost
    (= Huber loss at ``HUBER_DELTA``) is returned, with ``n_starts`` added. Starts must
    be given in a fixed order so that the fit is deterministic.
    """
    best = None
    for start in starts:
        parameters = np.clip(start, bounds[0], bounds[1])
        for delta in HUBER_CONTINUATION:
            tolerance = FINAL_STAGE_TOLERANCE if delta == HUBER_DELTA else STAGE_TOLERANCE
            result = least_squares(
                residuals,
                parameters,
                jac=jacobian,
                bounds=bounds,
                loss="linear" if delta is None else "huber",
                f_scale=1.0 if delta is None else delta,
                ftol=tolerance,
                xtol=tolerance,
                gtol=tolerance,
            )
            parameters = result.x
        if best is None or result.cost < best.cost:
            best = result
    best.n_starts = len(starts)
    return best


def covariance_from_jacobian(jacobian: np.ndarray, residuals: np.ndarray) -> np.ndarray:
    """Least-squares covariance ``s^2 (J^T J)^{-1}`` with ``s^2 = sum(r^2) / (n - p)``.

    ``jacobian`` is the (n, p) Jacobian of the residuals at the optimum. Returns a
    matrix of NaN when it cannot be estimated: ``n <= p``, or J of rank < p (a
    parameter the data do not determine, e.g. an amplitude whose term has vanished).
    """
    n_points, n_parameters = jacobian.shape
    if n_points <= n_parameters or np.linalg.matrix_rank(jacobian) < n_parameters:
        return np.full((n_parameters, n_parameters), np.nan)
    residual_variance = np.sum(residuals**2) / (n_points - n_parameters)
    return residual_variance * np.linalg.inv(jacobian.T @ jacobian)


def uncentre_amplitude(
    log_amplitude_at_reference: float, alpha: float, covariance: np.ndarray
) -> tuple[float, np.ndarray]:
    """Convert a fit of ``A_ref (C / C_ref)^(-alpha)`` to the paper's ``A C^(-alpha)``.

    ``log A = log A_ref + alpha * log C_ref`` with ``C_ref = REFERENCE_COMPUTE``.
    ``covariance`` is that of ``(log A_ref, alpha, ...)`` (the first two entries); the
    returned covariance is that of ``(log A, alpha, ...)``, by the linear map
    ``d log A = d log A_ref + log C_ref d alpha``.
    """
    log_reference = np.log(REFERENCE_COMPUTE)
    transform = np.eye(covariance.shape[0])
    transform[0, 1] = log_reference
    return (
        log_amplitude_at_reference + alpha * log_reference,
        transform @ covariance @ transform.T,
    )


def evaluation_noise_points(accuracy: ArrayLike, n_items: ArrayLike) -> np.ndarray:
    """Binomial standard error of an accuracy measured on ``n_items`` items, in points.

    .. math:: \\sigma = 100 \\sqrt{p (1 - p) / n}

    Pass@k estimated from many samples is less noisy than this bound on one sample.
    NaN where ``n_items`` is not positive.
    """
    p = np.asarray(accuracy, dtype=float)
    n = np.asarray(n_items, dtype=float)
    variance = np.divide(p * (1.0 - p), n, out=np.full(np.broadcast(p, n).shape, np.nan), where=n > 0)
    return 100.0 * np.sqrt(variance)
