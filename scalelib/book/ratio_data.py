"""The data of the ratio chapter: DCLM runs at five tokens-per-parameter ratios.

Chapter 4 is read in three parts (Eq. 4 and its backtests; prediction intervals;
compute-optimal training). Each part starts from the same points, prepared here once
so that no part copies another's code:

- :func:`ratio_benchmarks`: the headline benchmarks evaluated at more than one ratio
  (MATH was evaluated at ratio 20 only, so it cannot enter a fit across ratios);
- :func:`dclm_ratio_points`: their DCLM scores at every ratio, split into the points
  above chance (which Eq. 4 can fit: it models :math:`-\\log Q`, undefined at or below
  chance) and those at or below it;
- :func:`fit_dclm_ratio_laws`: Eq. 4, :math:`-\\log Q = A N^{-\\alpha} + B D^{-\\beta}`,
  fitted to each benchmark, in the book's benchmark order;
- :func:`well_described`: the benchmarks Eq. 4 follows to within
  :data:`WELL_DESCRIBED_RMSE_POINTS` in sample;
- :func:`rescale_estimated_params`: the sensitivity scenarios for the parameter counts
  the release only estimates (:math:`N = D/\\text{tpr}` off ratio 20).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scalelib.data import released as data
from scalelib.data.benchmark_info import HEADLINE_BENCHMARKS
from scalelib.book.compute_cuts import RATIO_CUT
from scalelib.data.normalise import ScalingDataError, drop_at_or_below_chance
from scalelib.laws.ratio_law import RatioLawFit, fit_ratio_law_by_benchmark

__all__ = [
    "COMPUTE_CUT",
    "WELL_DESCRIBED_RMSE_POINTS",
    "dclm_ratio_points",
    "fit_dclm_ratio_laws",
    "ratio_benchmarks",
    "rescale_estimated_params",
    "well_described",
]

COMPUTE_CUT = RATIO_CUT
"""FLOPs of the chapter's compute cut: fit the runs at or below it, forecast the larger
(:data:`scalelib.book.compute_cuts.RATIO_CUT`, 1e21)."""

WELL_DESCRIBED_RMSE_POINTS = 2.0
"""In-sample RMSE (accuracy points) below which Eq. 4 describes a benchmark well: a little
above the binomial noise of a benchmark of a thousand items at 50% accuracy (1.6 points),
well below the several points of the benchmarks no single power law follows."""


def ratio_benchmarks() -> list[str]:
    """The headline benchmarks evaluated at more than one ratio of the DCLM mixture."""
    scores = data.accuracy_frame("dclm", tpr=None, benchmarks=HEADLINE_BENCHMARKS)
    ratios = scores.groupby("benchmark")["tpr"].nunique()
    return [name for name in HEADLINE_BENCHMARKS if ratios.get(name, 0) > 1]


def dclm_ratio_points() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """DCLM scores of :func:`ratio_benchmarks` at every ratio: all, above and at/below chance.

    Returns
    -------
    scores, kept, dropped : pandas.DataFrame
        One row per (run, benchmark), as :func:`scalelib.data.released.accuracy_frame`: every
        score (the backtests score every held-out run), those strictly above chance
        (what the laws are fitted to) and the others
        (:func:`scalelib.data.normalise.drop_at_or_below_chance`).
    """
    scores = data.accuracy_frame("dclm", tpr=None, benchmarks=ratio_benchmarks())
    return (scores, *drop_at_or_below_chance(scores))


def fit_dclm_ratio_laws(kept: pd.DataFrame) -> dict[str, RatioLawFit]:
    """Eq. 4 fitted to each benchmark of ``kept`` (one mixture), keyed by benchmark.

    Raises
    ------
    ScalingDataError
        If ``kept`` holds more than one mixture (mixtures are never pooled) or Eq. 4
        refuses a benchmark (with the law's reason).
    """
    mixtures = kept["mixture"].unique()
    if len(mixtures) != 1:
        raise ScalingDataError(f"fit one mixture at a time, got {list(mixtures)}")
    fits, refused = fit_ratio_law_by_benchmark(kept)
    if len(refused):
        reasons = "; ".join(f"{row.benchmark}: {row.reason}" for row in refused.itertuples())
        raise ScalingDataError(f"Eq. 4 refused {len(refused)} benchmark(s): {reasons}")
    return {name: fit for (_, name), fit in fits.items()}


def well_described(
    fits: dict[str, RatioLawFit], *, max_rmse_points: float = WELL_DESCRIBED_RMSE_POINTS
) -> list[str]:
    """Benchmarks whose Eq. 4 fit has an in-sample RMSE below ``max_rmse_points``.

    The RMSE is over *all* runs the fit saw, so in a backtest this is a description of
    the benchmark chosen with every run in view, not a forecast: analyses that average
    over it are conditional on it.
    """
    return [name for name, fit in fits.items() if fit.rmse_points < max_rmse_points]


def rescale_estimated_params(frame: pd.DataFrame, factor_at_10: float, factor_at_160: float) -> pd.DataFrame:
    """``frame`` with N of the runs whose N is estimated (``tokens_over_tpr``) rescaled.

    The factor is log-linear in the ratio, from ``factor_at_10`` at tpr 10 to
    ``factor_at_160`` at tpr 160:
    :math:`\\log f = (1 - u) \\log f_{10} + u \\log f_{160}`,
    :math:`u = \\log(\\text{tpr}/10) / \\log 16`. Equal factors move every estimated model
    alike; unequal ones tilt the effective ratios. Runs with a measured N keep it.
    """
    if factor_at_10 <= 0 or factor_at_160 <= 0:
        raise ScalingDataError("the factors on N must be positive")
    position = np.log(frame["tpr"] / 10) / np.log(160 / 10)
    factor = np.exp((1 - position) * np.log(factor_at_10) + position * np.log(factor_at_160))
    estimated = frame["params_source"] == "tokens_over_tpr"
    return frame.assign(params=frame["params"] * factor.where(estimated, 1.0))
