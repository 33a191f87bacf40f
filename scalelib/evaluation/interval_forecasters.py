"""Interval forecasters: a law's point forecast with its prediction interval, fitted to one benchmark's runs.

An interval forecaster is a :data:`~scalelib.interfaces.Forecaster` whose predictor
returns a :class:`~scalelib.interfaces.PredictionInterval` at the forecaster's ``level``
(an :data:`~scalelib.interfaces.IntervalPredictor`), so every step of
:mod:`scalelib.evaluation.backtest` takes it as it takes a forecaster of point forecasts.

* :func:`law_interval_forecaster` -- any law of :data:`scalelib.laws.registry.LAWS`: the law's own
  analytic interval (:attr:`~scalelib.interfaces.Law.analytic_interval_forecaster`: Eq. 2,
  Eq. 5), or a bootstrap over runs, in closed form where the law has one
  (:attr:`~scalelib.interfaces.Law.bootstrap_curves`: Eq. 2), by profiling or one polish
  from the point estimate for a robust law, by refitting for any other;
* :func:`bootstrap_interval_forecaster` -- any :data:`~scalelib.interfaces.Forecaster` of
  point forecasts (e.g. two-stage), every resample refitted;
* :func:`bootstrap_predictors`, :func:`bootstrap_predictions` -- the run bootstrap of any forecaster.

Each interval adds the calibrated extrapolation drift
(:func:`scalelib.laws.drift_calibration.estimate_drift_rate`); the approach is described in
:mod:`scalelib.evaluation.intervals`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Literal

import numpy as np
import pandas as pd
from tqdm import tqdm  # plain bar: tqdm.auto warns in notebooks without ipywidgets

from scalelib.interfaces import Forecaster, Predictor, single_chance_level
from scalelib.laws.drift_calibration import estimate_drift_rate
from scalelib.interfaces import (
    IntervalPredictor,
    PredictionInterval,
    extrapolation_distance,
    rows_compute,
)
from scalelib.laws.interval_math import (
    DRIFT_DEGREES_OF_FREEDOM,
    LEVEL,
    MIN_INTERVAL_RUNS,
    N_RESAMPLES,
    Band,
    Noise,
    _check_interval_runs,
    _check_level,
    _check_option,
    _fitted_range,
    _floor_items,
    _interval_from_y,
    _lies_on_the_law,
    _rows_n_items,
    _with_evaluation_noise_floor,
    resample_runs,
    transformed,
    untransformed,
)
from scalelib.laws.registry import LAWS as REGISTERED_LAWS
from scalelib.laws.registry import Law
from scalelib.laws.registry import law as registered_law
from scalelib.data.normalise import ScalingDataError, accuracy_from_neg_log_q
from scalelib.laws.profile_fit import bootstrap_by_profile, polish_huber
from scalelib.data.validation import check_compute, check_n_items, check_resamples

__all__ = ["law_interval_forecaster", "bootstrap_interval_forecaster", "bootstrap_predictors",
           "bootstrap_predictions"]


def bootstrap_predictors(
    training_rows: pd.DataFrame,
    fit: Forecaster,
    *,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    run_column: str = "run",
    progress: bool = True,
) -> list[Predictor | None]:
    """Bootstrap over runs for any forecaster: resample runs and refit, once per resample.

    Whole runs are resampled (:func:`resample_runs` over the distinct values of
    ``run_column``, in order of appearance), so rows of one run (e.g. its pass@k at
    every k) stay together; with one row per run, the resamples are those of
    :func:`~scalelib.laws.direct_law_intervals.direct_law_bootstrap` under the same seed.
    A tqdm progress bar appears after two seconds unless ``progress=False``.

    Returns
    -------
    list
        One predictor per resample, None where the law refused the resample (a
        :class:`~scalelib.data.normalise.ScalingDataError`, e.g. a single compute value).
    """
    codes, runs = pd.factorize(training_rows[run_column])  # runs in order of appearance
    rows_of_run = [np.flatnonzero(codes == position) for position in range(len(runs))]
    predictors: list[Predictor | None] = []
    resamples = resample_runs(len(runs), n_resamples=n_resamples, seed=seed)
    for resample in tqdm(resamples, desc="bootstrap", disable=not progress, leave=False, delay=2.0):
        resampled = training_rows.iloc[np.concatenate([rows_of_run[run] for run in resample])]
        try:
            predictors.append(fit(resampled.copy()))
        except ScalingDataError:
            predictors.append(None)
    return predictors


def _predict_each(predictors: Sequence[Predictor | None], rows: pd.DataFrame) -> np.ndarray:
    """``(len(predictors), len(rows))`` predictions; NaN rows for refused resamples."""
    predictions = np.full((len(predictors), len(rows)), np.nan)
    for index, predict in enumerate(predictors):
        if predict is not None:
            predictions[index] = predict(rows.copy())
    return predictions


def bootstrap_predictions(
    training_rows: pd.DataFrame,
    rows: pd.DataFrame,
    fit: Forecaster,
    *,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    run_column: str = "run",
    progress: bool = True,
) -> np.ndarray:
    """Bootstrap over runs for any forecaster: resample runs, refit, predict ``rows``.

    The resamples and refits of :func:`bootstrap_predictors`.

    Returns
    -------
    numpy.ndarray
        ``(n_resamples, len(rows))`` predicted raw accuracy; NaN rows for resamples the
        law refused (a :class:`~scalelib.data.normalise.ScalingDataError`, e.g. a resample
        with a single compute value).
    """
    predictors = bootstrap_predictors(
        training_rows, fit, n_resamples=n_resamples, seed=seed, run_column=run_column, progress=progress
    )
    return _predict_each(predictors, rows)


def _resample_curves(
    training_rows: pd.DataFrame, fit: Forecaster, chance: float, *, n_resamples: int, seed: int, progress: bool,
) -> Callable[[pd.DataFrame], np.ndarray]:
    """Bootstrap curves in ``y``, the resamples refitted at the first call and reused by every later one.

    A refit does not depend on the rows predicted, so a forecast drawn on a grid and then
    read at a run's compute costs one bootstrap, not two.
    """
    predictors: list[Predictor | None] = []

    def sample_curves(rows: pd.DataFrame) -> np.ndarray:
        if not predictors:
            predictors.extend(bootstrap_predictors(
                training_rows, fit, n_resamples=n_resamples, seed=seed, progress=progress
            ))
        return transformed(_predict_each(predictors, rows), chance)

    return sample_curves


def _warm_start_forecaster(law: Law, start: np.ndarray, chance: float, compute_column: str) -> Forecaster:
    """Refit ``law`` by one polish (:func:`scalelib.laws.profile_fit.polish_huber`) from the point estimate."""

    def fit(rows: pd.DataFrame) -> Predictor:
        x = law.inputs(rows, compute_column)
        log_target = law.target(rows["value"].to_numpy(), chance)
        best = polish_huber(
            lambda parameters: law.residuals(parameters, x, log_target),
            lambda parameters: law.jacobian(parameters, x, log_target),
            [start],
            bounds=law.bounds(x),
            inside_first=False,  # from an optimum: without bounds the path may leave its basin
        )
        return lambda target: accuracy_from_neg_log_q(
            law.neg_log_q(law.inputs(target, compute_column), best.x), chance
        )

    return fit


def _y_samples(
    curves: np.ndarray, residuals: np.ndarray, rows: pd.DataFrame, distance: np.ndarray, *,
    chance: float, band: Band, noise: Noise, drift_rate: float, seed: int,
    drift_degrees_of_freedom: float = DRIFT_DEGREES_OF_FREEDOM,
) -> np.ndarray:
    """Predictive samples in y: bootstrap curves + drift, + a new run's noise for a prediction band.

    Residual noise is added in y (centred residuals, resampled); binomial noise is added
    in accuracy at the sample's accuracy and mapped back to y. Each resample draws its
    drift and noise once and applies them to every forecast row (common random numbers):
    a resample is one smooth possible future, so a band drawn on a fine grid of compute
    is smooth, while each row's distribution, and so its interval, is unchanged.
    """
    rng = np.random.default_rng([seed, 1])
    per_resample = (curves.shape[0], 1)
    samples = curves + drift_rate * distance[None, :] * rng.standard_t(drift_degrees_of_freedom, per_resample)
    if band == "confidence":
        return samples
    if noise == "residuals":
        centred = residuals - residuals.mean()
        return samples + centred[rng.integers(0, len(centred), size=per_resample)]
    if "n_items" not in rows.columns:
        raise ScalingDataError("noise='binomial' needs an n_items column in the forecast rows.")
    n_items = check_n_items(rows["n_items"].to_numpy(), purpose="noise='binomial'")
    accuracy = untransformed(samples, chance)
    scale = np.sqrt(accuracy * (1.0 - accuracy) / n_items[None, :])
    return transformed(accuracy + scale * rng.standard_normal(per_resample), chance)


@dataclass(frozen=True)
class _Bootstrap:
    """What a bootstrap interval needs of a law fitted to one benchmark's training rows."""

    point: Predictor
    """The point forecast, from the fit to all training rows."""
    sample_curves: Callable[[pd.DataFrame], np.ndarray]
    """Bootstrap values of ``log(-log Q)`` at the given rows, shape (resamples, rows)."""
    point_forecaster: Forecaster
    """The law's own forecaster of point forecasts, for the inner backtests of :func:`estimate_drift_rate`."""


