"""Eq. 5: pass@k as a law of training compute and of k, and its least-squares fit.

Krajewski et al. (2025) model how pass@k depends on training compute :math:`C` and on
:math:`k` jointly (their Eq. 5), with :math:`Q = \\text{pass@}k` (chance is 0):

.. math::

    \\log(-\\log Q(C, k)) = \\log A + \\alpha \\log C + \\beta \\log k
    + \\delta \\log C \\log k,

linear in its four parameters, so it is fitted by (optionally weighted) least squares
in closed form (:func:`fit_pass_at_k_law`, with classical or run-clustered standard
errors; the result is a :class:`PassAtKLawFit`). Its slopes are the compute exponent
:math:`\\alpha + \\delta \\log k` and the k exponent :math:`\\beta + \\delta \\log C`.
The law in its fitted parametrisation (:func:`pass_at_k_law_inputs`,
:func:`pass_at_k_law_log_residuals` ...) is what :data:`scalelib.laws.pass_at_k_law.PASS_AT_K_LAW`
describes.

Mind the sign of :math:`\\alpha`: here it is the slope of :math:`\\log(-\\log Q)` in
:math:`\\log C`, while Eq. 2's :math:`\\alpha` (:mod:`scalelib.laws.direct_law`,
:math:`-\\log Q = A C^{-\\alpha}`, so :math:`\\log(-\\log Q) = \\log A - \\alpha \\log C`) is
minus that slope. A benchmark that improves with compute has :math:`\\alpha < 0` in Eq. 5
and :math:`\\alpha > 0` in Eq. 2; each keeps the paper's convention, so at :math:`k = 1`
Eq. 5's :math:`\\alpha` is minus Eq. 2's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from scalelib.interfaces import centred_log_compute
from scalelib.data.normalise import (
    REFERENCE_COMPUTE,
    ScalingDataError,
    covariance_from_jacobian,
    log_compute_offset,
    validate_law_inputs,
)
from scalelib.data.validation import as_numbers, check_compute

__all__ = [
    "PassAtKLawFit",
    "pass_at_k_law_log_neg_log_q",
    "pass_at_k_law_inputs",
    "pass_at_k_law_log_residuals",
    "pass_at_k_law_log_residuals_jacobian",
    "pass_at_k_law_bounds",
    "fit_pass_at_k_law",
]

N_PARAMETERS = 4
PARAMETER_NAMES = ("log_A", "alpha", "beta", "delta")


def pass_at_k_law_log_neg_log_q(
    compute: ArrayLike, k: ArrayLike, log_A: float, alpha: float, beta: float, delta: float
) -> np.ndarray:
    """Eq. 5: ``log(-log Q) = log A + alpha log C + beta log k + delta log C log k``."""
    log_compute = np.log(np.asarray(compute, dtype=float))
    log_k = np.log(np.asarray(k, dtype=float))
    return log_A + alpha * log_compute + beta * log_k + delta * log_compute * log_k


def pass_at_k_law_inputs(rows: pd.DataFrame, compute_column: str = "flops") -> np.ndarray:
    """Eq. 5's inputs from rows, shape (2, n): ``log(C / C_ref)`` and ``log k`` (k a finite number >= 1)."""
    return np.vstack([centred_log_compute(rows, compute_column), np.log(_check_k(rows["k"].to_numpy()))])


def _inputs_design(x: np.ndarray) -> np.ndarray:
    """The design ``(1, u, log k, u log k)`` of Eq. 5 at inputs ``x = (u, log k)``, ``u = log(C / C_ref)``."""
    return _design(x[0], x[1])


def _centred_neg_log_q(x: np.ndarray, parameters: np.ndarray) -> np.ndarray:
    """Eq. 5's ``-log Q`` at inputs ``x`` (:func:`pass_at_k_law_inputs`), parameters ``(a, alpha, b, delta)``.

    ``a = log A + alpha log C_ref`` and ``b = beta + delta log C_ref``: the law with
    compute centred at :data:`~scalelib.data.normalise.REFERENCE_COMPUTE`, as it is fitted.
    """
    return np.exp(_inputs_design(x) @ parameters)


