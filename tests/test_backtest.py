"""Tests of the law-agnostic backtest on synthetic frames."""

import numpy as np
import pandas as pd
import pytest
from synthetic import benchmark_rows, scattered_accuracy

from scalelib.evaluation.backtest import (
    backtest,
    backtest_at_cuts,
    backtest_split,
    forecasts_below_cut,
    summarise_backtest,
)
from scalelib.interfaces import law_forecaster
from scalelib.laws.bnsl import bnsl_forecaster
from scalelib.laws.direct_law import direct_law_forecaster, direct_law_neg_log_q
from scalelib.data.normalise import accuracy_from_neg_log_q
from scalelib.laws.saturating_law import saturating_forecaster

COMPUTE = np.logspace(18, 23, 10)
CUT = 1e21


def synthetic_frame() -> pd.DataFrame:
    """Synthetic tidy frame: two benchmarks following Eq. 2 exactly, ten runs each."""
    frames = [
        benchmark_rows(COMPUTE, scattered_accuracy(direct_law_neg_log_q(COMPUTE, log_A, alpha), chance),
                       benchmark=benchmark, chance=chance, mixture="synthetic", params=np.sqrt(COMPUTE / 120),
                       tokens=np.sqrt(COMPUTE * 20 / 6), n_items=1000)
        for benchmark, chance, log_A, alpha in [("four_way", 0.25, 6.6, 0.15), ("two_way", 0.5, 5.0, 0.12)]
    ]
    return pd.concat(frames, ignore_index=True)


def recording_forecaster(seen: dict):
    """A forecaster that records the rows it is given and predicts 0.5 everywhere."""

    def fit(training_rows):
        benchmark = training_rows["benchmark"].iloc[0]
        seen[benchmark] = {"train": training_rows}

        def predict(rows):
            seen[benchmark]["predict"] = rows
            return np.full(len(rows), 0.5)

        return predict

    return fit


def test_backtest_at_cuts_runs_each_mixture_at_its_own_cuts():
    frame = pd.concat([synthetic_frame(), synthetic_frame().assign(mixture="other")], ignore_index=True)
    result = backtest_at_cuts(frame, direct_law_forecaster(), {"synthetic": [1e20, 1e21], "other": [1e22]})
    cuts = result.groupby("mixture")["compute_cut"].unique().map(sorted).to_dict()
    assert cuts == {"other": [1e22], "synthetic": [1e20, 1e21]}
    expected = backtest(frame[frame["mixture"] == "other"], direct_law_forecaster(), compute_cut=1e22)
    pd.testing.assert_frame_equal(result[result["mixture"] == "other"].reset_index(drop=True), expected)


def test_forecasts_below_cut_fit_only_the_runs_below_it_and_forecast_any_compute():
    frame = synthetic_frame()
    seen = {}
    forecasts = forecasts_below_cut(frame, recording_forecaster(seen), compute_cut=CUT)
    assert sorted(forecasts) == ["four_way", "two_way"]
    assert (seen["four_way"]["train"]["flops"] <= CUT).all() and len(seen["four_way"]["train"]) == 6
    np.testing.assert_array_equal(forecasts["four_way"]([1e22, 1e23]), [0.5, 0.5])
    assert seen["four_way"]["predict"].to_dict("list") == {"flops": [1e22, 1e23], "n_items": [1000, 1000]}


def test_forecasts_below_cut_leave_out_a_refused_benchmark():
    frame = synthetic_frame()
    frame.loc[(frame["benchmark"] == "two_way") & (frame["flops"] > 2e18), "flops"] *= 1e4  # one run below the cut
    forecasts = forecasts_below_cut(frame, direct_law_forecaster(), compute_cut=CUT)
    assert list(forecasts) == ["four_way"]
    expected = accuracy_from_neg_log_q(direct_law_neg_log_q(1e22, 6.6, 0.15), 0.25)
    assert forecasts["four_way"](1e22)[0] == pytest.approx(expected, rel=1e-9)