def _closed_form_bootstrap(law: Law, training_rows: pd.DataFrame, *, n_resamples: int, seed: int,
                           progress: bool, compute_column: str) -> _Bootstrap:
    """A law with :attr:`~scalelib.interfaces.Law.bootstrap_curves`: its forecaster's point fit, every resample at once."""
    forecaster = law.forecaster(compute_column=compute_column)
    return _Bootstrap(
        point=forecaster(training_rows),
        sample_curves=lambda rows: law.bootstrap_curves(
            training_rows, rows, n_resamples=n_resamples, seed=seed, compute_column=compute_column
        ),
        point_forecaster=forecaster,
    )


def _robust_law_bootstrap(law: Law, training_rows: pd.DataFrame, *, n_resamples: int, seed: int,
                          progress: bool, compute_column: str) -> _Bootstrap:
    """A robust law: full point fit; resamples solved at once by profile, or each polished from the estimate."""
    chance = single_chance_level(training_rows)
    estimate = law.parameters(law.fit_rows(training_rows, compute_column))

    def point(rows: pd.DataFrame) -> np.ndarray:
        return accuracy_from_neg_log_q(law.neg_log_q(law.inputs(rows, compute_column), estimate), chance)

    if law.profile is None:
        sample_curves = _resample_curves(
            training_rows, _warm_start_forecaster(law, estimate, chance, compute_column), chance,
            n_resamples=n_resamples, seed=seed, progress=progress,
        )
    else:
        codes, runs = pd.factorize(training_rows["run"])  # runs in order of appearance, as bootstrap_predictions
        draws = resample_runs(len(runs), n_resamples=n_resamples, seed=seed)
        run_counts = np.stack([np.bincount(draw, minlength=len(runs)) for draw in draws])
        resampled = bootstrap_by_profile(
            law.profile(law.inputs(training_rows, compute_column)),
            law.target(training_rows["value"].to_numpy(), chance),
            counts=run_counts[:, codes],
        )

        def sample_curves(rows: pd.DataFrame) -> np.ndarray:
            x = law.inputs(rows, compute_column)
            return transformed(
                accuracy_from_neg_log_q(np.stack([law.neg_log_q(x, parameters) for parameters in resampled]), chance),
                chance,
            )

    return _Bootstrap(point=point, sample_curves=sample_curves, point_forecaster=law.forecaster(compute_column=compute_column))


