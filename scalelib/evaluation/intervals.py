"""Prediction intervals for every law's forecast, and their coverage in backtests.

A forecast of a benchmark score at a compute :math:`C_0` beyond the fitted runs is wrong
for three reasons, and an interval that is to cover the score of a *new* run (a
prediction interval, not the confidence band of the curve; lmfit draws the same
distinction) must account for all three. In the transformed space of the laws,
:math:`y = \\log(-\\log Q)`, the predictive variance is

.. math::

    \\sigma^2(C_0) = \\underbrace{\\mathrm{Var}\\,\\hat y(C_0)}_{\\text{curve}}
    + \\underbrace{s^2}_{\\text{new run's noise}}
    + \\underbrace{\\tau^2 d_0^2}_{\\text{extrapolation drift}},
    \\qquad d_0 = \\max\\left(0, \\log \\frac{C_0}{C_{\\max}}, \\log \\frac{C_{\\min}}{C_0}\\right),

1. **curve**: the parameters are estimated from finitely many noisy runs. Either the
   analytic OLS variance where the law is linear in :math:`y` (Eq. 2, Eq. 5), or a
   bootstrap over runs (resample runs with replacement, refit, predict);
2. **noise of the new run**: its score scatters about the curve as the fitted runs did.
   Either resampled residuals of the fit in :math:`y` (default; the analytic interval
   uses their variance :math:`s^2`), or the binomial evaluation noise of a benchmark of
   ``n_items`` items, :math:`\\sqrt{p (1 - p) / n}`, in accuracy;
3. **extrapolation drift**: no law is exact, and its error grows with the distance
   :math:`d_0` (in e-folds of compute) beyond the largest fitted run :math:`C_{\\max}`,
   or below the smallest :math:`C_{\\min}` (the drift is calibrated beyond, and applied
   in both directions: a law fitted above a compute says no more about it than below).
   The rate :math:`\\tau` is calibrated by *rolling-origin backtests inside the
   training runs* (:func:`estimate_drift_rate`): the law is refitted on the runs below
   several inner cuts and its errors on the runs above them are compared with what
   noise alone explains. No held-out run is used. As :math:`\\tau` rests on a handful
   of overlapping inner backtests, its term takes a Student-t quantile with
   :data:`DRIFT_DEGREES_OF_FREEDOM` degrees of freedom.

Without the third term, nominal 90% intervals cover far fewer than 90% of the
held-out runs of the released data (the laws' errors beyond the cut are mostly
systematic, not noise); ``benchmarks/run.py --coverage`` measures it.

Intervals are formed in :math:`y` and mapped back to raw accuracy, so they stay within
(chance, 1). Runs that lie exactly on the law (a flat benchmark: zero scatter) would get
an interval of zero width; their prediction band is the evaluation noise of one run,
:math:`\\sqrt{p (1 - p) / n}`, instead (it needs ``n_items``). Every interval knows the
compute range it was fitted on, and :meth:`PredictionInterval.to_frame` says where each
forecast stands: below, inside or beyond that range, and by how many e-folds.
Everything random is drawn from generators seeded by ``seed``.

The intervals live in modules of one concern each, and this module gathers their
public names (the chapters import them from here):

* :mod:`scalelib.interfaces` -- :class:`~scalelib.interfaces.PredictionInterval`, what the
  predictor of an interval forecaster returns (an :data:`~scalelib.interfaces.IntervalPredictor`;
  the backtests of :mod:`scalelib.evaluation.backtest` take it as they take point forecasts), and
  where a forecast stands relative to the fitted runs
  (:func:`~scalelib.interfaces.extrapolation_efolds`,
  :func:`~scalelib.interfaces.extrapolation_distance`, :func:`~scalelib.interfaces.range_position`);
* :mod:`scalelib.laws.interval_math` -- the transform, the defaults (:data:`LEVEL`,
  :data:`N_RESAMPLES`, :data:`DRIFT_DEGREES_OF_FREEDOM` ...), the evaluation-noise floor,
  :func:`~scalelib.laws.interval_math.resample_runs` and
  :func:`~scalelib.laws.interval_math.share_beyond_fitted_compute`;
* :mod:`scalelib.laws.direct_law_intervals` -- Eq. 2's analytic interval, its variance terms
  and its vectorised bootstrap; Eq. 5's analytic interval is in :mod:`scalelib.laws.pass_at_k_law`;
* :mod:`scalelib.laws.drift_calibration` -- the drift rate, from backtests inside the
  training runs (:func:`~scalelib.laws.drift_calibration.estimate_drift_rate`);
* :mod:`scalelib.evaluation.interval_forecasters` -- the interval forecasters
  :func:`~scalelib.evaluation.interval_forecasters.law_interval_forecaster` (any law of
  :data:`scalelib.laws.registry.LAWS`) and
  :func:`~scalelib.evaluation.interval_forecasters.bootstrap_interval_forecaster` (around any
  :data:`~scalelib.interfaces.Forecaster` of point forecasts, e.g. two-stage);
* :mod:`scalelib.evaluation.interval_backtests` -- intervals at given compute, and their
  coverage in backtests (:func:`~scalelib.evaluation.interval_backtests.summarise_intervals`).
"""

from __future__ import annotations

from scalelib.laws.direct_law_intervals import (
    direct_law_bootstrap,
    direct_law_interval,
    direct_law_variance_terms,
)
from scalelib.laws.drift_calibration import (
    ROLLING_ORIGIN_FRACTIONS,
    estimate_drift_rate,
    inner_backtest_errors,
)
from scalelib.interfaces import (
    IntervalPredictor,
    PredictionInterval,
    extrapolation_distance,
    extrapolation_efolds,
    range_position,
)
from scalelib.evaluation.interval_backtests import at_level, forecast_interval, summarise_intervals
from scalelib.evaluation.interval_forecasters import (
    bootstrap_interval_forecaster,
    bootstrap_predictions,
    law_interval_forecaster,
)
from scalelib.laws.interval_math import (
    ACCURACY_MARGIN,
    DRIFT_DEGREES_OF_FREEDOM,
    LEVEL,
    MIN_INTERVAL_RUNS,
    N_RESAMPLES,
    ZERO_SCATTER,
    Band,
    Noise,
    resample_runs,
    share_beyond_fitted_compute,
    transformed,
    untransformed,
)
from scalelib.laws.pass_at_k_law import pass_at_k_interval_forecaster, pass_at_k_law_interval

__all__ = [
    "LEVEL",
    "N_RESAMPLES",
    "ROLLING_ORIGIN_FRACTIONS",
    "DRIFT_DEGREES_OF_FREEDOM",
    "ACCURACY_MARGIN",
    "MIN_INTERVAL_RUNS",
    "ZERO_SCATTER",
    "Band",
    "Noise",
    "PredictionInterval",
    "IntervalPredictor",
    "transformed",
    "untransformed",
    "extrapolation_efolds",
    "extrapolation_distance",
    "range_position",
    "direct_law_interval",
    "pass_at_k_law_interval",
    "pass_at_k_interval_forecaster",
    "share_beyond_fitted_compute",
    "resample_runs",
    "direct_law_bootstrap",
    "bootstrap_predictions",
    "inner_backtest_errors",
    "estimate_drift_rate",
    "direct_law_variance_terms",
    "law_interval_forecaster",
    "bootstrap_interval_forecaster",
    "forecast_interval",
    "at_level",
    "summarise_intervals",
]
