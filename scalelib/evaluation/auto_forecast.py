"""One forecaster that chooses among the laws by evidence, and says when it cannot forecast.

:func:`fit_auto_forecast` is the entry point. Given one benchmark's training runs (one
mixture, one metric; any tokens-per-parameter ratios), it forecasts the runs of a
target ratio in four steps, none of which sees a run beyond the training runs:

1. **Noise-aware rows.** A run whose accuracy ``p`` lies within
   :data:`NEAR_CHANCE_SE` binomial standard errors of chance,
   ``p - chance <= z sqrt(p (1 - p) / n)`` (``n`` items), is not fitted: its
   ``log(-log Q)`` is dominated by evaluation noise (one item right out of 5,153 is not
   a measurement of the law). Every run is still *scored*, in the inner backtests and
   in any backtest of the forecaster, whatever its score.
2. **Candidates**, each fitted to the noise-free rows (:data:`CANDIDATES`):

   * Eq. 2, the direct law: :math:`-\\log Q = A C^{-\\alpha}`;
   * Eq. 6, the saturating law: :math:`-\\log Q = A C^{-\\alpha} + E`;
   * Eq. 1, BNSL: :math:`-\\log Q = a + b C^{-c_0} (1 + (C/d_1)^{1/f_1})^{-c_1 f_1}`;
   * Eq. 4 across ratios, where training runs at other ratios exist:
     :math:`-\\log Q = A N^{-\\alpha} + B D^{-\\beta}`, fitted on every ratio at once
     and evaluated along the target ratio (its runs' N and D);
   * two-stage, where the rows carry a validation loss: the loss law
     :math:`L = E + A C^{-\\alpha}`, then a logistic map from loss to accuracy with its
     floor at chance (held-out losses are never read);

   each with :math:`Q = (\\mathrm{acc} - \\mathrm{chance}) / (1 - \\mathrm{chance})`.
3. **Nested backtests inside the training runs** (:func:`inner_backtests`): for each
   fraction ``f`` of :func:`inner_fractions`, every candidate is refitted on the
   training runs below the inner cut :math:`\\log C_{\\max} - f\\,(\\log C_{\\max} -
   \\log C_{\\min})` and scored on every target-ratio training run above it. The
   fractions are chosen so that the inner forecasts reach as far, relative to what
   their fits saw, as a forecast :data:`REACH_DECADES` beyond the training runs. A
   candidate that cannot be fitted at every inner cut where any candidate can is not
   used. The others are combined with weights inversely proportional to their mean squared inner error,
   :math:`w_k \\propto 1 / \\overline{e_k^2}` (the combination of Bates and Granger,
   1969, for forecasts with independent errors).
4. **Intervals and verdict.** The combination's own inner errors :math:`e_j` give the
   drift rate :math:`\\tau^2 = \\sum_j \\max(0, e_j^2 - \\sigma_j^2) / \\sum_j r_j^2`: the
   share of the error that evaluation noise :math:`\\sigma_j` does not explain, per
   squared *reach* :math:`r_j = d_j / s_j`, the decades :math:`d_j` beyond the inner
   fit's largest run over the decades :math:`s_j` of compute that fit saw (a law
   fitted on three decades and asked one decade ahead reaches a third of its span,
   as one fitted on 1.5 decades reaches two thirds of its span when asked one decade
   ahead; the error of an extrapolation grows with that lever arm). A forecast
   :math:`d` decades beyond the largest of the runs fitted over :math:`s` decades gets

   .. math::

       \\hat p \\pm \\sqrt{t_{\\nu}^2\\, \\tau^2 (d / s)^2
       + z^2 \\left(\\sigma^2_{\\mathrm{eval}}(\\hat p) + \\sigma^2_{\\mathrm{laws}}\\right)},
       \\qquad \\sigma^2_{\\mathrm{eval}} = \\hat p (1 - \\hat p) / n,
       \\qquad \\sigma^2_{\\mathrm{laws}} = \\sum_k w_k (\\hat p_k - \\hat p)^2.

   Each independent source of error takes the quantile of how it is known: the drift
   :math:`\\tau` is *estimated* from the inner cuts (Student's t, :math:`\\nu` = the
   number of inner cuts minus one, that many overlapping extrapolations); the
   binomial noise of the benchmark size and the spread :math:`\\sigma_{\\mathrm{laws}}`
   of the candidates' forecasts :math:`\\hat p_k` about their combination are
   *computed* (normal :math:`z`). The spread is the between-model variance of a
   weighted mixture of forecasts (law of total variance, as in Bayesian model
   averaging): where the laws that passed the inner checks part ways, the interval
   widens. The half-widths of the two kinds add in quadrature.
   The verdict is ``unpredictable`` (:func:`verdict`) when too few runs are clearly
   above chance, when the benchmark has not yet risen above its floor, or when the
   inner backtests' error and the candidates' spread at the design reach
   (:data:`REACH_DECADES` beyond the training runs) together leave no interval worth
   acting on; otherwise ``forecast``. The reason is said in words.

:func:`scalelib.evaluation.auto_backtest.auto_backtest` backtests the forecaster by a compute cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtri, stdtrit

from scalelib.evaluation.auto_candidates import CANDIDATES, DEFAULT_CANDIDATES, Candidate
from scalelib.evaluation.baselines import line_slope_t_statistic
from scalelib.data.normalise import evaluation_noise_points
from scalelib.interfaces import single_chance_level
from scalelib.laws.drift_calibration import relative_reach_drift_rate
from scalelib.data.validation import ScalingDataError, check_compute, check_numeric_columns, check_unique_index

__all__ = [
    "LEVEL", "REACH_DECADES", "INNER_REACH_SHARES", "NEAR_CHANCE_SE", "MIN_CLEAR_RUNS", "MIN_RISE_SE",
    "ACTIONABLE_HALF_WIDTH", "NORMAL_90", "AutoForecast", "inner_fractions", "near_chance_rows",
    "target_rows_mask", "inner_backtests", "verdict", "fit_auto_forecast",
]

LEVEL = 0.9
"""Nominal coverage of the intervals."""

REACH_DECADES = 1.0
"""The reach the inner backtests are made for: one decade of compute beyond the largest
training run, the usual step from the largest trial run to the planned one."""

INNER_REACH_SHARES = (0.25, 0.5, 0.75, 1.0)
"""The inner backtests' reaches as shares of the reach of a forecast :data:`REACH_DECADES`
beyond the training runs (reach = decades beyond the fit / decades the fit spans): four
inner cuts, evenly spread up to the same reach (:func:`inner_fractions`)."""

NEAR_CHANCE_SE = 2.0
"""Runs within this many binomial standard errors of chance are not fitted: two
standard errors is the usual threshold of a one-sided test at about 2%."""

MIN_CLEAR_RUNS = 6
"""Fewest target-ratio runs clearly above chance for a forecast: the direct law's two
parameters plus one residual degree of freedom, at the smallest inner cut *and* on the
runs it holds out, needs three on each side."""

MIN_RISE_SE = 3.0
"""The benchmark must have risen: the slope of accuracy on log compute over the
training runs must be at least this many standard errors above zero. Three standard
errors (one-sided p of about 0.1%) because the runs' scatter about a line is not pure
noise; a floor that has not started to rise carries no information on when it will."""

ACTIONABLE_HALF_WIDTH = 10.0
"""Largest half-width (points) of a 90% interval worth acting on: a forecast that cannot
tell 50% from 70% supports no decision about a training run."""

NORMAL_90 = float(ndtri(0.95))
"""The normal quantile of a central 90% interval (1.645): the inner backtests' root-mean-square
error times this is the half-width their errors imply at the reach they were measured at."""


def inner_fractions(span_decades: float) -> tuple[float, ...]:
    """Shares of the training runs' log-compute range held out by the inner cuts.

    A forecast :data:`REACH_DECADES` beyond ``span_decades`` of training runs has reach
    ``R = REACH_DECADES / span_decades``. Holding out the top share ``f`` of the range
    leaves a fit over ``(1 - f)`` of it and asks it ``f`` of it ahead: reach
    ``r = f / (1 - f)``, so ``f = r / (1 + r)`` for each ``r`` of
    :data:`INNER_REACH_SHARES` times ``R``. On three decades: 8%, 14%, 20% and 25%.
    """
    reach = REACH_DECADES / span_decades
    return tuple(float(share * reach / (1.0 + share * reach)) for share in INNER_REACH_SHARES)


def near_chance_rows(rows: pd.DataFrame, z: float = NEAR_CHANCE_SE) -> pd.Series:
    """Rows within ``z`` binomial standard errors of chance (at or below chance without ``n_items``).

    ``p - chance <= z sqrt(p (1 - p) / n)``; where ``n_items`` is missing or NaN, only
    ``p <= chance``.
    """
    value, chance = rows["value"].astype(float), rows["chance"].astype(float)
    n_items = rows["n_items"].astype(float) if "n_items" in rows.columns else pd.Series(np.nan, index=rows.index)
    noise = np.sqrt(value.clip(0, 1) * (1.0 - value.clip(0, 1)) / n_items).fillna(0.0)
    return value - chance <= z * noise


def target_rows_mask(rows: pd.DataFrame, target_tpr: float | None) -> pd.Series:
    """Rows of the target ratio (every row without a target or a ``tpr`` column)."""
    if target_tpr is None or "tpr" not in rows.columns:
        return pd.Series(True, index=rows.index)
    return rows["tpr"].astype(float) == float(target_tpr)


def _fit_candidates(training: pd.DataFrame, target: pd.Series, candidates: Sequence[Candidate],
                    compute_column: str) -> dict[str, object]:
    """Each candidate's predictor fitted on the noise-free ``training`` rows; refused ones left out."""
    predictors = {}
    for candidate in candidates:
        try:
            predictors[candidate.name] = candidate.fit(training, target, compute_column)
        except (ScalingDataError, np.linalg.LinAlgError, FloatingPointError):
            continue
    return predictors