def _refit_bootstrap(fit: Forecaster, training_rows: pd.DataFrame, *, n_resamples: int, seed: int,
                     progress: bool, compute_column: str) -> _Bootstrap:
    """Any forecaster: every resample refitted with the forecaster itself."""
    chance = single_chance_level(training_rows)
    return _Bootstrap(
        point=fit(training_rows.copy()),
        sample_curves=_resample_curves(
            training_rows, fit, chance, n_resamples=n_resamples, seed=seed, progress=progress
        ),
        point_forecaster=fit,
    )


def _bootstrap_interval_forecaster(
    bootstrap: Callable[..., _Bootstrap], *, band: Band, noise: Noise, calibrate: bool, n_resamples: int,
    seed: int, progress: bool, compute_column: str, method: str, level: float,
    drift_degrees_of_freedom: float = DRIFT_DEGREES_OF_FREEDOM,
) -> Forecaster:
    """An interval forecaster from ``bootstrap(training_rows, ...) -> _Bootstrap``: curves + drift + noise, quantiles."""
    _check_option("band", band, ("prediction", "confidence"))
    default_level = _check_level(level)
    _check_option("noise", noise, ("residuals", "binomial"))
    check_resamples(n_resamples)

    def fit(training_rows: pd.DataFrame) -> IntervalPredictor:
        if band == "prediction" and noise == "binomial":
            if "n_items" not in training_rows.columns:
                raise ScalingDataError("noise='binomial' needs an n_items column.")
            check_n_items(training_rows["n_items"].to_numpy(), purpose="noise='binomial'")
        law = bootstrap(
            training_rows, n_resamples=n_resamples, seed=seed, progress=progress, compute_column=compute_column
        )
        _check_interval_runs(training_rows.drop_duplicates("run")[compute_column], MIN_INTERVAL_RUNS)
        chance = single_chance_level(training_rows)
        residuals = transformed(training_rows["value"], chance) - transformed(law.point(training_rows.copy()), chance)
        on_the_law = band == "prediction" and noise == "residuals" and _lies_on_the_law(residuals)
        if on_the_law:
            _floor_items(_rows_n_items(training_rows, training_rows))  # refuses a zero-width interval early
        drift_rate = 0.0
        if calibrate:
            drift_rate = estimate_drift_rate(
                training_rows, law.point_forecaster, noise_variance=float(np.mean(residuals**2)),
                compute_column=compute_column,
            )

        def predict(rows: pd.DataFrame, level: float = default_level) -> PredictionInterval:
            level = _check_level(level)
            curves = law.sample_curves(rows)
            refused = np.isnan(curves).any(axis=1)
            if refused.mean() > 0.5:
                raise ScalingDataError(
                    f"The law refused {refused.sum()} of {len(refused)} bootstrap resamples of the training runs."
                )
            compute = check_compute(rows_compute(rows, compute_column), name=compute_column)
            distance = extrapolation_distance(compute, training_rows[compute_column])
            samples = _y_samples(
                curves[~refused], residuals, rows, distance, chance=chance, band=band, noise=noise,
                drift_rate=drift_rate, seed=seed, drift_degrees_of_freedom=drift_degrees_of_freedom,
            )
            y_low, y_high = np.quantile(samples, [0.5 - level / 2, 0.5 + level / 2], axis=0)
            noise_label = f", {noise} noise" if band == "prediction" else ""
            interval = _interval_from_y(
                law.point(rows.copy()), y_low, y_high, chance, level=level,
                method=f"{method}, {band}{noise_label}{', calibrated' if calibrate else ''}", drift_rate=drift_rate,
                fitted_compute=_fitted_range(training_rows[compute_column]),
            )
            if on_the_law:
                return _with_evaluation_noise_floor(interval, _rows_n_items(rows, training_rows), chance)
            return interval

        return predict

    return fit


