"""Tests of the composed two-stage forecaster, its backtests and its error decomposition.

All data are synthetic (fixed seeds): losses follow E + A C^-alpha, accuracies a
logistic map of the own loss.
"""

import numpy as np
import pandas as pd
import pytest
from synthetic import domain_losses, logistic_accuracy, loss_curve, noisy

import scalelib.evaluation.two_stage as two_stage_module
from scalelib.evaluation.backtest import backtest
from scalelib.laws.direct_law import direct_law_forecaster
from scalelib.evaluation.intervals import LEVEL, PredictionInterval, bootstrap_interval_forecaster, law_interval_forecaster
from scalelib.laws.loss_law import fit_loss_law
from scalelib.laws.loss_to_accuracy import fit_flp_m_map, fit_logistic_map
from scalelib.data.normalise import ScalingDataError
from scalelib.evaluation.method_comparison import (
    backtest_methods,
    forecast_curves,
    head_to_head,
    interval_comparison,
    summarise_methods,
)
from scalelib.evaluation.backtest import fit_once
from scalelib.evaluation.two_stage import (
    decompose_two_stage_error,
    loss_backtest,
    merge_losses,
    summarise_decomposition,
    two_stage_forecaster,
    two_stage_forecasters,
)

COMPUTE = np.logspace(18, 22.5, 24)
CUT = 1e21


def synthetic_runs(noise=0.0, seed=0):
    """Synthetic runs table of one mixture ("dclm"): three domain losses per run."""
    rng = np.random.default_rng(seed)
    own = loss_curve(COMPUTE, 1.6, 400.0, 0.13, noise=noise, seed=rng)
    c4, dclm, fineweb = domain_losses(own, noise=0.01, seed=rng).T
    return pd.DataFrame({
        "mixture": "dclm",
        "run": [f"dclm-run{i}" for i in range(len(COMPUTE))],
        "tpr": 20.0,
        "flops": COMPUTE,
        "loss_c4": c4,
        "loss_dclm": dclm,
        "loss_fineweb": fineweb,
    })


def synthetic_scores(runs, noise=0.0, seed=0):
    """Synthetic accuracy frame: two benchmarks on logistic maps of the DCLM loss (noise in accuracy)."""
    rng = np.random.default_rng(seed)
    frames = []
    maps = [("hellaswag", 0.25, 0.95, 3.5, 2.5), ("triviaqa_1shot", 0.0, 0.8, 4.0, 2.2)]
    for benchmark, chance, ceiling, k, L0 in maps:
        accuracy = noisy(logistic_accuracy(runs["loss_dclm"], chance, ceiling, k, L0), noise, rng)
        frames.append(pd.DataFrame({
            "mixture": "dclm", "run": runs["run"], "flops": runs["flops"], "benchmark": benchmark,
            "value": np.clip(accuracy, chance + 1e-3, None),
            "chance": chance,
        }))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def frame():
    runs = synthetic_runs(noise=0.003, seed=1)
    return merge_losses(synthetic_scores(runs, noise=0.005, seed=2), runs)


def test_merge_losses_attaches_losses_by_run_and_the_own_loss():
    runs = synthetic_runs()
    scores = synthetic_scores(runs)
    merged = merge_losses(scores, runs)
    assert merged.index.equals(scores.index)
    assert (merged["own_loss"] == merged["loss_dclm"]).all()
    hellaswag = merged[merged["benchmark"] == "hellaswag"]
    assert hellaswag["run"].tolist() == runs["run"].tolist()
    assert hellaswag["loss_c4"].to_numpy() == pytest.approx(runs["loss_c4"].to_numpy())
    c4_scores = scores.assign(mixture="c4")
    assert (merge_losses(c4_scores, runs)["own_loss"] == merged["loss_c4"]).all()
    with pytest.raises(ScalingDataError, match="dclm-run3"):
        merge_losses(scores, runs.drop(index=3))


def test_composition_is_stage_two_applied_to_stage_one(frame):
    rows = frame[frame["benchmark"] == "hellaswag"]
    training, held_out = rows[rows["flops"] <= CUT], rows[rows["flops"] > CUT]
    predict = two_stage_forecaster(fit_logistic_map)(training.copy())
    loss_law = fit_loss_law(training["flops"], training["loss_dclm"])
    accuracy_map = fit_logistic_map(training["loss_dclm"], training["value"], chance=0.25)
    expected = accuracy_map.predict(loss_law.predict(held_out["flops"]))
    assert predict(held_out[["flops"]]) == pytest.approx(expected, rel=1e-12)
    oracle = two_stage_forecaster(fit_logistic_map, oracle_loss=True)(training.copy())
    assert oracle(held_out) == pytest.approx(accuracy_map.predict(held_out["loss_dclm"]), rel=1e-12)


