"""pass@k: the unbiased estimator, the released pass@k frame, Eq. 5 and the compute trade-off.

A code benchmark is scored by running each generated program against unit tests.
With :math:`n` samples per problem of which :math:`c` pass, the unbiased estimator of
pass@k, the probability that at least one of :math:`k` samples passes, is
(Chen et al., 2021)

.. math::

    \\widehat{\\text{pass@}k} = \\mathop{\\mathbb{E}}_{\\text{problems}}
    \\left[1 - \\binom{n - c}{k} \\Big/ \\binom{n}{k}\\right].

Krajewski et al. (2025) model its dependence on training compute :math:`C` and on
:math:`k` jointly (their Eq. 5), with :math:`Q = \\text{pass@}k` (chance is 0):

.. math::

    \\log(-\\log Q(C, k)) = \\log A + \\alpha \\log C + \\beta \\log k
    + \\delta \\log C \\log k,

linear in its four parameters, so it is fitted by (optionally weighted) least squares
in closed form. Its slopes are the compute exponent :math:`\\alpha + \\delta \\log k`
and the k exponent :math:`\\beta + \\delta \\log C`; both come out negative on the
released data (more compute and more samples both lower :math:`-\\log Q`), while
:math:`\\beta` alone, the k exponent at C = 1 FLOP, can have either sign.

This module holds

* :func:`pass_at_k` and :func:`mean_pass_at_k` -- the estimator, for readers who bring
  raw samples; :func:`estimator_bound_violations` -- two inequalities every value the
  estimator produces must satisfy, used to audit released values;
* :func:`load_pass_at_k` -- the released pass@k values as a tidy frame with a ``k``
  column, with broken evaluations and exact zeros excluded and returned with a reason;
* :func:`fit_pass_at_k_law` (Eq. 5, with classical or run-clustered standard errors),
  :func:`fit_pass_at_k_by_benchmark` and :func:`pass_at_k_forecaster` (a
  :data:`~scalelib.backtest.Fitter` for :func:`~scalelib.backtest.backtest` and
  :func:`~scalelib.backtest.backtest_split`); :func:`coverage_by_run` -- how the
  interval misses of a backtest with intervals group by run;
* the trade-off between training and sampling: :func:`params_at_compute`,
  :func:`inference_flops`, :func:`iso_pass_at_k` and :func:`break_even_problems`.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from scalelib.backtest import Fitter, Predictor
from scalelib.benchmark_info import BENCHMARKS, get_benchmark
from scalelib.data import load_results
from scalelib.interfaces import Law, centred_log_compute
from scalelib.normalise import (
    REFERENCE_COMPUTE,
    ScalingDataError,
    covariance_from_jacobian,
    log_compute_offset,
    validate_law_inputs,
)
from scalelib.validation import as_numbers, check_compute

__all__ = [
    "CODE_BENCHMARKS",
    "pass_at_k",
    "mean_pass_at_k",
    "estimator_bound_violations",
    "load_pass_at_k",
    "coverage_table",
    "PassAtKLawFit",
    "pass_at_k_law_log_neg_log_q",
    "pass_at_k_law_inputs",
    "pass_at_k_law_log_residuals",
    "pass_at_k_law_log_residuals_jacobian",
    "pass_at_k_law_bounds",
    "fit_pass_at_k_law",
    "fit_pass_at_k_by_benchmark",
    "pass_at_k_forecaster",
    "coverage_by_run",
    "params_at_compute",
    "inference_flops",
    "iso_pass_at_k",
    "break_even_problems",
    "PASS_AT_K_LAW",
]

CODE_BENCHMARKS: tuple[str, ...] = tuple(name for name, b in BENCHMARKS.items() if b.task_type == "code")
"""The benchmarks released with pass@k (HumanEval, MBPP, LBPP)."""

N_PARAMETERS = 4
PARAMETER_NAMES = ("log_A", "alpha", "beta", "delta")

MAX_SAMPLES = 10**6
"""Most samples per problem :func:`pass_at_k` takes: its exact product form tabulates one
factor per sample (8 MB at this size); larger counts are refused, not left to overflow."""


def _book_order(column: pd.Series) -> pd.Series:
    """Sort key putting a ``benchmark`` column in the book's order; other columns as they are."""
    order = {name: i for i, name in enumerate(BENCHMARKS)}
    return column.map(order) if column.name == "benchmark" else column