def inner_backtests(
    training_rows: pd.DataFrame,
    *,
    target_tpr: float | None = None,
    candidates: Sequence[Candidate] = DEFAULT_CANDIDATES,
    fractions: Sequence[float] | None = None,
    near_chance_se: float = NEAR_CHANCE_SE,
    compute_column: str = "flops",
) -> pd.DataFrame:
    """Every candidate refitted below each inner cut and scored on the target-ratio runs above it.

    Runs within ``near_chance_se`` binomial standard errors of chance are not fitted
    (:func:`near_chance_rows`). ``fractions`` (default :func:`inner_fractions` of the
    target-ratio runs' span) are the shares of the log-compute range held out.

    Returns one row per (inner cut, candidate, scored run): ``fraction``, ``inner_cut``,
    ``candidate``, ``run``, the compute, ``observed``, ``predicted`` (NaN where the
    candidate refused the inner fit), ``error_points``, ``distance_decades`` (beyond the
    inner fit's largest target-ratio run) and ``noise_points`` (binomial, NaN without
    ``n_items``). Runs near chance are scored but never fitted.
    """
    target = target_rows_mask(training_rows, target_tpr)
    clear = ~near_chance_rows(training_rows, near_chance_se)
    log_compute = np.log(training_rows.loc[target, compute_column].to_numpy(float))
    span = log_compute.max() - log_compute.min()
    if fractions is None:
        fractions = inner_fractions(span / np.log(10.0)) if span > 0 else ()
    parts = []
    for fraction in fractions:
        cut = float(np.exp(log_compute.max() - fraction * span))
        below = training_rows[compute_column] <= cut
        fitted = training_rows[below & clear]
        scored = training_rows[target & ~below]
        if scored.empty:
            continue
        fitted_target = fitted.loc[target[fitted.index], compute_column]
        largest = fitted_target.max() if len(fitted_target) else cut
        fitted_span = np.log10(largest / fitted_target.min()) if len(fitted_target) > 1 else np.nan
        predictors = _fit_candidates(fitted, target[fitted.index], candidates, compute_column)
        for candidate in candidates:
            predict = predictors.get(candidate.name)
            predicted = np.full(len(scored), np.nan) if predict is None else np.asarray(predict(scored), float)
            parts.append(pd.DataFrame({
                "fraction": fraction, "inner_cut": cut, "candidate": candidate.name, "run": scored["run"].to_numpy(),
                compute_column: scored[compute_column].to_numpy(float), "observed": scored["value"].to_numpy(float),
                "predicted": predicted,
                "distance_decades": np.log10(scored[compute_column].to_numpy(float) / largest),
                "span_decades": fitted_span,
                "noise_points": evaluation_noise_points(scored["value"], scored["n_items"])
                if "n_items" in scored.columns else np.nan,
            }))
    columns = ["fraction", "inner_cut", "candidate", "run", compute_column, "observed", "predicted",
               "distance_decades", "span_decades", "noise_points"]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    table.insert(table.columns.get_loc("distance_decades"), "error_points",
                 100.0 * (table["predicted"] - table["observed"]))
    return table