def test_flp_m_composition_uses_all_three_forecast_losses(frame):
    rows = frame[frame["benchmark"] == "triviaqa_1shot"]
    training, held_out = rows[rows["flops"] <= CUT], rows[rows["flops"] > CUT]
    columns = ["loss_c4", "loss_dclm", "loss_fineweb"]
    predict = two_stage_forecaster(fit_flp_m_map, validation_sets=("c4", "dclm", "fineweb"))(training.copy())
    forecast_losses = np.column_stack(
        [fit_loss_law(training["flops"], training[column]).predict(held_out["flops"]) for column in columns]
    )
    accuracy_map = fit_flp_m_map(training[columns].to_numpy(), training["value"], chance=0.0)
    assert predict(held_out) == pytest.approx(accuracy_map.predict(forecast_losses), rel=1e-12)


def test_backtests_share_splits_with_the_direct_law(frame):
    forecasters = {"direct": direct_law_forecaster(), **two_stage_forecasters()}
    results = backtest_methods(frame, forecasters, {"dclm": (1e20, CUT)})
    assert list(results.columns[:1]) == ["method"]
    held_out = {
        method: set(map(tuple, rows[["mixture", "benchmark", "run", "split"]].to_numpy()))
        for method, rows in results.groupby("method")
    }
    assert set(held_out) == set(forecasters)
    assert all(runs == held_out["direct"] for runs in held_out.values())
    direct_alone = backtest(frame, direct_law_forecaster(), compute_cut=CUT)
    assert set(direct_alone["run"]) == set(results.loc[results["split"] == f"C <= {CUT:.0e}", "run"])
    assert (results["status"] == "ok").all()


def test_two_stage_forecasts_noiseless_data_almost_exactly():
    runs = synthetic_runs()
    frame = merge_losses(synthetic_scores(runs), runs)
    result = backtest(frame, two_stage_forecaster(fit_logistic_map), compute_cut=CUT)
    assert result["error_points"].abs().max() < 0.01


def test_decomposition_adds_up_and_flags_compounding(frame):
    two_stage = backtest_methods(frame, two_stage_forecasters(), {"dclm": (CUT,)})
    oracle = backtest_methods(frame, two_stage_forecasters(oracle_loss=True), {"dclm": (CUT,)})
    parts = decompose_two_stage_error(two_stage, oracle)
    assert len(parts) == len(two_stage)
    stage_sum = (parts["stage1_points"] + parts["stage2_points"]).to_numpy()
    assert parts["error_points"].to_numpy() == pytest.approx(stage_sum, abs=1e-9)
    same_sign = np.sign(parts["stage1_points"]) == np.sign(parts["stage2_points"])
    assert (parts["compounding"] == same_sign).all()
    summary = summarise_decomposition(parts)
    assert list(summary.columns) == ["n_held_out", "total", "stage1", "stage2", "compounding_share"]
    assert summary["n_held_out"].sum() == len(parts)
    assert ((summary["compounding_share"] >= 0) & (summary["compounding_share"] <= 1)).all()


def test_head_to_head_picks_the_best_forecasting_method():
    summary = pd.DataFrame({
        "method": ["direct", "linear"] * 3,
        "mixture": "dclm", "split": "C <= 1e+21",
        "benchmark": ["hellaswag", "hellaswag", "mmlu", "mmlu", "gsm8k_cot_llama", "gsm8k_cot_llama"],
        "mean_abs_error": [2.0, 1.0, 3.0, np.nan, np.nan, np.nan],
    })
    table = head_to_head(summary)
    assert list(table.columns) == ["direct", "linear", "task_type", "best"]
    best = table["best"].droplevel(["mixture", "split"])
    assert best["hellaswag"] == "linear"
    assert best["mmlu"] == "direct"  # linear refused it
    assert pd.isna(best["gsm8k_cot_llama"])  # both refused it


def test_summarise_methods_keeps_refusals(frame):
    few = frame[frame["flops"] > 3e20]  # below 1e21 only a few runs: the logistic map refuses
    logistic = {"logistic": two_stage_forecaster(fit_logistic_map)}
    summary = summarise_methods(backtest_methods(few, logistic, {"dclm": (CUT,)}))
    assert (summary["status"] == "skipped").all()
    assert summary["reason"].str.contains("Too few runs").all()
    assert set(summary["task_type"]) == {"multiple_choice", "generative"}


def test_loss_backtest_of_noiseless_losses_is_exact():
    errors = loss_backtest(synthetic_runs(), compute_cut=CUT)
    assert len(errors) == (COMPUTE > CUT).sum()
    assert errors["error"].abs().max() < 1e-6
    pure = loss_backtest(synthetic_runs(), compute_cut=CUT, irreducible=False)
    assert (pure["error"] < 0).all()  # a straight line in log-log undershoots a flattening loss


def test_forecast_curves_predict_from_compute_and_leave_out_refused_benchmarks(frame):
    few = frame[(frame["benchmark"] == "triviaqa_1shot") | (frame["flops"] > 3e20)]
    curves = forecast_curves(few, {"logistic": two_stage_forecaster(fit_logistic_map)}, compute_cut=CUT)
    assert list(curves["logistic"]) == ["triviaqa_1shot"]
    grid = np.array([1e22, 1e23])
    assert curves["logistic"]["triviaqa_1shot"](grid).shape == (2,)