def pass_at_k_law_log_residuals(parameters: np.ndarray, x: np.ndarray, log_target: np.ndarray) -> np.ndarray:
    """Residuals ``a + alpha u + b log k + delta u log k - log(-log Q)``, minimised by the least-squares fit."""
    return _inputs_design(x) @ parameters - log_target


def pass_at_k_law_log_residuals_jacobian(
    parameters: np.ndarray, x: np.ndarray, log_target: np.ndarray
) -> np.ndarray:
    """Jacobian (n, 4) of :func:`pass_at_k_law_log_residuals` in ``(a, alpha, b, delta)``: the design itself."""
    return _inputs_design(x)


def pass_at_k_law_bounds(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of ``(a, alpha, b, delta)``: none (the fit is least squares in closed form); ``x`` is unused."""
    return np.full(N_PARAMETERS, -np.inf), np.full(N_PARAMETERS, np.inf)


@dataclass(frozen=True, eq=False)
class PassAtKLawFit:
    """Result of :func:`fit_pass_at_k_law`: Eq. 5 with its uncertainties.

    Attributes
    ----------
    log_A, alpha, beta, delta
        Parameters of Eq. 5 in the paper's convention (C in FLOPs, k a count); ``alpha``
        is negative for a benchmark that improves with compute, the opposite sign to
        Eq. 2's ``alpha`` (:mod:`scalelib.laws.direct_law`).
    log_A_stderr, alpha_stderr, beta_stderr, delta_stderr
        Standard errors (NaN when there are no residual degrees of freedom).
    covariance
        4x4 covariance of ``(log A, alpha, beta, delta)``.
    covariance_type
        ``"classical"`` (``s^2 (X^T W X)^{-1}``) or ``"clustered"`` (CR1 sandwich,
        clustered by the ``clusters`` passed to the fit, e.g. by run).
    weighted
        Whether points were weighted by their binomial standard error.
    n_points, n_clusters
        Points fitted; distinct clusters (equal to ``n_points`` without clusters).
    r_squared
        Coefficient of determination in the fitted space, ``log(-log Q)``.
    rmse_points
        Root-mean-square error of the fitted pass@k, in points (x 100).
    compute_range, k_range
        (min, max) of the fitted compute and k: the domain where the law is not an
        extrapolation.
    """

    log_A: float
    alpha: float
    beta: float
    delta: float
    log_A_stderr: float
    alpha_stderr: float
    beta_stderr: float
    delta_stderr: float
    covariance: np.ndarray
    covariance_type: str
    weighted: bool
    n_points: int
    n_clusters: int
    r_squared: float
    rmse_points: float
    compute_range: tuple[float, float]
    k_range: tuple[float, float]

    def log_neg_log_q(self, compute: ArrayLike, k: ArrayLike) -> np.ndarray:
        """The fitted ``log(-log Q)`` at compute C and k (broadcast).

        Raises :class:`~scalelib.data.normalise.ScalingDataError` for compute that is not a
        finite number > 0, or k that is not a finite number >= 1.
        """
        return pass_at_k_law_log_neg_log_q(
            check_compute(compute), _check_k(k), self.log_A, self.alpha, self.beta, self.delta
        )

    def predict(self, compute: ArrayLike, k: ArrayLike) -> np.ndarray:
        """pass@k predicted at compute C and k (broadcast): ``exp(-exp(log(-log Q)))``."""
        return np.exp(-np.exp(self.log_neg_log_q(compute, k)))

    def compute_exponent(self, k: ArrayLike) -> np.ndarray:
        """Slope of ``log(-log Q)`` in ``log C`` at fixed k: ``alpha + delta log k``."""
        return self.alpha + self.delta * np.log(np.asarray(k, dtype=float))

    def k_exponent(self, compute: ArrayLike) -> np.ndarray:
        """Slope of ``log(-log Q)`` in ``log k`` at fixed compute: ``beta + delta log C``."""
        return self.beta + self.delta * np.log(np.asarray(compute, dtype=float))

    def compute_exponent_stderr(self, k: ArrayLike) -> np.ndarray:
        """Standard error of :meth:`compute_exponent`, from the covariance of (alpha, delta)."""
        log_k = np.log(np.asarray(k, dtype=float))
        c = self.covariance
        return np.sqrt(c[1, 1] + 2 * log_k * c[1, 3] + log_k**2 * c[3, 3])

    def k_exponent_stderr(self, compute: ArrayLike) -> np.ndarray:
        """Standard error of :meth:`k_exponent`, from the covariance of (beta, delta)."""
        log_compute = np.log(np.asarray(compute, dtype=float))
        c = self.covariance
        return np.sqrt(c[2, 2] + 2 * log_compute * c[2, 3] + log_compute**2 * c[3, 3])

    def compute_needed(self, target: ArrayLike, k: ArrayLike) -> np.ndarray:
        """Training compute at which the law reaches pass@k = ``target`` with k samples.

        Eq. 5 solved for C: ``log C = (log(-log target) - log A - beta log k) /
        (alpha + delta log k)``. NaN where ``alpha + delta log k >= 0`` (the fitted
        pass@k does not rise with compute at that k) or the target is outside (0, 1).
        """
        target = np.asarray(target, dtype=float)
        log_k = np.log(np.asarray(k, dtype=float))
        slope = self.compute_exponent(k)
        valid = (slope < 0) & (target > 0) & (target < 1)
        safe_target = np.where(valid, target, 0.5)
        log_compute = (np.log(-np.log(safe_target)) - self.log_A - self.beta * log_k) / np.where(valid, slope, -1.0)
        return np.where(valid, np.exp(log_compute), np.nan)


def _check_k(k: ArrayLike) -> np.ndarray:
    """k as floats of the same shape: every value a finite number >= 1."""
    k = as_numbers(k, "k")
    if (~np.isfinite(k) | (k < 1)).any():
        raise ScalingDataError("Every k must be a finite number >= 1.")
    return k


def _design(log_compute_centred: np.ndarray, log_k: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones_like(log_k), log_compute_centred, log_k, log_compute_centred * log_k])


def _delta_method_weights(pass_at_k_values: np.ndarray, n_items: ArrayLike) -> np.ndarray:
    """``1 / sd`` of ``log(-log Q)`` for a binomial Q over n problems: ``Q |log Q| / sqrt(Q (1 - Q) / n)``."""
    n_items = np.broadcast_to(np.asarray(n_items, dtype=float), pass_at_k_values.shape)
    if np.isnan(n_items).any() or (n_items <= 0).any():
        raise ScalingDataError("n_items must be positive and not NaN for every point.")
    q = pass_at_k_values
    return q * np.abs(np.log(q)) / np.sqrt(q * (1.0 - q) / n_items)


def _clustered_covariance(design: np.ndarray, residuals: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """CR1 sandwich ``(X^T X)^{-1} (sum_g X_g^T e_g e_g^T X_g) (X^T X)^{-1}``, small-sample corrected.

    ``design`` and ``residuals`` are already multiplied by the weights. The factor
    ``G / (G - 1) * (n - 1) / (n - p)`` is the usual correction for G clusters.
    """
    n_points, n_parameters = design.shape
    labels, codes = np.unique(clusters, return_inverse=True)
    n_clusters = len(labels)
    if n_clusters < 2 or n_points <= n_parameters or np.linalg.matrix_rank(design) < n_parameters:
        return np.full((n_parameters, n_parameters), np.nan)
    scores = np.zeros((n_clusters, n_parameters))
    np.add.at(scores, codes, design * residuals[:, None])
    bread = np.linalg.inv(design.T @ design)
    correction = n_clusters / (n_clusters - 1) * (n_points - 1) / (n_points - n_parameters)
    return correction * bread @ (scores.T @ scores) @ bread


def fit_pass_at_k_law(
    compute: ArrayLike,
    k: ArrayLike,
    pass_at_k_values: ArrayLike,
    *,
    n_items: ArrayLike | None = None,
    clusters: Sequence[object] | None = None,
    labels: Sequence[str] | None = None,
) -> PassAtKLawFit:
    """Fit Eq. 5 by least squares in closed form.

    .. math::

        \\log(-\\log Q) = \\log A + \\alpha \\log C + \\beta \\log k + \\delta \\log C \\log k,
        \\qquad Q = \\text{pass@}k.

    The regression is solved with ``log C`` centred at
    :data:`~scalelib.data.normalise.REFERENCE_COMPUTE` (well conditioned) and the result is
    mapped exactly to the paper's convention: ``log A = a - alpha log C_ref`` and
    ``beta = b - delta log C_ref``, with the covariance transformed alike.

    Parameters
    ----------
    compute
        Training compute C in FLOPs, one per point.
    k
        Number of samples k (>= 1), one per point.
    pass_at_k_values
        pass@k, one per point, strictly between 0 and 1 (exclude exact zeros first, as
        :func:`load_pass_at_k` does).
    n_items
        Number of problems of the benchmark (scalar or one per point). If given, each
        point is weighted by the inverse of its standard error in ``log(-log Q)``,
        ``Q |log Q| / sqrt(Q (1 - Q) / n)`` (binomial noise, delta method), which
        down-weights the noisy values near zero.
    clusters
        Optional group of each point, typically its run: the pass@k values of one run
        come from the same samples and their residuals are correlated, so the
        classical standard errors are too small. With clusters, the covariance is the
        cluster-robust (CR1) sandwich.
    labels
        Optional names of the points (e.g. ``"run pass@8"``) for error messages.

    Returns
    -------
    PassAtKLawFit

    Raises
    ------
    ScalingDataError
        On mismatched lengths, NaN, infinite or non-positive compute, pass@k outside
        (0, 1), infinite k or k < 1, fewer than 4 points, or data that do not determine
        the four parameters
        (fewer than two distinct compute values or two distinct k).
    """
    compute, q = validate_law_inputs(
        compute, pass_at_k_values, chance=0.0, n_parameters=N_PARAMETERS, labels=labels
    )
    k = as_numbers(k, "k").ravel()
    if k.shape != q.shape:
        raise ScalingDataError(f"Mismatched lengths: {len(k)} values of k and {len(q)} pass@k values.")
    _check_k(k)
    if len(np.unique(compute)) < 2 or len(np.unique(k)) < 2:
        raise ScalingDataError(
            f"Eq. 5 needs at least two distinct compute values and two distinct k; got "
            f"{len(np.unique(compute))} and {len(np.unique(k))}."
        )
    log_k = np.log(k)
    design = _design(log_compute_offset(compute), log_k)
    target = np.log(-np.log(q))
    weights = np.ones_like(q) if n_items is None else _delta_method_weights(q, n_items)
    coefficients, *_ = np.linalg.lstsq(design * weights[:, None], target * weights, rcond=None)
    residuals = target - design @ coefficients
    if clusters is None:
        covariance = covariance_from_jacobian(design * weights[:, None], residuals * weights)
        n_clusters = len(q)
    else:
        clusters = np.asarray(clusters, dtype=object)
        if len(clusters) != len(q):
            raise ScalingDataError(f"Mismatched lengths: {len(clusters)} clusters and {len(q)} points.")
        covariance = _clustered_covariance(design * weights[:, None], residuals * weights, clusters.astype(str))
        n_clusters = len(np.unique(clusters.astype(str)))

    log_reference = np.log(REFERENCE_COMPUTE)
    to_paper = np.eye(N_PARAMETERS)
    to_paper[0, 1] = -log_reference  # log A = a - alpha log C_ref
    to_paper[2, 3] = -log_reference  # beta = b - delta log C_ref
    parameters = to_paper @ coefficients
    covariance = to_paper @ covariance @ to_paper.T
    stderrs = np.sqrt(np.diag(covariance))
    fitted_q = np.exp(-np.exp(design @ coefficients))
    return PassAtKLawFit(
        **{name: float(value) for name, value in zip(PARAMETER_NAMES, parameters)},
        **{f"{name}_stderr": float(value) for name, value in zip(PARAMETER_NAMES, stderrs)},
        covariance=covariance,
        covariance_type="classical" if clusters is None else "clustered",
        weighted=n_items is not None,
        n_points=len(q),
        n_clusters=n_clusters,
        r_squared=float(1.0 - np.sum(residuals**2) / np.sum((target - target.mean()) ** 2)),
        rmse_points=float(100.0 * np.sqrt(np.mean((fitted_q - q) ** 2))),
        compute_range=(float(compute.min()), float(compute.max())),
        k_range=(float(k.min()), float(k.max())),
    )