def _weights(inner: pd.DataFrame) -> dict[str, float]:
    """Inverse mean squared inner error of the candidates checked at every usable inner cut.

    An inner cut is usable when at least one candidate could be fitted below it; a
    candidate is checked when it was fitted at every usable cut (so all candidates are
    compared on the same runs). Fewer than two usable cuts check nothing.
    """
    fitted = inner.groupby(["fraction", "candidate"], sort=False)["predicted"].apply(lambda p: bool(p.notna().all()))
    fitted = fitted.unstack("candidate", fill_value=False)
    usable_cuts = fitted.index[fitted.any(axis=1)]
    if len(usable_cuts) < 2:
        return {}
    checked = [name for name in fitted.columns if fitted.loc[usable_cuts, name].all()]
    used = inner[inner["fraction"].isin(usable_cuts) & inner["candidate"].isin(checked)]
    if used.empty:
        return {}
    mse = used.groupby("candidate", sort=False)["error_points"].apply(lambda e: float(np.mean(e**2)))
    inverse = 1.0 / np.maximum(mse, 1e-12)
    return {str(name): float(weight) for name, weight in (inverse / inverse.sum()).items()}


def _combined_inner_errors(inner: pd.DataFrame, weights: dict[str, float], compute_column: str) -> pd.DataFrame:
    """The weighted combination's inner predictions and errors, one row per (cut, run)."""
    used = inner[inner["candidate"].isin(weights)].dropna(subset=["predicted"])
    used = used.assign(weight=used["candidate"].map(weights))
    used = used.assign(weighted=used["weight"] * used["predicted"])
    keys = ["fraction", "run", compute_column, "observed", "distance_decades", "span_decades"]
    combined = used.groupby(keys, sort=True).agg(predicted=("weighted", "sum"), noise_points=("noise_points", "first"))
    combined = combined.reset_index()
    combined["error_points"] = 100.0 * (combined["predicted"] - combined["observed"])
    return combined