def law_interval_forecaster(
    law: str | Law = "direct",
    *,
    level: float = LEVEL,
    interval: Literal["analytic", "bootstrap"] = "analytic",
    band: Band = "prediction",
    noise: Noise = "residuals",
    calibrate: bool = True,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    progress: bool = True,
    compute_column: str = "flops",
    drift_degrees_of_freedom: float = DRIFT_DEGREES_OF_FREEDOM,
) -> Forecaster:
    """An interval :data:`~scalelib.interfaces.Forecaster` for a law of :data:`scalelib.laws.registry.LAWS`.

    Its predictor returns the point forecast with its interval at ``level``, a
    :class:`~scalelib.interfaces.PredictionInterval`.

    Parameters
    ----------
    law
        A :class:`~scalelib.interfaces.Law` or the name of a registered one:
        ``"direct"`` (Eq. 2, closed form), ``"saturating"`` (Eq. 6), ``"bnsl"`` (Eq. 1),
        ``"ratio"`` (Eq. 4, needs ``params`` and ``tokens`` columns), ``"passk"`` (Eq. 5,
        needs ``k``) or any law added to :data:`scalelib.laws.registry.LAWS`.
    level
        Nominal coverage of the intervals (default :data:`LEVEL`, 0.9); a predictor
        also takes ``level`` to draw another level of the same fit.
    interval
        ``"analytic"``, the law's own
        :attr:`~scalelib.interfaces.Law.analytic_interval_forecaster` (Eq. 2's
        :func:`~scalelib.laws.direct_law_intervals.direct_law_interval`; Eq. 5's, which has no
        drift term and ignores ``calibrate``), or ``"bootstrap"`` over runs: in closed
        form for a law with :attr:`~scalelib.interfaces.Law.bootstrap_curves` (Eq. 2's
        :func:`~scalelib.laws.direct_law_intervals.direct_law_bootstrap`); for a robust law each
        resample is profiled or refitted by one polish from the point estimate
        (:func:`scalelib.laws.profile_fit.polish_huber`); any other law is refitted by its
        forecaster (:func:`bootstrap_interval_forecaster`).
    band
        ``"prediction"``: covers a new run; ``"confidence"``: the curve only.
    noise
        A new run's noise in a bootstrap prediction band: ``"residuals"`` (resampled
        residuals of the fit in ``log(-log Q)``) or ``"binomial"`` (evaluation noise
        ``sqrt(p (1 - p) / n_items)``, needs an ``n_items`` column). The analytic
        interval uses the residual variance.
    calibrate
        Add the extrapolation drift term, calibrated by :func:`estimate_drift_rate`
        (default). Without it, nominal 90% intervals undercover badly beyond the cut.
    n_resamples, seed, progress
        Bootstrap size (at least :data:`~scalelib.data.validation.MIN_BOOTSTRAP_RESAMPLES`,
        20; fewer raise ``ValueError``), seed, and whether to show a tqdm bar (after two
        seconds; set False in notebooks).
    compute_column
        Column with the compute C.
    drift_degrees_of_freedom
        Degrees of freedom of the drift term's Student-t quantile (analytic) or draws
        (bootstrap); the default is argued at :data:`DRIFT_DEGREES_OF_FREEDOM`.

    Returns
    -------
    Forecaster
    """
    law = registered_law(law)
    _check_option("interval", interval, ("analytic", "bootstrap"))
    if interval == "analytic":
        if not law.has_analytic_interval:
            analytic = " and ".join(name for name, known in REGISTERED_LAWS.items() if known.has_analytic_interval)
            raise ValueError(
                f"The analytic interval exists for the {analytic} laws only; use interval='bootstrap' for {law.name!r}."
            )
        return law.analytic_interval_forecaster(
            band=band, calibrate=calibrate, compute_column=compute_column,
            drift_degrees_of_freedom=drift_degrees_of_freedom, level=level,
        )
    if law.bootstrap_curves is not None:
        bootstrap = partial(_closed_form_bootstrap, law)
    elif law.robust:
        bootstrap = partial(_robust_law_bootstrap, law)
    else:
        bootstrap = partial(_refit_bootstrap, law.forecaster(compute_column=compute_column))
    return _bootstrap_interval_forecaster(
        bootstrap, band=band, noise=noise, calibrate=calibrate, n_resamples=n_resamples, seed=seed,
        progress=progress, compute_column=compute_column, method=f"{law.name}, bootstrap", level=level,
        drift_degrees_of_freedom=drift_degrees_of_freedom,
    )