def test_backtest_never_shows_a_held_out_run_to_the_fit():
    frame = synthetic_frame()
    seen = {}
    result = backtest(frame, recording_forecaster(seen), compute_cut=CUT)
    assert set(seen) == {"four_way", "two_way"}
    for benchmark, rows in seen.items():
        train, predicted = rows["train"], rows["predict"]
        assert (train["flops"] <= CUT).all()
        assert set(train["run"]).isdisjoint(result.loc[result["benchmark"] == benchmark, "run"])
        assert set(train["run"]) == set(frame.loc[frame["flops"] <= CUT, "run"])
        assert (train["benchmark"] == benchmark).all()
        assert (predicted["flops"] > CUT).all()
        assert {"params", "tokens", "n_items", "mixture"} <= set(train.columns)
    assert len(result) == 2 * np.sum(COMPUTE > CUT)


def test_split_backtest_never_shows_a_held_out_row_to_the_fit():
    frame = synthetic_frame()
    held_out = frame["run"].isin(["run2", "run5"])  # an arbitrary, non-compute split
    seen = {}
    result = backtest_split(frame, recording_forecaster(seen), held_out=held_out, split="two runs out")
    for rows in seen.values():
        assert set(rows["train"]["run"]) == {f"run{i}" for i in range(10)} - {"run2", "run5"}
        assert set(rows["predict"]["run"]) == {"run2", "run5"}
    assert sorted(result["run"]) == ["run2", "run2", "run5", "run5"]
    assert (result["split"] == "two runs out").all()
    assert (result["n_train"] == 8).all()
    with_extra = backtest_split(frame, recording_forecaster({}), held_out=held_out, split="x", extra_columns=["params"])
    assert with_extra.columns[list(with_extra.columns).index("flops") + 1] == "params"
    expected = with_extra[["run", "benchmark"]].merge(frame, on=["run", "benchmark"])["params"]
    assert with_extra["params"].to_numpy() == pytest.approx(expected.to_numpy())


def test_result_columns_and_errors():
    result = backtest(synthetic_frame(), recording_forecaster({}), compute_cut=CUT)
    assert list(result.columns) == [
        "mixture", "benchmark", "run", "flops", "observed", "predicted", "error_points",
        "noise_points", "split", "compute_cut", "n_train", "status", "reason",
    ]
    p = result["observed"].to_numpy()
    assert result["noise_points"].to_numpy() == pytest.approx(100 * np.sqrt(p * (1 - p) / 1000))
    assert (result["split"] == "C <= 1e+21").all()
    assert (result["status"] == "ok").all()
    assert result["error_points"].to_numpy() == pytest.approx(100 * (0.5 - result["observed"].to_numpy()))
    assert (result["n_train"] == np.sum(COMPUTE <= CUT)).all()
    assert result.groupby("benchmark")["flops"].apply(lambda f: f.is_monotonic_increasing).all()


def test_summary_on_a_hand_constructed_example():
    frame = pd.DataFrame({
        "run": ["small", "medium", "big", "bigger", "biggest"],
        "benchmark": "hand",
        "flops": [1e18, 1e19, 1e20, 1e21, 1e22],
        "value": [0.3, 0.35, 0.4, 0.55, 0.7],
        "chance": 0.25,
    })
    result = backtest(frame, recording_forecaster({}), compute_cut=1e19)  # predicts 0.5
    # Held out: observed 0.4, 0.55, 0.7 -> errors (predicted - observed) of +10, -5, -20 points.
    assert result["error_points"].to_numpy() == pytest.approx([10, -5, -20])
    summary = summarise_backtest(result).iloc[0]
    assert summary["n_held_out"] == 3
    assert summary["n_train"] == 2
    assert summary["mean_abs_error"] == pytest.approx((10 + 5 + 20) / 3)
    assert summary["max_abs_error"] == pytest.approx(20)
    assert summary["bias"] == pytest.approx((10 - 5 - 20) / 3)


def test_direct_law_backtest_on_exact_data_has_no_error():
    result = backtest(synthetic_frame(), direct_law_forecaster(), compute_cut=CUT)
    assert np.abs(result["error_points"]).max() < 1e-8