def verdict(
    *, n_clear: int, n_runs: int, rise_se: float, n_candidates: int, inner_rms_points: float,
    spread_points: float = 0.0,
) -> tuple[str, str]:
    """``("forecast", "")`` or ``("unpredictable", reason)``, checks in this order.

    1. fewer than :data:`MIN_CLEAR_RUNS` target-ratio runs clearly above chance;
    2. no rise: the slope of accuracy on log compute below :data:`MIN_RISE_SE`
       standard errors (an emergence not yet under way);
    3. no candidate could be checked at every inner cut;
    4. no interval worth acting on at the design reach: :data:`NORMAL_90` times
       :math:`\\sqrt{e^2 + s^2}` above :data:`ACTIONABLE_HALF_WIDTH`, with :math:`e` the
       inner backtests' root-mean-square error and :math:`s` the candidates' spread
       :math:`\\sigma_{\\mathrm{laws}}` :data:`REACH_DECADES` beyond the largest training run
       (points).
    """
    if n_clear < MIN_CLEAR_RUNS:
        return "unpredictable", (
            f"too few runs clearly above chance: {n_clear} of {n_runs} training runs lie more than "
            f"{NEAR_CHANCE_SE:g} binomial standard errors above chance, and a checked forecast needs "
            f"{MIN_CLEAR_RUNS}")
    if not rise_se >= MIN_RISE_SE:
        return "unpredictable", (
            f"emergence not yet under way: accuracy rises with log compute by only {rise_se:.1f} standard "
            f"errors over the training runs (at least {MIN_RISE_SE:g} needed); a floor says nothing about "
            "when the climb starts")
    if n_candidates == 0:
        return "unpredictable", "no law could be fitted at every inner cut of the training runs, so none can be checked"
    half_width = NORMAL_90 * float(np.hypot(inner_rms_points, spread_points))
    if half_width > ACTIONABLE_HALF_WIDTH:
        return "unpredictable", (
            f"the inner backtests miss by more than the interval allows: inside the training runs the laws missed "
            f"by {inner_rms_points:.1f} points (root mean square) and a decade ahead they part by {spread_points:.1f} "
            f"(weighted standard deviation): a 90% interval of +-{half_width:.1f} points (+-{ACTIONABLE_HALF_WIDTH:g} "
            "at most to act on)")
    return "forecast", ""


