"""The evidence-weighted forecaster of issue 13: honest (held-out runs never seen), refusing, accurate.

The synthetic runs below are generated inside the tests (seeded binomial evaluation
noise) and labelled synthetic; they never reach the book.
"""

import numpy as np
import pandas as pd
import pytest

from scalelib.data import released as data
from scalelib.evaluation.auto_candidates import LOSS_COLUMN
from scalelib.evaluation.auto_backtest import auto_backtest, compare_with_single_laws
from scalelib.evaluation.auto_forecast import (
    INNER_REACH_SHARES,
    MIN_CLEAR_RUNS,
    inner_fractions,
    fit_auto_forecast,
    inner_backtests,
    near_chance_rows,
    verdict,
)
from scalelib.evaluation.backtest import above_chance_only, backtest
from scalelib.evaluation.baselines import last_score_forecaster, line_forecaster, line_slope_t_statistic
from scalelib.laws.direct_law import direct_law_forecaster
from scalelib.evaluation.two_stage import merge_losses
from scalelib.data.validation import ScalingDataError

N_ITEMS = 10_000


def synthetic_runs(accuracy_of, *, low=1e18, high=1e23, n_runs=40, chance=0.25, seed=0) -> pd.DataFrame:
    """Synthetic runs (labelled so): accuracy_of(C) measured on N_ITEMS items with binomial noise."""
    compute = np.logspace(np.log10(low), np.log10(high), n_runs)
    truth = accuracy_of(compute)
    measured = np.random.default_rng(seed).binomial(N_ITEMS, truth) / N_ITEMS
    return pd.DataFrame({
        "run": [f"synthetic-{i}" for i in range(n_runs)], "benchmark": "synthetic", "flops": compute,
        "value": measured, "chance": chance, "n_items": N_ITEMS,
    })


def power_law(compute, chance=0.25):
    """Eq. 2 with A = 700, alpha = 0.15: about 0.33 at 1e18 FLOPs, 0.84 at 1e23."""
    return chance + (1 - chance) * np.exp(-700.0 * compute**-0.15)


def late_emergence(compute, chance=0.25):
    """At chance up to 1e21 FLOPs, then a climb (a sigmoid in log compute centred at 3e21)."""
    return chance + 0.5 * (1 - chance) / (1 + np.exp(-4.0 * (np.log10(compute) - np.log10(3e21))))


# --------------------------------------------------------------------------- synthetic verdicts


def test_clean_power_law_is_forecast_accurately_and_covered():
    runs = synthetic_runs(power_law)
    result = auto_backtest(runs, compute_cut=1e21, target_tpr=None)
    assert (result["verdict"] == "forecast").all(), result["reason"].iloc[0]
    assert result["error_points"].abs().mean() < 1.0
    assert result["covered"].mean() >= 0.8
    assert result["width_points"].mean() < 8  # two decades beyond the fitted runs at the far end
    assert (result["position"] == "extrapolation").all()
    assert result["distance_decades"].max() == pytest.approx(2.0, abs=0.1)


def test_late_emergence_is_unpredictable_with_a_reason():
    runs = synthetic_runs(late_emergence)
    training = runs[runs["flops"] <= 1e21]
    fitted = fit_auto_forecast(training)
    assert fitted.verdict == "unpredictable"
    assert "chance" in fitted.reason or "emergence" in fitted.reason
    forecasts = fitted.predict(runs[runs["flops"] > 1e21])
    assert forecasts["predicted"].isna().all() and forecasts["lower"].isna().all()
    assert (forecasts["verdict"] == "unpredictable").all()


def test_flat_floor_with_a_few_lucky_runs_is_an_emergence_not_under_way():
    runs = synthetic_runs(lambda c: np.full_like(c, 0.27), high=1e21, seed=3)
    fitted = fit_auto_forecast(runs)
    assert fitted.verdict == "unpredictable"
    assert fitted.n_clear >= MIN_CLEAR_RUNS  # 2 points above chance on 10,000 items is significant...
    assert "emergence not yet under way" in fitted.reason  # ...but nothing rises


def test_inner_fractions_reach_as_far_as_a_forecast_one_decade_ahead():
    fractions = np.array(inner_fractions(3.0))  # three decades of training runs
    assert fractions == pytest.approx([1 / 13, 1 / 7, 0.2, 0.25])
    reach = fractions / (1 - fractions)  # decades ahead over decades fitted
    assert reach[-1] == pytest.approx(1 / 3)  # one decade beyond three


