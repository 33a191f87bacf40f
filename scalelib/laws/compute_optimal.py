"""Compute-optimal model size and data for a benchmark, under Eq. 4.

For a training budget of :math:`C = 6ND` FLOPs, the allocation that maximises the
predicted accuracy minimises :math:`-\\log Q = A N^{-\\alpha} + B D^{-\\beta}` on the
curve :math:`6ND = C`. The Lagrangian
:math:`\\mathcal{L} = A N^{-\\alpha} + B D^{-\\beta} + \\lambda (6ND - C)` is stationary
where :math:`\\alpha A N^{-\\alpha} = \\beta B D^{-\\beta} = 6 \\lambda N D`, which gives,
with :math:`s = \\alpha + \\beta` and :math:`G = (\\alpha A / \\beta B)^{1/s}`,

.. math::

    N^* = G \\, (C/6)^{\\beta/s}, \\qquad
    D^* = G^{-1} (C/6)^{\\alpha/s}, \\qquad
    \\mathrm{tpr}^* = \\frac{D^*}{N^*} = G^{-2} (C/6)^{(\\alpha-\\beta)/s},

the form of the loss-optimal allocation of Hoffmann et al. (2022), here for
one benchmark's accuracy. The optimal ratio grows with compute when
:math:`\\alpha > \\beta` and shrinks when :math:`\\alpha < \\beta`.

Everything is computed in the fit's centred parametrisation
(:attr:`~scalelib.laws.ratio_law.RatioLawFit.reference_parameters`), which is the same
formula with N, D and C measured in units of the reference point; the uncertainty of
the optimum comes from the delta method on that parametrisation's covariance, or from
a seeded bootstrap over runs (:func:`bootstrap_optimal_ratio`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.optimize import brentq, minimize_scalar

from scalelib.data.normalise import REFERENCE_COMPUTE, ScalingDataError
from scalelib.laws.ratio_law import (
    REFERENCE_PARAMS,
    RatioLawFit,
    fit_ratio_law_to_rows,
)

CONFIDENCE_Z = 1.959963984540054
"""Standard normal quantile of a two-sided 95% interval."""


def _log_optimal_params_centred(parameters: np.ndarray, compute: ArrayLike) -> np.ndarray:
    """``log(N* / N_ref) = (log(alpha A_ref / (beta B_ref)) + beta log(C / C_ref)) / (alpha + beta)``."""
    log_A_ref, alpha, log_B_ref, beta = parameters
    if alpha <= 0 or beta <= 0:
        raise ScalingDataError(
            f"No compute-optimal allocation: exponents alpha = {alpha:.3g} and beta = {beta:.3g} "
            "must both be positive (a zero exponent means that term never decreases)."
        )
    log_compute = np.log(np.asarray(compute, dtype=float) / REFERENCE_COMPUTE)
    return (np.log(alpha / beta) + log_A_ref - log_B_ref + beta * log_compute) / (alpha + beta)


def optimal_params(fit: RatioLawFit, compute: ArrayLike) -> np.ndarray:
    """Compute-optimal parameters ``N* = G (C/6)^(beta / (alpha + beta))`` at budget C (FLOPs)."""
    return REFERENCE_PARAMS * np.exp(_log_optimal_params_centred(fit.reference_parameters, compute))


def optimal_tokens(fit: RatioLawFit, compute: ArrayLike) -> np.ndarray:
    """Compute-optimal tokens ``D* = C / (6 N*) = G^(-1) (C/6)^(alpha / (alpha + beta))``."""
    return np.asarray(compute, dtype=float) / (6.0 * optimal_params(fit, compute))


def optimal_ratio(fit: RatioLawFit, compute: ArrayLike) -> np.ndarray:
    """Compute-optimal tokens per parameter ``D* / N* = G^(-2) (C/6)^((alpha - beta) / (alpha + beta))``."""
    return optimal_tokens(fit, compute) / optimal_params(fit, compute)


def ratio_growth_exponent(fit: RatioLawFit) -> float:
    """Exponent of ``tpr* ~ C^((alpha - beta) / (alpha + beta))``: how the optimal ratio moves with compute."""
    return (fit.alpha - fit.beta) / (fit.alpha + fit.beta)


def optimal_log_ratio_gradient(fit: RatioLawFit, compute: float) -> np.ndarray:
    """Gradient of ``log tpr*`` at budget C with respect to ``(log A_ref, alpha, log B_ref, beta)``.

    ``log tpr* = log(D_ref / N_ref) + k - 2 log(N* / N_ref)`` with ``k = log(C / C_ref)``
    and ``log(N* / N_ref) = (L + beta k) / s``, ``L = log(alpha / beta) + log A_ref -
    log B_ref``, ``s = alpha + beta``; so the gradient is ``-2`` times
    ``(1/s, 1/(alpha s) - (L + beta k)/s^2, -1/s, -1/(beta s) - (L - alpha k)/s^2)``.
    """
    log_A_ref, alpha, log_B_ref, beta = fit.reference_parameters
    s = alpha + beta
    k = np.log(compute / REFERENCE_COMPUTE)
    L = np.log(alpha / beta) + log_A_ref - log_B_ref
    gradient_log_params = np.array([
        1.0 / s,
        1.0 / (alpha * s) - (L + beta * k) / s**2,
        -1.0 / s,
        -1.0 / (beta * s) - (L - alpha * k) / s**2,
    ])
    return -2.0 * gradient_log_params


def optimal_log_ratio_stderr(fit: RatioLawFit, compute: float) -> float:
    """Delta-method standard error of ``log tpr*`` at budget C: ``sqrt(g^T cov g)``.

    ``g`` is :func:`optimal_log_ratio_gradient` and ``cov`` the fit's
    ``reference_covariance``. Inherits the approximations of the fit's covariance
    (no Huber weighting, local linearity); NaN when that covariance is NaN.
    """
    gradient = optimal_log_ratio_gradient(fit, compute)
    return float(np.sqrt(gradient @ fit.reference_covariance @ gradient))


def numerical_optimum(fit: RatioLawFit, compute: float) -> tuple[float, float]:
    """The optimum found numerically, to check the closed form: ``(N*, D*)`` at budget C.

    Minimises ``-log Q(N, C / (6N))`` over ``log N`` with ``scipy.optimize.minimize_scalar``
    (bounded Brent, tolerance 1e-10), within six decades either side of the tpr-20
    allocation, so that the search does not depend on the closed form it checks.
    """
    def neg_log_q_at(log_params: float) -> float:
        params = np.exp(log_params)
        return float(fit.neg_log_q(params, compute / (6.0 * params))[0])

    centre = np.log(allocation_at_ratio(compute, 20.0)[0])
    result = minimize_scalar(
        neg_log_q_at, bounds=(centre - 6 * np.log(10), centre + 6 * np.log(10)),
        method="bounded", options={"xatol": 1e-10},
    )
    params = float(np.exp(result.x))
    return params, compute / (6.0 * params)


def allocation_at_ratio(compute: ArrayLike, tpr: float) -> tuple[np.ndarray, np.ndarray]:
    """``(N, D)`` that spend budget C at ratio ``tpr = D / N``: ``N = sqrt(C / (6 tpr))``, ``D = tpr N``."""
    params = np.sqrt(np.asarray(compute, dtype=float) / (6.0 * tpr))
    return params, tpr * params


def runs_along_ratios(compute: ArrayLike, tprs: Sequence[float]) -> pd.DataFrame:
    """Hypothetical runs spending each budget of ``compute`` at each ratio, for forecasts along a ratio.

    Returns
    -------
    pandas.DataFrame
        One row per (ratio, budget), ratios in the order given: columns ``tpr``,
        ``flops`` (C), ``params`` (N) and ``tokens`` (D) from :func:`allocation_at_ratio`,
        the columns the laws of the ratio chapter predict from (Eq. 4 reads N and D,
        Eq. 2 per ratio reads C and the ratio).
    """
    compute = np.atleast_1d(np.asarray(compute, dtype=float))
    frames = []
    for tpr in tprs:
        params, tokens = allocation_at_ratio(compute, tpr)
        frames.append(pd.DataFrame({"tpr": float(tpr), "flops": compute, "params": params, "tokens": tokens}))
    return pd.concat(frames, ignore_index=True)


def compute_to_match_optimum(fit: RatioLawFit, compute: float, tpr: float) -> float:
    """Budget C' needed at ratio ``tpr`` to reach the accuracy of the optimal allocation of C.

    Solves ``-log Q(allocation_at_ratio(C', tpr)) = -log Q(N*(C), D*(C))`` for C' with
    ``scipy.optimize.brentq`` (``-log Q`` falls monotonically with C' at a fixed ratio).
    ``C' / C >= 1`` is the price, in training compute, of training at ``tpr`` instead
    of the optimal ratio.
    """
    target = fit.neg_log_q(optimal_params(fit, compute), optimal_tokens(fit, compute))[0]

    def gap(log_compute: float) -> float:
        return float(fit.neg_log_q(*allocation_at_ratio(np.exp(log_compute), tpr))[0] - target)

    log_compute = np.log(compute)
    return float(np.exp(brentq(gap, log_compute - np.log(10), log_compute + 12 * np.log(10), xtol=1e-12)))


def compute_optimal_table(fits: dict[tuple[str, str], RatioLawFit], compute: float) -> pd.DataFrame:
    """The compute-optimal allocation of budget C for each fit, with a 95% interval on tpr*.

    Returns
    -------
    pandas.DataFrame
        Indexed by (mixture, benchmark): ``params`` (N*), ``tokens`` (D*), ``tpr``
        (tpr*), ``tpr_low``, ``tpr_high`` (delta-method 95% interval,
        ``tpr* exp(-/+ 1.96 se(log tpr*))``), ``growth_exponent`` (of tpr* in C) and
        ``accuracy`` predicted at the optimum.
    """
    rows = []
    for (mixture, benchmark), fit in fits.items():
        params, tokens = optimal_params(fit, compute), optimal_tokens(fit, compute)
        ratio = tokens / params
        half_width = CONFIDENCE_Z * optimal_log_ratio_stderr(fit, compute)
        rows.append({
            "mixture": mixture, "benchmark": benchmark,
            "params": float(params), "tokens": float(tokens), "tpr": float(ratio),
            "tpr_low": float(ratio * np.exp(-half_width)), "tpr_high": float(ratio * np.exp(half_width)),
            "growth_exponent": ratio_growth_exponent(fit),
            "accuracy": float(fit.predict(params, tokens)[0]),
        })
    return pd.DataFrame(rows).set_index(["mixture", "benchmark"])


def bootstrap_optimal_ratio(
    rows: pd.DataFrame, compute: float, *, n_resamples: int = 100, seed: int = 0
) -> np.ndarray:
    """tpr* at budget C from Eq. 4 refitted to runs resampled with replacement.

    Parameters
    ----------
    rows
        One benchmark's rows (columns ``run, params, tokens, value, chance``), above chance.
    compute
        Budget C in FLOPs.
    n_resamples
        Number of bootstrap resamples.
    seed
        Seed of ``numpy.random.default_rng``; the result is deterministic given it.

    Returns
    -------
    numpy.ndarray
        ``n_resamples`` values of tpr*; NaN for a resample the law refuses (for
        example one whose exponents hit zero).
    """
    generator = np.random.default_rng(seed)
    ratios = np.full(n_resamples, np.nan)
    for i in range(n_resamples):
        resample = rows.iloc[generator.integers(0, len(rows), len(rows))]
        try:
            ratios[i] = optimal_ratio(fit_ratio_law_to_rows(resample), compute)
        except ScalingDataError:
            continue
    return ratios


def overtraining_price(fit: RatioLawFit, compute: float, tprs: Sequence[float]) -> pd.DataFrame:
    r"""What training at each ratio costs, against the compute-optimal run of budget C.

    For each ratio, the training compute C' that matches the accuracy of the optimal
    allocation of C (:func:`compute_to_match_optimum`), the size of that model
    relative to N*, and the inference volume after which the smaller model has paid
    for its extra training. Generating a token costs about 2N FLOPs, so with
    ``k = C'/C`` the break-even, in units of the optimal run's training tokens D*, is

    .. math::

        \frac{T}{D^*} = \frac{(k - 1)\, 6 N^* D^*}{2 (N^* - N)\, D^*}
                       = \frac{3 (k - 1)}{1 - N/N^*},

    defined only where the model is smaller (``N < N*``); NaN otherwise.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``tpr``: ``compute_multiple`` (C'/C), ``size_multiple`` (N/N*)
        and ``break_even_tokens`` (T/D*).
    """
    if compute <= 0 or not np.isfinite(compute):
        raise ScalingDataError(f"the budget must be a positive, finite number of FLOPs, got {compute!r}")
    best_params = float(np.ravel(optimal_params(fit, compute))[0])
    rows = []
    for tpr in tprs:
        if tpr <= 0:
            raise ScalingDataError(f"ratios must be positive, got {tpr!r}")
        multiple = compute_to_match_optimum(fit, compute, tpr) / compute
        size = float(np.ravel(allocation_at_ratio(multiple * compute, tpr)[0])[0]) / best_params
        rows.append({
            "tpr": float(tpr), "compute_multiple": multiple, "size_multiple": size,
            "break_even_tokens": 3 * (multiple - 1) / (1 - size) if size < 1 else np.nan,
        })
    return pd.DataFrame(rows).set_index("tpr")

