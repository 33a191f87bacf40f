"""Tests of Eq. 4 across token-to-parameter ratios, on synthetic data from known parameters."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from synthetic import ratio_rows  # noqa: E402

from scalelib.evaluation.backtest import backtest, backtest_split  # noqa: E402
from scalelib.laws.direct_law import direct_law_forecaster  # noqa: E402
from scalelib.evaluation.intervals import law_interval_forecaster  # noqa: E402
from scalelib.data.normalise import ScalingDataError  # noqa: E402
from scalelib.laws.profile_fit import N_POLISHED  # noqa: E402
from scalelib.laws.ratio_law import (  # noqa: E402
    EXPONENT_GRID,
    REFERENCE_PARAMS,
    REFERENCE_TOKENS,
    fit_ratio_law,
    fit_ratio_law_by_benchmark,
    per_ratio_forecaster,
    ratio_law_forecaster,
)
from scalelib.plots.forecasts import plot_interval_backtest_by_ratio  # noqa: E402

# Synthetic truth, in the fitted (centred) parametrisation: -log Q at the reference point
# is 0.4 + 0.3, alpha = 0.5, beta = 0.3.
TRUE_A_REF, TRUE_ALPHA, TRUE_B_REF, TRUE_BETA = 0.4, 0.5, 0.3, 0.3
TRUE_A = TRUE_A_REF * REFERENCE_PARAMS**TRUE_ALPHA
TRUE_B = TRUE_B_REF * REFERENCE_TOKENS**TRUE_BETA
CHANCE = 0.25
RATIOS = (10.0, 20.0, 40.0, 80.0, 160.0)


def synthetic_runs(noise: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """Synthetic runs: 8 sizes at each of RATIOS, accuracy from Eq. 4 plus Gaussian noise (accuracy)."""
    return ratio_rows(np.logspace(18, 22, 8), lambda N, D: TRUE_A * N**-TRUE_ALPHA + TRUE_B * D**-TRUE_BETA,
                      ratios=RATIOS, noise=noise, seed=seed, chance=CHANCE, benchmark="synthetic_benchmark",
                      mixture="synthetic")


def fit_runs(runs: pd.DataFrame):
    return fit_ratio_law(runs["params"], runs["tokens"], runs["value"], chance=CHANCE, labels=runs["run"].tolist())


def test_noiseless_recovery():
    result = fit_runs(synthetic_runs())
    assert result.A == pytest.approx(TRUE_A, rel=1e-5)
    assert result.alpha == pytest.approx(TRUE_ALPHA, rel=1e-6)
    assert result.B == pytest.approx(TRUE_B, rel=1e-5)
    assert result.beta == pytest.approx(TRUE_BETA, rel=1e-6)
    assert result.reference_parameters == pytest.approx(
        [np.log(TRUE_A_REF), TRUE_ALPHA, np.log(TRUE_B_REF), TRUE_BETA], rel=1e-6
    )
    assert result.objective < 1e-12
    assert result.rmse_points < 1e-6
    assert result.n_points == 40
    assert 1 <= result.n_starts == result.optimize_result.n_starts <= N_POLISHED
    assert result.optimize_result.n_grid == len(EXPONENT_GRID) ** 2
    assert result.ratio_range == pytest.approx((10.0, 160.0))


def test_noisy_recovery_within_standard_errors():
    result = fit_runs(synthetic_runs(noise=0.003, seed=1))
    for name, truth in (("alpha", TRUE_ALPHA), ("beta", TRUE_BETA)):
        stderr = getattr(result, f"{name}_stderr")
        assert 0 < stderr < 0.1
        assert abs(getattr(result, name) - truth) < 4 * stderr
    assert abs(np.log(result.A) - np.log(TRUE_A)) < 4 * np.sqrt(result.covariance[0, 0])
    assert result.A_stderr == pytest.approx(result.A * np.sqrt(result.covariance[0, 0]))
    assert result.B_stderr == pytest.approx(result.B * np.sqrt(result.covariance[2, 2]))
    assert 0.1 < result.rmse_points < 1.0  # noise of 0.3 accuracy points


def test_uncentred_covariance_is_the_linear_map_of_the_fitted_one():
    result = fit_runs(synthetic_runs(noise=0.003, seed=2))
    transform = np.eye(4)
    transform[0, 1], transform[2, 3] = np.log(REFERENCE_PARAMS), np.log(REFERENCE_TOKENS)
    assert result.covariance == pytest.approx(transform @ result.reference_covariance @ transform.T)


def test_predict_is_eq4_in_the_paper_convention():
    result = fit_runs(synthetic_runs(noise=0.003, seed=3))
    params, tokens = np.array([2e10, 5e10]), np.array([4e11, 1e12])
    expected = CHANCE + (1 - CHANCE) * np.exp(-(result.A * params**-result.alpha + result.B * tokens**-result.beta))
    assert result.predict(params, tokens) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("params", 0.0, r"Non-positive or NaN params N at run 'run3'"),
        ("params", np.nan, r"Non-positive or NaN params N at run 'run3'"),
        ("tokens", -1.0, r"Non-positive or NaN tokens D at run 'run3'"),
        ("value", 0.2, r"at or below chance \(0.25\) at run 'run3'"),
    ],
)
def test_bad_points_are_refused_by_name(column, value, message):
    runs = synthetic_runs()
    runs.loc[3, column] = value
    with pytest.raises(ScalingDataError, match=message):
        fit_runs(runs)


def test_single_ratio_is_refused():
    runs = synthetic_runs()
    with pytest.raises(ScalingDataError, match=r"nearly one tokens-per-parameter ratio \(D/N from 20 to 20\)"):
        fit_runs(runs[runs["tpr"] == 20])


def test_mismatched_lengths_are_refused():
    runs = synthetic_runs()
    with pytest.raises(ScalingDataError, match="Mismatched lengths: 40 params and 39 tokens"):
        fit_ratio_law(runs["params"], runs["tokens"][:-1], runs["value"], chance=CHANCE)


def test_fit_by_benchmark_reports_refused_groups():
    runs = synthetic_runs()
    single_ratio = runs[runs["tpr"] == 20].assign(benchmark="single_ratio")
    fits, refused = fit_ratio_law_by_benchmark(pd.concat([runs, single_ratio]))
    assert list(fits) == [("synthetic", "synthetic_benchmark")]
    assert refused["benchmark"].tolist() == ["single_ratio"]
    assert "tokens-per-parameter ratio" in refused["reason"].iloc[0]


def test_leave_one_ratio_out_never_sees_the_held_out_ratio():
    runs = synthetic_runs(noise=0.003, seed=4)
    seen_ratios = []
    eq4 = ratio_law_forecaster()

    def recording_fit(training_rows):
        seen_ratios.append(set(training_rows["tpr"]))
        return eq4(training_rows)

    result = backtest_split(runs, recording_fit, held_out=runs["tpr"] == 40, split="leave out tpr 40")
    assert seen_ratios == [{10.0, 20.0, 80.0, 160.0}]
    assert set(result["run"]) == set(runs.loc[runs["tpr"] == 40, "run"])
    assert (result["status"] == "ok").all()
    assert result["error_points"].abs().max() < 2.0  # interpolating one ratio of a true Eq. 4


def test_per_ratio_forecaster_fits_each_ratio_on_its_own_runs():
    runs = synthetic_runs()
    per_ratio = per_ratio_forecaster(direct_law_forecaster())
    result = backtest(runs, per_ratio, compute_cut=3e21)
    expected = {}
    for tpr, rows in runs.groupby("tpr"):
        train, test = rows[rows["flops"] <= 3e21], rows[rows["flops"] > 3e21]
        expected.update(zip(test["run"], direct_law_forecaster()(train)(test)))
    assert result["predicted"].to_numpy() == pytest.approx([expected[run] for run in result["run"]])


def test_per_ratio_forecaster_refuses_an_unseen_ratio():
    runs = synthetic_runs()
    predict = per_ratio_forecaster(direct_law_forecaster())(runs[runs["tpr"] != 40])
    with pytest.raises(ScalingDataError, match=r"No training runs at tpr \[40.0\]"):
        predict(runs[runs["tpr"] == 40])


def test_per_ratio_forecaster_of_intervals_uses_each_ratio_own_interval_in_row_order():
    runs = synthetic_runs(noise=0.003, seed=2)
    direct = law_interval_forecaster("direct", level=0.8)
    training = runs[runs["flops"] <= 3e21]
    target = runs[runs["flops"] > 3e21].sample(frac=1.0, random_state=0)  # ratios interleaved
    interval = per_ratio_forecaster(direct)(training)(target)
    for tpr, rows in target.groupby("tpr"):
        alone = direct(training[training["tpr"] == tpr])(rows)
        at_rows = target["tpr"].to_numpy() == tpr
        for name in ("predicted", "lower", "upper"):
            assert getattr(interval, name)[at_rows] == pytest.approx(getattr(alone, name))
    assert interval.level == 0.8
    assert interval.method.startswith("per tpr: analytic")
    rates = [direct(rows)(rows.iloc[:1]).drift_rate for _, rows in training.groupby("tpr")]
    assert interval.drift_rate == pytest.approx(max(rates))
    assert per_ratio_forecaster(direct)(training)(target, 0.5).level == 0.5  # a level asked of the predictor


def test_per_ratio_forecaster_of_intervals_predicts_as_of_points_in_a_backtest():
    runs = synthetic_runs(noise=0.003, seed=2)
    per_ratio = per_ratio_forecaster(law_interval_forecaster("direct"))
    with_intervals = backtest(runs, per_ratio, compute_cut=3e21)
    points = backtest(runs, per_ratio_forecaster(direct_law_forecaster()), compute_cut=3e21)
    assert with_intervals["predicted"].to_numpy() == pytest.approx(points["predicted"].to_numpy())
    assert (with_intervals["lower"] < with_intervals["predicted"]).all()
    assert (with_intervals["predicted"] < with_intervals["upper"]).all()


def test_per_ratio_forecaster_of_intervals_refuses_an_unseen_ratio():
    runs = synthetic_runs(noise=0.003, seed=2)
    predict = per_ratio_forecaster(law_interval_forecaster("direct"))(runs[runs["tpr"] != 40])
    with pytest.raises(ScalingDataError, match=r"No training runs at tpr \[40.0\]"):
        predict(runs[runs["tpr"] == 40])


def test_interval_backtest_figure_calls_each_predictor_once_and_draws_every_ratio():
    runs = synthetic_runs(noise=0.003, seed=2).assign(benchmark="hellaswag", metric="acc_norm")
    predict = per_ratio_forecaster(law_interval_forecaster("direct"))(runs[runs["flops"] <= 3e21])
    calls = []

    def recording_predict(rows, level):
        calls.append(sorted(set(rows["tpr"])))
        return predict(rows, level)

    figure = plot_interval_backtest_by_ratio(
        runs, {"Eq. 2 per ratio": {"hellaswag": recording_predict}}, compute_cut=3e21, title="synthetic"
    )
    assert calls == [list(RATIOS)]
    panels = [ax for ax in figure.axes if ax.get_title().startswith("tpr")]
    assert [ax.get_title() for ax in panels] == [f"tpr {tpr:g}" for tpr in RATIOS]
    assert all(len(ax.collections) == 1 for ax in panels)  # one shaded band each
