"""The trade-off between training and sampling: more compute, or more samples k?

Eq. 5 (:mod:`scalelib.laws.pass_at_k_law`) says how much training compute reaches a target
pass@k at each k; these helpers price the samples:

* :func:`params_at_compute` and :func:`inference_flops` -- the cost of sampling;
* :func:`iso_pass_at_k` -- training and inference compute along a curve of equal pass@k;
* :func:`break_even_problems` -- how many problems repay the larger model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from scalelib.laws.pass_at_k_law import PassAtKLawFit

__all__ = ["params_at_compute", "inference_flops", "iso_pass_at_k", "break_even_problems"]


def params_at_compute(compute: ArrayLike, *, tpr: float) -> np.ndarray:
    """Model size N trained with compute C at ``D = tpr N`` tokens: ``C = 6 N D`` gives ``N = sqrt(C / (6 tpr))``."""
    return np.sqrt(np.asarray(compute, dtype=float) / (6.0 * tpr))


def inference_flops(
    params: ArrayLike, *, k: ArrayLike, tokens_per_sample: float, n_problems: float
) -> np.ndarray:
    """FLOPs of sampling k solutions to each of ``n_problems`` problems: ``2 N x tokens_per_sample x k x n_problems``.

    A forward pass costs about 2N FLOPs per token (Kaplan et al., 2020); only generated
    tokens are counted (the prompt is processed once per problem and shared by the k
    samples, a small extra cost ignored here).
    """
    return 2.0 * np.asarray(params, dtype=float) * tokens_per_sample * np.asarray(k, dtype=float) * n_problems


def iso_pass_at_k(
    fit: PassAtKLawFit,
    target: float,
    k: ArrayLike,
    *,
    tpr: float,
    tokens_per_sample: float,
    n_problems: float,
) -> pd.DataFrame:
    """The ways to reach pass@k = ``target``: for each k, the training run needed and the total cost.

    Along the iso-pass@k curve of Eq. 5, each k needs training compute
    ``C(k) = fit.compute_needed(target, k)``, a model of ``N = sqrt(C / (6 tpr))``
    parameters, and inference ``2 N x tokens_per_sample x k x n_problems`` FLOPs.

    Parameters
    ----------
    fit
        A fitted Eq. 5.
    target
        The pass@k to reach, in (0, 1).
    k
        Numbers of samples to consider.
    tpr
        Tokens per parameter of the training recipe (the ratio Eq. 5 was fitted at).
    tokens_per_sample
        Assumed generated tokens per sample (a solution's length).
    n_problems
        Problems the model will be asked to solve over its use (the inference volume).

    Returns
    -------
    pandas.DataFrame
        One row per k: ``k, training_flops, params, inference_flops, total_flops`` and
        ``extrapolated`` (True where C(k) lies outside the fitted compute range).
    """
    k = np.asarray(k, dtype=float)
    training = fit.compute_needed(target, k)
    params = params_at_compute(training, tpr=tpr)
    inference = inference_flops(params, k=k, tokens_per_sample=tokens_per_sample, n_problems=n_problems)
    low, high = fit.compute_range
    return pd.DataFrame({
        "k": k,
        "training_flops": training,
        "params": params,
        "inference_flops": inference,
        "total_flops": training + inference,
        "extrapolated": ~((training >= low) & (training <= high)),
    })


def break_even_problems(
    fit: PassAtKLawFit, target: float, k: ArrayLike, *, tpr: float, tokens_per_sample: float
) -> np.ndarray:
    """Inference volume above which training a bigger model beats doubling k from ``k`` to ``2k``.

    At fixed ``target``, sampling ``2k`` instead of ``k`` saves training compute
    ``C(k) - C(2k)`` but costs ``2 x tokens_per_sample x (2k N(2k) - k N(k))`` more FLOPs
    per problem. The two are equal at

    .. math::

        P^* = \\frac{C(k) - C(2k)}{2 T \\,[2k\\,N(2k) - k\\,N(k)]};

    for more than :math:`P^*` problems, staying at ``k`` and training the bigger model
    is cheaper in total compute. NaN where the law gives no finite C(k) or C(2k), or
    where doubling k does not add inference cost.
    """
    k = np.asarray(k, dtype=float)
    compute_k, compute_2k = fit.compute_needed(target, k), fit.compute_needed(target, 2 * k)
    extra_per_problem = inference_flops(
        params_at_compute(compute_2k, tpr=tpr), k=2 * k, tokens_per_sample=tokens_per_sample, n_problems=1
    ) - inference_flops(params_at_compute(compute_k, tpr=tpr), k=k, tokens_per_sample=tokens_per_sample, n_problems=1)
    saving = compute_k - compute_2k
    adds_cost = extra_per_problem > 0
    return np.where(adds_cost, saving / np.where(adds_cost, extra_per_problem, 1.0), np.nan)
