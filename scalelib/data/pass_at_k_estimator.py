"""The unbiased pass@k estimator (Chen et al., 2021), and an audit of released values against it.

With :math:`n` samples per problem of which :math:`c` pass, the unbiased estimator of
pass@k, the probability that at least one of :math:`k` samples passes, is

.. math::

    \\widehat{\\text{pass@}k} = \\mathop{\\mathbb{E}}_{\\text{problems}}
    \\left[1 - \\binom{n - c}{k} \\Big/ \\binom{n}{k}\\right].

* :func:`pass_at_k` and :func:`mean_pass_at_k` -- the estimator, for readers who bring
  raw samples;
* :func:`estimator_bound_violations` -- two inequalities every value the estimator
  produces must satisfy, used to audit released values.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

__all__ = ["MAX_SAMPLES", "pass_at_k", "mean_pass_at_k", "estimator_bound_violations"]

MAX_SAMPLES = 10**6
"""Most samples per problem :func:`pass_at_k` takes: its exact product form tabulates one
factor per sample (8 MB at this size); larger counts are refused, not left to overflow."""


def _as_integers(name: str, values: ArrayLike) -> np.ndarray:
    """Whole numbers of magnitude at most :data:`MAX_SAMPLES`, as int64."""
    array = np.asarray(values)
    if array.dtype.kind == "O" and array.size and all(
        isinstance(value, numbers.Integral) and not isinstance(value, bool) for value in array.ravel()
    ):
        array = array.astype(float)  # Python integers too large for int64
    if array.dtype.kind not in "iuf" or not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
        raise ValueError(f"{name} must hold whole numbers, got {values!r}")
    too_large = np.abs(array.astype(float)) > MAX_SAMPLES
    if too_large.any():
        raise ValueError(
            f"{name} holds {int(array.ravel()[np.flatnonzero(too_large)[0]])}, more than the {MAX_SAMPLES:.0e} samples "
            "per problem the exact estimator takes (it tabulates one factor per sample)"
        )
    return array.astype(np.int64)


def _log_all_incorrect_table(n: int, k: int) -> np.ndarray:
    """``log[C(n - c, k) / C(n, k)]`` for every ``c = 0 ... n - k``, in product form.

    ``C(n - c, k) / C(n, k) = prod_{j=n-c+1}^{n} (1 - k / j)``, so the table is the
    cumulative sum of ``log1p(-k / j)`` for ``j = n, n - 1, ..., k + 1``. No binomial
    coefficient is formed (they overflow for realistic n) and the result is exact to
    rounding, where a log-gamma formula loses about 1e-8 relative for n of a few
    thousand.
    """
    return np.concatenate([[0.0], np.cumsum(np.log1p(-k / np.arange(n, k, -1)))])


def pass_at_k(n_samples: ArrayLike, n_correct: ArrayLike, k: ArrayLike) -> np.ndarray:
    """Unbiased estimator of pass@k for each problem (Chen et al., 2021).

    .. math::

        \\widehat{\\text{pass@}k} = 1 - \\binom{n - c}{k} \\Big/ \\binom{n}{k},

    the probability that a random subset of ``k`` of the ``n`` samples contains at
    least one of the ``c`` correct ones. It is 1 when ``n - c < k`` (every subset holds
    a correct sample), 0 when ``c = 0``, and ``c / n`` for ``k = 1``. Computed in
    product form (see :func:`_log_all_incorrect_table`), exact to rounding for any
    ``n``, vectorised over problems sharing the same ``n`` and ``k``.

    Parameters
    ----------
    n_samples, n_correct, k
        Whole numbers, broadcast against each other: samples drawn per problem,
        samples that passed, and the number of attempts ``k``.

    Returns
    -------
    numpy.ndarray
        pass@k per problem, in [0, 1], with the broadcast shape.

    Raises
    ------
    ValueError
        For non-integer inputs, ``n < 1``, ``k < 1``, ``c`` outside ``[0, n]``,
        ``k > n`` (pass@k cannot be estimated from fewer than ``k`` samples), or
        counts above :data:`MAX_SAMPLES`.
    """
    n, c, k = np.broadcast_arrays(
        _as_integers("n_samples", n_samples), _as_integers("n_correct", n_correct), _as_integers("k", k)
    )
    checks = [
        (n < 1, "n_samples must be >= 1"),
        (k < 1, "k must be >= 1"),
        ((c < 0) | (c > n), "n_correct must lie in [0, n_samples]"),
        (k > n, "k > n_samples: pass@k cannot be estimated from fewer than k samples"),
    ]
    for bad, message in checks:
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{message}; first offending entry at index {first}: "
                             f"n_samples={n[first]}, n_correct={c[first]}, k={k[first]}")
    result = np.where(c == 0, 0.0, 1.0)
    in_between = (c > 0) & (n - c >= k)
    for n_value, k_value in np.unique(np.stack([n[in_between], k[in_between]], axis=1), axis=0):
        members = in_between & (n == n_value) & (k == k_value)
        result[members] = -np.expm1(_log_all_incorrect_table(int(n_value), int(k_value))[c[members]])
    return result


def mean_pass_at_k(n_samples: ArrayLike, n_correct: ArrayLike, k: int) -> float:
    """pass@k of a benchmark: :func:`pass_at_k` averaged over its problems.

    ``n_samples`` and ``n_correct`` hold one entry per problem (``n_samples`` may be a
    scalar if every problem was sampled equally often). This is the value released as
    ``pass@k`` for a run. Refuses an empty list of problems (``ValueError``), whose mean
    is undefined.
    """
    values = pass_at_k(n_samples, n_correct, k)
    if values.size == 0:
        raise ValueError("mean_pass_at_k needs at least one problem; n_samples and n_correct are empty.")
    return float(np.mean(values))


def _k_column(frame: pd.DataFrame) -> pd.Series:
    return frame["metric"].str.removeprefix("pass@").astype(int)


def estimator_bound_violations(frame: pd.DataFrame, *, tolerance: float = 1e-9) -> pd.DataFrame:
    """Released pass@k values that the unbiased estimator cannot have produced.

    For every problem, hence for their average, the estimator satisfies

    * monotonicity: ``pass@k2 >= pass@k1`` for ``k2 > k1`` (a bigger subset of the
      samples is more likely to contain a correct one);
    * the union bound: ``pass@2k <= 2 pass@k`` (a subset of ``2k`` samples is two
      subsets of ``k``, each containing a correct sample with probability pass@k).

    Parameters
    ----------
    frame
        Rows of :func:`scalelib.data.released.load_results` (or :func:`load_pass_at_k`) with
        metrics ``pass@k``; columns ``mixture, run, benchmark, metric, value``.
    tolerance
        Slack for float noise in the released values.

    Returns
    -------
    pandas.DataFrame
        One row per (mixture, run, benchmark, k) that breaks a bound against the next
        released k (``k_next``), with ``value``, ``value_next`` and ``violation``
        (``"decreasing in k"`` or ``"pass@2k > 2 pass@k"``).
    """
    rows = frame[frame["metric"].str.startswith("pass@")].assign(k=_k_column)
    rows = rows.sort_values(["mixture", "run", "benchmark", "k"])
    following = rows.groupby(["mixture", "run", "benchmark"], sort=False)[["k", "value"]].shift(-1)
    pairs = rows.assign(k_next=following["k"], value_next=following["value"]).dropna(subset=["k_next"])
    pairs["k_next"] = pairs["k_next"].astype(int)
    decreasing = pairs["value_next"] < pairs["value"] - tolerance
    above_union = (pairs["k_next"] == 2 * pairs["k"]) & (pairs["value_next"] > 2 * pairs["value"] + tolerance)
    pairs["violation"] = np.where(decreasing, "decreasing in k", "pass@2k > 2 pass@k")
    columns = ["mixture", "run", "benchmark", "k", "k_next", "value", "value_next", "violation"]
    return pairs.loc[decreasing | above_union, columns].reset_index(drop=True)