def test_near_chance_rows_by_binomial_noise():
    rows = pd.DataFrame({"value": [0.25, 0.255, 0.30, 0.0002, 0.02], "chance": [0.25, 0.25, 0.25, 0.0, 0.0],
                         "n_items": [1000, 1000, 1000, 5153, 5153]})
    # 0.255 is 0.5 points above chance, 0.36 standard errors of 1000 items; 1 item in 5,153 is noise too
    assert near_chance_rows(rows).tolist() == [True, True, False, True, False]
    assert near_chance_rows(rows.drop(columns="n_items")).tolist() == [True, False, False, False, False]


# --------------------------------------------------------------------------- held-out runs are never seen


@pytest.fixture(scope="module")
def dclm_rows() -> pd.DataFrame:
    rows = data.accuracy_frame("dclm", tpr=None, benchmarks=["hellaswag", "mmlu", "winogrande"])
    return merge_losses(rows, data.load_runs("dclm")).reset_index(drop=True)


def test_held_out_runs_never_influence_forecast_weights_or_verdict(dclm_rows):
    before = auto_backtest(dclm_rows, compute_cut=1e21)
    perturbed = dclm_rows.copy()
    above = perturbed["flops"] > 1e21
    rng = np.random.default_rng(1)
    perturbed.loc[above, "value"] = rng.uniform(0.0, 0.99, int(above.sum()))
    perturbed.loc[above, LOSS_COLUMN] = rng.uniform(2.0, 4.0, int(above.sum()))  # two-stage reads no held-out loss
    after = auto_backtest(perturbed, compute_cut=1e21)
    unchanged = ["benchmark", "run", "predicted", "lower", "upper", "combined", "verdict", "reason", "weights",
                 "distance_decades", "position"]
    pd.testing.assert_frame_equal(before[unchanged], after[unchanged])
    assert not np.allclose(before["observed"], after["observed"])  # the perturbation did reach the scores


def test_every_held_out_run_is_scored_even_at_or_below_chance():
    runs = synthetic_runs(power_law)
    above = runs["flops"] > 1e21
    runs.loc[above, "value"] = np.where(np.arange(int(above.sum())) % 2, 0.25, 0.2)  # a collapse to chance
    result = auto_backtest(runs, compute_cut=1e21, target_tpr=None)
    assert len(result) == int(above.sum())
    assert result["error_points"].notna().all()
    assert result["covered"].sum() == 0


def test_inner_backtests_fit_below_each_inner_cut_only(dclm_rows):
    rows = dclm_rows[(dclm_rows["benchmark"] == "hellaswag") & (dclm_rows["flops"] <= 1e21)]
    inner = inner_backtests(rows, target_tpr=20)
    assert (inner["flops"] > inner["inner_cut"]).all()
    cuts = inner.groupby("fraction")["inner_cut"].first()  # larger shares held out, lower cuts
    assert cuts.is_monotonic_decreasing and len(cuts) == len(INNER_REACH_SHARES)
    expected = np.exp(np.log(1e21) - np.array(inner_fractions(3.0)) * np.log(1e21 / rows["flops"].min()))
    assert cuts.to_numpy() == pytest.approx(expected, rel=0.02)
    assert set(inner["candidate"]) == {"direct", "saturating", "ratio", "two-stage"}
    assert inner.loc[inner["candidate"] == "two-stage", "predicted"].notna().all()
    fitted = fit_auto_forecast(rows, target_tpr=20)
    assert fitted.verdict == "forecast"
    assert sum(fitted.weights.values()) == pytest.approx(1.0)


# --------------------------------------------------------------------------- baselines and comparison


def test_baselines_are_a_line_and_the_last_score():
    rows = pd.DataFrame({"run": list("abc"), "flops": [1e18, 1e19, 1e20], "value": [0.3, 0.4, 0.5]})
    assert line_forecaster()(rows)(pd.DataFrame({"flops": [1e21]})) == pytest.approx([0.6])
    assert last_score_forecaster()(rows)(pd.DataFrame({"flops": [1e21, 1e22]})) == pytest.approx([0.5, 0.5])


def test_single_laws_score_every_held_out_run_including_at_chance(dclm_rows):
    mmlu = dclm_rows[(dclm_rows["benchmark"] == "mmlu") & (dclm_rows["tpr"] == 20)].reset_index(drop=True)
    result = backtest(mmlu, above_chance_only(direct_law_forecaster()), compute_cut=1e21)
    assert len(result) == int((mmlu["flops"] > 1e21).sum())
    _, table = compare_with_single_laws(dclm_rows, {"dclm": [1e22]}, laws=["Eq. 2"])
    assert set(table["verdict"]) <= {"forecast", "unpredictable"}
    assert {"Eq. 2", "straight line", "last score", "auto"} <= set(table.columns)