def test_forecast_curves_of_an_interval_forecaster_return_intervals(frame):
    direct = law_interval_forecaster("direct", progress=False)
    curves = forecast_curves(frame, {"direct": direct}, compute_cut=CUT)
    interval = curves["direct"]["hellaswag"](np.array([1e22, 1e23]))
    assert isinstance(interval, PredictionInterval)
    assert interval.level == LEVEL
    assert (interval.lower < interval.predicted).all() and (interval.predicted < interval.upper).all()


def test_backtest_methods_of_intervals_covers_every_method_mixture_and_cut(frame):
    forecasters = {
        "direct": law_interval_forecaster("direct", level=0.8, progress=False),
        "logistic": bootstrap_interval_forecaster(
            two_stage_forecaster(fit_logistic_map), level=0.8, n_resamples=20, progress=False
        ),
    }
    results = backtest_methods(frame, forecasters, {"dclm": (CUT, 1e22)})
    assert results.columns[0] == "method"
    assert set(results.groupby(["method", "split"]).size().index) == {
        (method, split) for method in forecasters for split in ("C <= 1e+21", "C <= 1e+22")
    }
    fitted = results[results["status"] == "ok"]
    assert (fitted["level"] == 0.8).all()
    assert (fitted["lower"] < fitted["upper"]).all()  # a bootstrap interval need not contain the point
    inside = (fitted["lower"] <= fitted["observed"]) & (fitted["observed"] <= fitted["upper"])
    assert (fitted["covered"].astype(bool) == inside).all()
    point = backtest_methods(frame, {"logistic": two_stage_forecaster(fit_logistic_map)}, {"dclm": (CUT,)})
    logistic = results[(results["method"] == "logistic") & (results["split"] == "C <= 1e+21")]
    assert logistic["predicted"].to_numpy() == pytest.approx(point["predicted"].to_numpy())


def test_fit_once_fits_each_training_set_once_and_does_not_remember_refusals(frame):
    calls = []

    def counting_fit(training_rows):
        calls.append(len(training_rows))
        if len(training_rows) < 3:
            raise ScalingDataError("too few")
        return direct_law_forecaster()(training_rows)

    fit = fit_once(counting_fit)
    hellaswag = frame[(frame["benchmark"] == "hellaswag") & (frame["flops"] <= CUT)]
    first = fit(hellaswag.copy())
    assert fit(hellaswag.assign(extra_column=1.0)) is first  # other columns do not matter
    assert fit(hellaswag.iloc[1:].copy()) is not first
    assert len(calls) == 2
    for _ in range(2):
        with pytest.raises(ScalingDataError):
            fit(hellaswag.iloc[:2].copy())
    assert len(calls) == 4


def test_stage_one_is_fitted_once_per_set_of_runs(frame, monkeypatch):
    calls = []

    def counting_fit_loss_law(compute, loss, **options):
        calls.append(len(compute))
        return fit_loss_law(compute, loss, **options)

    monkeypatch.setattr(two_stage_module, "fit_loss_law", counting_fit_loss_law)
    fit = two_stage_forecaster(fit_logistic_map)
    result = backtest(frame, fit, compute_cut=CUT)  # two benchmarks on the same runs
    assert (result["status"] == "ok").all() and result["benchmark"].nunique() == 2
    assert len(calls) == 1
    backtest(frame, fit, compute_cut=1e22)  # other runs: a new fit
    assert len(calls) == 2


def test_interval_comparison_puts_methods_side_by_side():
    results = pd.DataFrame({
        "method": ["direct"] * 4 + ["logistic"] * 2,
        "mixture": "dclm",
        "benchmark": ["hellaswag", "hellaswag", "mmlu", "mmlu", "hellaswag", "hellaswag"],
        "run": ["r1", "r2", "r1", "r2", "r1", "r2"],
        "split": "C <= 1e+21",
        "status": "ok",
        "covered": [True, False, True, True, True, True],
        "width_points": [10.0, 20.0, 5.0, 5.0, 30.0, 40.0],
        "level": 0.9,
    })
    table = interval_comparison(results, by=("mixture", "benchmark"))
    assert list(table.columns) == [
        (statistic, method) for statistic in ("n_held_out", "coverage", "mean_width_points")
        for method in ("direct", "logistic")
    ]
    assert table.loc[("dclm", "hellaswag"), ("coverage", "direct")] == 0.5
    assert table.loc[("dclm", "hellaswag"), ("mean_width_points", "logistic")] == 35.0
    assert pd.isna(table.loc[("dclm", "mmlu"), ("n_held_out", "logistic")])  # logistic has no mmlu rows
    assert str(table[("n_held_out", "direct")].dtype) == "Int64"