def bootstrap_interval_forecaster(
    forecaster: Forecaster,
    *,
    level: float = LEVEL,
    band: Band = "prediction",
    noise: Noise = "residuals",
    calibrate: bool = True,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    progress: bool = True,
    compute_column: str = "flops",
) -> Forecaster:
    """An interval :data:`~scalelib.interfaces.Forecaster` around any forecaster of point forecasts, by a bootstrap over runs.

    Each resample of whole runs is refitted with ``forecaster`` itself (its full fit,
    every start), so this suits any forecaster: two-stage
    (:func:`scalelib.evaluation.two_stage.two_stage_forecaster`), pass@k
    (:func:`scalelib.laws.pass_at_k_law.pass_at_k_forecaster`, the rows of a run resampled
    together) ... Level, band, noise and calibration as in :func:`law_interval_forecaster`;
    the interval is formed in ``log(-log Q)`` (:func:`transformed`). Slower than
    :func:`law_interval_forecaster`, whose nonlinear laws refit from the point estimate.
    """
    return _bootstrap_interval_forecaster(
        partial(_refit_bootstrap, forecaster), band=band, noise=noise, calibrate=calibrate,
        n_resamples=n_resamples, seed=seed, progress=progress, compute_column=compute_column, method="bootstrap",
        level=level,
    )