# --------------------------------------------------------------------------- input validation


@pytest.mark.parametrize(("change", "message"), [
    (lambda rows: rows.drop(columns="value"), "lack required columns"),
    (lambda rows: rows.iloc[:0], "No training rows"),
    (lambda rows: rows.assign(value=rows["value"] * 100), "fraction in"),
    (lambda rows: rows.assign(flops=-rows["flops"]), "flops"),
    (lambda rows: rows.assign(chance=[0.25] * (len(rows) - 1) + [0.5]), "one chance level"),
])
def test_malformed_training_rows_are_refused(change, message):
    rows = synthetic_runs(power_law, high=1e21, n_runs=12)
    with pytest.raises(ScalingDataError, match=message):
        fit_auto_forecast(change(rows))


def test_bad_options_are_refused():
    rows = synthetic_runs(power_law, high=1e21, n_runs=12)
    with pytest.raises(ScalingDataError, match="Unknown candidate"):
        fit_auto_forecast(rows, candidates=["cubic"])
    with pytest.raises(ScalingDataError, match="level"):
        fit_auto_forecast(rows, level=1.5)
    with pytest.raises(ScalingDataError, match="target tpr"):
        fit_auto_forecast(rows.assign(tpr=20.0), target_tpr=40)


def test_a_benchmark_without_training_runs_of_the_target_ratio_is_refused_not_dropped():
    runs = synthetic_runs(power_law).assign(tpr=20.0)
    runs.loc[runs["flops"] <= 1e21, "tpr"] = 40.0  # below the cut, only another ratio
    result = auto_backtest(runs, compute_cut=1e21, target_tpr=20)
    assert len(result) == int((runs["flops"] > 1e21).sum())
    assert (result["verdict"] == "unpredictable").all()
    assert result["predicted"].isna().all() and "target tpr" in result["reason"].iloc[0]


# --------------------------------------------------------------------------- intervals and verdict


def test_interval_adds_drift_noise_and_the_candidates_spread_in_quadrature():
    runs = synthetic_runs(power_law)
    fitted = fit_auto_forecast(runs[runs["flops"] <= 1e21], candidates=["direct", "saturating"])
    assert fitted.verdict == "forecast" and len(fitted.weights) == 2
    ahead = runs[runs["flops"] > 1e21]
    table = fitted.predict(ahead)
    combined, spread = fitted.combined(ahead)
    low, high = fitted.fitted_range
    reach = np.log10(ahead["flops"].to_numpy() / high) / np.log10(high / low)
    noise = np.sqrt(combined * (1 - combined) / N_ITEMS)
    half = np.sqrt((fitted.quantile * fitted.drift_points_per_span / 100 * reach) ** 2
                   + fitted.normal_quantile**2 * (noise**2 + spread**2))
    np.testing.assert_allclose(table["upper"] - table["predicted"], half, rtol=1e-9)
    weights = np.array([fitted.weights[name] for name in fitted.predictors])
    forecasts = np.array([fitted.predictors[name](ahead) for name in fitted.predictors])
    np.testing.assert_allclose(spread, np.sqrt(weights @ (forecasts - combined) ** 2), rtol=1e-9)


def test_verdict_refuses_when_the_laws_part_ways_a_decade_ahead():
    common = {"n_clear": 10, "n_runs": 10, "rise_se": 5.0, "n_candidates": 3, "inner_rms_points": 5.0}
    assert verdict(**common, spread_points=0.0) == ("forecast", "")
    status, reason = verdict(**common, spread_points=5.0)  # 1.645 * hypot(5, 5) = 11.6 > 10
    assert status == "unpredictable" and "part by 5.0" in reason


def test_rise_is_the_straight_lines_slope_in_standard_errors():
    x = np.log10(np.logspace(18, 21, 8))
    noise = np.array([0.01, -0.01, 0.02, -0.02, 0.0, 0.01, -0.015, 0.005])  # synthetic scatter
    rows = pd.DataFrame({"flops": 10**x, "value": 0.3 + 0.05 * x - 0.9 + noise})
    slope, intercept = np.polyfit(x, rows["value"], 1)
    residuals = rows["value"] - (intercept + slope * x)
    se = np.sqrt(residuals @ residuals / (len(x) - 2) / np.sum((x - x.mean()) ** 2))
    assert line_slope_t_statistic(rows) == pytest.approx(slope / se, rel=1e-9)