@pytest.mark.parametrize("forecaster", [saturating_forecaster(), bnsl_forecaster()], ids=["saturating", "bnsl"])
def test_robust_law_backtests_run_on_exact_power_law_data(forecaster):
    frame = synthetic_frame()
    frame = frame[frame["benchmark"] == "four_way"]
    result = backtest(frame, forecaster, compute_cut=3e21)
    assert (result["status"] == "ok").all()
    assert np.abs(result["error_points"]).max() < 0.5


def test_weighted_direct_law_uses_the_n_items_column():
    frame = synthetic_frame()
    frame["n_items"] = 0  # refused as weights, so the fit must have used this column
    result = backtest(frame, direct_law_forecaster("accuracy_space", weight_by_n_items=True), compute_cut=CUT)
    assert (result["status"] == "skipped").all()
    assert result["reason"].str.contains("n_items must be positive").all()


def test_invalid_training_sets_are_reported_not_dropped():
    frame = synthetic_frame()
    below_chance = (frame["benchmark"] == "two_way") & (frame["run"] == "run0")
    frame.loc[below_chance, "value"] = 0.45
    result = backtest(frame, direct_law_forecaster(), compute_cut=1e18)  # one training run
    assert set(result["benchmark"]) == {"four_way", "two_way"}
    assert (result["status"] == "skipped").all()
    assert result["predicted"].isna().all()
    reasons = result.groupby("benchmark")["reason"].first()
    assert "at or below chance" in reasons["two_way"] and "'run0'" in reasons["two_way"]
    assert "Too few points: 1 given" in reasons["four_way"]
    summary = summarise_backtest(result)
    assert list(summary["status"]) == ["skipped", "skipped"]
    assert summary["mean_abs_error"].isna().all()
    assert list(summary["n_held_out"]) == [9, 9]


def test_mixed_chance_levels_in_one_benchmark_are_reported():
    frame = synthetic_frame()
    frame.loc[frame["run"] == "run1", "chance"] = 0.2
    result = backtest(frame, direct_law_forecaster(), compute_cut=CUT)
    assert result["reason"].str.contains("Expected one chance level per benchmark").all()


def test_compute_column_and_several_cuts():
    frame = synthetic_frame()
    results = pd.concat([
        backtest(frame, direct_law_forecaster(compute_column="params"), compute_cut=cut,
                 compute_column="params")
        for cut in (1e9, 3e9)
    ])
    summary = summarise_backtest(results)
    assert len(summary) == 4  # two benchmarks x two cuts
    assert (summary["status"] == "ok").all()
    assert summary["max_abs_error"].max() < 1e-8
    assert summary["n_held_out"].sum() == len(results)


def test_law_forecaster_passes_n_items_and_options():
    received = {}

    class Result:
        def predict(self, compute):
            return np.zeros(len(compute))

    def fit_law(compute, accuracy, *, chance, labels, n_items, option):
        received.update(compute=compute, chance=chance, labels=labels, n_items=n_items, option=option)
        return Result()

    frame = synthetic_frame()
    rows = frame[(frame["benchmark"] == "two_way") & (frame["flops"] <= CUT)]
    law_forecaster(fit_law, n_items_column="n_items", option="x")(rows)
    assert received["chance"] == 0.5
    assert received["labels"] == list(rows["run"])
    assert list(received["n_items"]) == [1000] * len(rows)
    assert received["option"] == "x"


def test_misuse_is_refused():
    with pytest.raises(ValueError, match=r"lacks required columns: \['chance'\]"):
        backtest(synthetic_frame().drop(columns="chance"), recording_forecaster({}), compute_cut=CUT)
    no_compute = synthetic_frame()
    no_compute.loc[3, "flops"] = np.nan
    with pytest.raises(ValueError, match=r"NaN flops for run \['run3'\]"):
        backtest(no_compute, recording_forecaster({}), compute_cut=CUT)
    with pytest.raises(ValueError, match="returned shape"):
        backtest(synthetic_frame(), lambda rows: (lambda held_out: np.zeros(2)), compute_cut=CUT)