@dataclass(eq=False)
class AutoForecast:
    """Result of :func:`fit_auto_forecast` for one benchmark.

    Attributes
    ----------
    verdict, reason
        ``"forecast"`` or ``"unpredictable"``, and why in words (empty for a forecast).
    weights
        ``{candidate: weight}`` of the combination (empty if none could be checked).
    drift_points_per_span
        tau, the interval's growth with reach (points of accuracy per fitted span).
    quantile, normal_quantile
        Student-t quantile of the interval's drift, normal quantile of its computed parts
        (evaluation noise, the candidates' spread).
    fitted_range
        Smallest and largest compute of the fitted target-ratio runs.
    chance, n_items
        The benchmark's chance level and size (NaN if unknown).
    inner
        The candidates' inner backtests (:func:`inner_backtests`).
    n_clear, n_runs
        Target-ratio training runs clearly above chance, and all of them.
    """

    verdict: str
    reason: str
    weights: dict[str, float]
    drift_points_per_span: float
    quantile: float
    normal_quantile: float
    fitted_range: tuple[float, float]
    chance: float
    n_items: float
    inner: pd.DataFrame
    n_clear: int
    n_runs: int
    compute_column: str = "flops"
    predictors: dict[str, object] = field(default_factory=dict, repr=False)

    def combined(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """The combination :math:`\\hat p = \\sum_k w_k \\hat p_k` at ``rows`` (whatever the verdict) and the
        candidates' spread :math:`\\sigma_{\\mathrm{laws}} = (\\sum_k w_k (\\hat p_k - \\hat p)^2)^{1/2}`
        (accuracies; NaN without candidates)."""
        if not self.predictors:
            return np.full(len(rows), np.nan), np.full(len(rows), np.nan)
        total = sum(self.weights[name] for name in self.predictors)
        forecasts = {name: np.asarray(predict(rows), float) for name, predict in self.predictors.items()}
        combined = sum(self.weights[name] / total * forecast for name, forecast in forecasts.items())
        spread = sum(self.weights[name] / total * (forecast - combined) ** 2 for name, forecast in forecasts.items())
        return combined, np.sqrt(spread)

    def predict(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Forecasts at ``rows``: ``predicted``, ``lower``, ``upper`` (accuracies), verdict and reach.

        Columns: ``predicted``, ``lower``, ``upper`` (NaN when unpredictable),
        ``combined`` (the combination's value whatever the verdict), ``verdict``,
        ``reason``, ``distance_decades`` (decades of compute beyond the largest fitted
        run, negative inside or below), ``position`` (``"interpolation"`` inside the
        fitted compute range, else ``"extrapolation"``).
        """
        compute = check_compute(rows[self.compute_column].to_numpy(float), name=self.compute_column)
        low, high = self.fitted_range
        distance = np.log10(compute / high)
        outside = np.maximum(distance, 0.0) + np.maximum(np.log10(low / compute), 0.0)
        combined, spread = self.combined(rows)
        p = np.clip(combined, 0.0, 1.0)
        noise = np.nan_to_num(evaluation_noise_points(p, self.n_items)) if np.isfinite(self.n_items) else 0.0
        reach = outside / max(np.log10(high / low), 1e-12)
        half = np.sqrt((self.quantile * self.drift_points_per_span * reach) ** 2
                       + self.normal_quantile**2 * (noise**2 + (100.0 * spread) ** 2)) / 100.0
        forecast = self.verdict == "forecast"
        return pd.DataFrame({
            "predicted": combined if forecast else np.nan,
            "lower": np.clip(combined - half, 0.0, 1.0) if forecast else np.nan,
            "upper": np.clip(combined + half, 0.0, 1.0) if forecast else np.nan,
            "combined": combined, "verdict": self.verdict, "reason": self.reason,
            "distance_decades": distance,
            "position": np.where((compute >= low) & (compute <= high), "interpolation", "extrapolation"),
        }, index=rows.index)


def _check_rows(rows: pd.DataFrame, compute_column: str) -> None:
    missing = [name for name in ("run", "value", "chance", compute_column) if name not in rows.columns]
    if missing:
        raise ScalingDataError(f"Training rows lack required columns: {missing}.")
    if rows.empty:
        raise ScalingDataError("No training rows: nothing to fit.")
    check_unique_index(rows)
    check_numeric_columns(rows, ["value", "chance", compute_column])
    check_compute(rows[compute_column].to_numpy(float), name=compute_column, labels=rows["run"].to_numpy())
    values = rows["value"].to_numpy(float)
    if np.isnan(values).any() or (values < 0).any() or (values > 1).any():
        raise ScalingDataError("Accuracy ('value') must be a fraction in [0, 1] for every training row.")


def fit_auto_forecast(
    training_rows: pd.DataFrame,
    *,
    target_tpr: float | None = None,
    candidates: Sequence[str] | None = None,
    level: float = LEVEL,
    near_chance_se: float = NEAR_CHANCE_SE,
    compute_column: str = "flops",
) -> AutoForecast:
    """Fit the evidence-weighted combination of laws to one benchmark's training runs.

    See the module docstring for the method and every candidate's equation.

    Parameters
    ----------
    training_rows
        One benchmark's training runs (one mixture, one metric): columns ``run``,
        ``value`` (raw accuracy), ``chance`` (one level), the compute; optional
        ``n_items`` (benchmark size: near-chance rows, evaluation noise), ``tpr``,
        ``params`` and ``tokens`` (Eq. 4 across ratios).
    target_tpr
        The ratio to forecast; runs at other ratios feed Eq. 4 only. None: every row
        is of the target ratio.
    candidates
        Names from :data:`~scalelib.evaluation.auto_candidates.CANDIDATES` (default
        :data:`~scalelib.evaluation.auto_candidates.DEFAULT_CANDIDATES`).
    level
        Nominal coverage of the intervals, in (0, 1).
    near_chance_se
        Runs within this many binomial standard errors of chance are not fitted
        (default :data:`NEAR_CHANCE_SE`; 0 fits every run strictly above chance, the
        treatment of the single laws elsewhere in the book).

    Returns
    -------
    AutoForecast

    Raises
    ------
    ScalingDataError
        For missing columns, no rows, non-numeric or non-finite values, accuracy
        outside [0, 1], several chance levels, no row of the target ratio, an unknown
        candidate or a level outside (0, 1).
    """
    if not 0.0 < level < 1.0:
        raise ScalingDataError(f"level must lie strictly between 0 and 1, got {level!r}.")
    chosen = DEFAULT_CANDIDATES if candidates is None else tuple(_candidate(name) for name in candidates)
    _check_rows(training_rows, compute_column)
    chance = single_chance_level(training_rows)
    target = target_rows_mask(training_rows, target_tpr)
    if not target.any():
        raise ScalingDataError(f"No training row at the target tpr {target_tpr!r}.")
    n_items = float(training_rows["n_items"].iloc[0]) if "n_items" in training_rows.columns else float("nan")
    clear = ~near_chance_rows(training_rows, near_chance_se)
    target_rows = training_rows[target]
    fitted_target = target_rows[clear[target]]
    fitted_range = ((float(fitted_target[compute_column].min()), float(fitted_target[compute_column].max()))
                    if len(fitted_target) else (float("nan"), float("nan")))
    inner = inner_backtests(training_rows, target_tpr=target_tpr, candidates=chosen, near_chance_se=near_chance_se,
                            compute_column=compute_column)
    weights = _weights(inner) if len(fitted_target) >= MIN_CLEAR_RUNS else {}
    combined = _combined_inner_errors(inner, weights, compute_column) if weights else None
    n_cuts = max(int(combined["fraction"].nunique()), 2) if weights else 2
    quantile = float(stdtrit(n_cuts - 1, 0.5 + level / 2.0))
    tau = relative_reach_drift_rate(combined) if weights else float("nan")
    predictors = _fit_candidates(training_rows[clear], target[clear], [c for c in chosen if c.name in weights],
                                 compute_column) if weights else {}
    weights = {name: weight for name, weight in weights.items() if name in predictors}
    total = sum(weights.values())
    weights = {name: weight / total for name, weight in weights.items()}
    fitted = AutoForecast(
        verdict="", reason="", weights=weights, drift_points_per_span=tau, quantile=quantile,
        normal_quantile=float(ndtri(0.5 + level / 2.0)), fitted_range=fitted_range, chance=chance,
        n_items=n_items, inner=inner, n_clear=len(fitted_target), n_runs=len(target_rows),
        compute_column=compute_column, predictors=predictors,
    )
    fitted.verdict, fitted.reason = verdict(
        n_clear=len(fitted_target), n_runs=len(target_rows), n_candidates=len(weights),
        rise_se=line_slope_t_statistic(target_rows, compute_column),
        inner_rms_points=float(np.sqrt(np.mean(combined["error_points"] ** 2))) if weights else np.inf,
        spread_points=100.0 * float(fitted.combined(_design_row(fitted_target, compute_column))[1][0])
        if weights else np.inf)
    return fitted


def _design_row(fitted_target: pd.DataFrame, compute_column: str) -> pd.DataFrame:
    """The largest fitted target-ratio run moved :data:`REACH_DECADES` (R) up in compute at its ratio:
    compute times :math:`10^{R}`, parameters and tokens (if present) times :math:`10^{R/2}` each."""
    row = fitted_target.loc[[fitted_target[compute_column].idxmax()]]
    factors = {compute_column: 10.0**REACH_DECADES, "params": 10.0 ** (REACH_DECADES / 2), "tokens": 10.0 ** (REACH_DECADES / 2)}
    return row.assign(**{column: row[column] * factor for column, factor in factors.items() if column in row.columns})


def _candidate(name: str) -> Candidate:
    if name not in CANDIDATES:
        raise ScalingDataError(f"Unknown candidate {name!r}; choose from {list(CANDIDATES)}.")
    return CANDIDATES[name]
