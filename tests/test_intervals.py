"""Tests of scalelib.evaluation.intervals on synthetic data (generated here, fixed seeds)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from synthetic import benchmark_rows, direct_law_accuracy, noisy

from scalelib.evaluation.backtest import backtest, backtest_split, fit_once, forecasts_below_cut
from scalelib.laws.direct_law import direct_law_forecaster
from scalelib.evaluation.intervals import (
    at_level,
    DRIFT_DEGREES_OF_FREEDOM,
    ROLLING_ORIGIN_FRACTIONS,
    PredictionInterval,
    bootstrap_interval_forecaster,
    bootstrap_predictions,
    direct_law_bootstrap,
    direct_law_interval,
    direct_law_variance_terms,
    estimate_drift_rate,
    inner_backtest_errors,
    forecast_interval,
    law_interval_forecaster,
    pass_at_k_interval_forecaster,
    pass_at_k_law_interval,
    share_beyond_fitted_compute,
    resample_runs,
    summarise_intervals,
    transformed,
    untransformed,
)
from scalelib.data.normalise import ScalingDataError
from scalelib.laws.pass_at_k import pass_at_k_forecaster, pass_at_k_law_log_neg_log_q

CHANCE = 0.25
COMPUTE = np.logspace(18, 21, 16)
TARGETS = np.array([3e21, 1e22, 1e23])


LOG_A, ALPHA = np.log(750.0), 0.15
"""Eq. 2 of the synthetic runs (A = 750)."""
ACCURACY = direct_law_accuracy(COMPUTE, LOG_A, ALPHA, CHANCE, log_noise=0.03)
"""Synthetic Eq. 2 accuracies at COMPUTE with noise 0.03 in log(-log Q) (seed 0)."""


def synthetic_frame(compute=COMPUTE, *, noise=0.03, curvature=0.0, seed=0):
    """One synthetic benchmark as a backtest frame: Eq. 2 (LOG_A, ALPHA), noise in log(-log Q)."""
    accuracy = direct_law_accuracy(compute, LOG_A, ALPHA, CHANCE, log_noise=noise, curvature=curvature, seed=seed)
    return benchmark_rows(compute, accuracy, chance=CHANCE, n_items=2000)


def textbook_interval(compute, accuracy, at_compute, level, *, prediction=True):
    """The OLS interval of y = log(-log Q) on x = log C, from the textbook formula."""
    x, y = np.log(compute), transformed(accuracy, CHANCE)
    n = len(x)
    slope, intercept = np.polyfit(x, y, 1)
    s = np.sqrt(np.sum((y - intercept - slope * x) ** 2) / (n - 2))
    x0 = np.log(at_compute)
    leverage = 1 / n + (x0 - x.mean()) ** 2 / np.sum((x - x.mean()) ** 2)
    half = stats.t.ppf((1 + level) / 2, n - 2) * s * np.sqrt(leverage + (1.0 if prediction else 0.0))
    centre = intercept + slope * x0
    return untransformed(centre, CHANCE), untransformed(centre + half, CHANCE), untransformed(centre - half, CHANCE)


# --------------------------------------------------------------------------- analytic


@pytest.mark.parametrize("band", ["prediction", "confidence"])
def test_direct_law_interval_equals_the_textbook_ols_interval(band):
    accuracy = ACCURACY
    interval = direct_law_interval(COMPUTE, accuracy, chance=CHANCE, at_compute=TARGETS, level=0.9, band=band)
    predicted, lower, upper = textbook_interval(COMPUTE, accuracy, TARGETS, 0.9, prediction=band == "prediction")
    np.testing.assert_allclose(interval.predicted, predicted, rtol=1e-10)
    np.testing.assert_allclose(interval.lower, lower, rtol=1e-9)
    np.testing.assert_allclose(interval.upper, upper, rtol=1e-9)
    assert interval.level == 0.9 and interval.method == f"analytic, {band}"


def test_prediction_interval_contains_the_confidence_band():
    accuracy = ACCURACY
    prediction = direct_law_interval(COMPUTE, accuracy, chance=CHANCE, at_compute=TARGETS)
    confidence = direct_law_interval(COMPUTE, accuracy, chance=CHANCE, at_compute=TARGETS, band="confidence")
    assert np.all(prediction.lower < confidence.lower) and np.all(confidence.upper < prediction.upper)
    assert np.all(confidence.lower < confidence.predicted) and np.all(confidence.predicted < confidence.upper)


def test_drift_adds_in_quadrature_beyond_the_fitted_runs_only():
    accuracy = ACCURACY
    at = np.array([1e19, COMPUTE.max(), 1e22])
    plain = direct_law_interval(COMPUTE, accuracy, chance=CHANCE, at_compute=at)
    drifting = direct_law_interval(COMPUTE, accuracy, chance=CHANCE, at_compute=at, drift_rate=0.05)
    np.testing.assert_allclose(drifting.lower[:2], plain.lower[:2], rtol=1e-12)  # inside the fitted range
    centre = transformed(plain.predicted[2], CHANCE)
    plain_half = transformed(plain.lower[2], CHANCE) - centre
    drift = 0.05 * np.log(1e22 / COMPUTE.max())
    expected_half = np.sqrt(plain_half**2 + (stats.t.ppf(0.95, DRIFT_DEGREES_OF_FREEDOM) * drift) ** 2)
    assert transformed(drifting.lower[2], CHANCE) - centre == pytest.approx(expected_half, rel=1e-9)


def test_uncalibrated_interval_covers_its_level_when_the_law_is_exact():
    """Over repeated synthetic data sets from an exact law, 90% of new runs fall inside."""
    rng = np.random.default_rng(5)
    covered = []
    for seed in range(300):
        accuracy = direct_law_accuracy(COMPUTE, LOG_A, ALPHA, CHANCE, log_noise=0.03, seed=seed)
        interval = direct_law_interval(COMPUTE, accuracy, chance=CHANCE, at_compute=[1e22])
        new_seed = int(rng.integers(1_000_000)) + 1000
        new_run = direct_law_accuracy([1e22], LOG_A, ALPHA, CHANCE, log_noise=0.03, seed=new_seed)
        covered.append(interval.lower[0] <= new_run[0] <= interval.upper[0])
    assert np.mean(covered) == pytest.approx(0.9, abs=0.04)


def test_pass_at_k_interval_forecaster_is_the_analytic_interval_of_its_training_rows():
    compute = np.repeat(np.logspace(19, 21, 6), 4)
    k = np.tile([1.0, 2.0, 4.0, 8.0], 6)
    values = np.exp(-np.exp(noisy(pass_at_k_law_log_neg_log_q(compute, k, 20.0, -0.45, -0.3, 0.002), 0.05, seed=3)))
    training = pd.DataFrame({"run": np.repeat([f"run{i}" for i in range(6)], 4), "flops": compute, "k": k,
                             "value": values})
    rows = pd.DataFrame({"flops": [1e22, 1e22], "k": [1.0, 16.0]})
    interval = pass_at_k_interval_forecaster()(training)(rows, 0.8)
    expected = pass_at_k_law_interval(compute, k, values, at_compute=[1e22, 1e22], at_k=[1, 16], level=0.8)
    np.testing.assert_array_equal(interval.lower, expected.lower)
    np.testing.assert_array_equal(interval.upper, expected.upper)


def test_share_beyond_fitted_compute_counts_held_out_rows_past_their_benchmarks_largest_fitted_run():
    frame = pd.DataFrame({
        "benchmark": ["a"] * 4 + ["b"] * 4,
        "flops": [1e19, 1e20, 1e21, 1e22, 1e19, 1e20, 1e21, 1e22],
    })
    held_out = pd.Series([False, True, False, True, False, False, True, True])
    # a: largest fitted 1e21, held out 1e20 (inside) and 1e22 (beyond); b: largest fitted 1e20, both beyond
    assert share_beyond_fitted_compute(frame, held_out) == pytest.approx(3 / 4)


def test_pass_at_k_interval_equals_the_textbook_ols_interval():
    compute = np.repeat(np.logspace(19, 21, 6), 4)
    k = np.tile([1.0, 2.0, 4.0, 8.0], 6)
    values = np.exp(-np.exp(noisy(pass_at_k_law_log_neg_log_q(compute, k, 20.0, -0.45, -0.3, 0.002), 0.05, seed=3)))
    interval = pass_at_k_law_interval(compute, k, values, at_compute=[1e22, 1e22], at_k=[1, 16], level=0.8)
    design = np.column_stack([np.ones_like(k), np.log(compute), np.log(k), np.log(compute) * np.log(k)])
    y = np.log(-np.log(values))
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    s2 = np.sum((y - design @ coefficients) ** 2) / (len(y) - 4)
    at = np.array([[1, np.log(1e22), 0, 0], [1, np.log(1e22), np.log(16), np.log(1e22) * np.log(16)]])
    leverage = np.einsum("ij,jk,ik->i", at, np.linalg.inv(design.T @ design), at)
    half = stats.t.ppf(0.9, len(y) - 4) * np.sqrt(s2 * (1 + leverage))
    centre = at @ coefficients
    np.testing.assert_allclose(interval.lower, np.exp(-np.exp(centre + half)), rtol=1e-8)
    np.testing.assert_allclose(interval.upper, np.exp(-np.exp(centre - half)), rtol=1e-8)


# --------------------------------------------------------------------------- bootstrap


def test_resample_runs_is_reproducible_under_its_seed():
    first = resample_runs(10, n_resamples=50, seed=7)
    assert first.shape == (50, 10) and first.min() >= 0 and first.max() <= 9
    np.testing.assert_array_equal(first, resample_runs(10, n_resamples=50, seed=7))
    assert not np.array_equal(first, resample_runs(10, n_resamples=50, seed=8))


def test_direct_law_bootstrap_is_reproducible_and_matches_the_refit_loop():
    frame = synthetic_frame()
    arguments = dict(chance=CHANCE, at_compute=TARGETS, n_resamples=40, seed=3)
    vectorised = direct_law_bootstrap(frame["flops"], frame["value"], **arguments)
    np.testing.assert_array_equal(vectorised, direct_law_bootstrap(frame["flops"], frame["value"], **arguments))
    other_seed = direct_law_bootstrap(frame["flops"], frame["value"], **{**arguments, "seed": 4})
    assert not np.array_equal(vectorised, other_seed)
    looped = bootstrap_predictions(
        frame, pd.DataFrame({"flops": TARGETS}), direct_law_forecaster(), n_resamples=40, seed=3, progress=False
    )
    np.testing.assert_allclose(vectorised, transformed(looped, CHANCE), rtol=1e-9)


def test_bootstrap_resamples_whole_runs():
    """pass@k rows of one run (one per k) are drawn together."""
    rows = pd.DataFrame({
        "run": np.repeat([f"run{i}" for i in range(8)], 3),
        "flops": np.repeat(np.logspace(19, 21, 8), 3),
        "k": np.tile([1, 2, 4], 8),
        "value": 0.1,
    })
    seen = []

    def recording_forecaster(training_rows):
        seen.append(training_rows)
        return lambda target: np.full(len(target), 0.5)

    bootstrap_predictions(rows, rows.head(2), recording_forecaster, n_resamples=5, seed=0, progress=False)
    for resample in seen:
        assert len(resample) == 24
        assert (resample.groupby("run", sort=False).size() % 3 == 0).all()
        assert (resample.groupby("run")["k"].apply(lambda k: sorted(set(k))) .map(len) == 3).all()


def test_a_fitted_bootstrap_interval_refits_its_resamples_once():
    """Synthetic runs: predicting twice (a figure's grid, then a run's compute) fits each resample once,
    and gives what a fresh fit gives."""
    frame = synthetic_frame(noise=0.05)
    fits = []

    def counting_forecaster(training_rows):
        fits.append(len(training_rows))
        return direct_law_forecaster()(training_rows)

    forecaster = bootstrap_interval_forecaster(counting_forecaster, n_resamples=25, calibrate=False, progress=False)
    predict = forecaster(frame)
    rows = pd.DataFrame({"flops": TARGETS})
    first = predict(rows, 0.9)
    n_after_first = len(fits)
    second = predict(rows.iloc[::-1].reset_index(drop=True), 0.9)
    assert len(fits) == n_after_first == 1 + 25  # the point fit and one per resample
    np.testing.assert_array_equal(second.lower, first.lower[::-1])
    fresh = forecaster(frame)(rows.iloc[::-1].reset_index(drop=True), 0.9)
    np.testing.assert_array_equal(fresh.upper, second.upper)


@pytest.mark.parametrize("options", [dict(law="direct", interval="bootstrap"),
                                     dict(law="saturating", interval="bootstrap", n_resamples=50, calibrate=False)])
def test_bootstrap_interval_forecaster_is_reproducible(options):
    frame = synthetic_frame(noise=0.05)
    rows = pd.DataFrame({"flops": TARGETS, "n_items": 2000})
    predict = law_interval_forecaster(**options, seed=11, progress=False)(frame)
    first, again = predict(rows, 0.9), predict(rows, 0.9)
    other = law_interval_forecaster(**options, seed=12, progress=False)(frame)(rows, 0.9)
    np.testing.assert_array_equal(first.lower, again.lower)
    np.testing.assert_array_equal(first.upper, again.upper)
    assert not np.array_equal(first.upper, other.upper)
    assert np.all(first.lower < first.predicted) and np.all(first.predicted < first.upper)
    assert np.all(np.diff(first.upper - first.lower) > 0)  # wider further out


def test_generic_bootstrap_interval_for_pass_at_k():
    compute = np.repeat(np.logspace(19, 21.5, 10), 3)
    k = np.tile([1.0, 4.0, 16.0], 10)
    log_neg_log_q = noisy(pass_at_k_law_log_neg_log_q(compute, k, 20.0, -0.45, -0.3, 0.002), 0.05, seed=2)
    frame = pd.DataFrame({
        "run": np.repeat([f"run{i}" for i in range(10)], 3), "benchmark": "code", "flops": compute, "k": k,
        "value": np.exp(-np.exp(log_neg_log_q)),
        "chance": 0.0, "n_items": 164,
    })
    fit = bootstrap_interval_forecaster(pass_at_k_forecaster(), n_resamples=20, progress=False)
    result = backtest(frame, fit, compute_cut=1e21)
    assert (result["status"] == "ok").all() and len(result) == 6  # two runs above the cut, three k each
    assert (result["lower"] < result["predicted"]).all() and (result["predicted"] < result["upper"]).all()


def test_forecast_interval_is_the_fitted_predictor_at_the_given_compute():
    frame = synthetic_frame()
    forecaster = law_interval_forecaster("direct", level=0.8, interval="bootstrap", noise="binomial", n_resamples=30)
    interval = forecast_interval(forecaster, frame, TARGETS)  # binomial noise needs n_items: copied
    expected = forecaster(frame)(pd.DataFrame({"flops": TARGETS, "n_items": 2000}), 0.8)
    np.testing.assert_array_equal(interval.lower, expected.lower)
    np.testing.assert_array_equal(interval.upper, expected.upper)
    table = interval.to_frame(TARGETS)
    assert table.columns.tolist() == ["flops", "predicted", "lower", "upper", "position", "efolds_outside"]
    assert (table["position"] == "beyond").all()
    np.testing.assert_allclose(table["efolds_outside"], np.log(TARGETS / frame["flops"].max()))


@pytest.mark.parametrize("noise", ["residuals", "binomial"])
def test_bootstrap_band_is_smooth_along_compute(noise):
    """Each resample draws its noise once for all rows: neighbouring compute values get nearly equal bounds."""
    frame = synthetic_frame()
    forecaster = law_interval_forecaster("direct", interval="bootstrap", noise=noise, n_resamples=50)
    nearby = 1e22 * (1 + 1e-6 * np.arange(20))
    interval = forecast_interval(forecaster, frame, nearby)
    np.testing.assert_allclose(interval.lower, interval.lower[0], rtol=1e-4)
    np.testing.assert_allclose(interval.upper, interval.upper[0], rtol=1e-4)


def test_forecasts_below_cut_of_an_interval_forecaster_fit_each_benchmark_below_the_cut_only():
    frame = pd.concat([synthetic_frame(seed=1), synthetic_frame(seed=2).assign(benchmark="other")])
    forecaster = law_interval_forecaster("direct", level=0.8)
    cut = 3e20
    by_benchmark = forecasts_below_cut(frame, forecaster, compute_cut=cut)
    assert sorted(by_benchmark) == ["other", "synthetic"]
    below = frame[(frame["benchmark"] == "other") & (frame["flops"] <= cut)]
    expected = forecast_interval(forecaster, below, TARGETS)
    interval = by_benchmark["other"](TARGETS)
    np.testing.assert_allclose(interval.lower, expected.lower, rtol=1e-12)
    np.testing.assert_allclose(interval.upper, expected.upper, rtol=1e-12)
    assert interval.level == 0.8


def test_forecasts_below_cut_leave_out_a_benchmark_the_interval_forecaster_refuses():
    frame = pd.concat([synthetic_frame(), synthetic_frame(COMPUTE[:2]).assign(benchmark="two runs")])
    assert list(forecasts_below_cut(frame, law_interval_forecaster("direct"), compute_cut=1e22)) == ["synthetic"]


# --------------------------------------------------------------------------- calibration


def test_drift_rate_is_zero_for_an_exact_law_and_positive_for_a_bent_one():
    exact = synthetic_frame(noise=0.0)
    bent = synthetic_frame(noise=0.0, curvature=0.01)
    assert estimate_drift_rate(exact, direct_law_forecaster(), noise_variance=0.0) == pytest.approx(0.0, abs=1e-9)
    assert estimate_drift_rate(bent, direct_law_forecaster(), noise_variance=0.0) > 0.05


def test_calibration_widens_the_interval_of_a_bent_law_beyond_the_cut():
    bent = synthetic_frame(compute=np.logspace(18, 22, 24), noise=0.02, curvature=0.01)
    plain = backtest(bent, law_interval_forecaster(calibrate=False), compute_cut=1e21)
    calibrated = backtest(bent, law_interval_forecaster(), compute_cut=1e21)
    assert (calibrated["width_points"] > plain["width_points"]).all()
    assert calibrated["width_points"].iloc[-1] > 4 * plain["width_points"].iloc[-1]
    assert plain["covered"].mean() < 0.5 < calibrated["covered"].mean()


# --------------------------------------------------------------------------- coverage


def fixed_interval_forecaster(lower, upper, level=0.9):
    """An interval forecaster that ignores the data: predicted 0.5 in [lower, upper]; refuses 'refused'."""

    def fit(training_rows):
        if (training_rows["benchmark"] == "refused").any():
            raise ScalingDataError("refused on purpose")
        return lambda rows: PredictionInterval(
            predicted=np.full(len(rows), 0.5), lower=np.full(len(rows), lower), upper=np.full(len(rows), upper),
            level=level, method="fixed", drift_rate=0.0,
        )

    return fit


def test_coverage_is_counted_per_benchmark_on_a_constructed_case():
    frame = pd.DataFrame({
        "run": [f"r{i}" for i in range(12)],
        "benchmark": ["a"] * 6 + ["refused"] * 6,
        "flops": np.tile([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2),
        "value": [0.5, 0.5, 0.39, 0.4, 0.6, 0.61] + [0.5] * 6,
        "chance": 0.0,
    })
    result = backtest(frame, fixed_interval_forecaster(0.4, 0.6, level=0.8), compute_cut=2.0)
    a = result[result["benchmark"] == "a"]
    assert a["covered"].tolist() == [False, True, True, False]  # 0.39 out, 0.4 and 0.6 in (closed), 0.61 out
    assert a["width_points"].tolist() == pytest.approx([20.0] * 4)
    assert result.loc[result["benchmark"] == "refused", "covered"].isna().all()
    summary = summarise_intervals(result).set_index("benchmark")
    assert summary.loc["a", "coverage"] == 0.5 and summary.loc["a", "n_covered"] == 2
    assert summary.loc["a", "n_held_out"] == 4 and summary.loc["a", "level"] == 0.8
    assert np.isnan(summary.loc["refused", "coverage"]) and summary.loc["refused", "status"] == "skipped"
    overall = summarise_intervals(result, by=["split"])
    assert overall["coverage"].tolist() == [0.5] and overall["n_held_out"].tolist() == [4]


def test_interval_backtest_never_shows_held_out_runs_to_the_forecaster():
    frame = synthetic_frame()
    seen = []

    def recording(training_rows):
        seen.append(set(training_rows["run"]))
        return fixed_interval_forecaster(0.0, 1.0)(training_rows)

    held_out = frame["flops"] > 3e20
    result = backtest_split(frame, recording, held_out=held_out, split="top")
    assert seen == [set(frame.loc[~held_out, "run"])]
    assert set(result["run"]) == set(frame.loc[held_out, "run"])
    assert result["covered"].all() and (result["level"] == 0.9).all()


def test_a_backtest_of_intervals_has_the_point_backtest_columns_and_the_interval_columns():
    frame = synthetic_frame()
    points = backtest(frame, direct_law_forecaster(), compute_cut=3e20)
    intervals = backtest(frame, law_interval_forecaster("direct"), compute_cut=3e20)
    assert intervals.columns.tolist() == [
        "benchmark", "run", "flops", "observed", "predicted", "error_points", "lower", "upper", "width_points",
        "covered", "noise_points", "split", "compute_cut", "n_train", "status", "reason", "level",
    ]
    pd.testing.assert_frame_equal(intervals[points.columns], points)


def test_intervals_of_different_levels_in_one_backtest_are_refused():
    frame = pd.concat([synthetic_frame(), synthetic_frame(seed=2).assign(benchmark="other")], ignore_index=True)

    def two_levels(training_rows):
        level = 0.8 if (training_rows["benchmark"] == "other").any() else 0.9
        return fixed_interval_forecaster(0.0, 1.0, level=level)(training_rows)

    with pytest.raises(ValueError, match="several levels"):
        backtest(frame, two_levels, compute_cut=3e20)


def test_summarise_intervals_refuses_a_backtest_of_points():
    with pytest.raises(ValueError, match="Not a backtest of intervals"):
        summarise_intervals(backtest(synthetic_frame(), direct_law_forecaster(), compute_cut=3e20))


# --------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: direct_law_interval(COMPUTE, ACCURACY, chance=CHANCE, at_compute=1e22, level=1.0),
         ValueError, "level must lie strictly between 0 and 1"),
        (lambda: direct_law_interval(COMPUTE, ACCURACY, chance=CHANCE, at_compute=1e22, band="wide"),
         ValueError, "Unknown band 'wide'"),
        (lambda: direct_law_interval(COMPUTE[:2], ACCURACY[:2], chance=CHANCE, at_compute=1e22),
         ScalingDataError, "at least 3 runs"),
        (lambda: direct_law_interval(np.full(4, 1e20), [0.3, 0.4, 0.5, 0.6], chance=CHANCE, at_compute=1e22),
         ScalingDataError, "same compute"),
        (lambda: direct_law_bootstrap(np.full(4, 1e20), [0.3, 0.4, 0.5, 0.6], chance=CHANCE, at_compute=1e22),
         ScalingDataError, "same compute"),
        (lambda: resample_runs(5, n_resamples=0), ValueError, "n_resamples must be at least 1"),
        (lambda: law_interval_forecaster("chinchilla"), ValueError, "Unknown law 'chinchilla'"),
        (lambda: law_interval_forecaster("direct", interval="jackknife"), ValueError, "Unknown interval 'jackknife'"),
        (lambda: law_interval_forecaster("bnsl"), ValueError, "analytic interval exists for the direct and passk laws only"),
        (lambda: law_interval_forecaster("direct", interval="bootstrap", noise="gaussian"), ValueError,
         "Unknown noise 'gaussian'"),
        (lambda: law_interval_forecaster(interval="bootstrap", noise="binomial")(synthetic_frame().drop(columns="n_items")),
         ValueError, "needs an n_items column"),
        (lambda: pass_at_k_law_interval([1e20, 1e21, 1e20, 1e21], [1, 1, 2, 2], [0.1, 0.2, 0.15, 0.3],
                                        at_compute=1e22, at_k=1), ScalingDataError, "at least 5 points"),
        (lambda: estimate_drift_rate(synthetic_frame().head(3), direct_law_forecaster(), noise_variance=0.0,
                                     fractions=(0.9,)), ScalingDataError, "Too few runs to calibrate"),
        (lambda: law_interval_forecaster(level=0.0), ValueError, "level must lie strictly between 0 and 1"),
        (lambda: law_interval_forecaster(interval="bootstrap", level=1.0), ValueError,
         "level must lie strictly between 0 and 1"),
        (lambda: backtest(synthetic_frame().drop(columns="flops"), law_interval_forecaster(), compute_cut=1e20),
         ValueError, "lacks required columns"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ------------------------------------------------------------- the drift term, term by term


def test_inner_backtest_errors_are_the_drift_rate_s_evidence():
    """Synthetic bent law: each inner backtest forecasts only runs above its inner cut, and
    the drift rate is the method-of-moments fit of those errors."""
    rows = synthetic_frame(curvature=0.004)
    errors = inner_backtest_errors(rows, direct_law_forecaster())
    assert not errors.empty and set(errors["fraction"]) <= set(ROLLING_ORIGIN_FRACTIONS)
    assert (errors["flops"] > errors["inner_cut"]).all() and (errors["efolds_beyond"] > 0).all()
    noise = 0.03**2
    expected = np.sqrt(np.maximum(0.0, errors["error_y"] ** 2 - noise).sum() / (errors["efolds_beyond"] ** 2).sum())
    assert estimate_drift_rate(rows, direct_law_forecaster(), noise_variance=noise) == pytest.approx(expected)
    assert expected > 0.01  # the bend shows up as drift


def test_variance_terms_rebuild_the_analytic_interval():
    """The three terms, each with its quantile, give the interval's half-width in y."""
    rows = synthetic_frame()
    at = np.array([1e19, 1e21, 1e22, 1e23])
    terms = direct_law_variance_terms(rows["flops"], rows["value"], chance=CHANCE, at_compute=at, drift_rate=0.05)
    interval = direct_law_interval(rows["flops"], rows["value"], chance=CHANCE, at_compute=at, drift_rate=0.05)
    n = len(rows)
    half_width = np.sqrt(
        stats.t.ppf(0.95, n - 2) ** 2 * (terms["curve"] + terms["scatter"])
        + stats.t.ppf(0.95, DRIFT_DEGREES_OF_FREEDOM) ** 2 * terms["drift"]
    )
    # accuracy falls as y rises: the lower accuracy bound is the upper y bound
    assert transformed(interval.lower, CHANCE) - transformed(interval.upper, CHANCE) == pytest.approx(2 * half_width)
    assert terms["drift"].iloc[0] == 0.0 and terms["drift"].iloc[1] == 0.0  # inside the fitted range
    assert terms["drift"].iloc[3] == pytest.approx(0.05**2 * np.log(1e23 / COMPUTE.max()) ** 2)
    assert (terms["scatter"] == terms["scatter"].iloc[0]).all()
    assert terms["curve"].iloc[3] > terms["curve"].iloc[2] > terms["curve"].iloc[1]


def test_backtests_at_several_levels_share_one_fit_per_training_set():
    """Synthetic runs: at_level over a fit_once forecaster fits each training set once and
    gives, level by level, the intervals of a forecaster built at that level."""
    frame = synthetic_frame(noise=0.05, curvature=0.002)
    fits = []

    def counting_forecaster(training_rows):
        fits.append(len(training_rows))
        return law_interval_forecaster("direct")(training_rows)

    cached = fit_once(counting_forecaster)
    for level in (0.5, 0.8, 0.95):
        shared = backtest(frame, at_level(cached, level), compute_cut=1e20)
        built = backtest(frame, law_interval_forecaster("direct", level=level), compute_cut=1e20)
        pd.testing.assert_frame_equal(shared, built)
        assert (shared["level"] == level).all() and shared["covered"].notna().all()
    assert fits == [int((frame["flops"] <= 1e20).sum())]
    with pytest.raises(ValueError, match="level"):
        at_level(cached, 1.5)