# --------------------------------------------------------------------------- estimator


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
        Rows of :func:`scalelib.data.load_results` (or :func:`load_pass_at_k`) with
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


# --------------------------------------------------------------------------- data


def load_pass_at_k(
    mixture: str | Iterable[str] | None = None,
    *,
    tpr: float | None = 20,
    benchmarks: Iterable[str] = CODE_BENCHMARKS,
    data_dir: Path | str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The released pass@k values, one row per (run, benchmark, k), split into fittable and excluded.

    Two kinds of rows cannot enter Eq. 5 and are excluded, in the open:

    * ``"broken evaluation"`` -- every k of a (run, benchmark) flagged ``broken_eval``
      by :mod:`scalelib.data` (pass@1 < 1 but pass@k = 1 for every k >= 2: values the
      unbiased estimator cannot produce, see :func:`estimator_bound_violations`);
    * ``"exact zero"`` -- pass@k = 0 (no sample of any problem passed):
      ``log(-log Q)`` is undefined there. Zeros are excluded row by row; by the
      estimator a run is at zero for every k or for none (see :func:`coverage_table`).

    Parameters
    ----------
    mixture
        ``"dclm"``, ``"c4"``, a list of them, or None for both.
    tpr
        Keep runs of this nominal tokens-per-parameter ratio; None keeps every ratio.
    benchmarks
        Code benchmarks to keep (default: all three).
    data_dir
        Folder with the released files (default: the book's ``data/``).

    Returns
    -------
    kept, excluded : pandas.DataFrame
        Columns ``mixture, run, params, tokens, tpr, flops, benchmark, metric, k,
        value, chance, n_items``, sorted by mixture, benchmark, compute and k;
        ``excluded`` has the same columns plus ``reason``.
    """
    names = [get_benchmark(name).name for name in benchmarks]
    not_code = [name for name in names if name not in CODE_BENCHMARKS]
    if not_code:
        raise ValueError(f"{not_code} release no pass@k; code benchmarks are {list(CODE_BENCHMARKS)}")
    results = load_results(mixture, data_dir=data_dir)
    rows = results[results["benchmark"].isin(names) & results["metric"].str.startswith("pass@")]
    if tpr is not None:
        available = sorted(rows["tpr"].unique())
        if tpr not in available:
            raise ValueError(f"no pass@k at tpr={tpr:g}; released ratios: {[f'{t:g}' for t in available]}")
        rows = rows[rows["tpr"] == tpr]
    rows = rows.assign(
        k=_k_column,
        chance=rows["benchmark"].map(lambda b: BENCHMARKS[b].chance),
        n_items=rows["benchmark"].map(lambda b: BENCHMARKS[b].n_items),
    )
    rows = rows.sort_values(["mixture", "benchmark", "flops", "k"], key=_book_order)
    reason = pd.Series(
        np.select([rows["broken_eval"], rows["value"] == 0], ["broken evaluation", "exact zero"], ""),
        index=rows.index,
    )
    columns = [
        "mixture", "run", "params", "tokens", "tpr", "flops", "benchmark", "metric", "k",
        "value", "chance", "n_items",
    ]
    kept = rows.loc[reason == "", columns].reset_index(drop=True)
    excluded = rows.loc[reason != "", columns].assign(reason=reason[reason != ""]).reset_index(drop=True)
    return kept, excluded


def coverage_table(kept: pd.DataFrame, excluded: pd.DataFrame) -> pd.DataFrame:
    """How many runs of each (mixture, tpr, benchmark) clear zero: the data Eq. 5 can use.

    By the estimator, pass@1 = mean(c / n) is above zero exactly when some sample of
    some problem passed, and then so is pass@k for every k: a run is at zero for all
    k or for none.

    Parameters
    ----------
    kept, excluded
        The two frames returned by :func:`load_pass_at_k`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(mixture, tpr, benchmark)`` in the book's order, with ``runs``
        (released with pass@k), ``broken_evaluations`` (runs excluded as broken),
        ``runs_above_zero`` (runs with kept rows) and the best kept ``pass@1`` and
        ``pass@<largest k>``.
    """
    keys = ["mixture", "tpr", "benchmark"]
    everything = pd.concat([kept, excluded], ignore_index=True)
    broken = excluded[excluded["reason"] == "broken evaluation"]
    largest_k = int(everything["k"].max())
    table = pd.DataFrame({
        "runs": everything.groupby(keys)["run"].nunique(),
        "broken_evaluations": broken.groupby(keys)["run"].nunique(),
        "runs_above_zero": kept.groupby(keys)["run"].nunique(),
    }).fillna(0).astype(int)
    for k in (1, largest_k):
        table[f"best_pass@{k}"] = kept[kept["k"] == k].groupby(keys)["value"].max()
    table = table.fillna({"best_pass@1": 0.0, f"best_pass@{largest_k}": 0.0})
    return table.sort_index(key=_book_order)


# --------------------------------------------------------------------------- Eq. 5


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
    compute centred at :data:`~scalelib.normalise.REFERENCE_COMPUTE`, as it is fitted.
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
        Parameters of Eq. 5 in the paper's convention (C in FLOPs, k a count).
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

        Raises :class:`~scalelib.normalise.ScalingDataError` for compute that is not a
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
    :data:`~scalelib.normalise.REFERENCE_COMPUTE` (well conditioned) and the result is
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


def _fit_rows(
    rows: pd.DataFrame, *, weight_by_n_items: bool, cluster_by_run: bool, compute_column: str = "flops"
) -> PassAtKLawFit:
    """Fit Eq. 5 to one benchmark's rows of :func:`load_pass_at_k`."""
    chance_levels = rows["chance"].unique()
    if len(chance_levels) != 1 or chance_levels[0] != 0:
        raise ScalingDataError(
            f"Eq. 5 models pass@k of open-answer tasks (chance 0); got chance levels {sorted(chance_levels)}."
        )
    return fit_pass_at_k_law(
        rows[compute_column].to_numpy(),
        rows["k"].to_numpy(),
        rows["value"].to_numpy(),
        n_items=rows["n_items"].to_numpy() if weight_by_n_items else None,
        clusters=rows["run"].to_numpy() if cluster_by_run else None,
        labels=[f"{run} pass@{k}" for run, k in zip(rows["run"], rows["k"])],
    )


def fit_pass_at_k_by_benchmark(
    frame: pd.DataFrame, *, weight_by_n_items: bool = False, cluster_by_run: bool = True
) -> tuple[dict[tuple[str, str], PassAtKLawFit], pd.DataFrame]:
    """Fit Eq. 5 to each (mixture, benchmark) of a :func:`load_pass_at_k` frame.

    Parameters
    ----------
    frame
        The ``kept`` frame of :func:`load_pass_at_k`, at a single tokens-per-parameter
        ratio (Eq. 5 is a law at fixed ratio).
    weight_by_n_items, cluster_by_run
        Passed to :func:`fit_pass_at_k_law` as ``n_items`` (the frame's column) and
        ``clusters`` (the frame's runs).

    Returns
    -------
    fits, refused
        As :func:`scalelib.per_benchmark.fit_law_by_benchmark`: fits keyed by
        ``(mixture, benchmark)`` (tabulate them with
        :func:`scalelib.per_benchmark.parameter_table`) and the refused groups with
        their reason.
    """
    ratios = frame["tpr"].unique()
    if len(ratios) > 1:
        raise ValueError(f"Eq. 5 is fitted at one tokens-per-parameter ratio; the frame has {sorted(ratios)}.")
    fits, refused = {}, []
    for (mixture, benchmark), rows in frame.groupby(["mixture", "benchmark"], sort=False):
        try:
            fits[(mixture, benchmark)] = _fit_rows(
                rows, weight_by_n_items=weight_by_n_items, cluster_by_run=cluster_by_run
            )
        except ScalingDataError as error:
            refused.append({"mixture": mixture, "benchmark": benchmark, "reason": str(error)})
    return fits, pd.DataFrame(refused, columns=["mixture", "benchmark", "reason"])


def pass_at_k_forecaster(*, weight_by_n_items: bool = False, compute_column: str = "flops") -> Fitter:
    """A :data:`~scalelib.backtest.Fitter` fitting Eq. 5 to one benchmark's rows (all k at once).

    Use it with :func:`scalelib.backtest.backtest` to hold out the largest runs, or
    with :func:`scalelib.backtest.backtest_split` to hold out the largest k. Rows need
    the columns of :func:`load_pass_at_k` (``flops``, ``k``, ``value``, ``chance``,
    ``run``, ``n_items``); the predictor returns pass@k at each row's compute and k.
    Only point predictions are used here, so the standard errors are classical.
    ``compute_column`` names the compute column (default ``flops``).
    """

    def fit(training_rows: pd.DataFrame) -> Predictor:
        result = _fit_rows(
            training_rows, weight_by_n_items=weight_by_n_items, cluster_by_run=False, compute_column=compute_column
        )
        return lambda rows: result.predict(rows[compute_column].to_numpy(), rows["k"].to_numpy())

    return fit


def _fitted_parameters(fit: PassAtKLawFit) -> np.ndarray:
    """``(a, alpha, b, delta)`` of a fit: compute centred at :data:`~scalelib.normalise.REFERENCE_COMPUTE`."""
    log_reference = np.log(REFERENCE_COMPUTE)
    return np.array([fit.log_A + fit.alpha * log_reference, fit.alpha, fit.beta + fit.delta * log_reference, fit.delta])


def _fit_law_rows(rows: pd.DataFrame, compute_column: str) -> PassAtKLawFit:
    """Eq. 5 on one benchmark's rows, unweighted and with classical errors (the Law's ``fit_rows``)."""
    return _fit_rows(rows, weight_by_n_items=False, cluster_by_run=False, compute_column=compute_column)


PASS_AT_K_LAW = Law(
    name="passk",
    title="Eq. 5",
    description="Eq. 5, log(-log pass@k) = log A + alpha log C + beta log k + delta log C log k",
    equation="log(-log pass@k) = log A + alpha log C + beta log k + delta log C log k",
    latex=r"\log(-\log Q) = \log A + \alpha \log C + \beta \log k + \delta \log C \log k",
    columns=("flops", "k"),
    n_parameters=N_PARAMETERS,
    min_runs=N_PARAMETERS + 1,
    inputs=pass_at_k_law_inputs,
    neg_log_q=_centred_neg_log_q,
    residuals=pass_at_k_law_log_residuals,
    jacobian=pass_at_k_law_log_residuals_jacobian,
    bounds=pass_at_k_law_bounds,
    fit=fit_pass_at_k_law,
    fit_rows=_fit_law_rows,
    parameters=_fitted_parameters,
    forecaster=pass_at_k_forecaster,
)
"""Eq. 5 as a :class:`~scalelib.interfaces.Law`: linear in its parameters, least squares in closed form
(its analytic interval is :func:`scalelib.intervals.pass_at_k_interval_fitter`)."""


def coverage_by_run(result: pd.DataFrame) -> pd.DataFrame:
    """Whether a backtest's intervals miss whole runs or single values of k.

    The held-out pass@k values of one run come from the same samples, so whether they
    fall inside their intervals is strongly correlated across k: the number of
    independent checks of coverage is nearer the number of held-out runs than the
    number of held-out values. This table counts, per split and benchmark, the runs
    whose held-out values are all inside their interval, some of them, or none.

    Parameters
    ----------
    result
        Output of :func:`scalelib.intervals.backtest_split_intervals` (or
        :func:`~scalelib.intervals.backtest_intervals`) on pass@k rows, several
        concatenated if wished; columns ``split, benchmark, run, status, covered``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(split, benchmark)``, benchmarks in the book's order: ``held_out_runs``,
        ``covered_at_every_k``, ``covered_at_some_k``, ``covered_at_no_k`` and
        ``coverage`` (share of the held-out values covered, as
        :func:`scalelib.intervals.summarise_intervals`).
    """
    fitted = result[result["status"] == "ok"].astype({"covered": bool})
    share_by_run = fitted.groupby(["split", "benchmark", "run"], sort=False)["covered"].mean()
    table = share_by_run.groupby(["split", "benchmark"], sort=False).agg(
        held_out_runs="size",
        covered_at_every_k=lambda share: int((share == 1).sum()),
        covered_at_some_k=lambda share: int(((share > 0) & (share < 1)).sum()),
        covered_at_no_k=lambda share: int((share == 0).sum()),
    )
    table["coverage"] = fitted.groupby(["split", "benchmark"], sort=False)["covered"].mean()
    return table.sort_index(key=_book_order)


# --------------------------------------------------------------------------- trade-off


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
